"""The shapes every part of the pipeline shares.

`Step` is the one protocol: a pipeline step reads what earlier steps wrote on a
batch of `Turn` objects and writes its own result on them. The dialog manager
runs its steps in order, times them and hands the annotated turns to the
policy, which turns them into a `Reply`.

    Turn ─▶ Encoder ─▶ IntentClassifier ─▶ FaqIndex ─▶ KnowledgeGraph ─▶ Sentiment ─▶ Policy ─▶ Decoder ─▶ Reply
            .embedding .intent            .faq_hits  .graph           .sentiment .decision (rewrites .decision)

Results are pydantic models so the same objects serialise into the one `Trace`
that the store keeps, the HTTP API returns, replay writes and the TUI shows.
A step that has files in the build folder is also an `Artifact`: it saves
itself there and loads itself back through one signature, so assembling a bot
from its build folder is a loop. `SessionState` is the one owner of what a
conversation remembers between turns: every change to it goes through its methods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator
from typing_extensions import Self

from agent.config import BotConfig

Source = Literal["decoder", "faq", "template", "docs", "ask", "fallback", "handoff"]


@runtime_checkable
class Step(Protocol):
    """One stage of the turn pipeline."""

    name: str

    def __call__(self, turns: Sequence[Turn]) -> None:
        """Annotate every turn in `turns` in place (one batched call for many sessions)."""
        ...


class Embedder(Protocol):
    """What a step needs to know of the sentence encoder to load itself: its width and its weights."""

    @property
    def dim(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...


@runtime_checkable
class Artifact(Protocol):
    """A step with files of its own in the build folder (`artifact` names its sub-folder)."""

    artifact: ClassVar[str]

    def save(self, folder: Path) -> None:
        """Write the step's files into `folder` (the build folder's `artifact` sub-folder)."""
        ...

    @classmethod
    def load(cls, folder: Path, config: BotConfig, encoder: Embedder) -> Self:
        """Read the step back from `folder`; raises BuildError when it is missing or unreadable."""
        ...


class IntentScore(BaseModel):
    name: str
    confidence: float


class IntentPrediction(BaseModel):
    """What the classifier thinks the customer wants."""

    name: str  # "oos" when out of scope
    confidence: float  # calibrated probability of `name`
    out_of_scope: bool
    top: list[IntentScore] = []


class FaqHit(BaseModel):
    id: str
    question: str
    answer: str
    score: float  # cosine similarity of the best-matching phrasing
    intent: str | None = None


class DocHit(BaseModel):
    """A help-centre passage close to the message (agent/steps/docs.py)."""

    page: str  # file under knowledge/docs/
    source: str  # "Page title > Section": what the customer is shown
    text: str
    score: float  # closeness in meaning: the mean cosine of the message with the passage and with its best sentence


class EntityMention(BaseModel):
    id: str
    type: str
    name: str
    surface: str  # the words in the message that named it
    score: float = 100.0  # rapidfuzz ratio; 100 for exact alias matches


class PatternMatch(BaseModel):
    """A detail found by its shape (bot.yaml `patterns:`, agent/steps/patterns.py): an order number, an amount."""

    name: str  # the pattern's name, a slot type ("order_number")
    value: str  # as the customer wrote it
    personal: bool = False  # masked as `[name]` in everything kept


Rating = Literal["up", "down"]


class Feedback(BaseModel):
    """A customer's or an agent's verdict on one reply: thumbs up or down, maybe with a comment."""

    rating: Rating
    comment: str | None = None
    at: datetime


class Fact(BaseModel):
    """subject --attribute--> value, from the knowledge graph."""

    subject: str
    attribute: str
    value: str

    def __str__(self) -> str:
        return f"{self.subject}.{self.attribute} = {self.value}"


class GraphResult(BaseModel):
    entities: list[EntityMention] = []
    facts: list[Fact] = []


class DecoderTrace(BaseModel):
    """What the decoder wrote for a turn and whether its guard let it answer."""

    text: str  # the generated reply, kept even when rejected
    mean_logprob: float | None = None  # mean token log-probability of `text`; None when generation failed
    accepted: bool = False
    rejected: list[str] = []  # why it was not used: unsupported values, low score, missing facts, errors
    backend: str = "local"
    latency_ms: float = 0.0


class ContextReading(BaseModel):
    """How the conversation so far changed the reading of a message (set when an active topic was weighed)."""

    active: str  # the intent of the conversation's active topic
    kind: Literal["follow-up", "new topic", "same topic", "leaves the topic", "out of scope"]
    intent: str  # the intent the message is read as
    alone: str  # what the message alone was read as
    confidence: float  # of `intent`, after weighing the readings with the follow-on prior
    readings: dict[str, str] = {}  # reading -> its best intent: "alone", "after previous", "entity swapped"
    note: str = ""  # in words, for the trace: "follow-up of top_up_by_card_charge: same question, method = ..."


class Pending(BaseModel):
    """A question the bot asked and is waiting to have answered."""

    intent: str
    slot: str
    entity_type: str
    options: list[str] = []  # entity ids the question offered; empty when it named none

    def answer(
        self, mentions: Sequence[EntityMention], patterns: Sequence[PatternMatch] = ()
    ) -> EntityMention | PatternMatch | None:
        """The entity of `mentions` that answers this question: one of its type, and one it offered if it
        offered any ("bank transfer" does not answer "debit card or credit card?": it asks about another).
        A question for a pattern slot ("what is your order number?") is answered by a match of that pattern."""
        entity = next(
            (m for m in mentions if m.type == self.entity_type and (not self.options or m.id in self.options)),
            None,
        )
        return entity or next((p for p in patterns if p.name == self.entity_type), None)


class SessionState(BaseModel):
    """What the dialog manager remembers about one conversation between turns.

    Only these methods change it: the policy records each decision, the dialog
    manager (and the decoder's training data, which replays conversations the
    same way) adds each exchange to the history.
    """

    slots: dict[str, str] = {}  # entity type -> entity id last named by the customer
    values: dict[str, str] = {}  # pattern name -> the value last given ("order_number" -> "AB123456")
    pending: Pending | None = None
    fallback_count: int = 0
    last_intent: str | None = None
    handed_off: bool = False
    history: list[tuple[str, str]] = []  # (role, text), the last `dialog.history_turns` exchanges

    def remember(self, customer: str, bot: str, exchanges: int) -> None:
        """Add one exchange (the customer's message, the bot's reply); keep the last `exchanges` of them."""
        lines = [*self.history, ("customer", customer), ("bot", bot)]
        self.history = lines[-2 * exchanges :] if exchanges else []

    def take_pending(self) -> Pending | None:
        """The question the bot was waiting on, now answered or dropped: it is asked at most once."""
        pending, self.pending = self.pending, None
        return pending

    def wait_for(self, pending: Pending) -> None:
        """The bot asked for a missing detail; the next message may answer it."""
        self.pending = pending

    def count_fallback(self) -> int:
        """One more fallback in a row; returns how many there have been."""
        self.fallback_count += 1
        return self.fallback_count

    def record(
        self,
        decision: Decision,
        mentions: Sequence[EntityMention],
        intent: IntentPrediction | None,
        patterns: Sequence[PatternMatch] = (),
    ) -> None:
        """After the policy decided: reset or keep the fallback count, note a handoff, the entities, pattern
        values and the intent."""
        if decision.source in ("faq", "template", "docs", "ask"):
            self.fallback_count = 0
        if decision.handoff:
            self.handed_off = True
        # Remember what the customer named, for follow-ups ("and for the plus card?").
        for mention in mentions:
            self.slots[mention.type] = mention.id
        for match in patterns:
            self.values[match.name] = match.value
        if intent is not None and not intent.out_of_scope:
            self.last_intent = intent.name


class Trace(BaseModel):
    """How a reply was chosen: the source and reason, every step's result and the timings.

    The one shape of a trace: the store keeps it with each bot turn, the HTTP API
    returns it, replay writes it and the TUI panel shows it. `timings_ms` holds
    each step's share of its batch in milliseconds, `store` (writing the turn)
    and `total`. Fields a newer version adds are kept when an older one reads them.
    """

    model_config = ConfigDict(extra="allow")

    source: Source
    reason: str  # why this source answered, in words
    intent: str | None
    confidence: float
    intents: list[IntentScore] = []
    faq_hits: list[FaqHit] = []
    passages: list[DocHit] = []  # help-centre passages found (agent/steps/docs.py), best first
    entities: list[EntityMention] = []
    values: list[PatternMatch] = []  # pattern slots found in the message (bot.yaml `patterns:`)
    facts: list[Fact] = []  # facts the answer used
    slots: dict[str, str] = {}
    sentiment: float = 0.0
    handoff: bool = False
    decoder: DecoderTrace | None = None  # set when a decoder ran for this turn
    context: ContextReading | None = None  # set when the conversation so far was weighed
    timings_ms: dict[str, float] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def faq_ids(self) -> list[str]:
        return [hit.id for hit in self.faq_hits]

    @model_validator(mode="before")
    @classmethod
    def _derived_fields(cls, data: object) -> object:
        # A dumped trace carries `faq_ids`, which is computed from `faq_hits` again, not read back.
        if isinstance(data, dict) and "faq_ids" in data:
            return {key: value for key, value in data.items() if key != "faq_ids"}
        return data


class Reply(Trace):
    """The bot's answer to one customer message: its text, and the trace of how it was chosen."""

    model_config = ConfigDict(extra="forbid")

    session_id: str
    text: str

    def trace(self) -> Trace:
        """The trace alone (what the store keeps beside the reply's text); it shares the reply's step results."""
        # Built without validating again (the reply's fields were validated); only the timings are a copy.
        fields = {name: getattr(self, name) for name in Trace.model_fields}
        return Trace.model_construct(**{**fields, "timings_ms": dict(self.timings_ms)})


# Receives each new piece of a reply's text as the decoder writes it (called on the thread that runs the steps).
TextSink = Callable[[str], None]


@dataclass
class Decision:
    """The answer chosen for one turn and why (written by the policy, maybe rewritten by the decoder)."""

    text: str
    source: Source
    reason: str
    facts: list[Fact] = field(default_factory=list)
    slots: dict[str, str] = field(default_factory=dict)
    handoff: bool = False
    intent: str | None = None  # set when the answer serves another intent than this message's (a pending one)


@dataclass
class Turn:
    """The working object for one customer message while the pipeline runs."""

    session_id: str
    text: str
    state: SessionState
    embedding: np.ndarray | None = None
    intent: IntentPrediction | None = None
    intent_probabilities: np.ndarray | None = None  # the classifier's probability of each of its labels
    faq_hits: list[FaqHit] = field(default_factory=list)
    doc_hits: list[DocHit] = field(default_factory=list)
    graph: GraphResult = field(default_factory=GraphResult)
    patterns: list[PatternMatch] = field(default_factory=list)
    sentiment: float = 0.0
    decision: Decision | None = None
    decoder: DecoderTrace | None = None
    context: ContextReading | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Where the decoder sends its text while it writes (a streamed reply); None: nobody is listening.
    stream: TextSink | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TextDelta:
    """A streamed reply: the next piece of the decoder's text, before its guard has judged it."""

    text: str


@dataclass(frozen=True)
class FinalReply:
    """A streamed reply's last event: the reply as `respond` returns it.

    `replace` is True when text was streamed and the reply's text is not that text (the
    guard refused the decoder's wording and the answer as written was sent instead):
    whoever showed the deltas must show `reply.text` in their place.
    """

    reply: Reply
    replace: bool

    @classmethod
    def of(cls, reply: Reply, streamed: str) -> FinalReply:
        return cls(reply=reply, replace=bool(streamed) and streamed != reply.text)


StreamEvent = TextDelta | FinalReply
