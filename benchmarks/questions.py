"""Our own question set through the real bot: source hit rate, verdict accuracy, groundedness."""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from benchmarks.metrics import mean
from bot.types import Answer, Verdict

REPO = Path(__file__).resolve().parent.parent
QUESTIONS_FILE = REPO / "eval" / "questions.jsonl"
SHARED_QUESTIONS_FILE = REPO.parent / "shared" / "eval" / "questions.jsonl"
DEV_QUESTIONS_FILE = REPO / "eval" / "questions_dev.jsonl"
"""Development set by paraphrase family (bare, backstory, skeptical, slang_typos, caregiver,
follow_up, long_rambling), each intent in several wordings."""
FIRST_CONTACT_DIR = REPO / "eval" / "firstcontact"
"""Batches written by someone who never saw the bot, each committed before the bot read it."""
MEASURED_QUESTION_BATCHES = tuple(
    FIRST_CONTACT_DIR / f"questions-batch{n}.jsonl" for n in range(1, 8)
)
"""The question batches whose first-contact figure is recorded in docs/benchmarks.md, which the
coverage model and the advice check learn from; the newer ones (8-11) stay out, to measure on."""
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expect_verdict: Verdict
    expect_sources: tuple[str, ...]
    history: tuple[str, ...] = ()
    family: str = ""
    """Paraphrase family of the development set (bare, backstory, skeptical, slang_typos,
    caregiver, follow_up, long_rambling); empty for the older sets."""
    intent: str = ""
    """What is asked, shared by every wording of it (cross-validation groups by it)."""


class Answerer(Protocol):
    def answer(
        self, question: str, history: Sequence[str] = (), *, id: str | None = None
    ) -> Answer: ...


def load_questions(path: Path) -> list[Question]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [
        Question(
            id=str(r["id"]),
            question=r["question"],
            expect_verdict=Verdict(r["expect_verdict"]),
            expect_sources=tuple(r.get("expect_sources", ())),
            history=tuple(r.get("history", ())),
            family=str(r.get("family", "")),
            intent=str(r.get("intent", "")),
        )
        for r in rows
    ]


def fixed_texts() -> list[str]:
    """Every string constant of bot/prompts.py (lead-ins, refusals, disclaimers)."""
    try:
        from bot import prompts
    except ImportError:
        return []
    return [v for k, v in vars(prompts).items() if k.isupper() and isinstance(v, str)]


def _normal(text: str) -> str:
    return _SPACE.sub(" ", _MARKER.sub("", text)).strip()


def _is_fixed(sentence: str, fixed: Sequence[str]) -> bool:
    for text in fixed:
        pattern = re.escape(_normal(text))
        pattern = re.sub(r"\\\{[^}]*\\\}", ".*?", pattern)  # format placeholders match anything
        if re.search(pattern, sentence) or sentence in _normal(text):
            return True
    return False


def grounded_share(answer: Answer, fixed: Sequence[str]) -> float | None:
    """Share of answer sentences found verbatim in the passage each one cites.

    Uses the answer's structure (``Answer.parts``: sentence, citation number); answers
    without parts fall back to splitting the text and checking against any cited passage.
    """
    from bot.sentences import split_sentences

    by_n = {c.n: _normal(c.passage) for c in answer.citations}
    items = [(_normal(s), n) for part in answer.parts for s, n in part.items]
    if items:
        return sum(1 for s, n in items if s and s in by_n.get(n, "")) / len(items)
    passages = list(by_n.values())
    own = [s for s in (_normal(x) for x in split_sentences(answer.text)) if s]
    own = [s for s in own if not _is_fixed(s, fixed)]
    if not own:
        return None
    return sum(1 for s in own if any(s in p for p in passages)) / len(own)


@dataclass
class QuestionReport:
    n: int = 0
    by_class: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_family: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Right verdicts and questions per paraphrase family (development set only)."""
    source_hit_rate: float = float("nan")
    groundedness: float = float("nan")
    latencies_ms: list[float] = field(default_factory=list)
    answers: list[tuple[Question, Answer]] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def accuracy(self, verdict: str) -> float:
        right, total = self.by_class.get(verdict, (0, 0))
        return right / total if total else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "verdict_accuracy": {v: self.accuracy(v) for v in self.by_class},
            "source_hit_rate": self.source_hit_rate,
            "groundedness": self.groundedness,
            "misses": self.misses,
        }


def run_questions(bot: Answerer, questions: Sequence[Question]) -> QuestionReport:
    fixed = fixed_texts()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    families: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    hits: list[float] = []
    grounded: list[float] = []
    report = QuestionReport(n=len(questions))
    for q in questions:
        start = time.perf_counter()
        answer = bot.answer(q.question, q.history, id=q.id)
        report.latencies_ms.append((time.perf_counter() - start) * 1000)
        report.answers.append((q, answer))
        right = answer.verdict == q.expect_verdict
        counts[q.expect_verdict.value][0] += right
        counts[q.expect_verdict.value][1] += 1
        if q.family:
            families[q.family][0] += right
            families[q.family][1] += 1
        if not right:
            report.misses.append(
                f"{q.id}: expected {q.expect_verdict.value}, got {answer.verdict.value}"
            )
        if q.expect_sources:  # a refusal or "not covered" counts as a miss
            cited = {c.source_id for c in answer.citations}
            hits.append(1.0 if cited & set(q.expect_sources) else 0.0)
        if answer.verdict == Verdict.ANSWERED:
            share = grounded_share(answer, fixed)
            if share is not None:
                grounded.append(share)
    report.by_class = {k: (v[0], v[1]) for k, v in counts.items()}
    report.by_family = {k: (v[0], v[1]) for k, v in families.items()}
    report.source_hit_rate = mean(hits)
    report.groundedness = mean(grounded)
    return report
