"""`python -m agent eval intents`: train the intent classifier on a CSV exactly as `train` does, test on another.

Training goes through `agent.training.intents.train_intents`, the function
`python -m agent train` calls, with the same defaults (bot.yaml's `encoder` and
`intents` sections when `--config` names one). Nothing about the test file
reaches training: thresholds are fixed or chosen on held-out training rows.
The tuned encoder, if any, lives in a temporary folder that is removed after.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from agent.bot.schemas import OOS
from agent.config import BotConfig
from agent.eval.csvdata import read_labelled
from agent.eval.metrics import IntentMetrics, intent_metrics
from agent.exceptions import DatasetError
from agent.steps.encoder import Encoder
from agent.training.intents import train_intents


@dataclass
class IntentEvalReport:
    """Figures of one `eval intents` run, with what produced them."""

    metrics: IntentMetrics
    train_seconds: float
    train_cpu_seconds: float  # CPU time of this process while training (all threads): shows a shared CPU
    predict_seconds: float
    n_train: int
    n_train_oos: int
    n_classes: int
    unseen_test_labels: list[str]
    temperature: float
    oos_threshold: float
    oos_probability: float | None
    knn_threshold: float | None  # threshold of the blended p(oos) + nearest-distance score, when that rule is on
    finetune: dict[str, object] | None
    settings: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = dict(self.metrics.as_dict())
        out.update({k: v for k, v in asdict(self).items() if k != "metrics"})
        return out


def evaluate_intents(
    train_csv: str | Path,
    test_csv: str | Path,
    config: BotConfig,
    label_column: str = "label",
    text_column: str = "text",
    progress: bool = False,
) -> IntentEvalReport:
    """Train on `train_csv`, predict every row of `test_csv`, and compare with its labels."""
    train_rows = read_labelled(train_csv, text_column, label_column)
    test_rows = read_labelled(test_csv, text_column, label_column)
    texts = [row.text for row in train_rows]
    labels = [row.label for row in train_rows]
    if len({label for label in labels if label != OOS}) < 2:
        raise DatasetError(f"{train_csv}: column '{label_column}' needs at least two in-scope labels to train on.")
    encoder = Encoder(config.encoder)
    fingerprint = hashlib.sha256(
        "\x1f".join([*texts, *labels, config.intents.model_dump_json(), encoder.fingerprint]).encode()
    ).hexdigest()[:24]
    with tempfile.TemporaryDirectory(prefix="agent-eval-") as build:
        started, cpu_started = time.perf_counter(), time.process_time()
        trained = train_intents(texts, labels, encoder, config.intents, Path(build), fingerprint, progress=progress)
        train_seconds = time.perf_counter() - started
        train_cpu_seconds = time.process_time() - cpu_started
        started = time.perf_counter()
        test_texts = [row.text for row in test_rows]
        vectors = trained.encoder.encode(test_texts, progress=progress)
        predicted = [p.name for p in trained.classifier.predict(vectors, top_k=1, texts=test_texts)]
        predict_seconds = time.perf_counter() - started
    classifier = trained.classifier
    known = set(classifier.labels)
    return IntentEvalReport(
        metrics=intent_metrics([row.label for row in test_rows], predicted),
        train_seconds=round(train_seconds, 1),
        train_cpu_seconds=round(train_cpu_seconds, 1),
        predict_seconds=round(predict_seconds, 1),
        n_train=len(train_rows),
        n_train_oos=sum(1 for label in labels if label == OOS),
        n_classes=len(classifier.labels),
        unseen_test_labels=sorted({row.label for row in test_rows} - known),
        temperature=round(classifier.temperature, 4),
        oos_threshold=config.intents.oos_threshold,
        oos_probability=classifier.oos_probability,
        knn_threshold=round(classifier.neighbours.threshold, 4) if classifier.neighbours else None,
        finetune=asdict(trained.finetune) if trained.finetune else None,
        settings={"encoder": config.encoder.model_dump(), "intents": config.intents.model_dump()},
    )


def format_report(report: IntentEvalReport, train_csv: str, test_csv: str) -> str:
    """A short human-readable summary of `report`."""
    m = report.metrics

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    lines = [
        f"trained on {report.n_train} rows of {train_csv} ({report.n_classes} classes, "
        f"{report.n_train_oos} oos) in {report.train_seconds:.1f}s"
        + (f", encoder fine-tuned for {report.finetune['epochs']} epochs" if report.finetune else "")
        + (f" ({report.finetune['members']} members)" if report.finetune and report.finetune["members"] != 1 else ""),
        f"tested on {m.n_test} rows of {test_csv} ({m.n_in_scope} in scope, {m.n_oos} oos)",
        f"accuracy           {pct(m.accuracy)}",
        f"in-scope accuracy  {pct(m.in_scope_accuracy)}",
        f"oos recall         {pct(m.oos_recall)}",
        f"oos precision      {pct(m.oos_precision)}",
        f"macro F1           {pct(m.macro_f1)}",
        f"operating point    confidence < {report.oos_threshold}"
        + (f" or p(oos) >= {report.oos_probability:.4f}" if report.oos_probability is not None else "")
        + (f" or p(oos)+distance score >= {report.knn_threshold}" if report.knn_threshold is not None else "")
        + f"; temperature {report.temperature}",
    ]
    if report.unseen_test_labels:
        shown = ", ".join(report.unseen_test_labels[:5])
        lines.append(f"warning: {len(report.unseen_test_labels)} test labels never seen in training ({shown} ...)")
    return "\n".join(lines)
