"""`review export` from a real SQLite store and from a replay run folder, and its one-line errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from agent.cli import main
from agent.replay.results import ResultsFile, TurnResult
from agent.review.export import COLUMNS, ExportOptions, export
from agent.steps.encoder import Encoder
from agent.storage.store import Store, TurnRecord
from agent.types import FaqHit, IntentScore, Reply, SessionState


def reply(conv: str, intent: str, confidence: float, source: str = "template", **extra) -> Reply:
    return Reply(
        session_id=conv,
        text="an answer",
        source=source,
        reason="test",
        intent=intent,
        confidence=confidence,
        **{"intents": [IntentScore(name=intent, confidence=confidence)], **extra},
    )


def fill(url: str) -> None:
    store = Store(url)
    try:
        for n in range(5):  # one fallback, asked five times
            store.record([TurnRecord("where is my refund", reply(f"f{n}", "oos", 0.7, "fallback"), SessionState())])
        store.record([TurnRecord("I lost my card", reply("ok", "lost_card", 0.97), SessionState())])
        store.record([TurnRecord("how much does the card cost", reply("down", "card_fee", 0.97), SessionState())])
        store.rate("down", 1, "down")
        tie = [IntentScore(name="card_fee", confidence=0.5), IntentScore(name="lost_card", confidence=0.46)]
        hit = FaqHit(id="lost", question="lost card?", answer="Call us.", score=0.9, intent="lost_card")
        store.record(
            [TurnRecord("my card is gone", reply("tie", "card_fee", 0.5, intents=tie, faq_hits=[hit]), SessionState())]
        )
    finally:
        store.close()


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_from_a_store_ranks_fallbacks_ties_and_thumbs_down(
    tiny_trained_dir: Path, tmp_path: Path, encoder: Encoder
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    fill(url)
    out = tmp_path / "review.csv"
    done = export(ExportOptions(out=out, bot=str(tiny_trained_dir), from_store=True, store=url), encoder=encoder)
    assert done.messages == 8
    rows = read(out)
    assert list(rows[0]) == COLUMNS
    assert [r["text"] for r in rows] == [
        "where is my refund",
        "my card is gone",
        "how much does the card cost",
        "I lost my card",
    ]
    assert rows[0]["count"] == "5" and rows[0]["reasons"] == "fallback" and rows[0]["label"] == ""
    assert rows[1]["reasons"] == "near-tie; FAQ disagrees" and rows[1]["alternatives"] == "lost_card 0.46"
    assert rows[2]["reasons"] == "thumbs-down" and rows[3]["reasons"] == ""
    assert float(rows[0]["score"]) > float(rows[1]["score"]) > float(rows[2]["score"]) > float(rows[3]["score"])

    later = export(
        ExportOptions(out=out, bot=str(tiny_trained_dir), from_store=True, store=url, limit=1), encoder=encoder
    )
    assert [r.text for r in later.rows] == ["where is my refund"]


def test_export_from_a_run_folder(tiny_trained_dir: Path, tmp_path: Path, encoder: Encoder) -> None:
    run = tmp_path / "run"
    results = ResultsFile(run)
    results.open(resume=False)
    lines = [("I lost my card", "lost_card", 0.95, "template"), ("=cmd|' /C calc'!A0", "oos", 0.8, "fallback")]
    results.write(
        [
            [
                TurnResult(
                    conversation_id=f"c{n}",
                    turn=0,
                    customer_turn=0,
                    customer_turns=1,
                    text=text,
                    intent=intent,
                    confidence=conf,
                    source=source,
                    reply="r",
                )
            ]
            for n, (text, intent, conf, source) in enumerate(lines)
        ]
    )
    results.close()
    out = tmp_path / "review.csv"
    export(ExportOptions(out=out, bot=str(tiny_trained_dir), from_run=run), encoder=encoder)
    rows = read(out)
    assert [r["text"] for r in rows] == ["'=cmd|' /C calc'!A0", "I lost my card"]  # a formula is not run
    assert rows[0]["reasons"] == "fallback" and rows[0]["predicted"] == "oos"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--from-run", "{tmp}/nowhere"], "no such folder"),
        (["--from-run", "{tmp}"], "holds no results.jsonl"),
        (["--from-store", "--store", "sqlite:///{tmp}/empty.db"], "holds no answered customer messages"),
        (["--from-store", "--store", "sqlite:///{tmp}/missing.db"], "does not exist"),
        (["--from-store", "--since", "last tuesday"], "is not an ISO date"),
        (["--from-run", "{tmp}", "--since", "2026-11-01"], "add --from-store"),
        ([], "give --from-store or --from-run"),
        (["--from-store", "--limit", "0"], "--limit 0"),
    ],
)
def test_bad_inputs_exit_2_with_one_line(
    args: list[str], expected: str, tiny_bot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Store(f"sqlite:///{tmp_path / 'empty.db'}").close()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = main(["review", "export", "--bot", str(tiny_bot_dir), *argv, "--out", str(tmp_path / "r.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "r.csv").exists()


def test_the_command_prints_what_it_wrote_and_the_next_step(
    tiny_trained_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    fill(url)
    out = tmp_path / "review.csv"
    args = ["review", "export", "--bot", str(tiny_trained_dir), "--from-store", "--store", url, "--out", str(out)]
    assert main([*args, "--since", "2000-01-01"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote 4 rows to {out}, standing for 8 of the 8 messages of store {url}" in printed
    assert f"python -m agent review apply {out} --bot {tiny_trained_dir}" in printed
    assert main([*args, "--since", "2999-01-01"]) == 2
    assert "holds no answered customer messages since 2999-01-01" in capsys.readouterr().err
