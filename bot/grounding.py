"""How well a written sentence is supported by a passage: meaning, shared words and numbers.

Used to check sentences an LLM writes against the passage they cite. The score mixes the
embedding cosine to the passage's best-matching sentence (or pair of adjacent sentences), the
share of the sentence's content words found in the passage, and a hard check that every
number in the sentence appears in the passage: a changed dose or percentage is the error a
similarity score alone misses. It cannot tell a claim from its contradiction on the same
point (measured in docs/benchmarks.md), so it is a filter for invented or drifting content,
not a fact checker.
"""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np

from bot.embeddings import Embedder
from bot.lexicon import terms
from bot.sentences import split_sentences

COSINE_WEIGHT = 0.6
OVERLAP_WEIGHT = 0.4
NUMBER_PENALTY = 0.25
"""Multiplies the score when a number in the sentence is not in the passage."""
DEFAULT_THRESHOLD = 0.6
"""Paraphrases of a passage sentence score about 0.7-0.9, unrelated sentences below 0.4."""

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_NUMBER_WORDS = {
    word: str(i)
    for i, word in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    )
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)


def numbers(text: str) -> set[str]:
    """Numbers in ``text``, normalised: '1,000' -> '1000', 'five' -> '5', '2.50' -> '2.5'."""
    found = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", raw) else raw
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        found.add(value)
    found.update(_NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text))
    return found


def missing_numbers(sentence: str, passage_text: str) -> set[str]:
    """Numbers in ``sentence`` that ``passage_text`` does not contain."""
    return numbers(sentence) - numbers(passage_text)


def word_overlap(sentence: str, passage_text: str) -> float:
    """Share of the sentence's stemmed content words that occur in the passage (1.0 if none)."""
    wanted = set(terms(sentence))
    if not wanted:
        return 1.0
    return len(wanted & set(terms(passage_text))) / len(wanted)


def _units(passage_text: str) -> list[str]:
    """The passage's sentences and pairs of adjacent sentences (a summary may merge two)."""
    sentences = split_sentences(passage_text) or [passage_text]
    pairs = [f"{a} {b}" for a, b in pairwise(sentences)]
    return sentences + pairs


def best_cosine(sentence: str, passage_text: str, embedder: Embedder) -> float:
    """Cosine between the sentence and the passage's best-matching sentence or sentence pair."""
    units = _units(passage_text)
    vectors = embedder.embed_documents([sentence, *units])
    return float(np.max(vectors[1:] @ vectors[0]))


def support_score(sentence: str, passage_text: str, embedder: Embedder) -> float:
    """Support of ``sentence`` by ``passage_text`` in [0, 1]; ~1 for a verbatim sentence."""
    if not sentence.strip() or not passage_text.strip():
        return 0.0
    cosine = min(max(best_cosine(sentence, passage_text, embedder), 0.0), 1.0)
    score = COSINE_WEIGHT * cosine + OVERLAP_WEIGHT * word_overlap(sentence, passage_text)
    if missing_numbers(sentence, passage_text):
        score *= NUMBER_PENALTY
    return float(min(max(score, 0.0), 1.0))


def is_supported(
    sentence: str, passage_text: str, embedder: Embedder, threshold: float = DEFAULT_THRESHOLD
) -> bool:
    return support_score(sentence, passage_text, embedder) >= threshold


__all__ = ["is_supported", "missing_numbers", "numbers", "support_score", "word_overlap"]
