"""Conversation tokens: what a browser holds instead of an API key (PyJWT, HS256).

`POST /v1/conversations` (a widget, chat or admin key) opens a conversation
with a new random id and returns a token bound to it:

    {"sub": "<conversation id>", "aud": "agent-conversation", "iat": ..., "exp": ...}

signed with the server's secret (AGENT_TOKEN_SECRET, or the file named by
bot.yaml `http.token_secret_file`; read by the entry point, never here) and
valid for `http.token_ttl_s` seconds. That conversation's messages, transcript
and end then accept `Authorization: Bearer <token>`:

    401  expired, forged (bad signature), malformed, or signed with another secret
    403  a valid token of another conversation

Every worker must share the secret, which is why a widget key with no secret
is a start-up error rather than a random per-process secret: a token signed by
one worker would be refused by the next.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jwt

from agent.exceptions import ConfigError

ENV_VAR = "AGENT_TOKEN_SECRET"
AUDIENCE = "agent-conversation"
ALGORITHM = "HS256"
MIN_SECRET_CHARS = 32  # HS256 wants a key of at least its 256-bit output (RFC 7518 section 3.2)
LEEWAY_S = 5  # clock skew tolerated between the workers that sign and check


class TokenError(Exception):
    """A token that is not valid for the request: `status` 401 (not ours, expired) or 403 (another conversation)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class IssuedToken:
    """A new token and when it stops being valid."""

    token: str
    expires_at: datetime


class ConversationTokens:
    """Signs and checks conversation tokens with one secret."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigError(f"the token secret is {len(secret)} characters; use at least {MIN_SECRET_CHARS}.")
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(self, conversation_id: str, now: float | None = None) -> IssuedToken:
        """A token for `conversation_id`, valid for `ttl_s` seconds from `now`."""
        issued = int(time.time() if now is None else now)
        expires = issued + self.ttl_s
        claims = {"sub": conversation_id, "aud": AUDIENCE, "iat": issued, "exp": expires}
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token=token, expires_at=datetime.fromtimestamp(expires, UTC))

    def conversation_of(self, token: str) -> str:
        """The conversation id a valid token is bound to; TokenError(401) otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],  # never the token's own choice ("none", or RS256 with our secret as key)
                audience=AUDIENCE,
                leeway=LEEWAY_S,
                options={"require": ["sub", "aud", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError(401, "conversation token expired; start a new conversation") from None
        except jwt.InvalidTokenError:
            raise TokenError(401, "invalid conversation token (not signed by this server, or damaged)") from None
        return str(claims["sub"])

    def check(self, token: str, conversation_id: str) -> None:
        """Raise TokenError unless `token` is valid and bound to `conversation_id`."""
        if self.conversation_of(token) != conversation_id:
            raise TokenError(403, "this conversation token belongs to another conversation")


def looks_like_token(credential: str) -> bool:
    """A JWT is three base64url parts joined by dots; an API key need not be."""
    return credential.count(".") == 2 and all(credential.split("."))


def load_token_secret(env_value: str | None, file: Path | None) -> str | None:
    """The signing secret from AGENT_TOKEN_SECRET or the secret file (not both); None when neither is given."""
    value = env_value.strip() if env_value and env_value.strip() else None
    if file is not None:
        if value is not None:
            raise ConfigError(
                f"the token secret is given twice ({ENV_VAR} and bot.yaml http.token_secret_file); keep one."
            )
        try:
            value = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise ConfigError(f"bot.yaml http.token_secret_file: cannot read '{file}' ({reason}).") from None
        if not value:
            raise ConfigError(f"bot.yaml http.token_secret_file: '{file}' is empty.")
    if value is not None and len(value) < MIN_SECRET_CHARS:
        where = ENV_VAR if file is None else f"the token secret file {file.name}"
        raise ConfigError(
            f"{where} holds {len(value)} characters; a token secret needs at least {MIN_SECRET_CHARS} "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
        )
    return value


def token_signer(secret: str | None, ttl_s: int, widget_keys: int) -> ConversationTokens | None:
    """The signer for `secret`; a one-line error when widget keys exist but there is no secret."""
    if secret is None:
        if widget_keys:
            raise ConfigError(
                f"a widget key is configured but there is no token secret: set {ENV_VAR} "
                f"({MIN_SECRET_CHARS}+ characters, the same for every worker) or name a file in bot.yaml "
                "http.token_secret_file."
            )
        return None
    return ConversationTokens(secret, ttl_s)
