"""The conversation log: JSONL and CSV reading and writing, and stored conversations exported to it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.bot.schemas import LoggedConversation, LoggedTurn
from agent.exceptions import DatasetError
from agent.storage.conversation_log import (
    append_jsonl,
    from_record,
    read_csv,
    read_jsonl,
    to_json_line,
    write_csv,
    write_jsonl,
)
from agent.storage.store import ConversationRecord, Store, TurnRecord
from agent.types import Reply, SessionState


def conversations() -> list[LoggedConversation]:
    return [
        LoggedConversation(
            conversation_id="c1",
            started_at=datetime(2026, 11, 22, 9, 14, tzinfo=UTC),
            turns=[
                LoggedTurn(role="customer", text="where is my card?", intent="card_arrival"),
                LoggedTurn(role="agent", text="Cards arrive in 5-7 working days."),
                LoggedTurn(
                    role="customer", text='it says "sent", with a comma, and\na line break', intent="card_arrival"
                ),
                LoggedTurn(role="agent", text="Then it is on its way."),
                LoggedTurn(role="agent", text="Anything else?"),
            ],
        ),
        LoggedConversation(
            conversation_id="c2 ünïcode 我的卡",
            turns=[
                LoggedTurn(role="customer", text="hi"),
                LoggedTurn(role="customer", text="hello??", intent="greeting"),
            ],
        ),
    ]


def same(read: list[LoggedConversation], written: list[LoggedConversation]) -> None:
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


def _reply(session: str, text: str, intent: str | None) -> Reply:
    return Reply(session_id=session, text=text, source="faq", reason="test", intent=intent, confidence=0.9)


@pytest.fixture()
def store(store_url: str):
    s = Store(store_url)
    yield s
    s.close()


def test_stored_conversation_becomes_one_replay_line(store: Store, tmp_path: Path) -> None:
    store.record(
        [TurnRecord("how much to take out cash abroad?", _reply("c1", "Free up to EUR 200.", "atm"), SessionState())]
    )
    store.record([TurnRecord("and above that?", _reply("c1", "2%, min EUR 1.00.", None), SessionState())])
    record = store.conversation("c1")
    assert record is not None

    conversation = from_record(record)
    assert conversation.conversation_id == "c1"
    assert conversation.started_at.tzinfo is not None  # SQLite forgets the zone; the export says UTC
    assert [(t.role, t.text, t.intent) for t in conversation.turns] == [
        ("customer", "how much to take out cash abroad?", "atm"),
        ("agent", "Free up to EUR 200.", None),
        ("customer", "and above that?", None),  # the reply had no intent: none invented
        ("agent", "2%, min EUR 1.00.", None),
    ]

    line = json.loads(to_json_line(conversation))
    assert list(line) == ["conversation_id", "started_at", "turns"]
    assert datetime.fromisoformat(line["started_at"]) == conversation.started_at
    assert line["turns"][0] == {"role": "customer", "text": "how much to take out cash abroad?", "intent": "atm"}
    assert line["turns"][1] == {"role": "agent", "text": "Free up to EUR 200."}  # no "intent": null

    path = tmp_path / "out" / "log.jsonl"
    assert append_jsonl([conversation], path) == 1
    assert append_jsonl([conversation], path) == 1  # appends, never overwrites
    log = read_jsonl(path)  # one reader for every log: a conversation exported twice is read once
    assert [c.model_copy(update={"line": 0}) for c in log.conversations] == [conversation]
    assert [str(p) for p in log.problems] == [
        f"{path} line 2: duplicate conversation_id 'c1' (first on line 1); skipped"
    ]


def test_a_conversation_without_customer_turns_is_refused() -> None:
    record = ConversationRecord("empty", "open", datetime.now(UTC), datetime.now(UTC), [])
    with pytest.raises(DatasetError, match="Conversation 'empty' has no customer turns yet"):
        from_record(record)


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        read_jsonl(tmp_path / "missing.jsonl")
    with pytest.raises(DatasetError, match="is a folder"):
        read_jsonl(tmp_path)
    (tmp_path / "latin1.csv").write_bytes(b"conversation_id,turn,role,text\na,0,customer,caf\xe9\n")
    with pytest.raises(DatasetError, match="not UTF-8"):
        read_csv(tmp_path / "latin1.csv")


def test_unwritable_target_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    conversation = LoggedConversation(conversation_id="c", turns=[LoggedTurn(role="customer", text="hi")])
    with pytest.raises(DatasetError, match=r"Cannot write .*file/sub/log.jsonl"):
        append_jsonl([conversation], tmp_path / "file" / "sub" / "log.jsonl")


def test_the_bot_folders_example_conversations_are_the_same_model() -> None:
    # conversations.yaml says `id`, logs say `conversation_id`: one model reads both.
    example = LoggedConversation.model_validate({"id": "a", "turns": [{"role": "customer", "text": "hi"}]})
    assert example.conversation_id == "a"
    assert json.loads(to_json_line(example)) == {"conversation_id": "a", "turns": [{"role": "customer", "text": "hi"}]}


def test_a_bare_carriage_return_does_not_split_a_jsonl_line(tmp_path: Path) -> None:
    # Issue 19: "\r" between JSON tokens is whitespace; only "\n" ends a JSON Lines record.
    first = b'{"conversation_id": "c1",\r "turns": [{"role": "customer",\r"text": "hi"}]}'
    broken = b'{"conversation_id": "c2", "turns": [{"role": "customer", "text": "a\rb"}]}'  # raw CR in a string
    last = b'{"conversation_id": "c3", "turns": [{"role": "customer", "text": "bye"}]}'
    path = tmp_path / "log.jsonl"
    path.write_bytes(first + b"\n" + broken + b"\r\n" + last + b"\r\n")  # CRLF endings are fine too
    log = read_jsonl(path)
    assert [(c.conversation_id, c.line) for c in log.conversations] == [("c1", 1), ("c3", 3)]
    assert [(p.line, p.message.split(" (")[0]) for p in log.problems] == [(2, "not valid JSON")]


def test_direction_controls_are_taken_out_of_every_logged_turn(tmp_path: Path) -> None:
    # Issue 19: replay results and reports show the log's text; an override would redraw it reversed.
    line = {
        "conversation_id": "c1",
        "turns": [
            {"role": "customer", "text": "refund to \u202eNBAN\u202c please \u2066x\u2069"},
            {"role": "agent", "text": "\u200fSent to \u202dIBAN"},
        ],
    }
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (conv,) = read_jsonl(path).conversations
    assert [t.text for t in conv.turns] == ["refund to NBAN please x", "Sent to IBAN"]
    csv_path = tmp_path / "log.csv"
    csv_path.write_text("conversation_id,turn,role,text\nc1,0,customer,pay\u202egnp.exe\n", encoding="utf-8")
    assert read_csv(csv_path).conversations[0].turns[0].text == "paygnp.exe"
    only_controls = tmp_path / "only.jsonl"
    only_controls.write_text(json.dumps({"conversation_id": "c", "turns": [{"role": "customer", "text": "\u202e"}]}))
    assert "turns.0.text" in read_jsonl(only_controls).problems[0].message
