"""Who may do what over HTTP: widget keys and conversation tokens, CORS, and the limits they count against.

The real app (ASGI test client) over the trained tiny bot and a real SQLite store.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.config import HttpConfig, RateLimitConfig
from agent.http import ApiKeys, create_app
from agent.http.tokens import ConversationTokens
from agent.pipeline.dialog import Agent
from agent.steps.encoder import Encoder

KEYS = ApiKeys.parse("site-key:widget,chat-key:chat,admin-key:admin", "test keys")
WIDGET = {"Authorization": "Bearer site-key"}
CHAT = {"Authorization": "Bearer chat-key"}
ADMIN = {"Authorization": "Bearer admin-key"}
SECRET = "a-test-secret-that-is-long-enough-0123456789"
ORIGIN = "https://shop.example.com"
OPEN = HttpConfig(rate_limit=RateLimitConfig(per_conversation=None, per_address=None, per_key=None))


@pytest.fixture(scope="module")
def agent(tiny_trained_dir: Path, encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    db = tmp_path_factory.mktemp("access") / "access.db"
    loaded = Agent.load(tiny_trained_dir, encoder=encoder, store_url=f"sqlite:///{db}")
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def client(agent: Agent) -> Iterator[TestClient]:
    http = OPEN.model_copy(update={"cors_origins": [ORIGIN]})
    with TestClient(create_app(agent, KEYS, http=http, token_secret=SECRET)) as test_client:
        yield test_client


def opened(client: TestClient, headers: dict[str, str] = WIDGET) -> tuple[str, dict[str, str]]:
    """A new conversation's id and the headers that carry its token."""
    response = client.post("/v1/conversations", json={}, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}


def message(client: TestClient, conversation: str, headers: dict[str, str], text: str = "hi") -> int:
    return client.post(f"/v1/conversations/{conversation}/messages", json={"text": text}, headers=headers).status_code


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error", "message"} and "\n" not in body["message"]
    return body


def test_a_widget_key_opens_a_conversation_that_its_token_then_carries(client: TestClient, agent: Agent) -> None:
    response = client.post("/v1/conversations", headers=WIDGET)  # no body is the same as {}
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"conversation_id", "token", "expires_at", "greeting"}
    assert body["greeting"] == agent.config.persona.greeting == "Hello! I'm Tiny bot. How can I help?"
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).timestamp()
    assert abs(expires - (time.time() + agent.config.http.token_ttl_s)) < 120
    conversation, token = body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}
    empty = client.get(f"/v1/conversations/{conversation}", headers=token)
    assert empty.status_code == 200 and empty.json()["turns"] == [] and empty.json()["status"] == "open"
    reply = client.post(
        f"/v1/conversations/{conversation}/messages", json={"text": "how much is the plus card"}, headers=token
    )
    assert reply.status_code == 200 and reply.json()["text"] == "The Plus card costs EUR 4.99 a month."
    assert len(client.get(f"/v1/conversations/{conversation}", headers=token).json()["turns"]) == 2
    assert client.post(f"/v1/conversations/{conversation}/end", headers=token).status_code == 200
    assert message(client, conversation, token) == 409


def test_ids_are_new_and_random(client: TestClient) -> None:
    ids = {opened(client)[0] for _ in range(5)}
    assert len(ids) == 5 and all(i.startswith("c-") and len(i) == 26 for i in ids)


def test_a_token_reaches_its_own_conversation_only(client: TestClient) -> None:
    first, first_token = opened(client)
    second, second_token = opened(client)
    assert message(client, first, first_token) == 200
    for response in (
        client.get(f"/v1/conversations/{first}", headers=second_token),
        client.post(f"/v1/conversations/{first}/messages", json={"text": "hi"}, headers=second_token),
        client.post(f"/v1/conversations/{first}/end", headers=second_token),
        client.get(f"/v1/conversations/{second}", headers=first_token),
    ):
        assert response.status_code == 403
        assert "another conversation" in error_of(response)["message"]
    assert len(client.get(f"/v1/conversations/{first}", headers=first_token).json()["turns"]) == 2  # untouched


def test_expired_and_forged_tokens_are_401(client: TestClient) -> None:
    conversation, token = opened(client)
    expired = ConversationTokens(SECRET, 60).issue(conversation, now=time.time() - 3600).token
    foreign = ConversationTokens("another-secret-just-as-long-as-ours-0123", 600).issue(conversation).token
    header, _, signature = token["Authorization"].split()[1].split(".")
    other_payload = opened(client)[1]["Authorization"].split()[1].split(".")[1]
    payload_swapped = f"{header}.{other_payload}.{signature}"  # another conversation's claims, this signature
    for bad, says in [(expired, "expired"), (foreign, "invalid"), (payload_swapped, "invalid")]:
        response = client.get(f"/v1/conversations/{conversation}", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401 and says in error_of(response)["message"]
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_widget_key_may_only_open_conversations(client: TestClient) -> None:
    conversation, _ = opened(client)
    for response in (
        client.get(f"/v1/conversations/{conversation}", headers=WIDGET),
        client.post(f"/v1/conversations/{conversation}/messages", json={"text": "hi"}, headers=WIDGET),
        client.post(f"/v1/conversations/{conversation}/end", headers=WIDGET),
    ):
        assert response.status_code == 403 and "token" in error_of(response)["message"]
    entry = {"id": "widget-entry", "question": "Can a widget add this?", "answer": "No."}
    for response in (
        client.get("/v1/faq", headers=WIDGET),
        client.post("/v1/faq", json=entry, headers=WIDGET),
        client.delete("/v1/faq/opening-hours", headers=WIDGET),
    ):
        assert response.status_code == 403 and "'widget'" in error_of(response)["message"]
    assert client.get("/v1/faq/opening-hours", headers=ADMIN).status_code == 200  # nothing was deleted


def test_a_token_is_no_api_key(client: TestClient) -> None:
    _, token = opened(client)
    for response in (client.post("/v1/conversations", headers=token), client.get("/v1/faq", headers=token)):
        assert response.status_code == 401 and "token is not accepted here" in error_of(response)["message"]


def test_chat_and_admin_keys_reach_any_conversation(client: TestClient) -> None:
    conversation, token = opened(client)
    assert message(client, conversation, token) == 200
    assert len(client.get(f"/v1/conversations/{conversation}", headers=CHAT).json()["turns"]) == 2
    assert message(client, conversation, ADMIN) == 200
    assert client.post("/v1/conversations", headers=CHAT).status_code == 201


def test_without_a_secret_chat_keys_get_no_token(agent: Agent) -> None:
    keys = ApiKeys.parse("chat-key:chat", "test keys")
    with TestClient(create_app(agent, keys, http=OPEN)) as plain:
        body = plain.post("/v1/conversations", headers=CHAT).json()
        assert body["token"] is None and body["expires_at"] is None and body["conversation_id"].startswith("c-")


# --- CORS ---------------------------------------------------------------------------


def test_cors_preflight_and_headers_for_allowed_origins_only(client: TestClient) -> None:
    preflight = client.options(
        "/v1/conversations",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers  # bearer tokens, never cookies
    refused = client.options(
        "/v1/conversations", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    actual = client.post("/v1/conversations", headers={**WIDGET, "Origin": ORIGIN})
    assert actual.headers["access-control-allow-origin"] == ORIGIN
    assert "retry-after" in actual.headers["access-control-expose-headers"].lower()
    other = client.post("/v1/conversations", headers={**WIDGET, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers  # the browser keeps the answer from that page


def test_no_cors_headers_unless_origins_are_configured(agent: Agent) -> None:
    with TestClient(create_app(agent, KEYS, http=OPEN, token_secret=SECRET)) as plain:
        response = plain.post("/v1/conversations", headers={**WIDGET, "Origin": ORIGIN})
        assert response.status_code == 201 and "access-control-allow-origin" not in response.headers


# --- limits (memory storage; across workers with Redis in test_http_limits.py) ---------


def test_a_flooding_conversation_is_refused_and_the_others_are_not(agent: Agent) -> None:
    http = HttpConfig(cors_origins=[ORIGIN], rate_limit=RateLimitConfig(per_conversation="3/minute", per_address=None))
    with TestClient(create_app(agent, KEYS, http=http, token_secret=SECRET)) as limited:
        flood, flood_token = opened(limited)
        calm, calm_token = opened(limited)
        assert [message(limited, flood, flood_token) for _ in range(3)] == [200, 200, 200]
        refused = limited.post(
            f"/v1/conversations/{flood}/messages", json={"text": "hi"}, headers={**flood_token, "Origin": ORIGIN}
        )
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "3/minute for this conversation" in error_of(refused)["message"]
        assert refused.headers["access-control-allow-origin"] == ORIGIN  # the page can read Retry-After
        assert message(limited, flood, CHAT) == 429  # per conversation, whatever the credential
        assert message(limited, calm, calm_token) == 200
        reading = limited.get(f"/v1/conversations/{flood}", headers=flood_token)
        assert reading.status_code == 200  # reading the transcript is not a message
        assert 'agent_rate_limited_total{limit="conversation"} 2.0' in limited.get("/v1/metrics").text


def test_widget_traffic_is_limited_per_address_and_keys_per_key(agent: Agent) -> None:
    http = HttpConfig(rate_limit=RateLimitConfig(per_conversation=None, per_address="4/minute", per_key="5/minute"))
    with TestClient(create_app(agent, KEYS, http=http, token_secret=SECRET)) as limited:
        conversation, token = opened(limited)  # 1
        assert [message(limited, conversation, token) for _ in range(3)] == [200, 200, 200]  # 2-4
        refused = limited.post("/v1/conversations", headers=WIDGET)
        assert refused.status_code == 429 and "for this address" in error_of(refused)["message"]
        assert message(limited, conversation, token) == 429
        # Server-to-server keys are not counted per address, but per key.
        assert [message(limited, conversation, CHAT) for _ in range(5)] == [200] * 5
        assert "for this API key" in error_of(limited.get(f"/v1/conversations/{conversation}", headers=CHAT))["message"]
        assert message(limited, conversation, ADMIN) == 200  # another key, another count
