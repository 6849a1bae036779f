"""The HTTP API's request and response bodies (pydantic), published in /openapi.json.

Requests forbid unknown fields. The message model is built per server
(`message_model`) so its `maxLength` in the schema is the bot's own limit.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from agent.bot.schemas import FAQ_ID, INTENT_NAME, FaqEntry
from agent.storage.store import ConversationRecord, StoredTurn
from agent.types import Reply, Source, Trace

CONVERSATION_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
CONVERSATION_ID_RULE = "1-128 characters: letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
# Control characters other than tab and newline; FAQ text may span lines, a message may not.
FAQ_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _encodable(value: str) -> str:
    """Lone surrogates (valid JSON escapes, invalid text) would fail at the database: refuse them here."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains invalid Unicode (a lone surrogate escape)") from None
    return value


class MessageIn(_Strict):
    """A customer message. Control characters are removed and spaces collapsed before the bot sees it."""

    text: str = Field(min_length=1, description="the customer's message")
    seq: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description=(
            "optional: the message's number in its conversation (1, 2, 3, ...). Numbered messages are answered "
            "in number order whatever order they arrive in (a number waits for the one before it for at most "
            "bot.yaml http.sequence_wait_s); a number already answered gets the stored reply again and is not "
            "stored twice (header X-Agent-Replayed: true); one that arrives after a higher number was answered "
            "gets 409"
        ),
    )

    @field_validator("text")
    @classmethod
    def _valid_text(cls, value: str) -> str:
        return _encodable(value)


def message_model(max_chars: int) -> type[MessageIn]:
    """`MessageIn` with the bot's length limit in its schema."""
    return create_model(  # type: ignore[call-overload,no-any-return]
        "MessageIn",
        __base__=MessageIn,
        text=(str, Field(min_length=1, max_length=max_chars, description="the customer's message")),
    )


class ReplyOut(BaseModel):
    """The bot's answer to one message."""

    conversation_id: str
    text: str
    source: Source = Field(
        description="which part of the bot answered: faq, template, docs, ask, fallback, handoff, decoder"
    )
    intent: str | None
    confidence: float
    handoff: bool = Field(description="true when the conversation is now with a person")
    trace: Trace

    @classmethod
    def of(cls, reply: Reply) -> ReplyOut:
        return cls(
            conversation_id=reply.session_id,
            text=reply.text,
            source=reply.source,
            intent=reply.intent,
            confidence=reply.confidence,
            handoff=reply.handoff,
            trace=reply.trace(),
        )

    @classmethod
    def stored(cls, conversation_id: str, turn: StoredTurn) -> ReplyOut:
        """The reply as the store kept it (personal data masked), for a numbered message sent again."""
        assert turn.trace is not None, "a bot turn has its trace"
        trace = turn.trace
        return cls(
            conversation_id=conversation_id,
            text=turn.text,
            source=trace.source,
            intent=trace.intent,
            confidence=trace.confidence,
            handoff=trace.handoff,
            trace=trace,
        )


class TurnOut(BaseModel):
    seq: int
    role: Literal["customer", "bot"]
    text: str = Field(description="as stored: personal data masked")
    created_at: datetime
    trace: Trace | None = Field(None, description="bot turns only")


class ConversationOut(BaseModel):
    """A conversation's transcript, oldest turn first."""

    conversation_id: str
    status: Literal["open", "handoff", "ended"]
    started_at: datetime
    updated_at: datetime
    turns: list[TurnOut]

    @classmethod
    def of(cls, record: ConversationRecord) -> ConversationOut:
        return cls(
            conversation_id=record.id,
            status=record.status,
            started_at=_utc(record.started_at),
            updated_at=_utc(record.updated_at),
            turns=[
                TurnOut(
                    seq=t.seq,
                    role=t.role,
                    text=t.text,
                    created_at=_utc(t.created_at),
                    trace=t.trace,
                )
                for t in record.turns
            ],
        )


def _utc(moment: datetime) -> datetime:
    """Stored times are UTC; SQLite hands them back without the offset, which RFC 3339 needs."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class EndedOut(BaseModel):
    conversation_id: str
    status: Literal["ended"] = "ended"


class FaqIn(_Strict):
    """A FAQ entry's content (its id is in the path)."""

    question: str = Field(min_length=1, max_length=1000)
    alternatives: list[str] = Field([], max_length=50)
    answer: str = Field(min_length=1, max_length=10_000)
    tags: list[str] = Field([], max_length=50)
    intent: str | None = Field(None, pattern=INTENT_NAME, max_length=120)

    @field_validator("question", "answer")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return _clean_faq_text(value)

    @field_validator("alternatives", "tags")
    @classmethod
    def _items(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            if not value.strip():
                raise ValueError(f"item {i} is blank")
            if len(value) > 1000:
                raise ValueError(f"item {i} is over 1,000 characters")
        return [_clean_faq_text(v) for v in values]

    def entry(self, faq_id: str) -> FaqEntry:
        return FaqEntry(id=faq_id, **self.model_dump())


class FaqCreate(FaqIn):
    """A new FAQ entry."""

    id: str = Field(pattern=FAQ_ID, max_length=120, description="lowercase letters, digits and '-'")

    def entry(self, faq_id: str | None = None) -> FaqEntry:
        return FaqEntry(**self.model_dump())


def _clean_faq_text(value: str) -> str:
    if FAQ_CONTROL.search(_encodable(value)):
        raise ValueError("contains control characters")
    return value.strip()


class FaqListOut(BaseModel):
    count: int
    entries: list[FaqEntry]


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
    worker: int = Field(description="process id of the worker that answered")


class ReadyOut(BaseModel):
    status: Literal["ready", "not ready"]
    store: Literal["ok", "unavailable"]
    faq_entries: int


class ErrorOut(BaseModel):
    """Every error: a machine-readable code and one line for people."""

    error: str = Field(description="e.g. unauthorized, forbidden, validation_error, too_large, rate_limited")
    message: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        401: "missing or unknown API key",
        403: "the key's scope does not allow this",
        413: "request body over the size limit",
        422: "invalid input (the message names the field and the rule)",
        429: "rate limit reached; see Retry-After",
    }.items()
}
