"""Metric code on small hand-made examples whose figures are worked out by hand in the comments."""

from __future__ import annotations

import pytest

from agent.eval.metrics import intent_metrics, macro_f1, retrieval_metrics


def test_intent_metrics_by_hand() -> None:
    gold = ["a", "a", "b", "b", "oos", "oos", "oos", "c"]
    pred = ["a", "oos", "b", "a", "oos", "oos", "b", "c"]
    m = intent_metrics(gold, pred)
    assert m.accuracy == pytest.approx(5 / 8)  # rows 0, 2, 4, 5, 7
    assert m.in_scope_accuracy == pytest.approx(3 / 5)  # a, b, c right; a->oos and b->a wrong
    assert m.oos_recall == pytest.approx(2 / 3)
    assert m.oos_precision == pytest.approx(2 / 3)  # three predicted oos, one of them was 'a'
    assert (m.n_test, m.n_in_scope, m.n_oos, m.n_predicted_oos) == (8, 5, 3, 3)
    # Per class F1: a: tp1, gold2, pred2 -> 0.5; b: tp1, gold2, pred2 -> 0.5; c: 1.0; oos: tp2, gold3, pred3 -> 2/3
    assert m.macro_f1 == pytest.approx((0.5 + 0.5 + 1.0 + 2 / 3) / 4)


def test_intent_metrics_without_oos_rows_or_predictions() -> None:
    m = intent_metrics(["x", "y", "y"], ["x", "y", "x"])
    assert m.accuracy == pytest.approx(2 / 3)
    assert m.in_scope_accuracy == pytest.approx(2 / 3)
    assert m.oos_recall is None and m.oos_precision is None
    assert m.as_dict()["n_oos"] == 0


def test_macro_f1_counts_a_class_only_predicted() -> None:
    # 'z' never appears in the truth but is predicted once: its F1 is 0 and it counts in the mean.
    assert macro_f1(["x", "x"], ["x", "z"]) == pytest.approx((2 * 1 / (2 + 1) + 0.0) / 2)


def test_intent_metrics_reject_mismatched_input() -> None:
    with pytest.raises(ValueError, match="2 true labels but 1 predictions"):
        intent_metrics(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no rows"):
        intent_metrics([], [])


def test_retrieval_metrics_by_hand() -> None:
    gold = ["f1", "f2", "f3", "f4"]
    ranked = [
        ["f1", "f2", "f3"],  # rank 1
        ["f1", "f2", "f3"],  # rank 2
        ["a", "b", "c", "d", "e", "f3"],  # rank 6: outside the top 5
        ["a", "b"],  # not found: reciprocal rank 0
    ]
    m = retrieval_metrics(gold, ranked)
    assert m.p_at_1 == pytest.approx(1 / 4)
    assert m.mrr == pytest.approx((1 + 1 / 2 + 1 / 6 + 0) / 4)
    assert m.recall_at_5 == pytest.approx(2 / 4)
    assert m.n_queries == 4
    with pytest.raises(ValueError, match="1 queries but 2 rankings"):
        retrieval_metrics(["f1"], [["f1"], ["f2"]])
