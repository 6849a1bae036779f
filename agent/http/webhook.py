"""Handoff notices: when a conversation is handed to a person, POST a JSON event to bot.yaml's webhook.

    {"event": "handoff", "conversation_id": "c-42", "reason": "customer asked for a person",
     "at": "2026-11-23T10:00:00Z", "transcript": [{"role": "customer", "text": "...", "at": "..."}, ...]}

Each conversation is announced once, however many workers serve it: the first
to claim it (agent.storage.handoffs, same database as the store) sends.
Delivery runs in the background with retries (exponential back-off) on
connection errors, timeouts, 5xx, 408 and 429, so a slow or failing receiver
never delays a reply. The transcript is the stored one: personal data masked.
Events still being retried when the server stops are logged and dropped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Literal

import httpx
from pydantic import BaseModel

from agent.config import WebhookConfig
from agent.http.metrics import Metrics
from agent.storage.store import ConversationRecord

log = logging.getLogger("agent.http.webhook")
MAX_BACKOFF_S = 30.0
RETRY_STATUSES = {408, 429}


class TranscriptLine(BaseModel):
    role: Literal["customer", "bot"]
    text: str
    at: datetime


class HandoffEvent(BaseModel):
    """What the webhook receives."""

    event: Literal["handoff"] = "handoff"
    conversation_id: str
    reason: str
    at: datetime
    transcript: list[TranscriptLine]

    @classmethod
    def of(cls, record: ConversationRecord, reason: str) -> HandoffEvent:
        return cls(
            conversation_id=record.id,
            reason=reason,
            at=datetime.now(UTC),
            transcript=[TranscriptLine(role=t.role, text=t.text, at=t.created_at) for t in record.turns],
        )


class WebhookSender:
    """Delivers events in the background: a queue, a few concurrent deliveries, retries with back-off."""

    def __init__(
        self, config: WebhookConfig, metrics: Metrics, *, max_pending: int = 10_000, parallel: int = 8
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.max_pending = max_pending
        self.parallel = parallel
        self._queue: asyncio.Queue[HandoffEvent] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None

    @property
    def enabled(self) -> bool:
        return self.config.url is not None

    async def start(self) -> None:
        if not self.enabled:
            return
        self._queue = asyncio.Queue(self.max_pending)
        self._client = httpx.AsyncClient(timeout=self.config.timeout_s, headers={"User-Agent": "support-agent"})
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.parallel)]

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let queued deliveries finish for up to `grace_s`, then drop what is left."""
        if self._queue is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), grace_s)
        except TimeoutError:
            log.warning("webhook: %d handoff event(s) undelivered at shutdown", self._queue.qsize())
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        self._queue, self._workers, self._client = None, [], None

    def submit(self, event: HandoffEvent) -> bool:
        """Queue an event (never waits); False when the webhook is off or the queue is full."""
        if self._queue is None:
            return False
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.metrics.webhook.labels(outcome="dropped").inc()
            log.error("webhook: queue full, handoff event for %s dropped", event.conversation_id)
            return False
        return True

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            event = await self._queue.get()
            try:
                await self._deliver(event)
            except Exception:  # a bug in one delivery must not stop the worker
                log.exception("webhook: delivery of %s failed unexpectedly", event.conversation_id)
            finally:
                self._queue.task_done()

    async def _deliver(self, event: HandoffEvent) -> None:
        assert self._client is not None and self.config.url is not None
        body = event.model_dump_json().encode()
        headers = {
            "Content-Type": "application/json",
            "X-Agent-Event": event.event,
            "Idempotency-Key": f"handoff:{event.conversation_id}",  # the same on every retry
        }
        wait = self.config.backoff_s
        attempts = self.config.retries + 1
        for attempt in range(1, attempts + 1):
            problem: str
            try:
                response = await self._client.post(self.config.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            else:
                if response.is_success:
                    self.metrics.webhook.labels(outcome="delivered").inc()
                    return
                problem = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code not in RETRY_STATUSES:
                    self.metrics.webhook.labels(outcome="rejected").inc()
                    log.error("webhook: receiver refused handoff event for %s (%s)", event.conversation_id, problem)
                    return
            if attempt < attempts:
                self.metrics.webhook.labels(outcome="retry").inc()
                log.warning("webhook: attempt %d/%d failed (%s); retrying in %.1fs", attempt, attempts, problem, wait)
                await asyncio.sleep(wait)
                wait = min(MAX_BACKOFF_S, wait * 2 if wait > 0 else 0)
            else:
                self.metrics.webhook.labels(outcome="failed").inc()
                log.error("webhook: gave up on handoff event for %s after %d attempts", event.conversation_id, attempts)
