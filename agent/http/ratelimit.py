"""Rate limits that fit real traffic: per conversation, per client address, per key (the `limits` library).

bot.yaml `http.rate_limit` names three limits and where they are counted:

    per_conversation  each message of a conversation (a customer typing); whatever the credential
    per_address       every request made with a widget key or a conversation token, by client address
    per_key           every request made with a chat or admin key (server-to-server), by key

A widget key has no limit of its own: every visitor of the site shares it, so
its traffic is counted per address and per conversation instead.

The counts live in `storage`: "memory://" keeps them in this process (each
worker counts alone; `serve` warns when there are several), "redis://..." in
Redis, shared by every worker and every server pointed at it. A refused request
is 429 with Retry-After: whole seconds until the limit that refused it has room.
If the store cannot be reached the request is let through and the failure
logged (at most once a minute): a limiter outage must not stop customers.

The client address is the connection's, or the one uvicorn took from
X-Forwarded-For when the proxy is trusted (uvicorn `--forwarded-allow-ips`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.errors import ConfigurationError
from limits.storage import storage_from_string

from agent.config import RateLimitConfig
from agent.exceptions import ConfigError

log = logging.getLogger("agent.http.ratelimit")
Kind = Literal["conversation", "address", "key"]
STRATEGIES: dict[str, type[RateLimiter]] = {
    "moving-window": MovingWindowRateLimiter,
    "fixed-window": FixedWindowRateLimiter,
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
}
COMPLAIN_EVERY_S = 60.0


@dataclass(frozen=True)
class Refusal:
    """Which limit refused a request, and the Retry-After value (whole seconds, at least 1)."""

    kind: Kind
    limit: str
    retry_after: int

    @property
    def message(self) -> str:
        whose = {"conversation": "this conversation", "address": "this address", "key": "this API key"}[self.kind]
        return f"rate limit of {self.limit} for {whose} reached; retry in {self.retry_after} s"


def async_storage_url(url: str) -> str:
    """The `limits` asyncio storage for a bot.yaml storage URL (memory:// -> async+memory://)."""
    return url if url.startswith("async+") else f"async+{url}"


def check_storage(config: RateLimitConfig) -> None:
    """At start-up: a one-line ConfigError when the storage cannot be reached."""
    if config.storage.startswith("memory://"):
        return
    try:
        reachable = storage_from_string(config.storage).check()  # the synchronous twin, for one ping
    except (ConfigurationError, ImportError, ValueError) as exc:
        raise ConfigError(f"bot.yaml http.rate_limit.storage '{config.storage}': {exc}.") from None
    if not reachable:
        raise ConfigError(
            f"bot.yaml http.rate_limit.storage '{config.storage}' cannot be reached; start it or use memory://."
        )


def storage_warning(config: RateLimitConfig, workers: int) -> str | None:
    """The start-up warning for counts that the workers do not share (memory storage, several workers)."""
    if workers <= 1 or not config.storage.startswith("memory://"):
        return None
    return (
        f"http.rate_limit.storage is memory:// with {workers} workers: each worker counts on its own, "
        f"so a client can reach up to {workers}x each limit; use redis:// to share the counts."
    )


class RateLimits:
    """The three limits over one storage; `start()` inside the event loop that will use them."""

    def __init__(self, config: RateLimitConfig, namespace: str) -> None:
        self.config = config
        self.namespace = namespace  # the bot's name: bots sharing one Redis do not share counts
        self.items: dict[Kind, list[RateLimitItem]] = {
            kind: parse_many(text) if text else []
            for kind, text in (
                ("conversation", config.per_conversation),
                ("address", config.per_address),
                ("key", config.per_key),
            )
        }
        self._texts: dict[Kind, str] = {
            "conversation": config.per_conversation or "",
            "address": config.per_address or "",
            "key": config.per_key or "",
        }
        self._storage: Storage | None = None
        self._limiter: RateLimiter | None = None
        self._complained = -math.inf

    async def start(self) -> None:
        options: dict[str, str | bool] = {"wrap_exceptions": True}
        if not self.config.storage.startswith("memory://"):
            options["implementation"] = "redispy"  # redis-py's asyncio client (limits[redis])
        try:
            storage = storage_from_string(async_storage_url(self.config.storage), **options)
        except ConfigurationError as exc:
            raise ConfigError(f"bot.yaml http.rate_limit.storage '{self.config.storage}': {exc}.") from None
        assert isinstance(storage, Storage)
        self._storage = storage
        self._limiter = STRATEGIES[self.config.strategy](storage)

    async def stop(self) -> None:
        self._storage = self._limiter = None

    async def hit(self, kind: Kind, identifier: str) -> Refusal | None:
        """Count one request of `identifier` against the `kind` limit; a Refusal when it is over."""
        items = self.items[kind]
        if not items or self._limiter is None:
            return None
        keys = (self.namespace, kind, identifier)
        try:
            for item in items:
                if not await self._limiter.hit(item, *keys):
                    stats = await self._limiter.get_window_stats(item, *keys)
                    wait = max(1, math.ceil(stats.reset_time - time.time()))
                    return Refusal(kind, self._texts[kind], wait)
        except Exception as exc:  # the storage's own errors (wrapped) and connection failures alike
            now = time.monotonic()
            if now - self._complained >= COMPLAIN_EVERY_S:
                self._complained = now
                log.error("rate limit storage failed, letting requests through: %s", str(exc).splitlines()[0])
        return None
