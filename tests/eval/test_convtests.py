"""`python -m agent test`: a bot's test conversations played in fresh in-memory sessions and checked step by step."""

from __future__ import annotations

import hashlib
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent.cli import main

PASSING = """\
tests:
  - name: card fee asks which card, then answers
    steps:
      - user: "how much does the card cost"
        expect: {intent: card_fee, source: ask, contains: ["which card"], handoff: false}
      - user: "the plus card"
        expect: {intent: card_fee, source: [template, decoder], contains: ["4.99"], facts: [card_plus.monthly_fee]}
  - name: hello, then out of scope
    steps:
      - user: "hello"
        expect: {intent: greeting, source: template, contains: "tiny bank", not_contains: ["sorry"]}
      - user: "what's the weather tomorrow"
        expect: {out_of_scope: true, source: fallback}
"""

FAILING = """\
tests:
  - name: greeting passes
    steps:
      - user: "hello"
        expect: {intent: greeting}
  - name: lost card read as a fee
    steps:
      - user: "I lost my card"
        expect: {intent: card_fee, contains: ["nothing like this"], handoff: true}
      - user: "hello"
        expect: {intent: greeting}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def build_state(bot: Path) -> dict[str, str]:
    """Every file of the bot's build folder (its store included) and a digest of its bytes."""
    files = sorted(p for p in (bot / "build").rglob("*") if p.is_file())
    return {str(p.relative_to(bot)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_passing_tests_exit_0_and_store_nothing(
    tiny_trained_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "tiny.yaml", PASSING)
    before = build_state(tiny_trained_dir)
    assert main(["test", str(path), "--bot", str(tiny_trained_dir)]) == 0
    assert capsys.readouterr().out.strip().endswith("2 tests, 4 steps: all passed")
    assert build_state(tiny_trained_dir) == before  # the bot's store and build are untouched


def test_failing_step_exits_1_with_expected_and_got(
    tiny_trained_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "failing.yaml", FAILING)
    assert main(["test", str(path), "--bot", str(tiny_trained_dir)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {path} line 6: lost card read as a fee" in out
    assert "step 1 (line 8): 'I lost my card'" in out
    assert "intent: expected card_fee, got lost_card (" in out
    assert "contains: expected 'nothing like this', got a reply without it" in out
    assert "reply (template): 'Sorry to hear that." in out
    assert "handoff: expected true, got false" in out
    assert "reason: " in out and "step 2" not in out  # the step that passed is not shown
    assert "greeting passes" not in out
    assert out.strip().endswith("2 tests, 3 steps: 1 failed")

    assert main(["test", str(path), "--bot", str(tiny_trained_dir), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["tests"], report["steps"], report["failed"]) == (2, 3, 1)
    failure = report["results"][1]["failures"][0]
    assert failure["step"] == 1 and {m["key"] for m in failure["mismatches"]} == {"intent", "contains", "handoff"}


def test_junit_has_one_testcase_per_conversation_and_the_failures(
    tiny_trained_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    passing, failing = write(tmp_path, "a.yaml", PASSING), write(tmp_path, "b.yaml", FAILING)
    out = tmp_path / "reports" / "tests.xml"
    assert main(["test", str(passing), str(failing), "--bot", str(tiny_trained_dir), "--junit", str(out)]) == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "4" and root.get("failures") == "1"
    suites = root.findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        (str(passing), "2", "0"),
        (str(failing), "2", "1"),
    ]
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == [
        "card fee asks which card, then answers",
        "hello, then out of scope",
        "greeting passes",
        "lost card read as a fee",
    ]
    failures = [c.find("failure") for c in cases]
    assert failures[:3] == [None, None, None]
    assert failures[3] is not None
    assert failures[3].get("message") == "step 1: intent, contains, handoff ('I lost my card')"
    assert "intent: expected card_fee, got lost_card" in (failures[3].text or "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tests:\n  - name: x\n    steps: [\n", "line 4: invalid YAML"),
        (
            "tests:\n  - name: x\n    steps:\n      - user: hi\n        expect: {intent: greeting, reply: hi}\n",
            "line 5: tests[0].steps[0].expect.reply (name 'x'): Extra inputs are not permitted.",
        ),
        (
            "tests:\n  - name: x\n    steps:\n      - user: hello\n      - expect: {intent: greeting}\n",
            "line 5: tests[0].steps[1].user (name 'x'): Field required.",
        ),
        (
            "tests:\n  - name: x\n    steps:\n      - user: hello\n        expect: {handoff: maybe}\n",
            "line 5: tests[0].steps[0].expect.handoff (name 'x'): Input should be a valid boolean.",
        ),
        (
            "tests:\n  - name: x\n    steps:\n      - user: hello\n        expect: {source: [template, email]}\n",
            "line 5: tests[0].steps[0].expect.source[1] (name 'x'): Input should be",
        ),
        (
            "tests:\n  - name: x\n    steps:\n      - user: 42\n",
            "line 4: tests[0].steps[0].user (name 'x'): Input should be a valid string",
        ),
        (
            "tests:\n  - name: x\n    steps:\n      - user: hello\n        expect: {facts: [monthly_fee]}\n",
            "line 5: tests[0].steps[0].expect.facts (name 'x'): fact 'monthly_fee' should be subject.attribute",
        ),
        (
            "tests:\n  - name: x\n    steps:\n      - user: hello\n        expect:\n          intent: greting\n",
            "line 6: tests[0].steps[0].expect.intent (name 'x'): 'greting' is not an intent of the bot",
        ),
        ("tests: []\n", "tests: List should have at least 1 item"),
    ],
)
def test_bad_file_exits_2_with_one_line_naming_file_and_line(
    tiny_trained_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = write(tmp_path, "bad.yaml", text)
    assert main(["test", str(path), "--bot", str(tiny_trained_dir)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith(f"error: {path}") and message in err, err
    assert "\n" not in err and "Traceback" not in captured.err and captured.out == ""


def test_no_test_files_is_a_one_line_error(tiny_trained_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "--bot", str(tiny_trained_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert "dialogs/tests: no test files (*.yaml)" in err and "\n" not in err


def test_demo_bots_own_conversation_tests_pass(demo_bot_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # What CI runs of `python -m agent test` on the demo: its dialogs/tests/*.yaml, found by default.
    started = time.perf_counter()
    code = main(["test", "--bot", str(demo_bot_dir)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "all passed" in out and time.perf_counter() - started < 120
