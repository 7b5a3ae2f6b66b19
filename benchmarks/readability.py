"""Flesch-Kincaid grade of the bot's fixed texts and of its whole answers."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def grade(text: str) -> float:
    import textstat

    return float(textstat.flesch_kincaid_grade(_PLACEHOLDER.sub("", text)))


def fixed_text_grades() -> dict[str, float]:
    """Grade of every upper-case string constant in bot/prompts.py (empty when it is absent)."""
    try:
        from bot import prompts
    except ImportError:
        return {}
    return {
        name: grade(value)
        for name, value in vars(prompts).items()
        if name.isupper() and isinstance(value, str) and len(value.split()) >= 3
    }


@dataclass(frozen=True)
class AnswerGrades:
    n: int
    mean: float
    median: float


def answer_grades(texts: Sequence[str]) -> AnswerGrades:
    grades = [grade(t) for t in texts if t.strip()]
    if not grades:
        return AnswerGrades(0, float("nan"), float("nan"))
    return AnswerGrades(len(grades), statistics.fmean(grades), statistics.median(grades))
