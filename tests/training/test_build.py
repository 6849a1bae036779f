"""`train` builds every artifact, is incremental, and a stale build is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tinybot import TINY_FAQ, TINY_INTENTS

from agent import load_trained
from agent.exceptions import BuildError
from agent.pipeline.artifacts import stale_artifacts
from agent.pipeline.assemble import load_bot
from agent.pipeline.dialog import Agent
from agent.steps.encoder import Encoder
from agent.training.build import build


def test_first_build_then_nothing_to_do(tiny_bot_dir: Path, encoder: Encoder) -> None:
    bot = load_bot(tiny_bot_dir)
    assert stale_artifacts(bot) == ["intents", "graph"]
    first = build(bot, encoder=encoder, progress=False)
    assert set(first.built) == {"graph", "intents", "faq"} and first.faq_seeded == (1, 0, 0)
    for part in ("intents/head.npz", "intents/meta.json", "faq/index.faiss", "graph/graph.json", "manifest.json"):
        assert (bot.build_path / part).is_file(), part
    second = build(load_bot(tiny_bot_dir), encoder=encoder, progress=False)
    assert second.built == [] and set(second.skipped) == {"graph", "intents", "faq"}
    assert second.faq_encoded == 0


def test_only_changed_parts_rebuild(tiny_bot_dir: Path, encoder: Encoder) -> None:
    build(load_bot(tiny_bot_dir), encoder=encoder, progress=False)
    faq = {"faqs": [*TINY_FAQ["faqs"], {"id": "iban", "question": "Where is my IBAN?", "answer": "In Account."}]}
    (tiny_bot_dir / "knowledge" / "faq.yaml").write_text(yaml.safe_dump(faq))
    report = build(load_bot(tiny_bot_dir), encoder=encoder, progress=False)
    assert report.built == ["faq"] and report.faq_encoded == 1 and report.faq_seeded == (1, 0, 0)
    intents = yaml.safe_load(yaml.safe_dump(TINY_INTENTS))
    intents["intents"][0]["examples"].append("what's the price of a card")
    (tiny_bot_dir / "knowledge" / "intents.yaml").write_text(yaml.safe_dump(intents))
    report = build(load_bot(tiny_bot_dir), encoder=encoder, progress=False)
    assert report.built == ["intents"]


def test_second_run_without_encoder_is_fast(tiny_bot_dir: Path, encoder: Encoder) -> None:
    build(load_bot(tiny_bot_dir), encoder=encoder, progress=False)
    # No encoder passed: an up-to-date build must not need to load one.
    report = build(load_bot(tiny_bot_dir), progress=False)
    assert report.built == [] and report.seconds < 3


def test_stale_build_is_refused(tiny_bot_dir: Path, encoder: Encoder) -> None:
    with pytest.raises(
        BuildError, match=r"not trained or its build is stale \(intents, graph\).*python -m agent train"
    ):
        Agent.load(tiny_bot_dir)
    agent = load_trained(tiny_bot_dir)
    assert agent.respond("s", "hello").intent == "greeting"
    agent.close()


def test_force_rebuilds(tiny_bot_dir: Path, encoder: Encoder) -> None:
    build(load_bot(tiny_bot_dir), encoder=encoder, progress=False)
    report = build(load_bot(tiny_bot_dir), encoder=encoder, progress=False, force=True)
    assert set(report.built) == {"graph", "intents", "faq"} and report.faq_encoded == 1
