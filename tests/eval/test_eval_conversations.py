"""`python -m agent eval conversations`: labelled conversations played through a bot, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.bot.schemas import LoggedConversation, LoggedTurn
from agent.cli import main
from agent.replay.results import TurnResult
from agent.replay.scores import score
from agent.storage.conversation_log import write_jsonl


def customer(text: str, intent: str) -> LoggedTurn:
    return LoggedTurn(role="customer", text=text, intent=intent)


def test_scores_count_first_turns_follow_ups_refusals_and_oos() -> None:
    def row(conv: str, k: int, gold: str, intent: str, source: str = "template", reason: str = "") -> TurnResult:
        return TurnResult(
            conversation_id=conv, turn=k, customer_turn=k, customer_turns=3, text="t", gold_intent=gold,
            intent=intent, source=source, reason=reason, reply="r",
        )  # fmt: skip

    scores = score(
        [
            row("a", 0, "card_fee", "card_fee"),
            row("a", 1, "card_fee", "oos", "fallback"),  # an in-scope follow-up refused
            row("a", 2, "oos", "oos", "fallback"),  # out of scope, caught: not a refusal of an in-scope turn
            row("b", 0, "lost_card", "greeting"),
            row("b", 1, "lost_card", "lost_card", "handoff", "out of scope; 3 fallbacks in a row"),
        ]
    )
    assert (scores.first_turn_accuracy, scores.follow_up_accuracy, scores.accuracy) == (0.5, 0.6667, 0.6)
    assert scores.in_scope_refused == 0.5 and scores.refused_turns == 2 and scores.in_scope_turns == 4
    assert scores.oos_recall == 1.0 and scores.oos_turns == 1 and scores.conversations == 2


def test_command_plays_a_file_through_the_tiny_bot(
    tiny_bot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "conversations.jsonl"
    write_jsonl(
        [
            LoggedConversation(
                conversation_id="fee",
                turns=[
                    customer("how much does the plus card cost each month", "card_fee"),
                    LoggedTurn(role="agent", text="EUR 4.99 a month."),
                    customer("I lost my card", "lost_card"),
                ],
            ),
            # Labelled wrong on purpose: the bot's greeting reading must count as a miss.
            LoggedConversation(conversation_id="hello", turns=[customer("hello there", "card_fee")]),
            LoggedConversation(conversation_id="weather", turns=[customer("what's the weather tomorrow", "oos")]),
        ],
        path,
    )
    assert main(["eval", "conversations", str(path), "--bot", str(tiny_bot_dir), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["labelled_turns"] == 4 and figures["first_turns"] == 3 and figures["follow_up_turns"] == 1
    assert figures["first_turn_accuracy"] == round(2 / 3, 4)  # the mislabelled greeting is the miss
    assert figures["follow_up_accuracy"] == 1.0 and figures["oos_recall"] == 1.0
    assert figures["in_scope_refused"] == 0.0
    assert not list(tiny_bot_dir.glob("build/*.db"))  # nothing stored in the bot's store
    assert main(["eval", "conversations", str(path), "--bot", str(tiny_bot_dir)]) == 0
    assert "follow-up accuracy   1.000" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"conversation_id": "x", "turns": [', "line 2: not valid JSON"),
        (
            '{"conversation_id": "x", "turns": [{"role": "customer", "text": "hi"}]}',
            "line 2: conversation 'x' turn 0 has no `intent`",
        ),
        (
            '{"conversation_id": "x", "turns": [{"role": "customer", "text": "hi", "intent": "weather"}]}',
            "intent(s) weather are not intents of bot 'Tiny bot'",
        ),
    ],
)
def test_bad_files_are_one_line_errors_naming_file_and_line(
    tiny_bot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    good = '{"conversation_id": "ok", "turns": [{"role": "customer", "text": "hi", "intent": "greeting"}]}'
    path.write_text(good + "\n" + line + "\n")
    assert main(["eval", "conversations", str(path), "--bot", str(tiny_bot_dir)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and message in error and str(path) in error and "\n" not in error
