"""Who may call a route, with which credential, and the rate limits each request counts against.

`Authorization: Bearer <credential>`, where the credential is an API key
(agent/http/auth.py) or a conversation token (agent/http/tokens.py):

    route                                  accepts                       counts against
    POST /v1/conversations                 widget, chat or admin key     per_address (widget) / per_key
    POST /v1/conversations/{id}/messages   its token, chat/admin key     per_address / per_key, and per_conversation
    GET  /v1/conversations/{id}, .../end   its token, chat/admin key     per_address / per_key
    /v1/faq...                             admin key                     per_key

    401  no credential, an unknown key, or a token that is expired, forged or damaged
    403  a token of another conversation; a widget key anywhere but POST /v1/conversations; a chat key on /v1/faq
    429  over a limit (bot.yaml `http.rate_limit`), with Retry-After in whole seconds

A valid token of another conversation is 403, not 401: the caller is known, the
conversation is not theirs. Refused requests (401, 403) count against no limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agent.http.auth import ApiKeys, Principal, Scope
from agent.http.errors import ApiError
from agent.http.metrics import Metrics
from agent.http.models import CONVERSATION_ID, CONVERSATION_ID_RULE
from agent.http.ratelimit import Kind, RateLimits
from agent.http.tokens import ConversationTokens, TokenError, looks_like_token

BEARER = HTTPBearer(
    auto_error=False,  # we answer 401 ourselves, as JSON
    scheme_name="Bearer",
    description=(
        "An API key from AGENT_API_KEYS or the keys file, or a conversation's token from POST /v1/conversations: "
        "`Authorization: Bearer KEY_OR_TOKEN`."
    ),
)
CHALLENGE = {"WWW-Authenticate": "Bearer"}
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
ConversationId = Annotated[str, Path(pattern=CONVERSATION_ID, description=CONVERSATION_ID_RULE)]


@dataclass(frozen=True)
class Caller:
    """Who is calling: an API key's principal, or the holder of one conversation's token."""

    address: str
    principal: Principal | None = None
    conversation_id: str | None = None  # the conversation a token is bound to

    @property
    def public(self) -> bool:
        """True for browser traffic (a widget key or a token): limited per address, not per key."""
        return self.principal is None or self.principal.scope == "widget"


class Access:
    """Builds the FastAPI dependencies that guard the routes."""

    def __init__(self, keys: ApiKeys, tokens: ConversationTokens | None, limits: RateLimits, metrics: Metrics) -> None:
        self.keys = keys
        self.tokens = tokens
        self.limits = limits
        self.metrics = metrics

    def require(self, scope: Scope) -> Callable[..., Awaitable[Principal]]:
        """A dependency for a route that takes an API key of `scope` (FAQ administration: admin)."""

        async def guard(request: Request, credentials: Credentials) -> Principal:
            principal = self._principal(_credential(credentials))
            if not principal.allows(scope):
                raise ApiError(403, f"this key's scope is '{principal.scope}'; this route needs '{scope}'")
            await self._count(Caller(_address(request), principal))
            return principal

        return guard

    def opener(self) -> Callable[..., Awaitable[Caller]]:
        """The dependency of POST /v1/conversations: any API key (widget, chat or admin)."""

        async def guard(request: Request, credentials: Credentials) -> Caller:
            caller = Caller(_address(request), self._principal(_credential(credentials)))
            await self._count(caller)
            return caller

        return guard

    def conversation(self, message: bool) -> Callable[..., Awaitable[Caller]]:
        """A dependency for a conversation's routes: its token or a chat/admin key; `message`: per_conversation too."""

        async def guard(request: Request, conversation_id: ConversationId, credentials: Credentials) -> Caller:
            credential = _credential(credentials)
            principal = self.keys.identify(credential)
            if principal is None:
                caller = Caller(_address(request), conversation_id=self._token_holder(credential, conversation_id))
            elif principal.scope == "widget":
                raise ApiError(
                    403,
                    "a widget key may only create conversations (POST /v1/conversations); "
                    "send that conversation's token instead",
                )
            else:
                caller = Caller(_address(request), principal)
            await self._count(caller)
            if message:
                await self._hit("conversation", conversation_id)
            return caller

        return guard

    def _principal(self, credential: str) -> Principal:
        principal = self.keys.identify(credential)
        if principal is None:
            said = "a conversation token is not accepted here" if looks_like_token(credential) else "unknown API key"
            raise ApiError(401, f"{said}; send an API key", CHALLENGE)
        return principal

    def _token_holder(self, credential: str, conversation_id: str) -> str:
        if self.tokens is None or not looks_like_token(credential):
            raise ApiError(401, "unknown API key or conversation token", CHALLENGE)
        try:
            self.tokens.check(credential, conversation_id)
        except TokenError as exc:
            raise ApiError(exc.status, exc.message, CHALLENGE if exc.status == 401 else None) from None
        return conversation_id

    async def _count(self, caller: Caller) -> None:
        if caller.public:
            await self._hit("address", caller.address)
        elif caller.principal is not None:
            await self._hit("key", caller.principal.key_id)

    async def _hit(self, kind: Kind, identifier: str) -> None:
        refusal = await self.limits.hit(kind, identifier)
        if refusal is not None:
            self.metrics.rate_limited.labels(limit=kind).inc()
            raise ApiError(429, refusal.message, {"Retry-After": str(refusal.retry_after)})


def _credential(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "missing credential: send 'Authorization: Bearer KEY' (or a conversation token)", CHALLENGE)
    return credentials.credentials


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
