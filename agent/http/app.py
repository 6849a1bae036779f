"""The HTTP API's app factory: one loaded `Agent` behind FastAPI.

    from agent.http import create_app, load_api_keys
    app = create_app(Agent.load("bot"), load_api_keys("k1:chat,k2:admin", None))

Everything is injected: the agent, the API keys (the entry point reads them
from the environment), the HTTP settings (bot.yaml `http:`, or an override) and
where multi-process metrics live. `python -m agent serve` (agent/http/serve.py)
builds one app per worker process.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.config import HttpConfig
from agent.http.access import Access
from agent.http.auth import ApiKeys
from agent.http.batcher import TurnBatcher
from agent.http.bodylimit import BodyLimitMiddleware
from agent.http.errors import install_error_handlers
from agent.http.metrics import Metrics, MetricsMiddleware
from agent.http.ratelimit import RateLimits
from agent.http.routes import Services, build_router
from agent.http.tokens import token_signer
from agent.http.webhook import WebhookSender
from agent.http.widget import build_widget_router
from agent.pipeline.dialog import Agent
from agent.storage.arrival import ArrivalTickets
from agent.storage.handoffs import HandoffClaims

API_VERSION = "1"


class WorkerHeaderMiddleware:
    """Every response, refusals included, names the worker process that gave it (`X-Agent-Worker`):
    load-balancing checks, and tests that two workers share what they count."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.header = (b"x-agent-worker", str(os.getpid()).encode())  # built in the worker process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, named)


def create_app(
    agent: Agent,
    api_keys: ApiKeys,
    *,
    http: HttpConfig | None = None,
    token_secret: str | None = None,
    metrics_dir: str | None = None,
    close_agent: bool = False,
) -> FastAPI:
    """A FastAPI app serving `agent`; `http` overrides bot.yaml's `http:` section (tests, embedding).

    `token_secret` signs conversation tokens (agent/http/tokens.py); it is required when
    `api_keys` hold a widget key (ConfigError otherwise).
    """
    settings = http or agent.config.http
    tokens = token_signer(token_secret, settings.token_ttl_s, api_keys.count("widget"))
    limits = RateLimits(settings.rate_limit, namespace=agent.config.name)
    metrics = Metrics(metrics_dir)
    services = Services(
        agent=agent,
        batcher=TurnBatcher(
            agent,
            metrics,
            settings.max_batch,
            HandoffClaims(agent.store.engine),
            ArrivalTickets(agent.store.engine, seq_wait_s=settings.sequence_wait_s),
        ),
        webhook=WebhookSender(settings.webhook, metrics),
        metrics=metrics,
        access=Access(api_keys, tokens, limits, metrics),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await limits.start()  # in the event loop that uses it (the Redis client belongs to one loop)
        await services.batcher.start()
        await services.webhook.start()
        try:
            yield
        finally:
            await services.batcher.stop()  # answers what is queued first
            await services.webhook.stop()
            await limits.stop()
            if close_agent:
                agent.close()

    app = FastAPI(
        title=f"{agent.config.name} API",
        version=API_VERSION,
        description=(
            "Customer-service bot over HTTP. Send `Authorization: Bearer KEY` (scope widget, chat or admin) or, "
            "for one conversation, the token POST /v1/conversations returned. "
            'Every error is JSON: {"error": code, "message": one line}.'
        ),
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app, agent.config.limits.max_message_chars)
    app.include_router(build_router(services))
    app.include_router(build_widget_router(agent.config, feedback=True))  # /widget, /widget.js, /v1/widget/config
    # Last added runs first: metrics see every request, including bodies refused for size.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(WorkerHeaderMiddleware)
    if settings.cors_origins:
        # Outermost, so that refusals (401, 413, 429) carry the headers too: a page's script can then read
        # their JSON and Retry-After. Bearer credentials, never cookies: no allow_credentials.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            expose_headers=["Retry-After", "X-Agent-Worker"],
            max_age=600,
        )
    return app
