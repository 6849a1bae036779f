"""The HTTP API through the ASGI test client: real app, real agent (demo bot), real SQLite store."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from agent import Agent, StoreError
from agent.config import HttpConfig, RateLimitConfig
from agent.http import ApiKeys, create_app

KEYS = ApiKeys.parse("chat-key:chat,admin-key:admin,other-key:chat", "test keys")
CHAT = {"Authorization": "Bearer chat-key"}
ADMIN = {"Authorization": "Bearer admin-key"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def agent(module_agent: Agent) -> Agent:
    return module_agent  # FAQ edits here re-save the FAQ index: on this module's own copy of the bot


@pytest.fixture(scope="module")
def client(agent: Agent) -> Iterator[TestClient]:
    with TestClient(create_app(agent, KEYS)) as test_client:
        yield test_client


def post(client: TestClient, conversation: str, text: str, headers: dict[str, str] = CHAT) -> dict:
    response = client.post(f"/v1/conversations/{conversation}/messages", json={"text": text}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def assert_clean_error(body: str, status: int, response_status: int) -> dict:
    """An error body is one JSON object with a code and one line, and shows nothing of the server's insides."""
    assert response_status == status, body
    data = json.loads(body)
    assert set(data) == {"error", "message"} and "\n" not in data["message"]
    for leak in ("Traceback", 'File "', "/tmp", "/work", "sqlite:", ".py"):
        assert leak not in body
    return data


# --- conversations ------------------------------------------------------------------


def test_reply_carries_text_source_intent_confidence_and_trace(client: TestClient) -> None:
    response = client.post(
        "/v1/conversations/shape-1/messages", json={"text": "how do I top up by card?"}, headers=CHAT
    )
    assert response.status_code == 200 and response.headers["X-Agent-Worker"].isdigit()
    reply = response.json()
    assert reply["conversation_id"] == "shape-1" and reply["text"]
    assert reply["source"] in {"faq", "template"} and reply["intent"] and 0 < reply["confidence"] <= 1
    trace = reply["trace"]
    assert trace["reason"] and trace["intents"] and "encoder" in trace["timings_ms"]


def test_history_lists_every_turn_in_order(client: TestClient) -> None:
    messages = ["hello", "how much is the plus card?", "and the premium card?"]
    replies = [post(client, "history-1", text)["text"] for text in messages]
    response = client.get("/v1/conversations/history-1", headers=CHAT)
    assert response.status_code == 200
    data = response.json()
    assert data["conversation_id"] == "history-1" and data["status"] == "open"
    turns = data["turns"]
    assert [t["role"] for t in turns] == ["customer", "bot"] * 3
    assert [t["text"] for t in turns[0::2]] == messages
    assert [t["text"] for t in turns[1::2]] == replies
    assert [t["seq"] for t in turns] == list(range(6))
    assert turns[0]["trace"] is None and turns[1]["trace"]["reason"]


def test_control_characters_are_stripped_before_storing(client: TestClient) -> None:
    post(client, "control-1", "my card\x00 was\x1b stolen\u200b\n today")
    turns = client.get("/v1/conversations/control-1", headers=CHAT).json()["turns"]
    assert turns[0]["text"] == "my card was stolen today"


def test_personal_data_is_masked_in_the_store(client: TestClient) -> None:
    reply = post(client, "pii-1", "I lost card 4111 1111 1111 1111, reach me at ann@example.com or +44 20 7946 0958")
    assert reply["source"] in {"faq", "template", "ask"}
    stored = client.get("/v1/conversations/pii-1", headers=CHAT).text
    assert "[card]" in stored and "[email]" in stored and "[phone]" in stored
    for secret in ("4111", "ann@example.com", "7946 0958"):
        assert secret not in stored


def test_end_conversation(client: TestClient) -> None:
    post(client, "ending-1", "hi")
    ended = client.post("/v1/conversations/ending-1/end", headers=CHAT)
    assert ended.status_code == 200 and ended.json() == {"conversation_id": "ending-1", "status": "ended"}
    late = client.post("/v1/conversations/ending-1/messages", json={"text": "still there?"}, headers=CHAT)
    assert_clean_error(late.text, 409, late.status_code)
    assert len(client.get("/v1/conversations/ending-1", headers=CHAT).json()["turns"]) == 2  # nothing stored
    for response in (
        client.post("/v1/conversations/nobody-here/end", headers=CHAT),
        client.get("/v1/conversations/nobody-here", headers=CHAT),
    ):
        assert_clean_error(response.text, 404, response.status_code)


# --- authentication -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-key"}, 401),
        ({"Authorization": "Basic Y2hhdC1rZXk6"}, 401),
        ({"Authorization": "Bearer"}, 401),
    ],
)
def test_missing_or_wrong_key_is_401(client: TestClient, headers: dict[str, str], status: int) -> None:
    response = client.post("/v1/conversations/auth-1/messages", json={"text": "hi"}, headers=headers)
    assert_clean_error(response.text, status, response.status_code)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_chat_key_cannot_administer_but_admin_key_can_chat(client: TestClient) -> None:
    response = client.get("/v1/faq", headers=CHAT)
    assert assert_clean_error(response.text, 403, response.status_code)["error"] == "forbidden"
    assert post(client, "auth-2", "hello", headers=ADMIN)["text"]


# --- input rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (json.dumps({"text": "x" * 2001}), 422, "limit is 2,000"),
        (json.dumps({"text": "y" * 70_000}), 413, "65,536 bytes"),
        ("{not json", 422, "invalid JSON"),
        (json.dumps({"text": "hi", "extra": 1}), 422, "body.extra: unknown field"),
        (json.dumps({}), 422, "body.text: field required"),
        ("", 422, "body"),
        (json.dumps({"text": 42}), 422, "body.text"),
        (json.dumps({"text": ""}), 422, "body.text"),
        (json.dumps({"text": "\x00\x01 \t"}), 422, "empty"),
        (json.dumps(["hi"]), 422, "JSON object"),
        ('{"text": "\\ud800"}', 422, "body.text"),
    ],
)
def test_bad_bodies_get_a_clear_json_error(client: TestClient, body: str, status: int, says: str) -> None:
    response = client.post("/v1/conversations/input-1/messages", content=body.encode(), headers={**CHAT, **JSON})
    assert says in assert_clean_error(response.text, status, response.status_code)["message"]


def test_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(100):
            yield b"z" * 1000
        yield b'"}'

    response = client.post("/v1/conversations/input-2/messages", content=chunks(), headers={**CHAT, **JSON})
    assert "65,536" in assert_clean_error(response.text, 413, response.status_code)["message"]


@pytest.mark.parametrize("conversation", ["-starts-with-dash", "has space", "x" * 129, "semi;colon", "%00"])
def test_conversation_ids_are_validated(client: TestClient, conversation: str) -> None:
    response = client.post(f"/v1/conversations/{conversation}/messages", json={"text": "hi"}, headers=CHAT)
    assert response.status_code in (404, 422)  # a '/' or '%' may not even reach the route
    assert_clean_error(response.text, response.status_code, response.status_code)


def test_long_but_allowed_message_is_answered(client: TestClient) -> None:
    assert post(client, "input-3", "where is my card? " * 110)["text"]  # 1,980 characters


def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    for response in (client.get("/v1/nothing"), client.delete("/v1/conversations/x/messages", headers=CHAT)):
        assert_clean_error(response.text, response.status_code, response.status_code)


def test_internal_and_store_failures_hide_details(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(agent, KEYS), raise_server_exceptions=False) as test_client:
        monkeypatch.setattr(agent, "conversation", lambda _id: (_ for _ in ()).throw(RuntimeError("/work/x.py boom")))
        response = test_client.get("/v1/conversations/any", headers=CHAT)
        assert "incident" in assert_clean_error(response.text, 500, response.status_code)["message"]
        failure = StoreError("Could not read sqlite:////tmp/secret/agent.db: disk I/O error")
        monkeypatch.setattr(agent, "conversation", lambda _id: (_ for _ in ()).throw(failure))
        response = test_client.get("/v1/conversations/any", headers=CHAT)
        assert_clean_error(response.text, 503, response.status_code)


# --- FAQ administration -------------------------------------------------------------


def test_faq_add_update_delete_follow_live(client: TestClient) -> None:
    before = client.get("/v1/faq", headers=ADMIN).json()
    assert before["count"] == len(before["entries"]) > 100
    entry = {"id": "pet-insurance", "question": "Do you offer pet insurance?", "answer": "Not yet: pets are next."}
    created = client.post("/v1/faq", json=entry, headers=ADMIN)
    assert created.status_code == 201 and created.json()["id"] == "pet-insurance"
    reply = post(client, "faq-1", "do you offer pet insurance?")
    assert reply["source"] == "faq" and reply["text"] == entry["answer"]
    duplicate = client.post("/v1/faq", json=entry, headers=ADMIN)
    assert_clean_error(duplicate.text, 409, duplicate.status_code)

    changed = {"question": "Do you offer pet insurance?", "answer": "Yes, from next spring.", "tags": ["pets"]}
    assert client.put("/v1/faq/pet-insurance", json=changed, headers=ADMIN).status_code == 200
    assert client.get("/v1/faq/pet-insurance", headers=ADMIN).json()["answer"] == changed["answer"]
    assert post(client, "faq-2", "do you offer pet insurance?")["text"] == changed["answer"]
    assert client.get("/v1/faq", headers=ADMIN).json()["count"] == before["count"] + 1

    assert client.delete("/v1/faq/pet-insurance", headers=ADMIN).status_code == 204
    assert post(client, "faq-3", "do you offer pet insurance?")["text"] != changed["answer"]
    for response in (
        client.get("/v1/faq/pet-insurance", headers=ADMIN),
        client.delete("/v1/faq/pet-insurance", headers=ADMIN),
        client.put("/v1/faq/pet-insurance", json=changed, headers=ADMIN),
    ):
        assert_clean_error(response.text, 404, response.status_code)


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "Bad Id", "question": "q?", "answer": "a"},
        {"id": "ok-id", "question": "  ", "answer": "a"},
        {"id": "ok-id", "question": "q?", "answer": "a\x00b"},
        {"id": "ok-id", "question": "q?", "answer": "a", "colour": "red"},
        {"id": "ok-id", "question": "q?"},
    ],
)
def test_invalid_faq_entries_are_refused(client: TestClient, entry: dict) -> None:
    response = client.post("/v1/faq", json=entry, headers=ADMIN)
    assert_clean_error(response.text, 422, response.status_code)


# --- operations ---------------------------------------------------------------------


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/v1/health").json()["status"] == "ok"
    ready = client.get("/v1/ready").json()
    assert ready["status"] == "ready" and ready["faq_entries"] > 100
    post(client, "metrics-1", "can you book me a flight to Paris?")  # a fallback
    text = client.get("/v1/metrics").text
    assert (
        'agent_http_requests_total{method="POST",route="/v1/conversations/{conversation_id}/messages",status="200"}'
        in text
    )
    assert "agent_http_request_duration_seconds_bucket" in text
    assert 'agent_answers_total{source="fallback"}' in text
    fallbacks = next(line for line in text.splitlines() if line.startswith("agent_fallbacks_total "))
    assert float(fallbacks.split()[1]) >= 1
    assert "agent_handoffs_total" in text and "agent_batch_size_bucket" in text
    assert "/v1/conversations/metrics-1" not in text  # routes are labelled by template, not raw path


def test_openapi_schema_is_published(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/v1/conversations/{conversation_id}/messages", "/v1/faq", "/v1/faq/{faq_id}", "/v1/ready"} <= set(paths)
    assert schema["components"]["schemas"]["MessageIn"]["properties"]["text"]["maxLength"] == 2000
    assert schema["components"]["schemas"]["MessageIn"]["additionalProperties"] is False


# --- rate limit ---------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(agent: Agent) -> None:
    limited = HttpConfig(rate_limit=RateLimitConfig(per_key="3/minute"))
    with TestClient(create_app(agent, KEYS, http=limited)) as test_client:
        codes = [test_client.get("/v1/conversations/nobody", headers=CHAT).status_code for _ in range(3)]
        assert codes == [404, 404, 404]
        refused = test_client.get("/v1/conversations/nobody", headers=CHAT)
        data = assert_clean_error(refused.text, 429, refused.status_code)
        assert "3/minute for this API key" in data["message"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # Another key has its own count; unauthenticated health checks are not limited.
        assert (
            test_client.get("/v1/conversations/nobody", headers={"Authorization": "Bearer other-key"}).status_code
            == 404
        )
        assert test_client.get("/v1/health").status_code == 200
        assert 'agent_rate_limited_total{limit="key"} 1.0' in test_client.get("/v1/metrics").text
