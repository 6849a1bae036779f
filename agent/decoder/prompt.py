"""The decoder's prompt: what the classifier, FAQ retrieval and graph found, as plain text.

The same function builds the prompt at training and at answer time, so the
model sees exactly the layout it was fine-tuned on. Plain text (no chat
template) keeps it usable by any causal LM, local or remote.

    intent: cash_withdrawal_charge
    facts:
    - Plus card | free atm allowance | EUR 400 per month
    faq: Withdrawing cash abroad is free up to ...
    history:
    customer: hi
    bot: Hello! How can I help?
    customer: how much is it to take cash out abroad with my plus card?
    answer:
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.steps.graph import KnowledgeGraph
from agent.types import Fact, Turn

ANSWER_MARK = "\nanswer:"
# A procedure's numbered steps come from the graph verbatim: the model writes this marker
# where they go instead of re-typing them, which halves what it must learn and cannot garble a step.
STEPS_MARK = "[steps]"


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
        """What the model is trained to write: the draft with its procedure replaced by the marker."""
        return self.draft.replace(self.steps, f" {STEPS_MARK}") if self.steps else self.draft

    def expand(self, generated: str) -> str:
        """The reply shown to the customer: the model's text with the procedure put back in."""
        if not self.steps:
            return generated
        return generated.replace(f" {STEPS_MARK}", self.steps).replace(STEPS_MARK, self.steps)

    def texts(self) -> list[str]:
        """The grounding as text: what every claim in a reply must be found in."""
        return [fact.value for fact in self.facts] + ([self.faq_answer] if self.faq_answer else [])


def grounding_for(turn: Turn, graph: KnowledgeGraph, max_facts: int, history_turns: int = 2) -> Grounding | None:
    """The grounding of a turn whose policy answered from a FAQ or a template; None otherwise."""
    decision, intent = turn.decision, turn.intent
    if decision is None or intent is None or decision.source not in ("faq", "template"):
        return None
    facts: list[Fact] = []
    seen: set[tuple[str, str]] = set()
    for fact in [*decision.facts, *turn.graph.facts]:
        key = (fact.subject, fact.attribute)
        if key not in seen and len(facts) < max_facts:
            seen.add(key)
            facts.append(_readable(fact, graph))
    faq = turn.faq_hits[0].answer if decision.source == "faq" and turn.faq_hits else None
    history = list(turn.state.history[-2 * history_turns :]) if history_turns else []
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


def render_prompt(grounding: Grounding) -> str:
    """The prompt text; the model continues it after `answer:`."""
    lines = [f"intent: {grounding.intent}", "facts:"]
    lines += [f"- {f.subject} | {f.attribute} | {f.value}" for f in grounding.facts] or ["- none"]
    if grounding.faq_answer:
        lines.append(f"faq: {grounding.faq_answer}")
    if grounding.history:
        lines.append("history:")
        lines += [f"{role}: {text}" for role, text in grounding.history]
    lines.append(f"customer: {grounding.message}")
    return "\n".join(lines) + ANSWER_MARK
