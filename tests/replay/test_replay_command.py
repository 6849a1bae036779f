"""`python -m agent replay` end to end on the demo bot: report, isolation, kill + resume, comparison, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from known_log import KNOWN_LOG, KNOWN_SOURCES, KNOWN_TURNS, write_known_log

from agent.cli import main
from agent.pipeline.assemble import load_bot
from agent.replay.command import ReplayOptions, run_replay
from agent.replay.results import read_results
from agent.replay.runner import session_id_for
from agent.storage.store import Store

ROOT = Path(__file__).resolve().parents[2]


def options(log: Path, out: Path, bot: Path, **extra: object) -> ReplayOptions:
    return ReplayOptions(input=str(log), out=out, bot=str(bot), progress=False, **extra)  # type: ignore[arg-type]


def test_replay_writes_results_and_report_and_leaves_production_alone(demo_bot_dir: Path, tmp_path: Path) -> None:
    log = write_known_log(tmp_path / "log.jsonl", malformed=True)
    warnings: list[str] = []
    outcome = run_replay(options(log, tmp_path / "run", demo_bot_dir, batch_size=3), warn=warnings.append)
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: {log} line 5: not valid JSON (")
    report = outcome.report
    assert report is not None
    assert report["counts"] == {"conversations": 4, "customer_turns": 7, "labelled_turns": 7, "skipped_input": 1}
    assert report["intents"]["accuracy"] == 1.0
    sources = Counter(KNOWN_SOURCES.values())
    assert report["rates"]["fallback"] == round(sources["fallback"] / KNOWN_TURNS, 4)
    assert report["rates"]["handoff"] == round(sources["handoff"] / KNOWN_TURNS, 4)
    assert report["rates"]["handoff_conversations"] == 0.5
    assert report["run"]["conversations"] == 4 and report["run"]["turns_per_second"] > 0
    assert report["input_problems"] == [warnings[0].removeprefix("warning: ")]
    run = tmp_path / "run"
    assert {p.name for p in outcome.report_paths} == {"report.json", "report.html"}
    assert json.loads((run / "report.json").read_text())["counts"]["customer_turns"] == 7
    assert (run / "report.html").read_text().count("data:image/png;base64,") >= 3
    # The replay answered from its own store; the bot's production store never saw it.
    replay_store = Store(f"sqlite:///{run / 'replay.db'}")
    production = Store(load_bot(demo_bot_dir).store_url)
    try:
        assert {c.id for c in replay_store.list_conversations(limit=100)} == {
            session_id_for(c.conversation_id) for c in KNOWN_LOG
        }
        assert not [c for c in production.list_conversations(limit=1000) if c.id.startswith("replay:")]
    finally:
        replay_store.close()
        production.close()

    # The same bot on the same log again, compared with the first run: nothing changed.
    again = run_replay(options(log, tmp_path / "run2", demo_bot_dir, compare=run), warn=warnings.append)
    assert again.report is not None
    changes = again.report["changes"]
    assert changes["compared_turns"] == 7 and changes["turns"] == []
    assert (changes["regressions"], changes["improvements"], changes["other_changes"]) == (0, 0, 0)


def wait_for_lines(path: Path, count: int, process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.read_bytes().count(b"\n") >= count:
            return
        if process.poll() is not None:
            pytest.fail(
                f"replay ended before it could be interrupted: {process.stderr.read() if process.stderr else ''}"
            )
        time.sleep(0.01)
    process.kill()
    pytest.fail("replay wrote nothing before the timeout")


def test_kill_then_resume_replays_each_conversation_exactly_once(demo_bot_dir: Path, tmp_path: Path) -> None:
    copies = 12
    log = write_known_log(tmp_path / "log.jsonl", copies=copies)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "agent", "replay", str(log), "--out", str(out), "--bot", str(demo_bot_dir)]
    process = subprocess.Popen(
        [*command, "--batch-size", "1", "--no-progress"], stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    wait_for_lines(out / "results.jsonl", 1, process, timeout=240)
    os.kill(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "run the same command with --resume" in stderr
    before = list(read_results(out))
    assert 0 < len(before) < copies * KNOWN_TURNS
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["segments"][0]["interrupted"] is True

    # Without --resume the folder is refused rather than overwritten.
    assert main(["replay", str(log), "--out", str(out), "--bot", str(demo_bot_dir), "--no-progress"]) == 2

    outcome = run_replay(options(log, out, demo_bot_dir, resume=True, batch_size=5))
    assert not outcome.stats.interrupted
    rows = list(read_results(out))
    keys = [(r.conversation_id, r.customer_turn) for r in rows]
    assert len(keys) == len(set(keys)) == copies * KNOWN_TURNS  # no duplicates, nothing missing
    done_before = {r.conversation_id for r in before}
    assert outcome.skipped_already_done == len(done_before)
    assert outcome.stats.conversations == copies * len(KNOWN_LOG) - len(done_before)
    assert [r.model_dump() for r in rows[: len(before)]] == [r.model_dump() for r in before]  # kept as written
    # Every copy of a conversation answers the same, whether it ran before or after the kill.
    answers: dict[tuple[str, int], set[tuple[str | None, str, str]]] = {}
    for r in rows:
        base = r.conversation_id.rsplit("-", 1)[0]
        answers.setdefault((base, r.customer_turn), set()).add((r.intent, r.source, r.reply))
    assert all(len(variants) == 1 for variants in answers.values()), answers
    for key, source in KNOWN_SOURCES.items():
        assert next(iter(answers[key]))[1] == source
    # The replay store holds each conversation once, with no turns left from the interrupted attempt.
    store = Store(f"sqlite:///{out / 'replay.db'}")
    try:
        for conv in {r.conversation_id: r.customer_turns for r in rows}.items():
            record = store.conversation(session_id_for(conv[0]))
            assert record is not None and len(record.turns) == 2 * conv[1], conv
    finally:
        store.close()
    assert len(json.loads((out / "run.json").read_text())["segments"]) == 2
    assert outcome.report is not None and outcome.report["counts"]["customer_turns"] == copies * KNOWN_TURNS


def test_user_mistakes_are_one_line_errors(
    demo_bot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = ["--bot", str(demo_bot_dir), "--no-progress"]
    cases = [
        (["replay", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o"), *bot], "does not exist"),
        (["replay", str(tmp_path), "--out", str(tmp_path / "o"), *bot], "not a .jsonl or .csv file"),
        (["replay", "x.jsonl", "--out", str(tmp_path / "o"), "--compare", str(tmp_path), *bot], "holds no results"),
        (["replay", "x.jsonl", "--out", str(tmp_path / "o"), "--limit", "0", *bot], "--limit must be at least 1"),
        (["replay", "store", "--out", str(tmp_path / "o"), "--since", "soon", *bot], "is not an ISO date"),
    ]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n{broken\n", encoding="utf-8")
    cases.append((["replay", str(empty), "--out", str(tmp_path / "o"), *bot], "holds no conversation that can be"))
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and message in err[-1], (argv, err)
        assert "Traceback" not in "\n".join(err)
