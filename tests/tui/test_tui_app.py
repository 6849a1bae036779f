"""The chat app driven through Textual's pilot: real demo bot, real SQLite store, real keys."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input
from tui_helpers import app_factory, run, screen_text, send, settle, started, wait_until

from agent.storage.conversation_log import read_jsonl
from agent.tui.export import ExportScreen
from agent.tui.sessions import SessionsScreen

QUESTION = "how much does it cost to withdraw cash abroad?"


def test_question_shows_answer_and_its_trace(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (100, 30)) as pilot:
            screen = await send(pilot, QUESTION)
            transcript = screen.transcript.text
            assert f"You: {QUESTION}" in transcript
            assert "Bot: Withdrawing cash abroad is free up to your card's monthly allowance" in transcript
            # The new reply is selected and its trace is in the panel: source, why, intent, confidence, hits.
            trace = screen.trace_panel
            assert "faq · FAQ answer" in trace.section("answer")
            assert "FAQ 'atm-fee-abroad' matched with score 1.00" in trace.section("answer")
            intent = trace.section("intent")
            assert intent.splitlines()[0] == "cash_withdrawal_charge"
            assert intent.splitlines()[1].endswith(" confident")  # the bar, the calibrated value, the verdict
            assert "✓ 1.00 atm-fee-abroad" in trace.section("faq")
            assert "total" in trace.section("timings") and "encoder" in trace.section("timings")
            assert trace.section("decoder") is None  # no decoder ran: no decoder section
            # And it is on the terminal, not just in the widgets.
            shown = screen_text(app)
            assert "cash_withdrawal_charge" in shown and "confident" in shown and "atm-fee-abroad" in shown
            assert "tui-test-1 · open" in shown
            assert app.agent is not None
            stored = app.agent.conversation("tui-test-1")
            assert stored is not None and [t.role for t in stored.turns] == ["customer", "bot"]
            confidence = stored.turns[1].trace.confidence  # type: ignore[union-attr]
            assert f" {confidence:.2f} confident" in intent  # the panel shows the reply's own confidence

    run(scenario())


def test_arrow_keys_select_which_reply_the_panel_explains(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (80, 24)) as pilot:
            await send(pilot, QUESTION)
            screen = await send(pilot, "my card still hasn't arrived")
            assert screen.trace_panel.section("intent").splitlines()[0] == "card_arrival"
            assert screen.trace_panel.border_subtitle == "reply 2 of 2"
            await pilot.press("up")
            assert screen.trace_panel.section("intent").splitlines()[0] == "cash_withdrawal_charge"
            assert screen.trace_panel.border_subtitle == "reply 1 of 2"
            await pilot.press("up")  # already the first: stays
            assert screen.trace_panel.border_subtitle == "reply 1 of 2"
            await pilot.press("down")
            assert screen.trace_panel.section("intent").splitlines()[0] == "card_arrival"
            # Clicking a reply selects it too.
            first = screen.transcript.replies[0]
            screen.transcript.scroll_home(animate=False)
            await pilot.pause()
            await pilot.click(first)
            assert screen.transcript.selected is first
            assert screen.trace_panel.section("intent").splitlines()[0] == "cash_withdrawal_charge"

    run(scenario())


def test_ctrl_g_and_ctrl_b_rate_the_selected_reply_in_the_store(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (100, 30)) as pilot:
            screen = await send(pilot, QUESTION)
            await pilot.press("ctrl+b")  # the new reply is selected
            await settle(pilot)
            await send(pilot, "my card still hasn't arrived")
            await pilot.press("up", "ctrl+g")  # the first reply again: a new verdict replaces the old
            await settle(pilot)
            await pilot.press("down", "ctrl+b")
            await settle(pilot)
            assert app.agent is not None
            stored = app.agent.conversation("tui-test-1")
            assert stored is not None
            rated = [(t.seq, t.feedback.rating) for t in stored.turns if t.feedback is not None]
            assert rated == [(1, "up"), (3, "down")]
            assert "rated good" in screen.transcript.replies[0].render().plain
            assert "rated bad" in screen_text(app)
            # Reopened from the store, the ratings are shown again.
            screen.show_record(stored)
            await pilot.pause()
            assert [r.rating for r in screen.transcript.replies] == ["up", "down"]

    run(scenario())


def test_handoff_is_visible_and_survives_reopening(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (100, 30)) as pilot:
            screen = app.screen
            assert "Handed over to a person" not in screen_text(app)
            await send(pilot, "I want to talk to a human")
            assert screen.status == "handoff" and screen.has_class("-handoff")
            shown = screen_text(app)
            assert "Handed over to a person" in shown
            assert "tui-test-1 · handoff" in shown
            assert "handed over to a person" in screen.trace_panel.section("answer")
            assert screen.query_one("#message", Input).placeholder.startswith("Handed over")

            await pilot.press("ctrl+n")
            await pilot.pause()
            assert screen.status == "new" and "Handed over to a person" not in screen_text(app)

            await pilot.press("ctrl+o")
            await settle(pilot)
            assert isinstance(app.screen, SessionsScreen)
            await pilot.press("enter")
            await settle(pilot)
            assert screen.session_id == "tui-test-1" and screen.status == "handoff"
            assert "Handed over to a person" in screen_text(app)

    run(scenario())


def test_new_conversation_then_reopen_a_past_one(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (100, 30)) as pilot:
            screen = app.screen
            await send(pilot, QUESTION)
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert screen.session_id == "tui-test-2"
            assert QUESTION not in screen.transcript.text  # only the greeting
            assert screen.trace_panel.sections == []
            await send(pilot, "how do I top up with a card?")

            await pilot.press("ctrl+o")
            await settle(pilot)
            sessions = app.screen
            assert isinstance(sessions, SessionsScreen)
            assert [row.id for row in sessions.rows] == ["tui-test-2", "tui-test-1"]  # most recent first
            assert sessions.rows[1].first_message == QUESTION and sessions.rows[1].turns == 2
            table = sessions.query_one(DataTable)
            assert table.row_count == 2
            await pilot.press("down", "enter")
            await settle(pilot)
            assert app.screen is screen and screen.session_id == "tui-test-1"
            assert f"You: {QUESTION}" in screen.transcript.text
            assert "how do I top up" not in screen.transcript.text
            # The stored trace is shown for the reopened reply, like a live one.
            assert screen.trace_panel.section("intent").splitlines()[0] == "cash_withdrawal_charge"
            # The reopened conversation continues where it was.
            await send(pilot, "and in a shop abroad?")
            assert app.agent is not None
            stored = app.agent.conversation("tui-test-1")
            assert stored is not None and len(stored.turns) == 4

            await pilot.press("ctrl+o")
            await settle(pilot)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen and screen.session_id == "tui-test-1"

    run(scenario())


def test_export_writes_the_conversation_in_the_replay_format(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (100, 30)) as pilot:
            screen = app.screen
            await pilot.press("ctrl+s")  # nothing said yet: nothing to export, no dialog
            await pilot.pause()
            assert app.screen is screen
            await send(pilot, QUESTION)
            await send(pilot, "my card still hasn't arrived")
            await pilot.press("ctrl+s")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, ExportScreen)
            assert dialog.query_one(Input).value == str(tmp_path / "conversation-tui-test-1.jsonl")
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is screen

            # The same conversation exported again from the history list appends a second line.
            await pilot.press("ctrl+o")
            await settle(pilot)
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(app.screen, ExportScreen)
            await pilot.press("enter")
            await settle(pilot)

        lines = (tmp_path / "conversation-tui-test-1.jsonl").read_text().splitlines()
        assert len(lines) == 2 and lines[0] == lines[1]
        conversation = read_jsonl(tmp_path / "conversation-tui-test-1.jsonl").conversations[0]
        assert conversation.conversation_id == "tui-test-1"
        assert conversation.started_at.tzinfo is not None
        turns = [(t.role, t.text, t.intent) for t in conversation.turns]
        assert turns[0] == ("customer", QUESTION, "cash_withdrawal_charge")
        assert turns[1][0] == "agent" and turns[1][1].startswith("Withdrawing cash abroad is free")
        assert turns[2] == ("customer", "my card still hasn't arrived", "card_arrival")
        assert [t[0] for t in turns] == ["customer", "agent", "customer", "agent"]
        assert turns[1][2] is None and turns[3][2] is None

    run(scenario())


def test_a_refused_message_is_a_note_and_the_chat_goes_on(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (80, 24)) as pilot:
            screen = app.screen
            await send(pilot, "x" * 2001, type_it=False)
            assert "Note: error: Message is 2,001 characters; the limit is 2,000" in screen.transcript.text
            assert screen.transcript.replies == []
            assert screen.status == "new"  # nothing was stored
            await pilot.press("enter")  # an empty message is not sent
            await settle(pilot)
            assert screen.transcript.text.count("You:") == 1
            await send(pilot, QUESTION)
            assert "Bot: Withdrawing cash abroad" in screen.transcript.text

    run(scenario())


def test_messages_sent_while_waiting_are_answered_in_order(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (100, 30)) as pilot:
            screen = app.screen
            box = screen.query_one("#message", Input)
            for text in (QUESTION, "my card still hasn't arrived", "I lost my card"):
                box.value = text
                await pilot.press("enter")  # no waiting between them: the input stays usable
            await wait_until(pilot, lambda: len(screen.transcript.replies) == 3, timeout=60)
            await settle(pilot)
            intents = [view.trace.intent for view in screen.transcript.replies if view.trace]
            assert intents == ["cash_withdrawal_charge", "card_arrival", "lost_or_stolen_card"]
            assert screen.transcript.text.index("I lost my card") < screen.transcript.text.rindex("Bot:")

    run(scenario())
