"""Per-conversation turn locks that hold across threads and processes sharing one store.

A turn reads the conversation's state, runs the pipeline and writes the new
state with the transcript. Two turns of one conversation running at once would
both read the same state and one would be lost, so the whole turn runs under
the conversation's lock:

    PostgreSQL   `pg_advisory_xact_lock` on a 64-bit hash of the id, on a connection of its own;
                 released by the transaction's end, also when a worker dies mid-turn.
    SQLite file  `flock` on one of 256 lock files beside the database (a hash of the id picks it);
                 every acquisition opens its own descriptor, so threads exclude each other too.
    SQLite :memory:   a thread lock (one process is all that can see the database).

Several ids are always locked in sorted order, so two holders never deadlock.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

STRIPES = 256


def lock_key(conversation_id: str) -> int:
    """A stable signed 64-bit key for the id (the type PostgreSQL's advisory locks take)."""
    digest = hashlib.blake2b(conversation_id.encode("utf-8"), digest_size=8, person=b"agent-turn").digest()
    return int.from_bytes(digest, "big", signed=True)


class TurnLocks(Protocol):
    """Something that can hold the turn locks of several conversations at once."""

    def hold(self, conversation_ids: Iterable[str]) -> AbstractContextManager[None]: ...


class PostgresLocks:
    """Transaction-scoped advisory locks on a dedicated pooled connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def hold(self, conversation_ids: Iterable[str]) -> Iterator[None]:
        keys = sorted({lock_key(cid) for cid in conversation_ids})
        if not keys:
            yield
            return
        with self.engine.connect() as conn, conn.begin():
            for key in keys:
                # Blocks until the holder's transaction ends; PostgreSQL queues waiters in arrival order.
                conn.execute(select(func.pg_advisory_xact_lock(key)))
            yield


class FileLocks:
    """`flock` on striped lock files in a folder next to the SQLite database."""

    def __init__(self, folder: Path, stripes: int = STRIPES) -> None:
        self.folder = folder
        self.stripes = stripes
        folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def hold(self, conversation_ids: Iterable[str]) -> Iterator[None]:
        import fcntl  # POSIX only; imported here so the module still loads elsewhere

        stripes = sorted({lock_key(cid) % self.stripes for cid in conversation_ids})
        with ExitStack() as stack:
            for stripe in stripes:
                handle = stack.enter_context(open(self.folder / f"{stripe:03d}.lock", "a+b"))
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                # Closing the descriptor (ExitStack, in reverse order) releases the lock.
            yield


class ThreadLocks:
    """Striped thread locks, for a store only this process can see."""

    def __init__(self, stripes: int = STRIPES) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    @contextmanager
    def hold(self, conversation_ids: Iterable[str]) -> Iterator[None]:
        stripes = sorted({lock_key(cid) % len(self._locks) for cid in conversation_ids})
        with ExitStack() as stack:
            for stripe in stripes:
                stack.enter_context(self._locks[stripe])
            yield


def turn_locks(engine: Engine, sqlite_database: str | None) -> TurnLocks:
    """The right kind of lock for the store behind `engine`."""
    if engine.dialect.name == "postgresql":
        return PostgresLocks(engine)
    if engine.dialect.name == "sqlite" and sqlite_database and sqlite_database != ":memory:":
        db = Path(sqlite_database).resolve()
        return FileLocks(db.with_name(db.name + ".locks"))
    return ThreadLocks()
