"""The intent head: learns, calibrates, detects out-of-scope, saves and loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tinybot import TINY_INTENTS

from agent.config import BotConfig, IntentConfig
from agent.exceptions import BuildError
from agent.steps.encoder import Encoder
from agent.steps.intents.classifier import IntentClassifier


@pytest.fixture(scope="module")
def trained(encoder: Encoder) -> IntentClassifier:
    texts = [t for spec in TINY_INTENTS["intents"] for t in spec["examples"]]
    labels = [spec["name"] for spec in TINY_INTENTS["intents"] for _ in spec["examples"]]
    return IntentClassifier.fit(encoder.encode(texts), labels, IntentConfig(confident=0.3, oos_threshold=0.2))


def test_predicts_unseen_phrasings(trained: IntentClassifier, encoder: Encoder) -> None:
    preds = trained.predict(encoder.encode(["my card got stolen yesterday", "what does the card cost per month"]))
    assert [p.name for p in preds] == ["lost_card", "card_fee"]
    assert all(0.0 <= p.confidence <= 1.0 for p in preds)
    assert preds[0].top[0].name == "lost_card" and len(preds[0].top) == 3


def test_explicit_oos_class(trained: IntentClassifier, encoder: Encoder) -> None:
    pred = trained.predict(encoder.encode(["will it rain in Paris on Sunday"]))[0]
    assert pred.out_of_scope and pred.name == "oos"


def test_threshold_makes_low_confidence_out_of_scope(trained: IntentClassifier, encoder: Encoder) -> None:
    strict = IntentClassifier(
        trained.labels,
        trained.weight,
        trained.bias,
        trained.temperature,
        IntentConfig(oos_threshold=0.999, confident=0.999),
    )
    pred = strict.predict(encoder.encode(["card"]))[0]
    assert pred.out_of_scope


def test_probabilities_sum_to_one(trained: IntentClassifier, encoder: Encoder) -> None:
    probs = trained.probabilities(encoder.encode(["hello", "lost it"]))
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert trained.temperature > 0


def test_save_load_round_trip(trained: IntentClassifier, encoder: Encoder, tmp_path: Path) -> None:
    trained.save(tmp_path)
    loaded = IntentClassifier.load(tmp_path, BotConfig(name="t", intents=trained.config), encoder)
    x = encoder.encode(["hi", "card stolen"])
    assert np.allclose(loaded.probabilities(x), trained.probabilities(x))


def test_deterministic_training(encoder: Encoder) -> None:
    x = encoder.encode(["a", "b", "c", "d", "e", "f"])
    labels = ["x", "x", "x", "y", "y", "y"]
    cfg = IntentConfig(calibration_folds=3, epochs=50)
    first, second = IntentClassifier.fit(x, labels, cfg), IntentClassifier.fit(x, labels, cfg)
    assert np.array_equal(first.weight, second.weight)


def test_needs_two_intents(encoder: Encoder) -> None:
    with pytest.raises(BuildError, match="two in-scope"):
        IntentClassifier.fit(encoder.encode(["a", "b"]), ["x", "oos"], IntentConfig())


def test_load_missing(encoder: Encoder, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="python -m agent train"):
        IntentClassifier.load(tmp_path, BotConfig(name="t"), encoder)
