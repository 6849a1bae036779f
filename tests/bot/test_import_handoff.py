"""An imported intent that asks for a person hands off: `import` adds it to dialog.handoff_intents."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.bot.importing.messages import asks_for_person
from agent.bot.scaffold import init_bot
from agent.cli import main
from agent.pipeline.assemble import load_bot


@pytest.mark.parametrize(
    ("name", "examples", "expected"),
    [
        ("contact_human_agent", [], True),
        ("live_agent", [], True),
        ("talk_to_someone", ["can I speak to a person", "connect me with an agent please", "talk to staff"], True),
        ("contact_customer_service", ["how do I contact customer service", "what is your phone number"], False),
        ("track_order", ["where is my order", "has my parcel shipped"], False),
    ],
)
def test_which_intents_ask_for_a_person(name: str, examples: list[str], expected: bool) -> None:
    assert asks_for_person(name, examples) is expected


def test_import_adds_the_handoff_intent_to_bot_yaml_keeping_its_comments(tmp_path: Path, capsys) -> None:
    bot = tmp_path / "shop"
    init_bot(bot, "Shop")
    data = tmp_path / "messages.csv"
    data.write_text(
        "text,label,response\n"
        "i want to speak to a human agent,contact_human_agent,Connecting you with an agent now.\n"
        "can i talk to a real person,contact_human_agent,Connecting you with an agent now.\n"
        "where is my order,track_order,Under Orders in your account.\n"
    )
    assert main(["import", str(data), "--bot", str(bot)]) == 0
    assert "contact_human_agent: asks for a person" in capsys.readouterr().out
    config = (bot / "bot.yaml").read_text()
    assert "handoff_intents: [human_handoff, contact_human_agent]" in config
    assert "# Intents that hand the conversation to a person." in config  # init's comments survive
    assert load_bot(bot).config.dialog.handoff_intents == ["human_handoff", "contact_human_agent"]
    before = config
    assert main(["import", str(data), "--bot", str(bot)]) == 0
    assert (bot / "bot.yaml").read_text() == before  # a second import changes nothing
