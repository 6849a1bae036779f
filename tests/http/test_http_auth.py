"""API keys (parsing, scopes, where they come from), conversation tokens and the rate limits, as units."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import jwt
import pytest

from agent import ConfigError
from agent.config import RateLimitConfig
from agent.http.auth import ApiKeys, load_api_keys
from agent.http.launch import free_port
from agent.http.ratelimit import RateLimits, check_storage, storage_warning
from agent.http.tokens import (
    AUDIENCE,
    ConversationTokens,
    TokenError,
    load_token_secret,
    looks_like_token,
    token_signer,
)


def test_keys_and_scopes() -> None:
    keys = ApiKeys.parse("k1:chat, k2:admin", "AGENT_API_KEYS")
    assert len(keys) == 2
    chat, admin = keys.identify("k1"), keys.identify("k2")
    assert chat is not None and chat.scope == "chat" and chat.allows("chat") and not chat.allows("admin")
    assert admin is not None and admin.allows("chat") and admin.allows("admin")
    assert keys.identify("k3") is None and keys.identify("") is None
    assert "k1" not in chat.key_id  # the id is a digest prefix, safe to log


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("k1", "entry 1 is not 'key:scope'"),
        ("k1:chat,k2:root", "entry 2 has scope 'root'"),
        (":chat", "entry 1 is not 'key:scope'"),
        ("bad key:chat", "entry 1: a key may hold only"),
        ("k1:chat,k1:admin", "repeats a key"),
    ],
)
def test_bad_key_lists_are_one_line_errors(value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as caught:
        ApiKeys.parse(value, "AGENT_API_KEYS")
    assert "\n" not in str(caught.value) and "AGENT_API_KEYS" in str(caught.value)


def test_keys_from_file_and_environment(tmp_path: Path) -> None:
    file = tmp_path / "keys.txt"
    file.write_text("# support desk\nfile-key:admin\n\nwidget:chat  # the web widget\n")
    keys = load_api_keys("env-key:chat", file)
    assert len(keys) == 3
    assert keys.identify("file-key").scope == "admin"  # type: ignore[union-attr]
    assert keys.identify("widget").scope == "chat"  # type: ignore[union-attr]
    assert len(load_api_keys(None, file)) == 2


def test_no_keys_or_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No API keys"):
        load_api_keys(None, None)
    with pytest.raises(ConfigError, match="No API keys"):
        load_api_keys("  ", None)
    with pytest.raises(ConfigError, match="cannot read"):
        load_api_keys("k:chat", tmp_path / "missing.txt")


def test_widget_scope_allows_only_itself() -> None:
    keys = ApiKeys.parse("site-key:widget,k1:chat,k2:admin", "AGENT_API_KEYS")
    widget = keys.identify("site-key")
    assert widget is not None and widget.allows("widget") and not widget.allows("chat") and not widget.allows("admin")
    assert keys.count("widget") == 1 and keys.count("chat") == 1
    assert not keys.identify("k1").allows("widget")  # type: ignore[union-attr]
    assert keys.identify("k2").allows("widget")  # type: ignore[union-attr]


# --- conversation tokens --------------------------------------------------------------

SECRET = "s" * 40


def test_token_is_bound_to_its_conversation() -> None:
    tokens = ConversationTokens(SECRET, ttl_s=600)
    issued = tokens.issue("c-1", now=1_000_000)
    assert looks_like_token(issued.token) and issued.expires_at.timestamp() == 1_000_600
    assert ConversationTokens(SECRET, 600).conversation_of(tokens.issue("c-1").token) == "c-1"
    tokens.check(tokens.issue("c-1").token, "c-1")
    with pytest.raises(TokenError) as other:
        tokens.check(tokens.issue("c-1").token, "c-2")
    assert other.value.status == 403


def test_expired_forged_and_foreign_tokens_are_401() -> None:
    tokens = ConversationTokens(SECRET, ttl_s=60)
    expired = tokens.issue("c-1", now=time.time() - 3600).token
    good = tokens.issue("c-1").token
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "c-2"
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), signature])
    unsigned = jwt.encode({"sub": "c-1", "aud": AUDIENCE, "iat": 1, "exp": 2**40}, None, algorithm="none")
    other_secret = ConversationTokens("t" * 40, 60).issue("c-1").token
    for token, says in [
        (expired, "expired"),
        (forged, "invalid"),
        (unsigned, "invalid"),
        (other_secret, "invalid"),
        (good[:-4] + "AAAA", "invalid"),
        ("a.b.c", "invalid"),
    ]:
        with pytest.raises(TokenError, match=says) as caught:
            tokens.conversation_of(token)
        assert caught.value.status == 401


def test_token_secret_from_environment_or_file(tmp_path: Path) -> None:
    file = tmp_path / "secret.txt"
    file.write_text(SECRET + "\n")
    assert load_token_secret(SECRET, None) == SECRET
    assert load_token_secret(None, file) == SECRET
    assert load_token_secret(None, None) is None and load_token_secret("  ", None) is None
    for env, path, says in [
        (SECRET, file, "given twice"),
        ("short", None, "AGENT_TOKEN_SECRET holds 5 characters"),
        (None, tmp_path / "missing.txt", "cannot read"),
    ]:
        with pytest.raises(ConfigError, match=says) as caught:
            load_token_secret(env, path)
        assert "\n" not in str(caught.value)


def test_widget_key_without_a_secret_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="a widget key is configured but there is no token secret: set AGENT_TOKEN"):
        token_signer(None, 600, widget_keys=1)
    assert token_signer(None, 600, widget_keys=0) is None  # chat keys alone need no tokens
    assert token_signer(SECRET, 600, widget_keys=1) is not None


# --- rate limits (the limits library, in memory) ---------------------------------------


def test_limits_count_per_identifier_and_tell_when_to_retry() -> None:
    async def run() -> None:
        limits = RateLimits(RateLimitConfig(per_conversation="3/minute", per_key=None), namespace="test")
        await limits.start()
        assert [await limits.hit("conversation", "c1") for _ in range(3)] == [None, None, None]
        refusal = await limits.hit("conversation", "c1")
        assert refusal is not None and refusal.kind == "conversation" and 55 <= refusal.retry_after <= 60
        assert "3/minute for this conversation" in refusal.message
        assert await limits.hit("conversation", "c2") is None  # another conversation, its own count
        assert all([await limits.hit("key", "k") is None for _ in range(100)])  # null: no limit
        await limits.stop()

    asyncio.run(run())


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"per_key": "lots"}, "per_key 'lots' is not a rate limit"),
        ({"requests_per_minute": 600, "burst": 60}, "were replaced by per_conversation"),
        ({"storage": "mysql://x"}, "storage"),
    ],
)
def test_bad_limit_settings_are_refused(settings: dict, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        RateLimitConfig.model_validate(settings)


def test_unreachable_redis_is_a_start_up_error() -> None:
    with pytest.raises(ConfigError, match="cannot be reached"):
        check_storage(RateLimitConfig(storage=f"redis://127.0.0.1:{free_port()}"))
    check_storage(RateLimitConfig())  # memory: nothing to reach


def test_memory_storage_with_several_workers_is_warned_about() -> None:
    warning = storage_warning(RateLimitConfig(), workers=2)
    assert warning is not None and "up to 2x each limit" in warning and "\n" not in warning
    assert storage_warning(RateLimitConfig(), workers=1) is None
    assert storage_warning(RateLimitConfig(storage="redis://127.0.0.1:6379"), workers=4) is None
