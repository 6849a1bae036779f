"""The customer messages of LOG: a conversation log as replay reads it, a CSV/JSONL with `text`, or plain text.

    log.jsonl          one conversation per line (agent.storage.conversation_log): its customer turns
    log.csv            `conversation_id,turn,role,text`: the customer rows; any other CSV needs a `text` column
    messages.jsonl     one object per line with a `text` field (no `turns`)
    messages.txt       one message per line

Lines that cannot be read are skipped and counted (with the first few named), as replay and
import do; a file that cannot be read at all, or holds no message, is one `DatasetError` line.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from agent.bot.datafiles import read_data_file
from agent.bot.importing.tables import read_table
from agent.exceptions import AgentError, DatasetError
from agent.pipeline.messages import clean_message
from agent.storage.conversation_log import CSV_REQUIRED, read_csv, read_jsonl

KIND = "Discover log"
EXPECTED = "a .jsonl/.csv conversation log, a .csv/.jsonl with a `text` column, or a .txt file"


@dataclass
class LogMessages:
    """The customer messages read from one file, in file order, and what was skipped."""

    source: str
    texts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "line 7: not JSON", one per skipped line or message


def read_messages(path: str | Path, max_chars: int) -> LogMessages:
    """Every customer message of `path`, cleaned as the bot cleans a message (too long or empty: skipped)."""
    file = Path(path)
    raw = read_data_file(file, KIND, EXPECTED)  # a missing or unreadable file is reported here, once
    suffix = file.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        found = _conversations(file) if _first_object_has_turns(file, raw) else _table(file)
    elif suffix in (".csv", ".tsv"):
        found = _conversations(file) if _csv_is_conversation_log(file, raw) else _table(file)
    elif suffix in (".txt", ".text"):
        found = _lines(file, raw)
    else:
        raise DatasetError(f"{file}: unknown kind of file; give {EXPECTED}.")
    out = LogMessages(source=str(file), problems=found.problems)
    for line, text in found.numbered:
        try:
            out.texts.append(clean_message(text, max_chars))
        except AgentError as exc:
            out.problems.append(f"line {line}: {exc}" if line else str(exc))
    if not out.texts:
        raise DatasetError(f"{file}: no customer message found; expected {EXPECTED}.")
    return out


@dataclass
class _Found:
    numbered: list[tuple[int | None, str]] = field(default_factory=list)  # (line, text) before cleaning
    problems: list[str] = field(default_factory=list)


def _conversations(file: Path) -> _Found:
    log = read_jsonl(file) if file.suffix.lower() != ".csv" else read_csv(file)
    found = _Found(problems=[str(p).removeprefix(f"{file} ") for p in log.problems])
    for conversation in log.conversations:
        found.numbered += [(conversation.line or None, turn.text) for turn in conversation.customer_turns()]
    return found


def _table(file: Path) -> _Found:
    table = read_table(file)
    if "text" not in table.columns:
        raise DatasetError(
            f"{file} line 1: no `text` column (found: {', '.join(table.columns) or 'nothing'}); expected {EXPECTED}."
        )
    found = _Found(problems=[f"line {line}: {why}" for line, why in table.problems])
    # A table with a `role` column is a transcript: only the customer's rows are customer messages.
    rows = [row for row in table.rows if "role" not in table.columns or row.get("role").lower() == "customer"]
    found.numbered = [(row.line, row.get("text")) for row in rows if row.get("text")]
    return found


def _lines(file: Path, raw: bytes) -> _Found:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{file} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    return _Found(numbered=[(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()])


def _first_object_has_turns(file: Path, raw: bytes) -> bool:
    """Whether a JSONL file is a conversation log: its first readable object has `turns`."""
    for line in raw.split(b"\n"):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        return isinstance(data, dict) and "turns" in data
    raise DatasetError(f"{file}: no line is a JSON object; expected {EXPECTED}.")


def _csv_is_conversation_log(file: Path, raw: bytes) -> bool:
    try:
        header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")), [])
    except (UnicodeDecodeError, csv.Error):
        return False  # read_table says what is wrong, with the line
    return set(CSV_REQUIRED) <= {h.strip().lower() for h in header}
