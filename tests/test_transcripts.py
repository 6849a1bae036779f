"""Transcripts in the replay format, from conversations in a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.exceptions import DatasetError
from agent.schemas import LoggedTurn
from agent.store import ConversationRecord, Store, TurnRecord
from agent.transcripts import ReplayConversation, append_jsonl, read_jsonl, to_replay
from agent.types import Reply, SessionState


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

    conversation = to_replay(record)
    assert conversation.conversation_id == "c1"
    assert conversation.started_at.tzinfo is not None  # SQLite forgets the zone; the export says UTC
    assert [(t.role, t.text, t.intent) for t in conversation.turns] == [
        ("customer", "how much to take out cash abroad?", "atm"),
        ("agent", "Free up to EUR 200.", None),
        ("customer", "and above that?", None),  # the reply had no intent: none invented
        ("agent", "2%, min EUR 1.00.", None),
    ]

    line = json.loads(conversation.to_json_line())
    assert list(line) == ["conversation_id", "started_at", "turns"]
    assert datetime.fromisoformat(line["started_at"]) == conversation.started_at
    assert line["turns"][0] == {"role": "customer", "text": "how much to take out cash abroad?", "intent": "atm"}
    assert line["turns"][1] == {"role": "agent", "text": "Free up to EUR 200."}  # no "intent": null

    path = tmp_path / "out" / "log.jsonl"
    assert append_jsonl([conversation], path) == 1
    assert append_jsonl([conversation], path) == 1  # appends, never overwrites
    assert read_jsonl(path) == [conversation, conversation]


def test_a_conversation_without_turns_is_refused() -> None:
    record = ConversationRecord("empty", "open", datetime.now(UTC), datetime.now(UTC), [])
    with pytest.raises(DatasetError, match="Conversation 'empty' has no turns yet"):
        to_replay(record)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"conversation_id": "a", "started_at": "2026-11-23T10:00:00Z", "turns": [', "line 2: not valid JSON"),
        (
            '{"conversation_id": "a", "started_at": "2026-11-23T10:00:00Z", "turns": [{"role": "bot", "text": "x"}]}',
            "line 2: turns.0.role: Input should be 'customer' or 'agent'.",
        ),
        ('{"conversation_id": "a", "turns": [{"role": "agent", "text": "x"}]}', "line 2: started_at: Field required."),
    ],
)
def test_bad_replay_lines_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    good = ReplayConversation(
        conversation_id="ok",
        started_at=datetime(2026, 11, 23, tzinfo=UTC),
        turns=[LoggedTurn(role="customer", text="hi")],
    )
    path = tmp_path / "log.jsonl"
    path.write_text(good.to_json_line() + "\n" + content + "\n")
    with pytest.raises(DatasetError) as caught:
        read_jsonl(path)
    assert str(caught.value).startswith(f"{path} {message}")
    assert "\n" not in str(caught.value)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        read_jsonl(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DatasetError, match="holds no conversations"):
        read_jsonl(tmp_path / "empty.jsonl")


def test_unwritable_target_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    conversation = ReplayConversation(
        conversation_id="c", started_at=datetime(2026, 11, 23, tzinfo=UTC), turns=[LoggedTurn(role="agent", text="hi")]
    )
    with pytest.raises(DatasetError, match=r"Cannot write .*file/sub/log.jsonl"):
        append_jsonl([conversation], tmp_path / "file" / "sub" / "log.jsonl")
