"""Rate limits across two worker processes: `python -m agent serve --workers 2` counting in Redis.

With memory storage each worker counts alone, so a limit of N lets up to 2N
through once both workers answer; with Redis exactly N of a burst pass while
both workers took part in the burst (each response names its worker). Keys and conversation ids are new
on every run (the counts outlive the server in Redis).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from services import require_redis

from agent.exceptions import ServeError
from agent.http.launch import ServedProcess

PER_CONVERSATION = 6
PER_KEY = 12
START_TIMEOUT_S = 240
STAGGER_S = 0.005
ROUNDS = 4  # bursts tried (a fresh key and conversation each) until both workers took part in one


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return {f"{kind}-{i}": secrets.token_urlsafe(16) for kind in ("conversation", "key") for i in range(ROUNDS)}


@pytest.fixture(scope="module")
def server(tiny_trained_dir: Path, tmp_path_factory: pytest.TempPathFactory, keys: dict[str, str]) -> Iterator[str]:
    redis_url = require_redis()
    bot = tmp_path_factory.mktemp("limits") / "bot"
    shutil.copytree(tiny_trained_dir, bot)
    config = yaml.safe_load((bot / "bot.yaml").read_text())
    config["http"] = {
        "rate_limit": {
            "storage": redis_url,
            "per_conversation": f"{PER_CONVERSATION}/minute",
            "per_key": f"{PER_KEY}/minute",
        }
    }
    (bot / "bot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    api_keys = ",".join(f"{key}:chat" for key in keys.values())
    try:
        served = ServedProcess.start(
            bot, f"sqlite:///{bot / 'served.db'}", 2, api_keys, bot / "serve.log", timeout_s=START_TIMEOUT_S
        )
    except ServeError as exc:
        pytest.fail(str(exc))
    yield served.url
    served.stop()


async def _burst(url: str, headers: dict[str, str], paths: list[str]) -> list[httpx.Response]:
    """One message per path, 5 ms apart and all in flight together, each on a connection of its own.

    Connections that arrive in the same instant are all accepted by whichever worker wakes first (it
    drains the listening socket's queue); a few ms apart, the worker busy with a turn leaves the next
    one to the other, so both take part, as with real customers.
    """
    limits = httpx.Limits(max_connections=len(paths), max_keepalive_connections=0)

    async def one(client: httpx.AsyncClient, i: int, path: str) -> httpx.Response:
        await asyncio.sleep(i * STAGGER_S)
        return await client.post(path, json={"text": "hello"})

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as client:
        return list(await asyncio.gather(*(one(client, i, path) for i, path in enumerate(paths))))


def _split(responses: list[httpx.Response]) -> tuple[set[str], list[httpx.Response]]:
    """The workers that answered (a reply or a refusal: both count), and the refusals; nothing else is allowed."""
    assert {r.status_code for r in responses} <= {200, 429}, [r.text for r in responses if r.status_code >= 500]
    workers = {r.headers["X-Agent-Worker"] for r in responses}
    refused = [r for r in responses if r.status_code == 429]
    for response in refused:
        assert 1 <= int(response.headers["Retry-After"]) <= 60 and response.json()["error"] == "rate_limited"
    return workers, refused


def test_a_conversation_limit_holds_across_workers(server: str, keys: dict[str, str]) -> None:
    sent = PER_CONVERSATION + 4
    for i in range(ROUNDS):  # a fresh key and conversation per round, until a burst's answers came from both workers
        auth = {"Authorization": f"Bearer {keys[f'conversation-{i}']}"}
        flood, calm = f"flood-{secrets.token_hex(4)}", f"calm-{secrets.token_hex(4)}"
        responses = asyncio.run(_burst(server, auth, [f"/v1/conversations/{flood}/messages"] * sent))
        workers, refused = _split(responses)
        assert len(refused) == sent - PER_CONVERSATION  # exactly the limit passed, wherever it was counted
        assert all("for this conversation" in r.json()["message"] for r in refused)
        calm_reply = httpx.post(f"{server}/v1/conversations/{calm}/messages", json={"text": "hi"}, headers=auth)
        assert calm_reply.status_code == 200  # another conversation is not affected
        turns = httpx.get(f"{server}/v1/conversations/{flood}", headers=auth, timeout=60).json()["turns"]
        assert len(turns) == 2 * PER_CONVERSATION  # refused messages were never answered or stored
        if len(workers) == 2:
            return
    pytest.fail(f"{ROUNDS} bursts of {sent} connections never had answers from both workers")


def test_a_key_limit_holds_across_workers(server: str, keys: dict[str, str]) -> None:
    sent = PER_KEY + 6
    for i in range(ROUNDS):
        auth = {"Authorization": f"Bearer {keys[f'key-{i}']}"}
        paths = [f"/v1/conversations/key-{secrets.token_hex(4)}-{n}/messages" for n in range(sent)]
        workers, refused = _split(asyncio.run(_burst(server, auth, paths)))
        assert len(refused) == sent - PER_KEY
        assert all("for this API key" in r.json()["message"] for r in refused)
        if len(workers) == 2:
            return
    pytest.fail(f"{ROUNDS} bursts of {sent} connections never had answers from both workers")
