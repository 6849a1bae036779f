"""The store: conversations, their turns (with each reply's trace) and FAQ entries.

SQLAlchemy 2.x; SQLite by default (WAL mode, so readers never block the
writer), PostgreSQL by URL for many workers. A turn is written in one
transaction with the conversation's state, so a crash never leaves a reply
without its message or a state that does not match the transcript.

Opening the database, its failures (StoreError, answered 503 over HTTP), the
turn locks and `check()` are in agent/storage/database.py. A message the
client numbered (HTTP `seq`) is recorded with its turn (`client_seqs`), so its
reply can be found again and the number is never answered twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from agent.bot.schemas import FaqEntry
from agent.exceptions import FaqError, StoreError
from agent.storage import faq_rows, feedback
from agent.storage.database import Database, first_line
from agent.storage.tables import ClientSeqRow, ConversationRow, MetaRow, Status, TurnRow, utc_now
from agent.types import Feedback, Rating, Reply, SessionState, Trace


@dataclass(frozen=True)
class StoredTurn:
    seq: int
    role: Literal["customer", "bot"]
    text: str
    created_at: datetime
    trace: Trace | None  # bot turns only
    feedback: Feedback | None = None  # the latest rating of a bot turn, if it has one


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
    client_seq: int | None = None  # the client's number for the message (HTTP `seq`), if it sent one


class Store(Database):
    """Conversations and FAQ entries behind one SQLAlchemy engine (opening and failures: `Database`)."""

    def conversation_statuses(self, conversation_ids: Iterable[str]) -> dict[str, Status]:
        """The status of each conversation that exists."""
        ids = list(set(conversation_ids))
        with self._reading("read conversation statuses") as session:
            query = select(ConversationRow.id, ConversationRow.status).where(ConversationRow.id.in_(ids))
            return {cid: status for cid, status in session.execute(query)}  # type: ignore[misc]

    def faq_revision(self) -> str:
        """Changes whenever any process changes a FAQ entry (one primary-key read: cheap to poll)."""
        with self._reading("read the FAQ revision") as session:
            return faq_rows.revision(session)

    # --- conversations --------------------------------------------------------

    def load_states(self, conversation_ids: Iterable[str]) -> dict[str, SessionState]:
        """The saved dialog state of each conversation that exists."""
        ids = list(set(conversation_ids))
        with self._reading("read conversation states") as session:
            rows = session.scalars(select(ConversationRow).where(ConversationRow.id.in_(ids))).all()
            return {row.id: SessionState.model_validate(row.state or {}) for row in rows}

    def answered_seqs(self, conversation_ids: Iterable[str]) -> dict[str, int]:
        """The highest client number (`seq`) answered so far in each of these conversations that has one."""
        ids = list(set(conversation_ids))
        query = (
            select(ClientSeqRow.conversation_id, func.max(ClientSeqRow.seq))
            .where(ClientSeqRow.conversation_id.in_(ids))
            .group_by(ClientSeqRow.conversation_id)
        )
        with self._reading("read answered message numbers") as session:
            return {cid: int(seq) for cid, seq in session.execute(query)}

    def sequenced_replies(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], StoredTurn]:
        """The stored reply to each (conversation, client number) already answered."""
        wanted = set(keys)
        if not wanted:
            return {}
        query = (
            select(ClientSeqRow.conversation_id, ClientSeqRow.seq, TurnRow)
            .join(
                TurnRow,
                (TurnRow.conversation_id == ClientSeqRow.conversation_id) & (TurnRow.seq == ClientSeqRow.turn_seq + 1),
            )
            .where(
                ClientSeqRow.conversation_id.in_({cid for cid, _ in wanted}),
                ClientSeqRow.seq.in_({seq for _, seq in wanted}),
            )
        )
        with self._reading("read stored replies") as session:
            return {
                (cid, seq): _stored(turn) for cid, seq, turn in session.execute(query).tuples() if (cid, seq) in wanted
            }

    def record(self, records: Sequence[TurnRecord]) -> list[Trace]:
        """Write messages, replies and new states in one transaction (all or nothing).

        Returns each reply's trace as kept: its timings gain `store` (this write's share per
        turn, commit included) and `total`. The figure is known only once the write is done,
        so a second, small statement puts it into the kept traces.
        """
        started = time.perf_counter()
        traces = [rec.reply.trace() for rec in records]
        keys: list[tuple[str, int]] = []  # (conversation, seq) of each bot turn, for the timings
        self._check_writable("save the turn")
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
                numbered: list[dict[str, Any]] = []  # client numbers answered, with their customer turns
                kept = [trace.model_dump(mode="json") for trace in traces]  # dumped once, for both statements
                for rec, trace in zip(records, kept, strict=True):
                    seq = last_seq.get(rec.reply.session_id, -1) + 1
                    last_seq[rec.reply.session_id] = seq + 1
                    turns.extend(self._record_one(rows[rec.reply.session_id], seq, rec, trace))
                    keys.append((rec.reply.session_id, seq + 1))
                    if rec.client_seq is not None:
                        numbered.append(
                            {"conversation_id": rec.reply.session_id, "seq": rec.client_seq, "turn_seq": seq}
                        )
                # One multi-row INSERT for the whole batch (ORM objects cost one INSERT each).
                session.execute(insert(TurnRow), turns)
                if numbered:  # in the same transaction: a number is answered exactly when its turn is stored
                    session.execute(insert(ClientSeqRow), numbered)
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
            raise StoreError(f"Could not save the turn to {self.url}: {first_line(exc)}") from None
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
        with self._reading("read the conversation") as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                return None
            turns = session.scalars(
                select(TurnRow).where(TurnRow.conversation_id == conversation_id).order_by(TurnRow.seq)
            ).all()
            ratings = feedback.of_conversation(session, conversation_id)
            return ConversationRecord(
                id=row.id,
                status=row.status,  # type: ignore[arg-type]
                started_at=row.started_at,
                updated_at=row.updated_at,
                turns=[_stored(t, ratings.get(t.seq)) for t in turns],
            )

    def list_conversations(self, limit: int = 50, offset: int = 0) -> list[ConversationRecord]:
        """Most recently active conversations first, without their turns."""
        with self._reading("list conversations") as session:
            rows = session.scalars(
                select(ConversationRow).order_by(ConversationRow.updated_at.desc()).limit(limit).offset(offset)
            ).all()
            return [ConversationRecord(r.id, r.status, r.started_at, r.updated_at, []) for r in rows]  # type: ignore[arg-type]

    def delete_conversations(self, conversation_ids: Iterable[str]) -> int:
        """Remove conversations and their turns (e.g. a replay's half-done ones); returns how many existed."""
        ids = list(set(conversation_ids))
        if not ids:
            return 0
        with self._writing("delete conversations") as session:
            session.execute(delete(ClientSeqRow).where(ClientSeqRow.conversation_id.in_(ids)))
            session.execute(delete(TurnRow).where(TurnRow.conversation_id.in_(ids)))
            result = session.execute(delete(ConversationRow).where(ConversationRow.id.in_(ids)))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def create_conversation(self, conversation_id: str) -> bool:
        """Open a new conversation with no turns yet; False when the id is already taken."""
        # The ids are random (`Agent.start_conversation`): a taken one is as good as never met, so checking
        # first in the same transaction is enough.
        with self._writing("open a conversation") as session:
            if session.get(ConversationRow, conversation_id) is not None:
                return False
            session.add(ConversationRow(id=conversation_id, state={}, status="open"))
        return True

    def end_conversation(self, conversation_id: str) -> bool:
        """Mark a conversation ended; False if it does not exist. Waits for a turn of it in progress."""
        with self.conversation_lock(conversation_id), self._writing("end the conversation") as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                return False
            row.status = "ended"
            row.updated_at = utc_now()
            return True

    def rate(self, conversation_id: str, seq: int, rating: Rating, comment: str | None = None) -> Feedback | None:
        """Keep a verdict on the reply numbered `seq` (replacing an earlier one); None: no such conversation.

        Raises FeedbackError when `seq` is not one of the conversation's bot replies.
        """
        with self._writing("keep the feedback") as session:
            if session.get(ConversationRow, conversation_id) is None:
                return None
            return feedback.rate(session, conversation_id, seq, rating, comment)

    # --- FAQ entries (statements in agent/storage/faq_rows.py) ----------------

    def faq_entries(self) -> list[FaqEntry]:
        with self._reading("read the FAQ entries") as session:
            return faq_rows.entries(session)

    def faq_entry(self, faq_id: str) -> FaqEntry | None:
        with self._reading("read the FAQ entry") as session:
            return faq_rows.entry(session, faq_id)

    def seed_faqs(self, entries: Sequence[FaqEntry], digest: str | None = None) -> tuple[int, int, int]:
        """Make the seeded entries equal faq.yaml; entries added or edited through the API are kept.

        With `digest` (of faq.yaml), nothing is done when the store was already
        seeded from that same file, so restarts never undo run-time edits.
        Returns (added, updated, removed).
        """
        with self._reading("read the FAQ seed") as session:
            marker = session.get(MetaRow, faq_rows.SEED_KEY)
            if digest is not None and marker is not None and marker.value == digest:
                return 0, 0, 0  # seeded from this file already: nothing to write (a read-only store opens too)
        with self._writing("seed the FAQ entries") as session:
            return faq_rows.seed(session, entries, digest)

    def add_faq(self, entry: FaqEntry) -> None:
        try:
            with self._writing("add the FAQ entry") as session:
                faq_rows.add(session, entry)
        except StoreError:
            if self.faq_entry(entry.id) is not None:  # another process added it at the same moment
                raise FaqError(f"FAQ id '{entry.id}' already exists; use update to change it.") from None
            raise

    def update_faq(self, entry: FaqEntry) -> None:
        with self._writing("update the FAQ entry") as session:
            faq_rows.update(session, entry)

    def delete_faq(self, faq_id: str) -> None:
        with self._writing("delete the FAQ entry") as session:
            faq_rows.delete(session, faq_id)


def _stored(turn: TurnRow, rating: Feedback | None = None) -> StoredTurn:
    trace = None if turn.trace is None else Trace.model_validate(turn.trace)
    return StoredTurn(turn.seq, turn.role, turn.text, turn.created_at, trace, rating)  # type: ignore[arg-type]
