"""Replay inputs: JSONL and CSV round trips, malformed lines and rows, and conversations read from a store."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.exceptions import DatasetError
from agent.replay.inputs import load_input, read_csv, read_jsonl, write_csv, write_jsonl
from agent.replay.log import LogConversation, LogTurn
from agent.replay.stored import parse_date, read_store
from agent.store import Store, TurnRecord
from agent.types import Reply, SessionState


def conversations() -> list[LogConversation]:
    return [
        LogConversation(
            conversation_id="c1",
            started_at=datetime(2026, 11, 22, 9, 14, tzinfo=UTC),
            turns=[
                LogTurn(role="customer", text="where is my card?", intent="card_arrival"),
                LogTurn(role="agent", text="Cards arrive in 5-7 working days."),
                LogTurn(role="customer", text='it says "sent", with a comma, and\na line break', intent="card_arrival"),
                LogTurn(role="agent", text="Then it is on its way."),
                LogTurn(role="agent", text="Anything else?"),
            ],
        ),
        LogConversation(
            conversation_id="c2 ünïcode 我的卡",
            turns=[LogTurn(role="customer", text="hi"), LogTurn(role="customer", text="hello??", intent="greeting")],
        ),
    ]


def same(read: list[LogConversation], written: list[LogConversation]) -> None:
    assert [c.model_copy(update={"line": 0}) for c in read] == written


def test_jsonl_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    assert write_jsonl(conversations(), path) == 2
    log = read_jsonl(path)
    assert log.problems == []
    same(log.conversations, conversations())
    assert [c.line for c in log.conversations] == [1, 2]


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    assert write_csv(conversations(), path) == 2
    log = read_csv(path)
    assert log.problems == []
    same(log.conversations, conversations())


def test_csv_rows_are_ordered_by_turn_and_a_bom_and_extra_columns_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "\ufeffconversation_id,turn,role,text,channel\n"
        "a,1,agent,second,web\n"
        "a,0,customer,first,web\n"
        "a,2,customer,third,web\n",
        encoding="utf-8",
    )
    log = read_csv(path)
    assert [t.text for t in log.conversations[0].turns] == ["first", "second", "third"]


def test_customer_turns_carry_the_logged_reply() -> None:
    first, second = conversations()
    turns = first.customer_turns()
    assert [(t.index, t.gold_intent) for t in turns] == [(0, "card_arrival"), (2, "card_arrival")]
    assert turns[0].logged_reply == "Cards arrive in 5-7 working days."
    assert turns[1].logged_reply == "Then it is on its way.\nAnything else?"
    assert [t.logged_reply for t in second.customer_turns()] == [None, None]


def test_malformed_jsonl_lines_are_reported_by_line_and_skipped(tmp_path: Path) -> None:
    good = json.dumps({"conversation_id": "ok1", "turns": [{"role": "customer", "text": "hi"}], "channel": "web"})
    lines = [
        good,  # 1
        "{not json",  # 2
        "",  # 3: blank lines are fine
        "[1, 2]",  # 4
        json.dumps({"conversation_id": "x", "turns": [{"role": "bot", "text": "hi"}]}),  # 5
        json.dumps({"conversation_id": "y", "turns": [{"role": "customer", "text": ""}]}),  # 6
        json.dumps({"conversation_id": "z", "turns": [{"role": "agent", "text": "only me"}]}),  # 7
        json.dumps({"turns": [{"role": "customer", "text": "no id"}]}),  # 8
        good,  # 9: duplicate id
        json.dumps({"conversation_id": "ok2", "turns": [{"role": "customer", "text": "bye"}]}),  # 10
    ]
    path = tmp_path / "log.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"conversation_id": "\xff"}\n')  # 11: not UTF-8
    log = read_jsonl(path)
    assert [c.conversation_id for c in log.conversations] == ["ok1", "ok2"]
    problems = {p.line: p.message for p in log.problems}
    assert sorted(problems) == [2, 4, 5, 6, 7, 8, 9, 11]
    assert problems[2].startswith("not valid JSON")
    assert "turns.0.role" in problems[5] and "'customer' or 'agent'" in problems[5]
    assert "turns.0.text" in problems[6]
    assert "no customer turn" in problems[7]
    assert "conversation_id" in problems[8]
    assert "duplicate conversation_id 'ok1' (first on line 1)" in problems[9]
    assert "not UTF-8" in problems[11]
    assert str(log.problems[0]) == f"{path} line 2: {problems[2]}"
    assert all("\n" not in str(p) for p in log.problems)


def test_malformed_csv_rows_are_reported_and_the_rest_replays(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "conversation_id,turn,role,text,intent\n"  # 1
        "a,0,customer,hello,greeting\n"  # 2
        "a,x,customer,bad turn,\n"  # 3
        "a,1,robot,bad role,\n"  # 4
        ",2,customer,no id,\n"  # 5
        "a,3,customer,too,many,fields\n"  # 6
        "a,0,customer,same turn twice,\n"  # 7
        "b,0,agent,only an agent turn,\n"  # 8
        "a,4,customer,,\n"  # 9: empty text
        "a,5,customer,where is my card,card_arrival\n",  # 10
        encoding="utf-8",
    )
    log = read_csv(path)
    assert [c.conversation_id for c in log.conversations] == ["a"]
    assert [t.text for t in log.conversations[0].turns] == ["hello", "where is my card"]
    lines = sorted(p.line or 0 for p in log.problems)
    assert lines == [3, 4, 5, 6, 7, 8, 9]
    by_line = {p.line: p.message for p in log.problems}
    assert "turn must be a whole number" in by_line[3]
    assert "role" in by_line[4]
    assert "conversation_id is empty" in by_line[5]
    assert "more fields" in by_line[6]
    assert "turn 0 twice" in by_line[7]
    assert "no customer turn" in by_line[8]


def test_csv_without_a_required_column_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("conversation_id,role,text\na,customer,hi\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 1: missing column\(s\) turn"):
        read_csv(path)


def test_unreadable_inputs_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_input(str(tmp_path / "missing.jsonl"))
    with pytest.raises(DatasetError, match="is a folder"):
        read_jsonl(tmp_path)
    with pytest.raises(DatasetError, match=r"not a \.jsonl or \.csv file"):
        load_input(str(tmp_path / "log.txt"))
    with pytest.raises(DatasetError, match="select conversations in a store"):
        load_input(str(tmp_path / "log.jsonl"), ids=["a"])
    (tmp_path / "latin1.csv").write_bytes(b"conversation_id,turn,role,text\na,0,customer,caf\xe9\n")
    with pytest.raises(DatasetError, match="not UTF-8"):
        read_csv(tmp_path / "latin1.csv")
    with pytest.raises(DatasetError, match="is not an ISO date"):
        parse_date("yesterday", "--since")


def test_messages_the_bot_would_refuse_skip_their_conversation(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_jsonl(
        [
            LogConversation(conversation_id="long", turns=[LogTurn(role="customer", text="x" * 50)]),
            LogConversation(conversation_id="blank", turns=[LogTurn(role="customer", text="\x00\x07")]),
            LogConversation(conversation_id="fine", turns=[LogTurn(role="customer", text="hi")]),
        ],
        path,
    )
    log = read_jsonl(path)
    log.drop_unreplayable(max_chars=20)
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
