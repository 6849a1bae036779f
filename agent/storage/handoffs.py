"""Once-only handoff notices: which conversations' handoff has been announced (the `handoff_notices` table).

The webhook (agent.http.webhook) announces a conversation's handoff once, however
many workers serve it: the first worker to claim it here sends the notice. The
table lives in the store's database and holds only the conversation id.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class _Base(DeclarativeBase):
    pass


class HandoffNoticeRow(_Base):
    __tablename__ = "handoff_notices"

    conversation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))


class HandoffClaims:
    """Claims "this conversation's handoff is announced" once across every process sharing the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        _Base.metadata.create_all(engine)

    def claim(self, conversation_id: str) -> bool:
        """True for the first caller for this conversation, False for every later one."""
        try:
            with Session(self.engine) as session, session.begin():
                session.add(HandoffNoticeRow(conversation_id=conversation_id))
        except IntegrityError:
            return False
        return True
