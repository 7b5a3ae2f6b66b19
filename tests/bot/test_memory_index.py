"""The in-memory dense search (bot/memory_index.py) against Chroma's own, on the real store."""

from __future__ import annotations

import numpy as np
import pytest

from bot.config import Settings
from bot.errors import StoreError
from bot.memory_index import MemoryIndex, load_memory_index
from bot.retrieve import Retriever

QUESTIONS = (
    "side effects of ketamine infusions",
    "does psilocybin help chronic pain?",
    "who wrote the 2018 guideline",
    "how long does relief from ketamine last for CRPS?",
    "what is central sensitization",
)


def test_nearest_is_the_exact_top_k_best_first() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(50, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = MemoryIndex([f"r{i}" for i in range(50)], vectors)
    query = vectors[3] + 0.1 * vectors[9]
    hits = index.nearest(query, 5)
    sims = vectors @ query
    assert [rid for rid, _ in hits] == [f"r{i}" for i in np.argsort(-sims)[:5]]
    assert hits[0][0] == "r3"
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert len(index.nearest(query, 80)) == 50
    assert index.nearest(query, 0) == []


def test_mismatched_ids_and_vectors_are_refused() -> None:
    with pytest.raises(ValueError, match="3 vectors for 2 records"):
        MemoryIndex(["a", "b"], np.zeros((3, 4), np.float32))


def test_memory_search_finds_what_chroma_finds_on_the_real_store(
    corpus_settings: Settings, embedder
) -> None:  # type: ignore[no-untyped-def]
    from ingest.index import open_store

    store = open_store(corpus_settings, embedder)
    in_memory = Retriever(store, embedder, corpus_settings)
    by_chroma = Retriever(
        store, embedder, corpus_settings.model_copy(update={"memory_search_passages": 0})
    )
    assert in_memory.memory is not None and len(in_memory.memory) == len(in_memory.corpus.passages)
    assert by_chroma.memory is None
    for question in QUESTIONS:
        vector = embedder.embed_query(question)
        ours, theirs = in_memory.dense(vector, 12), by_chroma.dense(vector, 12)
        assert [p.chunk_id for p in ours] == [p.chunk_id for p in theirs], question
        assert np.allclose([p.similarity for p in ours], [p.similarity for p in theirs], atol=1e-5)


def test_a_store_larger_than_the_setting_is_searched_by_chroma(
    corpus_settings: Settings, embedder
) -> None:  # type: ignore[no-untyped-def]
    from ingest.index import open_store

    store = open_store(corpus_settings, embedder)
    small = corpus_settings.model_copy(update={"memory_search_passages": 3})
    retriever = Retriever(store, embedder, small)
    assert retriever.memory is None
    assert len(retriever.dense(embedder.embed_query("ketamine"), 5)) == 5


def test_a_store_missing_a_vector_is_searched_by_chroma(
    corpus_settings: Settings, embedder
) -> None:  # type: ignore[no-untyped-def]
    """A record deleted between reading the passages and their vectors (an ingest in another
    process): no partial index; the next refresh tries again."""
    from ingest.index import open_store

    store = open_store(corpus_settings, embedder)
    ids = [*Retriever(store, embedder, corpus_settings).corpus.by_record, "gone-record"]
    assert load_memory_index(store, ids, 10_000) is None


def test_a_store_that_cannot_be_read_meanwhile_is_searched_by_chroma() -> None:
    """Seen while another process re-ingested: Chroma could not find a record being replaced.
    The bot then searches with Chroma's index until the next store generation."""

    class Changing:
        def chunk_vectors(self, ids: list[str]) -> None:
            raise StoreError("the store changed while they were read")

    assert load_memory_index(Changing(), ["a", "b"], 10) is None
