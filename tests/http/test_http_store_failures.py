"""A store that fails under a running API: every route answers 503, readiness says so, nothing claims success.

PostgreSQL made unreachable by stopping a loopback TCP proxy the test started
(the app in-process, the real database behind the proxy), then reachable again;
and a SQLite store folder made read-only under a real `serve` process (as root,
the server runs without the capabilities that let root ignore file modes).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from services import postgres_schema
from sqlalchemy.engine import make_url

from agent.exceptions import ServeError
from agent.http import ApiKeys, create_app
from agent.http.launch import ServedProcess, free_port
from agent.pipeline.dialog import Agent

KEYS = "chat-key:chat,admin-key:admin"
CHAT = {"Authorization": "Bearer chat-key"}
ADMIN = {"Authorization": "Bearer admin-key"}
NEW_FAQ = {"id": "lounge-access", "question": "Do you offer airport lounge access?", "answer": "Not yet."}
CHANGED_FAQ = {"question": "When is support open?", "answer": "From 9 to 5."}


def _every_route(conversation: str) -> list[tuple[str, str, dict | None, dict[str, str]]]:
    """(method, path, JSON body, headers) of every route that reads or writes the store."""
    return [
        ("POST", f"/v1/conversations/{conversation}/messages", {"text": "I lost my card"}, CHAT),
        ("GET", f"/v1/conversations/{conversation}", None, CHAT),
        ("POST", f"/v1/conversations/{conversation}/end", None, CHAT),
        ("GET", "/v1/faq", None, ADMIN),
        ("GET", "/v1/faq/opening-hours", None, ADMIN),
        ("POST", "/v1/faq", NEW_FAQ, ADMIN),
        ("PUT", "/v1/faq/opening-hours", CHANGED_FAQ, ADMIN),
        ("DELETE", "/v1/faq/opening-hours", None, ADMIN),
    ]


def _assert_unavailable(response: httpx.Response, what: str) -> None:
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text}"
    body = response.json()
    assert body["error"] == "unavailable" and "store is unavailable" in body["message"], what
    for leak in ("postgresql", "sqlite", "/tmp", "Traceback"):
        assert leak not in response.text, what


class TcpProxy:
    """Forwards a loopback port to `target`; `stop()` refuses new connections and cuts every open one."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        sockets, self._open = [*self._open, *([self._listener] if self._listener else [])], []
        self._listener = None
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked in accept() and recv()
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                return
            upstream.settimeout(None)
            self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)


@pytest.fixture()
def tiny_copy(served_tiny_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(served_tiny_dir, tmp_path / "bot"))


@pytest.mark.postgres
def test_an_unreachable_database_is_503_on_every_route_and_ready_again_after(tiny_copy: Path) -> None:
    with postgres_schema() as url:
        parsed = make_url(url)
        proxy = TcpProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
        proxy.start()
        proxied = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        agent = Agent.load(tiny_copy, store_url=proxied)
        try:
            app = create_app(agent, ApiKeys.parse(KEYS, "test keys"))
            with TestClient(app, raise_server_exceptions=False) as client:
                assert client.post("/v1/conversations/away-1/messages", json={"text": "hi"}, headers=CHAT).is_success
                assert client.get("/v1/ready").status_code == 200

                proxy.stop()
                for method, path, body, headers in _every_route("away-1"):
                    _assert_unavailable(client.request(method, path, json=body, headers=headers), f"{method} {path}")
                ready = client.get("/v1/ready")
                assert ready.status_code == 503 and ready.json()["status"] == "not ready"

                proxy.start()
                assert client.get("/v1/ready").status_code == 200
                reply = client.post("/v1/conversations/away-1/messages", json={"text": "I lost my card"}, headers=CHAT)
                assert reply.status_code == 200, reply.text
                turns = client.get("/v1/conversations/away-1", headers=CHAT).json()["turns"]
                assert [t["text"] for t in turns if t["role"] == "customer"] == ["hi", "I lost my card"]
        finally:
            proxy.stop()
            agent.close()


def _set_writable(folder: Path, writable: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~bits)


@pytest.fixture()
def read_only_capable() -> tuple[str, ...]:
    """What to run the server under so that file modes bind it: nothing, or (as root) setpriv without DAC bypass."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made to bind the server")
    return ("setpriv", "--bounding-set=-dac_override,-fowner", "--")


def test_a_read_only_store_folder_is_not_ready_and_no_write_reports_success(
    tiny_copy: Path, tmp_path: Path, read_only_capable: tuple[str, ...]
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    try:
        server = ServedProcess.start(
            tiny_copy, f"sqlite:///{store / 'agent.db'}", 1, KEYS, tmp_path / "serve.log", wrapper=read_only_capable
        )
    except ServeError as exc:
        pytest.fail(str(exc))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.post("/v1/conversations/ro-1/messages", json={"text": "hi"}, headers=CHAT).is_success
            assert client.get("/v1/ready").status_code == 200

            _set_writable(store, False)  # the server's open connections and lock files stay as they were
            ready = client.get("/v1/ready")
            assert ready.status_code == 503 and ready.json()["status"] == "not ready", ready.text
            for method, path, body, headers in _every_route("ro-1"):
                response = client.request(method, path, json=body, headers=headers)
                if method == "GET":
                    assert response.status_code == 200, f"{method} {path}: reads still work: {response.text}"
                else:
                    _assert_unavailable(response, f"{method} {path}")
            other = client.post("/v1/conversations/ro-2/messages", json={"text": "hello"}, headers=CHAT)
            _assert_unavailable(other, "a new conversation")

            # Nothing that was refused was written.
            conversation = client.get("/v1/conversations/ro-1", headers=CHAT).json()
            assert conversation["status"] == "open" and len(conversation["turns"]) == 2
            faq = {entry["id"]: entry for entry in client.get("/v1/faq", headers=ADMIN).json()["entries"]}
            assert "lounge-access" not in faq and faq["opening-hours"]["answer"] != CHANGED_FAQ["answer"]

            _set_writable(store, True)
            assert client.get("/v1/ready").status_code == 200
            assert client.post("/v1/conversations/ro-1/end", headers=CHAT).status_code == 200
    finally:
        _set_writable(store, True)
        server.stop()
