"""The HTTP API's request and response bodies (pydantic), published in /openapi.json.

Requests forbid unknown fields. The message model is built per server
(`message_model`) so its `maxLength` in the schema is the bot's own limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator

from agent.bot.schemas import FAQ_ID, INTENT_NAME, FaqEntry
from agent.storage.store import ConversationRecord, StoredTurn
from agent.types import Feedback, Rating, Reply, Source, Trace

CONVERSATION_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
CONVERSATION_ID_RULE = "1-128 characters: letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
# FAQ text (question, answer, each alternative and tag): at least one visible character and no control
# characters but tab and newline (it may span lines, a message may not). One pattern, checked by the server
# and published in the schema, written without `\s` (whose meaning differs between regex engines).
_CONTROL = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029"
_SPACE_OR_CONTROL = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
FAQ_TEXT = f"^[^{_CONTROL}]*[^{_SPACE_OR_CONTROL}][^{_CONTROL}]*$"
FAQ_TEXT_RULE = "must hold a visible character and no control characters (tab and newline are allowed)"


def _faq_text(max_length: int) -> Any:
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length, pattern=FAQ_TEXT)]


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


def replayed(conversation_id: str, turn: StoredTurn) -> Reply:
    """The reply as the store kept it (personal data masked), for a numbered message sent again."""
    assert turn.trace is not None, "a bot turn has its trace"
    fields = {name: getattr(turn.trace, name) for name in Trace.model_fields}
    return Reply.model_construct(**fields, session_id=conversation_id, text=turn.text)


class TurnOut(BaseModel):
    seq: int
    role: Literal["customer", "bot"]
    text: str = Field(description="as stored: personal data masked")
    created_at: datetime
    trace: Trace | None = Field(None, description="bot turns only")
    feedback: Feedback | None = Field(None, description="bot turns only: the latest rating of the reply, if any")


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
                    feedback=t.feedback,
                )
                for t in record.turns
            ],
        )


def _utc(moment: datetime) -> datetime:
    """Stored times are UTC; SQLite hands them back without the offset, which RFC 3339 needs."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ConversationIn(_Strict):
    """Opening a conversation takes no settings yet: send `{}` or no body."""


class ConversationOpened(BaseModel):
    """A new conversation: its id, the token a browser uses for it, and the bot's greeting to show first."""

    conversation_id: str
    token: str | None = Field(
        description="`Authorization: Bearer <token>` for this conversation only; null when the server has no "
        "token secret (possible only without widget keys)"
    )
    expires_at: datetime | None = Field(description="when the token stops being valid (UTC)")
    greeting: str = Field(description="bot.yaml persona.greeting: the first line to show")


class EndedOut(BaseModel):
    conversation_id: str
    status: Literal["ended"] = "ended"


class FeedbackIn(_Strict):
    """A verdict on one of the bot's replies; a new one on the same reply replaces it."""

    seq: int = Field(ge=0, le=2**31 - 1, description="the reply's turn number, as the transcript shows it")
    rating: Rating = Field(description="`up`: the reply helped; `down`: it did not")
    comment: str | None = Field(None, max_length=2000, description="optional: what was wrong or right, in words")


class FeedbackOut(BaseModel):
    conversation_id: str
    seq: int
    feedback: Feedback


class FaqIn(_Strict):
    """A FAQ entry's content (its id is in the path). Every text follows FAQ_TEXT; surrounding spaces are dropped."""

    question: _faq_text(1000)  # type: ignore[valid-type]
    alternatives: list[_faq_text(1000)] = Field([], max_length=50)  # type: ignore[valid-type]
    answer: _faq_text(10_000)  # type: ignore[valid-type]
    tags: list[_faq_text(1000)] = Field([], max_length=50)  # type: ignore[valid-type]
    intent: str | None = Field(None, pattern=INTENT_NAME, max_length=120)

    @field_validator("question", "answer")
    @classmethod
    def _text(cls, value: str) -> str:
        return _encodable(value).strip()

    @field_validator("alternatives", "tags")
    @classmethod
    def _items(cls, values: list[str]) -> list[str]:
        return [_encodable(value).strip() for value in values]

    def entry(self, faq_id: str) -> FaqEntry:
        return FaqEntry(id=faq_id, **self.model_dump())


class FaqCreate(FaqIn):
    """A new FAQ entry."""

    id: str = Field(pattern=FAQ_ID, max_length=120, description="lowercase letters, digits and '-'")

    def entry(self, faq_id: str | None = None) -> FaqEntry:
        return FaqEntry(**self.model_dump())


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
        401: "missing or unknown API key, or an expired or invalid conversation token",
        403: "the key's scope does not allow this, or the token is another conversation's",
        413: "request body over the size limit",
        422: "invalid input (the message names the field and the rule)",
        429: "rate limit reached; see Retry-After",
    }.items()
}
