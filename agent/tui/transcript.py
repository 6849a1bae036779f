"""The conversation: customer and bot messages, notes, a typing indicator, and which reply is selected.

Only bot replies that carry a trace can be selected; selecting one posts
`Transcript.Selected`, which the chat screen answers by showing its trace.
Message text is never parsed as markup: a customer typing "[bold]" sees it as typed, and
never with Unicode direction controls, which would redraw it in another order (agent/bot/text.py;
conversations stored before the edge removed them may hold some).
"""

from __future__ import annotations

from typing import Literal

from textual import events
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from agent.bot.text import without_direction_controls
from agent.types import Rating, Trace

Role = Literal["customer", "bot", "note", "pending"]
LABELS = {"customer": "You", "bot": "Bot", "note": "Note", "pending": "Bot"}
RATED = {"up": "rated good", "down": "rated bad"}


def summary(trace: Trace) -> str:
    """One line under a reply: source, intent with confidence, total time."""
    parts = [trace.source]
    if trace.intent:
        parts.append(f"{trace.intent} {trace.confidence:.2f}")
    total = trace.timings_ms.get("total")
    if total is not None:
        parts.append(f"{total:.0f} ms")
    return " · ".join(parts)


class MessageView(Static):
    """One message in the transcript."""

    DEFAULT_CSS = """
    MessageView { margin: 0 0 1 0; padding: 0 1; width: 100%; }
    MessageView.-customer { border-left: outer $primary; background: $primary-muted; margin-left: 4; }
    MessageView.-bot { border-left: outer $secondary; margin-right: 2; }
    MessageView.-note { color: $text-error; border-left: outer $error; }
    MessageView.-pending { color: $text-muted; }
    MessageView.-selected { border-left: outer $accent; background: $boost; }
    """

    def __init__(self, role: Role, text: str, trace: Trace | None = None, rating: Rating | None = None) -> None:
        self.role: Role = role
        self.message = without_direction_controls(text)
        self.trace = trace
        self.rating = rating  # the reply's stored rating (ctrl+g / ctrl+b), shown after its summary
        super().__init__(self._content(), classes=f"-{role}", markup=False)

    def rate(self, rating: Rating) -> None:
        self.rating = rating
        self.update(self._content())

    def _content(self) -> Content:
        label_style = {"customer": "bold $text-primary", "bot": "bold"}.get(self.role, "bold")
        parts: list[str | tuple[str, str]] = [(LABELS[self.role], label_style), "\n", self.message]
        if self.trace is not None:
            rated = f" · {RATED[self.rating]}" if self.rating else ""
            parts.append(("\n" + summary(self.trace) + rated, "$text-muted"))
        return Content.assemble(*parts)

    @property
    def selectable(self) -> bool:
        return self.role == "bot" and self.trace is not None

    def on_click(self, event: events.Click) -> None:
        if self.selectable:
            event.stop()
            self.post_message(Transcript.Select(self))


class Transcript(VerticalScroll, can_focus=True):
    """The scrolling list of messages of the current conversation."""

    DEFAULT_CSS = """
    Transcript { padding: 0 1; background: $background; }
    """

    class Select(Message):
        """A reply asks to be selected (it was clicked)."""

        def __init__(self, view: MessageView) -> None:
            super().__init__()
            self.view = view

    class Selected(Message):
        """The selected reply changed (None: nothing selected)."""

        def __init__(self, view: MessageView | None) -> None:
            super().__init__()
            self.view = view

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected: MessageView | None = None
        self._pending: MessageView | None = None

    # --- adding messages -------------------------------------------------------

    def add(
        self, role: Role, text: str, trace: Trace | None = None, select: bool = False, rating: Rating | None = None
    ) -> MessageView:
        """Append a message; a bot reply with `select=True` becomes the selected one."""
        view = MessageView(role, text, trace, rating)
        if self._pending is not None and self._pending.parent is self:
            self.mount(view, before=self._pending)  # the typing indicator stays last
        else:
            self.mount(view)
        if select and view.selectable:
            self.select(view)
        self.call_after_refresh(self.scroll_end, animate=False)
        return view

    def set_pending(self, waiting: bool) -> None:
        """Show or hide the 'Bot is typing' line at the end."""
        if waiting and self._pending is None:
            self._pending = MessageView("pending", "…")
            self.mount(self._pending)
            self.call_after_refresh(self.scroll_end, animate=False)
        elif not waiting and self._pending is not None:
            self._pending.remove()
            self._pending = None

    def clear(self) -> None:
        self._pending = None
        self.remove_children()
        self.select(None)

    # --- selection -------------------------------------------------------------

    @property
    def replies(self) -> list[MessageView]:
        """Selectable replies, oldest first."""
        return [view for view in self.query(MessageView) if view.selectable]

    def select(self, view: MessageView | None) -> None:
        if self.selected is not None:
            self.selected.remove_class("-selected")
        self.selected = view
        if view is not None:
            view.add_class("-selected")
            view.scroll_visible(animate=False)
        self.post_message(self.Selected(view))

    def select_offset(self, step: int) -> None:
        """Select the reply `step` places after (negative: before) the selected one."""
        replies = self.replies
        if not replies:
            return
        if self.selected not in replies:
            self.select(replies[-1])
            return
        index = replies.index(self.selected) + step
        self.select(replies[max(0, min(len(replies) - 1, index))])

    def on_transcript_select(self, message: Select) -> None:
        message.stop()
        self.select(message.view)

    @property
    def text(self) -> str:
        """The conversation as plain text, one message per paragraph ("You: ...", "Bot: ...")."""
        return "\n".join(f"{LABELS[v.role]}: {v.message}" for v in self.query(MessageView))
