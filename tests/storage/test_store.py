"""The store on real SQLite and real PostgreSQL: turns in order, state, FAQ seeding, nothing lost on errors."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from agent.bot.schemas import FaqEntry
from agent.exceptions import FaqError, StoreError
from agent.storage.store import Store, TurnRecord
from agent.types import Fact, Reply, SessionState


def reply(session: str, text: str, handoff: bool = False) -> Reply:
    return Reply(
        session_id=session,
        text=text,
        source="handoff" if handoff else "template",
        reason="test",
        intent="x",
        confidence=0.9,
        facts=[Fact(subject="a", attribute="b", value="c")],
        handoff=handoff,
    )


@pytest.fixture()
def store(store_url: str):
    s = Store(store_url)
    yield s
    s.close()


def test_turns_in_order_with_trace_and_state(store: Store) -> None:
    for i in range(3):
        state = SessionState(fallback_count=i, slots={"card": "card_plus"})
        store.record([TurnRecord(customer_text=f"q{i}", reply=reply("c1", f"a{i}"), state=state)])
    conv = store.conversation("c1")
    assert conv is not None and conv.status == "open"
    assert [(t.seq, t.role, t.text) for t in conv.turns] == [
        (0, "customer", "q0"),
        (1, "bot", "a0"),
        (2, "customer", "q1"),
        (3, "bot", "a1"),
        (4, "customer", "q2"),
        (5, "bot", "a2"),
    ]
    kept = conv.turns[1].trace
    assert kept is not None and kept.facts == [Fact(subject="a", attribute="b", value="c")]
    # The kept trace has the store's own share and the total, as the caller's reply does.
    assert set(kept.timings_ms) >= {"store", "total"}
    assert conv.turns[0].trace is None
    assert store.load_states(["c1", "nope"]) == {"c1": SessionState(fallback_count=2, slots={"card": "card_plus"})}


def test_batch_of_conversations_and_status(store: Store) -> None:
    store.record(
        [
            TurnRecord("hi", reply("a", "hello"), SessionState()),
            TurnRecord("person please", reply("b", "passing you on", handoff=True), SessionState(handed_off=True)),
        ]
    )
    assert store.conversation("b").status == "handoff"  # type: ignore[union-attr]
    assert {c.id for c in store.list_conversations()} == {"a", "b"}
    assert store.end_conversation("a") and store.conversation("a").status == "ended"  # type: ignore[union-attr]
    assert not store.end_conversation("missing")
    assert store.conversation("missing") is None


def test_failed_write_keeps_earlier_turns(store: Store) -> None:
    store.record([TurnRecord("one", reply("c", "1"), SessionState())])
    too_long_id = reply("x" * 300, "2")  # longer than the id column: PostgreSQL refuses, SQLite ignores lengths
    batch = [TurnRecord("two", reply("c", "2"), SessionState()), TurnRecord("bad", too_long_id, SessionState())]
    if store.engine.dialect.name == "postgresql":
        with pytest.raises(StoreError, match="Could not save"):
            store.record(batch)
        # All or nothing: the batch's first turn was rolled back with the failing one.
        assert [t.text for t in store.conversation("c").turns] == ["one", "1"]  # type: ignore[union-attr]
    else:
        store.record(batch)
        assert [t.text for t in store.conversation("c").turns] == ["one", "1", "two", "2"]  # type: ignore[union-attr]


def test_unicode_round_trip(store: Store) -> None:
    text = "Моя карта 😡 カード ñ"
    store.record([TurnRecord(text, reply("u", text), SessionState())])
    assert [t.text for t in store.conversation("u").turns] == [text, text]  # type: ignore[union-attr]


FAQS = [
    FaqEntry(id="a", question="qa", answer="A"),
    FaqEntry(id="b", question="qb", alternatives=["qb2"], answer="B", tags=["t"], intent="x"),
]


def test_seed_is_idempotent_and_keeps_api_entries(store: Store) -> None:
    assert store.seed_faqs(FAQS) == (2, 0, 0)
    assert store.seed_faqs(FAQS) == (0, 0, 0)
    store.add_faq(FaqEntry(id="api", question="q", answer="added live"))
    changed = [FAQS[0].model_copy(update={"answer": "A2"})]
    assert store.seed_faqs(changed) == (0, 1, 1)
    assert [e.id for e in store.faq_entries()] == ["a", "api"]
    assert store.faq_entry("a").answer == "A2"  # type: ignore[union-attr]


def test_seed_digest_protects_live_edits(store: Store) -> None:
    assert store.seed_faqs(FAQS, digest="v1") == (2, 0, 0)
    store.update_faq(FAQS[0].model_copy(update={"answer": "edited live"}))
    store.delete_faq("b")
    assert store.seed_faqs(FAQS, digest="v1") == (0, 0, 0)  # a restart: same faq.yaml
    assert [(e.id, e.answer) for e in store.faq_entries()] == [("a", "edited live")]
    changed = [FAQS[0].model_copy(update={"answer": "from yaml"}), FAQS[1]]
    assert store.seed_faqs(changed, digest="v2") == (1, 0, 0)  # the live edit of "a" still wins
    assert store.faq_entry("a").answer == "edited live"  # type: ignore[union-attr]


def test_faq_crud_errors(store: Store) -> None:
    store.add_faq(FAQS[1])
    assert store.faq_entry("b") == FAQS[1]
    with pytest.raises(FaqError, match="already exists"):
        store.add_faq(FAQS[1])
    with pytest.raises(FaqError, match="does not exist"):
        store.update_faq(FAQS[0])
    with pytest.raises(FaqError, match="does not exist"):
        store.delete_faq("zzz")
    store.update_faq(FAQS[1].model_copy(update={"answer": "B2"}))
    assert store.faq_entry("b").answer == "B2"  # type: ignore[union-attr]
    store.delete_faq("b")
    assert store.faq_entries() == []


def test_bad_urls(tmp_path) -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        Store("not a url")
    with pytest.raises(StoreError, match="Cannot open the store"):
        Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")


def test_one_write_may_hold_several_turns_of_one_conversation(store: Store) -> None:
    store.record(
        [
            TurnRecord("q0", reply("s", "a0"), SessionState()),
            TurnRecord("q1", reply("s", "a1"), SessionState(fallback_count=1)),
            TurnRecord("other", reply("t", "hello"), SessionState()),
        ]
    )
    conv = store.conversation("s")
    assert conv is not None and [(t.seq, t.text) for t in conv.turns] == [(0, "q0"), (1, "a0"), (2, "q1"), (3, "a1")]
    assert store.load_states(["s"])["s"].fallback_count == 1
    with store.engine.connect() as conn:  # a message has no trace: SQL NULL, not the JSON text 'null'
        assert conn.execute(text("SELECT count(*) FROM turns WHERE trace IS NULL")).scalar() == 3


def test_delete_conversations_removes_their_turns(store: Store) -> None:
    store.record([TurnRecord("hi", reply("a", "hello"), SessionState())])
    store.record([TurnRecord("hey", reply("b", "hello"), SessionState())])
    assert store.delete_conversations(["a", "missing"]) == 1
    assert store.conversation("a") is None and store.load_states(["a"]) == {}
    assert store.conversation("b") is not None and store.delete_conversations([]) == 0
    store.record([TurnRecord("again", reply("a", "new start"), SessionState())])
    assert [t.seq for t in store.conversation("a").turns] == [0, 1]  # type: ignore[union-attr]
