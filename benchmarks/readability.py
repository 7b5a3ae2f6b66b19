"""Flesch-Kincaid grade of the bot's fixed texts and of its whole answers."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{[^}]*\}")


_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_VOWEL_GROUP = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    """Syllables of an English word by vowel groups (offline; no pronouncing dictionary).

    Within about one syllable of a dictionary count for ordinary words, which is what the
    Flesch-Kincaid formula needs: its grade moves by 11.8 per syllable per word on average.
    """
    w = word.lower().strip("'")
    if w.isdigit():
        return max(1, len(w) // 2)
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouycsxzg]es|[^dt]ed|[^laeiouy]e)$", "", w)  # silent: "makes", "used"
    w = re.sub(r"^y", "", w)
    count = len(_VOWEL_GROUP.findall(w))
    count += len(re.findall(r"(?:ia|io|ua)(?!u)", w))  # "fi-bro-my-al-gi-a", "ra-di-o"
    return max(1, count)


def grade(text: str) -> float:
    """Flesch-Kincaid grade level of ``text``."""
    text = _PLACEHOLDER.sub("", text)
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(_SENTENCE_END.findall(text)))
    syllable_count = sum(syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllable_count / len(words) - 15.59


def fixed_text_grades() -> dict[str, float]:
    """Grade of every fixed user-facing text: bot/prompts.py and web/texts.py constants."""
    from bot import prompts
    from web import texts

    out: dict[str, float] = {}
    for module in (prompts, texts):
        for name, value in vars(module).items():
            values = value if isinstance(value, list) else [value]
            for i, item in enumerate(values):
                if name.isupper() and isinstance(item, str) and len(item.split()) >= 3:
                    key = f"{module.__name__}.{name}" + (f"[{i}]" if len(values) > 1 else "")
                    out[key] = grade(item)
    return out


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
