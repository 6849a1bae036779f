"""API keys and their scopes: `Authorization: Bearer KEY`.

Keys come from the environment variable AGENT_API_KEYS (read by the entry
point, never here) and/or the file named by bot.yaml `http.api_keys_file`, both
as `key:scope` pairs, comma- or newline-separated (`#` starts a comment in the file):

    AGENT_API_KEYS="k1:chat,k2:admin"

Two scopes: `chat` (talk, read a transcript, end a conversation) and `admin`
(also FAQ administration). Only a SHA-256 of each key is kept in memory.

`Access.require(scope)` is the FastAPI dependency guarding a route:

    401  no `Authorization: Bearer KEY` header, or a key that is not ours
    403  a chat key on an admin route
    429  the key is over its rate limit (bot.yaml `http.rate_limit`, with Retry-After)
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agent.exceptions import ConfigError
from agent.http.errors import ApiError
from agent.http.metrics import Metrics
from agent.http.ratelimit import RateLimiter

Scope = Literal["chat", "admin"]
SCOPES: tuple[Scope, ...] = ("chat", "admin")
KEY = re.compile(r"^[A-Za-z0-9._~+/=-]+$")  # the characters a bearer token may hold (RFC 6750)
ENV_VAR = "AGENT_API_KEYS"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a short, non-secret key id (for rate limits and logs) and the key's scope."""

    key_id: str
    scope: Scope

    def allows(self, needed: Scope) -> bool:
        return self.scope == "admin" or needed == "chat"


class ApiKeys:
    """The accepted keys, each with its scope."""

    def __init__(self, pairs: dict[str, Scope] | None = None) -> None:
        self._scopes: dict[bytes, Scope] = {}
        for key, scope in (pairs or {}).items():
            self._scopes[_digest(key)] = scope

    def __len__(self) -> int:
        return len(self._scopes)

    @classmethod
    def parse(cls, text: str, source: str) -> ApiKeys:
        """Parse `key:scope` pairs; `source` names where they came from, for the error message."""
        pairs: dict[str, Scope] = {}
        items = [item.split("#", 1)[0].strip() for line in text.splitlines() for item in line.split(",")]
        for position, item in enumerate((item for item in items if item), start=1):
            key, sep, scope = item.rpartition(":")
            key, scope = key.strip(), scope.strip()
            if not sep or not key:
                raise ConfigError(f"{source}: entry {position} is not 'key:scope' (scope is chat or admin).")
            if scope not in SCOPES:
                raise ConfigError(f"{source}: entry {position} has scope '{scope[:20]}'; use chat or admin.")
            if not KEY.match(key):
                raise ConfigError(f"{source}: entry {position}: a key may hold only letters, digits and . _ ~ + / = -.")
            if key in pairs and pairs[key] != scope:
                raise ConfigError(f"{source}: entry {position} repeats a key with another scope.")
            pairs[key] = scope  # type: ignore[assignment]
        return cls(pairs)

    def merged(self, other: ApiKeys) -> ApiKeys:
        out = ApiKeys()
        out._scopes = {**self._scopes, **other._scopes}
        return out

    def identify(self, key: str) -> Principal | None:
        """The principal for a presented key, or None when it is not one of ours."""
        digest = _digest(key)
        # Compare digests in constant time per candidate, so timing does not reveal a prefix.
        for known, scope in self._scopes.items():
            if hmac.compare_digest(known, digest):
                return Principal(key_id=digest.hex()[:12], scope=scope)
        return None


def load_api_keys(env_value: str | None, file: Path | None) -> ApiKeys:
    """Keys from the AGENT_API_KEYS value and the keys file; at least one key is required."""
    keys = ApiKeys()
    if env_value and env_value.strip():
        keys = keys.merged(ApiKeys.parse(env_value, ENV_VAR))
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise ConfigError(f"bot.yaml http.api_keys_file: cannot read '{file}' ({reason}).") from None
        keys = keys.merged(ApiKeys.parse(text, f"API keys file {file.name}"))
    if not keys:
        raise ConfigError(
            f"No API keys: set {ENV_VAR}=key:chat,key2:admin or name a keys file in bot.yaml http.api_keys_file."
        )
    return keys


BEARER = HTTPBearer(
    auto_error=False,  # we answer 401 ourselves, as JSON
    scheme_name="ApiKey",
    description="An API key from AGENT_API_KEYS or the keys file: `Authorization: Bearer KEY`.",
)


class Access:
    """Builds the FastAPI dependency that guards a route."""

    def __init__(self, keys: ApiKeys, limiter: RateLimiter, metrics: Metrics) -> None:
        self.keys = keys
        self.limiter = limiter
        self.metrics = metrics

    def require(self, scope: Scope) -> Callable[..., Awaitable[Principal]]:
        """A dependency that returns the caller's `Principal` or raises 401/403/429."""

        async def guard(credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]) -> Principal:
            return self.check(credentials.credentials if credentials else None, scope)

        return guard

    def check(self, key: str | None, scope: Scope) -> Principal:
        challenge = {"WWW-Authenticate": "Bearer"}
        if not key:
            raise ApiError(401, "missing API key: send 'Authorization: Bearer KEY'", challenge)
        principal = self.keys.identify(key)
        if principal is None:
            raise ApiError(401, "unknown API key", challenge)
        if not principal.allows(scope):
            raise ApiError(403, f"this key's scope is '{principal.scope}'; this route needs '{scope}'")
        wait = self.limiter.acquire(principal.key_id)
        if wait is not None:
            self.metrics.rate_limited.inc()
            retry = RateLimiter.retry_after(wait)
            raise ApiError(
                429,
                f"rate limit of {self.limiter.config.requests_per_minute:g} requests per minute "
                f"(burst {self.limiter.config.burst}) reached; retry in {retry} s",
                {"Retry-After": retry},
            )
        return principal
