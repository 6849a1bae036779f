"""The store's database: opening it, its failures as StoreError, SQLite's writability, turn locks, readiness.

`agent.storage.store.Store` builds on `Database`. Every failure of the database
(unreachable, read-only, locked) or of the lock files beside a SQLite database
is a StoreError naming what could not be done, which the HTTP API answers 503.
A SQLite store whose folder or file has become read-only refuses every write
before it starts: connections opened earlier could still write into the WAL,
which a process started later may not be able to read, so a change that looked
saved might not be. `check()` tries what a message needs: a read, a write that
is rolled back, and a turn lock.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from agent.exceptions import StoreError
from agent.storage.faq_rows import REVISION_KEY
from agent.storage.locks import turn_locks
from agent.storage.tables import Base, MetaRow

PROBE_KEY = "ready_probe"  # written and rolled back by `check()`


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes; WAL keeps it consistent
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """One SQLAlchemy engine with its sessions, turn locks and failure rules; `Store` builds on it."""

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
                f"Store URL '{self.url}' names a database this install cannot use ({first_line(exc)}); "
                "use sqlite:///... or postgresql+psycopg://..."
            ) from None
        self._sqlite_file: Path | None = None
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                self._sqlite_file = Path(parsed.database).resolve()
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
            raise StoreError(f"Cannot open the store at {self.url}: {first_line(exc)}") from None
        self._locks = turn_locks(self.engine, parsed.database if parsed.get_backend_name() == "sqlite" else None)
        try:
            with self._session.begin() as session:
                if session.get(MetaRow, REVISION_KEY) is None:
                    session.add(MetaRow(key=REVISION_KEY, value=uuid.uuid4().hex))
        except IntegrityError:
            pass  # another process created it at the same moment
        except SQLAlchemyError as exc:
            raise StoreError(f"Cannot open the store at {self.url}: {first_line(exc)}") from None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _reading(self, action: str) -> Iterator[Session]:
        """A session for reads; a database failure becomes a StoreError saying what could not be done."""
        try:
            with self._session() as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not {action} in {self.url}: {first_line(exc)}") from None

    @contextmanager
    def _writing(self, action: str) -> Iterator[Session]:
        """A transaction for writes, refused at once when a SQLite store cannot be written."""
        self._check_writable(action)
        try:
            with self._session.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not {action} in {self.url}: {first_line(exc)}") from None

    def _check_writable(self, action: str) -> None:
        db = self._sqlite_file
        if db is None:
            return
        for path in (db.parent, db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            if path.exists() and not os.access(path, os.W_OK):
                raise StoreError(f"Could not {action}: the SQLite store's {path.name} is read-only ({db}).")

    @contextmanager
    def conversation_lock(self, *conversation_ids: str) -> Iterator[None]:
        """Hold these conversations' turn locks (across threads and processes sharing the store)."""
        hold = self._locks.hold(conversation_ids)
        try:
            hold.__enter__()
        except (OSError, SQLAlchemyError) as exc:
            problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else first_line(exc)
            raise StoreError(f"Could not lock the conversation in {self.url}: {problem}") from None
        try:
            yield
        except BaseException as exc:
            if not hold.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            # The lock ends with its connection or descriptor anyway; the turn is already written.
            with contextlib.suppress(OSError, SQLAlchemyError):
                hold.__exit__(None, None, None)

    def check(self) -> None:
        """Raise StoreError unless a message could be answered now: a read, a write (rolled back), a turn lock."""
        self._check_writable("write")
        try:
            with self.engine.connect() as conn, conn.begin() as transaction:
                conn.execute(select(MetaRow.value).where(MetaRow.key == REVISION_KEY))
                conn.execute(insert(MetaRow).values(key=PROBE_KEY, value=uuid.uuid4().hex))
                transaction.rollback()
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not read and write {self.url}: {first_line(exc)}") from None
        with self.conversation_lock(PROBE_KEY):
            pass


def first_line(exc: Exception) -> str:
    """The database's own message, first line only (it may name the URL: for logs, never for clients)."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
