"""Which of the languages patients write in a message is in; the one place py3langid is used.

The identifier is restricted to English and the five other languages the fixed replies
exist in, and only trusted when it is confident: short or mixed messages stay English.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

LANGUAGES = ("en", "es", "fr", "pt", "de", "it")
MIN_CONFIDENCE = 0.8
"""Probability at or above which a language other than English is taken as the message's."""
_MIN_LETTERS = 6


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str) -> str:
    """'es', 'fr', 'pt', 'de' or 'it' when the message is confidently in it, else 'en'."""
    if sum(ch.isalpha() for ch in text) < _MIN_LETTERS:
        return "en"
    language, probability = _identifier().classify(text)
    return str(language) if language != "en" and probability >= MIN_CONFIDENCE else "en"
