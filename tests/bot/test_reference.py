"""The configuration reference: generated from the settings models, complete, and up to date."""

from __future__ import annotations

from pathlib import Path

from agent.bot.reference import reference
from agent.cli import main
from agent.config import BotConfig

ROOT = Path(__file__).resolve().parents[2]


def _keys(model: type, prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            out += _keys(annotation, f"{key}.")
        else:
            out.append(key)
    return out


def test_every_key_has_a_row_with_a_meaning() -> None:
    rows = {line.split("|")[1].strip().strip("`"): line for line in reference().splitlines() if line.startswith("| `")}
    keys = _keys(BotConfig)
    assert set(keys) == set(rows), set(keys) ^ set(rows)
    unexplained = [key for key in keys if rows[key].rstrip().endswith("|  |")]
    assert unexplained == [], (
        f"keys without a meaning (add a comment above the field in agent/config.py): {unexplained}"
    )


def test_the_committed_reference_is_up_to_date(capsys) -> None:
    # Fails after a change to agent/config.py until `python -m agent config-reference` is run again.
    assert main(["config-reference", "--check", "--out", str(ROOT / "docs" / "configuration.md")]) == 0


def test_check_reports_a_stale_file(tmp_path: Path, capsys) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text("old\n")
    assert main(["config-reference", "--check", "--out", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["config-reference", "--out", str(stale)]) == 0 and stale.read_text() == reference()
