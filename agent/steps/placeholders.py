"""`{{Name}}` markers in replies: filled from bot.yaml `placeholders`, or the reply is not sent.

Replies imported from a company's past conversations hold markers such as
`{{Order Number}}` or `{{Customer Support Phone Number}}` where the agent typed a
value. bot.yaml maps each name to fixed text, a graph fact, the entity of a type
the customer named, or the value of a pattern slot (`slot: order_number`,
PlaceholderConfig). A marker that is not mapped, or whose slot this conversation
has not filled, makes the reply unsendable: the caller picks
another reply or falls back, and says why in the trace. No reply ever reaches a
customer with a marker in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.bot.schemas import MARKER, marker_key
from agent.config import PlaceholderConfig
from agent.steps.graph import KnowledgeGraph


@dataclass(frozen=True)
class Filled:
    """A reply with its markers replaced, or the markers that could not be."""

    text: str
    missing: list[str] = field(default_factory=list)  # "{{Order Number}} (no order_number named yet)"

    @property
    def ok(self) -> bool:
        return not self.missing


class Placeholders:
    """Fills the markers of a text from the bot's mapping, its graph and the conversation's slots."""

    def __init__(self, mapping: Mapping[str, PlaceholderConfig], graph: KnowledgeGraph) -> None:
        self.mapping = {marker_key(name): spec for name, spec in mapping.items()}
        self.graph = graph

    def fill(self, text: str, slots: Mapping[str, str], values: Mapping[str, str] | None = None) -> Filled:
        """`text` with every marker replaced; `slots` maps an entity type to the entity id the customer named,
        `values` a pattern's name to the value the customer gave (bot.yaml `patterns:`)."""
        missing: list[str] = []

        def replace(match) -> str:
            name = match.group(1)
            value, why = self._value(name, slots, values or {})
            if value is None:
                missing.append(f"{{{{{name}}}}} ({why})")
                return match.group(0)
            return value

        filled = MARKER.sub(replace, text)
        return Filled(filled, missing)

    def problem(self, name: str) -> str | None:
        """Why a mapped marker can never be filled (a fact the graph lacks), or None."""
        spec = self.mapping.get(marker_key(name))
        if spec is None or spec.fact is None:
            return None
        entity, _, attribute = spec.fact.partition(".")
        if not self.graph.has_entity(entity) or self.graph.resolve(entity, attribute.split(".")) is None:
            return f"fact '{spec.fact}' is not in knowledge/graph.yaml"
        return None

    def _value(self, name: str, slots: Mapping[str, str], values: Mapping[str, str]) -> tuple[str | None, str]:
        spec = self.mapping.get(marker_key(name))
        if spec is None:
            return None, "not mapped in bot.yaml `placeholders`"
        if spec.text is not None:
            return spec.text, ""
        if spec.fact is not None:
            entity, _, attribute = spec.fact.partition(".")
            resolved = self.graph.resolve(entity, attribute.split(".")) if self.graph.has_entity(entity) else None
            return (resolved[0], "") if resolved else (None, f"fact '{spec.fact}' is not in the graph")
        if spec.slot in values:
            return values[str(spec.slot)], ""
        entity_id = slots.get(str(spec.slot))
        if entity_id is None or not self.graph.has_entity(entity_id):
            return None, f"no {spec.slot} named in this conversation yet"
        return str(self.graph.entity(entity_id)["name"]), ""
