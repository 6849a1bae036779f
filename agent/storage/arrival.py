"""Arrival order across worker processes: a ticket per message, taken the moment its request is read.

What "arrival" means. A message arrives when a worker has read its request: at
that moment it takes a ticket, a number from the database's sequence (a row in
`arrivals`, same database as the store, holding the conversation id and no
text), and the ticket fixes its place among the conversation's messages,
whichever worker read them. Taking one is a single statement on a connection
kept for it (no pool checkout, no thread pool), so the ticket follows the read
within a millisecond or two even on a busy worker; on PostgreSQL the statement
first takes a short advisory lock on the conversation, so a ticket is visible to
every worker before any later ticket of that conversation can be taken (a
sequence number alone is handed out before its row commits).

A client may state the order itself: messages that carry `seq` (1, 2, 3, ... per
conversation) are answered in their numbers' order, whatever order they arrive
in. Number n waits for n-1 at most `seq_wait_s`; a number already answered is
never answered (stored) again, and a number below one already answered is late
(agent.http.batcher answers it 409). A message without `seq` counts as number 0:
among the messages waiting with it, it goes first, in arrival order.

A worker answers a message only when no message before it (by the rules above)
is still waiting in another live worker. Every worker holds a lease
(agent.storage.locks.worker_lease) that ends when the process dies, so the
tickets of a worker killed mid-turn stop holding their conversations at once
and are cleared; `stale_after_s` only guards against a lease that looks alive
by mistake. Tickets are deleted once answered.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Connection,
    Float,
    Integer,
    String,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from agent.exceptions import StoreError
from agent.storage.locks import WorkerLease, own_connection, worker_lease

STALE_AFTER_S = 600.0
SEQ_WAIT_S = 2.0
ORDER_SPACE = 0x6F726472  # first int of the advisory lock that orders one conversation's tickets ("ordr")


class _Base(DeclarativeBase):
    pass


class ArrivalRow(_Base):
    __tablename__ = "arrivals"

    # BigInteger on PostgreSQL (a serial that never wraps), plain INTEGER PRIMARY KEY (rowid) on SQLite.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    worker: Mapped[int] = mapped_column(Integer)  # the taking worker's lease number
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the client's number, if it sent one
    taken_at: Mapped[float] = mapped_column(Float)  # time.time() of the taking worker


@dataclass(frozen=True)
class Ticket:
    """One message's place: its ticket number, conversation, the client's number and when it was taken."""

    id: int
    conversation_id: str
    seq: int | None = None
    taken: float = 0.0  # time.monotonic() in this worker

    @property
    def rank(self) -> tuple[int, int]:
        """Order within a conversation: the client's number (0 without one), then the ticket."""
        return (self.seq or 0, self.id)


def _order_key(conversation_id: str) -> int:
    """A signed 32-bit key for the conversation (the second int of its ordering lock)."""
    digest = hashlib.blake2b(conversation_id.encode("utf-8"), digest_size=4, person=b"agent-ordr").digest()
    return int.from_bytes(digest, "big", signed=True)


class ArrivalTickets:
    """Takes, checks and returns tickets in the store's database; the worker's lease is taken on first use."""

    def __init__(self, engine: Engine, seq_wait_s: float = SEQ_WAIT_S, stale_after_s: float = STALE_AFTER_S) -> None:
        self.engine = engine
        self.seq_wait_s = seq_wait_s
        self.stale_after_s = stale_after_s
        self._lease: WorkerLease | None = None
        self._conn: Connection | None = None  # the connection tickets are taken on (one thread at a time)
        self._orphans: set[int] = set()  # tickets of dead workers seen by `ready`, deleted by `done`
        self._mutex = threading.Lock()  # `ready` (agent thread) and `take` (ticket thread) may renew the lease
        _Base.metadata.create_all(engine)

    @property
    def worker(self) -> int:
        """This worker's lease number."""
        return self._ensure_lease().worker

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._lease is not None:
                self._lease.close()
                self._lease = None

    def _ensure_lease(self) -> WorkerLease:
        with self._mutex:
            if self._lease is None:
                try:
                    self._lease = worker_lease(self.engine)
                except (SQLAlchemyError, OSError) as exc:
                    raise StoreError(f"Could not hold this worker's lease: {type(exc).__name__}: {exc}") from exc
            return self._lease

    def take(self, conversation_id: str, seq: int | None = None) -> Ticket:
        """A ticket for a message of `conversation_id` that has just arrived (ids only grow)."""
        worker = self.worker
        values = select(
            literal(conversation_id, String), literal(worker, Integer), literal(seq, Integer), literal(time.time())
        )
        if self.engine.dialect.name == "postgresql":
            # The conversation's ordering lock, held until this statement commits: a later ticket of the
            # conversation waits for this one to be visible. (Its sequence number is drawn after the lock.)
            lock = select(func.pg_advisory_xact_lock(ORDER_SPACE, _order_key(conversation_id))).subquery()
            values = values.select_from(lock)
        statement = (
            insert(ArrivalRow)
            .from_select(["conversation_id", "worker", "seq", "taken_at"], values)
            .returning(ArrivalRow.id)
        )
        try:
            if self._conn is None:
                self._conn = self._ticket_connection()
            ticket = self._conn.execute(statement).scalar_one()
        except SQLAlchemyError as exc:
            self._drop_connection()
            raise StoreError(f"Could not take an arrival ticket: {type(exc).__name__}") from exc
        return Ticket(int(ticket), conversation_id, seq, time.monotonic())

    def _ticket_connection(self) -> Connection:
        conn = own_connection(self.engine)
        if self.engine.dialect.name == "postgresql":
            # A ticket is visible to others as soon as it commits either way; waiting for its WAL to reach
            # the disk (milliseconds) would only delay it, and a database crash ends every wait anyway.
            conn.execute(text("SET synchronous_commit = off"))
        return conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):  # already broken: the next take opens a new one
                self._conn.close()
            self._conn = None

    def ready(self, mine: Sequence[Ticket], answered: Mapping[str, int] | None = None) -> set[int]:
        """Of this worker's tickets, the ones whose turn it is.

        `answered` has, for conversations with numbered messages, the highest number already
        answered. A conversation's tickets here are ready up to the first message before which
        something is still missing: another live worker's message that comes first, or a lower
        number not yet arrived (for at most `seq_wait_s`). Tickets ready together may be answered
        together, in `Ticket.rank` order.
        """
        if not mine:
            return set()
        answered = answered or {}
        mine_ids = {t.id for t in mine}
        cutoff = time.time() - self.stale_after_s
        query = select(ArrivalRow.id, ArrivalRow.conversation_id, ArrivalRow.worker, ArrivalRow.seq).where(
            ArrivalRow.conversation_id.in_({t.conversation_id for t in mine}), ArrivalRow.taken_at >= cutoff
        )
        lease = self._ensure_lease()
        try:
            with Session(self.engine) as session:
                rows = [row for row in session.execute(query) if row.id not in mine_ids]
            others = {row.worker for row in rows}
            alive = lease.alive(others | {lease.worker})
            if lease.worker not in alive:
                self._renew(lease)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"Could not read arrival tickets: {type(exc).__name__}") from exc
        waiting: dict[str, list[Ticket]] = {}
        for row in rows:
            if row.worker in alive:
                waiting.setdefault(row.conversation_id, []).append(Ticket(row.id, row.conversation_id, row.seq))
            else:
                self._orphans.add(row.id)  # its worker died before answering it
        now = time.monotonic()
        out: set[int] = set()
        by_conversation: dict[str, list[Ticket]] = {}
        for ticket in mine:
            by_conversation.setdefault(ticket.conversation_id, []).append(ticket)
        for cid, own in by_conversation.items():
            highest = answered.get(cid, 0)
            for ticket in sorted([*own, *waiting.get(cid, [])], key=lambda t: t.rank):
                if ticket.id not in mine_ids:
                    break  # another worker's message comes first
                if ticket.seq is not None and ticket.seq > highest + 1 and now - ticket.taken < self.seq_wait_s:
                    break  # a lower number has not arrived yet: wait for it a little
                out.add(ticket.id)
                if ticket.seq is not None:
                    highest = max(highest, ticket.seq)
        return out

    def _renew(self, lease: WorkerLease) -> None:
        """The lease's connection was lost (other workers took this worker's tickets for orphans): hold it again."""
        with self._mutex:
            old = lease.worker
            lease.renew()
            if lease.worker != old:  # the number went to another worker meanwhile: carry the tickets over
                with Session(self.engine) as session, session.begin():
                    session.execute(update(ArrivalRow).where(ArrivalRow.worker == old).values(worker=lease.worker))

    def done(self, tickets: Iterable[Ticket]) -> None:
        """Return answered tickets, and clear out those of workers that died."""
        ids = {ticket.id for ticket in tickets}
        orphans, self._orphans = self._orphans, set()
        if not ids and not orphans:
            return
        try:
            with Session(self.engine) as session, session.begin():
                session.execute(delete(ArrivalRow).where(ArrivalRow.id.in_(ids | orphans)))
                session.execute(delete(ArrivalRow).where(ArrivalRow.taken_at < time.time() - self.stale_after_s))
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not return arrival tickets: {type(exc).__name__}") from exc
