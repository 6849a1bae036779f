"""`run.json`: what a replay folder is a replay of, and each (resumed) segment of the run.

The report reads its run facts (bot, input, throughput) from here, and
`--resume` checks it so a folder is never continued with another input log.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from agent.exceptions import ReplayError

MANIFEST_FILE = "run.json"


class Segment(BaseModel):
    """One invocation of the command: a first run or a resume."""

    started_at: datetime
    engine: str
    batch_size: int
    conversations: int = 0
    turns: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    skipped_input: int = 0  # malformed lines/rows/conversations reported and skipped

    @property
    def turns_per_second(self) -> float:
        return self.turns / self.seconds if self.seconds > 0 else 0.0


class Manifest(BaseModel):
    input: str
    bot: str
    bot_name: str
    segments: list[Segment] = []

    @classmethod
    def load(cls, folder: Path) -> Manifest | None:
        path = folder / MANIFEST_FILE
        if not path.is_file():
            return None
        try:
            return cls.model_validate_json(path.read_bytes())
        except ValidationError:
            raise ReplayError(f"{path} is not a replay manifest; choose another --out folder.") from None

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (MANIFEST_FILE + ".tmp")
        tmp.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        os.replace(tmp, folder / MANIFEST_FILE)  # a kill mid-write never leaves half a manifest

    def check_resumable(self, input_spec: str, bot: str) -> None:
        """A resume must replay the same log through the same bot, or the results would mix two runs.

        `--limit` may change between segments: results are per conversation, so a resume
        with a larger limit simply replays the conversations not done yet.
        """
        if self.input != input_spec:
            raise ReplayError(
                f"This folder is a replay of '{self.input}', not '{input_spec}'; resume it with that input."
            )
        if self.bot != bot:
            raise ReplayError(
                f"This folder is a replay through bot '{self.bot}', not '{bot}'; resume it with --bot {self.bot}."
            )

    def totals(self) -> dict[str, float]:
        """Throughput over every segment (wall time summed), for the report."""
        seconds = sum(s.seconds for s in self.segments)
        turns = sum(s.turns for s in self.segments)
        conversations = sum(s.conversations for s in self.segments)
        return {
            "segments": len(self.segments),
            "seconds": round(seconds, 2),
            "conversations": conversations,
            "turns": turns,
            "turns_per_second": round(turns / seconds, 2) if seconds > 0 else 0.0,
            "conversations_per_second": round(conversations / seconds, 2) if seconds > 0 else 0.0,
        }


def now() -> datetime:
    return datetime.now(UTC)
