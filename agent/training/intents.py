"""Training the intent classifier from labelled messages: the one code path of `train` and `eval intents`.

Without fine-tuning: encode the examples with the shared encoder, fit the
softmax head (and the lexical model, `intents.lexical_weight`), calibrate on
cross-validation folds. With `intents.finetune` on: keep a stratified slice of
the examples aside (and, by default, every `oos` example), fine-tune the
encoder on the rest (agent/training/finetune.py; `members` copies of it for an
ensemble), save the tuned encoder in the build folder, then fit the head on
every example's tuned embedding and calibrate confidence (and an "auto"
out-of-scope threshold) on cross-validation folds over the rows the encoder
never saw. From then on every step of the bot uses the tuned encoder.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.bot.schemas import OOS
from agent.config import FinetuneConfig, IntentConfig
from agent.pipeline.artifacts import TUNED_ENCODER, tuned_encoder_config
from agent.steps.encoder import Encoder
from agent.steps.intents.classifier import IntentClassifier
from agent.training.finetune import FinetuneReport, finetune_encoder


@dataclass
class IntentTraining:
    """A trained classifier and the encoder whose embeddings it reads."""

    classifier: IntentClassifier
    encoder: Encoder
    finetune: FinetuneReport | None
    seconds: float


def train_intents(
    texts: Sequence[str],
    labels: Sequence[str],
    encoder: Encoder,
    config: IntentConfig,
    build: Path,
    fingerprint: str,
    progress: bool = False,
) -> IntentTraining:
    """Fit the intent classifier (fine-tuning `encoder` first when `config.finetune` is on).

    `build` receives the tuned encoder; `fingerprint` identifies this training run in it.
    """
    started = time.perf_counter()
    holdout = None
    report = None
    if config.finetune.enabled:
        holdout = calibration_rows(labels, config.finetune)
        held = set(holdout.tolist())
        keep = [i for i in range(len(texts)) if i not in held]
        report = finetune_encoder(
            encoder,
            [texts[i] for i in keep],
            [labels[i] for i in keep],
            config.finetune,
            build / TUNED_ENCODER,
            fingerprint,
            progress=progress,
        )
        encoder = Encoder(tuned_encoder_config(encoder.config, build))
    embeddings = encoder.encode(list(texts), progress=progress)
    classifier = IntentClassifier.fit(embeddings, labels, config, progress=progress, holdout=holdout, texts=texts)
    return IntentTraining(classifier, encoder, report, round(time.perf_counter() - started, 1))


def calibration_rows(labels: Sequence[str], config: FinetuneConfig) -> np.ndarray:
    """Rows kept out of fine-tuning: a stratified `holdout` share, plus every `oos` row with `hold_out_oos`."""
    rows = stratified_holdout(labels, config.holdout, config.seed)
    if config.hold_out_oos:
        oos_rows = np.array([i for i, label in enumerate(labels) if label == OOS], dtype=int)
        rows = np.union1d(rows, oos_rows).astype(int)
    return rows


def stratified_holdout(labels: Sequence[str], share: float, seed: int) -> np.ndarray:
    """Row indices of about `share` of each label's examples (none from a label with a single example)."""
    rng = np.random.default_rng(seed)
    array = np.asarray(labels)
    picked: list[int] = []
    for label in sorted(set(labels)):
        rows = np.flatnonzero(array == label)
        count = round(share * len(rows))
        if len(rows) >= 2 and share > 0:
            count = min(max(count, 1), len(rows) - 1)
            picked.extend(rng.permutation(rows)[:count].tolist())
    return np.array(sorted(picked), dtype=int)
