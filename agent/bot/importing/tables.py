"""Rows of a CSV or JSONL file a user imports, each with its line number, as plain strings."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from agent.bot.datafiles import read_data_file
from agent.exceptions import DatasetError


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line of the file where the row starts
    values: dict[str, str]  # column -> value, stripped; missing columns absent

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass(frozen=True)
class Table:
    path: Path
    columns: list[str]
    rows: list[Row]
    problems: list[tuple[int, str]]  # (line, what was wrong): lines that could not be read at all


def read_table(path: str | Path) -> Table:
    """The rows of a `.csv` (with a header line) or `.jsonl` file (one JSON object per line)."""
    file = Path(path)
    raw = read_data_file(file, "Import", "a .csv or .jsonl file, or a folder of pages")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{file}: not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    if file.suffix.lower() in (".jsonl", ".ndjson"):
        return _jsonl(file, text)
    if file.suffix.lower() in (".csv", ".tsv"):
        return _csv(file, text, "\t" if file.suffix.lower() == ".tsv" else ",")
    raise DatasetError(f"{file}: unknown kind of file; give a .csv, .tsv or .jsonl file, or a folder of pages.")


def _csv(file: Path, text: str, delimiter: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise DatasetError(f"{file} is empty; expected a header line such as `text,label,response`.") from None
    columns = [h.strip().lower() for h in header]
    rows: list[Row] = []
    problems: list[tuple[int, str]] = []
    line = reader.line_num
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(columns):
                problems.append((start, f"{len(record)} cells for {len(columns)} columns"))
                continue
            rows.append(Row(start, {c: v.strip() for c, v in zip(columns, record, strict=False) if c}))
    except csv.Error as exc:
        problems.append((reader.line_num, f"unreadable CSV ({exc}); the rest of the file was not read"))
    return Table(file, columns, rows, problems)


def _jsonl(file: Path, text: str) -> Table:
    rows: list[Row] = []
    problems: list[tuple[int, str]] = []
    columns: list[str] = []
    # Split on \n only: a bare \r inside a JSON string is part of the value, not a line break.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            problems.append((number, f"not JSON ({exc.msg})"))
            continue
        if not isinstance(data, dict):
            problems.append((number, f"a JSON {type(data).__name__}, expected an object"))
            continue
        values = {str(k).lower(): "" if v is None else str(v).strip() for k, v in data.items()}
        columns += [c for c in values if c not in columns]
        rows.append(Row(number, values))
    return Table(file, columns, rows, problems)
