"""Question -> ranked passages: dense (Chroma) and keyword (BM25) fused by reciprocal rank."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

from bot.config import Settings
from bot.embeddings import Embedder
from bot.types import Passage

log = logging.getLogger(__name__)

Mode = Literal["bm25", "dense", "hybrid"]


class KeywordIndex:
    """BM25 over every active passage, with the English stemmer and stopwords."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self.passages = list(passages)
        self._index: Any = None
        if self.passages:
            tokens = bm25s.tokenize(
                [p.text for p in self.passages],
                stopwords="en",
                stemmer=self._stemmer,
                show_progress=False,
            )
            self._index = bm25s.BM25()
            self._index.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[Passage]:
        if self._index is None or not query.strip():
            return []
        tokens = self._bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stemmer, show_progress=False
        )
        k = min(k, len(self.passages))
        docs, scores = self._index.retrieve(tokens, k=k, show_progress=False)
        return [
            replace(self.passages[int(i)], score=float(s))
            for i, s in zip(docs[0], scores[0], strict=True)
            if float(s) > 0
        ]


def fuse(rankings: Sequence[Sequence[Passage]], rrf_k: int) -> list[Passage]:
    """Reciprocal rank fusion; keeps the dense similarity of each passage where known."""
    scores: dict[str, float] = {}
    best: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking):
            scores[passage.chunk_id] = scores.get(passage.chunk_id, 0.0) + 1.0 / (rrf_k + rank + 1)
            known = best.get(passage.chunk_id)
            if known is None or passage.similarity > known.similarity:
                best[passage.chunk_id] = passage
    order = sorted(scores, key=lambda c: scores[c], reverse=True)
    return [replace(best[c], score=scores[c]) for c in order]


class Retriever:
    """Dense + BM25 retrieval over one ChunkStore; the benchmark can pick a mode."""

    def __init__(self, store: Any, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.keyword = KeywordIndex(store.all_passages())
        self.generation = store.generation()

    def refresh(self) -> None:
        self.keyword = KeywordIndex(self.store.all_passages())
        self.generation = self.store.generation()

    def retrieve(self, query: str, k: int | None = None, mode: Mode = "hybrid") -> list[Passage]:
        k = k or self.settings.top_k
        n = max(self.settings.candidate_k, k)
        dense: list[Passage] = []
        if mode in ("dense", "hybrid"):
            vector = self.embedder.embed_query(query)
            dense = self.store.query(vector, n)
        if mode == "dense":
            return dense[:k]
        keyword = self.keyword.search(query, n)
        if mode == "bm25":
            return keyword[:k]
        fused = fuse([dense, keyword], self.settings.rrf_k)[:k]
        # Keyword-only hits have no similarity yet; fill it for the evidence check.
        missing = [p for p in fused if p.similarity == 0.0]
        if missing:
            vector = self.embedder.embed_query(query)
            sims = self.embedder.embed_documents([p.text for p in missing]) @ vector.reshape(-1)
            filled = {p.chunk_id: float(s) for p, s in zip(missing, sims, strict=True)}
            fused = [replace(p, similarity=filled.get(p.chunk_id, p.similarity)) for p in fused]
        return fused
