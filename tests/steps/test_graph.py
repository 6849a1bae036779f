"""Knowledge graph on real NetworkX: linking by alias, case and typos; relation-following lookup."""

from __future__ import annotations

from pathlib import Path

import pytest
from tinybot import TINY_GRAPH

from agent.bot.schemas import GraphFile
from agent.config import BotConfig, GraphConfig
from agent.exceptions import BuildError
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph
from agent.types import Fact, SessionState, Turn

SPEC = GraphFile.model_validate(TINY_GRAPH)


@pytest.fixture()
def graph() -> KnowledgeGraph:
    return KnowledgeGraph.from_spec(SPEC, GraphConfig())


def test_fact_count(graph: KnowledgeGraph) -> None:
    assert graph.fact_count() == 8 + 2  # attributes + relations


def test_links_aliases_any_case_and_symbols(graph: KnowledgeGraph) -> None:
    found = {m.id for m in graph.link("Does my PLUS card work with $ in Switzerland?")}
    assert found == {"card_plus", "currency_usd", "country_switzerland"}


def test_longest_alias_wins(graph: KnowledgeGraph) -> None:
    mentions = graph.link("the premium card please")
    assert [(m.id, m.surface) for m in mentions] == [("card_premium", "premium card")]


def test_small_typos(graph: KnowledgeGraph) -> None:
    mentions = graph.link("I live in switzrland and have the premuim card")
    assert {m.id for m in mentions} == {"country_switzerland", "card_premium"}
    assert all(m.score < 100 for m in mentions)


def test_no_false_links(graph: KnowledgeGraph) -> None:
    assert graph.link("how do I reset my password") == []


def test_resolve_follows_relations(graph: KnowledgeGraph) -> None:
    value, facts = graph.resolve("card_plus", ["atm_fee", "amount"])
    assert value == "2%"
    assert [(f.subject, f.attribute, f.value) for f in facts] == [
        ("card_plus", "atm_fee", "fee_atm"),
        ("fee_atm", "amount", "2%"),
    ]
    assert graph.resolve("card_plus", ["name"]) == (
        "Plus card",
        [Fact(subject="card_plus", attribute="name", value="Plus card")],
    )
    assert graph.resolve("card_plus", ["nothing"]) is None


def test_step_collects_facts_of_linked_entities(graph: KnowledgeGraph) -> None:
    turn = Turn(session_id="s", text="plus card fees?", state=SessionState())
    graph([turn])
    assert [m.id for m in turn.graph.entities] == ["card_plus"]
    assert {(f.attribute, f.value) for f in turn.graph.facts} == {("monthly_fee", "EUR 4.99"), ("atm_fee", "fee_atm")}


def test_save_load(graph: KnowledgeGraph, encoder: Encoder, tmp_path: Path) -> None:
    graph.save(tmp_path)
    loaded = KnowledgeGraph.load(tmp_path, BotConfig(name="t"), encoder)
    assert loaded.fact_count() == graph.fact_count()
    assert loaded.resolve("card_premium", ["atm_fee", "minimum"])[0] == "EUR 1.00"
    with pytest.raises(BuildError):
        KnowledgeGraph.load(tmp_path / "missing", BotConfig(name="t"), encoder)


def test_typo_matches_are_rapidfuzz_best_matches(graph: KnowledgeGraph) -> None:
    from rapidfuzz import fuzz, process

    keys = [k for k in graph.aliases if len(k) >= graph.config.fuzzy_min_length]
    mentions = graph.link("swizerland, premum card and the premuim one in switzrland")
    assert {m.id for m in mentions} == {"country_switzerland", "card_premium"}
    for mention in mentions:
        best = process.extractOne(mention.surface, keys, scorer=fuzz.ratio)
        assert best is not None and (graph.aliases[best[0]], best[1]) == (mention.id, mention.score)
