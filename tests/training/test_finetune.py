"""Encoder fine-tuning: a bot with `intents.finetune` on trains, saves and uses one tuned encoder everywhere."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import yaml
from tinybot import write_tiny_bot

from agent.config import EncoderConfig, FinetuneConfig
from agent.exceptions import ConfigError
from agent.pipeline.assemble import load_bot
from agent.pipeline.dialog import Agent
from agent.steps.encoder import ENSEMBLE_FILE, Encoder, encoder_fingerprint
from agent.training.build import build
from agent.training.finetune import finetune_encoder, noisy

TUNING = {"enabled": True, "epochs": 2, "layers": 1, "batch_size": 8, "holdout": 0.2, "learning_rate": 5e-4}


def test_tuned_folder_loads_as_an_encoder_and_moves_embeddings(tmp_path: Path, encoder: Encoder) -> None:
    texts = ["card fee", "monthly price", "lost my card", "card stolen", "hi", "hello there"]
    labels = ["fee", "fee", "lost", "lost", "greet", "greet"]
    out = tmp_path / "tuned"
    config = FinetuneConfig(enabled=True, epochs=2, layers=1, batch_size=4, learning_rate=1e-3)
    report = finetune_encoder(encoder, texts, labels, config, out, fingerprint="run-1")
    assert report.examples == 6 and report.classes == 3 and report.steps == 4
    tuned = Encoder(EncoderConfig(model=str(out)))
    before, after = encoder.encode(texts), tuned.encode(texts)
    assert np.allclose(np.linalg.norm(after, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(before, after, atol=1e-4)  # the top layer was trained
    # The original encoder is untouched, and two tunings of one base have different fingerprints.
    assert np.allclose(before, Encoder(EncoderConfig()).encode(texts), atol=1e-5)
    assert tuned.fingerprint != encoder.fingerprint
    finetune_encoder(encoder, texts, labels, config, tmp_path / "other", fingerprint="run-2")
    assert encoder_fingerprint(EncoderConfig(model=str(out))) != encoder_fingerprint(
        EncoderConfig(model=str(tmp_path / "other"))
    )


def test_members_form_one_ensemble_encoder(tmp_path: Path, encoder: Encoder) -> None:
    texts = ["card fee", "monthly price", "lost my card", "card stolen", "hi", "hello there"]
    labels = ["fee", "fee", "lost", "lost", "greet", "greet"]
    out = tmp_path / "tuned"
    config = FinetuneConfig(enabled=True, epochs=2, layers=1, batch_size=4, learning_rate=1e-3, members=2)
    single = config.model_copy(update={"members": 1})
    finetune_encoder(encoder, texts, labels, single, out, fingerprint="single")  # a plain folder it must replace
    report = finetune_encoder(encoder, texts, labels, config, out, fingerprint="run-1")
    assert report.members == 2 and report.steps == 2 * 4 and report.examples == 6
    assert sorted(p.name for p in out.iterdir()) == [ENSEMBLE_FILE, "member-0", "member-1"]
    assert not out.with_name("tuned.members").exists()

    ensemble = Encoder(EncoderConfig(model=str(out)))
    parts = [Encoder(EncoderConfig(model=str(out / f"member-{k}"))).encode(texts) for k in range(2)]
    assert not np.allclose(parts[0], parts[1], atol=1e-4)  # different seeds, different encoders
    vectors = ensemble.encode(texts)
    assert ensemble.dim == 2 * encoder.dim and vectors.shape == (6, 2 * encoder.dim) and vectors.dtype == np.float32
    assert np.allclose(vectors, np.concatenate(parts, axis=1) / np.sqrt(2), atol=1e-6)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)  # still unit length: dot = mean cosine
    assert ensemble.fingerprint not in {
        encoder.fingerprint,
        encoder_fingerprint(EncoderConfig(model=str(out / "member-0"))),
    }

    with pytest.raises(ConfigError, match="is an ensemble of 2 encoders"):
        finetune_encoder(ensemble, texts, labels, config, tmp_path / "again", fingerprint="run-2")

    (out / ENSEMBLE_FILE).write_text("{not json")
    with pytest.raises(ConfigError, match=r"ensemble\.json is unreadable"):
        Encoder(EncoderConfig(model=str(out)))


def test_noisy_variants_are_small_edits() -> None:
    rng = random.Random(3)
    for text in ["Where is my card?", "top up", "a", "HELLO"]:
        variant = noisy(text, rng)
        assert variant and abs(len(variant) - len(text)) <= 2


def test_bot_with_finetuning_uses_the_tuned_encoder_everywhere(tmp_path: Path, encoder: Encoder) -> None:
    config = {
        "name": "Tiny bot",
        "intents": {"confident": 0.3, "oos_threshold": 0.2, "finetune": TUNING},
        "dialog": {"small_talk": False},
    }
    folder = write_tiny_bot(tmp_path / "tuned-bot", config=config)
    first = build(load_bot(folder), encoder=encoder, progress=False)
    assert set(first.built) == {"graph", "intents", "faq"}
    tuned_path = folder / "build" / "encoder"
    assert (tuned_path / "config.json").is_file() and (tuned_path / "finetune.json").is_file()

    agent = Agent.load(folder, store_url=f"sqlite:///{tmp_path / 'a.db'}", encoder=encoder)
    try:
        assert agent.encoder.path == tuned_path.resolve()
        assert agent.faq.encoder_fingerprint == agent.encoder.fingerprint != encoder.fingerprint
        reply = agent.respond("s1", "When is support open?")
        assert reply.faq_ids[0] == "opening-hours"
    finally:
        agent.close()

    # Nothing changed: nothing is tuned or encoded again.
    second = build(load_bot(folder), encoder=encoder, progress=False)
    assert second.built == [] and second.faq_encoded == 0

    # Two members: the bot's encoder becomes the ensemble, and the FAQ is encoded again with it.
    config["intents"]["finetune"] = {**TUNING, "members": 2}
    (folder / "bot.yaml").write_text(yaml.safe_dump(config))
    ensemble = build(load_bot(folder), encoder=encoder, progress=False)
    assert "intents" in ensemble.built and ensemble.faq_encoded == 1
    assert (tuned_path / ENSEMBLE_FILE).is_file()
    agent = Agent.load(folder, store_url=f"sqlite:///{tmp_path / 'b.db'}", encoder=encoder)
    try:
        assert agent.encoder.dim == 2 * encoder.dim
        assert agent.respond("s2", "When is support open?").faq_ids[0] == "opening-hours"
    finally:
        agent.close()

    # Turning fine-tuning off retrains the head on the base encoder and re-encodes the FAQ with it.
    config["intents"]["finetune"] = {"enabled": False}
    (folder / "bot.yaml").write_text(yaml.safe_dump(config))
    third = build(load_bot(folder), encoder=encoder, progress=False)
    assert "intents" in third.built and third.faq_encoded == 1
