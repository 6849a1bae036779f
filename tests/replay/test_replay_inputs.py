"""Replay input: picking the reader for INPUT, stored conversations by id and date, unreplayable messages."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.bot.schemas import LoggedConversation, LoggedTurn
from agent.exceptions import DatasetError
from agent.replay.inputs import drop_unreplayable, load_input
from agent.replay.stored import parse_date, read_store
from agent.storage.conversation_log import read_jsonl, write_jsonl
from agent.storage.store import Store, TurnRecord
from agent.types import Reply, SessionState


def test_unreadable_inputs_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_input(str(tmp_path / "missing.jsonl"))
    with pytest.raises(DatasetError, match=r"not a \.jsonl or \.csv file"):
        load_input(str(tmp_path / "log.txt"))
    with pytest.raises(DatasetError, match="select conversations in a store"):
        load_input(str(tmp_path / "log.jsonl"), ids=["a"])
    with pytest.raises(DatasetError, match="is not an ISO date"):
        parse_date("yesterday", "--since")


def test_messages_the_bot_would_refuse_skip_their_conversation(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_jsonl(
        [
            LoggedConversation(conversation_id="long", turns=[LoggedTurn(role="customer", text="x" * 50)]),
            LoggedConversation(conversation_id="blank", turns=[LoggedTurn(role="customer", text="\x00\x07")]),
            LoggedConversation(conversation_id="fine", turns=[LoggedTurn(role="customer", text="hi")]),
        ],
        path,
    )
    log = read_jsonl(path)
    drop_unreplayable(log, max_chars=20)
    assert [c.conversation_id for c in log.conversations] == ["fine"]
    messages = [str(p) for p in log.problems]
    assert "line 1: conversation 'long' turn 0: Message is 50 characters; the limit is 20" in messages[0]
    assert "line 2: conversation 'blank' turn 0: Message is empty" in messages[1]


def _reply(session: str, text: str, intent: str) -> Reply:
    return Reply(session_id=session, text=text, source="template", reason="test", intent=intent, confidence=0.9)


def test_store_conversations_round_trip_by_id_and_date(store_url: str) -> None:
    store = Store(store_url)
    try:
        store.record([TurnRecord("where is my card?", _reply("old", "On its way.", "card_arrival"), SessionState())])
        time.sleep(0.05)
        middle = datetime.now(UTC)
        time.sleep(0.05)
        store.record([TurnRecord("hi", _reply("new", "Hello!", "greeting"), SessionState())])
        store.record([TurnRecord("bye", _reply("new", "Goodbye!", "goodbye"), SessionState())])
    finally:
        store.close()
    everything = read_store(store_url)
    assert [c.conversation_id for c in everything.conversations] == ["old", "new"]
    new = everything.conversations[1]
    assert [(t.role, t.text, t.intent) for t in new.turns] == [
        ("customer", "hi", "greeting"),
        ("agent", "Hello!", None),
        ("customer", "bye", "goodbye"),
        ("agent", "Goodbye!", None),
    ]
    assert [c.conversation_id for c in read_store(store_url, since=middle).conversations] == ["new"]
    assert [c.conversation_id for c in read_store(store_url, until=middle).conversations] == ["old"]
    picked = read_store(store_url, ids=["new", "nope"])
    assert [c.conversation_id for c in picked.conversations] == ["new"]
    assert [p.message for p in picked.problems] == ["conversation 'nope' is not in the store"]


def test_reading_a_store_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "typo.db"
    with pytest.raises(DatasetError, match="does not exist"):
        load_input(f"sqlite:///{target}")
    assert not target.exists()
