"""The store: conversations, their turns (with each reply's trace) and FAQ entries.

SQLAlchemy 2.x; SQLite by default (WAL mode, so readers never block the
writer), PostgreSQL by URL for many workers. A turn is written in one
transaction with the conversation's state, so a crash never leaves a reply
without its message or a state that does not match the transcript.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from agent.bot.schemas import FaqEntry
from agent.exceptions import FaqError, StoreError
from agent.storage.locks import turn_locks
from agent.storage.tables import Base, ConversationRow, FaqRow, MetaRow, Status, TurnRow, utc_now
from agent.types import Reply, SessionState, Trace

SEED_KEY = "faq_seed_digest"
REVISION_KEY = "faq_revision"  # a new random value on every FAQ change, so other processes notice it


@dataclass(frozen=True)
class StoredTurn:
    seq: int
    role: Literal["customer", "bot"]
    text: str
    created_at: datetime
    trace: Trace | None  # bot turns only


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    status: Status
    started_at: datetime
    updated_at: datetime
    turns: list[StoredTurn]


@dataclass(frozen=True)
class TurnRecord:
    """One customer message and the reply to it, ready to be written."""

    customer_text: str
    reply: Reply
    state: SessionState


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes; WAL keeps it consistent
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """Conversations and FAQ entries behind one SQLAlchemy engine."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError(
                f"Store URL '{url}' is not a database URL; use e.g. sqlite:///path/agent.db "
                "or postgresql+psycopg://user@host/db."
            ) from None
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed.render_as_string(hide_password=True)
        try:
            self.engine: Engine = create_engine(parsed, pool_pre_ping=True)
        except (NoSuchModuleError, ImportError) as exc:
            raise StoreError(
                f"Store URL '{self.url}' names a database this install cannot use ({_first_line(exc)}); "
                "use sqlite:///... or postgresql+psycopg://..."
            ) from None
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                try:
                    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(
                        f"Cannot create the folder of the SQLite store '{parsed.database}': {exc.strerror}."
                    ) from None
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        try:
            Base.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"Cannot open the store at {self.url}: {_first_line(exc)}") from None
        self._locks = turn_locks(self.engine, parsed.database if parsed.get_backend_name() == "sqlite" else None)
        try:
            with self._session.begin() as session:
                if session.get(MetaRow, REVISION_KEY) is None:
                    session.add(MetaRow(key=REVISION_KEY, value=uuid.uuid4().hex))
        except IntegrityError:
            pass  # another process created it at the same moment

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def conversation_lock(self, *conversation_ids: str) -> Iterator[None]:
        """Hold these conversations' turn locks (across threads and processes sharing the store)."""
        with self._locks.hold(conversation_ids):
            yield

    def conversation_statuses(self, conversation_ids: Iterable[str]) -> dict[str, Status]:
        """The status of each conversation that exists."""
        ids = list(set(conversation_ids))
        with self._session() as session:
            query = select(ConversationRow.id, ConversationRow.status).where(ConversationRow.id.in_(ids))
            return {cid: status for cid, status in session.execute(query)}  # type: ignore[misc]

    def faq_revision(self) -> str:
        """Changes whenever any process changes a FAQ entry (one primary-key read: cheap to poll)."""
        with self._session() as session:
            row = session.get(MetaRow, REVISION_KEY)
            return row.value if row is not None else ""

    # --- conversations --------------------------------------------------------

    def load_states(self, conversation_ids: Iterable[str]) -> dict[str, SessionState]:
        """The saved dialog state of each conversation that exists."""
        ids = list(set(conversation_ids))
        with self._session() as session:
            rows = session.scalars(select(ConversationRow).where(ConversationRow.id.in_(ids))).all()
            return {row.id: SessionState.model_validate(row.state or {}) for row in rows}

    def record(self, records: Sequence[TurnRecord]) -> list[Trace]:
        """Write messages, replies and new states in one transaction (all or nothing).

        Returns each reply's trace as kept: its timings gain `store` (this write's share per
        turn, commit included) and `total`. The figure is known only once the write is done,
        so a second, small statement puts it into the kept traces.
        """
        started = time.perf_counter()
        traces = [rec.reply.trace() for rec in records]
        keys: list[tuple[str, int]] = []  # (conversation, seq) of each bot turn, for the timings
        try:
            with self._session.begin() as session:
                # Two queries for the whole batch (rows, last seq), not two per turn: a replay
                # writes hundreds of turns per call and per-turn round trips dominated its cost.
                ids = list(dict.fromkeys(rec.reply.session_id for rec in records))
                rows = {
                    row.id: row
                    for row in session.scalars(
                        select(ConversationRow).where(ConversationRow.id.in_(ids)).with_for_update()
                    )
                }
                fresh = [ConversationRow(id=cid, state={}, status="open") for cid in ids if cid not in rows]
                if fresh:
                    session.add_all(fresh)
                    session.flush()  # parents before their turns (foreign key)
                    rows.update((row.id, row) for row in fresh)
                last_seq: dict[str, int] = dict(
                    session.execute(  # type: ignore[arg-type]
                        select(TurnRow.conversation_id, func.max(TurnRow.seq))
                        .where(TurnRow.conversation_id.in_(ids))
                        .group_by(TurnRow.conversation_id)
                    ).all()
                )
                turns: list[dict[str, Any]] = []
                kept = [trace.model_dump(mode="json") for trace in traces]  # dumped once, for both statements
                for rec, trace in zip(records, kept, strict=True):
                    seq = last_seq.get(rec.reply.session_id, -1) + 1
                    last_seq[rec.reply.session_id] = seq + 1
                    turns.extend(self._record_one(rows[rec.reply.session_id], seq, rec, trace))
                    keys.append((rec.reply.session_id, seq + 1))
                # One multi-row INSERT for the whole batch (ORM objects cost one INSERT each).
                session.execute(insert(TurnRow), turns)
            share = round((time.perf_counter() - started) * 1000 / len(records), 3)
            for trace, dumped in zip(traces, kept, strict=True):
                trace.timings_ms["store"] = share
                trace.timings_ms["total"] = round(sum(trace.timings_ms.values()), 3)
                dumped["timings_ms"] = trace.timings_ms
            turns_table = TurnRow.__table__  # Core: one executemany UPDATE, no ORM objects to keep in step
            with self.engine.begin() as connection:
                connection.execute(
                    update(turns_table)
                    .where(
                        turns_table.c.conversation_id == bindparam("key_conversation"),
                        turns_table.c.seq == bindparam("key_seq"),
                    )
                    .values(trace=bindparam("kept_trace", type_=turns_table.c.trace.type)),
                    [
                        {"key_conversation": cid, "key_seq": seq, "kept_trace": dumped}
                        for (cid, seq), dumped in zip(keys, kept, strict=True)
                    ],
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not save the turn to {self.url}: {_first_line(exc)}") from None
        return traces

    def _record_one(
        self, row: ConversationRow, seq: int, rec: TurnRecord, trace: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Update the conversation row; return its two new turn rows (message and reply) as values."""
        conv_id = row.id
        now = utc_now()
        row.state = rec.state.model_dump(mode="json")
        row.updated_at = now
        if rec.reply.handoff:
            row.status = "handoff"
        # Both rows name the same columns, so they go into one multi-row INSERT.
        base = {"conversation_id": conv_id, "created_at": now}
        return [
            {**base, "seq": seq, "role": "customer", "text": rec.customer_text, "trace": None},
            {**base, "seq": seq + 1, "role": "bot", "text": rec.reply.text, "trace": trace},
        ]

    def conversation(self, conversation_id: str) -> ConversationRecord | None:
        """A conversation with all its turns in order, or None."""
        with self._session() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                return None
            turns = session.scalars(
                select(TurnRow).where(TurnRow.conversation_id == conversation_id).order_by(TurnRow.seq)
            ).all()
            return ConversationRecord(
                id=row.id,
                status=row.status,
                started_at=row.started_at,
                updated_at=row.updated_at,  # type: ignore[arg-type]
                turns=[
                    StoredTurn(
                        t.seq, t.role, t.text, t.created_at, None if t.trace is None else Trace.model_validate(t.trace)
                    )  # type: ignore[arg-type]
                    for t in turns
                ],
            )

    def list_conversations(self, limit: int = 50, offset: int = 0) -> list[ConversationRecord]:
        """Most recently active conversations first, without their turns."""
        with self._session() as session:
            rows = session.scalars(
                select(ConversationRow).order_by(ConversationRow.updated_at.desc()).limit(limit).offset(offset)
            ).all()
            return [ConversationRecord(r.id, r.status, r.started_at, r.updated_at, []) for r in rows]  # type: ignore[arg-type]

    def delete_conversations(self, conversation_ids: Iterable[str]) -> int:
        """Remove conversations and their turns (e.g. a replay's half-done ones); returns how many existed."""
        ids = list(set(conversation_ids))
        if not ids:
            return 0
        with self._session.begin() as session:
            session.execute(delete(TurnRow).where(TurnRow.conversation_id.in_(ids)))
            result = session.execute(delete(ConversationRow).where(ConversationRow.id.in_(ids)))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def create_conversation(self, conversation_id: str) -> bool:
        """Open a new conversation with no turns yet; False when the id is already taken."""
        try:
            with self._session.begin() as session:
                session.add(ConversationRow(id=conversation_id, state={}, status="open"))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not open a conversation in {self.url}: {_first_line(exc)}") from None
        return True

    def end_conversation(self, conversation_id: str) -> bool:
        """Mark a conversation ended; False if it does not exist."""
        with self._session.begin() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                return False
            row.status = "ended"
            row.updated_at = utc_now()
            return True

    # --- FAQ entries ----------------------------------------------------------

    def faq_entries(self) -> list[FaqEntry]:
        with self._session() as session:
            return [row.to_entry() for row in session.scalars(select(FaqRow).order_by(FaqRow.id))]

    def faq_entry(self, faq_id: str) -> FaqEntry | None:
        with self._session() as session:
            row = session.get(FaqRow, faq_id)
            return row.to_entry() if row else None

    def seed_faqs(self, entries: Sequence[FaqEntry], digest: str | None = None) -> tuple[int, int, int]:
        """Make the seeded entries equal faq.yaml; entries added or edited through the API are kept.

        With `digest` (of faq.yaml), nothing is done when the store was already
        seeded from that same file, so restarts never undo run-time edits.
        Returns (added, updated, removed).
        """
        added = updated = removed = 0
        wanted = {e.id: e for e in entries}
        with self._session.begin() as session:
            marker = session.get(MetaRow, SEED_KEY)
            if digest is not None and marker is not None and marker.value == digest:
                return 0, 0, 0
            rows = {row.id: row for row in session.scalars(select(FaqRow))}
            for faq_id, entry in wanted.items():
                row = rows.get(faq_id)
                if row is None:
                    session.add(_faq_row(entry, origin="seed"))
                    added += 1
                elif row.origin == "seed" and row.to_entry() != entry:
                    _copy_into(row, entry)
                    updated += 1
            for faq_id, row in rows.items():
                if row.origin == "seed" and faq_id not in wanted:
                    session.delete(row)
                    removed += 1
            if added or updated or removed:
                _bump_revision(session)
            if digest is not None:
                if marker is None:
                    session.add(MetaRow(key=SEED_KEY, value=digest))
                else:
                    marker.value = digest
        return added, updated, removed

    def add_faq(self, entry: FaqEntry) -> None:
        with self._session.begin() as session:
            if session.get(FaqRow, entry.id) is not None:
                raise FaqError(f"FAQ id '{entry.id}' already exists; use update to change it.")
            session.add(_faq_row(entry, origin="api"))
            _bump_revision(session)

    def update_faq(self, entry: FaqEntry) -> None:
        with self._session.begin() as session:
            row = session.get(FaqRow, entry.id)
            if row is None:
                raise FaqError(f"FAQ id '{entry.id}' does not exist; use add to create it.")
            _copy_into(row, entry)
            row.origin = "api"  # edited live: re-seeding from faq.yaml leaves it alone
            _bump_revision(session)

    def delete_faq(self, faq_id: str) -> None:
        with self._session.begin() as session:
            row = session.get(FaqRow, faq_id)
            if row is None:
                raise FaqError(f"FAQ id '{faq_id}' does not exist.")
            session.delete(row)
            _bump_revision(session)


def _bump_revision(session: Session) -> None:
    row = session.get(MetaRow, REVISION_KEY)
    if row is None:
        session.add(MetaRow(key=REVISION_KEY, value=uuid.uuid4().hex))
    else:
        row.value = uuid.uuid4().hex


def _faq_row(entry: FaqEntry, origin: str) -> FaqRow:
    row = FaqRow(id=entry.id, origin=origin)
    _copy_into(row, entry)
    return row


def _copy_into(row: FaqRow, entry: FaqEntry) -> None:
    row.question = entry.question
    row.alternatives = list(entry.alternatives)
    row.answer = entry.answer
    row.tags = list(entry.tags)
    row.intent = entry.intent


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
