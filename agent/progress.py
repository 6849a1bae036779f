"""Progress bars for long work (encoding, training, indexing), with rates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")


def make_progress(unit: str = "it") -> Progress:
    """A rich Progress with count, rate (per second) and time columns, written to stderr."""
    from rich.console import Console

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def track(items: Iterable[T], description: str, total: int | None = None, unit: str = "it") -> Iterator[T]:
    """Iterate `items` under a progress bar that shows `unit`/s."""
    progress = make_progress(unit)
    with progress:
        task = progress.add_task(description, total=total, rate="")
        for item in items:
            yield item
            done = progress.tasks[0]
            progress.advance(task)
            speed = done.speed
            progress.update(task, rate=f"{speed:.1f} {unit}/s" if speed else "")
