"""What the TUI shows of a conversation: never with Unicode direction controls (issue 19).

The edge removes them from new messages, but a store written before that may still
hold some; the transcript and the history list take them out of whatever they show.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from tui_helpers import run

from agent.storage.store import Store, TurnRecord
from agent.tui.sessions import list_conversations
from agent.tui.transcript import Transcript
from agent.types import Reply, SessionState

SPOOFED = "refund to \u202eNBAN\u202c please, file pay\u2067gnp.exe\u2069"
SHOWN = "refund to NBAN please, file paygnp.exe"


class _TranscriptApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Transcript(id="transcript")


def test_the_transcript_shows_no_direction_controls() -> None:
    async def scenario() -> None:
        app = _TranscriptApp()
        async with app.run_test(size=(80, 12)) as pilot:
            transcript = app.query_one(Transcript)
            transcript.add("customer", SPOOFED)
            transcript.add("bot", "\u202dSent\u202c.")
            await pilot.pause()
            assert transcript.text.splitlines() == [f"You: {SHOWN}", "Bot: Sent."]

    run(scenario())


def test_the_history_preview_shows_no_direction_controls(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        reply = Reply(session_id="old", text="Done.", source="template", reason="test", intent="x", confidence=0.9)
        store.record([TurnRecord(customer_text=SPOOFED, reply=reply, state=SessionState())])  # as stored before
        (row,) = list_conversations(store)
        assert row.first_message == SHOWN
    finally:
        store.close()
