"""The services some tests need (PostgreSQL, Redis): a fresh schema per use, or a skip.

On a laptop without them those tests skip; with AGENT_REQUIRE_SERVICES=1
(set by .ci/run) a missing server fails them instead. The PostgreSQL server is
the one AGENT_TEST_PG_URL names (default: the local one, database `test`), for
the stores under test and for creating and dropping their schemas alike; Redis
is AGENT_TEST_REDIS_URL (default redis://127.0.0.1:6379), for the HTTP rate limits.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("AGENT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("AGENT_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _admin_conninfo() -> str:
    """PG_URL in libpq's words, for psycopg's own connections (creating and dropping schemas)."""
    url = make_url(PG_URL)
    parts = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username, "password": url.password}
    return psycopg.conninfo.make_conninfo(**{key: value for key, value in parts.items() if value is not None})


def _unavailable(service: str, problem: str) -> None:
    if os.environ.get("AGENT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{service} is required (AGENT_REQUIRE_SERVICES=1) but unreachable: {problem}")
    pytest.skip(f"{service} not available: {problem}")


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is unreachable (fail instead under AGENT_REQUIRE_SERVICES=1)."""
    try:
        psycopg.connect(_admin_conninfo(), connect_timeout=3).close()
        return
    except psycopg.Error as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    _unavailable("PostgreSQL", problem)


def require_redis() -> str:
    """REDIS_URL when Redis answers a PING; else skip (fail under AGENT_REQUIRE_SERVICES=1)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return REDIS_URL
    except redis.RedisError as exc:
        _unavailable("Redis", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise  # not reached: skip and fail raise their own exceptions


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A store URL whose tables go into a new, empty schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
