"""Ratings of replies: kept with the transcript, the latest one per reply, refused for a turn that is no reply."""

from __future__ import annotations

import pytest
from test_store import reply

from agent.exceptions import FeedbackError
from agent.storage.store import Store, TurnRecord
from agent.types import SessionState


@pytest.fixture()
def store(store_url: str):
    s = Store(store_url)
    for i in range(2):  # turns 0 (customer), 1 (bot), 2 (customer), 3 (bot)
        s.record([TurnRecord(customer_text=f"q{i}", reply=reply("c1", f"a{i}"), state=SessionState())])
    yield s
    s.close()


def test_a_rating_is_kept_with_its_reply_and_a_new_one_replaces_it(store: Store, store_url: str) -> None:
    first = store.rate("c1", 1, "down", "wrong fee")
    assert first is not None and (first.rating, first.comment) == ("down", "wrong fee")
    store.rate("c1", 1, "up")
    store.rate("c1", 3, "down")
    reopened = Store(store_url)  # another process sharing the store
    try:
        turns = reopened.conversation("c1").turns  # type: ignore[union-attr]
    finally:
        reopened.close()
    assert [(t.seq, t.feedback.rating if t.feedback else None) for t in turns] == [
        (0, None),
        (1, "up"),
        (2, None),
        (3, "down"),
    ]
    assert turns[1].feedback is not None and turns[1].feedback.comment is None  # replaced whole, comment too


def test_a_customer_turn_or_a_missing_turn_is_refused_in_one_line(store: Store) -> None:
    with pytest.raises(FeedbackError) as customer:
        store.rate("c1", 2, "up")
    assert str(customer.value) == (
        "turn 2 of conversation 'c1' is a customer message, not a reply; its replies are 1, 3 "
        "(the transcript numbers each turn)"
    )
    with pytest.raises(FeedbackError, match="turn 9 of conversation 'c1' is no turn, not a reply"):
        store.rate("c1", 9, "down")
    assert all(t.feedback is None for t in store.conversation("c1").turns)  # type: ignore[union-attr]


def test_an_unknown_conversation_is_none(store: Store) -> None:
    assert store.rate("nope", 1, "up") is None
