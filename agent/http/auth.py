"""API keys and their scopes: `Authorization: Bearer KEY`.

Keys come from the environment variable AGENT_API_KEYS (read by the entry
point, never here) and/or the file named by bot.yaml `http.api_keys_file`, both
as `key:scope` pairs, comma- or newline-separated (`#` starts a comment in the file):

    AGENT_API_KEYS="k1:chat,k2:admin"

Three scopes:

    widget  public, for a site's web page: may only create conversations (POST /v1/conversations);
            each conversation is then reached with its own token (agent/http/tokens.py)
    chat    talk, read a transcript, end a conversation, by id (server-to-server)
    admin   all of chat, and FAQ administration

Only a SHA-256 of each key is kept in memory. Which credential a route takes is
decided in agent/http/access.py.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent.exceptions import ConfigError

Scope = Literal["widget", "chat", "admin"]
SCOPES: tuple[Scope, ...] = ("widget", "chat", "admin")
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
        """admin allows everything, chat allows chat, widget allows widget (creating conversations) only."""
        return self.scope == "admin" or needed == self.scope


class ApiKeys:
    """The accepted keys, each with its scope."""

    def __init__(self, pairs: dict[str, Scope] | None = None) -> None:
        self._scopes: dict[bytes, Scope] = {}
        for key, scope in (pairs or {}).items():
            self._scopes[_digest(key)] = scope

    def __len__(self) -> int:
        return len(self._scopes)

    def count(self, scope: Scope) -> int:
        """How many keys have `scope`."""
        return sum(1 for known in self._scopes.values() if known == scope)

    @classmethod
    def parse(cls, text: str, source: str) -> ApiKeys:
        """Parse `key:scope` pairs; `source` names where they came from, for the error message."""
        pairs: dict[str, Scope] = {}
        items = [item.split("#", 1)[0].strip() for line in text.splitlines() for item in line.split(",")]
        for position, item in enumerate((item for item in items if item), start=1):
            key, sep, scope = item.rpartition(":")
            key, scope = key.strip(), scope.strip()
            if not sep or not key:
                raise ConfigError(f"{source}: entry {position} is not 'key:scope' (scope is widget, chat or admin).")
            if scope not in SCOPES:
                raise ConfigError(f"{source}: entry {position} has scope '{scope[:20]}'; use widget, chat or admin.")
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
