"""Helpers shared by the benchmark scripts: dataset paths, CSV reading, percentiles, machine info."""

from __future__ import annotations

import csv
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("AGENT_DATASETS", ROOT.parent / "shared" / "datasets"))


def read_rows(relative: str) -> list[dict[str, str]]:
    """Rows of a public dataset CSV, read by path (never copied into the project)."""
    with open(DATASETS / relative, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def machine() -> dict[str, object]:
    """Where and when a figure was measured."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
