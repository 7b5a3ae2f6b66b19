"""The metric code behind `make eval`, checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from benchmarks.metrics import ndcg_at_k, percentile, recall_at_k, roc_auc


@pytest.mark.parametrize(
    ("ranked", "relevant", "k", "expected"),
    [
        (["a", "b", "c"], {"a": 1}, 10, 1.0),
        (["b", "a", "c"], {"a": 1}, 10, 1 / math.log2(3)),
        (["x", "y"], {"a": 1}, 10, 0.0),
        (["b", "a"], {"a": 1, "b": 1}, 10, 1.0),
        (["a", "x", "b"], {"a": 1, "b": 1}, 10, (1 + 1 / 2) / (1 + 1 / math.log2(3))),
        (["x", "a"], {"a": 1}, 1, 0.0),
        (["a"], {}, 10, 0.0),
        (["b", "a"], {"a": 2, "b": 1}, 10, (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))),
    ],
)
def test_ndcg(ranked: list[str], relevant: dict[str, int], k: int, expected: float) -> None:
    assert ndcg_at_k(ranked, relevant, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ranked", "relevant", "k", "expected"),
    [
        (["a", "b"], {"a": 1, "b": 1, "c": 1}, 10, 2 / 3),
        (["a", "b"], {"b": 1}, 1, 0.0),
        (["a", "b"], {"a": 0}, 10, 0.0),
    ],
)
def test_recall(ranked: list[str], relevant: dict[str, int], k: int, expected: float) -> None:
    assert recall_at_k(ranked, relevant, k) == pytest.approx(expected)


def test_auc_perfect_random_and_ties() -> None:
    assert roc_auc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert roc_auc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5
    assert math.isnan(roc_auc([0.5], [True]))


def test_percentile() -> None:
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([1, 2], 50) == 1.5
    assert percentile([10.0], 99) == 10.0


def test_safety_scores_count_missed_crises_and_over_blocking() -> None:
    from benchmarks.safety_eval import safety_scores
    from bot.types import Verdict as V

    scores = safety_scores(
        [
            ("c1", V.CRISIS, V.CRISIS),
            ("c2", V.CRISIS, V.ANSWERED),
            ("a1", V.ANSWERED, V.ANSWERED),
            ("a2", V.ANSWERED, V.OFF_TOPIC),
        ]
    )
    assert scores.crisis_recall == 0.5
    assert scores.crisis_missed == ("c2",)
    assert scores.over_blocked == 0.5
    assert scores.confusion[("crisis", "answered")] == 1
