"""The screen shown when the bot cannot start: the one-line reason, what to do, how to leave.

A bad bot folder or a store that cannot be opened is the user's to fix, so it
gets the same one line `python -m agent` prints (file, line, field), never a
traceback. Quitting from here ends the program with status 2, like the CLI.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static


class ErrorScreen(Screen[None]):
    """Explains why the bot could not be started."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape,enter", "leave", "Quit", show=False),  # ^q Quit (the app's) is in the footer
    ]

    DEFAULT_CSS = """
    ErrorScreen { align: center middle; }
    ErrorScreen #error-box {
        width: 90%; max-width: 110; height: auto; border: heavy $error; padding: 1 2; background: $surface;
    }
    ErrorScreen #error-title { text-style: bold; color: $text-error; margin-bottom: 1; }
    ErrorScreen #error-message { margin-bottom: 1; }
    ErrorScreen #error-hint { color: $text-muted; }
    """

    def __init__(self, message: str, bot_dir: str) -> None:
        super().__init__()
        self.message = message
        self.bot_dir = bot_dir

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Static(Content("The bot could not be started"), id="error-title")
            yield Static(Content(f"error: {self.message}"), id="error-message")
            yield Static(
                Content(
                    f"Fix what the line above names, then run `python tui.py --bot {self.bot_dir}` again. "
                    "Press q to quit."
                ),
                id="error-hint",
            )
        yield Footer()

    def action_leave(self) -> None:
        self.app.exit(return_code=2)
