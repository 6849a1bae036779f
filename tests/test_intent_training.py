"""The shared training path: stratified hold-out, calibration on it, and the automatic p(oos) rule."""

from __future__ import annotations

import numpy as np

from agent.config import IntentConfig
from agent.intent_training import stratified_holdout
from agent.steps.intents import IntentClassifier, _resolve_oos_probability


def test_stratified_holdout_takes_a_share_of_every_label_but_never_all() -> None:
    labels = ["a"] * 10 + ["b"] * 20 + ["c"] * 1 + ["d"] * 2
    held = stratified_holdout(labels, 0.1, seed=1)
    picked = [labels[i] for i in held]
    assert picked.count("a") == 1 and picked.count("b") == 2
    assert picked.count("c") == 0 and picked.count("d") == 1  # a single example stays; one of two may go
    assert list(held) == sorted(set(held.tolist()))
    assert np.array_equal(held, stratified_holdout(labels, 0.1, seed=1))  # reproducible
    assert len(stratified_holdout(labels, 0.0, seed=1)) == 0


def test_auto_oos_probability_by_hand() -> None:
    # Columns: a, b, oos. Rows 0-3 in scope (label 0 or 1), rows 4-5 out of scope (label 2).
    probs = np.array(
        [
            [0.90, 0.05, 0.05],
            [0.10, 0.80, 0.10],
            [0.55, 0.15, 0.30],  # right, but p(oos) 0.30
            [0.20, 0.60, 0.20],
            [0.45, 0.20, 0.35],  # out of scope that the plain argmax misses
            [0.20, 0.20, 0.60],  # argmax is already oos
        ]
    )
    y = np.array([0, 1, 0, 1, 2, 2])
    # Threshold 0.35 catches row 4 and keeps every in-scope row: in-scope acc 1 + oos recall 1 (the only such value).
    assert _resolve_oos_probability(probs, y, 2, floor=0.0, setting="auto") == 0.35
    assert _resolve_oos_probability(probs, y, 2, floor=0.0, setting=0.5) == 0.5
    assert _resolve_oos_probability(probs, y, 2, floor=0.0, setting=None) is None
    assert _resolve_oos_probability(probs, y, None, floor=0.0, setting="auto") is None
    assert _resolve_oos_probability(probs[:4], y[:4], 2, floor=0.0, setting="auto") is None  # no oos rows held out


def test_fit_with_holdout_and_auto_rule_flags_messages_near_the_oos_examples() -> None:
    rng = np.random.default_rng(0)
    centres = {name: rng.normal(size=16) for name in ("a", "b", "oos")}
    x, labels = [], []
    for name, centre in centres.items():
        for _ in range(30):
            x.append(centre + 0.6 * rng.normal(size=16))
            labels.append(name)
    embeddings = np.array(x, dtype=np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    holdout = stratified_holdout(labels, 0.2, seed=0)
    config = IntentConfig(oos_probability="auto", epochs=100)
    classifier = IntentClassifier.fit(embeddings, labels, config, holdout=holdout)
    assert classifier.oos_probability is not None and 0.0 < classifier.oos_probability <= 1.0
    probe = centres["oos"] / np.linalg.norm(centres["oos"])
    assert classifier.predict(probe[None, :].astype(np.float32))[0].out_of_scope
    inside = centres["a"] / np.linalg.norm(centres["a"])
    assert classifier.predict(inside[None, :].astype(np.float32))[0].name == "a"
