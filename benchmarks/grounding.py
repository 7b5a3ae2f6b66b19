"""How well the answer-grounding check separates SUPPORT from CONTRADICT on SciFact claims.

The evidence indices in claims_nli.jsonl refer to the abstract split into sentences; the BEIR
corpus joins those sentences with single spaces, and bot.sentences.split_sentences recovers the
same split for most abstracts (the share where the indices fit is reported). A similarity score
can tell "on the same point" from "unrelated", but SUPPORT and CONTRADICT evidence is on the
same point by construction, so an AUC near 0.5 is the expected, honest result.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.beir import SCIFACT_DIR, load_corpus
from benchmarks.metrics import roc_auc

log = logging.getLogger(__name__)
Scorer = Callable[[str, str], float]


@dataclass(frozen=True)
class GroundingScores:
    pairs: int
    auc: float
    accuracy: float
    threshold: float
    index_fit: float
    scorer: str
    majority: float
    """Accuracy of always answering the held-out split's most common label."""


def make_scorer() -> tuple[Scorer, str]:
    """bot.grounding.support_score when present, else plain embedding cosine (named as such)."""
    from bot.config import Settings
    from bot.embeddings import load_embedder

    embedder = load_embedder(Settings())
    try:
        from bot.grounding import support_score
    except ImportError:
        log.warning("bot.grounding.support_score missing; using embedding cosine instead")

        def cosine(sentence: str, passage: str) -> float:
            vectors = embedder.embed_documents([sentence, passage])
            return float(vectors[0] @ vectors[1])

        return cosine, "cosine (fallback)"
    return (lambda s, p: float(support_score(s, p, embedder))), "bot.grounding.support_score"


def _best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    candidates = np.unique(scores)
    accs = [((scores >= t) == labels).mean() for t in candidates]
    return float(candidates[int(np.argmax(accs))])


def run_grounding(
    folder: Path = SCIFACT_DIR, scorer: tuple[Scorer, str] | None = None
) -> GroundingScores | None:
    path = folder / "claims_nli.jsonl"
    if not path.exists():
        log.warning("%s not found; skipping the grounding check", path)
        return None
    from bot.sentences import split_sentences

    score_fn, name = scorer or make_scorer()
    texts = {d.doc_id: d.text for d in load_corpus(folder)}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    by_split: dict[str, tuple[list[float], list[bool]]] = {}
    fit = 0
    for row in rows:
        sentences = split_sentences(texts[str(row["doc_id"])])
        indices = [i for i in row["evidence_sentences"] if i < len(sentences)]
        fit += len(indices) == len(row["evidence_sentences"])
        if not indices:
            continue
        score = max(score_fn(row["claim"], sentences[i]) for i in indices)
        scores, labels = by_split.setdefault(row["split"], ([], []))
        scores.append(score)
        labels.append(row["label"] == "SUPPORT")
    tune = by_split.get("train") or next(iter(by_split.values()))
    held = next((v for k, v in by_split.items() if k != "train"), tune)
    threshold = _best_threshold(np.asarray(tune[0]), np.asarray(tune[1]))
    held_scores, held_labels = np.asarray(held[0]), np.asarray(held[1])
    return GroundingScores(
        pairs=sum(len(v[0]) for v in by_split.values()),
        auc=roc_auc(held[0], held[1]),
        accuracy=float(((held_scores >= threshold) == held_labels).mean()),
        threshold=threshold,
        index_fit=fit / len(rows),
        scorer=name,
        majority=float(max(held_labels.mean(), 1 - held_labels.mean())),
    )
