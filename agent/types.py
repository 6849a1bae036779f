"""The shapes every part of the pipeline shares.

`Step` is the one protocol: a pipeline step reads what earlier steps wrote on a
batch of `Turn` objects and writes its own result on them. The dialog manager
runs its steps in order, times them and hands the annotated turns to the
policy, which turns them into a `Reply`.

    Turn ─▶ Encoder ─▶ IntentClassifier ─▶ FaqIndex ─▶ KnowledgeGraph ─▶ Sentiment ─▶ Policy ─▶ Decoder ─▶ Reply
            .embedding .intent            .faq_hits  .graph           .sentiment .decision (rewrites .decision)

Results are pydantic models so the same objects serialise into the trace that
the store, the TUI, replay and the HTTP API show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, Field, computed_field

Source = Literal["decoder", "faq", "template", "ask", "fallback", "handoff"]


@runtime_checkable
class Step(Protocol):
    """One stage of the turn pipeline."""

    name: str

    def __call__(self, turns: Sequence[Turn]) -> None:
        """Annotate every turn in `turns` in place (one batched call for many sessions)."""
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


class EntityMention(BaseModel):
    id: str
    type: str
    name: str
    surface: str  # the words in the message that named it
    score: float = 100.0  # rapidfuzz ratio; 100 for exact alias matches


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


class Pending(BaseModel):
    """A question the bot asked and is waiting to have answered."""

    intent: str
    slot: str
    entity_type: str


class SessionState(BaseModel):
    """What the dialog manager remembers about one conversation between turns."""

    slots: dict[str, str] = {}  # entity type -> entity id last named by the customer
    pending: Pending | None = None
    fallback_count: int = 0
    last_intent: str | None = None
    handed_off: bool = False
    history: list[tuple[str, str]] = []  # (role, text), the most recent turns only


class Reply(BaseModel):
    """The bot's answer to one customer message, with the trace of how it was chosen."""

    session_id: str
    text: str
    source: Source
    reason: str  # why this source answered, in words
    intent: str | None
    confidence: float
    intents: list[IntentScore] = []
    faq_hits: list[FaqHit] = []
    entities: list[EntityMention] = []
    facts: list[Fact] = []  # facts the answer used
    slots: dict[str, str] = {}
    sentiment: float = 0.0
    handoff: bool = False
    decoder: DecoderTrace | None = None  # set when a decoder ran for this turn
    timings_ms: dict[str, float] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def faq_ids(self) -> list[str]:
        return [hit.id for hit in self.faq_hits]


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
    faq_hits: list[FaqHit] = field(default_factory=list)
    graph: GraphResult = field(default_factory=GraphResult)
    sentiment: float = 0.0
    decision: Decision | None = None
    decoder: DecoderTrace | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
