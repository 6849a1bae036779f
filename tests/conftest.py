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
    shutil.copy(ROOT / "bot.yaml", dest / "bot.yaml")
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


TINY_INTENTS = {
    "intents": [
        {
            "name": "card_fee",
            "examples": [
                "how much does the card cost",
                "is the card free",
                "monthly fee for the card",
                "what do I pay for my card each month",
                "card price",
                "does the plus card cost money",
            ],
        },
        {
            "name": "lost_card",
            "examples": [
                "I lost my card",
                "my card was stolen",
                "can't find my card anywhere",
                "someone took my wallet with the card",
                "card missing",
                "report a lost card",
            ],
        },
        {"name": "greeting", "examples": ["hi", "hello", "hey there", "good morning", "hiya", "hello bot"]},
        {
            "name": "oos",
            "examples": [
                "what's the weather tomorrow",
                "book me a flight",
                "tell me a joke",
                "recipe for pancakes",
                "who won the football match",
                "play some music",
            ],
        },
    ]
}
TINY_GRAPH = {
    "entities": [
        {
            "id": "card_basic",
            "type": "card",
            "name": "Basic card",
            "aliases": ["basic", "basic card"],
            "attributes": {"monthly_fee": "EUR 0"},
        },
        {
            "id": "card_plus",
            "type": "card",
            "name": "Plus card",
            "aliases": ["plus", "plus card"],
            "attributes": {"monthly_fee": "EUR 4.99"},
        },
        {"id": "bank", "type": "bank", "name": "Tiny Bank", "aliases": [], "attributes": {"phone": "+1 555 0100"}},
    ],
    "relations": [],
    "procedures": {"lost_card": {"required": [], "steps": ["Freeze the card in the app.", "Order a new one."]}},
}
TINY_TEMPLATES = {
    "templates": {
        "card_fee": {
            "slots": {"card": {"type": "card", "required": True, "ask": "Which card: Basic or Plus?"}},
            "text": "The {card.name} costs {card.monthly_fee} a month.",
        },
        "lost_card": {"text": "Sorry to hear that. {steps}\nOr call us on {bank.phone}."},
        "greeting": {"text": "Hello from {bank}!"},
    }
}
TINY_FAQ = {
    "faqs": [
        {
            "id": "opening-hours",
            "question": "When is support open?",
            "alternatives": ["what are your opening hours"],
            "answer": "Support is open 24/7 in the app.",
        },
    ]
}


def write_tiny_bot(folder: Path, **overrides: object) -> Path:
    """A small valid bot folder; `overrides` replace whole files by key (config, intents, faq, graph, templates)."""
    files = {
        "bot.yaml": overrides.get("config", {"name": "Tiny bot", "intents": {"confident": 0.3, "oos_threshold": 0.2}}),
        "knowledge/intents.yaml": overrides.get("intents", TINY_INTENTS),
        "knowledge/faq.yaml": overrides.get("faq", TINY_FAQ),
        "knowledge/graph.yaml": overrides.get("graph", TINY_GRAPH),
        "dialogs/templates.yaml": overrides.get("templates", TINY_TEMPLATES),
    }
    for rel, content in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
    return folder


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
