"""`review apply`: labelled rows become examples through import's machinery; idempotent; one-line errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from agent.cli import main
from agent.review.export import COLUMNS


def write_review(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS} | {"count": row.get("count", "1")})
    return path


def examples(bot: Path) -> dict[str, list[str]]:
    doc = yaml.safe_load((bot / "knowledge/intents.yaml").read_text())
    return {entry["name"]: entry["examples"] for entry in doc["intents"]}


ROWS = [
    {"text": "my card got eaten by the atm", "predicted": "oos", "label": "lost_card", "similar": "atm ate my card"},
    {"text": "what's my card's pin", "predicted": "card_fee", "label": ""},  # not labelled: left out
    {"text": "can I freeze my card", "predicted": "lost_card", "label": "Freeze Card"},  # a new intent
    {"text": "'=1+1 is what", "label": "oos"},  # written with the apostrophe export adds before a formula
    {"text": "my card is nowhere", "label": "Lost Card"},  # an existing intent, however it is spelled
]


def test_apply_adds_labelled_rows_skips_the_rest_and_twice_adds_nothing(
    tiny_bot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review = write_review(tmp_path / "review.csv", ROWS)
    assert main(["review", "apply", str(review), "--bot", str(tiny_bot_dir)]) == 0
    out = capsys.readouterr().out
    found = examples(tiny_bot_dir)
    assert set(found["lost_card"][-3:]) == {"atm ate my card", "my card got eaten by the atm", "my card is nowhere"}
    assert found["freeze_card"] == ["can I freeze my card"]
    assert "=1+1 is what" in found["oos"]
    assert not any("pin" in text for texts in found.values() for text in texts)
    templates = yaml.safe_load((tiny_bot_dir / "dialogs/templates.yaml").read_text())["templates"]
    assert templates["freeze_card"]["text"] == "{{Draft reply}}"
    assert "4 labelled rows (5 messages with their similar ones); 1 without a label left out" in out
    assert "added 1 new intents, 5 examples" in out
    assert "python -m agent train --bot" in out and "--compare" in out

    before = {p: p.read_bytes() for p in (tiny_bot_dir / "knowledge").iterdir() if p.is_file()}
    assert main(["review", "apply", str(review), "--bot", str(tiny_bot_dir)]) == 0
    again = capsys.readouterr().out
    assert "added 0 new intents, 0 examples" in again and "5 duplicates dropped" in again
    assert "nothing to change" in again and "next:" not in again
    assert before == {p: p.read_bytes() for p in (tiny_bot_dir / "knowledge").iterdir() if p.is_file()}


def test_a_label_names_an_existing_intent_however_it_is_spelled(tiny_bot_dir: Path, tmp_path: Path) -> None:
    path = tiny_bot_dir / "knowledge/intents.yaml"
    path.write_text(path.read_text().replace("name: card_fee", "name: Card_Fee"))  # as the demo's Refund_not_...
    templates = tiny_bot_dir / "dialogs/templates.yaml"
    templates.write_text(templates.read_text().replace("card_fee:", "Card_Fee:"))
    review = write_review(tmp_path / "review.csv", [{"text": "what does plus cost a month", "label": "card fee"}])
    assert main(["review", "apply", str(review), "--bot", str(tiny_bot_dir)]) == 0
    found = examples(tiny_bot_dir)
    assert "what does plus cost a month" in found["Card_Fee"] and "card_fee" not in found


def test_dry_run_writes_nothing(tiny_bot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review = write_review(tmp_path / "review.csv", ROWS)
    before = (tiny_bot_dir / "knowledge/intents.yaml").read_bytes()
    assert main(["review", "apply", str(review), "--bot", str(tiny_bot_dir), "--dry-run"]) == 0
    assert "would add 1 new intents, 5 examples" in capsys.readouterr().out
    assert (tiny_bot_dir / "knowledge/intents.yaml").read_bytes() == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("text,intent\nhello,greeting\n", "expected a review file with `text` and `label`"),
        (None, "does not exist"),
        ("", "is empty"),
    ],
)
def test_bad_review_files_exit_2_with_one_line(
    content: str | None, expected: str, tiny_bot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "review.csv"
    if content is not None:
        path.write_text(content)
    assert main(["review", "apply", str(path), "--bot", str(tiny_bot_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
