"""The loading screen: a checklist of start-up steps, overall progress, a live log and a ticking clock.

The work itself runs in a thread (see `ChatApp`); this screen only shows the
`LoadEvent`s it reports, so it keeps redrawing (the elapsed time ticks) even
while the demo bot trains for half a minute on first run. Whatever the thread
prints (the encoder's and classifier's rich progress bars, with counts and
rates) is captured and its latest line shown under the checklist.

The message box is live from the start: what the customer sends while the bot
loads waits in `queued` (the screen says how many) and what is typed but not sent
stays in `draft`; the chat screen sends the one and keeps the other when it opens.
"""

from __future__ import annotations

import re
import time
from collections import deque
from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Log, ProgressBar, Static

from agent.tui.loader import STEPS, LoadEvent

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
# Terminal control sequences (cursor moves, colours) in captured progress-bar output.
CONTROL_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
ICONS = {"pending": ("·", "$text-muted"), "done": ("✓", "$text-success"), "skipped": ("–", "$text-muted")}


class LoadProgress(Message):
    """A loading step reported progress (posted from the loading thread)."""

    def __init__(self, event: LoadEvent) -> None:
        super().__init__()
        self.event = event


class LoadingScreen(Screen[None]):
    """Shown while the bot is read, trained (first run) and its models loaded."""

    DEFAULT_CSS = """
    LoadingScreen { align: center middle; }
    LoadingScreen #loading-box {
        width: 90%; max-width: 100; height: auto; max-height: 100%;
        border: round $primary; padding: 0 1; background: $surface;
    }
    LoadingScreen #loading-title { text-style: bold; color: $text-primary; margin-bottom: 1; }
    LoadingScreen .step { height: 1; }
    LoadingScreen #loading-bar { margin: 1 0 0 0; }
    LoadingScreen #loading-current { height: 1; color: $text-muted; }
    LoadingScreen #loading-live { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    LoadingScreen #loading-log { height: 6; border: none; background: $surface; color: $text-muted; }
    LoadingScreen #loading-queued { height: auto; color: $text-primary; }
    """

    def __init__(self, bot_dir: str) -> None:
        super().__init__()
        self.bot_dir = bot_dir
        self.status: dict[str, str] = {key: "pending" for key, _ in STEPS}
        self.details: dict[str, str] = {key: "" for key, _ in STEPS}
        self.started = time.monotonic()
        self.step_started = self.started
        self.events: list[LoadEvent] = []  # everything reported, in order
        self.live_line = ""  # the latest line printed while loading (a progress bar)
        self.printed: deque[str] = deque(maxlen=200)  # recent printed lines, oldest first
        self.queued: list[str] = []  # messages sent while loading, oldest first: the chat sends them when ready
        self._frame = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="loading-box"):
            yield Static(f"Starting the bot in {Path(self.bot_dir).resolve()}", id="loading-title", markup=False)
            for key, _ in STEPS:
                yield Static(self._step_line(key), id=f"step-{key}", classes="step")
            yield ProgressBar(total=len(STEPS), show_eta=False, id="loading-bar")
            yield Static("", id="loading-current")
            yield Static("", id="loading-live")
            yield Log(id="loading-log", max_lines=200, auto_scroll=True)
            yield Input(placeholder="Type a message: it is sent as soon as the bot is ready", id="early-message")
            yield Static("", id="loading-queued")
        yield Footer()

    def on_mount(self) -> None:
        # A timer, not the worker, drives the spinner: the screen visibly lives while the thread works.
        self.set_interval(0.1, self._tick)
        self.app.begin_capture_print(self, stdout=True, stderr=True)
        self.query_one("#early-message", Input).focus()

    def on_unmount(self) -> None:
        self.app.end_capture_print(self)

    def on_print(self, event: events.Print) -> None:
        """Show the latest line the loading thread printed (a progress bar redraws the same line)."""
        text = CONTROL_SEQUENCE.sub("", event.text)
        # The bar itself is drawn by our ProgressBar already; keep the words and numbers (count, %, rate, times).
        text = re.sub(r"[━╸╺╾╼█▉▊▋▌▍▎▏|]+", " ", text)
        lines = [" ".join(line.split()) for line in re.split(r"[\r\n]", text) if line.strip()]
        if lines:
            self.printed.extend(lines)
            self.live_line = lines[-1]
            self.query_one("#loading-live", Static).update(Content(self.live_line))

    @property
    def draft(self) -> str:
        """What is typed in the message box and not sent yet."""
        return self.query_one("#early-message", Input).value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Keep a message sent before the bot is ready; it goes out, in order, once the chat opens."""
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        self.queued.append(text)
        count = len(self.queued)
        waiting = "1 message waits" if count == 1 else f"{count} messages wait"
        self.query_one("#loading-queued", Static).update(
            Content(f"{waiting}: sent as soon as the bot is ready (last: {text[:60]})")
        )

    def on_load_progress(self, message: LoadProgress) -> None:
        self.apply(message.event)

    def apply(self, event: LoadEvent) -> None:
        """Show one progress event: update the step's line, the bar and the log."""
        before = self.status.get(event.step)
        if before is None:
            return
        self.events.append(event)
        if event.status == "running" and before != "running":
            self.step_started = time.monotonic()
        self.status[event.step] = event.status
        if event.detail:
            self.details[event.step] = event.detail
            self.query_one("#loading-log", Log).write_line(f"{event.step}: {event.detail}")
        self.query_one(f"#step-{event.step}", Static).update(self._step_line(event.step))
        finished = sum(1 for state in self.status.values() if state in ("done", "skipped"))
        self.query_one("#loading-bar", ProgressBar).update(progress=finished)
        self._tick()

    @property
    def text(self) -> str:
        """The checklist as plain text (what a user reads; used by tests)."""
        return "\n".join(self._step_line(key).plain for key, _ in STEPS)

    def _step_line(self, key: str) -> Content:
        title = dict(STEPS)[key]
        state = self.status[key]
        if state == "running":
            icon, style = SPINNER[self._frame % len(SPINNER)], "$text-accent"
        else:
            icon, style = ICONS[state]
        detail = self.details[key]
        return Content.assemble(
            (f" {icon} ", f"bold {style}"),
            (title, "bold" if state == "running" else ""),
            (f"  {detail}" if detail else "", "$text-muted"),
        )

    def _tick(self) -> None:
        self._frame += 1
        running = [key for key, state in self.status.items() if state == "running"]
        now = time.monotonic()
        for key in running:
            self.query_one(f"#step-{key}", Static).update(self._step_line(key))
        label = dict(STEPS)[running[0]] if running else "Starting"
        self.query_one("#loading-current", Static).update(
            Content(f"{label}: {now - self.step_started:.1f} s (total {now - self.started:.1f} s)")
        )
