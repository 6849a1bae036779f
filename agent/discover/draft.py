"""The draft of proposed intents: a `text,label` file that `python -m agent import` reads as it is.

    label,text,size
    gift_card,can I buy a gift card,8

One row per typical example, each proposal's rows together, largest proposal first; `size`
(the distinct messages of the cluster) is for the author, and import ignores it. The author
deletes the rows of the proposals they reject, renames a label to merge or rename one, and
imports the file. It is written whole or not at all (a temporary file, then a rename).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from agent.discover.clusters import Proposal
from agent.exceptions import DatasetError

SUFFIXES = (".csv", ".jsonl")


def check_out(path: Path) -> None:
    """Raise a one-line DatasetError before any work when the draft could not be written at `path`."""
    if path.suffix.lower() not in SUFFIXES:
        raise DatasetError(
            f"--out {path}: give a .csv or .jsonl file name, the kinds `python -m agent import` reads "
            f"(not {path.suffix or 'no suffix'})."
        )
    if path.is_dir():
        raise DatasetError(f"--out {path} is a folder; give a .csv or .jsonl file name.")
    if not path.parent.is_dir():
        raise DatasetError(f"--out {path}: folder {path.parent} does not exist.")


def render(proposals: Sequence[Proposal], suffix: str) -> str:
    """The draft's text: CSV (`label,text,size`) or JSONL (one example per line)."""
    rows = [(p.name, text, p.size) for p in proposals for text in p.examples]
    if suffix.lower() == ".jsonl":
        return "".join(json.dumps({"label": n, "text": t, "size": s}, ensure_ascii=False) + "\n" for n, t, s in rows)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["label", "text", "size"])
    writer.writerows(rows)
    return out.getvalue()


def write_draft(path: Path, proposals: Sequence[Proposal]) -> None:
    """Write the draft atomically: a reader never sees half of it, and a failure leaves the old file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(render(proposals, path.suffix), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DatasetError(f"Cannot write {path}: {exc.strerror or exc}.") from None
