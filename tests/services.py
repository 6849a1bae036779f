"""The services some tests need (PostgreSQL), found once: a fresh schema per use, or a skip.

On a laptop without PostgreSQL those tests skip; with AGENT_REQUIRE_SERVICES=1
(set by .ci/run) a missing server fails them instead. The server is the one
AGENT_TEST_PG_URL names (default: the local one, database `test`), for the
stores under test and for creating and dropping their schemas alike.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("AGENT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _admin_conninfo() -> str:
    """PG_URL in libpq's words, for psycopg's own connections (creating and dropping schemas)."""
    url = make_url(PG_URL)
    parts = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username, "password": url.password}
    return psycopg.conninfo.make_conninfo(**{key: value for key, value in parts.items() if value is not None})


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is unreachable (fail instead under AGENT_REQUIRE_SERVICES=1)."""
    try:
        psycopg.connect(_admin_conninfo(), connect_timeout=3).close()
        return
    except psycopg.Error as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if os.environ.get("AGENT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"PostgreSQL is required (AGENT_REQUIRE_SERVICES=1) but unreachable: {problem}")
    pytest.skip(f"PostgreSQL not available: {problem}")


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
