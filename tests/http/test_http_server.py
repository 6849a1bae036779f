"""`python -m agent serve` as real uvicorn processes on loopback.

SQLite with one worker, PostgreSQL with two: concurrent posts to one
conversation keep arrival order and lose nothing, a FAQ added through one
worker answers in the other, and a schemathesis run against /openapi.json
finds no 5xx. The servers run on copies of the trained demo bot.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from services import postgres_schema

from agent.exceptions import ServeError
from agent.http.launch import ServedProcess as Server
from agent.http.launch import free_port

KEYS = "chat-key:chat,admin-key:admin"
CHAT = {"Authorization": "Bearer chat-key"}
ADMIN = {"Authorization": "Bearer admin-key"}
START_TIMEOUT_S = 240  # two workers each load the encoder; generous for a shared, busy CPU


def _bot_copy(demo_bot_dir: Path, dest: Path) -> Path:
    """A trained copy whose rate limit stays out of the way of these tests."""
    shutil.copytree(demo_bot_dir, dest)
    config = yaml.safe_load((dest / "bot.yaml").read_text())
    config["http"] = {"rate_limit": {"per_conversation": None, "per_address": None, "per_key": None}}
    (dest / "bot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return dest


def _start(bot: Path, store: str, workers: int) -> Server:
    try:
        return Server.start(bot, store, workers, KEYS, bot / "serve.log", timeout_s=START_TIMEOUT_S)
    except ServeError as exc:
        pytest.fail(str(exc))


def _stop(server: Server) -> None:
    server.stop()


@pytest.fixture(scope="module")
def sqlite_server(demo_bot_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    bot = _bot_copy(demo_bot_dir, tmp_path_factory.mktemp("serve-sqlite") / "bot")
    server = _start(bot, f"sqlite:///{bot / 'served.db'}", workers=1)
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def postgres_server(demo_bot_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with postgres_schema() as url:
        bot = _bot_copy(demo_bot_dir, tmp_path_factory.mktemp("serve-pg") / "bot")
        server = _start(bot, url, workers=2)
        yield server
        _stop(server)


@pytest.fixture(params=["sqlite_server", pytest.param("postgres_server", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(request.param)


QUESTIONS = [
    "where is my card?",
    "how do I top up by bank transfer?",
    "what is the exchange rate on weekends?",
    "how long does an international transfer take?",
    "can I cancel a transfer?",
]


async def _staggered(url: str, conversation: str, count: int, gap_s: float) -> list[httpx.Response]:
    """`count` posts to one conversation, each started `gap_s` after the previous, all in flight together."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=CHAT, timeout=120, limits=limits) as client:

        async def one(i: int) -> httpx.Response:
            await asyncio.sleep(i * gap_s)
            text = f"#{i:02d} {QUESTIONS[i % len(QUESTIONS)]}"
            return await client.post(f"/v1/conversations/{conversation}/messages", json={"text": text})

        return await asyncio.gather(*(one(i) for i in range(count)))


def _transcript(server: Server, conversation: str) -> list[dict]:
    response = httpx.get(f"{server.url}/v1/conversations/{conversation}", headers=CHAT, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["turns"]


def _assert_paired(turns: list[dict], responses: list[httpx.Response]) -> list[str]:
    """Turns alternate customer/bot, and each customer message is followed by the reply its request got."""
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    assert [t["role"] for t in turns] == ["customer", "bot"] * len(responses)
    assert [t["seq"] for t in turns] == list(range(2 * len(responses)))
    customer = [t["text"] for t in turns[0::2]]
    for i, response in enumerate(responses):
        sent = f"#{i:02d} {QUESTIONS[i % len(QUESTIONS)]}"
        position = customer.index(sent)
        assert turns[2 * position + 1]["text"] == response.json()["text"]
    return customer


def test_concurrent_posts_to_one_conversation_keep_arrival_order(server: Server) -> None:
    # Across workers "arrival" is when a worker reads the request; leave room for a busy, shared CPU.
    count, gap = 12, (0.05 if server.workers == 1 else 0.25)
    responses = asyncio.run(_staggered(server.url, f"order-{server.workers}", count, gap))
    customer = _assert_paired(_transcript(server, f"order-{server.workers}"), responses)
    assert customer == [f"#{i:02d} {QUESTIONS[i % len(QUESTIONS)]}" for i in range(count)]


def test_simultaneous_posts_to_one_conversation_never_interleave(server: Server) -> None:
    responses = asyncio.run(_staggered(server.url, f"burst-{server.workers}", 16, 0.0))
    _assert_paired(_transcript(server, f"burst-{server.workers}"), responses)


def test_many_conversations_at_once_lose_nothing(server: Server) -> None:
    conversations, per = 6, 8

    async def talk(client: httpx.AsyncClient, conversation: str) -> None:
        for i in range(per):
            response = await client.post(f"/v1/conversations/{conversation}/messages", json={"text": f"#{i} hello"})
            assert response.status_code == 200, response.text

    async def run() -> None:
        async with httpx.AsyncClient(base_url=server.url, headers=CHAT, timeout=120) as client:
            await asyncio.gather(*(talk(client, f"many-{server.workers}-{c}") for c in range(conversations)))

    asyncio.run(run())
    for c in range(conversations):
        customer = [t["text"] for t in _transcript(server, f"many-{server.workers}-{c}") if t["role"] == "customer"]
        assert customer == [f"#{i} hello" for i in range(per)]


@pytest.mark.postgres
def test_faq_added_through_one_worker_answers_in_every_worker(postgres_server: Server) -> None:
    server = postgres_server
    entry = {"id": "lounge-access", "question": "Do you offer airport lounge access?", "answer": "Not at the moment."}
    created = httpx.post(f"{server.url}/v1/faq", json=entry, headers=ADMIN, timeout=60)
    assert created.status_code == 201, created.text

    async def ask(rounds: int = 20) -> set[str]:  # stops as soon as both workers have answered
        workers: set[str] = set()
        limits = httpx.Limits(max_keepalive_connections=0)  # a new connection per request: spread over workers
        async with httpx.AsyncClient(base_url=server.url, headers=CHAT, timeout=120, limits=limits) as client:
            for r in range(rounds):
                posts = [
                    client.post(f"/v1/conversations/lounge-{r}-{i}/messages", json={"text": entry["question"]})
                    for i in range(8)
                ]
                for response in await asyncio.gather(*posts):
                    assert response.status_code == 200 and response.json()["text"] == entry["answer"]
                    workers.add(response.headers["X-Agent-Worker"])
                if len(workers) == server.workers:
                    break
        return workers

    assert len(asyncio.run(ask())) == 2  # both workers answered, both with the new entry


def test_metrics_add_up_over_workers(server: Server) -> None:
    text = httpx.get(f"{server.url}/v1/metrics", timeout=30).text
    line = next(
        line
        for line in text.splitlines()
        if line.startswith("agent_http_requests_total")
        and 'route="/v1/conversations/{conversation_id}/messages"' in line
        and 'status="200"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 1


@pytest.mark.parametrize(
    ("env", "args", "says"),
    [
        ({}, [], "No API keys"),
        ({"AGENT_API_KEYS": "k1:root"}, [], "scope 'root'"),
        ({"AGENT_API_KEYS": "k1:chat"}, ["--workers", "0"], "--workers must be at least 1"),
        ({"AGENT_API_KEYS": "k1:chat"}, ["--bot", "/nonexistent/bot"], "does not exist"),
        ({"AGENT_API_KEYS": "site:widget"}, [], "a widget key is configured but there is no token secret"),
        ({"AGENT_API_KEYS": "site:widget", "AGENT_TOKEN_SECRET": "short"}, [], "at least 32"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(env: dict[str, str], args: list[str], says: str) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("AGENT_API_KEYS", "AGENT_TOKEN_SECRET")}
    result = subprocess.run(
        [sys.executable, "-m", "agent", "serve", "--port", str(free_port()), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in result.stderr


# --- schema fuzzing: schemathesis against the served /openapi.json -----------------------

FUZZ_EXAMPLES = 10  # per operation and mode; derandomized, so every run sends the same cases


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schema_fuzz_finds_no_server_errors(sqlite_server: Server, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{sqlite_server.url}/openapi.json")
    checks = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:  # valid requests must also get documented statuses and bodies
        checks += [status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            # The admin key reaches every operation past authentication (auth has its own tests).
            case.call_and_validate(headers=ADMIN, checks=checks, timeout=60)

        try:
            fuzz()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to get wrong in a request without inputs
