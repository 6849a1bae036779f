"""Running `python -m agent serve` as a child process, ready when every worker answers.

Used by the HTTP benchmark and the real-server tests, and usable by anyone who
embeds the bot and wants a local server started and stopped from Python:

    server = ServedProcess.start(bot_dir, "sqlite:///bot.db", workers=2, api_keys="k1:chat", log=path)
    ...  # httpx.post(f"{server.url}/v1/conversations/c1/messages", ...)
    server.stop()

The server runs in its own process group, so stopping it stops its workers too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from agent.exceptions import ServeError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServedProcess:
    """A `serve` child process on loopback: its base URL, process, log file and worker count."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    workers: int

    @classmethod
    def start(
        cls,
        bot: Path,
        store: str,
        workers: int,
        api_keys: str,
        log: Path,
        timeout_s: float = 240.0,
        *,
        env: dict[str, str] | None = None,
        wrapper: Sequence[str] = (),
    ) -> ServedProcess:
        """Start the server and wait until each of its workers has answered /v1/health; `env` adds variables.

        `wrapper` is a command the server runs under (e.g. `nice -n 5`, or `setpriv` to drop root's
        capabilities: tests use it to have file permissions refuse a server run by root).
        """
        port = free_port()
        command = [*wrapper, sys.executable, "-m", "agent", "serve", "--bot", str(bot), "--port", str(port)]
        command += ["--workers", str(workers), "--store", store, "--log-level", "warning"]
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {}), "AGENT_API_KEYS": api_keys},
                start_new_session=True,  # its own process group: stopping it stops its workers
            )
        server = cls(f"http://127.0.0.1:{port}", process, log, workers)
        server._wait_ready(timeout_s)
        return server

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        seen: set[int] = set()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServeError(f"server exited with {self.process.returncode}: {self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):  # each poll on a new connection: it may reach any worker
                seen.add(httpx.get(f"{self.url}/v1/health", timeout=5).json()["worker"])
            if len(seen) >= self.workers:
                return
            time.sleep(0.05 if seen else 0.5)
        self.stop()
        raise ServeError(f"server not ready in {timeout_s:.0f}s ({len(seen)} worker(s) seen): {self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's log, for error messages."""
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM to the whole process group, SIGKILL if it has not exited in `timeout_s`."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
