"""Templates: slot filling from this turn or the session, required-slot questions, fact tracking."""

from __future__ import annotations

import pytest
from tinybot import TINY_GRAPH, TINY_TEMPLATES

from agent.bot.schemas import GraphFile, TemplatesFile
from agent.config import GraphConfig
from agent.steps.graph import KnowledgeGraph
from agent.steps.templates import Ask, Rendered, TemplateEngine, check_templates
from agent.types import EntityMention


@pytest.fixture()
def engine() -> TemplateEngine:
    graph = KnowledgeGraph.from_spec(GraphFile.model_validate(TINY_GRAPH), GraphConfig())
    return TemplateEngine(TemplatesFile.model_validate(TINY_TEMPLATES), graph)


def mention(entity_id: str) -> EntityMention:
    return EntityMention(id=entity_id, type="card", name=entity_id, surface=entity_id)


def test_required_slot_missing_asks(engine: TemplateEngine) -> None:
    result = engine.render("card_fee", engine.fill_slots("card_fee", [], {}))
    assert isinstance(result, Ask) and result.slot == "card" and result.text == "Which card: Basic, Plus or Premium?"
    assert set(result.options) == {"card_basic", "card_plus", "card_premium"}  # what the question offers


def test_slot_from_message_beats_session(engine: TemplateEngine) -> None:
    slots = engine.fill_slots("card_fee", [mention("card_plus")], {"card": "card_basic"})
    result = engine.render("card_fee", slots)
    assert isinstance(result, Rendered)
    assert result.text == "The Plus card costs EUR 4.99 a month."
    assert [(f.subject, f.attribute, f.value) for f in result.facts] == [
        ("card_plus", "name", "Plus card"),
        ("card_plus", "monthly_fee", "EUR 4.99"),
    ]


def test_slot_from_session(engine: TemplateEngine) -> None:
    result = engine.render("card_fee", engine.fill_slots("card_fee", [], {"card": "card_basic"}))
    assert isinstance(result, Rendered) and "EUR 0" in result.text


def test_steps_and_fixed_entities(engine: TemplateEngine) -> None:
    result = engine.render("lost_card", {})
    assert isinstance(result, Rendered)
    assert "1. Freeze the card in the app.\n2. Order a new one." in result.text
    assert result.text.endswith("+1 555 0100.")
    assert engine.render("greeting", {}).text == "Hello from Tiny Bank!"  # type: ignore[union-attr]


def test_when_known_variant() -> None:
    templates = TemplatesFile.model_validate(
        {
            "templates": {
                "card_fee": {
                    "slots": {"card": {"type": "card"}},
                    "text": "Cards cost between {card_basic.monthly_fee} and {card_plus.monthly_fee}.",
                    "when_known": {"card": "Your {card} costs {card.monthly_fee}."},
                }
            }
        }
    )
    graph = KnowledgeGraph.from_spec(GraphFile.model_validate(TINY_GRAPH), GraphConfig())
    assert check_templates(templates, graph) is None
    engine = TemplateEngine(templates, graph)
    assert engine.render("card_fee", {}).text == "Cards cost between EUR 0 and EUR 4.99."  # type: ignore[union-attr]
    assert engine.render("card_fee", {"card": "card_plus"}).text == "Your Plus card costs EUR 4.99."  # type: ignore[union-attr]
