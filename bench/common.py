"""Helpers shared by the benchmark scripts: dataset paths, CSV reading, percentiles, machine info, stores."""

from __future__ import annotations

import csv
import os
import platform
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import yaml

from agent.exceptions import ServeError
from agent.http.launch import ServedProcess

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("AGENT_DATASETS", ROOT.parent / "shared" / "datasets"))
PG_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def copy_bot(
    source: Path, dest: Path, edit: Callable[[dict[str, Any]], None] | None = None, with_build: bool = False
) -> Path:
    """The bot of `source` (bot.yaml, knowledge/, dialogs/; its build/ too with `with_build`, when it has
    one) in `dest`, with `edit` applied to the copy's bot.yaml."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("bot.yaml", "knowledge", "dialogs", *(["build"] if with_build else [])):
        src = source / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        elif src.is_file():
            shutil.copy(src, dest / name)
    config = yaml.safe_load((dest / "bot.yaml").read_text())
    if edit is not None:
        edit(config)
    (dest / "bot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return dest


def decoder_off(config: dict[str, Any]) -> None:
    """A bot.yaml edit for `copy_bot`: the decoder off (the demo's takes minutes to fine-tune)."""
    config.setdefault("decoder", {})["enabled"] = False


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


@contextmanager
def bench_store(kind: str, folder: Path, name: str) -> Iterator[str]:
    """A store URL for a served bot: `postgres` (a fresh schema `name`, dropped afterwards), `sqlite` (a file
    in `folder`) or any store URL as given."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / (name + '.db')}"
        return
    if kind != "postgres":
        yield kind
        return
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


def start_server(bot: Path, store: str, workers: int, api_keys: str, log: Path) -> ServedProcess:
    """`python -m agent serve` on `bot`, ready; a server that does not start ends the benchmark in one line."""
    try:
        return ServedProcess.start(bot, store, workers, api_keys, log, 300)
    except ServeError as exc:
        raise SystemExit(f"server did not start: {exc}") from None
