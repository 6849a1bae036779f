"""Step 1: the intent classifier, a softmax head on the shared sentence embedding.

Training is full-batch (a bot has a few thousand examples at most), so a fit
takes seconds on a CPU. Confidence is calibrated by temperature scaling on
out-of-fold predictions, so "0.7" means roughly "right 7 times in 10"; a
message whose best in-scope confidence is below `oos_threshold`, or whose best
class is the explicit `oos` class, is out of scope. With `oos_probability` set,
a message is also out of scope when the `oos` class's own probability reaches
it; "auto" chooses that value on held-out predictions of the training data
(never on a test set): the highest value at which `oos_recall_target` of the
held-out `oos` examples are caught, or, with no target, the value that
maximises in-scope accuracy plus out-of-scope recall.

Held-out predictions come from cross-validation folds of the head, or, when
the encoder was fine-tuned on the examples (its embeddings of them are then
over-confident), from cross-validation folds over the rows kept out of
fine-tuning (the other rows are in every fold's training set).

With `lexical_weight` above 0 a TF-IDF logistic regression over the message's
words and character n-grams (agent/steps/intents/lexical.py) is trained beside the
head on the same folds; each model's log-probabilities are calibrated by their
own temperature, blended with that weight and calibrated once more.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from agent.bot.schemas import OOS
from agent.config import BotConfig, IntentConfig
from agent.exceptions import BuildError
from agent.steps.intents.lexical import LEXICAL_FILE, LexicalModel
from agent.steps.intents.neighbours import NEIGHBOURS_FILE, NeighbourRule, out_of_fold_distances, pick_threshold
from agent.types import Embedder, IntentPrediction, IntentScore, Turn

LEXICAL_STRENGTH = 10.0  # C of the lexical logistic regression (inverse L2 penalty)


class IntentClassifier:
    """Linear softmax head over normalised sentence embeddings, with a calibrated temperature."""

    name = "intent"
    artifact = "intents"

    def __init__(
        self,
        labels: list[str],
        weight: np.ndarray,
        bias: np.ndarray,
        temperature: float,
        config: IntentConfig,
        oos_probability: float | None = None,
        lexical: LexicalModel | None = None,
        lexical_temperature: float = 1.0,
        blend_temperature: float = 1.0,
        neighbours: NeighbourRule | None = None,
    ) -> None:
        self.labels = labels
        self.weight = weight.astype(np.float32)  # (classes, dim)
        self.bias = bias.astype(np.float32)
        self.temperature = float(temperature)
        self.config = config
        self._oos_index = labels.index(OOS) if OOS in labels else None
        # The resolved `oos_probability` rule (a number, or None when off or without an `oos` class).
        self.oos_probability = oos_probability if self._oos_index is not None else None
        self.lexical = lexical  # present when trained with lexical_weight > 0
        self.lexical_temperature = float(lexical_temperature)
        self.blend_temperature = float(blend_temperature)
        # With `knn_weight` > 0: p(oos) blended with the distance to the nearest in-scope example
        # (agent/steps/intents/neighbours.py) replaces the `oos_probability` rule.
        self.neighbours = neighbours if self._oos_index is not None else None

    # --- training -----------------------------------------------------------

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        labels: Sequence[str],
        config: IntentConfig,
        progress: bool = False,
        holdout: Sequence[int] | None = None,
        texts: Sequence[str] | None = None,
    ) -> IntentClassifier:
        """Train on (embedding, label) pairs; label `oos` marks out-of-scope examples.

        `holdout` (row indices) calibrates on cross-validation folds over those rows only (the
        other rows train every fold); the final head is trained on every row either way.
        `texts` (the messages, same order) are needed when `config.lexical_weight` is above 0.
        """
        names = sorted(set(labels))
        if len([n for n in names if n != OOS]) < 2:
            raise BuildError("Intent training needs examples of at least two in-scope intents.")
        lexical_on = config.lexical_weight > 0
        if lexical_on and (texts is None or len(texts) != len(labels)):
            raise ValueError("intents.lexical_weight > 0 needs the training messages (texts) as well")
        y = np.array([names.index(label) for label in labels])
        folds = _calibration_folds(y, holdout, config.calibration_folds, config.seed)
        logits, lexical_logits = _out_of_fold_logits(
            embeddings, y, texts if lexical_on else None, folds, names, config, progress
        )
        held = folds >= 0
        y_held = y[held]
        temperature = _fit_temperature(logits[held], y_held)
        lexical_temperature = blend_temperature = 1.0
        if lexical_logits is not None:
            lexical_temperature = _fit_temperature(lexical_logits[held], y_held)
            blended = _blend(
                logits[held], lexical_logits[held], temperature, lexical_temperature, config.lexical_weight
            )
            blend_temperature = _fit_temperature(blended, y_held)
            held_probs = _softmax(blended / blend_temperature)
        else:
            held_probs = _softmax(logits[held] / temperature)
        oos_index = names.index(OOS) if OOS in names else None
        oos_probability = _resolve_oos_probability(
            held_probs, y_held, oos_index, config.oos_threshold, config.oos_probability, config.oos_recall_target
        )
        neighbours = None
        if config.knn_weight > 0 and oos_probability is not None and oos_index is not None:
            in_scope = y != oos_index
            distances = out_of_fold_distances(embeddings, in_scope, folds)[held]
            is_oos, base, right, p_oos = _held_out_outcomes(held_probs, y_held, oos_index, config.oos_threshold)
            neighbours = NeighbourRule.fit(
                embeddings[in_scope], config.knn_weight, p_oos, distances, is_oos, base, right, config.oos_recall_target
            )
            oos_probability = None  # the blended score's rule replaces the p(oos) one
        weight, bias = _train_head(embeddings, y, len(names), config)
        lexical = LexicalModel.fit(texts, y, len(names), LEXICAL_STRENGTH) if lexical_on and texts else None
        return cls(
            names,
            weight,
            bias,
            temperature,
            config,
            oos_probability,
            lexical,
            lexical_temperature,
            blend_temperature,
            neighbours,
        )

    # --- inference ----------------------------------------------------------

    def probabilities(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Calibrated class probabilities, shape (n, classes); `texts` are needed when a lexical model is part."""
        logits = embeddings @ self.weight.T + self.bias
        if self.lexical is None:
            return _softmax(logits / self.temperature)
        if texts is None or len(texts) != len(embeddings):
            raise ValueError("this intent classifier blends a lexical model: pass the messages as well")
        lexical_logits = self.lexical.log_probabilities(texts)
        weight = self.config.lexical_weight
        blended = _blend(logits, lexical_logits, self.temperature, self.lexical_temperature, weight)
        return _softmax(blended / self.blend_temperature)

    def predict(
        self, embeddings: np.ndarray, top_k: int = 3, texts: Sequence[str] | None = None
    ) -> list[IntentPrediction]:
        """The intent of each embedding (and message, for the lexical model), out of scope by class or threshold."""
        return self.predict_from(self.probabilities(embeddings, texts), embeddings, top_k)

    def predict_from(self, probs: np.ndarray, embeddings: np.ndarray, top_k: int = 3) -> list[IntentPrediction]:
        """`predict` on probabilities already computed by `probabilities` for these embeddings."""
        far = None
        if self.neighbours is not None and self._oos_index is not None:
            far = self.neighbours.flags(probs[:, self._oos_index], embeddings)
        results = []
        for n, row in enumerate(probs):
            order = np.argsort(-row)
            top = [IntentScore(name=self.labels[i], confidence=round(float(row[i]), 4)) for i in order[:top_k]]
            best = int(order[0])
            if best == self._oos_index:
                results.append(IntentPrediction(name=OOS, confidence=float(row[best]), out_of_scope=True, top=top))
                continue
            by_rule = far is not None and bool(far[n])
            if by_rule or (self.oos_probability is not None and row[self._oos_index] >= self.oos_probability):
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
        texts = [t.text for t in turns] if self.lexical is not None else None
        probs = self.probabilities(matrix, texts)
        for turn, row, prediction in zip(turns, probs, self.predict_from(probs, matrix), strict=True):
            turn.intent = prediction
            turn.intent_probabilities = row  # every class's, for steps that weigh the message again (context)

    # --- persistence --------------------------------------------------------

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "head.npz", weight=self.weight, bias=self.bias)
        meta = {
            "labels": self.labels,
            "temperature": self.temperature,
            "oos_probability": self.oos_probability,
            "lexical_temperature": self.lexical_temperature,
            "blend_temperature": self.blend_temperature,
        }
        (folder / LEXICAL_FILE).unlink(missing_ok=True)
        if self.lexical is not None:
            self.lexical.save(folder)
        (folder / NEIGHBOURS_FILE).unlink(missing_ok=True)
        if self.neighbours is not None:
            self.neighbours.save(folder)
        (folder / "meta.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, folder: Path, config: BotConfig, encoder: Embedder) -> IntentClassifier:
        """The head `train` saved in `folder`; it reads embeddings of `encoder`'s weights."""
        intents = config.intents
        try:
            meta = json.loads((folder / "meta.json").read_text())
            arrays = np.load(folder / "head.npz")
            lexical = LexicalModel.load(folder) if intents.lexical_weight > 0 else None
            neighbours = NeighbourRule.load(folder) if intents.knn_weight > 0 else None
            return cls(
                meta["labels"],
                arrays["weight"],
                arrays["bias"],
                meta["temperature"],
                intents,
                meta.get("oos_probability"),
                lexical,
                meta.get("lexical_temperature", 1.0),
                meta.get("blend_temperature", 1.0),
                neighbours,
            )
        except (OSError, KeyError, ValueError, pickle.UnpicklingError) as exc:
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


def _calibration_folds(y: np.ndarray, holdout: Sequence[int] | None, count: int, seed: int) -> np.ndarray:
    """Each row's calibration fold (stratified by label), or -1 for rows that train every fold.

    Without a `holdout` every row gets a fold; with one only the held-out rows do.
    """
    rng = np.random.default_rng(seed)
    folds = np.full(len(y), -1, dtype=int)
    rows = np.arange(len(y)) if holdout is None or not len(holdout) else np.asarray(holdout, dtype=int)
    for label in np.unique(y[rows]):
        idx = rows[y[rows] == label]
        folds[rng.permutation(idx)] = np.arange(len(idx)) % count
    return folds


def _out_of_fold_logits(
    x: np.ndarray,
    y: np.ndarray,
    texts: Sequence[str] | None,
    folds: np.ndarray,
    names: list[str],
    config: IntentConfig,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Logits of each row with a fold (-1 rows stay zero) from models trained without that fold:
    the head's, and the lexical model's log-probabilities when `texts` are given."""
    classes = len(names)
    logits = np.zeros((len(y), classes), dtype=np.float32)
    lexical = np.zeros((len(y), classes), dtype=np.float32) if texts is not None else None
    fold_ids: range | object = range(config.calibration_folds)
    if progress:
        from agent.progress import track

        fold_ids = track(fold_ids, description="calibrating intents", total=config.calibration_folds, unit="fold")
    for fold in fold_ids:  # type: ignore[union-attr]
        train, test = folds != fold, folds == fold
        if not test.any():
            continue
        weight, bias = _train_head(x[train], y[train], classes, config)
        logits[test] = x[test] @ weight.T + bias
        if lexical is not None and texts is not None:
            model = LexicalModel.fit([texts[i] for i in np.flatnonzero(train)], y[train], classes, LEXICAL_STRENGTH)
            lexical[test] = model.log_probabilities([texts[i] for i in np.flatnonzero(test)])
    return logits, lexical


def _blend(
    logits: np.ndarray, lexical_logits: np.ndarray, temperature: float, lexical_temperature: float, weight: float
) -> np.ndarray:
    """Weighted sum of the two models' calibrated log-probabilities (a geometric mixture, unnormalised)."""
    return (1.0 - weight) * _log_softmax(logits / temperature) + weight * _log_softmax(
        lexical_logits / lexical_temperature
    )


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


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
    probs: np.ndarray,
    y: np.ndarray,
    oos_index: int | None,
    floor: float,
    setting: float | str | None,
    recall_target: float | None = None,
) -> float | None:
    """The `oos_probability` to use: as configured, or for "auto", on held-out predictions (None without
    `oos` examples), the highest value whose out-of-scope recall reaches `recall_target` (the fewest in-scope
    messages lost for that recall), or without a target the value that maximises in-scope accuracy +
    out-of-scope recall."""
    if setting is None or oos_index is None:
        return None
    if setting != "auto":
        return float(setting)
    is_oos, base, right, p_oos = _held_out_outcomes(probs, y, oos_index, floor)
    if not is_oos.any() or is_oos.all():
        return None
    # Rounded to 4 places, never 0 (a rule that flags every message is no rule).
    candidates = np.unique(np.concatenate([np.maximum(np.round(p_oos, 4), 1e-4), [1.0]]))
    return pick_threshold(p_oos, is_oos, base, right, recall_target, candidates)


def _held_out_outcomes(
    probs: np.ndarray, y: np.ndarray, oos_index: int, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Of held-out rows: which are `oos`, which are out of scope without any extra rule (the oos class
    wins, or no in-scope class reaches `floor`), which in-scope rows get the right intent, and p(oos)."""
    in_scope = probs.copy()
    in_scope[:, oos_index] = -1.0
    confidence = in_scope.max(1)
    p_oos = probs[:, oos_index]
    base = (p_oos > confidence) | (confidence < floor)
    return y == oos_index, base, in_scope.argmax(1) == y, p_oos
