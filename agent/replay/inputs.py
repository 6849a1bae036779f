"""Replay input: `load_input` picks the reader for INPUT, `drop_unreplayable` skips what the bot would refuse.

INPUT is a JSONL or CSV log (agent.storage.conversation_log says the formats),
`store` (the bot's own store) or a database URL (agent.replay.stored). A
malformed line or row is reported with its line number and skipped; the rest
of the log is still replayed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from agent.exceptions import AgentError, DatasetError
from agent.pipeline.messages import clean_message
from agent.replay.stored import read_store
from agent.storage.conversation_log import ConversationLog, read_csv, read_jsonl


def load_input(
    spec: str,
    *,
    store_url: str | None = None,
    ids: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ConversationLog:
    """Read INPUT: a .jsonl/.ndjson or .csv file, `store` (the bot's store, `store_url`) or a database URL."""
    if spec == "store" or "://" in spec:
        url = store_url if spec == "store" else spec
        if url is None:
            raise DatasetError("INPUT 'store' needs the bot's store URL; give a database URL instead.")
        return read_store(url, ids=ids, since=since, until=until)
    if ids is not None or since is not None or until is not None:
        raise DatasetError("--ids, --since and --until select conversations in a store; INPUT is a file.")
    suffix = Path(spec).suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return read_jsonl(spec)
    if suffix == ".csv":
        return read_csv(spec)
    raise DatasetError(
        f"INPUT '{spec}' is not a .jsonl or .csv file, 'store', or a database URL (sqlite:///..., postgresql://...)."
    )


def drop_unreplayable(log: ConversationLog, max_chars: int) -> None:
    """Skip conversations with a customer message the bot would refuse (too long, empty after cleaning)."""
    kept = []
    for conv in log.conversations:
        problem = None
        for turn in conv.customer_turns():
            try:
                clean_message(turn.text, max_chars)
            except AgentError as exc:
                problem = f"conversation '{conv.conversation_id}' turn {turn.index}: {exc} Skipped."
                break
        if problem is None:
            kept.append(conv)
        else:
            log.problem(conv.line or None, problem)
    log.conversations = kept
