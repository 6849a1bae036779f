"""Real `serve` processes (the tiny bot, 2 workers): message order across workers, and crashes.

PostgreSQL, 2 workers: numbered messages (`seq`) are stored in the client's
order however they arrive, a retry is answered from the store and stored once,
a number that comes too late is refused; a worker killed with SIGKILL in the
middle of a turn does not hold its conversation up. Any store: SIGKILL of the
`serve` parent takes its workers down and frees the port; a port in use is
reported in one line before anything is loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from services import _admin_conninfo, postgres_schema

from agent.exceptions import ServeError
from agent.http.launch import ServedProcess
from agent.storage.locks import lock_key

KEY = "chat-key"
CHAT = {"Authorization": f"Bearer {KEY}"}


def _start(bot: Path, store: str, workers: int = 2) -> ServedProcess:
    try:
        return ServedProcess.start(bot, store, workers, f"{KEY}:chat", bot / "serve.log", timeout_s=180)
    except ServeError as exc:
        pytest.fail(str(exc))


def _clients_per_worker(server: ServedProcess, per_worker: int = 1) -> dict[int, list[httpx.Client]]:
    """Kept-alive connections, `per_worker` of them to each worker (a connection stays with its worker)."""
    found: dict[int, list[httpx.Client]] = {}
    for _ in range(200):
        client = httpx.Client(base_url=server.url, headers=CHAT, timeout=10, limits=httpx.Limits(max_connections=1))
        worker = client.get("/v1/health").json()["worker"]
        if len(found.setdefault(worker, [])) < per_worker:
            found[worker].append(client)
        else:
            client.close()
        if len(found) == server.workers and all(len(c) == per_worker for c in found.values()):
            return found
    pytest.fail(f"could not reach every worker: {sorted(found)}")


def _customer_turns(server: ServedProcess, conversation: str) -> list[str]:
    response = httpx.get(f"{server.url}/v1/conversations/{conversation}", headers=CHAT, timeout=30)
    assert response.status_code == 200, response.text
    turns = response.json()["turns"]
    assert [t["role"] for t in turns] == ["customer", "bot"] * (len(turns) // 2)
    return [t["text"] for t in turns if t["role"] == "customer"]


@pytest.fixture(scope="module")
def pg_server(served_tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedProcess]:
    with postgres_schema() as url:
        bot = tmp_path_factory.mktemp("processes-pg") / "bot"
        shutil.copytree(served_tiny_dir, bot)
        server = _start(bot, url)
        yield server
        server.stop()


# --- the client's order: `seq` -----------------------------------------------------------


@pytest.mark.postgres
def test_numbered_messages_are_stored_in_number_order_however_they_arrive(
    pg_server: ServedProcess,
) -> None:
    server = pg_server
    count, gap = 8, 0.02
    # Sent 20 ms apart over connections to both workers, each pair swapped: 2, 1, 4, 3, ...
    order = [n + 1 if n % 2 else n - 1 for n in range(1, count + 1)]
    workers = _clients_per_worker(server, per_worker=count // 2)
    connections = [client for pair in zip(*workers.values(), strict=True) for client in pair]
    sent: dict[int, httpx.Response] = {}

    async def post(i: int, number: int) -> None:
        await asyncio.sleep(i * gap)
        body = {"text": f"#{number} how much does the card cost", "seq": number}
        sent[number] = await asyncio.to_thread(connections[i].post, "/v1/conversations/numbered-1/messages", json=body)

    async def run() -> None:
        await asyncio.gather(*(post(i, number) for i, number in enumerate(order)))

    try:
        asyncio.run(run())
    finally:
        for client in connections:
            client.close()
    assert all(r.status_code == 200 for r in sent.values()), [r.text for r in sent.values() if r.status_code != 200]
    assert len({r.headers["X-Agent-Worker"] for r in sent.values()}) == 2
    assert _customer_turns(server, "numbered-1") == [f"#{n} how much does the card cost" for n in range(1, count + 1)]


@pytest.mark.postgres
def test_a_numbered_retry_gets_the_stored_reply_and_is_stored_once(pg_server: ServedProcess) -> None:
    server = pg_server
    url = f"{server.url}/v1/conversations/retry-1/messages"
    first = httpx.post(url, json={"text": "I lost my card", "seq": 1}, headers=CHAT, timeout=30)
    assert first.status_code == 200 and "X-Agent-Replayed" not in first.headers

    async def twice() -> list[httpx.Response]:  # a retry while the first try may still be running
        async with httpx.AsyncClient(headers=CHAT, timeout=30) as client:
            body = {"text": "is the plus card free", "seq": 2}
            return list(await asyncio.gather(client.post(url, json=body), client.post(url, json=body)))

    retries = asyncio.run(twice())
    again = httpx.post(url, json={"text": "I lost my card", "seq": 1}, headers=CHAT, timeout=30)
    assert again.status_code == 200 and again.headers["X-Agent-Replayed"] == "true"
    assert again.json()["text"] == first.json()["text"] and again.json()["intent"] == first.json()["intent"]
    assert [r.status_code for r in retries] == [200, 200]
    assert sorted(r.headers.get("X-Agent-Replayed", "") for r in retries) == ["", "true"]
    assert retries[0].json()["text"] == retries[1].json()["text"]
    assert _customer_turns(server, "retry-1") == ["I lost my card", "is the plus card free"]


@pytest.mark.postgres
def test_a_number_that_comes_after_a_higher_one_was_answered_is_refused(pg_server: ServedProcess) -> None:
    server = pg_server
    url = f"{server.url}/v1/conversations/late-1/messages"
    started = time.monotonic()
    second = httpx.post(url, json={"text": "I lost my card", "seq": 2}, headers=CHAT, timeout=30)
    assert second.status_code == 200
    assert time.monotonic() - started >= 0.9  # it waited (http.sequence_wait_s: 1) for number 1
    late = httpx.post(url, json={"text": "hello", "seq": 1}, headers=CHAT, timeout=30)
    assert late.status_code == 409, late.text
    assert "seq 1" in late.json()["message"] and "seq 2 was answered" in late.json()["message"]
    assert _customer_turns(server, "late-1") == ["I lost my card"]


# --- crashes ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_worker_killed_mid_turn_does_not_hold_its_conversation(pg_server: ServedProcess) -> None:
    """Last in this module: it kills one of the shared server's workers (uvicorn starts another)."""
    server = pg_server
    conversation = "killed-1"
    workers = _clients_per_worker(server)
    victim, survivor = (clients[0] for clients in workers.values())
    victim_pid = int(victim.get("/v1/health").json()["worker"])
    with psycopg.connect(_admin_conninfo(), autocommit=True) as holder:
        # Hold the conversation's turn lock, so the victim's turn stops inside it: its ticket taken, unanswered.
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key(conversation),))
        stuck = threading.Thread(target=_post_quietly, args=(victim, conversation, "I lost my card"), daemon=True)
        stuck.start()
        _wait_for_lock_waiter(holder, lock_key(conversation))
        os.kill(victim_pid, signal.SIGKILL)
        stuck.join(10)
        holder.execute("SELECT pg_advisory_unlock(%s)", (lock_key(conversation),))
    started = time.monotonic()
    response = survivor.post(f"/v1/conversations/{conversation}/messages", json={"text": "hello"})
    waited = time.monotonic() - started
    for client in (victim, survivor):
        client.close()
    assert response.status_code == 200, response.text
    assert waited < 3.0, f"the survivor waited {waited:.1f}s for the dead worker's ticket"
    assert _customer_turns(server, conversation) == ["hello"]


def _post_quietly(client: httpx.Client, conversation: str, text: str) -> None:
    with contextlib.suppress(httpx.HTTPError):  # its worker is killed before it answers
        client.post(f"/v1/conversations/{conversation}/messages", json={"text": text})


def _wait_for_lock_waiter(conn: psycopg.Connection, key: int, timeout_s: float = 20.0) -> None:
    """Until some session waits for the advisory lock `key` (the victim's turn, blocked inside its lock)."""
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
            (high, low),
        ).fetchone()
        if waiting and waiting[0]:
            return
        time.sleep(0.02)
    pytest.fail("the victim's turn never reached the conversation's lock")


def _running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (an orphan's zombie waits for whoever adopted it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _children(parent: int) -> set[int]:
    """The processes whose parent is `parent` (uvicorn's workers, and any helper it started)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                found.add(int(stat.parent.name))
    return found


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_workers_stop_when_the_serve_parent_is_killed(served_tiny_dir: Path, tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    shutil.copytree(served_tiny_dir, bot)
    server = _start(bot, f"sqlite:///{tmp_path / 'store.db'}")
    port = int(server.url.rsplit(":", 1)[1])
    workers = _children(server.process.pid)
    # The workers were started with the metrics folder in their environment; the killed parent cannot remove it.
    environ = [v for pid in workers for v in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")]
    metrics = {v.split(b"=", 1)[1].decode() for v in environ if v.startswith(b"PROMETHEUS_MULTIPROC_DIR=")}
    try:
        assert len(workers) >= 2
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(10)
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _running(pid)], "workers kept running after their parent died"
        assert _bindable(port), "the port is still held"
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for folder in metrics:
            shutil.rmtree(folder, ignore_errors=True)


def test_a_port_in_use_is_one_line_before_anything_is_loaded(served_tiny_dir: Path, tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    shutil.copytree(served_tiny_dir, bot, ignore=shutil.ignore_patterns("build"))  # untrained: serve would train
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "agent", "serve", "--bot", str(bot), "--port", str(port)],
            env={**os.environ, "AGENT_API_KEYS": f"{KEY}:chat"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"--port {port}" in lines[0] and "already in use" in lines[0], lines
    assert not (bot / "build").exists()  # nothing was trained or loaded first
