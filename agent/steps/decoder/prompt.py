"""The decoder's prompt: what the classifier, FAQ retrieval and graph found, as plain text.

The same function builds the prompt at training and at answer time, so the
model sees exactly the layout it was fine-tuned on. Plain text (no chat
template) keeps it usable by any causal LM, local or remote.

    intent: cash_withdrawal_charge
    facts:
    - [f1] Plus card | free atm allowance | EUR 400 per month
    faq: Withdrawing cash abroad is free up to ...
    history:
    customer: hi
    bot: Hello! How can I help?
    customer: how much is it to take cash out abroad with my plus card?
    answer:

Values are delexicalised, as in task-oriented dialogue generation (e.g. MultiWOZ's
[value_price]): the model is trained to write "[f1]" where the answer states fact 1's
value, and `Grounding.expand` puts the value back verbatim. A small model then learns
which fact goes where instead of re-typing "EUR 400 per month" digit by digit, which
is where it garbled or swapped numbers. Pointing at the wrong fact is still caught:
the guard checks the expanded text, and a dropped draft value is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.steps.graph import KnowledgeGraph
from agent.types import Fact, Turn

ANSWER_MARK = "\nanswer:"
# A procedure's numbered steps come from the graph verbatim: the model writes this marker
# where they go instead of re-typing them, which halves what it must learn and cannot garble a step.
STEPS_MARK = "[steps]"
FACT_MARK = re.compile(r"\[f(\d+)\]")


def fact_mark(index: int) -> str:
    """The marker the model writes for the value of fact `index` (0-based) in the prompt."""
    return f"[f{index + 1}]"


def _delexicalisable(value: str) -> bool:
    # Values with a digit (fees, limits, times, phone numbers) are what small models garble;
    # names and words stay text, so the model still writes them and the guard checks them.
    return any(ch.isdigit() for ch in value)


@dataclass(frozen=True)
class Grounding:
    """Everything the decoder may use for one reply."""

    message: str
    intent: str
    facts: list[Fact] = field(default_factory=list)
    faq_answer: str | None = None
    history: list[tuple[str, str]] = field(default_factory=list)
    draft: str = ""  # the policy's own answer (template or FAQ), which the decoder must not contradict
    steps: str = ""  # the numbered procedure inside `draft`, if any; the model writes STEPS_MARK for it

    @property
    def target(self) -> str:
        """What the model is trained to write: the draft with its procedure and fact values as markers."""
        text = self.draft.replace(self.steps, f" {STEPS_MARK}") if self.steps else self.draft
        # Longest values first, so "EUR 1,000 per month" is one marker, not "EUR 1,000" plus words.
        order = sorted(range(len(self.facts)), key=lambda i: -len(self.facts[i].value))
        for i in order:
            value = self.facts[i].value
            if _delexicalisable(value):
                # Not inside a longer number: "EUR 1.00" must not match the start of "EUR 1.000".
                text = re.sub(rf"(?<![\w.,]){re.escape(value)}(?![\w]|[.,]\d)", fact_mark(i), text)
        return text

    def expand(self, generated: str) -> str:
        """The reply shown to the customer: markers replaced by the fact values and the procedure.

        A marker naming a fact the prompt did not have stays in the text, where `unresolved`
        finds it and the decoder step refuses the reply.
        """
        text = FACT_MARK.sub(self._fact_value, generated)
        if not self.steps:
            return text
        return text.replace(f" {STEPS_MARK}", self.steps).replace(STEPS_MARK, self.steps)

    def _fact_value(self, mark: re.Match[str]) -> str:
        number = int(mark.group(1))
        return self.facts[number - 1].value if 1 <= number <= len(self.facts) else mark.group(0)

    @staticmethod
    def unresolved(text: str) -> list[str]:
        """Markers left in an expanded reply (facts the model was not given)."""
        return [m.group(0) for m in FACT_MARK.finditer(text)]

    def texts(self) -> list[str]:
        """The grounding as text: what every claim in a reply must be found in.

        The procedure's steps count: `expand` puts them in verbatim from the graph, numbers and all.
        """
        texts = [fact.value for fact in self.facts] + ([self.faq_answer] if self.faq_answer else [])
        return texts + ([self.steps] if self.steps else [])


# Exchanges of the conversation's history the prompt shows (at most `dialog.history_turns` are kept).
PROMPT_EXCHANGES = 2


def grounding_for(
    turn: Turn, graph: KnowledgeGraph, max_facts: int, exchanges: int = PROMPT_EXCHANGES
) -> Grounding | None:
    """The grounding of a turn whose policy answered from a FAQ, a template or a page; None otherwise."""
    decision, intent = turn.decision, turn.intent
    if decision is None or intent is None or decision.source not in ("faq", "template", "docs"):
        return None
    facts: list[Fact] = []
    seen: set[tuple[str, str]] = set()
    for fact in [*decision.facts, *turn.graph.facts]:
        key = (fact.subject, fact.attribute)
        # "Plus card | name | Plus card" says nothing the subject does not: keep the room for facts.
        if fact.attribute == "name":
            continue
        if key not in seen and len(facts) < max_facts:
            seen.add(key)
            facts.append(_readable(fact, graph))
    faq = turn.faq_hits[0].answer if decision.source == "faq" and turn.faq_hits else None
    if decision.source == "docs" and turn.doc_hits:  # the quoted passage is the answer's grounding
        faq = turn.doc_hits[0].text
    history = list(turn.state.history[-2 * exchanges :]) if exchanges else []
    name = decision.intent or intent.name
    steps = ""
    procedure = graph.procedures.get(name)
    if decision.source == "template" and procedure and procedure.steps:
        block = "\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(procedure.steps, 1))
        steps = block if block in decision.text else ""
    return Grounding(
        message=turn.text, intent=name, facts=facts, faq_answer=faq, history=history, draft=decision.text, steps=steps
    )


def _readable(fact: Fact, graph: KnowledgeGraph) -> Fact:
    """Subject and relation targets by display name, so the model can copy names into its text."""
    subject = graph.entity(fact.subject)["name"] if graph.has_entity(fact.subject) else fact.subject
    value = graph.entity(fact.value)["name"] if graph.has_entity(fact.value) else fact.value
    return Fact(subject=subject, attribute=fact.attribute.replace("_", " "), value=value)


def render_prompt(grounding: Grounding, draft: bool = False) -> str:
    """The prompt text; the model continues it after `answer:`.

    With `draft`, the policy's own answer (template or FAQ, values as markers) is in the prompt
    too, as a response rephraser sees it: the model rewrites a grounded answer instead of
    recalling every template from the intent name, which a small model learns many times faster.
    """
    lines = [f"intent: {grounding.intent}", "facts:"]
    facts = [f"- {fact_mark(i)} {f.subject} | {f.attribute} | {f.value}" for i, f in enumerate(grounding.facts)]
    lines += facts or ["- none"]
    if grounding.faq_answer and not draft:
        lines.append(f"faq: {grounding.faq_answer}")
    if draft:  # the FAQ answer, when it answered, is this draft: not repeated
        lines.append(f"draft: {grounding.target}")
    if grounding.history:
        lines.append("history:")
        lines += [f"{role}: {text}" for role, text in grounding.history]
    lines.append(f"customer: {grounding.message}")
    return "\n".join(lines) + ANSWER_MARK
