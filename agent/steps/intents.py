"""Step 1: the intent classifier, a softmax head on the shared sentence embedding.

Training is full-batch (a bot has a few thousand examples at most), so a fit
takes seconds on a CPU. Confidence is calibrated by temperature scaling on
out-of-fold predictions, so "0.7" means roughly "right 7 times in 10"; a
message whose best in-scope confidence is below `oos_threshold`, or whose best
class is the explicit `oos` class, is out of scope. With `oos_probability` set,
a message is also out of scope when the `oos` class's own probability reaches
it; "auto" chooses that value on held-out predictions of the training data
(never on a test set), where it maximises in-scope accuracy plus out-of-scope
recall.

Held-out predictions come from cross-validation folds of the head, or, when
the encoder was fine-tuned on the examples (its embeddings of them are then
over-confident), from the slice of examples kept out of fine-tuning.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from agent.config import IntentConfig
from agent.exceptions import BuildError
from agent.schemas import OOS
from agent.types import IntentPrediction, IntentScore, Turn


class IntentClassifier:
    """Linear softmax head over normalised sentence embeddings, with a calibrated temperature."""

    name = "intent"

    def __init__(
        self,
        labels: list[str],
        weight: np.ndarray,
        bias: np.ndarray,
        temperature: float,
        config: IntentConfig,
        oos_probability: float | None = None,
    ) -> None:
        self.labels = labels
        self.weight = weight.astype(np.float32)  # (classes, dim)
        self.bias = bias.astype(np.float32)
        self.temperature = float(temperature)
        self.config = config
        self._oos_index = labels.index(OOS) if OOS in labels else None
        # The resolved `oos_probability` rule (a number, or None when off or without an `oos` class).
        self.oos_probability = oos_probability if self._oos_index is not None else None

    # --- training -----------------------------------------------------------

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        labels: Sequence[str],
        config: IntentConfig,
        progress: bool = False,
        holdout: Sequence[int] | None = None,
    ) -> IntentClassifier:
        """Train on (embedding, label) pairs; label `oos` marks out-of-scope examples.

        `holdout` (row indices) calibrates on those rows with a head trained on the others,
        instead of cross-validation; the final head is trained on every row either way.
        """
        names = sorted(set(labels))
        if len([n for n in names if n != OOS]) < 2:
            raise BuildError("Intent training needs examples of at least two in-scope intents.")
        y = np.array([names.index(label) for label in labels])
        if holdout is not None and len(holdout):
            held = np.asarray(holdout, dtype=int)
            rest = np.setdiff1d(np.arange(len(y)), held)
            weight, bias = _train_head(embeddings[rest], y[rest], len(names), config)
            logits, y_held = embeddings[held] @ weight.T + bias, y[held]
        else:
            logits, y_held = _out_of_fold_logits(embeddings, y, len(names), config, progress), y
        temperature = _fit_temperature(logits, y_held)
        oos_index = names.index(OOS) if OOS in names else None
        oos_probability = _resolve_oos_probability(
            _softmax(logits / temperature), y_held, oos_index, config.oos_threshold, config.oos_probability
        )
        weight, bias = _train_head(embeddings, y, len(names), config)
        return cls(names, weight, bias, temperature, config, oos_probability)

    # --- inference ----------------------------------------------------------

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, shape (n, classes)."""
        logits = embeddings @ self.weight.T + self.bias
        return _softmax(logits / self.temperature)

    def predict(self, embeddings: np.ndarray, top_k: int = 3) -> list[IntentPrediction]:
        """The intent of each embedding, with out-of-scope decided by class or threshold."""
        probs = self.probabilities(embeddings)
        results = []
        for row in probs:
            order = np.argsort(-row)
            top = [IntentScore(name=self.labels[i], confidence=round(float(row[i]), 4)) for i in order[:top_k]]
            best = int(order[0])
            if best == self._oos_index:
                results.append(IntentPrediction(name=OOS, confidence=float(row[best]), out_of_scope=True, top=top))
                continue
            if self.oos_probability is not None and row[self._oos_index] >= self.oos_probability:
                p_oos = float(row[self._oos_index])
                results.append(IntentPrediction(name=OOS, confidence=p_oos, out_of_scope=True, top=top))
                continue
            confidence = float(row[best])
            out = confidence < self.config.oos_threshold
            name = OOS if out else self.labels[best]
            # When out of scope by threshold, the confidence reported is how unsure we were.
            results.append(
                IntentPrediction(
                    name=name, confidence=1.0 - confidence if out else confidence, out_of_scope=out, top=top
                )
            )
        return results

    def __call__(self, turns: Sequence[Turn]) -> None:
        matrix = np.stack([t.embedding for t in turns])
        for turn, prediction in zip(turns, self.predict(matrix), strict=True):
            turn.intent = prediction

    # --- persistence --------------------------------------------------------

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "head.npz", weight=self.weight, bias=self.bias)
        meta = {"labels": self.labels, "temperature": self.temperature, "oos_probability": self.oos_probability}
        (folder / "meta.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, folder: Path, config: IntentConfig) -> IntentClassifier:
        try:
            meta = json.loads((folder / "meta.json").read_text())
            arrays = np.load(folder / "head.npz")
            return cls(
                meta["labels"],
                arrays["weight"],
                arrays["bias"],
                meta["temperature"],
                config,
                meta.get("oos_probability"),
            )
        except (OSError, KeyError, ValueError) as exc:
            raise BuildError(
                f"Intent classifier in {folder} is missing or unreadable ({exc}); run `python -m agent train`."
            ) from None


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _train_head(x: np.ndarray, y: np.ndarray, classes: int, config: IntentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression, full batch, Adam; deterministic for a given seed."""
    import torch

    torch.manual_seed(config.seed)
    features = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    target = torch.from_numpy(y).long()
    layer = torch.nn.Linear(features.shape[1], classes)
    # Balanced class weights: out-of-scope examples often outnumber each intent's.
    counts = torch.bincount(target, minlength=classes).float().clamp(min=1)
    weights = counts.sum() / (classes * counts)
    optimiser = torch.optim.Adam(layer.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    for _ in range(config.epochs):
        optimiser.zero_grad()
        loss = loss_fn(layer(features), target)
        loss.backward()
        optimiser.step()
    return layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()


def _out_of_fold_logits(x: np.ndarray, y: np.ndarray, classes: int, config: IntentConfig, progress: bool) -> np.ndarray:
    """Each example's logits from a head trained on the other folds."""
    rng = np.random.default_rng(config.seed)
    folds = np.empty(len(y), dtype=int)
    # Stratified assignment so every class appears in every training split.
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        folds[rng.permutation(idx)] = np.arange(len(idx)) % config.calibration_folds
    logits = np.zeros((len(y), classes), dtype=np.float32)
    fold_ids: range | object = range(config.calibration_folds)
    if progress:
        from agent.progress import track

        fold_ids = track(fold_ids, description="calibrating intents", total=config.calibration_folds, unit="fold")
    for fold in fold_ids:  # type: ignore[union-attr]
        train, test = folds != fold, folds == fold
        weight, bias = _train_head(x[train], y[train], classes, config)
        logits[test] = x[test] @ weight.T + bias
    return logits


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature that minimises the negative log-likelihood of held-out predictions."""
    temperatures = np.exp(np.linspace(np.log(0.05), np.log(20.0), 200))
    picked = logits[np.arange(len(y)), y]
    best, best_nll = 1.0, np.inf
    for temp in temperatures:
        scaled = logits / temp
        log_norm = np.log(np.exp(scaled - scaled.max(1, keepdims=True)).sum(1)) + scaled.max(1)
        nll = float(np.mean(log_norm - picked / temp))
        if nll < best_nll:
            best, best_nll = float(temp), nll
    return best


def _resolve_oos_probability(
    probs: np.ndarray, y: np.ndarray, oos_index: int | None, floor: float, setting: float | str | None
) -> float | None:
    """The `oos_probability` to use: as configured, or for "auto" the value that maximises
    in-scope accuracy + out-of-scope recall on held-out predictions (None without `oos` examples)."""
    if setting is None or oos_index is None:
        return None
    if setting != "auto":
        return float(setting)
    is_oos = y == oos_index
    if not is_oos.any() or is_oos.all():
        return None
    in_scope = probs.copy()
    in_scope[:, oos_index] = -1.0
    best = in_scope.argmax(1)
    confidence = in_scope.max(1)
    p_oos = probs[:, oos_index]
    # Out of scope without the rule: the oos class wins, or no in-scope class is confident enough.
    base = (p_oos > confidence) | (confidence < floor)
    right = best == y
    candidates = np.unique(np.concatenate([np.round(p_oos, 4), [1.0]]))
    scores = []
    for threshold in candidates:
        flagged = base | (p_oos >= threshold)
        scores.append(np.mean(~flagged[~is_oos] & right[~is_oos]) + np.mean(flagged[is_oos]))
    scores_arr = np.asarray(scores)
    ties = candidates[scores_arr >= scores_arr.max() - 1e-12]
    # Among equally good values, the middle one keeps a margin on both sides.
    return float(ties[len(ties) // 2])
