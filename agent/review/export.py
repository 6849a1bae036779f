"""`python -m agent review export`: the ranked queue as a CSV whose `label` column an author fills.

    python -m agent review export [--bot DIR] (--from-store [--since DATE] [--store URL] | --from-run RUN_DIR)
                                  --out review.csv [--limit N]

Columns: text, predicted, confidence, alternatives (runners-up with their confidence),
count (messages the row stands for), reasons, score (expected help, agent/review/queue.py),
label (empty: an intent, `oos`, or a new intent's name) and similar (the group's other
messages, one per line; `review apply` adds them with the row's label).

The file is opened in spreadsheets, and its texts are customers' own: a cell that would start
a formula (=, +, -, @) is written with a leading apostrophe, which `review apply` removes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from agent.exceptions import DatasetError
from agent.pipeline.assemble import load_bot
from agent.review.candidates import Candidate, from_run, from_store
from agent.review.queue import QueueRow, Thresholds, build_queue, distinct_texts
from agent.steps.encoder import Encoder

COLUMNS = ["text", "predicted", "confidence", "alternatives", "count", "reasons", "score", "label", "similar"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_LIMIT = 200


@dataclass
class ExportOptions:
    """What `review export` was asked for (the CLI fills it from its arguments)."""

    out: Path
    bot: str = "."
    from_store: bool = False
    store: str | None = None  # a store URL instead of bot.yaml's store.url
    since: datetime | None = None
    from_run: Path | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class ExportSummary:
    rows: list[QueueRow]
    messages: int  # answered customer messages read
    source: str  # where they came from, in words


def export(options: ExportOptions, encoder: Encoder | None = None) -> ExportSummary:
    """Read the messages, rank them, write the CSV; `encoder` skips loading the bot's own (tests)."""
    if options.limit < 1:
        raise DatasetError(f"--limit {options.limit}: give a whole number >= 1.")
    if options.from_store == (options.from_run is not None):
        raise DatasetError("review export reads one source: give --from-store or --from-run RUN_DIR.")
    if options.since is not None and not options.from_store:
        raise DatasetError("--since picks conversations of a store: add --from-store.")
    bot = load_bot(options.bot)  # a bad bot folder is reported before anything is read
    candidates: list[Candidate]
    if options.from_run is not None:
        candidates, source = from_run(options.from_run), f"run {options.from_run}"
        if not candidates:
            raise DatasetError(f"--from-run {options.from_run}: its results.jsonl holds no replayed turns.")
    else:
        url = options.store or bot.store_url
        candidates, source = from_store(url, options.since), f"store {url}"
        if not candidates:
            since = f" since {options.since.isoformat()}" if options.since else ""
            raise DatasetError(f"store {url} holds no answered customer messages{since}; nothing to review.")
    thresholds = Thresholds(
        confident=bot.config.intents.confident, handoff_intents=tuple(bot.config.dialog.handoff_intents)
    )
    vectors = _encode(options.bot, distinct_texts(candidates), encoder)
    rows = build_queue(candidates, vectors, thresholds, limit=options.limit)
    _write(options.out, rows)
    return ExportSummary(rows=rows, messages=len(candidates), source=source)


def _encode(bot_dir: str, texts: list[str], encoder: Encoder | None) -> np.ndarray:
    """The bot's own run-time encoder (the fine-tuned one, when it has one), as other commands load it."""
    from agent.training import load_trained  # the heavy part, imported only when there is work

    agent = load_trained(bot_dir, store_url="sqlite:///:memory:", decoder=False, encoder=encoder)
    try:
        return agent.step(Encoder).encode(texts)
    finally:
        agent.close()


def _write(path: Path, rows: list[QueueRow]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                safe_cell(row.text),
                row.predicted or "",
                f"{row.confidence:.3f}",
                "; ".join(f"{name} {conf:.2f}" for name, conf in row.alternatives),
                row.count,
                "; ".join(row.reasons),
                f"{row.score:.3f}",
                "",
                "\n".join(safe_cell(" ".join(text.split())) for text in row.similar),
            ]
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"--out {path}: cannot write it ({exc.strerror}).") from None


def safe_cell(text: str) -> str:
    """A customer's text as a spreadsheet will not run it: `=SUM(A1)` -> `'=SUM(A1)`."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unsafe_cell(text: str) -> str:
    """`safe_cell` undone (what `review apply` reads)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text
