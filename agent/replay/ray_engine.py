"""Replay on Ray, for logs too big for one machine: ray.data over the conversations, one bot per worker.

The driver parses and checks the log (so problems keep their line numbers),
then hands the conversations to `ray.data`; each worker is an actor that loads
the bot once, with its own replay store in a worker-local temporary folder, and
replays its blocks with the same continuous batching as the local engine.
Finished conversations stream back to the driver, which alone writes
`results.jsonl`, so resume and the report work exactly as for a local run.

    python -m agent replay log.jsonl --out runs/today --engine ray --workers 4 [--ray-address auto]

Ray is an optional extra: `pip install 'support-agent[ray]'`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from agent.bot.schemas import LoggedConversation
from agent.exceptions import ReplayError
from agent.replay.results import TurnResult
from agent.replay.runner import DEFAULT_BATCH_SIZE, LocalEngine, ReplayStep


class ReplayWorker:
    """A Ray actor's state: one loaded bot; called with blocks of conversations (one JSON string each)."""

    def __init__(self, bot_dir: str, batch_size: int, threads: int | None) -> None:
        from agent.pipeline.dialog import Agent

        if threads:
            import torch

            torch.set_num_threads(threads)
        self._folder = tempfile.mkdtemp(prefix="agent-replay-")
        # A worker-local store: workers never contend for one SQLite file, and nothing reaches production.
        self.agent = Agent.load(bot_dir, store_url=f"sqlite:///{Path(self._folder) / 'replay.db'}")
        self.engine = LocalEngine(self.agent, batch_size)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        conversations = [LoggedConversation.model_validate_json(raw) for raw in batch["conversation"]]
        ids, turns, lines = [], [], []
        for step in self.engine.steps(conversations):
            for rows in step.finished:
                ids.append(rows[0].conversation_id)
                turns.append(len(rows))
                lines.append("\n".join(row.model_dump_json() for row in rows))
        return {"conversation_id": ids, "turns": turns, "results": lines}

    def __del__(self) -> None:
        agent = getattr(self, "agent", None)
        if agent is not None:
            agent.close()
        shutil.rmtree(getattr(self, "_folder", ""), ignore_errors=True)


def ray_available() -> bool:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


class RayEngine:
    """Replays through `workers` Ray actors; `address=None` starts a local Ray instance for this run."""

    def __init__(
        self,
        bot_dir: str | Path,
        *,
        workers: int = 2,
        batch_size: int = DEFAULT_BATCH_SIZE,
        address: str | None = None,
        threads_per_worker: int | None = 1,
        block_conversations: int | None = None,
    ) -> None:
        if not ray_available():
            raise ReplayError("--engine ray needs Ray: pip install 'support-agent[ray]' (or 'ray[data]').")
        if workers < 1:
            raise ReplayError(f"--workers must be at least 1 (got {workers}).")
        self.bot_dir = str(Path(bot_dir).resolve())
        self.workers = workers
        self.batch_size = batch_size
        self.address = address
        self.threads = threads_per_worker
        # Blocks several times the batch keep each worker's batches full while it works through a block.
        self.block = block_conversations or batch_size * 4

    def steps(self, conversations: Iterable[LoggedConversation]) -> Iterator[ReplayStep]:
        import ray
        import ray.data

        items = [{"conversation": conv.model_dump_json()} for conv in conversations]
        if not items:
            return
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(
                address=self.address,
                num_cpus=None if self.address else self.workers,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
                configure_logging=False,
            )
        try:
            context = ray.data.DataContext.get_current()
            context.enable_progress_bars = False  # the driver shows its own bar with rates
            context.print_on_execution_start = False
            dataset = ray.data.from_items(items, override_num_blocks=max(1, -(-len(items) // self.block)))
            replayed = dataset.map_batches(
                ReplayWorker,
                fn_constructor_kwargs={"bot_dir": self.bot_dir, "batch_size": self.batch_size, "threads": self.threads},
                batch_size=self.block,
                compute=ray.data.ActorPoolStrategy(size=self.workers),
                num_cpus=1,
                batch_format="numpy",
            )
            for batch in replayed.iter_batches(batch_size=None, batch_format="numpy"):
                finished = [
                    [TurnResult.model_validate_json(line) for line in str(text).split("\n")]
                    for text in batch["results"]
                ]
                yield ReplayStep(turns=int(sum(batch["turns"])), finished=finished)
        finally:
            if started_here:
                ray.shutdown()
