"""Replay log files: reading (and writing) JSONL and CSV; `load_input` picks the reader for INPUT.

JSONL, one conversation per line:

    {"conversation_id": "c1", "started_at": "2026-11-22T09:14:00Z",
     "turns": [{"role": "customer", "text": "where is my card?", "intent": "card_arrival"},
               {"role": "agent", "text": "Cards arrive in 5-7 working days ..."}]}

CSV with the columns `conversation_id,turn,role,text[,intent][,started_at]`, one row per turn.

A malformed line or row is reported with its line number and skipped; the rest
of the log is still replayed. Only a file that cannot be read at all (missing,
not UTF-8, no header) stops the command, with a one-line `DatasetError`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from agent.datafiles import read_data_file
from agent.exceptions import DatasetError
from agent.replay.log import InputProblem, LogConversation, LogTurn, ReplayInput, describe

CSV_REQUIRED = ("conversation_id", "turn", "role", "text")


def read_jsonl(path: str | Path) -> ReplayInput:
    """Every valid conversation of a JSONL log; bad lines become problems with their line number."""
    source = Path(path)
    result = ReplayInput(source=str(source))
    seen: dict[str, int] = {}
    for number, raw in enumerate(read_data_file(source, "Replay log", "a .jsonl or .csv file").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            result.problems.append(InputProblem(str(source), number, f"not UTF-8 (byte {exc.start}); skipped"))
            continue
        try:
            conv = LogConversation.model_validate_json(text)
        except ValidationError as exc:
            result.problems.append(InputProblem(str(source), number, f"{describe(exc)}; skipped"))
            continue
        result.add(conv.model_copy(update={"line": number}), seen)
    return result


def read_csv(path: str | Path) -> ReplayInput:
    """Conversations from a CSV with one row per turn; rows are ordered by `turn` within a conversation."""
    source = Path(path)
    try:
        text = read_data_file(source, "Replay log", "a .jsonl or .csv file").decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{source} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [name for name in CSV_REQUIRED if name not in header]
    if missing:
        raise DatasetError(
            f"{source} line 1: missing column(s) {', '.join(missing)}; the header must hold "
            f"{','.join(CSV_REQUIRED)}[,intent][,started_at] (found: {','.join(header) or 'nothing'})."
        )
    result = ReplayInput(source=str(source))
    rows: dict[str, list[tuple[int, int, LogTurn]]] = {}  # conversation id -> (turn, line, turn)
    first_line: dict[str, int] = {}
    started: dict[str, str] = {}
    for row in reader:
        number = reader.line_num  # the row's last line: exact for every row without a quoted line break
        problem = _row_problem(row)
        if problem is None:
            try:
                turn = LogTurn(
                    role=row["role"].strip(), text=row["text"], intent=(row.get("intent") or "").strip() or None
                )  # type: ignore[arg-type]
            except ValidationError as exc:
                problem = describe(exc)
        if problem is not None:
            result.problems.append(InputProblem(str(source), number, f"{problem}; row skipped"))
            continue
        conv_id = row["conversation_id"].strip()
        position = int(row["turn"])
        if any(existing == position for existing, _, _ in rows.get(conv_id, [])):
            result.problems.append(
                InputProblem(str(source), number, f"conversation '{conv_id}' has turn {position} twice; row skipped")
            )
            continue
        rows.setdefault(conv_id, []).append((position, number, turn))
        first_line.setdefault(conv_id, number)
        if (row.get("started_at") or "").strip():
            started.setdefault(conv_id, row["started_at"].strip())
    seen: dict[str, int] = {}
    for conv_id, turns in rows.items():
        ordered = [turn for _, _, turn in sorted(turns, key=lambda item: item[0])]
        try:
            conv = LogConversation(
                conversation_id=conv_id, started_at=started.get(conv_id), turns=ordered, line=first_line[conv_id]
            )  # type: ignore[arg-type]
        except ValidationError as exc:
            result.problems.append(
                InputProblem(str(source), first_line[conv_id], f"conversation '{conv_id}': {describe(exc)}; skipped")
            )
            continue
        result.add(conv, seen)
    return result


def _row_problem(row: dict[str, str | None]) -> str | None:
    if None in row:  # csv puts surplus fields under the key None
        return "more fields than the header has columns"
    if not (row.get("conversation_id") or "").strip():
        return "conversation_id is empty"
    turn = (row.get("turn") or "").strip()
    if not turn.isdigit():
        return f"turn must be a whole number >= 0 (got {turn!r})"
    if row.get("text") is None:
        return "fewer fields than the header has columns"
    return None


def write_jsonl(conversations: Iterable[LogConversation], path: str | Path) -> int:
    """Write conversations as a JSONL log (the format `read_jsonl` reads); returns how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for conv in conversations:
            data = conv.model_dump(mode="json", exclude={"line"}, exclude_none=True)
            handle.write(json.dumps(data, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_csv(conversations: Iterable[LogConversation], path: str | Path) -> int:
    """Write conversations as a CSV log, one row per turn (the format `read_csv` reads); returns how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*CSV_REQUIRED, "intent", "started_at"])
        for conv in conversations:
            started = conv.started_at.isoformat() if conv.started_at else ""
            for index, turn in enumerate(conv.turns):
                writer.writerow([conv.conversation_id, index, turn.role, turn.text, turn.intent or "", started])
            count += 1
    return count


def load_input(
    spec: str,
    *,
    store_url: str | None = None,
    ids: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ReplayInput:
    """Read INPUT: a .jsonl/.ndjson or .csv file, `store` (the bot's store, `store_url`) or a database URL."""
    if spec == "store" or "://" in spec:
        url = store_url if spec == "store" else spec
        if url is None:
            raise DatasetError("INPUT 'store' needs the bot's store URL; give a database URL instead.")
        from agent.replay.stored import read_store

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
