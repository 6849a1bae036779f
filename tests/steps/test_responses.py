"""Imported responses: the reply whose past message is closest (real encoder), the next when one is skipped,
saved and loaded whole; the template engine answers a response-only intent and never sends a marker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tinybot import TINY_GRAPH, TINY_TEMPLATES

from agent.bot.schemas import GraphFile, ResponsesFile, TemplatesFile
from agent.config import BotConfig, GraphConfig, PlaceholderConfig
from agent.exceptions import BuildError
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph
from agent.steps.placeholders import Placeholders
from agent.steps.responses import ResponseSelector
from agent.steps.templates import Rendered, TemplateEngine, Unsendable

FOLLOW = "You can follow your parcel under Orders in the app."
LATE = "Sorry it is late: we will send a new one today."
RESPONSES = ResponsesFile.model_validate(
    {
        "responses": {
            "track_order": [
                {"text": FOLLOW, "answers": ["where can I track my package", "how do I follow my shipment"]},
                {"text": LATE, "answers": ["my parcel is very late", "the delivery is a week overdue"]},
            ],
            "contact": [
                {"text": "Call {{Support Phone}}, quoting {{Order Number}}.", "answers": ["can I phone you"]},
                {"text": "Write to {{Support Email}} with {{order  number}}.", "answers": ["what is your email"]},
            ],
            "hours": [
                {"text": "We are open {{Store Hours}}.", "answers": ["when are you open"]},
                {"text": "Our team answers on weekdays.", "answers": ["is anyone there on weekdays"]},
            ],
        }
    }
)


@pytest.fixture(scope="module")
def selector(encoder: Encoder) -> ResponseSelector:
    return ResponseSelector.build(RESPONSES, encoder.encode)


def embed(encoder: Encoder, text: str) -> np.ndarray:
    return encoder.encode([text])[0]


def test_the_reply_whose_past_message_is_closest_is_chosen(selector: ResponseSelector, encoder: Encoder) -> None:
    late = selector.choose("track_order", embed(encoder, "my order still hasn't arrived, it is so late"))
    assert late is not None and late.text == LATE and late.index == 1
    follow = selector.choose("track_order", embed(encoder, "where do I track my shipment?"))
    assert follow is not None and follow.text == FOLLOW and follow.index == 0
    # Its similarity is that of its nearest past message.
    message = embed(encoder, "the delivery is a week overdue")
    exact = selector.choose("track_order", message)
    assert exact is not None and exact.text == LATE and exact.similarity == pytest.approx(1.0, abs=1e-3)
    nearest = float(max(encoder.encode(["my parcel is very late", "the delivery is a week overdue"]) @ message))
    assert exact.similarity == pytest.approx(nearest, abs=1e-3)


def test_skipped_replies_are_passed_over(selector: ResponseSelector, encoder: Encoder) -> None:
    message = embed(encoder, "my parcel is very late")
    assert selector.choose("track_order", message).index == 1  # type: ignore[union-attr]
    second = selector.choose("track_order", message, skip=[1])
    assert second is not None and second.text == FOLLOW and second.similarity < 0.9
    assert selector.choose("track_order", message, skip=[0, 1]) is None


def test_without_a_message_the_first_reply_and_unknown_intents_none(selector: ResponseSelector) -> None:
    first = selector.choose("track_order", None)
    assert first is not None and first.text == FOLLOW and first.similarity == 0.0
    assert selector.has("track_order") and not selector.has("refund")
    assert selector.choose("refund", None) is None
    empty = ResponseSelector.empty()
    assert not empty.has("track_order") and empty.choose("track_order", np.ones(3, dtype=np.float32)) is None


def test_save_and_load_give_the_same_choices(selector: ResponseSelector, encoder: Encoder, tmp_path: Path) -> None:
    selector.save(tmp_path / "responses")
    loaded = ResponseSelector.load(tmp_path / "responses", BotConfig(name="x"), encoder)
    assert loaded.replies == selector.replies and loaded.owners == selector.owners
    assert np.array_equal(loaded.vectors, selector.vectors) and loaded.vectors.shape == (8, encoder.dim)
    for text in ("my order still hasn't arrived", "how can I follow it", "when are you open"):
        for intent in ("track_order", "hours"):
            assert loaded.choose(intent, embed(encoder, text)) == selector.choose(intent, embed(encoder, text))
    with pytest.raises(BuildError, match=r"missing or unreadable .*python -m agent train"):
        ResponseSelector.load(tmp_path / "nothing", BotConfig(name="x"), encoder)


def _engine(selector: ResponseSelector, **mapping: dict[str, str]) -> TemplateEngine:
    graph = KnowledgeGraph.from_spec(GraphFile.model_validate(TINY_GRAPH), GraphConfig())
    marks = {name: PlaceholderConfig.model_validate(spec) for name, spec in mapping.items()}
    return TemplateEngine(TemplatesFile.model_validate(TINY_TEMPLATES), graph, selector, Placeholders(marks, graph))


def test_an_intent_with_responses_only_is_answered(selector: ResponseSelector, encoder: Encoder) -> None:
    engine = _engine(selector)
    assert engine.has("track_order") and engine.has("card_fee") and not engine.has("refund")
    assert engine.fill_slots("track_order", [], {"card": "card_plus"}) == {}
    result = engine.render("track_order", {}, embed(encoder, "it is a week late"))
    assert isinstance(result, Rendered) and result.text == LATE and result.facts == [] and result.slots == {}


def test_a_reply_with_a_marker_that_cannot_be_filled_is_never_given(
    selector: ResponseSelector, encoder: Encoder
) -> None:
    engine = _engine(selector)
    # The closest reply holds an unmapped marker: the next closest sendable one is given.
    result = engine.render("hours", {}, embed(encoder, "when are you open?"))
    assert isinstance(result, Rendered) and result.text == "Our team answers on weekdays."
    # Every reply holds one: nothing is sent, and each marker is named once.
    unsendable = engine.render("contact", {}, embed(encoder, "can I phone you"))
    assert isinstance(unsendable, Unsendable)
    assert unsendable.missing == [
        "{{Support Phone}} (not mapped in bot.yaml `placeholders`)",
        "{{Order Number}} (not mapped in bot.yaml `placeholders`)",
        "{{Support Email}} (not mapped in bot.yaml `placeholders`)",
        "{{order  number}} (not mapped in bot.yaml `placeholders`)",
    ]
    # Mapped, the closest reply is filled.
    mapped = _engine(selector, **{"store hours": {"text": "9:00-17:00"}})
    filled = mapped.render("hours", {}, embed(encoder, "when are you open?"))
    assert isinstance(filled, Rendered) and filled.text == "We are open 9:00-17:00."


def test_markers_in_templates_are_filled_from_facts_and_slots(selector: ResponseSelector) -> None:
    graph = KnowledgeGraph.from_spec(GraphFile.model_validate(TINY_GRAPH), GraphConfig())
    templates = TemplatesFile.model_validate(
        {"templates": {"lost_card": {"text": "Call {{Bank Phone}} about your {{Card}} ({bank.name})."}}}
    )
    marks = {"Bank Phone": PlaceholderConfig(fact="bank.phone"), "card": PlaceholderConfig(slot="card")}
    engine = TemplateEngine(templates, graph, selector, Placeholders(marks, graph))
    result = engine.render("lost_card", {}, remembered={"card": "card_plus"})
    assert isinstance(result, Rendered)
    assert result.text == "Call +1 555 0100 about your Plus card (Tiny Bank)."
    assert [(f.subject, f.attribute) for f in result.facts] == [("bank", "name")]
    assert engine.render("lost_card", {}) == Unsendable(["{{Card}} (no card named in this conversation yet)"])
