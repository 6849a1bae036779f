"""Out-of-scope by distance: how far a message lies from every in-scope training example.

The intent head's probability of the `oos` class only knows the few `oos`
examples a bot has; a message unlike any of them, but also unlike every
in-scope example, can still get a low p(oos). The cosine distance to the
nearest in-scope training example sees that. The two are blended into one
out-of-scope score,

    score = (1 - w) * z(log p(oos)) + w * z(1 - max cosine similarity),

each part standardised (z) on held-out in-scope rows so that `w`
(`intents.knn_weight`) weighs comparable numbers. Its threshold is chosen like
the `oos_probability: auto` rule's, on held-out training rows: the highest score
that still flags `oos_recall_target` of the held-out `oos` examples. On CLINC150
(BENCHMARKS.md, issue 4) the blend ranks out-of-scope messages better than
either part alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NEIGHBOURS_FILE = "neighbours.npz"
_EPS = 1e-9


def normalise(embeddings: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine similarity becomes a dot product)."""
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return (embeddings / np.maximum(norms, _EPS)).astype(np.float32)


def nearest_distance(embeddings: np.ndarray, bank: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """1 - the highest cosine similarity of each row to any row of `bank` (already normalised)."""
    rows = normalise(embeddings)
    out = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), chunk):  # bounded memory: chunk x len(bank) similarities at a time
        out[start : start + chunk] = 1.0 - (rows[start : start + chunk] @ bank.T).max(axis=1)
    return out


def out_of_fold_distances(embeddings: np.ndarray, in_scope: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """For each row with a fold (>= 0), its distance to the in-scope rows outside that fold; NaN elsewhere.

    Rows with fold -1 are in every fold's bank, as they are in every fold's training set.
    """
    out = np.full(len(embeddings), np.nan, dtype=np.float32)
    normalised = normalise(embeddings)
    for fold in np.unique(folds[folds >= 0]):
        test = folds == fold
        bank = normalised[in_scope & ~test]
        if len(bank):
            out[test] = nearest_distance(embeddings[test], bank)
    return out


def pick_threshold(
    score: np.ndarray,
    is_oos: np.ndarray,
    base: np.ndarray,
    right: np.ndarray,
    recall_target: float | None,
    candidates: np.ndarray | None = None,
) -> float:
    """The threshold on `score` (flag when score >= threshold) chosen on held-out rows.

    `base`: rows already out of scope without this rule; `right`: in-scope rows whose best intent is
    correct. With `recall_target`, the highest threshold whose out-of-scope recall reaches it (the fewest
    in-scope rows lost); without, the one that maximises in-scope accuracy + out-of-scope recall, the
    middle one among ties (a margin on both sides). `candidates` default to the held-out scores.
    """
    candidates = np.unique(score) if candidates is None else candidates
    if recall_target is not None:
        recall = np.array([np.mean(base[is_oos] | (score[is_oos] >= t)) for t in candidates])
        reached = candidates[recall >= recall_target - 1e-12]
        return float(reached.max()) if len(reached) else float(candidates.min())
    totals = []
    for threshold in candidates:
        flagged = base | (score >= threshold)
        totals.append(np.mean(~flagged[~is_oos] & right[~is_oos]) + np.mean(flagged[is_oos]))
    best = np.asarray(totals)
    ties = candidates[best >= best.max() - 1e-12]
    return float(ties[len(ties) // 2])


@dataclass
class NeighbourRule:
    """The blended out-of-scope score and its threshold, with the in-scope examples it measures against."""

    bank: np.ndarray  # (examples, dim) normalised in-scope training embeddings
    weight: float
    centre: tuple[float, float]  # held-out in-scope means of log p(oos) and of the distance
    spread: tuple[float, float]  # and their standard deviations
    threshold: float

    @classmethod
    def fit(
        cls,
        bank: np.ndarray,
        weight: float,
        p_oos: np.ndarray,
        distances: np.ndarray,
        is_oos: np.ndarray,
        base: np.ndarray,
        right: np.ndarray,
        recall_target: float | None,
    ) -> NeighbourRule:
        """Standardise on the held-out in-scope rows and choose the threshold on all held-out rows."""
        log_p = np.log(p_oos + _EPS)
        inside = ~is_oos
        centre = (float(log_p[inside].mean()), float(distances[inside].mean()))
        spread = (float(log_p[inside].std() or 1.0), float(distances[inside].std() or 1.0))
        rule = cls(normalise(bank), weight, centre, spread, threshold=np.inf)
        rule.threshold = pick_threshold(rule._blend(log_p, distances), is_oos, base, right, recall_target)
        return rule

    def scores(self, p_oos: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """The blended out-of-scope score of each row (higher: more likely out of scope)."""
        return self._blend(np.log(p_oos + _EPS), nearest_distance(embeddings, self.bank))

    def flags(self, p_oos: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """Which rows this rule calls out of scope."""
        return self.scores(p_oos, embeddings) >= self.threshold

    def _blend(self, log_p: np.ndarray, distances: np.ndarray) -> np.ndarray:
        z_p = (log_p - self.centre[0]) / self.spread[0]
        z_d = (distances - self.centre[1]) / self.spread[1]
        return (1.0 - self.weight) * z_p + self.weight * z_d

    def save(self, folder: Path) -> None:
        meta = {"weight": self.weight, "centre": self.centre, "spread": self.spread, "threshold": self.threshold}
        np.savez(folder / NEIGHBOURS_FILE, bank=self.bank, meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, folder: Path) -> NeighbourRule | None:
        """The rule saved in `folder`, or None when the classifier was trained without one."""
        path = folder / NEIGHBOURS_FILE
        if not path.is_file():
            return None
        with np.load(path) as arrays:
            meta = json.loads(str(arrays["meta"]))
            return cls(arrays["bank"], meta["weight"], tuple(meta["centre"]), tuple(meta["spread"]), meta["threshold"])
