"""Shared fixtures: one real encoder, the demo bot trained once, a tiny bot, both stores.

Services (PostgreSQL) are optional on a laptop: their tests skip when the
server is absent, unless AGENT_REQUIRE_SERVICES=1 (set by .ci/run), which
turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tinybot import TINY_FAQ, TINY_GRAPH, TINY_INTENTS, TINY_TEMPLATES, write_tiny_bot  # noqa: F401 (re-exported)

from agent.config import EncoderConfig
from agent.steps.encoder import Encoder

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
PG_URL = os.environ.get("AGENT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return Encoder(EncoderConfig())


def copy_demo_bot(dest: Path) -> Path:
    """A copy of the demo bot's files (not its build) in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "bot.yaml").read_text())
    # The demo's decoder takes minutes to fine-tune; decoder behaviour is tested on tiny models in
    # tests/decoder, so the shared demo copy runs without it and trains in seconds.
    config.setdefault("decoder", {})["enabled"] = False
    (dest / "bot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copytree(ROOT / "knowledge", dest / "knowledge")
    shutil.copytree(ROOT / "dialogs", dest / "dialogs")
    return dest


@pytest.fixture(scope="session")
def demo_bot_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """The demo bot copied to a temporary folder and trained once for the whole session."""
    from agent.botfolder import load_bot
    from agent.train import build

    folder = copy_demo_bot(tmp_path_factory.mktemp("demo"))
    build(load_bot(folder), encoder=encoder, progress=False)
    return folder


@pytest.fixture()
def demo_agent(demo_bot_dir: Path, tmp_path: Path, encoder: Encoder):
    """The trained demo bot with a fresh, empty SQLite store for this test."""
    from agent.dialog import Agent

    agent = Agent.load(demo_bot_dir, store_url=f"sqlite:///{tmp_path / 'test.db'}")
    yield agent
    agent.close()


@pytest.fixture()
def tiny_bot_dir(tmp_path: Path) -> Path:
    return write_tiny_bot(tmp_path / "tiny")


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "no server here"
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on SQLite and on PostgreSQL (a fresh schema per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    problem = _postgres_available()
    if problem:
        if os.environ.get("AGENT_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL is required (AGENT_REQUIRE_SERVICES=1) but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
