"""Replaying conversations through a bot, many at once, and streaming the results to disk.

A conversation's customer turns are sequential (each sees the state the
previous one left), so batching goes across conversations: the runner keeps
up to `batch_size` conversations in flight and each step sends the next
customer turn of every one of them through `Agent.respond_batch` (one batched
encoding, one store transaction). A conversation that finishes is written out
and its slot is refilled from the log at once, so batches stay full until the
log runs dry (continuous batching, as in LLM serving).

Engines (this local one, `agent.replay.ray_engine`) yield `ReplayStep`s;
`drive` writes them and shows the progress bar, whichever engine produced them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

from agent.bot.schemas import CustomerTurn, LoggedConversation
from agent.exceptions import AgentError
from agent.pipeline.messages import check_session_id
from agent.replay.results import ResultsFile, TurnResult

SESSION_PREFIX = "replay:"
DEFAULT_BATCH_SIZE = 1024  # bigger batches sort into tighter padding (BENCHMARKS.md: replay throughput)


def session_id_for(conversation_id: str) -> str:
    """The replay session of a logged conversation: stable across runs, so `--resume` finds the same one."""
    candidate = SESSION_PREFIX + conversation_id
    try:
        return check_session_id(candidate)
    except AgentError:
        # Too long or not printable as a session id: a digest keeps it unique and stable.
        return SESSION_PREFIX + "#" + hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:40]


@dataclass
class ReplayStep:
    """What one batched step produced: customer turns answered and conversations now complete."""

    turns: int
    finished: list[list[TurnResult]] = field(default_factory=list)


@dataclass
class _InFlight:
    conversation: LoggedConversation
    session_id: str
    plan: list[CustomerTurn]
    rows: list[TurnResult] = field(default_factory=list)

    @property
    def next_turn(self) -> CustomerTurn:
        return self.plan[len(self.rows)]

    @property
    def done(self) -> bool:
        return len(self.rows) == len(self.plan)


class LocalEngine:
    """Replays in this process with one loaded `Agent` (whose store must be a replay store)."""

    def __init__(self, agent, batch_size: int = DEFAULT_BATCH_SIZE) -> None:  # type: ignore[no-untyped-def]
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.agent = agent
        self.batch_size = batch_size

    def steps(self, conversations: Iterable[LoggedConversation]) -> Iterator[ReplayStep]:
        """Replay every conversation; yields after each batched call."""
        pending = iter(conversations)
        flight: list[_InFlight] = []
        exhausted = False
        while True:
            while not exhausted and len(flight) < self.batch_size:
                conv = next(pending, None)
                if conv is None:
                    exhausted = True
                    break
                flight.append(_InFlight(conv, session_id_for(conv.conversation_id), conv.customer_turns()))
            if not flight:
                return
            messages = [(item.session_id, item.next_turn.text) for item in flight]
            started = time.perf_counter()
            replies = self.agent.respond_batch(messages)
            elapsed_ms = (time.perf_counter() - started) * 1000
            for item, reply in zip(flight, replies, strict=True):
                ordinal = len(item.rows)
                item.rows.append(
                    TurnResult.from_reply(
                        item.conversation.conversation_id,
                        item.next_turn,
                        ordinal,
                        len(item.plan),
                        reply,
                        batch_size=len(messages),
                        batch_ms=elapsed_ms,
                        masker=self.agent.masker,  # the lines are masked as the replay store is
                    )
                )
            step = ReplayStep(turns=len(messages), finished=[item.rows for item in flight if item.done])
            flight = [item for item in flight if not item.done]
            yield step


@dataclass
class RunStats:
    """How one run (or one resumed segment of a run) went."""

    conversations: int = 0
    turns: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def turns_per_second(self) -> float:
        return self.turns / self.seconds if self.seconds > 0 else 0.0

    @property
    def conversations_per_second(self) -> float:
        return self.conversations / self.seconds if self.seconds > 0 else 0.0


class ReplayProgress:
    """Two progress bars (conversations and customer turns), each with its rate per second."""

    def __init__(self, conversations: int, turns: int, enabled: bool = True) -> None:
        self.enabled = enabled
        self._totals = (conversations, turns)
        self._progress = None

    def __enter__(self) -> ReplayProgress:
        if self.enabled:
            from agent.progress import make_progress

            self._progress = make_progress()
            self._progress.__enter__()
            self._conv = self._progress.add_task("conversations", total=self._totals[0], rate="")
            self._turns = self._progress.add_task("customer turns", total=self._totals[1], rate="")
        return self

    def advance(self, conversations: int, turns: int) -> None:
        if self._progress is None:
            return
        for task_id, amount, unit in ((self._conv, conversations, "conv/s"), (self._turns, turns, "turns/s")):
            self._progress.advance(task_id, amount)
            task = self._progress.tasks[task_id]
            rate = task.completed / task.elapsed if task.elapsed else 0.0
            self._progress.update(task_id, rate=f"{rate:.1f} {unit}")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.__exit__(kind, exc, tb)


def drive(steps: Iterable[ReplayStep], results: ResultsFile, progress: ReplayProgress) -> RunStats:
    """Write each step's finished conversations as they come; on Ctrl-C the stats say what was kept."""
    stats = RunStats()
    started = time.perf_counter()
    try:
        with progress:
            for step in steps:
                results.write(step.finished)
                done_turns = sum(len(rows) for rows in step.finished)
                stats.conversations += len(step.finished)
                stats.turns += done_turns
                progress.advance(len(step.finished), step.turns)
    except KeyboardInterrupt:
        stats.interrupted = True
    finally:
        stats.seconds = time.perf_counter() - started
    return stats
