"""The side panel that shows the trace of the selected reply (see agent.tui.trace for what it shows)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from agent.tui.trace import Thresholds, TraceSection, trace_sections
from agent.types import Trace

EMPTY_HINT = "Select a reply (↑/↓ or click it) to see why the bot gave it."


class TracePanel(VerticalScroll, can_focus=True):
    """Scrollable view of one reply's trace: answer source, intent, FAQ hits, graph, timings."""

    DEFAULT_CSS = """
    TracePanel {
        border: round $border-blurred; border-title-color: $text-primary; border-title-style: bold;
        border-subtitle-color: $text-muted;
        padding: 0 1; background: $surface; scrollbar-size-vertical: 1;
    }
    TracePanel:focus { border: round $border; }
    TracePanel #trace-body { width: 100%; }
    """

    def __init__(self, thresholds: Thresholds, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.thresholds = thresholds
        self.sections: list[TraceSection] = []
        self._shown: tuple[Trace, str] | None = None
        self.border_title = "Why this reply"

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(EMPTY_HINT, "$text-muted"), id="trace-body")

    def show(self, trace: Trace | None, label: str = "") -> None:
        """Show `trace` (a live reply's or a stored one); None clears the panel."""
        body = self.query_one("#trace-body", Static)
        self.border_subtitle = label
        if trace is None:
            self._shown = None
            self.sections = []
            body.update(Content.styled(EMPTY_HINT, "$text-muted"))
            return
        self._shown = (trace, label)
        # Leave room for the scrollbar, which appears once the trace is taller than the panel.
        width = self.scrollable_content_region.width - 1
        self.sections = trace_sections(trace, self.thresholds, width if width > 10 else None)
        blocks = []
        for section in self.sections:
            blocks.append(Content.styled(f"▌{section.title}", "bold $text-primary"))
            blocks.append(section.body)
            blocks.append(Content(""))
        body.update(Content("\n").join(blocks[:-1]))
        self.scroll_home(animate=False)

    def on_resize(self) -> None:
        # Lines are fitted to the width, so a resized panel re-renders what it shows.
        if self._shown is not None:
            self.show(*self._shown)

    def section(self, key: str) -> str | None:
        """The plain text of one section (None when it is not shown)."""
        return next((s.body.plain for s in self.sections if s.key == key), None)

    @property
    def text(self) -> str:
        """Everything the panel shows, as plain text."""
        if not self.sections:
            return EMPTY_HINT
        return "\n\n".join(f"{s.title}\n{s.body.plain}" for s in self.sections)
