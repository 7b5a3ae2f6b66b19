"""Sentence precision and caveat coverage on the labelled (question, sentence) pairs.

eval/answer_pairs.jsonl holds, for development questions, fragments of candidate sentences
(plain or quoted) with a hand label: does the sentence help answer the question, and which
caveat (a fragment) must be shown whenever it is shown. Sentence precision is the share of
shown, labelled sentences that are relevant; caveat coverage is the share of shown sentences
needing a caveat whose caveat is shown too. Shown sentences matching no label are counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PAIRS_FILE = REPO / "eval" / "answer_pairs.jsonl"


@dataclass(frozen=True)
class PairScores:
    questions: int
    shown_labelled: int
    shown_unlabelled: int
    precision: float
    caveats_needed: int
    caveat_coverage: float


def shown_sentences(answer: Any) -> list[str]:
    return [p.text for p in answer.plain] + [s for part in answer.parts for s, _ in part.items]


def score_pairs(bot: Any, path: Path = PAIRS_FILE) -> PairScores:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_question: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_question.setdefault(row["question"], []).append(row)
    relevant = labelled = unlabelled = needed = covered = 0
    for question, labels in by_question.items():
        shown = shown_sentences(bot.answer(question))
        text = " ".join(shown)
        for sentence in shown:
            matches = [r for r in labels if r["sentence"] in sentence]
            if not matches:
                unlabelled += 1
                continue
            labelled += 1
            relevant += bool(matches[0]["relevant"])
            caveat = matches[0].get("caveat")
            if caveat:
                needed += 1
                covered += caveat in text
    return PairScores(
        len(by_question),
        labelled,
        unlabelled,
        relevant / labelled if labelled else float("nan"),
        needed,
        covered / needed if needed else float("nan"),
    )
