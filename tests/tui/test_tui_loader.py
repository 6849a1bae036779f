"""Starting a bot step by step (agent.tui.loader), outside the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from tinybot import write_tiny_bot

from agent.exceptions import ConfigError
from agent.tui.loader import LoadEvent, line_console, load_agent


def test_line_console_hands_over_whole_lines() -> None:
    lines: list[str] = []
    console = line_console(lines.append)
    console.print("graph: 3 entities, 2 facts")
    console.print("intents: 3 classes\n\nfrom 18 examples")
    console.file.write("partial ")
    assert lines == ["graph: 3 entities, 2 facts", "intents: 3 classes", "from 18 examples"]
    console.file.write("line\n")
    assert lines[-1] == "partial line"


def test_bad_folder_fails_at_the_first_step_and_builds_nothing(tmp_path: Path) -> None:
    bot = write_tiny_bot(tmp_path / "bad", config={"name": ""})
    events: list[LoadEvent] = []
    with pytest.raises(ConfigError, match=r"bot\.yaml"):
        load_agent(bot, store_url=f"sqlite:///{tmp_path / 'x.db'}", report=events.append)
    assert [(e.step, e.status) for e in events] == [("folder", "running")]
    assert not (bot / "build").exists()
    assert not (tmp_path / "x.db").exists()


def test_trained_bot_skips_training_and_answers(demo_bot_dir: Path, tmp_path: Path) -> None:
    events: list[LoadEvent] = []
    agent = load_agent(demo_bot_dir, store_url=f"sqlite:///{tmp_path / 'x.db'}", report=events.append)
    try:
        assert [(e.step, e.status) for e in events] == [
            ("folder", "running"),
            ("folder", "done"),
            ("train", "skipped"),
            ("models", "running"),
            ("models", "done"),
            ("warmup", "running"),
            ("warmup", "done"),
        ]
        assert events[1].detail.startswith("Meridian Bank assistant: ")
        assert events[1].detail.endswith(" FAQ entries") and " intents, " in events[1].detail
        assert agent.store.list_conversations() == []  # the warm-up wrote nothing
        assert agent.respond("s", "how much does it cost to withdraw cash abroad?").source == "faq"
    finally:
        agent.close()
