"""The blind A/B review scorer applies the key: a letter's labels count for its build."""

from __future__ import annotations

from benchmarks.answer_review import totals


def _labels(answered: bool, fully: str, statements: int, relevant: int, misleading: bool) -> dict:
    return {
        "answered": answered,
        "points": [1, 2],
        "fully_answers": fully,
        "statements": statements,
        "relevant": relevant,
        "misleading": misleading,
        "grade_ok": True,
    }


def test_labels_count_for_the_build_the_key_names() -> None:
    reviews = [
        {
            "id": "q1",
            "A": _labels(True, "yes", 4, 4, False),
            "B": _labels(True, "partly", 6, 3, True),
            "prefer": "A",
        },
        {
            "id": "q2",
            "A": _labels(False, "no", 0, 0, False),
            "B": _labels(True, "yes", 2, 2, False),
            "prefer": "same",
        },
    ]
    key = {"q1": {"A": "new", "B": "main"}, "q2": {"A": "main", "B": "new"}}
    builds, same = totals(reviews, key)
    new, main = builds["new"], builds["main"]
    assert (new.given, new.fully, new.relevant, new.statements) == (2, 2, 6, 6)
    assert (main.given, main.fully, main.misleading, main.precision) == (1, 0, 1, 0.5)
    assert (new.preferred, main.preferred, same) == (1, 0, 1)
    assert (new.points, new.points_total) == (2, 4)
