"""Starting a bot step by step, reporting progress as it goes (no Textual here: the app runs it in a thread).

    read the bot folder ─▶ train what is stale (first run) ─▶ load the models ─▶ warm up (no writes)

Each step reports a `LoadEvent` ("running" with details while it works, then
"done" or "skipped"), which the loading screen turns into a checklist and a
live log. Training prints through a rich Console whose lines become events, so
the screen shows the same lines `python -m agent train` prints. With
`bars=True` the encoder and the classifier also draw their rich progress bars
(count, rate, time left) on stderr, which the app captures and shows live.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console

from agent.pipeline.artifacts import stale_artifacts
from agent.pipeline.assemble import load_bot
from agent.pipeline.dialog import Agent
from agent.storage.store import Store
from agent.training.build import build, load_trained
from agent.types import SessionState, Turn

StepStatus = Literal["running", "done", "skipped"]
WARM_STEPS = ("encoder", "intent", "faq", "graph", "sentiment")  # the pipeline's local, read-only head
WARM_DETAIL = "one message through " + ", ".join(WARM_STEPS)

# (key, title) in the order they run.
STEPS: tuple[tuple[str, str], ...] = (
    ("folder", "Read the bot folder"),
    ("train", "Train the bot"),
    ("models", "Load the models"),
    ("warmup", "Warm up"),
)


@dataclass(frozen=True)
class LoadEvent:
    """Progress of one loading step."""

    step: str  # a key of STEPS
    status: StepStatus
    detail: str = ""


Reporter = Callable[[LoadEvent], None]


class _LineWriter(io.TextIOBase):
    """A text stream that calls `on_line` for every complete, non-blank line written to it."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        super().__init__()
        self._on_line = on_line
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if line.strip():
                self._on_line(line.rstrip())
        return len(text)


def line_console(on_line: Callable[[str], None]) -> Console:
    """A plain-text rich Console that hands each printed line to `on_line`."""
    return Console(
        file=_LineWriter(on_line),
        width=200,
        color_system=None,
        force_terminal=False,
        highlight=False,
        soft_wrap=True,
    )


def load_agent(
    bot_dir: str | Path,
    *,
    store_url: str | None = None,
    report: Reporter | None = None,
    bars: bool = False,
    warm: bool = True,
) -> Agent:
    """Load (training first if stale) the bot in `bot_dir`, reporting each step; raises AgentError on bad input.

    With `warm=False` the last step is left to the caller (the app warms up on the thread that will answer).
    """
    emit: Reporter = report or (lambda _event: None)
    emit(LoadEvent("folder", "running", str(bot_dir)))
    bot = load_bot(bot_dir)
    emit(
        LoadEvent(
            "folder",
            "done",
            f"{bot.config.name}: {len(bot.intent_names())} intents, {len(bot.faq.faqs)} FAQ entries",
        )
    )

    stale = stale_artifacts(bot)
    if stale:
        took = "a few minutes (the decoder is fine-tuned)" if "decoder" in stale else "~30 s"
        emit(LoadEvent("train", "running", f"{', '.join(stale)} missing or out of date; the first run takes {took}"))
        store = Store(store_url or bot.store_url)
        try:
            console = line_console(lambda line: emit(LoadEvent("train", "running", line)))
            report_ = build(bot, store=store, progress=bars, console=console)
        finally:
            store.close()
        emit(LoadEvent("train", "done", f"built {', '.join(report_.built) or 'nothing'} in {report_.seconds:.0f} s"))
    else:
        emit(LoadEvent("train", "skipped", "the build is up to date"))

    emit(LoadEvent("models", "running", "sentence encoder, intent classifier, FAQ index, knowledge graph"))
    # load_trained, not Agent.load: if a file changed between the check above and now, it is rebuilt, not refused.
    agent = load_trained(bot.path, store_url=store_url, progress=False)
    emit(LoadEvent("models", "done", f"store: {agent.store.url}"))

    if warm:
        emit(LoadEvent("warmup", "running", WARM_DETAIL))
        try:
            warm_up(agent)
        except BaseException:
            agent.close()
            raise
        emit(LoadEvent("warmup", "done"))
    return agent


def warm_up(agent: Agent) -> None:
    """Run one message through the local read-only steps, so the customer's first message is not the slow one.

    First calls pay for lazy set-up (torch kernels for a new shape, the FAISS
    search, the first store connection): ~100 ms on a quiet machine, seconds
    on a loaded one. Nothing is written: the steps annotate a throwaway turn, the
    store is only read. Steps after these (policy, decoder) are left alone: a
    remote decoder should not be called before a customer asks anything.
    """
    turn = Turn(session_id="tui-warm-up", text="how much does it cost to pay by card abroad?", state=SessionState())
    for step in agent.steps:
        if step.name not in WARM_STEPS:
            break
        step([turn])
    agent.store.load_states([turn.session_id])
