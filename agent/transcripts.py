"""Transcripts in the replay format: one conversation per JSONL line.

    {"conversation_id": "tui-3f2a", "started_at": "2026-11-23T13:02:11+00:00",
     "turns": [{"role": "customer", "text": "how much to take out cash abroad?", "intent": "cash_withdrawal_charge"},
               {"role": "agent", "text": "ATM withdrawals are free up to ..."}]}

The store keeps turns with roles "customer"/"bot"; this format says "agent" for
the bot, like `dialogs/conversations.yaml`. A customer turn carries the intent
the bot recognised in it (taken from the reply's trace), so a replay can check
that a new model still understands the same message the same way.

`to_replay` / `append_jsonl` export; `read_jsonl` reads such a file back with
one-line errors (file and line) for the replay tools.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.exceptions import DatasetError
from agent.schemas import LoggedTurn
from agent.store import ConversationRecord


class ReplayConversation(BaseModel):
    """One line of a replay file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conversation_id: str = Field(min_length=1)
    started_at: datetime
    turns: list[LoggedTurn] = Field(min_length=1)

    def to_json_line(self) -> str:
        """The conversation as one JSON line (no trailing newline), `intent` left out where unknown."""
        data = {
            "conversation_id": self.conversation_id,
            "started_at": self.started_at.isoformat(),
            "turns": [turn.model_dump(exclude_none=True) for turn in self.turns],
        }
        return json.dumps(data, ensure_ascii=False)


def to_replay(record: ConversationRecord) -> ReplayConversation:
    """A stored conversation in the replay format; raises DatasetError if it has no turns yet."""
    turns: list[LoggedTurn] = []
    pending_customer: int | None = None  # index of the customer turn still waiting for its reply's intent
    for stored in record.turns:
        if stored.role == "customer":
            turns.append(LoggedTurn(role="customer", text=stored.text))
            pending_customer = len(turns) - 1
            continue
        intent = (stored.trace or {}).get("intent")
        if pending_customer is not None and isinstance(intent, str) and intent:
            # The intent describes the customer's message, so it goes on that turn.
            turns[pending_customer] = LoggedTurn(role="customer", text=turns[pending_customer].text, intent=intent)
        pending_customer = None
        turns.append(LoggedTurn(role="agent", text=stored.text))
    if not turns:
        raise DatasetError(f"Conversation '{record.id}' has no turns yet; there is nothing to export.")
    return ReplayConversation(conversation_id=record.id, started_at=_aware(record.started_at), turns=turns)


def append_jsonl(conversations: Iterable[ReplayConversation], path: str | Path) -> int:
    """Append conversations to a JSONL file (created if missing); returns how many lines were written.

    Appending, not overwriting: exporting into an existing replay log never loses what it held.
    """
    target = Path(path).expanduser()
    lines = [conv.to_json_line() + "\n" for conv in conversations]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as handle:
            handle.writelines(lines)
    except OSError as exc:
        raise DatasetError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    return len(lines)


def read_jsonl(path: str | Path) -> list[ReplayConversation]:
    """Every conversation in a replay file; a bad line is reported as 'file line N: what is wrong'."""
    source = Path(path).expanduser()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"Replay file {source} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"Cannot read replay file {source}: {exc}.") from None
    conversations: list[ReplayConversation] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            conversations.append(ReplayConversation.model_validate_json(line))
        except ValidationError as exc:
            raise DatasetError(f"{source} line {number}: {_first_error(exc)}") from None
    if not conversations:
        raise DatasetError(f"Replay file {source} holds no conversations.")
    return conversations


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "json_invalid":
        return f"not valid JSON ({error['msg']})."
    return f"{where}: {error['msg']}." if where else f"{error['msg']}."


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the store writes UTC, so say so in the ISO string.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
