"""Accuracy measures for intent classification with out-of-scope detection, and for FAQ retrieval.

Definitions follow the papers whose numbers BENCHMARKS.md quotes:

- accuracy: over every row, `oos` counted as one more class (Larson et al. 2019 "accuracy").
- in-scope accuracy: over rows whose true label is not `oos`; predicting `oos` for them is wrong.
- out-of-scope recall: of the rows whose true label is `oos`, the share predicted `oos`.
- out-of-scope precision: of the rows predicted `oos`, the share whose true label is `oos`.
- macro F1: the unweighted mean of per-class F1 over every class seen in the truth or the predictions.
- P@1, MRR, recall@k: of the ranked FAQ ids per query, against the one correct id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from agent.bot.schemas import OOS

RECALL_AT = 5


@dataclass(frozen=True)
class IntentMetrics:
    """Intent classification figures over one test set."""

    accuracy: float
    in_scope_accuracy: float | None  # None when the test set has no in-scope rows
    oos_recall: float | None  # None when the test set has no `oos` rows
    oos_precision: float | None  # None when nothing was predicted `oos`
    macro_f1: float
    n_test: int
    n_in_scope: int
    n_oos: int
    n_predicted_oos: int

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


@dataclass(frozen=True)
class RetrievalMetrics:
    """FAQ retrieval figures over one query set."""

    p_at_1: float
    mrr: float
    recall_at_5: float
    n_queries: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def intent_metrics(gold: Sequence[str], predicted: Sequence[str], oos: str = OOS) -> IntentMetrics:
    """Compare predicted labels with the true ones (same order, same length, at least one row)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} true labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("no rows to evaluate")
    pairs = list(zip(gold, predicted, strict=True))
    in_scope = [(g, p) for g, p in pairs if g != oos]
    out_scope = [(g, p) for g, p in pairs if g == oos]
    flagged = [(g, p) for g, p in pairs if p == oos]
    return IntentMetrics(
        accuracy=_share(g == p for g, p in pairs),
        in_scope_accuracy=_share(g == p for g, p in in_scope) if in_scope else None,
        oos_recall=_share(p == oos for _, p in out_scope) if out_scope else None,
        oos_precision=_share(g == oos for g, _ in flagged) if flagged else None,
        macro_f1=macro_f1(gold, predicted),
        n_test=len(pairs),
        n_in_scope=len(in_scope),
        n_oos=len(out_scope),
        n_predicted_oos=len(flagged),
    )


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean F1 over the union of true and predicted classes (a class never right scores 0)."""
    true_pos = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)
    gold_count = Counter(gold)
    pred_count = Counter(predicted)
    classes = set(gold_count) | set(pred_count)
    scores = []
    for label in classes:
        tp = true_pos[label]
        denominator = gold_count[label] + pred_count[label]
        scores.append(2 * tp / denominator if denominator else 0.0)
    return sum(scores) / len(scores)


def retrieval_metrics(gold: Sequence[str], ranked: Sequence[Sequence[str]]) -> RetrievalMetrics:
    """P@1, MRR (0 when the right id is not ranked at all) and recall@5 of ranked id lists."""
    if len(gold) != len(ranked):
        raise ValueError(f"{len(gold)} queries but {len(ranked)} rankings")
    if not gold:
        raise ValueError("no queries to evaluate")
    reciprocal, first, within = [], [], []
    for answer, ids in zip(gold, ranked, strict=True):
        ids = list(ids)
        rank = ids.index(answer) + 1 if answer in ids else None
        reciprocal.append(1.0 / rank if rank else 0.0)
        first.append(rank == 1)
        within.append(rank is not None and rank <= RECALL_AT)
    return RetrievalMetrics(
        p_at_1=_share(first),
        mrr=sum(reciprocal) / len(reciprocal),
        recall_at_5=_share(within),
        n_queries=len(gold),
    )


def _share(flags) -> float:
    values = list(flags)
    return sum(1 for v in values if v) / len(values)
