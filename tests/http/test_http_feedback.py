"""`POST /v1/conversations/{id}/feedback`: a conversation's token or a chat key rates one of its replies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_http_access import CHAT, KEYS, OPEN, SECRET, WIDGET, error_of, opened

from agent.http import create_app
from agent.pipeline.dialog import Agent
from agent.steps.encoder import Encoder


@pytest.fixture(scope="module")
def agent(tiny_trained_dir: Path, encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    db = tmp_path_factory.mktemp("feedback") / "feedback.db"
    loaded = Agent.load(tiny_trained_dir, encoder=encoder, store_url=f"sqlite:///{db}")
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def client(agent: Agent) -> Iterator[TestClient]:
    with TestClient(create_app(agent, KEYS, http=OPEN, token_secret=SECRET)) as test_client:
        yield test_client


def talked(client: TestClient) -> tuple[str, dict[str, str], int]:
    """A conversation with one answered message: its id, its token's headers and the reply's turn number."""
    conversation, token = opened(client)
    answered = client.post(f"/v1/conversations/{conversation}/messages", json={"text": "I lost my card"}, headers=token)
    assert answered.status_code == 200, answered.text
    turns = client.get(f"/v1/conversations/{conversation}", headers=token).json()["turns"]
    return conversation, token, next(t["seq"] for t in turns if t["role"] == "bot")


def rate(client: TestClient, conversation: str, headers: dict[str, str], **body: object):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/conversations/{conversation}/feedback", json=body, headers=headers)


def test_the_token_rates_a_reply_and_the_transcript_shows_the_latest_rating(client: TestClient) -> None:
    conversation, token, seq = talked(client)
    first = rate(client, conversation, token, seq=seq, rating="down", comment="my card is 4111 1111 1111 1111")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["conversation_id"], body["seq"], body["feedback"]["rating"]) == (conversation, seq, "down")
    assert body["feedback"]["comment"] == "my card is [card]"  # kept masked, like every customer text
    assert rate(client, conversation, token, seq=seq, rating="up").status_code == 200
    turns = client.get(f"/v1/conversations/{conversation}", headers=token).json()["turns"]
    rated = {t["seq"]: t["feedback"] for t in turns}
    assert rated[seq]["rating"] == "up" and rated[seq]["comment"] is None
    assert all(feedback is None for s, feedback in rated.items() if s != seq)


def test_chat_keys_rate_too_but_not_the_widget_key_or_another_conversations_token(client: TestClient) -> None:
    conversation, _, seq = talked(client)
    assert rate(client, conversation, CHAT, seq=seq, rating="up").status_code == 200
    assert rate(client, conversation, WIDGET, seq=seq, rating="up").status_code == 403
    _, other = opened(client)
    assert rate(client, conversation, other, seq=seq, rating="up").status_code == 403


def test_a_turn_that_is_no_reply_a_bad_rating_and_an_unknown_conversation_are_one_line(client: TestClient) -> None:
    conversation, token, seq = talked(client)
    customer = rate(client, conversation, token, seq=seq - 1, rating="up")
    assert customer.status_code == 422
    assert error_of(customer)["message"] == (
        f"seq: turn {seq - 1} of conversation '{conversation}' is a customer message, not a reply; "
        f"its replies are {seq} (the transcript numbers each turn)"
    )
    bad = rate(client, conversation, token, seq=seq, rating="meh")
    assert bad.status_code == 422 and "rating" in error_of(bad)["message"]
    assert rate(client, conversation, token, seq=-1, rating="up").status_code == 422
    missing = rate(client, "c-nobody", CHAT, seq=1, rating="up")
    assert missing.status_code == 404 and "no conversation 'c-nobody'" in error_of(missing)["message"]


def test_ratings_are_counted_in_the_metrics_and_the_widget_offers_thumbs(client: TestClient) -> None:
    conversation, token, seq = talked(client)
    rate(client, conversation, token, seq=seq, rating="down")
    metrics = client.get("/v1/metrics").text
    assert 'agent_feedback_total{rating="down"}' in metrics
    assert client.get("/v1/widget/config", headers=WIDGET).json()["feedback"] is True
