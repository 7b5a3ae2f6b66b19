"""Split a question into its parts: "what is ketamine and how long does relief last?"."""

from __future__ import annotations

import re

from bot.lexicon import STOPWORDS

# A new part starts after "?" / ";" or at "and"/"also"/"plus" followed by a question word.
_SPLIT = re.compile(
    r"\?\s*|;\s*|,?\s+\b(?:and|also|plus)\s+(?=(?:also\s+)?(?:what|how|is|are|does|do|can|"
    r"who|which|why|will|should|when|where|have|has|did|was|were)\b)",
    re.I,
)
MIN_CONTENT_WORDS = 1


def question_parts(question: str) -> list[str]:
    """The question's parts, each with a content word (one part if it has one)."""
    parts = [p.strip(" ,.") for p in _SPLIT.split(question or "") if p and p.strip(" ,.")]
    content = [
        p
        for p in parts
        if sum(1 for w in re.findall(r"[a-z]+", p.lower()) if w not in STOPWORDS)
        >= MIN_CONTENT_WORDS
    ]
    return content if len(content) > 1 else [question.strip()] if question.strip() else []


__all__ = ["question_parts"]
