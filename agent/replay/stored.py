"""Replay input from a store: conversations logged live (by id, or by when they started).

Stored conversations are turned into the log format by `agent.storage.conversation_log.from_record`
(customer turns carry the intent the live bot recognised, so a replay's "accuracy" on
them is agreement with what was live). Reading never writes: a SQLite path that does
not exist is an error, not a new empty store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from agent.exceptions import AgentError, DatasetError
from agent.storage.conversation_log import ConversationLog, describe, from_record
from agent.storage.store import ConversationRecord, Store


def read_store(
    store_url: str, ids: Iterable[str] | None = None, since: datetime | None = None, until: datetime | None = None
) -> ConversationLog:
    """Conversations logged in a store (by id, or started in [since, until)), oldest first."""
    check_store_exists(store_url)
    store = Store(store_url)
    result = ConversationLog(source=store.url)
    try:
        if ids is not None:
            wanted = list(dict.fromkeys(ids))
        else:
            wanted = [rec.id for rec in conversations_in_range(store, since, until)]
        for conv_id in wanted:
            record = store.conversation(conv_id)
            if record is None:
                result.problem(None, f"conversation '{conv_id}' is not in the store")
                continue
            try:
                conv = from_record(record)
            except (AgentError, ValidationError) as exc:
                reason = describe(exc) if isinstance(exc, ValidationError) else str(exc)
                result.problem(None, f"conversation '{conv_id}': {reason}; skipped")
                continue
            result.add(conv)
    finally:
        store.close()
    return result


def conversations_in_range(store: Store, since: datetime | None, until: datetime | None) -> list[ConversationRecord]:
    """The store's conversations started in [since, until) (without their turns), oldest first."""
    page, offset = 500, 0
    records: dict[str, ConversationRecord] = {}
    while True:
        chunk = store.list_conversations(limit=page, offset=offset)
        offset += len(chunk)
        # Live traffic can shift the pages while we read; an id seen twice is kept once.
        records.update((r.id, r) for r in chunk)
        if len(chunk) < page:
            break
    picked = [r for r in records.values() if _in_range(r.started_at, since, until)]
    return sorted(picked, key=lambda r: (_aware(r.started_at), r.id))


def _in_range(moment: datetime, since: datetime | None, until: datetime | None) -> bool:
    moment = _aware(moment)
    return (since is None or moment >= _aware(since)) and (until is None or moment < _aware(until))


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the store writes UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_store_exists(store_url: str) -> None:
    """Reading a store must never create one: a mistyped SQLite path is an error, not an empty replay."""
    try:
        url = make_url(store_url)
    except ArgumentError:
        return  # Store() reports a malformed URL in its own words
    in_file = url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:"
    if in_file and not Path(str(url.database)).is_file():
        raise DatasetError(f"Store {store_url} does not exist (no file {url.database}).")


def parse_date(value: str, flag: str) -> datetime:
    """An ISO date or date-time from the command line; naive values are UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DatasetError(f"{flag} '{value}' is not an ISO date such as 2026-11-22 or 2026-11-22T09:00.") from None
    return _aware(moment)
