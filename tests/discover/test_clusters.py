"""Clustering proposals on hand-made vectors: near-duplicates once, small clusters dropped, names unique."""

from __future__ import annotations

import numpy as np

from agent.discover import clusters
from agent.discover.clusters import distinct, propose


def vectors_near(directions: list[int], dim: int = 32, noise: float = 0.1) -> np.ndarray:
    """Unit vectors around the basis direction of each entry (a fixed seed: the same every run)."""
    rng = np.random.default_rng(0)
    out = np.eye(dim)[directions] + noise * rng.standard_normal((len(directions), dim))
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_near_duplicates_count_once() -> None:
    texts = ["Gift card?", "gift card", "gift  card!!", "norway"]
    vectors = vectors_near([0, 0, 0, 1], noise=0.0)
    kept, _, sampled = distinct(texts, vectors)
    assert kept == ["Gift card?", "norway"] and not sampled


def test_past_the_limit_a_fixed_sample_is_clustered(monkeypatch) -> None:
    monkeypatch.setattr(clusters, "MAX_MESSAGES", 4)
    texts = [f"message {n}" for n in range(10)]
    vectors = vectors_near(list(range(10)))
    kept, matrix, sampled = distinct(texts, vectors)
    assert sampled and len(kept) == 4 and matrix.shape == (4, 32)
    assert distinct(list(reversed(texts)), vectors[::-1])[0] == list(reversed(kept))  # the same, whatever the order


def test_small_clusters_dropped_and_names_avoid_existing_intents() -> None:
    texts = [f"gift card {n}" for n in range(6)] + [f"refund wire {n}" for n in range(2)]
    vectors = vectors_near([0] * 6 + [1] * 2)
    result = propose(texts, vectors, {"gift_card"}, min_size=5, max_intents=None, threshold=0.5)
    assert [p.size for p in result.proposals] == [6]
    assert result.proposals[0].name == "gift_card_2"  # gift_card is taken
    assert result.unclustered == 2 and list(result.labels[-2:]) == [-1, -1]
    assert len(result.proposals[0].examples) == 6


def test_max_intents_keeps_the_largest() -> None:
    texts = [f"alpha thing {n}" for n in range(7)] + [f"beta other {n}" for n in range(5)]
    vectors = vectors_near([0] * 7 + [1] * 5)
    result = propose(texts, vectors, set(), min_size=2, max_intents=1, threshold=0.5)
    assert [p.size for p in result.proposals] == [7] and "alpha" in result.proposals[0].name
    again = propose(texts, vectors, set(), min_size=2, max_intents=1, threshold=0.5)
    assert again.proposals == result.proposals  # deterministic
