"""Which min_evidence (best passage's cosine similarity) separates answered from not_covered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.questions import Question
from bot.config import Settings
from bot.types import Verdict


@dataclass(frozen=True)
class ThresholdScan:
    answered: list[tuple[str, float]]
    not_covered: list[tuple[str, float]]
    best_threshold: float
    best_accuracy: float
    current: float
    current_accuracy: float


def _accuracy(t: float, pos: Sequence[float], neg: Sequence[float]) -> float:
    right = sum(1 for s in pos if s >= t) + sum(1 for s in neg if s < t)
    return right / (len(pos) + len(neg))


def scan_min_evidence(settings: Settings, questions: Sequence[Question]) -> ThresholdScan:
    """Best dense similarity per question straight from the store (follow-ups left out)."""
    from bot.embeddings import load_embedder
    from ingest.index import open_store

    embedder = load_embedder(settings)
    store = open_store(settings, embedder)

    def best(q: Question) -> float:
        passages = store.query(embedder.embed_query(q.question), 1)
        return passages[0].similarity if passages else 0.0

    picked = [q for q in questions if not q.history]
    pos = [(q.id, best(q)) for q in picked if q.expect_verdict is Verdict.ANSWERED]
    neg = [(q.id, best(q)) for q in picked if q.expect_verdict is Verdict.NOT_COVERED]
    ps, ns = [s for _, s in pos], [s for _, s in neg]
    candidates = sorted(set(ps + ns))
    best_t = max(candidates, key=lambda t: (_accuracy(t, ps, ns), -abs(t - settings.min_evidence)))
    return ThresholdScan(
        answered=pos,
        not_covered=neg,
        best_threshold=best_t,
        best_accuracy=_accuracy(best_t, ps, ns),
        current=settings.min_evidence,
        current_accuracy=_accuracy(settings.min_evidence, ps, ns),
    )
