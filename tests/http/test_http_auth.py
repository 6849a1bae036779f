"""API keys (parsing, scopes, where they come from) and the token-bucket rate limiter."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import ConfigError
from agent.config import RateLimitConfig
from agent.http.auth import ApiKeys, load_api_keys
from agent.http.ratelimit import RateLimiter


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


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_burst_then_steady_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitConfig(requests_per_minute=60, burst=3), clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [None, None, None]
    wait = limiter.acquire("a")
    assert wait is not None and wait == pytest.approx(1.0)
    assert RateLimiter.retry_after(wait) == "1"
    assert limiter.acquire("b") is None  # buckets are per key
    clock.now = 1.0
    assert limiter.acquire("a") is None  # one token back after a second at 60/min
    assert limiter.acquire("a") is not None
    clock.now = 100.0
    assert [limiter.acquire("a") for _ in range(4)][:3] == [None, None, None]  # refills only up to the burst


def test_zero_rate_turns_the_limit_off() -> None:
    limiter = RateLimiter(RateLimitConfig(requests_per_minute=0, burst=1))
    assert not limiter.enabled and all(limiter.acquire("a") is None for _ in range(100))
