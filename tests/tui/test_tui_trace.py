"""Trace sections: dedicated views for known fields, a decoder section only when a decoder ran, nothing dropped."""

from __future__ import annotations

from typing import Any

from agent.tui.trace import Thresholds, bar, trace_sections
from agent.types import DecoderTrace, EntityMention, Fact, FaqHit, IntentScore, Reply, Trace

LIMITS = Thresholds(confident=0.5, out_of_scope=0.3, faq_answer=0.8)


def _reply(**fields: Any) -> Trace:
    base: dict[str, Any] = {
        "session_id": "s1",
        "text": "The Plus card costs EUR 4.99 a month.",
        "source": "template",
        "reason": "intent card_fee with card known",
        "intent": "card_fee",
        "confidence": 0.91,
        "intents": [IntentScore(name="card_fee", confidence=0.91), IntentScore(name="lost_card", confidence=0.05)],
        "faq_hits": [FaqHit(id="opening-hours", question="When is support open?", answer="24/7", score=0.41)],
        "entities": [EntityMention(id="card_plus", type="card", name="Plus card", surface="plus")],
        "facts": [Fact(subject="card_plus", attribute="monthly_fee", value="EUR 4.99")],
        "slots": {"card": "card_plus"},
        "timings_ms": {"encoder": 9.0, "intent": 0.5, "policy": 0.1, "total": 9.6},
    }
    base.update(fields)
    return Reply(**base).trace()


def _section(trace: Trace, key: str, width: int | None = None) -> str | None:
    return next((s.body.plain for s in trace_sections(trace, LIMITS, width) if s.key == key), None)


def test_known_fields_have_their_views() -> None:
    trace = _reply()
    keys = [s.key for s in trace_sections(trace, LIMITS)]
    assert keys == ["answer", "intent", "faq", "graph", "timings"]
    assert _section(trace, "answer").startswith("template · template with graph facts\nintent card_fee with card known")
    intent = _section(trace, "intent")
    assert intent.splitlines()[:2] == ["card_fee", "███████████████░ 0.91 confident"]
    assert "0.05 lost_card" in intent
    faq = _section(trace, "faq")
    assert faq.startswith("  0.41 opening-hours")  # not the answer: no check mark
    graph = _section(trace, "graph")
    assert 'named Plus card ← "plus"' in graph
    assert "slot card = card_plus" in graph
    assert "fact card_plus.monthly_fee = EUR 4.99" in graph
    timings = _section(trace, "timings").splitlines()
    assert timings[0].startswith("encoder      9.0 ms ████████")
    assert timings[-1] == "total        9.6 ms"


def test_confidence_verdicts_follow_the_thresholds() -> None:
    assert "confident" in _section(_reply(confidence=0.5), "intent")
    assert "unsure" in _section(_reply(confidence=0.49), "intent")
    assert "out of scope" in _section(_reply(intent="oos", confidence=0.1), "intent")


def test_faq_answer_is_marked() -> None:
    hits = [
        FaqHit(id="atm-fee-abroad", question="How much does it cost?", answer="...", score=0.97),
        FaqHit(id="atm-free-allowance", question="How much is free?", answer="...", score=0.63),
    ]
    faq = _section(_reply(source="faq", faq_hits=hits), "faq").splitlines()
    assert faq[0] == "✓ 0.97 atm-fee-abroad"
    assert faq[2] == "  0.63 atm-free-allowance"


def test_no_decoder_section_without_a_decoder() -> None:
    assert _section(_reply(), "decoder") is None
    assert _section(_reply(decoder=None), "decoder") is None


def test_rejected_decoder_text_is_shown_with_the_reasons() -> None:
    decoder = DecoderTrace(
        text="The Plus card costs EUR 3.99.",
        mean_logprob=-0.42,
        accepted=False,
        rejected=["value 'EUR 3.99' is not in the facts"],
        backend="local",
        latency_ms=812.0,
    )
    section = _section(_reply(decoder=decoder), "decoder")
    assert section is not None
    lines = section.splitlines()
    assert lines[0] == "✗ rejected by the guard"
    assert lines[1] == "  value 'EUR 3.99' is not in the facts"
    assert lines[2] == "its text (not sent): The Plus card costs EUR 3.99."
    assert lines[3] == "mean logprob -0.42 · backend local · 812 ms"


def test_accepted_decoder() -> None:
    decoder = DecoderTrace(text="The Plus card is EUR 4.99 a month.", accepted=True)
    section = _section(_reply(source="decoder", decoder=decoder), "decoder")
    assert section is not None and section.startswith("✓ accepted by the guard\nits text: The Plus card")
    assert "written by the decoder" in _section(_reply(source="decoder", decoder=decoder), "answer")


def test_unknown_fields_are_shown_not_dropped() -> None:
    # A newer version's trace, read by this one (a stored turn): its extra fields are kept and shown.
    stored = {**_reply().model_dump(mode="json"), "decoder_version": "2", "language": "en", "scores": {"a": 1}}
    trace = Trace.model_validate(stored)
    assert _section(trace, "decoder") == "decoder_version: 2"
    assert _section(trace, "other") == 'language: en\nscores: {"a": 1}'


def test_width_keeps_list_items_on_one_line() -> None:
    long_alt = IntentScore(name="wrong_exchange_rate_for_cash_withdrawal", confidence=0.06)
    trace = _reply(intents=[IntentScore(name="card_fee", confidence=0.91), long_alt])
    for line in _section(trace, "intent", width=30).splitlines():
        assert len(line) <= 30
    assert "  0.06 wrong_exchange_rate_fo…" in _section(trace, "intent", width=30)
    hit = FaqHit(id="x", question="How much does it cost to withdraw cash abroad with my card?", answer=".", score=1.0)
    faq = _section(_reply(faq_hits=[hit]), "faq", width=30).splitlines()
    assert all(len(line) <= 30 for line in faq)
    assert all(line.startswith("       ") for line in faq[1:])  # the question stays under its hit


def test_bar_is_fixed_width() -> None:
    for value in (-1.0, 0.0, 0.33, 1.0, 7.0):
        assert len(bar(value, 10).plain) == 10
    assert bar(0.5, 10).plain == "█████░░░░░"
