"""The nearest-neighbour out-of-scope score: distances, threshold choice, the rule inside the classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from weights import Weights

from agent.config import BotConfig, IntentConfig
from agent.steps.intents.classifier import IntentClassifier
from agent.steps.intents.neighbours import (
    NeighbourRule,
    nearest_distance,
    normalise,
    out_of_fold_distances,
    pick_threshold,
)


def test_nearest_distance_by_hand() -> None:
    bank = normalise(np.array([[1.0, 0.0], [0.0, 1.0]]))
    rows = np.array([[2.0, 0.0], [1.0, 1.0], [-1.0, 0.0]])
    assert np.allclose(nearest_distance(rows, bank, chunk=1), [0.0, 1 - np.sqrt(0.5), 1.0], atol=1e-6)


def test_out_of_fold_distances_leave_the_fold_out() -> None:
    rows = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    in_scope = np.array([True, True, True, False])
    folds = np.array([0, 1, -1, 0])
    out = out_of_fold_distances(rows, in_scope, folds)
    assert out[0] == pytest.approx(0.0)  # its twin (fold 1) is in fold 0's bank
    assert out[3] == pytest.approx(0.0)  # row 2 (fold -1) is in every bank; row 3 itself is not in scope
    assert np.isnan(out[2])


def test_pick_threshold_by_hand() -> None:
    score = np.array([0.1, 0.2, 0.3, 0.6, 0.9, 0.4])
    is_oos = np.array([False, False, False, True, True, True])
    base = np.zeros(6, dtype=bool)
    right = np.ones(6, dtype=bool)
    assert pick_threshold(score, is_oos, base, right, recall_target=1.0) == 0.4
    assert pick_threshold(score, is_oos, base, right, recall_target=0.6) == 0.6
    assert pick_threshold(score, is_oos, base, right, recall_target=None) == 0.4  # all oos caught, none lost


def _clusters(seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Three intents around orthogonal directions, and `oos` examples in the other dimensions."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for k, name in enumerate(["a", "b", "c"]):
        centre = np.eye(16)[k]
        rows += [centre + 0.15 * rng.standard_normal(16) for _ in range(30)]
        labels += [name] * 30
    rows += [np.concatenate([np.zeros(8), rng.standard_normal(8)]) for _ in range(30)]
    labels += ["oos"] * 30
    return normalise(np.array(rows)), labels


def test_classifier_with_the_rule_flags_far_messages_and_round_trips(tmp_path: Path) -> None:
    x, labels = _clusters()
    config = IntentConfig(oos_probability="auto", knn_weight=0.5, epochs=100, oos_recall_target=0.9)
    classifier = IntentClassifier.fit(x, labels, config)
    assert classifier.neighbours is not None and classifier.oos_probability is None
    near = normalise(np.eye(16)[[0, 1, 2]] + 0.05)
    far = normalise(np.eye(16)[[3, 4]] + np.eye(16)[[12, 13]])  # unlike any in-scope example
    preds = classifier.predict(np.vstack([near, far]))
    assert [p.name for p in preds] == ["a", "b", "c", "oos", "oos"]
    classifier.save(tmp_path)
    loaded = IntentClassifier.load(
        tmp_path, BotConfig(name="t", intents=config), Weights(dim=16, fingerprint="synthetic")
    )
    assert loaded.neighbours is not None and loaded.neighbours.threshold == classifier.neighbours.threshold
    assert [p.name for p in loaded.predict(np.vstack([near, far]))] == [p.name for p in preds]


def test_rule_scores_grow_with_distance() -> None:
    x, labels = _clusters(1)
    in_scope = np.array([label != "oos" for label in labels])
    rule = NeighbourRule.fit(
        x[in_scope][::2],
        0.5,
        p_oos=np.full(len(x), 0.01),
        distances=nearest_distance(x, normalise(x[in_scope][::2])),
        is_oos=~in_scope,
        base=np.zeros(len(x), dtype=bool),
        right=in_scope,
        recall_target=0.9,
    )
    close, away = rule.scores(np.array([0.01, 0.01]), np.vstack([x[0], -x[0]]))
    assert away > close


def test_knn_weight_needs_the_auto_rule() -> None:
    with pytest.raises(ValueError, match="needs oos_probability: auto"):
        IntentConfig(knn_weight=0.5)
