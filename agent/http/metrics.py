"""Prometheus metrics: requests, latency, answer sources, fallbacks, handoffs, feedback, batches, webhook deliveries.

Each app has its own registry (tests build several apps in one process). With
several worker processes the entry point gives every worker one shared folder
(`multiprocess_dir`) and /v1/metrics adds up all workers' values from there.
Routes are labelled by their template (`/v1/conversations/{conversation_id}/messages`),
never by the raw path, so label counts stay small.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from agent.types import Reply

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[MutableMapping[str, Any]], Awaitable[None]]],
    Awaitable[None],
]
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The server's counters and histograms."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "agent_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "agent_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.answers = Counter("agent_answers_total", "Replies by answer source", ["source"], registry=r)
        self.fallbacks = Counter("agent_fallbacks_total", "Replies where the bot could not help", registry=r)
        self.handoffs = Counter("agent_handoffs_total", "Conversations handed over to a person", registry=r)
        self.batch_size = Histogram(
            "agent_batch_size",
            "Messages answered per batched pass",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=r,
        )
        self.webhook = Counter(
            "agent_webhook_deliveries_total", "Handoff webhook deliveries by outcome", ["outcome"], registry=r
        )
        self.feedback = Counter("agent_feedback_total", "Ratings of replies, up or down", ["rating"], registry=r)
        self.rate_limited = Counter(
            "agent_rate_limited_total", "Requests refused by a rate limit, by limit", ["limit"], registry=r
        )

    def observe_reply(self, reply: Reply) -> None:
        self.answers.labels(source=reply.source).inc()
        if reply.source == "fallback":
            self.fallbacks.inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI: no buffering, no extra task)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before answering

        async def send_status(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The router writes the matched route into the scope; unmatched paths share one label.
            route = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method=method, route=label, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=label).observe(time.perf_counter() - started)
