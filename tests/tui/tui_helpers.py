"""Helpers for driving the terminal app with Textual's real pilot (headless, real agent, real store).

Tests are plain functions that run one async scenario with `asyncio.run`, so
no async pytest plugin is needed.
"""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input

from agent.tui.app import ChatApp
from agent.tui.chat import ChatScreen

LOAD_TIMEOUT_S = 120.0  # loading shares 2 cores with the rest of the suite; generous, never hit normally


def run(scenario: Awaitable[Any]) -> Any:
    """Run one async pilot scenario to completion."""
    return asyncio.run(scenario)  # type: ignore[arg-type]


def screen_text(app: ChatApp) -> str:
    """What the terminal shows right now, as plain text (one line per row)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None)
    # The compositor's full update is exactly what the driver writes to the terminal.
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def wait_until(pilot: Pilot, done: Callable[[], bool], timeout: float = LOAD_TIMEOUT_S) -> None:
    """Let the app run until `done()` holds; fails the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for the app")
        await pilot.pause(0.05)


async def wait_loaded(pilot: Pilot) -> ChatScreen:
    """Wait for the chat screen (the agent loaded); fails with the app's error if it could not start."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) or app.error is not None)
    assert app.error is None, f"the app could not start: {app.error}"
    await pilot.pause()
    assert isinstance(app.screen, ChatScreen)
    return app.screen


@asynccontextmanager
async def started(app: ChatApp, size: tuple[int, int] = (100, 30)) -> AsyncIterator[Pilot]:
    """The app running headless at `size`, its bot loaded and the chat screen up."""
    async with app.run_test(size=size) as pilot:
        await wait_loaded(pilot)
        yield pilot


async def settle(pilot: Pilot) -> None:
    """Wait for every worker (replies, store reads, exports) and the messages they post."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def send(pilot: Pilot, text: str, *, type_it: bool = True) -> ChatScreen:
    """Type `text` into the message box (or set it, for long texts), press Enter, wait for the reply."""
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    if type_it:
        await pilot.press(*text)
    else:
        screen.query_one("#message", Input).value = text
    await pilot.press("enter")
    await settle(pilot)
    return screen


def app_factory(demo_bot_dir: Path, tmp_path: Path) -> Callable[..., ChatApp]:
    """Builds ChatApps on the trained demo bot with a store in `tmp_path` and session ids tui-test-1, -2, ..."""
    counter = itertools.count(1)

    def factory(**overrides: Any) -> ChatApp:
        options: dict[str, Any] = {
            "store_url": f"sqlite:///{tmp_path / 'tui.db'}",
            "export_dir": tmp_path,
            "session_ids": lambda: f"tui-test-{next(counter)}",
        }
        options.update(overrides)
        bot = options.pop("bot_dir", demo_bot_dir)
        return ChatApp(bot, **options)

    return factory
