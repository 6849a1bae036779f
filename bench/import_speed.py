"""How long `import` and `train` take for a company's 5,000-message CSV, on a fresh `init` bot.

The CSV is made in a temporary folder from Banking77's train split (5,000 rows of
`text,label`, read by path) with a `response` column added: each label gets a few
agent replies, some holding a `{{Customer Name}}` marker, so the import exercises
the response grouping. Nothing is copied into the project.

    python -m bench.import_speed [--rows 5000] [--cap 100]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine, read_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--cap", type=int, default=100)
    args = parser.parse_args()
    rows = read_rows("banking77/train.csv")[: args.rows]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "messages.csv"
        with data.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label", "response", "category"])
            for i, row in enumerate(rows):
                topic = row["category"].replace("_", " ")
                variant = i % 4  # four kinds of reply per label, one with a marker
                reply = f"Here is what to do about {topic} (case {variant})."
                if variant == 3:
                    reply = f"Thanks {{{{Customer Name}}}}, here is what to do about {topic}."
                writer.writerow([row["text"], row["category"], reply, "banking"])
        bot = work / "bot"
        timings = {"init": _run(["init", str(bot), "--name", "Bench bank"])}
        timings["import"] = _run(["import", str(data), "--bot", str(bot), "--cap", str(args.cap)])
        timings["reimport"] = _run(["import", str(data), "--bot", str(bot), "--cap", str(args.cap)])
        timings["train"] = _run(["train", "--bot", str(bot)])
        timings["train_again"] = _run(["train", "--bot", str(bot)])
    report = {"benchmark": "import_speed", "rows": len(rows), "cap": args.cap, "seconds": timings}
    print(json.dumps({**report, **machine()}))


def _run(arguments: list[str]) -> float:
    """Wall seconds of one `python -m agent ...` command (a fresh process, as a user runs it)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "agent", *arguments], check=True, capture_output=True)
    return round(time.perf_counter() - started, 2)


if __name__ == "__main__":
    main()
