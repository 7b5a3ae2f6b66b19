"""Rewrite a short or anaphoric follow-up question with the topic words of earlier turns."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.lexicon import STOPWORDS

_ANAPHORA = re.compile(
    r"^(what about|how about|and |what of|and what|is it|does it|are they|do they)"
    r"|\b(it|that|this|they|them)\b"
)
_STOP = STOPWORDS | frozenset(["bad", "good"])


def topic_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-zA-Z][a-zA-Z0-9-]+", text) if w.lower() not in _STOP]


def rewrite_query(question: str, history: Sequence[str]) -> str:
    """Add the last turns' topic words when the question is short or points back to them."""
    if not history:
        return question
    short = len(topic_words(question)) <= 3
    if not (short or _ANAPHORA.search(question.lower())):
        return question
    seen = {w.lower() for w in topic_words(question)}
    extra: list[str] = []
    for turn in reversed(history):
        for word in topic_words(turn):
            if word.lower() not in seen:
                seen.add(word.lower())
                extra.append(word)
    return f"{question} {' '.join(extra)}".strip() if extra else question
