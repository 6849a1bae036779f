"""The review queue's ranking on cases whose right order is known, with the real encoder."""

from __future__ import annotations

from agent.review.candidates import Candidate
from agent.review.queue import Thresholds, build_queue, distinct_texts, reasons
from agent.steps.encoder import Encoder
from agent.types import IntentScore

THRESHOLDS = Thresholds(confident=0.45, handoff_intents=("human_handoff",))


def confident(text: str, intent: str = "lost_card") -> Candidate:
    return Candidate(text, intent, 0.95, (IntentScore(name=intent, confidence=0.95),))


def fallback(text: str) -> Candidate:
    return Candidate(text, "oos", 0.6, (IntentScore(name="oos", confidence=0.6),), source="fallback")


def queue(candidates: list[Candidate], encoder: Encoder):
    return build_queue(candidates, encoder.encode(distinct_texts(candidates)), THRESHOLDS)


def test_a_fallback_repeated_five_times_ranks_above_a_confident_message(encoder: Encoder) -> None:
    spellings = ["why was my transfer declined", "Why was my transfer  declined", "why was my transfer declined"]
    rows = queue([confident("I lost my card"), *(fallback(spellings[i % 3]) for i in range(5))], encoder)
    assert [r.text for r in rows] == ["why was my transfer declined", "I lost my card"]
    top = rows[0]
    assert top.count == 5 and top.reasons == ("fallback",) and top.predicted == "oos"
    assert rows[1].count == 1 and rows[1].reasons == ()
    assert top.score == round(5 * (1 - 0.6 + 0.5), 4)  # the module's formula: mean u * count


def test_near_duplicates_collapse_into_one_row_with_their_count(encoder: Encoder) -> None:
    texts = ["how do I change my pin", "how can I change my PIN?", "change my pin", "how much does the card cost"]
    rows = queue([Candidate(t, "change_pin", 0.5) for t in texts], encoder)
    assert len(rows) == 2
    pin = next(r for r in rows if r.count == 3)
    assert set([pin.text, *pin.similar]) == set(texts[:3])
    assert rows[0] is pin  # three times the help of the lone message of the same uncertainty


def test_thumbs_down_raises_a_message_above_an_equally_confident_one(encoder: Encoder) -> None:
    rows = queue(
        [
            Candidate("how much does the card cost", "card_fee", 0.8),
            Candidate("I lost my card", "lost_card", 0.8, thumbs_down=True),
        ],
        encoder,
    )
    assert rows[0].text == "I lost my card" and rows[0].reasons == ("thumbs-down",)


def test_each_reason_is_named() -> None:
    tie = (IntentScore(name="card_fee", confidence=0.41), IntentScore(name="lost_card", confidence=0.38))
    c = Candidate("x", "card_fee", 0.41, tie, source="handoff", handoff=True, faq_intent="lost_card", faq_score=0.85)
    assert reasons(c, THRESHOLDS) == ["low confidence", "near-tie", "handoff", "FAQ disagrees"]
    asked = Candidate("a person please", "human_handoff", 0.97, source="handoff", handoff=True)
    assert reasons(asked, THRESHOLDS) == []  # the customer asked for a person: nothing to label
    weak_faq = Candidate("x", "card_fee", 0.9, faq_intent="lost_card", faq_score=0.3)
    assert reasons(weak_faq, THRESHOLDS) == []


def test_the_order_is_deterministic(encoder: Encoder) -> None:
    candidates = [Candidate(t, "card_fee", 0.5) for t in ["card price", "is the card free", "card cost", "hi"]]
    first = queue(candidates, encoder)
    assert queue(list(reversed(candidates)), encoder) == first
