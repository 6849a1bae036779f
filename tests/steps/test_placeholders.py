"""`{{Name}}` markers: filled from text, a graph fact or a slot the customer named, or reported with why not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from tinybot import TINY_GRAPH, write_tiny_bot

from agent.bot.schemas import GraphFile
from agent.config import GraphConfig, PlaceholderConfig
from agent.exceptions import ConfigError
from agent.pipeline.assemble import load_bot
from agent.steps.graph import KnowledgeGraph
from agent.steps.placeholders import Placeholders

MAPPING = {
    "Customer Support Phone Number": PlaceholderConfig(text="+1 555 0199"),
    "Bank Phone": PlaceholderConfig(fact="bank.phone"),
    "Card": PlaceholderConfig(slot="card"),
    "Fax": PlaceholderConfig(fact="bank.fax"),
    "Branch": PlaceholderConfig(fact="branch.address"),
}


@pytest.fixture()
def placeholders() -> Placeholders:
    graph = KnowledgeGraph.from_spec(GraphFile.model_validate(TINY_GRAPH), GraphConfig())
    return Placeholders(MAPPING, graph)


def test_text_fact_and_slot_markers_are_filled(placeholders: Placeholders) -> None:
    filled = placeholders.fill(
        "Call {{Customer Support Phone Number}} or {{Bank Phone}} about your {{Card}}.", {"card": "card_premium"}
    )
    assert filled.ok and filled.missing == []
    assert filled.text == "Call +1 555 0199 or +1 555 0100 about your Premium card."
    # A text without markers, and graph placeholders in single braces, are left as they are.
    unchanged = placeholders.fill("Hello {bank.name}, {x}", {})
    assert unchanged.ok and unchanged.text == "Hello {bank.name}, {x}"


def test_marker_names_match_whatever_their_case_and_spacing(placeholders: Placeholders) -> None:
    written = {
        "{{customer support phone number}}": "+1 555 0199",
        "{{ Customer  Support\tPhone NUMBER }}": "+1 555 0199",
        "{{BANK PHONE}}": "+1 555 0100",
        "{{card}}": "Basic card",
    }
    for marker, value in written.items():
        filled = placeholders.fill(f"Call {marker}.", {"card": "card_basic"})
        assert filled.ok and filled.text == f"Call {value}.", marker
    # ... and so are the names of the mapping.
    graph = KnowledgeGraph.from_spec(GraphFile.model_validate(TINY_GRAPH), GraphConfig())
    loose = Placeholders({"  order   NUMBER ": PlaceholderConfig(text="A-1")}, graph)
    assert loose.fill("{{Order Number}}", {}).text == "A-1"


def test_markers_that_cannot_be_filled_are_reported_with_why(placeholders: Placeholders) -> None:
    text = "Order {{Order Number}}: {{Card}}, fax {{Fax}}, {{Branch}}; call {{Bank Phone}}."
    filled = placeholders.fill(text, {})
    assert not filled.ok
    assert filled.missing == [
        "{{Order Number}} (not mapped in bot.yaml `placeholders`)",
        "{{Card}} (no card named in this conversation yet)",
        "{{Fax}} (fact 'bank.fax' is not in the graph)",
        "{{Branch}} (fact 'branch.address' is not in the graph)",
    ]
    # The markers it could not fill stay; the others are filled.
    assert filled.text == "Order {{Order Number}}: {{Card}}, fax {{Fax}}, {{Branch}}; call +1 555 0100."
    # A slot naming something that is not an entity of the graph is not filled either.
    assert placeholders.fill("{{Card}}", {"card": "card_gold"}).missing == [
        "{{Card}} (no card named in this conversation yet)"
    ]


def test_a_fact_missing_from_the_graph_is_a_problem_of_the_mapping(placeholders: Placeholders) -> None:
    assert placeholders.problem("fax") == "fact 'bank.fax' is not in knowledge/graph.yaml"
    assert placeholders.problem("Branch") == "fact 'branch.address' is not in knowledge/graph.yaml"
    assert placeholders.problem("Bank Phone") is None and placeholders.problem("Card") is None
    assert placeholders.problem("Order Number") is None  # not mapped: said where it is used, not here


def test_a_mapping_is_exactly_one_of_text_fact_or_slot() -> None:
    for bad in ({}, {"text": "a", "fact": "bank.phone"}, {"fact": "no_dot"}, {"slot": "Card Type"}, {"text": ""}):
        with pytest.raises(ValidationError):
            PlaceholderConfig.model_validate(bad)


def test_the_bot_is_refused_when_a_mapped_fact_is_not_in_its_graph(tmp_path: Path) -> None:
    config = {
        "name": "Tiny bot",
        "dialog": {"small_talk": False},
        "placeholders": {"Bank Phone": {"fact": "bank.phone"}, "Fax": {"fact": "bank.fax"}},
    }
    folder = write_tiny_bot(tmp_path / "b", config=config)
    with pytest.raises(ConfigError) as info:
        load_bot(folder)
    assert str(info.value).startswith("bot.yaml: placeholders.Fax: fact 'bank.fax' is not in knowledge/graph.yaml")
    assert "\n" not in str(info.value)
    config["placeholders"] = {"Bank Phone": {"fact": "bank.phone"}}
    (folder / "bot.yaml").write_text(yaml.safe_dump(config))
    assert set(load_bot(folder).config.placeholders) == {"Bank Phone"}
