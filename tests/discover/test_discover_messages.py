"""Reading LOG for discover: customer turns of a conversation log, a `text` column, plain lines; bad lines skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.discover.messages import read_messages
from agent.exceptions import DatasetError


def test_conversation_csv_keeps_customer_turns_only(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "conversation_id,turn,role,text\nc1,0,customer,do you ship to Norway\nc1,1,agent,Not yet.\n"
        "c2,0,customer,send money abroad\nc2,x,customer,broken row\n",
        encoding="utf-8",
    )
    read = read_messages(log, 2000)
    assert read.texts == ["do you ship to Norway", "send money abroad"]
    assert len(read.problems) == 1 and "line 5" in read.problems[0]


def test_jsonl_conversations_and_text_rows(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    turns = [{"role": "customer", "text": "hi"}, {"role": "agent", "text": "hello"}]
    log.write_text(json.dumps({"conversation_id": "c1", "turns": turns}) + "\nnot json\n", encoding="utf-8")
    read = read_messages(log, 2000)
    assert read.texts == ["hi"] and read.problems and "line 2" in read.problems[0]
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "a gift card"}\n{"text": "x" }\n', encoding="utf-8")
    assert read_messages(rows, 2000).texts == ["a gift card", "x"]


def test_text_table_with_roles_and_too_long_messages(tmp_path: Path) -> None:
    table = tmp_path / "messages.csv"
    table.write_text("role,text\ncustomer,where is my parcel\nagent,on its way\ncustomer," + "y" * 50 + "\n")
    read = read_messages(table, 20)
    assert read.texts == ["where is my parcel"] and len(read.problems) == 1 and "line 4" in read.problems[0]


def test_not_utf8_text_file_is_one_error(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_bytes(b"caf\xe9\n")
    with pytest.raises(DatasetError, match="not UTF-8"):
        read_messages(log, 2000)
