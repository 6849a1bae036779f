"""`python -m agent discover` end to end on the tiny bot: new topics proposed, covered ones not, the draft imports."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from agent.bot.folder import read_bot
from agent.cli import main

# Two topics the tiny bot (cards, greetings) has no intent for; its classifier sends each of them to `oos`.
# (Gift cards would not do: the tiny classifier claims any message with "card" for card_fee, confidently.)
ABROAD = [
    "send money abroad",
    "international transfer to another country",
    "how do I transfer money overseas",
    "wire money to a foreign bank",
    "send euros to my family abroad",
    "transfer money to an account in another country",
    "can I send money overseas",
    "how long does an international transfer take",
]
NORWAY = [
    "do you deliver to Norway",
    "can you ship to Norway",
    "delivery to Oslo in Norway",
    "how long does delivery to Norway take",
    "is shipping available to Norway",
    "I live in Norway, will you deliver here",
    "do you ship parcels to Norway",
    "can my parcel be delivered to Norway",
]
COVERED = ["I lost my card", "how much does the card cost", "my card was stolen", "is the card free"]


def write_log(path: Path) -> Path:
    """A JSONL conversation log: one conversation per message, agent replies in between (never read)."""
    mixed = [text for pair in zip(ABROAD, NORWAY, strict=True) for text in pair] + COVERED
    with path.open("w", encoding="utf-8") as handle:
        for n, text in enumerate(mixed):
            turns = [{"role": "customer", "text": text}, {"role": "agent", "text": "Let me check that for you."}]
            handle.write(json.dumps({"conversation_id": f"c{n}", "turns": turns}) + "\n")
    return path


@pytest.fixture()
def bot(tiny_trained_dir: Path, tmp_path: Path) -> Path:
    """A copy of the trained tiny bot (build included), which import may change."""
    return Path(shutil.copytree(tiny_trained_dir, tmp_path / "bot"))


def read_draft(path: Path) -> dict[str, list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["label"], []).append(row["text"])
    return found


def test_two_new_topics_come_back_named_and_import(bot: Path, tmp_path: Path, capsys) -> None:
    draft = tmp_path / "draft.csv"
    log = write_log(tmp_path / "log.jsonl")
    argv = ["discover", str(log), "--bot", str(bot), "--out", str(draft), "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "20 customer messages read" in out and "2 intents proposed" in out

    proposals = read_draft(draft)
    assert len(proposals) == 2, proposals
    abroad = next(name for name in proposals if {"money", "abroad", "transfer"} & set(name.split("_")))
    norway = next(name for name in proposals if "norway" in name)
    assert set(proposals[abroad]) == set(ABROAD)  # all 8 (fewer than 10), nothing else
    assert set(proposals[norway]) == set(NORWAY)
    everything = {text for texts in proposals.values() for text in texts}
    assert not everything & set(COVERED)  # the bot's own intents are not proposed again

    assert main(["import", str(draft), "--bot", str(bot)]) == 0
    names = {intent.name for intent in read_bot(bot).intents.intents}
    assert {abroad, norway} <= names


def test_text_file_min_size_and_jsonl_draft(bot: Path, tmp_path: Path, capsys) -> None:
    log = tmp_path / "messages.txt"
    log.write_text("\n".join(NORWAY + ABROAD[:3] + COVERED) + "\n", encoding="utf-8")
    draft = tmp_path / "draft.jsonl"
    argv = ["discover", str(log), "--bot", str(bot), "--out", str(draft), "--min-size", "4", "--no-progress"]
    assert main(argv) == 0
    rows = [json.loads(line) for line in draft.read_text().splitlines()]
    assert {row["label"] for row in rows} == {rows[0]["label"]} and "norway" in rows[0]["label"]
    assert rows[0]["size"] == 8
    assert "left unclustered" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (None, "missing.jsonl", "does not exist"),
        ("conversation_id,who,said\nc1,customer,hi\n", "log.csv", "no `text` column"),
        ('{"conversation_id": "c1", "turns": []}\n', "log.jsonl", "no customer message"),
        ("hello", "log.pdf", "unknown kind of file"),
    ],
)
def test_bad_log_is_one_line_and_nothing_is_written(
    bot: Path, tmp_path: Path, capsys, content: str | None, name: str, expected: str
) -> None:
    log = tmp_path / name
    if content is not None:
        log.write_text(content, encoding="utf-8")
    draft = tmp_path / "draft.csv"
    assert main(["discover", str(log), "--bot", str(bot), "--out", str(draft), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and expected in err and "\n" not in err and "Traceback" not in err
    assert not draft.exists() and not list(tmp_path.glob("*.tmp"))


def test_bad_options_are_refused_before_reading(bot: Path, tmp_path: Path, capsys) -> None:
    log = write_log(tmp_path / "log.jsonl")
    for extra, expected in [
        (["--out", str(tmp_path / "d.yaml")], "give a .csv or .jsonl"),
        (["--out", str(tmp_path / "d.csv"), "--min-size", "0"], "--min-size 0"),
        (["--out", str(tmp_path / "d.csv"), "--confidence", "1.5"], "--confidence 1.5"),
    ]:
        assert main(["discover", str(log), "--bot", str(bot), *extra]) == 2
        assert expected in capsys.readouterr().err
    assert not list(tmp_path.glob("d.*"))
