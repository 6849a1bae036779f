"""Streamed replies: Server-Sent Events from a real uvicorn on loopback, with a tiny real decoder.

The tiny decoder learnt two answers by heart (tests/tiny_decoder.py): a grounded
one for the Basic card, which the guard accepts, and one with an invented fee
for the Plus card, which the guard refuses, so the final event replaces what was
streamed with the template's answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from threaded import uvicorn_thread
from tiny_decoder import BASIC, PLUS, TARGETS, with_tiny_decoder

from agent.http import ApiKeys, create_app
from agent.pipeline.dialog import Agent
from agent.steps.encoder import Encoder
from agent.types import FinalReply, TextDelta

KEYS = ApiKeys.parse("chat-key:chat", "test keys")
CHAT = {"Authorization": "Bearer chat-key"}
STREAM = {**CHAT, "Accept": "text/event-stream"}


@dataclass
class Served:
    url: str
    agent: Agent


def _serve(agent: Agent) -> Iterator[str]:
    """The app of `agent` under a real uvicorn in a thread, on a free loopback port."""
    with uvicorn_thread(create_app(agent, KEYS)) as url:
        yield url


@pytest.fixture(scope="module")
def decoded(tiny_trained_dir: Path, tiny_decoder_dir: Path, encoder: Encoder, tmp_path_factory) -> Iterator[Served]:
    db = tmp_path_factory.mktemp("stream") / "stream.db"
    agent = with_tiny_decoder(
        Agent.load(tiny_trained_dir, encoder=encoder, store_url=f"sqlite:///{db}"), tiny_decoder_dir
    )
    for url in _serve(agent):
        yield Served(url, agent)
    agent.close()


@pytest.fixture(scope="module")
def plain(tiny_trained_dir: Path, encoder: Encoder, tmp_path_factory) -> Iterator[Served]:
    db = tmp_path_factory.mktemp("plain") / "plain.db"
    agent = Agent.load(tiny_trained_dir, encoder=encoder, store_url=f"sqlite:///{db}")
    for url in _serve(agent):
        yield Served(url, agent)
    agent.close()


def read_events(url: str, conversation: str, text: str) -> tuple[httpx.Response, list[tuple[str, dict]]]:
    """POST a message asking for SSE; the events as (name, data), parsed from the raw stream."""
    with httpx.stream(
        "POST", f"{url}/v1/conversations/{conversation}/messages", json={"text": text}, headers=STREAM, timeout=60
    ) as response:
        raw = "".join(response.iter_text())
    events = []
    for block in raw.split("\n\n"):
        if not block.strip():
            continue
        lines = block.split("\n")
        assert lines[0].startswith("event: ") and all(line.startswith("data: ") for line in lines[1:]), block
        assert len(lines) == 2, f"one data line per event: {block!r}"
        events.append((lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])))
    assert raw.endswith("\n\n")
    return response, events


def test_accepted_rewrite_streams_deltas_then_the_reply(decoded: Served) -> None:
    response, events = read_events(decoded.url, "s-basic", BASIC)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache" and response.headers["X-Agent-Worker"].isdigit()
    names = [name for name, _ in events]
    assert names[-1] == "reply" and names.count("reply") == 1 and set(names[:-1]) == {"delta"}
    assert len(names) > 2  # token by token, not one chunk
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    final = events[-1][1]
    assert final["source"] == "decoder" and final["text"] == TARGETS[BASIC] == streamed
    assert final["replace"] is False
    # The reply event is the JSON endpoint's reply, plus `replace`.
    again = httpx.post(f"{decoded.url}/v1/conversations/s-basic-json/messages", json={"text": BASIC}, headers=CHAT)
    assert set(final) == set(again.json()) | {"replace"}


def test_refused_rewrite_is_replaced_by_the_template_answer(decoded: Served) -> None:
    _, events = read_events(decoded.url, "s-plus", PLUS)
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    final = events[-1][1]
    assert streamed == TARGETS[PLUS]  # the invented fee was shown while it was written
    assert final["replace"] is True and final["source"] == "template"
    assert final["text"] == "The Plus card costs EUR 4.99 a month." != streamed
    assert "unsupported value 'eur 9.99'" in final["trace"]["decoder"]["rejected"]
    turns = httpx.get(f"{decoded.url}/v1/conversations/s-plus", headers=CHAT).json()["turns"]
    assert turns[-1]["text"] == final["text"]  # what is stored is what the guard accepted


def test_without_a_decoder_the_stream_is_the_reply_alone(plain: Served) -> None:
    _, events = read_events(plain.url, "s-plain", PLUS)
    assert [name for name, _ in events] == ["reply"]
    assert events[0][1]["replace"] is False and events[0][1]["text"] == "The Plus card costs EUR 4.99 a month."


def test_a_reply_the_decoder_does_not_rewrite_is_the_reply_alone(decoded: Served) -> None:
    _, events = read_events(decoded.url, "s-fallback", "recipe for pancakes")
    assert [name for name, _ in events] == ["reply"] and events[0][1]["source"] == "fallback"


def test_errors_before_the_stream_are_json_with_their_status(decoded: Served) -> None:
    url = decoded.url
    ended = httpx.post(f"{url}/v1/conversations/s-ended/messages", json={"text": "hi"}, headers=CHAT)
    assert ended.status_code == 200
    assert httpx.post(f"{url}/v1/conversations/s-ended/end", headers=CHAT).status_code == 200
    cases = [
        ("s-ended", {"text": BASIC}, STREAM, 409),
        ("s-long", {"text": "x" * 5000}, STREAM, 422),
        ("s-key", {"text": BASIC}, {"Accept": "text/event-stream"}, 401),
    ]
    for conversation, body, headers, status in cases:
        response = httpx.post(f"{url}/v1/conversations/{conversation}/messages", json=body, headers=headers)
        assert response.status_code == status and response.headers["content-type"] == "application/json"
        assert set(response.json()) == {"error", "message"}


def test_agent_respond_stream_yields_deltas_then_the_final_reply(decoded: Served) -> None:
    events = list(decoded.agent.respond_stream("py-plus", PLUS))
    assert isinstance(events[-1], FinalReply) and all(isinstance(e, TextDelta) for e in events[:-1])
    assert "".join(e.text for e in events[:-1]) == TARGETS[PLUS]
    final = events[-1]
    assert final.replace and final.reply.source == "template" and final.reply.session_id == "py-plus"
    basic = list(decoded.agent.respond_stream("py-basic", BASIC))
    assert not basic[-1].replace and basic[-1].reply.text == TARGETS[BASIC]  # type: ignore[union-attr]
