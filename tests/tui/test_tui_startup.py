"""Starting the app: the loading screen while a bot trains, and a one-line error for a bad folder or store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import Input
from tinybot import write_tiny_bot
from tui_helpers import app_factory, run, screen_text, started, wait_loaded, wait_until

from agent.tui.app import ChatApp
from agent.tui.chat import ChatScreen
from agent.tui.errors import ErrorScreen
from agent.tui.loading import LoadingScreen


async def _error_of(app: ChatApp) -> tuple[str, str]:
    """Run `app` until it shows its error screen; returns (app.error, screen text), then quits with q."""
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.error is not None or isinstance(app.screen, ChatScreen))
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen), "the app started although it should not have"
        shown = screen_text(app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 2
    assert app.error is not None
    return app.error, shown


def test_missing_bot_folder_is_one_line_on_screen(tmp_path: Path) -> None:
    error, shown = run(_error_of(ChatApp(tmp_path / "no-such-bot", store_url=f"sqlite:///{tmp_path / 'x.db'}")))
    assert error.startswith(f"Bot folder '{tmp_path / 'no-such-bot'}' does not exist")
    assert "\n" not in error
    assert "The bot could not be started" in shown
    assert "error: Bot folder" in shown
    assert "Traceback" not in shown


def test_invalid_bot_yaml_names_file_and_field(tmp_path: Path) -> None:
    bot = write_tiny_bot(tmp_path / "bad", config={"name": "Bad bot", "intents": {"oos_treshold": 0.2}})
    error, shown = run(_error_of(ChatApp(bot, store_url=f"sqlite:///{tmp_path / 'x.db'}")))
    assert "bot.yaml" in error and "oos_treshold" in error
    assert "\n" not in error
    assert "oos_treshold" in shown
    assert "Traceback" not in shown
    assert not (bot / "build").exists()  # nothing was built for a folder that does not validate


def test_store_that_cannot_be_opened_is_one_line(demo_bot_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a SQLite database, just some text " * 100)
    error, shown = run(_error_of(ChatApp(demo_bot_dir, store_url=f"sqlite:///{broken}")))
    assert error.startswith("Cannot open the store at sqlite:///")
    assert "file is not a database" in error
    assert "Cannot open the store" in shown
    assert broken.read_bytes().startswith(b"this is not a SQLite database")  # left as it was


def test_loading_screen_shows_training_progress_and_stays_live(tmp_path: Path) -> None:
    bot = write_tiny_bot(tmp_path / "tiny")  # never trained: the app trains it first

    async def scenario() -> None:
        app = ChatApp(bot, store_url=f"sqlite:///{tmp_path / 'tiny.db'}", export_dir=tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, LoadingScreen), timeout=10)
            loading = app.screen
            assert isinstance(loading, LoadingScreen)
            assert "Starting the bot in" in screen_text(app)
            seen: set[str] = set()
            while not isinstance(app.screen, ChatScreen) and app.error is None:
                seen.add(loading.text)
                await pilot.pause(0.05)
            await wait_loaded(pilot)
            steps = [(e.step, e.status) for e in loading.events]
            assert steps[:2] == [("folder", "running"), ("folder", "done")]
            assert ("train", "running") in steps and ("train", "done") in steps
            assert steps.index(("train", "done")) < steps.index(("models", "done")) < steps.index(("warmup", "done"))
            details = " ".join(e.detail for e in loading.events if e.step == "train")
            assert "intents" in details and "missing or out of date" in details
            # The checklist kept redrawing (spinner frames, step changes) while the thread trained.
            assert len(seen) >= 4
            # The training progress bars (count, rate) reached the screen, not the raw terminal.
            assert any(line.startswith("encoding ") and "1/1" in line for line in loading.printed)
            assert any(line.startswith("calibrating intents ") and "fold/s" in line for line in loading.printed)
            assert "Hello from Tiny Bank" not in screen_text(app)  # the persona greeting is the default
            assert "I'm Tiny bot" in screen_text(app)  # the default greeting names the bot

        # Second start: the build is up to date, training is skipped.
        again = ChatApp(bot, store_url=f"sqlite:///{tmp_path / 'tiny.db'}", export_dir=tmp_path)
        async with again.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(again.screen, LoadingScreen), timeout=10)
            loading = again.screen
            assert isinstance(loading, LoadingScreen)
            await wait_loaded(pilot)
            assert ("train", "skipped") in [(e.step, e.status) for e in loading.events]

    run(scenario())


def test_ctrl_q_quits_cleanly(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> ChatApp:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (80, 24)) as pilot:
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert not app.is_running
        return app

    app = run(scenario())
    assert app.return_code == 0 and app.error is None


def test_messages_typed_while_the_bot_loads_are_sent_when_it_is_ready(demo_bot_dir: Path, tmp_path: Path) -> None:
    # Issue 19: keys pressed on the loading screen went nowhere, so a first message typed early was lost.
    # Another connection holds the store's write lock, so loading waits at the store (a real SQLite lock, as
    # another process writing would hold it) for as long as the test types; then it lets go.
    blocker = sqlite3.connect(tmp_path / "tui.db", isolation_level=None)
    blocker.execute("PRAGMA journal_mode=WAL")
    blocker.execute("BEGIN EXCLUSIVE")

    async def scenario() -> None:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with app.run_test(size=(80, 24)) as pilot:
            try:
                await wait_until(pilot, lambda: isinstance(app.screen, LoadingScreen), timeout=10)
                await pilot.press(*"hello", "enter", *"my card has not arrived", "enter", *"and the pin")
                assert isinstance(app.screen, LoadingScreen), "the keys went in before the bot was ready"
                assert app.screen.queued == ["hello", "my card has not arrived"]
                assert "2 messages wait: sent as soon as the bot is ready" in screen_text(app)
            finally:
                blocker.rollback()
                blocker.close()
            screen = await wait_loaded(pilot)
            await wait_until(pilot, lambda: len(screen.transcript.replies) == 2, timeout=30)
            lines = [line for line in screen.transcript.text.splitlines() if line.startswith(("You:", "Bot:"))]
            # The greeting, both messages as sent, then their replies in order (as for messages sent while waiting).
            assert lines[1:3] == ["You: hello", "You: my card has not arrived"]
            assert [line.split(":")[0] for line in lines] == ["Bot", "You", "You", "Bot", "Bot"]
            assert screen.query_one("#message", Input).value == "and the pin"  # typed, not sent: still there
            assert app.agent is not None
            stored = app.agent.conversation("tui-test-1")
            assert stored is not None
            assert [t.text for t in stored.turns if t.role == "customer"] == ["hello", "my card has not arrived"]
            assert stored.turns[3].trace is not None and stored.turns[3].trace.intent == "card_arrival"

    run(scenario())
