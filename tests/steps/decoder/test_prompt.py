"""The prompt and the delexicalised target: values become fact markers and come back verbatim."""

from __future__ import annotations

from agent.steps.decoder.prompt import Grounding, render_prompt
from agent.types import Fact

FACTS = [
    Fact(subject="Plus card", attribute="daily atm limit", value="EUR 1,000"),
    Fact(subject="Plus card", attribute="free atm allowance", value="EUR 1,000 per month"),
    Fact(subject="ATM fee", attribute="minimum", value="EUR 1.00"),
    Fact(subject="Plus card", attribute="plan", value="Plus"),
]
DRAFT = "Free ATM withdrawals: EUR 1,000 per month, at most EUR 1,000 a day; then minimum EUR 1.00 (Plus plan)."


def grounding(draft: str = DRAFT) -> Grounding:
    return Grounding(message="atm limits on plus?", intent="atm_support", facts=FACTS, draft=draft)


def test_values_become_markers_longest_first() -> None:
    target = grounding().target
    assert target == "Free ATM withdrawals: [f2], at most [f1] a day; then minimum [f3] (Plus plan)."
    assert grounding().expand(target) == DRAFT  # a lossless round trip


def test_a_value_inside_a_longer_number_is_left_alone() -> None:
    g = grounding("A fee of EUR 1.000 is not EUR 1.00.")
    assert g.target == "A fee of EUR 1.000 is not [f3]."


def test_words_stay_text() -> None:
    assert "(Plus plan)" in grounding().target  # no digit: the model writes it, the guard checks it


def test_a_marker_for_a_fact_not_given_is_left_and_reported() -> None:
    g = grounding()
    text = g.expand("Your limit is [f1]; see [f9].")
    assert text == "Your limit is EUR 1,000; see [f9]."
    assert g.unresolved(text) == ["[f9]"]


def test_prompt_numbers_the_facts() -> None:
    prompt = render_prompt(grounding())
    assert "- [f1] Plus card | daily atm limit | EUR 1,000\n" in prompt
    assert prompt.endswith("customer: atm limits on plus?\nanswer:")


def test_prompt_with_draft_holds_the_policy_answer_with_markers_once() -> None:
    g = Grounding(message="atm limits on plus?", intent="atm_support", facts=FACTS, faq_answer=DRAFT, draft=DRAFT)
    plain, with_draft = render_prompt(g), render_prompt(g, draft=True)
    assert f"faq: {DRAFT}" in plain and "draft:" not in plain
    assert f"draft: {g.target}\n" in with_draft
    assert "faq:" not in with_draft  # the FAQ answer that answered is the draft: not repeated
    assert with_draft.endswith("customer: atm limits on plus?\nanswer:")
