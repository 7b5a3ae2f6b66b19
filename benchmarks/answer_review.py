"""Totals of a blind A/B review of answers, per build, once the key is applied.

A reviewer who never saw the code labels two versions of each answer, `A` and `B`, shown in a
random order per question (eval/firstcontact/answers-review-*-AB.json); the key file says which
build each letter was. Command:

    python -m benchmarks.answer_review eval/firstcontact/answers-review-batch13-review.jsonl \
        eval/firstcontact/answers-review-batch13-key.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class BuildTotals:
    given: int = 0
    fully: int = 0
    statements: int = 0
    relevant: int = 0
    misleading: int = 0
    grade_ok: int = 0
    points: int = 0
    points_total: int = 0
    preferred: int = 0

    @property
    def precision(self) -> float:
        return self.relevant / self.statements if self.statements else float("nan")

    def line(self, name: str) -> str:
        points = (
            f", must-mention points {self.points}/{self.points_total}" if self.points_total else ""
        )
        return (
            f"{name}: answers given {self.given}, fully answers {self.fully}/{self.given},"
            f" precision {self.relevant}/{self.statements} = {self.precision:.3f},"
            f" misleading {self.misleading}/{self.given}, grade ok {self.grade_ok}/{self.given}"
            f"{points}, preferred {self.preferred}"
        )


def totals(
    reviews: Sequence[Mapping[str, object]], key: Mapping[str, Mapping[str, str]]
) -> tuple[dict[str, BuildTotals], int]:
    """Per build (the key's names), the review's totals over answers given; and how many
    questions the reviewer rated the same."""
    builds: dict[str, BuildTotals] = {}
    same = 0
    for row in reviews:
        letters = key[str(row["id"])]
        for letter, build in letters.items():
            labels = row[letter]
            assert isinstance(labels, Mapping)
            t = builds.setdefault(build, BuildTotals())
            if "points" in labels:
                covered, total = labels["points"]
                t.points += int(covered)
                t.points_total += int(total)
            if not labels["answered"]:
                continue
            t.given += 1
            t.fully += labels["fully_answers"] == "yes"
            t.statements += int(labels["statements"])
            t.relevant += int(labels["relevant"])
            t.misleading += bool(labels["misleading"])
            t.grade_ok += bool(labels["grade_ok"])
        prefer = str(row["prefer"])
        if prefer in letters:
            builds.setdefault(letters[prefer], BuildTotals()).preferred += 1
        else:
            same += 1
    return builds, same


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("review", type=Path)
    parser.add_argument("key", type=Path)
    args = parser.parse_args(argv)
    lines = args.review.read_text(encoding="utf-8").splitlines()
    reviews = [json.loads(line) for line in lines if line.strip()]
    key = json.loads(args.key.read_text(encoding="utf-8"))
    builds, same = totals(reviews, key)
    for name in sorted(builds):
        print(builds[name].line(name))
    print(f"rated the same: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
