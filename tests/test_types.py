"""The shared shapes: one Trace for every reader, and SessionState as the one owner of what a conversation keeps."""

from __future__ import annotations

import pytest

from agent.types import Decision, EntityMention, FaqHit, IntentPrediction, Pending, Reply, SessionState, Trace


@pytest.mark.parametrize("exchanges", [0, 1, 3])
def test_history_keeps_the_last_exchanges(exchanges: int) -> None:
    state = SessionState()
    for i in range(5):
        state.remember(f"question {i}", f"answer {i}", exchanges)
    # dialog.history_turns counts exchanges (a message and its reply), everywhere; 0 keeps none.
    assert len(state.history) == 2 * exchanges
    if exchanges:
        assert state.history[-2:] == [("customer", "question 4"), ("bot", "answer 4")]


def test_record_resets_fallbacks_on_an_answer_and_remembers_entities() -> None:
    state = SessionState()
    assert state.count_fallback() == 1 and state.count_fallback() == 2
    plus = EntityMention(id="card_plus", type="card", name="Plus card", surface="plus")
    intent = IntentPrediction(name="card_fee", confidence=0.9, out_of_scope=False)
    state.record(Decision(text="EUR 4.99", source="template", reason="r"), [plus], intent)
    assert state.fallback_count == 0 and state.slots == {"card": "card_plus"} and state.last_intent == "card_fee"
    state.record(Decision(text="a person", source="handoff", reason="r", handoff=True), [], None)
    assert state.handed_off and state.last_intent == "card_fee"


def test_a_reply_and_its_trace_are_one_shape() -> None:
    hit = FaqHit(id="fees", question="q", answer="a", score=0.9)
    reply = Reply(session_id="s", text="a", source="faq", reason="r", intent="x", confidence=0.9, faq_hits=[hit])
    trace = reply.trace()
    assert set(Trace.model_fields) <= set(Reply.model_fields)
    assert trace.faq_ids == ["fees"] and trace.source == "faq"
    # What the store keeps reads back as the same trace, the derived field recomputed, not read.
    assert Trace.model_validate(trace.model_dump(mode="json")) == trace


def test_a_question_is_answered_by_an_entity_it_offered() -> None:
    debit = EntityMention(id="debit", type="method", name="debit card", surface="debit")
    transfer = EntityMention(id="transfer", type="method", name="bank transfer", surface="bank transfer")
    card = EntityMention(id="plus", type="card", name="Plus card", surface="plus")
    offered = Pending(intent="card_top_up_fee", slot="method", entity_type="method", options=["debit", "credit"])
    assert offered.answer([card, debit]) == debit
    assert offered.answer([transfer]) is None  # another method than those offered: a new question, not an answer
    assert offered.answer([card]) is None
    open_question = Pending(intent="card_top_up_fee", slot="method", entity_type="method")
    assert open_question.answer([transfer]) == transfer  # a question that offered none takes any of its type
