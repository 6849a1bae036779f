"""Asking where to export a conversation, and the export itself (the log format of agent.storage.conversation_log)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from agent.exceptions import DatasetError
from agent.storage.conversation_log import append_jsonl, from_record
from agent.storage.store import Store


@dataclass(frozen=True)
class ExportResult:
    path: Path
    conversation_id: str
    turns: int
    appended: bool  # the file existed and now holds one more line


def export_conversation(store: Store, conversation_id: str, path: str | Path) -> ExportResult:
    """Append one stored conversation to a JSONL replay file; raises DatasetError with the reason."""
    record = store.conversation(conversation_id)
    if record is None:
        raise DatasetError(f"Conversation '{conversation_id}' is not in the store; send a message first.")
    target = Path(path).expanduser()
    if target.is_dir():
        raise DatasetError(f"{target} is a folder; give a file name such as {target / (conversation_id + '.jsonl')}.")
    existed = target.exists()
    conversation = from_record(record)
    append_jsonl([conversation], target)
    return ExportResult(target, conversation_id, len(conversation.turns), existed)


def default_export_path(folder: Path, conversation_id: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in conversation_id)
    return folder / f"conversation-{safe}.jsonl"


class ExportScreen(ModalScreen[Path | None]):
    """A one-field dialog: the JSONL file to append the conversation to."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen #export-box {
        width: 90%; max-width: 110; height: auto; border: round $primary; background: $surface; padding: 0 1;
    }
    ExportScreen #export-title { text-style: bold; color: $text-primary; }
    ExportScreen .hint { color: $text-muted; }
    """

    def __init__(self, conversation_id: str, path: Path) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(Content(f"Export conversation {self.conversation_id} as JSONL"), id="export-title")
            yield Static(
                Content("One line in the replay format; an existing file gets the line appended."), classes="hint"
            )
            yield Input(value=str(self.path), id="export-path")
            yield Static(Content("Enter exports, Esc cancels."), classes="hint")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if value:
            self.dismiss(Path(value))

    def action_cancel(self) -> None:
        self.dismiss(None)
