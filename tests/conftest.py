"""Shared fixtures: one real encoder, the demo bot trained once, a tiny bot (and its tiny decoder), both stores.

Services (PostgreSQL) are optional on a laptop: their tests skip when the
server is absent, unless AGENT_REQUIRE_SERVICES=1 (set by .ci/run), which
turns the skip into a failure.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from services import postgres_schema
from tinybot import TINY_FAQ, TINY_GRAPH, TINY_INTENTS, TINY_TEMPLATES, write_tiny_bot  # noqa: F401 (re-exported)

from agent.config import EncoderConfig
from agent.pipeline.dialog import Agent
from agent.steps.encoder import Encoder

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return Encoder(EncoderConfig())


def copy_demo_bot(dest: Path) -> Path:
    """A copy of the demo bot's files (not its build) in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "bot.yaml").read_text())
    # The demo's decoder takes minutes to fine-tune; decoder behaviour is tested on tiny models in
    # tests/steps/decoder, so the shared demo copy runs without it and trains in seconds.
    config.setdefault("decoder", {})["enabled"] = False
    (dest / "bot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copytree(ROOT / "knowledge", dest / "knowledge")
    shutil.copytree(ROOT / "dialogs", dest / "dialogs")
    return dest


@pytest.fixture(scope="session")
def demo_bot_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """The demo bot copied to a temporary folder and trained once for the whole session."""
    from agent.pipeline.assemble import load_bot
    from agent.training.build import build

    folder = copy_demo_bot(tmp_path_factory.mktemp("demo"))
    build(load_bot(folder), encoder=encoder, progress=False)
    return folder


@pytest.fixture(scope="session")
def demo_copy(demo_bot_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Makes a copy of the trained demo bot, build included, for tests that change its files or FAQ index."""

    def copy(name: str) -> Path:
        folder = tmp_path_factory.mktemp(name) / "bot"
        shutil.copytree(demo_bot_dir, folder)
        return folder

    return copy


@pytest.fixture(scope="module")
def module_agent(demo_copy: Callable[[str], Path], request: pytest.FixtureRequest) -> Iterator[Agent]:
    """The trained demo bot on a copy of its own, shared by one test module (its FAQ edits stay there)."""
    folder = demo_copy(request.module.__name__.rsplit(".", 1)[-1])
    loaded = Agent.load(folder, store_url=f"sqlite:///{folder / 'module.db'}")
    yield loaded
    loaded.close()


@pytest.fixture()
def demo_agent(demo_bot_dir: Path, tmp_path: Path, encoder: Encoder):
    """The trained demo bot with a fresh, empty SQLite store for this test."""
    agent = Agent.load(demo_bot_dir, store_url=f"sqlite:///{tmp_path / 'test.db'}")
    yield agent
    agent.close()


@pytest.fixture()
def tiny_bot_dir(tmp_path: Path) -> Path:
    return write_tiny_bot(tmp_path / "tiny")


@pytest.fixture(scope="session")
def tiny_trained_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """The tiny bot, trained once for the session (the decoder tests' bot)."""
    from agent import load_trained

    folder = write_tiny_bot(tmp_path_factory.mktemp("tinydec") / "bot")
    load_trained(folder, encoder=encoder).close()
    return folder


@pytest.fixture(scope="session")
def tiny_decoder_dir(tiny_trained_dir: Path, encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer GPT-2 that learnt two answers by heart, one grounded and one not (tests/tiny_decoder.py)."""
    from tiny_decoder import train_tiny_decoder

    return train_tiny_decoder(tiny_trained_dir, encoder, tmp_path_factory.mktemp("tinymodel"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on SQLite and on PostgreSQL (a fresh schema per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with postgres_schema() as url:
        yield url
