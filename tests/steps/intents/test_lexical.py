"""The lexical model: TF-IDF n-grams and a logistic regression, blended into the intent classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from weights import Weights

from agent.config import BotConfig, IntentConfig
from agent.steps.intents.classifier import IntentClassifier
from agent.steps.intents.lexical import LEXICAL_FILE, LexicalModel, bounded

TEXTS = [
    "my card payment is pending",
    "why is the payment still pending",
    "pending card transaction",
    "my card was declined",
    "why was my payment declined",
    "declined at the shop",
    "how do I top up",
    "top up with a bank transfer",
    "add money, top-up my account",
]
LABELS = ["pending"] * 3 + ["declined"] * 3 + ["top_up"] * 3


def test_lexical_model_learns_words_and_survives_typos(tmp_path: Path) -> None:
    names = sorted(set(LABELS))
    y = np.array([names.index(label) for label in LABELS])
    model = LexicalModel.fit(TEXTS, y, classes=4, strength=10.0)  # class 3 has no rows
    logp = model.log_probabilities(["payment pendng", "card declned", "topup please"])
    assert logp.shape == (3, 4) and np.allclose(np.exp(logp).sum(1), 1.0, atol=1e-5)
    assert [names[i] for i in logp[:, :3].argmax(1)] == ["pending", "declined", "top_up"]
    assert (logp[:, 3] < -15).all()  # a class unseen in training is (almost) impossible
    assert model.log_probabilities([]).shape == (0, 4)
    model.save(tmp_path)
    assert np.allclose(LexicalModel.load(tmp_path).log_probabilities(["pending"]), model.log_probabilities(["pending"]))


def test_classifier_with_lexical_weight_needs_texts_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    # Embeddings that carry no signal: only the lexical model can tell the intents apart.
    x = rng.normal(size=(len(TEXTS), 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    config = IntentConfig(lexical_weight=0.8, calibration_folds=3, epochs=50)
    with pytest.raises(ValueError, match="texts"):
        IntentClassifier.fit(x, LABELS, config)
    classifier = IntentClassifier.fit(x, LABELS, config, texts=TEXTS)
    probe = rng.normal(size=(2, 8)).astype(np.float32)
    with pytest.raises(ValueError, match="messages"):
        classifier.probabilities(probe)
    messages = ["is my payment pending", "how can I top up"]
    predicted = classifier.predict(probe, texts=messages)
    assert [p.name for p in predicted] == ["pending", "top_up"]
    classifier.save(tmp_path)
    assert (tmp_path / LEXICAL_FILE).is_file()
    loaded = IntentClassifier.load(
        tmp_path, BotConfig(name="t", intents=config), Weights(dim=16, fingerprint="synthetic")
    )
    assert np.allclose(loaded.probabilities(probe, messages), classifier.probabilities(probe, messages))
    # Saved again without the lexical model, the stale file goes.
    IntentClassifier.fit(x, LABELS, IntentConfig(epochs=50, calibration_folds=3)).save(tmp_path)
    assert not (tmp_path / LEXICAL_FILE).exists()


def test_a_run_of_over_100_characters_is_read_as_its_first_100() -> None:
    # Issue 19: a 2,000-character run without spaces (emoji, digits) cost 8,000 character n-grams;
    # the encoder reads such a run as one unknown token, and the lexical model now reads 100 characters of it.
    names = sorted(set(LABELS))
    model = LexicalModel.fit(TEXTS, np.array([names.index(label) for label in LABELS]), classes=3, strength=10.0)
    run = ("pending" * 300)[:2000]  # its character n-grams are in the vocabulary: counts matter
    assert bounded([f"is it {run} ok", "x" * 100]) == [f"is it {run[:100]} ok", "x" * 100]
    long, cut = model.log_probabilities([f"is it {run}", f"is it {run[:100]}"])
    assert np.array_equal(long, cut)
    plain = ["my card payment is pending", "top up with a bank transfer please"]  # no long runs: unchanged
    raw = model.regression.predict_proba(model.vectoriser.transform(plain))
    assert np.allclose(np.exp(model.log_probabilities(plain)), raw, atol=1e-6)
