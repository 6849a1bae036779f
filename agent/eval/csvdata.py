"""Reading the CSV files that `python -m agent eval` takes: labelled messages, FAQ entries, FAQ queries.

Every problem with a file is one `DatasetError` line naming the file and, where
it applies, the line and the column: a missing file, an empty file, a file
that is not UTF-8, a missing column, an empty cell. Nothing is guessed: a file
in another encoding is refused rather than read with mangled characters.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from agent.bot.datafiles import read_data_file
from agent.bot.schemas import FaqEntry
from agent.exceptions import DatasetError

# A cell longer than this is almost certainly a broken quote swallowing the rest of the file.
MAX_CELL_CHARS = 100_000


@dataclass(frozen=True)
class LabelledText:
    """One message and its intent label (`oos` for out of scope)."""

    text: str
    label: str
    line: int


@dataclass(frozen=True)
class FaqQuery:
    """A customer question and the id of the FAQ entry that answers it."""

    text: str
    faq_id: str
    line: int


def read_table(path: str | Path, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a UTF-8 CSV with a header that has every `required` column."""
    file = Path(path)
    raw = read_data_file(file, "CSV", "a CSV file")
    try:
        # utf-8-sig also accepts the byte-order mark that spreadsheet programs write.
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DatasetError(
            f"{file} line {line}: not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8 CSV."
        ) from None
    if not content.strip():
        raise DatasetError(f"{file}: the file is empty; expected a header line with columns {', '.join(required)}.")
    if "\x00" in content:
        raise DatasetError(f"{file}: contains NUL bytes; this is not a text CSV file.")
    reader = csv.DictReader(content.splitlines(keepends=True), strict=True)
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise DatasetError(f"{file} line 1: unreadable header ({exc}).") from None
    missing = [name for name in required if name not in header]
    if missing:
        raise DatasetError(
            f"{file} line 1: missing column {', '.join(repr(m) for m in missing)}; "
            f"the header has {', '.join(repr(h) for h in header) or 'no columns'}."
        )
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise DatasetError(f"{file} line {line}: more cells than the header's {len(header)} columns.")
            if all(not (value or "").strip() for value in row.values()):
                continue  # blank lines carry nothing
            for name in required:
                value = (row.get(name) or "").strip()
                if not value:
                    raise DatasetError(f"{file} line {line}: column '{name}' is empty.")
                if len(value) > MAX_CELL_CHARS:
                    raise DatasetError(
                        f"{file} line {line}: column '{name}' has {len(value):,} characters "
                        f"(limit {MAX_CELL_CHARS:,}); is a quote left open?"
                    )
                row[name] = value
            rows.append((line, row))
    except csv.Error as exc:
        raise DatasetError(f"{file} line {reader.line_num}: malformed CSV ({exc}).") from None
    if not rows:
        raise DatasetError(f"{file}: has a header but no data rows.")
    return rows


def read_labelled(path: str | Path, text_column: str = "text", label_column: str = "label") -> list[LabelledText]:
    """Messages and their labels from a CSV with (at least) `text_column` and `label_column`."""
    return [
        LabelledText(text=row[text_column], label=row[label_column], line=line)
        for line, row in read_table(path, [text_column, label_column])
    ]


def read_faq(path: str | Path) -> list[FaqEntry]:
    """FAQ entries from a CSV with `id,question,answer` (optional `alternatives`, separated by '|')."""
    file = Path(path)
    entries: list[FaqEntry] = []
    seen: dict[str, int] = {}
    for line, row in read_table(file, ["id", "question", "answer"]):
        faq_id = row["id"]
        if faq_id in seen:
            raise DatasetError(f"{file} line {line}: id '{faq_id}' already used on line {seen[faq_id]}.")
        seen[faq_id] = line
        alternatives = [alt.strip() for alt in (row.get("alternatives") or "").split("|") if alt.strip()]
        try:
            entries.append(
                FaqEntry(id=faq_id, question=row["question"], answer=row["answer"], alternatives=alternatives)
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"])
            raise DatasetError(f"{file} line {line}: column '{field}' (id '{faq_id}'): {error['msg']}.") from None
    return entries


def read_queries(path: str | Path, known_ids: set[str] | None = None) -> list[FaqQuery]:
    """Queries and the FAQ id each should retrieve, from a CSV with `text,faq_id`."""
    file = Path(path)
    queries = []
    for line, row in read_table(file, ["text", "faq_id"]):
        if known_ids is not None and row["faq_id"] not in known_ids:
            raise DatasetError(f"{file} line {line}: faq_id '{row['faq_id']}' is not an id of the FAQ file.")
        queries.append(FaqQuery(text=row["text"], faq_id=row["faq_id"], line=line))
    return queries
