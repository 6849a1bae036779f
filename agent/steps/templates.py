"""Answer templates: per-intent text with slots filled from the knowledge graph.

A placeholder is `{head.path}`: `head` is a slot of the template or an entity
id, `path` follows relations and ends on an attribute (`{card.atm_fee.amount}`),
or is empty for the entity's name. `{steps}` is the intent's procedure.
A slot whose type is a pattern of bot.yaml `patterns:` (agent/steps/patterns.py)
is filled by the value the customer typed (`{order_number}`), not by an entity.
A required slot that neither this message nor the session fills makes the
template ask its `ask` question instead; the dialog manager then waits for it.

An intent without a template answers with one of its imported responses (the
closest to the message, agent/steps/responses.py). `{{Name}}` markers, in either,
are filled from bot.yaml `placeholders` (agent/steps/placeholders.py); a reply
whose markers cannot all be filled is `Unsendable`, never sent with a marker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

from agent.bot.schemas import PLACEHOLDER, TemplatesFile, TemplateSpec
from agent.steps.graph import KnowledgeGraph
from agent.steps.placeholders import Placeholders
from agent.steps.responses import ResponseSelector
from agent.types import EntityMention, Fact, PatternMatch


@dataclass(frozen=True)
class Rendered:
    """A filled template."""

    text: str
    facts: list[Fact]
    slots: dict[str, str]  # slot name -> entity id used (or the value, for a pattern slot)


@dataclass(frozen=True)
class Ask:
    """A question back to the customer for a missing required slot."""

    text: str
    slot: str
    entity_type: str
    options: tuple[str, ...] = ()  # the entities of that type the question offers ("debit card or credit card?")


@dataclass(frozen=True)
class Unsendable:
    """Every reply of the intent holds a `{{marker}}` this conversation cannot fill."""

    missing: list[str]  # "{{Order Number}} (not mapped in bot.yaml `placeholders`)"


class TemplateEngine:
    """Chooses a template's variant (or a response), fills its slots and resolves its placeholders."""

    def __init__(
        self,
        templates: TemplatesFile,
        graph: KnowledgeGraph,
        responses: ResponseSelector | None = None,
        placeholders: Placeholders | None = None,
        patterns: AbstractSet[str] = frozenset(),
    ) -> None:
        self.templates = templates.templates
        self.graph = graph
        self.responses = responses or ResponseSelector.empty()
        self.placeholders = placeholders or Placeholders({}, graph)
        self.patterns = frozenset(patterns)  # slot types filled by a pattern's value, not a graph entity

    def has(self, intent: str) -> bool:
        return intent in self.templates or self.responses.has(intent)

    def fill_slots(
        self,
        intent: str,
        mentions: list[EntityMention],
        remembered: dict[str, str],
        found: Sequence[PatternMatch] = (),
        kept: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """Slot name -> entity id, from this message's entities first, then the session's; a pattern slot
        gets this message's match of its pattern (`found`), else the session's last value (`kept`)."""
        spec = self.templates.get(intent)
        if spec is None:  # answered by responses: they have no slots of their own
            return {}
        values: dict[str, str] = {}
        for slot, slot_spec in spec.slots.items():
            if slot_spec.type in self.patterns:
                typed = next((p.value for p in found if p.name == slot_spec.type), None)
                typed = typed or (kept or {}).get(slot_spec.type)
                if typed:
                    values[slot] = typed
                continue
            mentioned = next((m.id for m in mentions if m.type == slot_spec.type), None)
            value = mentioned or remembered.get(slot_spec.type)
            if value is not None and self.graph.has_entity(value):
                values[slot] = value
        return values

    def render(
        self,
        intent: str,
        slots: dict[str, str],
        embedding: np.ndarray | None = None,
        remembered: dict[str, str] | None = None,
        kept: Mapping[str, str] | None = None,
    ) -> Rendered | Ask | Unsendable:
        """The answer for `intent` given filled `slots`, or the question for the first missing required slot.

        `embedding` (the message's) chooses among the intent's responses; `remembered` (entity
        type -> id named in the conversation) and `kept` (pattern -> value) fill `{{marker}}` slots.
        """
        spec = self.templates.get(intent)
        typed = {s: v for s, v in slots.items() if spec is not None and spec.slots[s].type in self.patterns}
        known = {**(remembered or {}), **{self.graph.entity(v)["type"]: v for s, v in slots.items() if s not in typed}}
        values = {**(kept or {}), **{spec.slots[s].type: v for s, v in typed.items()}} if spec else dict(kept or {})
        if spec is None:
            return self._response(intent, embedding, known, values)
        for slot, slot_spec in spec.slots.items():
            if slot_spec.required and slot not in slots:
                text = slot_spec.ask or ""
                offered: tuple[str, ...] = ()
                if slot_spec.type not in self.patterns:
                    offered = tuple(m.id for m in self.graph.link(text, fuzzy=False) if m.type == slot_spec.type)
                return Ask(text=text, slot=slot, entity_type=slot_spec.type, options=offered)
        text = spec.text
        for slot, variant in spec.when_known.items():
            if slot in slots:
                text = variant
                break
        facts: list[Fact] = []

        def substitute(match) -> str:
            if match.group(1).strip() in typed:
                return typed[match.group(1).strip()]
            value, used = self._value(intent, match.group(1), slots)
            facts.extend(used)
            return value

        rendered = PLACEHOLDER.sub(substitute, text)
        unique = list({(f.subject, f.attribute): f for f in facts}.values())
        filled = self.placeholders.fill(rendered, known, values)
        if not filled.ok:
            return Unsendable(filled.missing)
        return Rendered(text=filled.text, facts=unique, slots=dict(slots))

    def _response(
        self, intent: str, embedding: np.ndarray | None, known: dict[str, str], values: Mapping[str, str]
    ) -> Rendered | Unsendable:
        """The closest of the intent's responses whose markers this conversation can fill."""
        tried: list[int] = []
        missing: list[str] = []
        while (chosen := self.responses.choose(intent, embedding, skip=tried)) is not None:
            filled = self.placeholders.fill(chosen.text, known, values)
            if filled.ok:
                return Rendered(text=filled.text, facts=[], slots={})
            tried.append(chosen.index)
            missing.extend(m for m in filled.missing if m not in missing)
        return Unsendable(missing)

    def _value(self, intent: str, placeholder: str, slots: dict[str, str]) -> tuple[str, list[Fact]]:
        parts = placeholder.strip().split(".")
        if parts == ["steps"]:
            steps = self.graph.procedures[intent].steps
            return "\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1)), []
        head, path = parts[0], parts[1:]
        entity_id = slots.get(head, head)
        resolved = self.graph.resolve(entity_id, path or ["name"])
        if resolved is None:  # check_templates rules this out at load time
            raise KeyError(f"placeholder '{{{placeholder}}}' of template '{intent}' does not resolve")
        return resolved


def check_templates(
    templates: TemplatesFile, graph: KnowledgeGraph, patterns: AbstractSet[str] = frozenset()
) -> str | None:
    """The first placeholder that cannot resolve, as a one-line problem; None when all resolve."""
    for intent, spec in templates.templates.items():
        for slot, slot_spec in spec.slots.items():
            if slot_spec.type not in patterns and not graph.entities_of_type(slot_spec.type):
                return (
                    f"template '{intent}': slot '{slot}' has type '{slot_spec.type}', "
                    "which is neither a type of an entity in knowledge/graph.yaml nor a pattern in bot.yaml "
                    "`patterns:`."
                )
        required = {s for s, v in spec.slots.items() if v.required}
        variants = [("text", spec.text, required)] + [
            (f"when_known.{slot}", text, required | {slot}) for slot, text in spec.when_known.items()
        ]
        for where, text, usable in variants:
            for match in PLACEHOLDER.finditer(text):
                problem = _check_placeholder(intent, spec, graph, match.group(1), usable, patterns)
                if problem:
                    return f"template '{intent}' {where}: placeholder '{{{match.group(1)}}}' {problem}"
    return None


def _check_placeholder(
    intent: str,
    spec: TemplateSpec,
    graph: KnowledgeGraph,
    placeholder: str,
    usable: set[str],
    patterns: AbstractSet[str],
) -> str | None:
    parts = placeholder.strip().split(".")
    if parts == ["steps"]:
        return None if intent in graph.procedures else "needs a procedure for this intent in knowledge/graph.yaml."
    head, path = parts[0], parts[1:] or ["name"]
    if head in spec.slots:
        if head not in usable:
            return (
                f"uses optional slot '{head}', which may be unknown here; "
                f"use it only in when_known.{head} or make the slot required."
            )
        if spec.slots[head].type in patterns:  # the customer's value itself: nothing to follow
            return None if parts == [head] else f"follows '{'.'.join(path)}' from pattern slot '{head}', a value."
        candidates = graph.entities_of_type(spec.slots[head].type)
    elif graph.has_entity(head):
        candidates = [head]
    else:
        return f"names '{head}', which is neither a slot of this template nor an entity id."
    for entity_id in candidates:
        if graph.resolve(entity_id, path) is None:
            return f"does not resolve for entity '{entity_id}' (no attribute or relation '{'.'.join(path)}')."
    return None
