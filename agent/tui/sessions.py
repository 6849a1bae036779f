"""Past conversations from the store: pick one to reopen or export.

The list is read in a thread worker (a PostgreSQL store may be across a
network), most recently active first, with each conversation's status, size
and first message so a person can tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static
from textual.worker import WorkerFailed

from agent.bot.text import without_direction_controls
from agent.exceptions import AgentError
from agent.storage.store import Store

LIST_LIMIT = 200
PREVIEW_CHARS = 48

Choice = tuple[Literal["open", "export"], str]


@dataclass(frozen=True)
class ConversationRow:
    """What the list shows for one stored conversation."""

    id: str
    status: str
    updated_at: datetime
    turns: int
    first_message: str


def list_conversations(store: Store, limit: int = LIST_LIMIT) -> list[ConversationRow]:
    """The store's conversations, most recently active first, with their size and first message."""
    rows = []
    for summary in store.list_conversations(limit=limit):
        record = store.conversation(summary.id)
        turns = record.turns if record is not None else []
        # Conversations stored before direction controls were cleaned out may still hold them.
        first = without_direction_controls(next((t.text for t in turns if t.role == "customer"), ""))
        rows.append(ConversationRow(summary.id, summary.status, summary.updated_at, len(turns), first))
    return rows


class SessionsScreen(ModalScreen[Choice | None]):
    """A table of past conversations; Enter reopens the highlighted one, e exports it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Back"),
        Binding("enter", "choose('open')", "Open", show=True, priority=True),
        Binding("e", "choose('export')", "Export JSONL"),
    ]

    DEFAULT_CSS = """
    SessionsScreen { align: center middle; }
    SessionsScreen #sessions-box {
        width: 96%; max-width: 130; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    SessionsScreen #sessions-title { text-style: bold; color: $text-primary; }
    SessionsScreen #sessions-status { color: $text-muted; height: auto; }
    SessionsScreen DataTable { height: 1fr; }
    """

    def __init__(self, store: Store, current: str | None = None) -> None:
        super().__init__()
        self.store = store
        self.current = current
        self.rows: list[ConversationRow] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="sessions-box"):
            yield Static(Content("Past conversations"), id="sessions-title")
            yield Static(Content("Reading the store…"), id="sessions-status")
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, id="sessions-table")
            table.add_columns("conversation", "status", "last active", "turns", "first message")
            yield table
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._read(), group="sessions", exit_on_error=False)

    async def _read(self) -> None:
        status = self.query_one("#sessions-status", Static)
        reader = self.run_worker(lambda: list_conversations(self.store), thread=True, exit_on_error=False)
        try:
            self.rows = await reader.wait()
        except WorkerFailed as failed:  # e.g. the database went away: say so instead of crashing the chat
            error = failed.error
            why = str(error)
            if not isinstance(error, AgentError):
                why = f"cannot read the store: {type(error).__name__} {why}"
            why = why if len(why) <= 200 else why[:199] + "…"
            status.update(Content.styled(f"error: {why}", "$text-error"))
            return
        table = self.query_one("#sessions-table", DataTable)
        table.clear()
        for row in self.rows:
            marker = " (current)" if row.id == self.current else ""
            preview = row.first_message if len(row.first_message) <= PREVIEW_CHARS else row.first_message[:47] + "…"
            table.add_row(
                row.id + marker,
                row.status,
                row.updated_at.strftime("%Y-%m-%d %H:%M"),
                str(row.turns),
                preview,
                key=row.id,
            )
        count = len(self.rows)
        status.update(
            Content(f"{count} conversation{'s' if count != 1 else ''}; Enter opens, e exports, Esc goes back")
            if count
            else Content("No conversations stored yet. Esc goes back.")
        )
        table.focus()

    def action_choose(self, what: Literal["open", "export"]) -> None:
        table = self.query_one("#sessions-table", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return
        self.dismiss((what, self.rows[table.cursor_row].id))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
