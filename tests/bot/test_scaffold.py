"""`init` writes a commented bot folder that loads as it is, and never writes over anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.bot.scaffold import FILES, default_name, init_bot
from agent.cli import main
from agent.exceptions import ConfigError
from agent.pipeline.assemble import load_bot


def test_init_writes_every_file_and_the_folder_loads(tmp_path: Path) -> None:
    folder = tmp_path / "acme"
    written = init_bot(folder, name="Acme help")
    assert sorted(p.relative_to(folder).as_posix() for p in written) == sorted(FILES)
    assert all(p.is_file() and p.read_text() for p in written)
    # Every YAML file shows its shape in comments.
    for rel in ("bot.yaml", "knowledge/intents.yaml", "knowledge/faq.yaml", "dialogs/templates.yaml"):
        assert (folder / rel).read_text().startswith("#"), rel
    bot = load_bot(folder)
    assert bot.config.name == "Acme help"
    assert bot.config.persona.greeting == "Hello! I'm Acme help. How can I help?"
    # Nothing written by hand yet: the built-in small talk is what it can say.
    assert set(bot.intent_names(include_oos=True)) == {"greeting", "thanks", "goodbye", "human_handoff", "oos"}
    assert bot.templates.templates["greeting"].text == bot.config.persona.greeting
    assert bot.config.dialog.handoff_intents == ["human_handoff"]
    assert bot.config.placeholders == {} and not bot.config.decoder.enabled
    assert (folder / ".gitignore").read_text() == "build/\n"
    assert "# Acme help" in (folder / "README.md").read_text()


def test_the_default_name_comes_from_the_folder(tmp_path: Path) -> None:
    assert default_name(tmp_path / "acme-shop_eu") == "Acme Shop Eu assistant"
    init_bot(tmp_path / "acme-shop")
    assert load_bot(tmp_path / "acme-shop").config.name == "Acme Shop assistant"


def test_an_existing_empty_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    init_bot(tmp_path / "empty", name="Empty")
    assert load_bot(tmp_path / "empty").config.name == "Empty"


def test_a_folder_with_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError) as info:
        init_bot(folder, name="X")
    assert "\n" not in str(info.value) and "not an empty folder" in str(info.value)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not an empty folder"):
        init_bot(tmp_path / "file")


@pytest.mark.parametrize("name", ['Say "hi"', "two\nlines", "C:\\bots", "Shop {name}", "   "])
def test_a_name_that_would_break_bot_yaml_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        init_bot(tmp_path / "bot", name=name)
    assert "\n" not in str(info.value) and "--name" in str(info.value)
    assert not (tmp_path / "bot").exists()


def test_a_name_with_yaml_characters_loads(tmp_path: Path) -> None:
    name = "Shop: help & more #1 'ok' [eu]"
    init_bot(tmp_path / "bot", name=name)
    assert load_bot(tmp_path / "bot").config.name == name


def test_cli_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "cli-bot"
    assert main(["init", str(folder), "--name", "CLI bot"]) == 0
    out = capsys.readouterr().out
    assert f"wrote a new bot in {folder}" in out and "bot.yaml" in out and "python -m agent import" in out
    assert load_bot(folder).config.name == "CLI bot"
    before = (folder / "bot.yaml").read_bytes()
    assert main(["init", str(folder)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "not an empty folder" in lines[0]
    assert captured.out == ""
    assert (folder / "bot.yaml").read_bytes() == before
