"""The context step on the tiny bot (no example conversations: its follow-on prior is the intents' similarity)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent import Agent, load_trained
from agent.bot.schemas import ConversationsFile
from agent.steps.context import ContextReader, FollowOnPrior, _swap_entity
from agent.steps.encoder import Encoder
from agent.steps.intents import IntentClassifier
from agent.types import EntityMention


@pytest.fixture()
def tiny(tiny_bot_dir: Path, encoder: Encoder, tmp_path: Path):
    agent = load_trained(tiny_bot_dir, encoder=encoder, store_url=f"sqlite:///{tmp_path / 'context.db'}")
    yield agent
    agent.close()


def test_the_prior_needs_no_conversations_and_learns_from_them(tiny: Agent) -> None:
    classifier = tiny.step(IntentClassifier)
    alone = FollowOnPrior.build(classifier, ConversationsFile(), temperature=0.1, strength=5.0)
    assert np.allclose(alone.matrix.sum(axis=1), 1.0, atol=1e-5)
    for name in classifier.labels:  # an intent is its own likeliest successor by similarity
        row = alone.row(name)
        assert row is not None and int(np.argmax(row)) == alone.index[name]
    said = ConversationsFile.model_validate(
        {"conversations": [{"id": f"c{i}", "turns": [
            {"role": "customer", "text": "hi", "intent": "greeting"},
            {"role": "customer", "text": "lost it", "intent": "lost_card"},
        ]} for i in range(10)]}
    )  # fmt: skip
    counted = FollowOnPrior.build(classifier, said, temperature=0.1, strength=5.0)
    before, after = alone.row("greeting"), counted.row("greeting")
    assert before is not None and after is not None
    assert after[counted.index["lost_card"]] > before[alone.index["lost_card"]]
    assert alone.row("no-such-intent") is None


def test_an_intent_seen_after_many_others_may_follow_any_topic(tiny: Agent) -> None:
    classifier = tiny.step(IntentClassifier)
    turns = [("card_fee", "greeting"), ("lost_card", "greeting"), ("card_fee", "lost_card")]
    said = ConversationsFile.model_validate(
        {"conversations": [{"id": f"c{i}", "turns": [
            {"role": "customer", "text": "a", "intent": before},
            {"role": "customer", "text": "b", "intent": after},
        ]} for i, (before, after) in enumerate(turns)]}
    )  # fmt: skip
    tied = FollowOnPrior.build(classifier, said, temperature=0.1, strength=5.0, free_after=3)
    free = FollowOnPrior.build(classifier, said, temperature=0.1, strength=5.0, free_after=2)
    assert tied.topic_free == [] and free.topic_free == ["greeting"]  # greeting followed two intents
    greeting = free.index["greeting"]
    row = free.row("lost_card")
    assert row is not None and np.isclose(row.sum(), 1.0, atol=1e-5)
    # At least its share of all follow-ups (2 of 3) before the row is renormalised, so far above the tied prior's.
    assert row[greeting] > 0.4 > tied.matrix[free.index["lost_card"], greeting]


def test_entity_swap_puts_the_new_entity_in_the_previous_question() -> None:
    plus = EntityMention(id="card_plus", type="card", name="Plus card", surface="plus")
    premium = EntityMention(id="card_premium", type="card", name="Premium card", surface="premium")
    assert _swap_entity("how much is the plus card?", [plus], [premium]) == "how much is the premium card?"
    assert _swap_entity("how much is the plus card?", [plus], [plus]) is None  # the same entity: nothing to swap
    assert _swap_entity("how much is it?", [], [premium]) is None


def test_an_elliptical_follow_up_keeps_the_topic_with_the_new_entity(tiny: Agent) -> None:
    first = tiny.respond("c1", "how much does the plus card cost each month?")
    assert first.intent == "card_fee" and first.context is None  # no active topic yet: read alone
    follow = tiny.respond("c1", "and the premium one?")
    assert follow.intent == "card_fee" and follow.source == "template" and "EUR 12.99" in follow.text
    # The tiny classifier is sure of that one alone; weighed in its conversation, it reads the same.
    reader = tiny.step(ContextReader)
    reader.config = reader.config.model_copy(update={"switch_confidence": 1.01})
    again = tiny.respond("c1", "and the basic one?")
    assert again.intent == "card_fee" and "EUR 0" in again.text
    assert again.context is not None and again.context.active == "card_fee" and again.context.kind == "same topic"
    assert set(again.context.readings) == {"alone", "after previous", "entity swapped"}
    assert "card = Basic card" in again.context.note and "same topic of card_fee" in again.reason


def test_a_clear_new_question_and_a_clear_out_of_scope_request_win_over_the_context(tiny: Agent) -> None:
    tiny.respond("c2", "how much does the plus card cost each month?")
    switched = tiny.respond("c2", "someone stole my card, what do I do")
    assert switched.intent == "lost_card"
    flight = tiny.respond("c2", "book me a flight")
    assert flight.intent == "oos" and flight.source == "fallback"


def test_the_step_can_be_switched_off(tiny: Agent) -> None:
    reader = tiny.step(ContextReader)
    reader.config = reader.config.model_copy(update={"enabled": False})
    tiny.respond("c3", "how much does the plus card cost each month?")
    assert tiny.respond("c3", "and the premium one?").context is None
