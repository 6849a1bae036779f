"""Pydantic models of the bot folder's data files (what a bot author writes).

One model per file; cross-file checks (a template naming an unknown entity,
a FAQ naming an unknown intent) live in `botfolder.py`, which sees all files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.bot.text import has_words, without_direction_controls

OOS = "oos"
INTENT_NAME = r"^[A-Za-z0-9_?]+$"
ENTITY_ID = r"^[a-z0-9_]+$"
FAQ_ID = r"^[a-z0-9][a-z0-9-]*$"
PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")  # {entity.attribute}, {slot}: a graph placeholder
MARKER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")  # {{Order Number}}: filled from bot.yaml `placeholders`


def marker_key(name: str) -> str:
    """ "Order Number", "order number" and "Order  number" are one marker."""
    return " ".join(name.lower().split())


class EntryError(ValueError):
    """A check across a file's entries found one entry at fault; `loc` is where it is, e.g. ("faqs", 3, "id").

    A model validator's error has no location of its own (pydantic reports the file's top), so the
    bot folder's reader (agent/bot/folder.py) takes `loc` from here to name the offending entry's line.
    """

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- knowledge/intents.yaml -------------------------------------------------


class IntentSpec(_Strict):
    """One intent and the example messages that teach it; name `oos` marks out-of-scope examples."""

    name: str = Field(pattern=INTENT_NAME)
    description: str = ""
    examples: list[str] = Field(min_length=1)

    @field_validator("examples")
    @classmethod
    def _non_blank(cls, examples: list[str]) -> list[str]:
        for i, text in enumerate(examples):
            if not str(text).strip():
                raise ValueError(f"example {i} is blank")
        return [str(t).strip() for t in examples]


class IntentsFile(_Strict):
    intents: list[IntentSpec] = []  # with the built-in small talk, at least two in-scope ones (folder.py)

    @model_validator(mode="after")
    def _unique(self) -> IntentsFile:
        _no_duplicates([i.name for i in self.intents], "intent name", ("intents", "name"))
        return self


# --- knowledge/faq.yaml -------------------------------------------------------


class FaqEntry(_Strict):
    """A question the business answers the same way every time."""

    id: str = Field(pattern=FAQ_ID, max_length=120)
    question: str = Field(min_length=1, max_length=1000)
    alternatives: list[str] = []
    answer: str = Field(min_length=1, max_length=10_000)
    tags: list[str] = []
    intent: str | None = Field(None, pattern=INTENT_NAME)

    def texts(self) -> list[str]:
        """Every phrasing that should retrieve this entry."""
        return [self.question, *self.alternatives]


class FaqFile(_Strict):
    faqs: list[FaqEntry] = []

    @model_validator(mode="after")
    def _checked(self) -> FaqFile:
        _no_duplicates([f.id for f in self.faqs], "FAQ id", ("faqs", "id"))
        for i, faq in enumerate(self.faqs):
            for j, text in enumerate(faq.texts()):
                if not has_words(text):
                    # The encoder reads such a text as "[UNK]" or nothing (agent/bot/text.py).
                    raise EntryError(
                        f"{text!r} has no letter or digit, so nothing of it is left to match a message by",
                        ("faqs", i, "question") if j == 0 else ("faqs", i, "alternatives", j - 1),
                    )
        return self


# --- knowledge/graph.yaml -----------------------------------------------------


class EntitySpec(_Strict):
    """A thing customers talk about (a card, a currency, a fee), with its facts."""

    id: str = Field(pattern=ENTITY_ID)
    type: str = Field(pattern=ENTITY_ID)
    name: str = Field(min_length=1)
    aliases: list[str] = []
    attributes: dict[str, str] = {}

    @field_validator("attributes", mode="before")
    @classmethod
    def _stringify(cls, value: object) -> object:
        # YAML reads `fee: 5` as an int and `supported: yes` as a bool; facts are text.
        if isinstance(value, dict):
            return {str(k): _fact_text(v) for k, v in value.items()}
        return value


class RelationSpec(_Strict):
    """source --relation--> target, one fact."""

    source: str = Field(pattern=ENTITY_ID)
    relation: str = Field(pattern=ENTITY_ID)
    target: str = Field(pattern=ENTITY_ID)


class ProcedureSpec(_Strict):
    """How to do what an intent asks, and which details the customer must give."""

    required: list[str] = []
    steps: list[str] = []


class GraphFile(_Strict):
    entities: list[EntitySpec] = []
    relations: list[RelationSpec] = []
    procedures: dict[str, ProcedureSpec] = {}

    @model_validator(mode="after")
    def _consistent(self) -> GraphFile:
        ids = [e.id for e in self.entities]
        _no_duplicates(ids, "entity id", ("entities", "id"))
        known = set(ids)
        for i, rel in enumerate(self.relations):
            for end, value in (("source", rel.source), ("target", rel.target)):
                if value not in known:
                    raise EntryError(f"unknown entity '{value}' (not an id of entities)", ("relations", i, end))
        owner: dict[str, str] = {}
        for i, entity in enumerate(self.entities):
            for j, alias in enumerate(entity.aliases):
                key = alias.strip().lower()
                if key in owner and owner[key] != entity.id:
                    raise EntryError(
                        f"alias '{alias}' is used by both '{owner[key]}' and '{entity.id}'",
                        ("entities", i, "aliases", j),
                    )
                owner[key] = entity.id
        return self


# --- dialogs/templates.yaml ---------------------------------------------------


class SlotSpec(_Strict):
    """A detail a template needs, filled by an entity of `type`."""

    type: str = Field(pattern=ENTITY_ID)
    required: bool = False
    ask: str | None = None

    @model_validator(mode="after")
    def _ask_when_required(self) -> SlotSpec:
        if self.required and not self.ask:
            raise ValueError("a required slot needs an `ask` question")
        return self


class TemplateSpec(_Strict):
    """The answer for one intent, with slots and graph placeholders."""

    text: str = Field(min_length=1)
    slots: dict[str, SlotSpec] = {}
    when_known: dict[str, str] = {}

    @model_validator(mode="after")
    def _known_slots(self) -> TemplateSpec:
        for slot in self.when_known:
            if slot not in self.slots:
                raise ValueError(f"when_known names slot '{slot}', which is not in slots")
        return self


class TemplatesFile(_Strict):
    templates: dict[str, TemplateSpec] = {}


# --- dialogs/responses.yaml ---------------------------------------------------


class ResponseSpec(_Strict):
    """One reply an intent may give, with the customer messages it answered (what chooses it)."""

    text: str = Field(min_length=1, max_length=10_000)
    answers: list[str] = Field(min_length=1)


class ResponsesFile(_Strict):
    """Replies per intent, usually imported from a company's past conversations (`python -m agent import`).

    An intent with responses needs no template: the reply whose `answers` are closest to
    the customer's message is the one given (agent/steps/responses.py).
    """

    responses: dict[str, list[ResponseSpec]] = {}


# --- dialogs/conversations.yaml, and every conversation log ------------------


class LoggedTurn(BaseModel):
    """One line of a conversation: what the customer said, or what the agent answered."""

    model_config = ConfigDict(extra="ignore", frozen=True)  # logs often carry extra keys (timestamps, channel)

    role: Literal["customer", "agent"]
    text: str = Field(min_length=1)
    intent: str | None = None  # what the customer wanted (a label, or what a live bot recognised)

    @field_validator("text", mode="before")
    @classmethod
    def _no_direction_controls(cls, value: object) -> object:
        # What a log says is replayed, reported and shown: never with its reading order spoofed (agent/bot/text.py).
        return without_direction_controls(value) if isinstance(value, str) else value


class LoggedConversation(BaseModel):
    """One conversation as logged: an example in conversations.yaml, a line of a replay log, a stored one.

    conversations.yaml names it `id`, logs `conversation_id`; both are read. `line` is
    where it starts in the file it was read from (0 when it came from elsewhere).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    conversation_id: str = Field(min_length=1, validation_alias=AliasChoices("conversation_id", "id"))
    started_at: datetime | None = None
    turns: list[LoggedTurn] = Field(min_length=1)
    line: int = Field(0, exclude=True)

    @model_validator(mode="after")
    def _has_customer_turn(self) -> LoggedConversation:
        if not any(t.role == "customer" for t in self.turns):
            raise ValueError("has no customer turn, so there is nothing to replay")
        return self

    def customer_turns(self) -> list[CustomerTurn]:
        """The customer turns in order, each with the agent's logged answer (the agent turns that follow it)."""
        out: list[CustomerTurn] = []
        for index, turn in enumerate(self.turns):
            if turn.role == "customer":
                out.append(CustomerTurn(index=index, text=turn.text, gold_intent=turn.intent))
            elif out:
                previous = out[-1].logged_reply
                out[-1].logged_reply = turn.text if previous is None else f"{previous}\n{turn.text}"
        return out


@dataclass
class CustomerTurn:
    """A customer message of a logged conversation, with what was logged around it."""

    index: int  # position in the conversation's turns (agent turns included)
    text: str
    gold_intent: str | None
    logged_reply: str | None = None


class ConversationsFile(_Strict):
    conversations: list[LoggedConversation] = []

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: object) -> object:
        # Logs may carry extra keys; a bot author's own file may not (a typo would be lost silently).
        for i, conv in enumerate(data.get("conversations") or [] if isinstance(data, dict) else []):
            if not isinstance(conv, dict):
                continue
            _only(conv, {"id", "conversation_id", "started_at", "turns"}, f"conversations[{i}]")
            for j, turn in enumerate(conv.get("turns") or []):
                if isinstance(turn, dict):
                    _only(turn, {"role", "text", "intent"}, f"conversations[{i}].turns[{j}]")
        return data


def _only(data: dict[str, object], allowed: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})")


def _no_duplicates(values: list[str], what: str, where: tuple[str, str]) -> None:
    """Raise at the second entry of `where[0]` whose `where[1]` repeats an earlier one's."""
    first: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in first:
            raise EntryError(
                f"duplicate {what} '{value}' (first at {where[0]}[{first[value]}])", (where[0], i, where[1])
            )
        first[value] = i


def _fact_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
