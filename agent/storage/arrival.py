"""Arrival order across worker processes: a ticket per message, taken the moment it is read.

The store's conversation lock makes turns of one conversation run one at a
time, but with several workers the lock goes to whichever worker asks first,
and a worker busy with a batch asks late. So each message takes a ticket (a
row in `arrival_tickets`, same database as the store, holding only the
conversation id: no text) as soon as its request is read; a worker answers a
message only when no earlier ticket of that conversation is still waiting
elsewhere. Tickets are deleted once answered. A ticket older than
`stale_after_s` (its worker died) stops holding the conversation back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from sqlalchemy import BigInteger, Float, Integer, String, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from agent.exceptions import StoreError

STALE_AFTER_S = 15.0


class _Base(DeclarativeBase):
    pass


class TicketRow(_Base):
    __tablename__ = "arrival_tickets"

    # BigInteger on PostgreSQL (a serial that never wraps), plain INTEGER PRIMARY KEY (rowid) on SQLite.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    taken_at: Mapped[float] = mapped_column(Float)  # time.time() of the taking worker


class ArrivalTickets:
    """Takes, checks and returns tickets in the store's database."""

    def __init__(self, engine: Engine, stale_after_s: float = STALE_AFTER_S) -> None:
        self.engine = engine
        self.stale_after_s = stale_after_s
        _Base.metadata.create_all(engine)

    def take(self, conversation_id: str) -> int:
        """A ticket for a message of `conversation_id` that has just arrived (ids only grow)."""
        try:
            with Session(self.engine) as session, session.begin():
                row = TicketRow(conversation_id=conversation_id, taken_at=time.time())
                session.add(row)
                session.flush()
                return row.id
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not take an arrival ticket: {type(exc).__name__}") from exc

    def ready(self, tickets: Mapping[str, Iterable[int]]) -> set[int]:
        """Of these tickets (by conversation), the ones no earlier ticket elsewhere is still waiting before.

        A conversation's tickets given here are ready up to the first earlier ticket that is not given
        (another worker's message, not answered yet); tickets given together may be answered together.
        """
        given = {cid: set(ids) for cid, ids in tickets.items()}
        if not given:
            return set()
        cutoff = time.time() - self.stale_after_s
        query = (
            select(TicketRow.conversation_id, TicketRow.id)
            .where(TicketRow.conversation_id.in_(list(given)), TicketRow.taken_at >= cutoff)
            .order_by(TicketRow.id)
        )
        waiting: dict[str, list[int]] = {}
        try:
            with Session(self.engine) as session:
                for cid, ticket in session.execute(query):
                    waiting.setdefault(cid, []).append(ticket)
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not read arrival tickets: {type(exc).__name__}") from exc
        out: set[int] = set()
        for cid, mine in given.items():
            blocked_from = next((t for t in waiting.get(cid, []) if t not in mine), None)
            out.update(t for t in mine if blocked_from is None or t < blocked_from)
        return out

    def done(self, tickets: Iterable[int]) -> None:
        """Return answered tickets, and clear out stale ones left by workers that died."""
        ids = list(tickets)
        if not ids:
            return
        try:
            with Session(self.engine) as session, session.begin():
                session.execute(delete(TicketRow).where(TicketRow.id.in_(ids)))
                session.execute(delete(TicketRow).where(TicketRow.taken_at < time.time() - 10 * self.stale_after_s))
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not return arrival tickets: {type(exc).__name__}") from exc
