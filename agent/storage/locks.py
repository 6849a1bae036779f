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

A worker lease says "this process is alive" to the other processes sharing the store, with no
heartbeat to miss: the operating system or the database ends it the moment its holder dies.

    PostgreSQL   a session advisory lock (two-int key: the lease space, the worker number) held by a
                 connection of the worker's own; `pg_locks` shows which workers hold theirs
    SQLite file  `flock` on `worker-N.lease` in the lock folder; a lock another process can take is dead
    SQLite :memory:   only this process can see the store, so every worker it knows of is alive

A lease failure (the folder is read-only, the database is gone) is an OSError or SQLAlchemyError;
the store's users turn them into StoreError.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import Engine

STRIPES = 256
LEASE_SPACE = 0x61727276  # the first int of every worker lease's advisory lock key ("arrv")
MAX_WORKER = 2**31 - 1  # a worker number is a positive int4, the second int of the key


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


class WorkerLease(Protocol):
    """This process's claim to be alive, under a number unique among the processes sharing the store."""

    worker: int

    def alive(self, workers: Iterable[int]) -> set[int]:
        """Which of these worker numbers belong to processes that are still alive (this one's too)."""
        ...

    def renew(self) -> None:
        """Hold the lease again if it was lost (its number may change)."""
        ...

    def close(self) -> None: ...


class PostgresLease:
    """A session advisory lock on a connection kept open for the life of the lease."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # A random number, so the numbers of dead workers are not handed out again soon.
        self.worker = random.randint(1, MAX_WORKER)
        self._conn: Connection | None = None
        self.renew()

    def alive(self, workers: Iterable[int]) -> set[int]:
        wanted = set(workers)
        if not wanted:
            return set()
        query = text(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
            "AND classid::bigint = :space AND objid::bigint = ANY(:workers) "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"space": LEASE_SPACE, "workers": sorted(wanted)})
            return {int(worker) for (worker,) in rows}  # this worker's own too, only while really held

    def renew(self) -> None:
        """Hold the lease again after its connection was lost: the same number if it is free, else a new one."""
        self.close()
        self._conn = own_connection(self.engine)
        lock = func.pg_try_advisory_lock
        while not self._conn.execute(select(lock(LEASE_SPACE, self.worker))).scalar():
            self.worker = random.randint(1, MAX_WORKER)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the connection may already be gone: the lease is too
                self._conn.close()
            self._conn = None


class FileLease:
    """`flock` on a lease file of this worker's number, in the lock folder beside the SQLite database."""

    def __init__(self, folder: Path) -> None:
        import fcntl

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            self.worker = random.randint(1, MAX_WORKER)
            handle = open(self._path(self.worker), "a+b")  # noqa: SIM115 (held open for the lease's life)
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self._handle = handle
            break

    def _path(self, worker: int) -> Path:
        return self.folder / f"worker-{worker}.lease"

    def alive(self, workers: Iterable[int]) -> set[int]:
        import fcntl

        out = set()
        for worker in set(workers):
            if worker == self.worker:
                out.add(worker)
                continue
            try:
                fd = os.open(self._path(worker), os.O_RDONLY)
            except FileNotFoundError:
                continue  # never held here, or cleaned up: dead
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                out.add(worker)  # its holder still has it
            else:
                with contextlib.suppress(OSError):  # dead: remove its file (another checker may be first)
                    os.unlink(self._path(worker))
            finally:
                os.close(fd)
        return out

    def renew(self) -> None:
        pass  # a file lock is lost only with its process

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._path(self.worker))
        self._handle.close()


class LocalLease:
    """A store only this process can see: every worker it has heard of is this process."""

    def __init__(self) -> None:
        self.worker = random.randint(1, MAX_WORKER)

    def alive(self, workers: Iterable[int]) -> set[int]:
        return set(workers)

    def renew(self) -> None:
        pass

    def close(self) -> None:
        pass


def own_connection(engine: Engine) -> Connection:
    """An autocommit connection outside the pool: closing it really closes it (and ends its session locks)."""
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    conn.detach()
    return conn


def worker_lease(engine: Engine) -> WorkerLease:
    """A lease of the right kind for the store behind `engine`."""
    database = engine.url.database
    if engine.dialect.name == "postgresql":
        return PostgresLease(engine)
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return FileLease(lock_folder(database))
    return LocalLease()


def lock_folder(sqlite_database: str) -> Path:
    """The folder of lock files beside a SQLite database file."""
    db = Path(sqlite_database).resolve()
    return db.with_name(db.name + ".locks")


def turn_locks(engine: Engine, sqlite_database: str | None) -> TurnLocks:
    """The right kind of lock for the store behind `engine`."""
    if engine.dialect.name == "postgresql":
        return PostgresLocks(engine)
    if engine.dialect.name == "sqlite" and sqlite_database and sqlite_database != ":memory:":
        return FileLocks(lock_folder(sqlite_database))
    return ThreadLocks()
