"""`python -m agent serve`: the entry point that runs the HTTP API under uvicorn, with one or more workers.

The parent process checks everything first (that the port can be bound, then
bot folder, API keys, build) and prepares the store (tables, FAQ seed, FAQ
index), so a mistake is one line on stderr, a port in use is reported before
any model is loaded, and workers never race to create tables. Then uvicorn
starts the workers; each builds its own app through `app_from_env`, uvicorn's
factory.

Supervision: uvicorn's parent replaces a worker that dies, and the other
workers carry on at once (the dead worker's arrival tickets and turn locks end
with its process: agent/storage/arrival.py). A worker stops (SIGTERM, a graceful
shutdown) when the parent dies, even by SIGKILL: on Linux the kernel sends it
(`PR_SET_PDEATHSIG`), elsewhere a thread notices the parent is gone within half
a second. So no orphan keeps the port, and a restart can bind it.

uvicorn needs an import string to start several workers, so the parent hands
its settings to the workers in environment variables, read only here:

    AGENT_SERVE_BOT           the bot folder (absolute)
    AGENT_SERVE_STORE         the store URL (--store, or bot.yaml's)
    AGENT_SERVE_WORKERS       the number of workers (to share the CPU threads)
    AGENT_SERVE_PARENT        the parent's process id (a worker stops when that process is gone)
    AGENT_API_KEYS            inherited as the caller set it (never written by us)
    AGENT_TOKEN_SECRET        inherited likewise: signs conversation tokens (or bot.yaml http.token_secret_file)
    PROMETHEUS_MULTIPROC_DIR  with several workers, a fresh folder where every worker's metrics add up
"""

from __future__ import annotations

import ctypes
import errno
import gc
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING

from agent.exceptions import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

ENV_BOT = "AGENT_SERVE_BOT"
ENV_STORE = "AGENT_SERVE_STORE"
ENV_WORKERS = "AGENT_SERVE_WORKERS"
ENV_PARENT = "AGENT_SERVE_PARENT"
ENV_KEYS = "AGENT_API_KEYS"
ENV_TOKEN_SECRET = "AGENT_TOKEN_SECRET"
ENV_METRICS = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own switch into multi-process mode
FACTORY = "agent.http.serve:app_from_env"
PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_S = 0.5


def serve(
    bot_dir: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    store_url: str | None = None,
    api_keys: str | None = None,
    token_secret: str | None = None,
    log_level: str = "info",
) -> int:
    """Check and prepare in this process, then run uvicorn until it is stopped; returns the exit status."""
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1 (got {workers}).")
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be 1-65535 (got {port}).")
    check_port(host, port)  # before the bot is loaded, built or served: not after seconds of loading models

    import uvicorn

    from agent.http.auth import load_api_keys
    from agent.http.ratelimit import check_storage, storage_warning
    from agent.http.tokens import load_token_secret, token_signer
    from agent.pipeline.assemble import load_bot
    from agent.storage.arrival import ArrivalTickets
    from agent.storage.handoffs import HandoffClaims
    from agent.storage.store import Store
    from agent.training.build import build

    bot = load_bot(bot_dir)
    http = bot.config.http
    keys = load_api_keys(api_keys, http.api_keys_path(bot.path))  # fail here, once, not in every worker
    secret = load_token_secret(token_secret, http.token_secret_path(bot.path))
    token_signer(secret, http.token_ttl_s, keys.count("widget"))  # a widget key needs a secret
    check_storage(http.rate_limit)
    warning = storage_warning(http.rate_limit, workers)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    url = store_url or bot.store_url
    store = Store(url)
    try:
        build(bot, store=store, progress=True)  # incremental: seconds when the build is current
        # Their tables too, before several workers could race to create them.
        HandoffClaims(store.engine)
        ArrivalTickets(store.engine)
    finally:
        store.close()

    metrics_dir = tempfile.mkdtemp(prefix="agent-metrics-") if workers > 1 else None
    os.environ[ENV_BOT] = str(bot.path)
    os.environ[ENV_STORE] = url
    os.environ[ENV_WORKERS] = str(workers)
    os.environ[ENV_PARENT] = str(os.getpid())
    if metrics_dir:
        os.environ[ENV_METRICS] = metrics_dir
    print(
        f"serving '{bot.config.name}' on http://{host}:{port} with {workers} worker(s); "
        f"store {store.url}; OpenAPI at /openapi.json",
        file=sys.stderr,
    )
    try:
        uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers, log_level=log_level)
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def app_from_env() -> FastAPI:
    """uvicorn's factory, called in every worker: the app for the settings the parent put in the environment."""
    from agent.http.app import create_app
    from agent.http.auth import load_api_keys
    from agent.http.tokens import load_token_secret
    from agent.pipeline.dialog import Agent

    bot_dir = os.environ.get(ENV_BOT)
    if not bot_dir:
        raise ConfigError(f"{ENV_BOT} is not set: start the server with `python -m agent serve`.")
    workers = int(os.environ.get(ENV_WORKERS, "1"))
    parent = int(os.environ.get(ENV_PARENT) or os.getpid())
    if parent != os.getpid():  # a worker process (with one worker, uvicorn serves in the parent itself)
        _exit_with_parent(parent)
    _share_cpu(workers)
    # The agent thread holds the GIL for long stretches of Python; a waiting thread gets it after at most this
    # long (default 5 ms), so the event loop and the ticket thread read and ticket a message within a few ms.
    sys.setswitchinterval(0.001)
    agent = Agent.load(bot_dir, store_url=os.environ.get(ENV_STORE) or None)
    agent.warm_up()
    # The loaded models are millions of long-lived objects; without this, the first full garbage
    # collection (often during a worker's first requests) walks them all and stalls the worker.
    gc.collect()
    gc.freeze()
    http = agent.config.http
    keys = load_api_keys(os.environ.get(ENV_KEYS), http.api_keys_path(agent.bot.path))
    secret = load_token_secret(os.environ.get(ENV_TOKEN_SECRET), http.token_secret_path(agent.bot.path))
    return create_app(
        agent, keys, token_secret=secret, metrics_dir=os.environ.get(ENV_METRICS) or None, close_agent=True
    )


def check_port(host: str, port: int) -> None:
    """Raise ConfigError when `host:port` cannot be bound (in use, or not an address of this machine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError as exc:
            reason = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).lower()
            raise ConfigError(
                f"--port {port}: cannot listen on {host}:{port} ({reason}); "
                "stop what holds it or choose another --port."
            ) from None


def _exit_with_parent(parent: int) -> None:
    """Stop this worker (SIGTERM: uvicorn's graceful shutdown) once the `serve` parent is gone, however it died."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0:
            if os.getppid() != parent:  # it died before the kernel was told
                os.kill(os.getpid(), signal.SIGTERM)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="agent-parent-watch", daemon=True).start()


def _share_cpu(workers: int) -> None:
    """Give each worker its share of the cores, so N workers do not run N x cores torch threads."""
    if workers <= 1:
        return
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
