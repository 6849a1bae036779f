"""The main screen: the conversation, the input box and the trace of the selected reply.

Every call into the agent (respond, reading or exporting a stored
conversation) runs in a Textual thread worker, awaited by an async worker, so
typing, scrolling and selecting stay live while the models work. Messages sent
while a reply is on its way wait in a queue and are answered in order, and so are
those sent on the loading screen before the bot was ready.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import WorkerFailed

from agent.exceptions import AgentError
from agent.pipeline.dialog import Agent
from agent.storage.store import ConversationRecord
from agent.tui.export import ExportResult, ExportScreen, default_export_path, export_conversation
from agent.tui.sessions import Choice, SessionsScreen
from agent.tui.trace import Thresholds
from agent.tui.trace_panel import TracePanel
from agent.tui.transcript import RATED, MessageView, Transcript
from agent.types import Feedback, Rating

HANDOFF_TEXT = (
    "⚑ Handed over to a person: a member of the team answers here from now on; "
    "the bot no longer replies on its own. Ctrl+N starts a new conversation."
)


REPLY_KEYS = Binding.Group("Reply", compact=True)
RATE_KEYS = Binding.Group("Rate", compact=True)  # the footer's "^g^b Rate": good / bad reply


class MessageInput(Input):
    """The message box; ↑/↓ select the previous/next reply (an Input would only scroll itself)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "screen.select_reply(-1)", "Previous reply", key_display="↑", group=REPLY_KEYS),
        Binding("down", "screen.select_reply(1)", "Next reply", key_display="↓", group=REPLY_KEYS),
    ]


class ChatScreen(Screen[None]):
    """Chat with the loaded agent and see why each reply was given."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+o", "open_conversation", "History"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+g", "rate('up')", "Good reply", group=RATE_KEYS),
        Binding("ctrl+b", "rate('down')", "Bad reply", group=RATE_KEYS),
    ]

    DEFAULT_CSS = """
    ChatScreen #main { height: 1fr; }
    ChatScreen #conversation { width: 1fr; min-width: 36; }
    ChatScreen #trace { width: 42%; min-width: 34; max-width: 64; }
    ChatScreen #handoff-banner {
        display: none; height: auto; padding: 0 1; background: $warning; color: $text;
        text-style: bold;
    }
    ChatScreen.-handoff #handoff-banner { display: block; }
    """

    def __init__(
        self,
        agent: Agent,
        new_session_id: Callable[[], str],
        export_dir: Path,
        *,
        pending: Sequence[str] = (),
        draft: str = "",
    ) -> None:
        """`pending`: messages sent before the screen opened (while the bot loaded), sent first, in order;
        `draft`: text typed but not sent, left in the message box."""
        super().__init__()
        self.agent = agent
        self.new_session_id = new_session_id
        self.export_dir = export_dir
        self.session_id = new_session_id()
        self.status = "new"  # new (nothing stored yet), open, handoff, ended
        self._queue: deque[tuple[str, str, float]] = deque()
        self._busy = False
        self.last_latency_s: float | None = None  # Enter to reply shown, for the latest reply
        self._pending = list(pending)
        self._draft = draft

    def compose(self) -> ComposeResult:
        intents, faq = self.agent.config.intents, self.agent.config.faq
        thresholds = Thresholds(intents.confident, intents.oos_threshold, faq.answer_threshold)
        yield Header(show_clock=False)
        with Horizontal(id="main"):
            with Vertical(id="conversation"):
                yield Static(Content(HANDOFF_TEXT), id="handoff-banner")
                yield Transcript(id="transcript")
                yield MessageInput(placeholder="Type a message and press Enter", id="message")
            yield TracePanel(thresholds, id="trace")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.start_conversation(self.session_id)
        box = self.query_one("#message", Input)
        box.value = self._draft
        box.cursor_position = len(self._draft)
        box.focus()
        for text in self._pending:
            self.submit(text)
        self._pending = []

    # --- widgets ---------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        return self.query_one("#transcript", Transcript)

    @property
    def trace_panel(self) -> TracePanel:
        return self.query_one("#trace", TracePanel)

    def _set_status(self, status: str) -> None:
        self.status = status
        self.set_class(status == "handoff", "-handoff")
        self.query_one("#message", Input).placeholder = (
            "Handed over: write to the support team" if status == "handoff" else "Type a message and press Enter"
        )
        self.app.sub_title = f"{self.session_id} · {status}"

    # --- conversations ---------------------------------------------------------

    def start_conversation(self, session_id: str) -> None:
        """Show an empty conversation with the bot's greeting (nothing is stored until the first message)."""
        self.session_id = session_id
        self.transcript.clear()
        self.transcript.add("bot", self.agent.config.persona.greeting)
        self.trace_panel.show(None)
        self._set_status("new")

    def action_new_conversation(self) -> None:
        self.start_conversation(self.new_session_id())
        self.notify(f"New conversation {self.session_id}", timeout=3)

    def action_open_conversation(self) -> None:
        self.app.push_screen(SessionsScreen(self.agent.store, self.session_id), self._chosen)

    def _chosen(self, choice: Choice | None) -> None:
        if choice is None:
            return
        what, conversation_id = choice
        if what == "open":
            self.run_worker(self._reopen(conversation_id), group="reopen", exit_on_error=False)
        else:
            self._ask_export(conversation_id)

    def show_record(self, record: ConversationRecord) -> None:
        """Replace the transcript with a stored conversation and continue it."""
        self.session_id = record.id
        self.transcript.clear()
        for turn in record.turns:
            role = "customer" if turn.role == "customer" else "bot"
            rating = turn.feedback.rating if turn.feedback is not None else None
            self.transcript.add(role, turn.text, turn.trace, rating=rating)
        replies = self.transcript.replies
        self.transcript.select(replies[-1] if replies else None)
        self._set_status(record.status)

    # --- sending ---------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "message":
            return
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        self.submit(text)

    def submit(self, text: str) -> None:
        """Show the customer's message and send it (after the replies still on their way)."""
        self.transcript.add("customer", text)
        self._queue.append((self.session_id, text, time.perf_counter()))
        self._send_next()

    def _send_next(self) -> None:
        if self._busy or not self._queue:
            return
        session_id, text, entered = self._queue.popleft()
        self._busy = True
        self.transcript.set_pending(session_id == self.session_id)
        self.run_worker(self._respond(session_id, text, entered), group="respond", exit_on_error=False)

    async def _respond(self, session_id: str, text: str, entered: float) -> None:
        reply, error = await self._call(lambda: self.agent.respond(session_id, text))
        self._busy = False
        self.transcript.set_pending(False)
        if session_id == self.session_id:  # the customer may have switched conversations meanwhile
            if error is not None:
                self.transcript.add("note", f"error: {error}")
            else:
                self.transcript.add("bot", reply.text, reply.trace(), select=True)
                if reply.handoff:
                    self._set_status("handoff")
                elif self.status in ("new", "ended"):
                    self._set_status("open")
                self.last_latency_s = time.perf_counter() - entered
        self._send_next()

    # --- export ----------------------------------------------------------------

    def action_export(self) -> None:
        if self.status == "new":
            self.notify("Nothing to export yet: send a message first.", severity="warning")
            return
        self._ask_export(self.session_id)

    def _ask_export(self, conversation_id: str) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.run_worker(self._export(conversation_id, path), group="export", exit_on_error=False)

        self.app.push_screen(
            ExportScreen(conversation_id, default_export_path(self.export_dir, conversation_id)), chosen
        )

    # --- calls into the agent (thread workers) ---------------------------------

    async def _call(self, work: Callable[[], Any]) -> tuple[Any, str | None]:
        """Run `work` in a thread worker and wait for it: (result, None), or (None, a one-line error)."""
        worker = self.run_worker(work, thread=True, group="agent", exit_on_error=False)
        try:
            return await worker.wait(), None
        except WorkerFailed as failed:
            if isinstance(failed.error, AgentError):
                return None, str(failed.error)
            # A bug or a lost database connection: report it in one line, keep the chat running.
            return None, _bug(failed.error)

    async def _reopen(self, conversation_id: str) -> None:
        record, error = await self._call(lambda: self.agent.conversation(conversation_id))
        if error is not None:
            self.notify(f"error: {error}", severity="error", timeout=8)
        elif record is None:
            self.notify(f"Conversation {conversation_id} is no longer in the store.", severity="error")
        else:
            self.show_record(record)

    async def _export(self, conversation_id: str, path: Path) -> None:
        store = self.agent.store
        result, error = await self._call(lambda: export_conversation(store, conversation_id, path))
        if error is not None:
            self.notify(f"error: {error}", severity="error", timeout=8)
            return
        assert isinstance(result, ExportResult)
        verb = "Appended" if result.appended else "Exported"
        self.notify(f"{verb} {result.turns} turns of {result.conversation_id} to {result.path}", timeout=6)

    # --- feedback --------------------------------------------------------------

    def action_rate(self, rating: Rating) -> None:
        """Mark the selected reply good or bad; the store keeps it with the reply (as the widget's thumbs do)."""
        view = self.transcript.selected
        replies = self.transcript.replies
        if view is None or view not in replies:
            self.notify("Select a reply first (↑/↓), then rate it.", severity="warning")
            return
        index = replies.index(view)
        self.run_worker(self._rate(self.session_id, index, rating, view), group="rate", exit_on_error=False)

    async def _rate(self, session_id: str, index: int, rating: Rating, view: MessageView) -> None:
        def work() -> Feedback | None:
            # The n-th reply with a trace on screen is the n-th stored one: the greeting is never stored.
            record = self.agent.conversation(session_id)
            stored = [t for t in record.turns if t.role == "bot" and t.trace is not None] if record else []
            return self.agent.rate(session_id, stored[index].seq, rating) if index < len(stored) else None

        kept, error = await self._call(work)
        if error is not None:
            self.notify(f"error: {error}", severity="error", timeout=8)
        elif kept is None:
            self.notify("That reply is not in the store.", severity="error")
        else:
            view.rate(rating)
            self.notify(f"Reply {index + 1} {RATED[rating]}.", timeout=3)

    # --- selection -------------------------------------------------------------

    def action_select_reply(self, step: int) -> None:
        self.transcript.select_offset(step)

    def on_transcript_selected(self, message: Transcript.Selected) -> None:
        view: MessageView | None = message.view
        if view is None or view.trace is None:
            self.trace_panel.show(None)
            return
        replies = self.transcript.replies
        position = replies.index(view) + 1 if view in replies else len(replies)
        self.trace_panel.show(view.trace, f"reply {position} of {len(replies)}")


def _bug(exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"unexpected error (a bug, please report it): {type(exc).__name__}{': ' + first if first else ''}"
