"""The shared training path: stratified hold-out, calibration on it, and the automatic p(oos) rule."""

from __future__ import annotations

import numpy as np

from agent.config import FinetuneConfig, IntentConfig
from agent.steps.intents.classifier import IntentClassifier, _calibration_folds, _resolve_oos_probability
from agent.training.intents import calibration_rows, stratified_holdout


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


def test_auto_oos_probability_with_a_recall_target() -> None:
    # Columns: a, oos. Four held-out oos rows with p(oos) 0.9, 0.4, 0.2, 0.05; in-scope rows below 0.3.
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.75, 0.25], [0.1, 0.9], [0.6, 0.4], [0.8, 0.2], [0.95, 0.05]])
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    # Catching 3 of 4 needs p(oos) >= 0.2 at most: the highest such value is 0.2 (two in-scope rows flagged).
    assert _resolve_oos_probability(probs, y, 1, floor=0.0, setting="auto", recall_target=0.75) == 0.2
    assert _resolve_oos_probability(probs, y, 1, floor=0.0, setting="auto", recall_target=0.5) == 0.4
    assert _resolve_oos_probability(probs, y, 1, floor=0.0, setting="auto", recall_target=1.0) == 0.05
    tiny = np.array([[0.99999, 0.00001], [0.999999, 0.000001], [0.2, 0.8]])
    assert _resolve_oos_probability(tiny, np.array([0, 1, 1]), 1, floor=0.0, setting="auto", recall_target=1.0) == 1e-4


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


def test_calibration_rows_hold_out_every_oos_example_when_asked() -> None:
    labels = ["a"] * 10 + ["oos"] * 4 + ["b"] * 10
    held = calibration_rows(labels, FinetuneConfig(holdout=0.1, seed=2))
    assert [labels[i] for i in held].count("oos") == 4
    assert [labels[i] for i in held].count("a") == 1 and [labels[i] for i in held].count("b") == 1
    kept_in = calibration_rows(labels, FinetuneConfig(holdout=0.1, seed=2, hold_out_oos=False))
    assert [labels[i] for i in kept_in].count("oos") == 1  # the stratified share only (at least one row)


def test_calibration_folds_cover_only_the_held_rows_stratified() -> None:
    y = np.array([0] * 10 + [1] * 10 + [2] * 5)
    everywhere = _calibration_folds(y, None, count=5, seed=0)
    assert (everywhere >= 0).all() and all((everywhere[y == c] == f).sum() >= 1 for c in range(3) for f in range(5))
    held = np.array([0, 1, 10, 11, 20, 21, 22, 23, 24])
    folds = _calibration_folds(y, held, count=3, seed=0)
    assert (folds[held] >= 0).all() and (np.delete(folds, held) == -1).all()
    assert sorted(folds[[20, 21, 22, 23, 24]].tolist()) == [0, 0, 1, 1, 2]  # a label's rows spread over folds
