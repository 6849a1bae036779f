"""Handoff webhook: a small real HTTP receiver on loopback that fails, hangs or accepts."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from agent import Agent
from agent.config import HttpConfig, WebhookConfig
from agent.http import ApiKeys, create_app
from agent.steps.policy import Policy

KEYS = ApiKeys.parse("chat-key:chat", "test keys")
CHAT = {"Authorization": "Bearer chat-key"}
HANDOFF = "I want to talk to a human agent please"


class Receiver:
    """Answers each POST with the next status in `script` (the last one repeats), after `delay_s`."""

    def __init__(self, script: list[int], delay_s: float = 0.0) -> None:
        self.script = script
        self.delay_s = delay_s
        self.calls: list[tuple[dict, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((json.loads(body), dict(self.headers)))
                time.sleep(receiver.delay_s)
                status = receiver.script[min(len(receiver.calls), len(receiver.script)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/handoff"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.calls) >= count, f"{len(self.calls)} webhook call(s), wanted {count}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def agent(module_agent: Agent) -> Agent:
    return module_agent  # FAQ edits here re-save the FAQ index: on this module's own copy of the bot


def app_with(agent: Agent, url: str, retries: int = 3, timeout_s: float = 5.0) -> TestClient:
    webhook = WebhookConfig(url=url, retries=retries, backoff_s=0.05, timeout_s=timeout_s)
    return TestClient(create_app(agent, KEYS, http=HttpConfig(webhook=webhook)))


def handoff(client: TestClient, conversation: str, text: str = HANDOFF) -> dict:
    response = client.post(f"/v1/conversations/{conversation}/messages", json={"text": text}, headers=CHAT)
    assert response.status_code == 200, response.text
    return response.json()


def test_handoff_event_is_retried_until_delivered(agent: Agent) -> None:
    receiver = Receiver([500, 503, 200])
    try:
        with app_with(agent, receiver.url) as client:
            first = client.post(
                "/v1/conversations/hand-1/messages", json={"text": "my email is ann@example.com"}, headers=CHAT
            )
            assert first.status_code == 200
            reply = handoff(client, "hand-1")
            assert reply["handoff"] is True and reply["source"] == "handoff"
            # The reply says so, in the words of the bot's human_handoff template (how else to reach a person).
            assert reply["text"] == agent.step(Policy).templates.render("human_handoff", {}).text
            receiver.wait_for(3)
            time.sleep(0.3)
            assert len(receiver.calls) == 3  # two failures, then delivered: no more attempts
            event, headers = receiver.calls[-1]
            assert event["event"] == "handoff" and event["conversation_id"] == "hand-1"
            assert event["reason"] == reply["trace"]["reason"]
            roles = [line["role"] for line in event["transcript"]]
            assert roles == ["customer", "bot", "customer", "bot"]
            assert event["transcript"][0]["text"] == "my email is [email]"  # the stored, masked transcript
            assert headers["Idempotency-Key"] == "handoff:hand-1"
            assert all(call[0] == event for call in receiver.calls)  # every retry sends the same event

            handoff(client, "hand-1", "hello? anyone?")  # already handed over: no second event
            time.sleep(0.5)
            assert len(receiver.calls) == 3
            metrics = client.get("/v1/metrics").text
            assert 'agent_webhook_deliveries_total{outcome="retry"} 2.0' in metrics
            assert 'agent_webhook_deliveries_total{outcome="delivered"} 1.0' in metrics
            assert "agent_handoffs_total 1.0" in metrics
    finally:
        receiver.close()


def test_failing_or_hanging_webhook_never_delays_replies(agent: Agent) -> None:
    hanging = Receiver([200], delay_s=6.0)
    try:
        with app_with(agent, hanging.url, retries=0, timeout_s=10.0) as client:
            started = time.perf_counter()
            assert handoff(client, "hand-2")["handoff"] is True
            assert handoff(client, "hand-3")["handoff"] is True
            elapsed = time.perf_counter() - started
            assert elapsed < 4.0, f"replies waited for the webhook ({elapsed:.1f}s)"
            hanging.wait_for(2)
    finally:
        hanging.close()


def test_unreachable_webhook_gives_up_after_its_retries(agent: Agent) -> None:
    closed = Receiver([200])
    url = closed.url
    closed.close()  # nothing listens there any more
    with app_with(agent, url, retries=2) as client:
        assert handoff(client, "hand-4")["handoff"] is True
        deadline = time.monotonic() + 20
        metrics = ""
        while time.monotonic() < deadline:
            metrics = client.get("/v1/metrics").text
            if 'outcome="failed"' in metrics:
                break
            time.sleep(0.1)
        assert 'agent_webhook_deliveries_total{outcome="failed"} 1.0' in metrics
        assert 'agent_webhook_deliveries_total{outcome="retry"} 2.0' in metrics


def test_receiver_refusal_is_not_retried(agent: Agent) -> None:
    receiver = Receiver([400])
    try:
        with app_with(agent, receiver.url) as client:
            handoff(client, "hand-5")
            receiver.wait_for(1)
            time.sleep(0.5)
            assert len(receiver.calls) == 1
    finally:
        receiver.close()
