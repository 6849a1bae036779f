"""Follow-up messages through the demo bot's whole pipeline: each kind of follow-up read in its conversation."""

from __future__ import annotations

import pytest

from agent import Agent


@pytest.mark.parametrize(
    ("first", "follow_up", "intent", "kind"),
    [
        # Anaphora / a vague continuation of the customer's own problem.
        ("my card payment got declined at a shop", "i have plenty of money in my account though",
         "declined_card_payment", "same topic"),
        ("my top up is still pending", "will it go away on its own?", "pending_top_up", "same topic"),
        # A correction: another aspect of the same topic.
        ("how do I get a virtual card?", "no sorry, I meant a disposable one", "get_disposable_virtual_card", None),
    ],
)  # fmt: skip
def test_follow_ups_are_read_in_their_conversation(
    demo_agent: Agent, first: str, follow_up: str, intent: str, kind: str | None
) -> None:
    demo_agent.respond("c", first)
    reply = demo_agent.respond("c", follow_up)
    assert reply.intent == intent and reply.source in {"template", "faq"}
    # The conversation was weighed (the policy may still break a near-tie with the best FAQ hit).
    assert reply.context is not None and reply.context.active == demo_agent.respond("probe", first).intent
    if kind is not None:
        assert reply.context.kind == kind and reply.context.intent == intent


def test_the_answer_to_the_bots_question_serves_the_waiting_intent(demo_agent: Agent) -> None:
    asked = demo_agent.respond("a", "I want to activate my new card")
    assert asked.intent == "activate_my_card"
    answer = demo_agent.respond("a", "plus")
    assert answer.intent == "activate_my_card" and answer.source == "template" and "Plus" in answer.text


def test_naming_what_the_question_did_not_offer_asks_about_it(demo_agent: Agent) -> None:
    asked = demo_agent.respond("m", "is there a fee if I top up with my card?")
    assert asked.source == "ask" and "debit card or a credit card" in asked.text
    other = demo_agent.respond("m", "what about by bank transfer?")
    # Not an answer to "debit or credit card?": the same question about another method.
    assert other.intent == "top_up_by_bank_transfer_charge" and other.source in {"template", "faq"}
    assert other.context is not None and other.context.active == "top_up_by_card_charge"
    answered = demo_agent.respond("n", "is there a fee if I top up with my card?")
    assert answered.source == "ask"
    credit = demo_agent.respond("n", "a credit card")
    assert credit.intent == "top_up_by_card_charge" and credit.source == "template" and "credit card" in credit.text


def test_a_new_question_and_an_out_of_scope_request_win_over_the_context(demo_agent: Agent) -> None:
    demo_agent.respond("s", "where is my new card, it hasn't arrived")
    switched = demo_agent.respond("s", "how do I change my PIN?")
    assert switched.intent == "change_pin" and switched.context is None  # clear alone: not weighed
    away = demo_agent.respond("s", "can you book me a table at a restaurant tonight")
    assert away.intent == "oos" and away.source == "fallback"


def test_the_trace_of_a_stored_follow_up_keeps_its_context(demo_agent: Agent) -> None:
    demo_agent.respond("t", "my top up is still pending")
    demo_agent.respond("t", "will it go away on its own?")
    stored = demo_agent.conversation("t")
    assert stored is not None and stored.turns[3].trace is not None
    context = stored.turns[3].trace.context
    assert context is not None and context.active == "pending_top_up" and "same topic of pending_top_up" in context.note


def test_a_closing_after_a_topic_is_a_closing(demo_agent: Agent) -> None:
    demo_agent.respond("z", "my top up is still pending")
    closing = demo_agent.respond("z", "thanks, that's all")
    # Alone it is split between thanks and goodbye (neither clear); the demo's conversations show
    # thanks after many topics, so the topic does not pull it back.
    assert closing.intent == "thanks" and closing.context is not None
    assert closing.context.kind == "leaves the topic" and "pending_top_up" in closing.context.note
