"""The command line as a user runs it: real processes, stdin/stdout, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tinybot import write_tiny_bot


def run(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args], input=stdin, capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_chat_json_answers_fee_and_out_of_scope(demo_bot_dir: Path) -> None:
    messages = "how much does it cost to withdraw cash abroad?\ncan you book me a flight to Paris?\n\n"
    result = run("chat", "--json", "--bot", str(demo_bot_dir), stdin=messages)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    fee, flight, empty = lines
    assert {"text", "source", "intent", "confidence", "faq_ids", "facts"} <= set(fee)
    assert "2%" in fee["text"] and "EUR 1.00" in fee["text"]
    assert flight["source"] == "fallback" and flight["intent"] == "oos"
    assert "empty" in empty["error"]


def test_train_then_second_run_is_incremental(tmp_path: Path) -> None:
    bot = write_tiny_bot(tmp_path / "bot")
    first = run("train", "--bot", str(bot))
    assert first.returncode == 0, first.stderr
    second = run("train", "--bot", str(bot))
    assert second.returncode == 0
    assert "nothing rebuilt" in second.stderr


def test_bad_bot_folder_is_one_line_without_traceback(tmp_path: Path) -> None:
    bot = write_tiny_bot(tmp_path / "bot", config={"name": ""})
    for command in (["train"], ["chat", "--json"]):
        result = run(*command, "--bot", str(bot))
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: bot.yaml line 1: name: String should have at least 1 character")
        assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_store_is_a_clear_error(tmp_path: Path) -> None:
    bot = write_tiny_bot(tmp_path / "bot", config={"name": "x", "store": {"url": "nosuchdb://x"}})
    result = run("chat", "--json", "--bot", str(bot))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nosuchdb" in result.stderr
