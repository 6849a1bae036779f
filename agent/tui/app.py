"""The terminal chat app: load the bot with a progress screen, then chat and inspect each reply's trace.

    ChatApp(bot_dir) ─▶ LoadingScreen  (loading thread: agent.tui.loader.load_agent, then a warm-up worker)
                     ├▶ ChatScreen     when the agent is ready (it sends what was typed while loading)
                     └▶ ErrorScreen    when the bot folder or the store is unusable (one line, exit status 2)

The app owns the loaded `Agent` and closes it when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, TypeVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.worker import WorkerFailed

from agent.exceptions import AgentError
from agent.pipeline.dialog import Agent
from agent.tui.chat import ChatScreen
from agent.tui.errors import ErrorScreen
from agent.tui.loader import WARM_DETAIL, LoadEvent, load_agent, warm_up
from agent.tui.loading import LoadingScreen, LoadProgress

DARK, LIGHT = "textual-dark", "textual-light"
T = TypeVar("T")


def new_session_id() -> str:
    return f"tui-{uuid.uuid4().hex[:12]}"


async def in_daemon_thread(work: Callable[[], T]) -> T:
    """Await `work()` run in a daemon thread.

    For loading only: Textual's thread workers run in asyncio's default executor,
    which is joined when the app ends, so Ctrl+Q during the first-run training
    would hang until training finished. A daemon thread lets the app end at once
    (tui.py then ends the process). `work` must not raise.
    """
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[T] = loop.create_future()

    def deliver(value: T) -> None:
        if not outcome.done():
            outcome.set_result(value)

    def run() -> None:
        value = work()
        with contextlib.suppress(RuntimeError):  # the app ended while loading: nobody is waiting any more
            loop.call_soon_threadsafe(deliver, value)

    threading.Thread(target=run, name="load-bot", daemon=True).start()
    return await outcome


class ChatApp(App[None]):
    """Chat with a bot in the terminal and see why it answered as it did."""

    TITLE = "support-agent"
    # Textual's defaults put footer keys and the input placeholder under 3:1 contrast in the light
    # theme; these keep every word on screen at 4.5:1 or more in both themes (tests/tui check it).
    CSS = """
    FooterKey .footer-key--key { color: $text-primary; }
    Input > .input--placeholder { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        bot_dir: str | Path = ".",
        *,
        store_url: str | None = None,
        export_dir: str | Path | None = None,
        session_ids: Callable[[], str] = new_session_id,
        theme: str = DARK,
    ) -> None:
        super().__init__()
        self.bot_dir = str(bot_dir)
        self.store_url = store_url
        self.export_dir = Path(export_dir) if export_dir is not None else Path.cwd()
        self.session_ids = session_ids
        self.theme = theme
        self.agent: Agent | None = None
        self.error: str | None = None  # why the bot could not start, once known
        self.load_running = False  # True while the bot loads (training cannot be interrupted)
        self._loading_screen = LoadingScreen(self.bot_dir)

    def on_mount(self) -> None:
        self.push_screen(self._loading_screen)
        self.load_running = True
        self.run_worker(self._load, name="load", exit_on_error=False)

    async def _load(self) -> None:
        """Load the bot in a daemon thread, warm it up in a thread worker, then show the chat (or the error)."""
        outcome = await in_daemon_thread(self._load_blocking)
        if isinstance(outcome, str):
            self.load_running = False
            self.error = outcome
            await self.switch_screen(ErrorScreen(outcome, self.bot_dir))
            return
        # Warm up through the same kind of thread worker that will answer (asyncio's default executor
        # reuses its idle thread), so lazy set-up is paid here and not on the customer's first message.
        self._loading_screen.apply(LoadEvent("warmup", "running", WARM_DETAIL))
        warm = self.run_worker(lambda: warm_up(outcome), thread=True, name="warm-up", exit_on_error=False)
        try:
            await warm.wait()
        except WorkerFailed as failed:  # not fatal: the first message will report the same problem in one line
            self._loading_screen.apply(LoadEvent("warmup", "skipped", f"failed: {failed.error}"))
        else:
            self._loading_screen.apply(LoadEvent("warmup", "done"))
        self.load_running = False
        self.agent = outcome
        self.title = outcome.config.name
        # What the customer sent or typed meanwhile goes on: sent in order, the unsent draft kept in the box.
        loading = self._loading_screen
        chat = ChatScreen(outcome, self.session_ids, self.export_dir, pending=loading.queued, draft=loading.draft)
        await self.switch_screen(chat)

    def _load_blocking(self) -> Agent | str:
        """The loaded agent, or the one-line reason it could not be loaded. Runs in the loading thread."""
        screen = self._loading_screen

        def report(event: LoadEvent) -> None:
            screen.post_message(LoadProgress(event))  # thread-safe

        try:
            # bars=True: training draws rich progress bars on stderr, which the loading screen captures.
            return load_agent(self.bot_dir, store_url=self.store_url, report=report, bars=True, warm=False)
        except AgentError as exc:
            return str(exc)
        except OSError as exc:  # e.g. a build folder that cannot be written: the user's to fix
            return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        except Exception as exc:  # a bug: still one line on screen, not a traceback over the UI
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return f"unexpected error (a bug, please report it): {type(exc).__name__} {first}".rstrip()

    def format_title(self, title: str, sub_title: str) -> Content:
        # Textual dims the sub-title, which falls under 4.5:1 in the light theme; it holds the
        # conversation id and its state (open / handoff), which must stay readable.
        if not sub_title:
            return Content.styled(title, "bold")
        return Content.assemble((title, "bold"), " — ", sub_title)

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    def on_unmount(self) -> None:
        if self.agent is not None:
            self.agent.close()
