"""The conversation log: one format for replay input, TUI export and stored conversations, with one reader.

JSONL, one conversation per line (the shape of `dialogs/conversations.yaml`, model
`LoggedConversation` in agent.bot.schemas):

    {"conversation_id": "c1", "started_at": "2026-11-22T09:14:00Z",
     "turns": [{"role": "customer", "text": "where is my card?", "intent": "card_arrival"},
               {"role": "agent", "text": "Cards arrive in 5-7 working days ..."}]}

CSV with the columns `conversation_id,turn,role,text[,intent][,started_at]`, one row per turn.

The store keeps turns with roles "customer"/"bot"; this format says "agent" for
the bot. A stored conversation's customer turn carries the intent the bot
recognised in it (from the reply's trace), so a replay can check that a new
model still understands the same message the same way.

Reading: a malformed line or row becomes an `InputProblem` with its line number
and is skipped, so one bad line never stops a run or loses the others; only a
file that cannot be read at all (missing, not UTF-8, no header) is a one-line
`DatasetError`. Writing: `write_jsonl` / `write_csv` create a file,
`append_jsonl` adds to one (an export never loses what a file held).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from agent.bot.datafiles import read_data_file
from agent.bot.schemas import LoggedConversation, LoggedTurn
from agent.exceptions import DatasetError
from agent.storage.store import ConversationRecord

CSV_REQUIRED = ("conversation_id", "turn", "role", "text")


@dataclass(frozen=True)
class InputProblem:
    """A line, row or conversation that was skipped, and why."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source} line {self.line}" if self.line else self.source
        return f"{where}: {self.message}"


@dataclass
class ConversationLog:
    """The valid conversations of a log, in log order, and the problems found while reading it."""

    source: str
    conversations: list[LoggedConversation] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    _seen: dict[str, int] = field(default_factory=dict, repr=False)  # conversation id -> first line

    def add(self, conversation: LoggedConversation) -> None:
        """Keep `conversation`, unless its id came before (then it is a problem, and skipped)."""
        first = self._seen.get(conversation.conversation_id)
        if first is not None:
            self.problem(
                conversation.line or None,
                f"duplicate conversation_id '{conversation.conversation_id}' (first on line {first}); skipped",
            )
            return
        self._seen[conversation.conversation_id] = conversation.line
        self.conversations.append(conversation)

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(InputProblem(self.source, line, message))

    def customer_turn_count(self) -> int:
        return sum(sum(t.role == "customer" for t in c.turns) for c in self.conversations)


def describe(exc: ValidationError) -> str:
    """The first validation error in one phrase: where, and what is wrong."""
    error = exc.errors()[0]
    if error["type"] == "json_invalid":
        return f"not valid JSON ({error['msg'].removeprefix('Invalid JSON: ')})"
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


# --- reading ------------------------------------------------------------------


def read_jsonl(path: str | Path) -> ConversationLog:
    """Every valid conversation of a JSONL log; bad lines become problems with their line number."""
    source = Path(path)
    log = ConversationLog(source=str(source))
    # JSON Lines ends a line at "\n" only: a bare "\r" is whitespace inside a record (JSON allows it
    # between tokens), so bytes.splitlines(), which also splits there, would cut a valid record in two
    # and shift every later line number. A "\r\n" ending leaves its "\r", which JSON reads as blank.
    for number, raw in enumerate(read_data_file(source, "Replay log", "a .jsonl or .csv file").split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            log.problem(number, f"not UTF-8 (byte {exc.start}); skipped")
            continue
        try:
            conv = LoggedConversation.model_validate_json(text)
        except ValidationError as exc:
            log.problem(number, f"{describe(exc)}; skipped")
            continue
        log.add(conv.model_copy(update={"line": number}))
    return log


def read_csv(path: str | Path) -> ConversationLog:
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
    log = ConversationLog(source=str(source))
    rows: dict[str, list[tuple[int, int, LoggedTurn]]] = {}  # conversation id -> (turn, line, turn)
    first_line: dict[str, int] = {}
    started: dict[str, str] = {}
    for row in reader:
        number = reader.line_num  # the row's last line: exact for every row without a quoted line break
        problem = _row_problem(row)
        if problem is None:
            try:
                turn = LoggedTurn(
                    role=row["role"].strip(), text=row["text"], intent=(row.get("intent") or "").strip() or None
                )  # type: ignore[arg-type]
            except ValidationError as exc:
                problem = describe(exc)
        if problem is not None:
            log.problem(number, f"{problem}; row skipped")
            continue
        conv_id = row["conversation_id"].strip()
        position = int(row["turn"])
        if any(existing == position for existing, _, _ in rows.get(conv_id, [])):
            log.problem(number, f"conversation '{conv_id}' has turn {position} twice; row skipped")
            continue
        rows.setdefault(conv_id, []).append((position, number, turn))
        first_line.setdefault(conv_id, number)
        if (row.get("started_at") or "").strip():
            started.setdefault(conv_id, row["started_at"].strip())
    for conv_id, turns in rows.items():
        ordered = [turn for _, _, turn in sorted(turns, key=lambda item: item[0])]
        try:
            conv = LoggedConversation(
                conversation_id=conv_id, started_at=started.get(conv_id), turns=ordered, line=first_line[conv_id]
            )  # type: ignore[arg-type]
        except ValidationError as exc:
            log.problem(first_line[conv_id], f"conversation '{conv_id}': {describe(exc)}; skipped")
            continue
        log.add(conv)
    return log


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


def from_record(record: ConversationRecord) -> LoggedConversation:
    """A stored conversation in the log format; raises DatasetError if it has no turns yet."""
    turns: list[LoggedTurn] = []
    pending_customer: int | None = None  # index of the customer turn still waiting for its reply's intent
    for stored in record.turns:
        if stored.role == "customer":
            turns.append(LoggedTurn(role="customer", text=stored.text))
            pending_customer = len(turns) - 1
            continue
        intent = stored.trace.intent if stored.trace is not None else None
        if pending_customer is not None and intent:
            # The intent describes the customer's message, so it goes on that turn.
            turns[pending_customer] = LoggedTurn(role="customer", text=turns[pending_customer].text, intent=intent)
        pending_customer = None
        turns.append(LoggedTurn(role="agent", text=stored.text))
    if not any(turn.role == "customer" for turn in turns):
        raise DatasetError(f"Conversation '{record.id}' has no customer turns yet; there is nothing to export.")
    return LoggedConversation(conversation_id=record.id, started_at=_aware(record.started_at), turns=turns)


# --- writing ------------------------------------------------------------------


def to_json_line(conversation: LoggedConversation) -> str:
    """The conversation as one JSONL line (no trailing newline), `intent` left out where unknown."""
    return json.dumps(conversation.model_dump(mode="json", exclude_none=True), ensure_ascii=False)


def write_jsonl(conversations: Iterable[LoggedConversation], path: str | Path) -> int:
    """Write conversations as a new JSONL log (the format `read_jsonl` reads); returns how many."""
    return _write_lines(conversations, path, "w")


def append_jsonl(conversations: Iterable[LoggedConversation], path: str | Path) -> int:
    """Append conversations to a JSONL log (created if missing); returns how many lines were written."""
    return _write_lines(conversations, path, "a")


def _write_lines(conversations: Iterable[LoggedConversation], path: str | Path, mode: str) -> int:
    target = Path(path).expanduser()
    lines = [to_json_line(conv) + "\n" for conv in conversations]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open(mode, encoding="utf-8") as handle:
            handle.writelines(lines)
    except OSError as exc:
        raise DatasetError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    return len(lines)


def write_csv(conversations: Iterable[LoggedConversation], path: str | Path) -> int:
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


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the store writes UTC, so say so in the ISO string.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
