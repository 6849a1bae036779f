"""End-to-end conversations through `Agent` with the demo bot: real encoder, FAISS, graph and SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import Agent, FaqEntry, MessageError
from agent.steps.encoder import Encoder


def graph_value(agent: Agent, entity: str, attribute: str) -> str:
    graph = next(step for step in agent.steps if step.name == "graph")
    return graph.entity(entity)["attributes"][attribute]  # type: ignore[attr-defined]


def test_faq_answer_with_the_graph_number(demo_agent: Agent) -> None:
    reply = demo_agent.respond("s", "how much does it cost to withdraw cash abroad?")
    assert reply.source in {"faq", "template"}
    assert reply.intent == "cash_withdrawal_charge"
    assert graph_value(demo_agent, "fee_atm_over_allowance", "amount") in reply.text
    assert reply.faq_hits and reply.faq_ids[0] == reply.faq_hits[0].id


def test_graph_fact_answer_through_template(demo_agent: Agent) -> None:
    reply = demo_agent.respond("s", "what are the ATM withdrawal fees with the premium card?")
    assert reply.source == "template" and reply.intent == "cash_withdrawal_charge"
    allowance = graph_value(demo_agent, "card_premium", "free_atm_allowance")
    assert allowance in reply.text
    assert ("card_premium", "free_atm_allowance", allowance) in {(f.subject, f.attribute, f.value) for f in reply.facts}
    assert reply.slots == {"card": "card_premium"}


def test_slot_filling_over_two_turns(demo_agent: Agent) -> None:
    first = demo_agent.respond("slots", "how long does delivery take?")
    assert first.source == "ask" and first.intent == "card_delivery_estimate"
    second = demo_agent.respond("slots", "the premium one")
    assert second.source == "template" and second.intent == "card_delivery_estimate"
    assert graph_value(demo_agent, "card_premium", "delivery_time") in second.text


def test_follow_up_uses_remembered_card(demo_agent: Agent) -> None:
    demo_agent.respond("follow", "I have the plus card")
    reply = demo_agent.respond("follow", "how do I activate my card?")
    assert reply.source == "template" and reply.slots == {"card": "card_plus"}


def test_out_of_scope_fallback(demo_agent: Agent) -> None:
    reply = demo_agent.respond("oos", "can you book me a flight to Paris?")
    assert reply.source == "fallback" and reply.intent == "oos"
    assert reply.text == demo_agent.config.persona.fallback


def test_handoff_after_repeated_fallbacks(demo_agent: Agent) -> None:
    messages = [
        "can you book me a flight to Paris?",
        "what's the weather tomorrow in Rome?",
        "tell me a joke about cats",
    ]
    sources = [demo_agent.respond("fb", m).source for m in messages]
    assert sources == ["fallback", "fallback", "handoff"]
    assert demo_agent.conversation("fb").status == "handoff"  # type: ignore[union-attr]
    assert demo_agent.respond("fb", "hello?").source == "handoff"


def test_handoff_on_request_and_on_anger(demo_agent: Agent) -> None:
    asked = demo_agent.respond("h1", "I want to talk to a real person")
    assert asked.handoff and asked.reason == "customer asked for a person (human_handoff)"
    angry = demo_agent.respond("h2", "This is the worst bank ever, I am furious and fed up with your useless app")
    assert angry.handoff and "negative sentiment" in angry.reason


def test_trace_is_complete(demo_agent: Agent) -> None:
    reply = demo_agent.respond("t", "my card payment was declined in a shop")
    assert reply.intents and reply.intents[0].confidence >= reply.intents[-1].confidence
    assert {"encoder", "intent", "faq", "graph", "sentiment", "policy", "store", "total"} <= set(reply.timings_ms)
    assert reply.reason and 0.0 <= reply.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07"])
def test_empty_messages_are_refused_and_store_nothing(demo_agent: Agent, text: str) -> None:
    demo_agent.respond("bad", "hi")
    with pytest.raises(MessageError):
        demo_agent.respond("bad", text)
    assert len(demo_agent.conversation("bad").turns) == 2  # type: ignore[union-attr]


def test_huge_message_is_refused_with_the_limit(demo_agent: Agent) -> None:
    with pytest.raises(MessageError, match="102,400 characters; the limit is 2,000"):
        demo_agent.respond("big", "a" * 102_400)
    assert demo_agent.conversation("big") is None


@pytest.mark.parametrize(
    "text",
    [
        "my card\x00 was\x1b stolen",
        "Моя карта не работает",
        "我的卡丢了",
        "😡😡😡",
        "💳❓",
        "ok",
        "?????",
        "a" * 2000,
    ],
)
def test_odd_inputs_get_a_sane_reply(demo_agent: Agent, text: str) -> None:
    reply = demo_agent.respond("odd", text)
    assert reply.text and reply.source in {"faq", "template", "ask", "fallback", "handoff"}
    stored = demo_agent.conversation("odd")
    assert stored is not None and stored.turns[-1].text == reply.text
    assert "\x00" not in stored.turns[-2].text


def test_batch_equals_sequential_and_keeps_order(demo_bot_dir: Path, tmp_path: Path, encoder: Encoder) -> None:
    messages = [("a", "how long does delivery take?"), ("b", "hi"), ("a", "plus"), ("c", "can you book me a flight?")]
    batch_agent = Agent.load(demo_bot_dir, store_url=f"sqlite:///{tmp_path / 'batch.db'}")
    seq_agent = Agent.load(demo_bot_dir, store_url=f"sqlite:///{tmp_path / 'seq.db'}")
    batched = batch_agent.respond_batch(messages)
    sequential = [seq_agent.respond(sid, text) for sid, text in messages]
    assert [(r.session_id, r.source, r.intent, r.text) for r in batched] == [
        (r.session_id, r.source, r.intent, r.text) for r in sequential
    ]
    assert batched[2].source == "template"  # the second message of "a" saw the first one's question
    batch_agent.close()
    seq_agent.close()


def test_batch_with_a_bad_message_stores_nothing(demo_agent: Agent) -> None:
    with pytest.raises(MessageError):
        demo_agent.respond_batch([("x", "hi"), ("y", "")])
    assert demo_agent.conversation("x") is None


def test_state_survives_a_restart(demo_bot_dir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    first = Agent.load(demo_bot_dir, store_url=url)
    # Answered one way or another (the travel page's list of local currencies now answers it).
    assert first.respond("r", "which currencies can I exchange? I need the fee for my card").source in {
        "ask",
        "template",
        "faq",
        "docs",
    }
    first.respond("r2", "how long does delivery take?")
    first.close()
    second = Agent.load(demo_bot_dir, store_url=url)
    assert second.respond("r2", "standard").source == "template"
    second.close()


def test_faq_admin_is_live_and_persisted(demo_bot_dir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'faq.db'}"
    agent = Agent.load(demo_bot_dir, store_url=url)
    agent.store.seed_faqs(agent.bot.faq_entries())
    entry = FaqEntry(
        id="pet-insurance",
        question="Do you offer pet insurance for dogs and cats?",
        answer="Not yet; pet insurance is planned for next year.",
    )
    agent.add_faq(entry)
    reply = agent.respond("f", "Do you offer pet insurance for dogs and cats?")
    assert reply.source == "faq" and reply.faq_ids[0] == "pet-insurance"
    agent.update_faq(entry.model_copy(update={"answer": "Yes, from EUR 9 a month."}))
    assert agent.respond("f2", "Do you offer pet insurance for dogs and cats?").text == "Yes, from EUR 9 a month."
    agent.close()
    reopened = Agent.load(demo_bot_dir, store_url=url)  # another process sharing the store
    assert reopened.respond("f3", "Do you offer pet insurance for dogs and cats?").faq_ids[0] == "pet-insurance"
    reopened.delete_faq("pet-insurance")
    assert "pet-insurance" not in reopened.respond("f4", "Do you offer pet insurance for dogs and cats?").faq_ids
    reopened.close()


def test_warm_up_runs_the_pipeline_and_stores_nothing(demo_agent: Agent) -> None:
    demo_agent.warm_up()
    assert demo_agent.store.list_conversations() == []
    reply = demo_agent.respond("after-warm-up", "where is my card?")
    assert reply.text and [c.id for c in demo_agent.store.list_conversations()] == ["after-warm-up"]


def test_direction_controls_are_never_stored(demo_agent: Agent) -> None:
    # Issue 19: an override in a message redrew it in an agent's console; the edge takes them out.
    reply = demo_agent.respond("bidi", "my card \u202eNBAN\u202c was \u2066stolen\u2069 \u200f")
    assert "\u202e" not in reply.text
    record = demo_agent.conversation("bidi")
    assert record is not None and record.turns[0].text == "my card NBAN was stolen"
