"""The grounding guard: invented values and names are refused, dropped values too."""

from __future__ import annotations

import pytest
from tinybot import TINY_GRAPH

from agent.bot.schemas import GraphFile
from agent.config import GraphConfig
from agent.steps.decoder.guard import GroundingGuard, claims
from agent.steps.decoder.prompt import Grounding
from agent.steps.graph import KnowledgeGraph
from agent.types import Fact


@pytest.fixture()
def guard() -> GroundingGuard:
    return GroundingGuard(KnowledgeGraph.from_spec(GraphFile.model_validate(TINY_GRAPH), GraphConfig()))


GROUNDING = Grounding(
    message="how much is the plus card?",
    intent="card_fee",
    facts=[Fact(subject="Plus card", attribute="monthly fee", value="EUR 4.99")],
    faq_answer="Support is open 24/7 and answers within 2 hours.",
    draft="The Plus card costs EUR 4.99 a month.",
)


def test_claims_normalise_units() -> None:
    assert claims("€4.99, 2 %, 3 to 5 working days, +370 5 214 0000") == {
        "eur 4.99",
        "2 %",
        "3-5 working days",
        "+370 5 214 0000",
    }
    assert claims("no numbers here") == set()


def test_grounded_reply_passes(guard: GroundingGuard) -> None:
    result = guard.check("Sure: the Plus card is EUR 4.99 per month; support is open 24/7.", GROUNDING)
    assert result.ok and result.problems == []


def test_invented_fee_is_refused(guard: GroundingGuard) -> None:
    result = guard.check("The Plus card costs EUR 9.99 a month.", GROUNDING)
    assert not result.ok
    assert "unsupported value 'eur 9.99'" in result.problems
    assert "dropped value 'eur 4.99'" in result.problems


def test_invented_time_span_and_product(guard: GroundingGuard) -> None:
    problems = guard.check("EUR 4.99; the Basic card replies in 3 hours.", GROUNDING).problems
    assert "unsupported value '3 hours'" in problems
    assert "unsupported name 'Basic card'" in problems


def test_empty_reply(guard: GroundingGuard) -> None:
    assert guard.check("  ", GROUNDING).problems == ["empty reply"]


def test_loops_and_strays_are_refused(guard: GroundingGuard) -> None:
    strict = GroundingGuard(guard.graph, min_draft_overlap=0.6)
    looping = "The Plus card costs EUR 4.99 a month a month a month a month."
    assert any(p.startswith("repeats") for p in strict.check(looping, GROUNDING).problems)
    stray = "EUR 4.99 is what you pay, and the app keeps your money safe forever and ever."
    assert any(p.startswith("strays from the grounded answer") for p in strict.check(stray, GROUNDING).problems)
    assert strict.check("The Plus card costs EUR 4.99 each month.", GROUNDING).ok


def test_the_procedure_put_back_by_expand_is_grounded(guard: GroundingGuard) -> None:
    steps = "\n1. Open the app.\n2. Tap Cards, then Order, and wait 3 working days."
    grounding = Grounding(
        message="order a plus card",
        intent="order_card",
        facts=GROUNDING.facts,
        draft=f"Ordering the Plus card (EUR 4.99 a month):{steps}",
        steps=steps,
    )
    reply = grounding.expand("To order the Plus card (EUR 4.99 a month): [steps]")
    assert reply.endswith("wait 3 working days.") and guard.check(reply, grounding).ok


def test_a_name_the_draft_states_is_grounded(guard: GroundingGuard) -> None:
    grounding = Grounding(
        message="how much is it?",
        intent="card_fee",
        facts=GROUNDING.facts,
        draft="The Plus card costs EUR 4.99 a month; the Basic card is free.",
    )
    assert guard.check("The Basic card is free; the Plus card costs EUR 4.99 a month.", grounding).ok
    assert not guard.check("The Basic card is free; the Plus card costs EUR 4.99 a month.", GROUNDING).ok


def test_a_dropped_free_is_a_wrong_fee(guard: GroundingGuard) -> None:
    grounding = Grounding(
        message="replacement card cost?",
        intent="card_fee",
        facts=[Fact(subject="Plus card", attribute="replacement fee", value="EUR 6")],
        draft="A replacement costs EUR 6 on Standard and is free on Plus.",
    )
    merged = guard.check("A replacement costs EUR 6 on Standard and Plus.", grounding)
    assert "dropped value 'free'" in merged.problems
    assert guard.check("It costs EUR 6 on Standard; on Plus it is free.", grounding).ok
    assert "unsupported value 'free'" in guard.check("The Plus card is EUR 6, delivery is free.", GROUNDING).problems
    assert claims("Free of charge, arrives instantly.") == {"free of charge", "instantly"}
