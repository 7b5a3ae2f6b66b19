"""Passages -> extractive answer: verbatim sentences, each citing the passage it came from."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot import prompts
from bot.citations import is_article, is_verified, make_citation
from bot.embeddings import Embedder
from bot.sentences import split_sentences
from bot.types import Citation, Passage

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    ["a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "is", "are", "was", "were", "be", "it", "its", "this", "that", "with", "what", "how", "does", "do", "can", "about", "as", "by", "at", "from", "which", "who", "why", "when", "i", "my", "me", "you", "your"]
)
_CONFLICT_TOPICS = ("migraine", "fibromyalgia")


@dataclass(frozen=True)
class Composed:
    text: str
    citations: tuple[Citation, ...]
    sentences: tuple[str, ...]
    """The answer sentences (without fixed lead-ins or citation marks), each verbatim."""


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def compose_answer(
    question: str, passages: Sequence[Passage], embedder: Embedder, max_sentences: int
) -> Composed:
    candidates: list[tuple[str, Passage]] = []
    for passage in passages:
        for sentence in split_sentences(passage.text):
            if len(sentence.split()) >= 5 and not sentence.startswith("#"):
                candidates.append((sentence, passage))
    if not candidates:
        return Composed("", (), ())
    q_vec = embedder.embed_query(question).reshape(-1)
    s_vecs = embedder.embed_documents([s for s, _ in candidates])
    sims = s_vecs @ q_vec
    q_words = content_words(question)
    scores = [
        float(sim)
        + 0.1 * len(q_words & content_words(s)) / max(1, len(q_words))
        # Prefer checked findings over opinion when both fit the question about as well.
        + (0.08 if is_verified(p) and not is_article(p) else 0.0)
        for sim, (s, p) in zip(sims, candidates, strict=True)
    ]
    chosen: list[int] = []
    for i in np.argsort(scores)[::-1]:
        if len(chosen) >= max_sentences:
            break
        if any(float(s_vecs[i] @ s_vecs[j]) > 0.9 for j in chosen):
            continue  # near-duplicate (chunk overlap repeats sentences)
        chosen.append(int(i))
    picked = [candidates[i] for i in chosen]
    verified = [(s, p) for s, p in picked if not is_article(p) and is_verified(p)]
    others = [(s, p) for s, p in picked if not is_article(p) and not is_verified(p)]
    article = [(s, p) for s, p in picked if is_article(p)]

    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    lines: list[str] = []
    for lead, group in (
        (prompts.LEAD_VERIFIED, verified),
        (prompts.LEAD_OTHER, others),
        (prompts.LEAD_ARTICLE, article),
    ):
        if not group:
            continue
        lines.append(lead)
        for sentence, passage in group:
            if passage.chunk_id not in numbers:
                numbers[passage.chunk_id] = len(numbers) + 1
                citations.append(make_citation(numbers[passage.chunk_id], passage))
            lines.append(f"{sentence} [{numbers[passage.chunk_id]}]")
    q_lower = question.lower()
    if verified and article and any(t in q_lower for t in _CONFLICT_TOPICS):
        lines.insert(0, prompts.DISAGREEMENT_NOTE)
    order = [s for group in (verified, others, article) for s, _ in group]
    return Composed("\n".join(lines), tuple(citations), tuple(order))
