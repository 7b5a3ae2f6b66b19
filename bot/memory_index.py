"""Exact nearest-neighbour search over a store's chunk vectors held in memory.

A Chroma query costs about 1.5-2 ms of Python and bindings whatever the store's size (26
passages or 7,000); the same top-k from a matrix product costs 0.05 ms on the shipped corpus
and 0.3 ms on 7,160 SciFact passages, and it is exact where Chroma's index is approximate
(docs/benchmarks.md, issue 15). Chroma stays the store: the vectors are read from it once per
store generation, beside the corpus index they belong to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np

from bot.embeddings import Vectors
from bot.errors import StoreError

log = logging.getLogger(__name__)


class MemoryIndex:
    """The chunk vectors of one store generation, by record id, searched exactly."""

    def __init__(self, record_ids: Sequence[str], vectors: Vectors) -> None:
        self._ids = list(record_ids)
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self._vectors.shape[0] != len(self._ids):
            raise ValueError(f"{self._vectors.shape[0]} vectors for {len(self._ids)} records")

    def __len__(self) -> int:
        return len(self._ids)

    def nearest(self, vector: Vectors, k: int) -> list[tuple[str, float]]:
        """Record ids and cosine similarities of the k nearest, best first (the stored vectors
        and the query's are unit length, as the model makes them)."""
        if not self._ids or k <= 0:
            return []
        sims = self._vectors @ np.asarray(vector, dtype=np.float32).reshape(-1)
        k = min(k, len(self._ids))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(self._ids) else np.arange(k)
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(self._ids[i], float(sims[i])) for i in top]


def load_memory_index(store: object, record_ids: Sequence[str], most: int) -> MemoryIndex | None:
    """The index of these records' stored vectors; None when there are more than ``most``
    (Chroma's own index then serves), the store cannot give them (a test's fake), or one is
    missing (a store changing under the reader: the next refresh tries again)."""
    read = getattr(store, "chunk_vectors", None)
    if not record_ids or len(record_ids) > most or read is None:
        return None
    started = time.perf_counter()
    try:
        vectors = read(list(record_ids))
    except StoreError as exc:
        # Seen while another process re-ingests: the search falls back to Chroma's index
        # until the next store generation (the ingest's last change) is read.
        log.warning("in-memory search not used for this store generation: %s", exc)
        return None
    if vectors is None:
        log.info("chunk vectors not all in the store yet; searching with Chroma's index")
        return None
    log.debug(
        "%d chunk vectors read for in-memory search in %.2f s",
        len(record_ids),
        time.perf_counter() - started,
    )
    return MemoryIndex(record_ids, vectors)
