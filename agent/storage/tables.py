"""The store's tables, SQLAlchemy 2.x declarative style: conversations, turns, feedback, FAQ entries, store facts,
client numbers.

`agent.storage.store.Store` is the only code that reads or writes them; this module
only says what they are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from agent.bot.schemas import FaqEntry

Status = Literal["open", "handoff", "ended"]


def utc_now() -> datetime:
    """The current time, timezone-aware (UTC), as every timestamp column stores it."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # "customer" or "bot"
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    trace: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)  # None: SQL NULL


class FeedbackRow(Base):
    """The latest verdict on one bot reply (`seq` is the reply's turn number); a new one replaces it."""

    __tablename__ = "feedback"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating: Mapped[str] = mapped_column(String(8))  # "up" or "down"
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class FaqRow(Base):
    __tablename__ = "faq_entries"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    intent: Mapped[str | None] = mapped_column(String(120), nullable=True)
    origin: Mapped[str] = mapped_column(String(8), default="api")  # "seed" (faq.yaml) or "api"
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, onupdate=utc_now)

    def to_entry(self) -> FaqEntry:
        return FaqEntry(
            id=self.id,
            question=self.question,
            alternatives=list(self.alternatives),
            answer=self.answer,
            tags=list(self.tags),
            intent=self.intent,
        )


class MetaRow(Base):
    """Small key/value facts about the store itself (e.g. which faq.yaml it was seeded from)."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ClientSeqRow(Base):
    """A client-numbered message (`seq`) already answered, and its customer turn: a retry is not stored twice."""

    __tablename__ = "client_seqs"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    turn_seq: Mapped[int] = mapped_column(Integer)  # the customer turn; the reply is turn_seq + 1
