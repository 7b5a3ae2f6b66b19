"""Sentence vectors made at ingest, stored and deleted with their chunk, read while answering;
stores made before them keep working (made at load) until an ingest stores them."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from bot.config import Settings
from bot.evidence import load_model
from bot.pipeline import Bot
from bot.store import SENTENCES_SUFFIX, ChunkStore, record_id
from bot.vector_cache import sentences_of
from ingest.chunk import chunking_signature
from ingest.index import ingest_paths
from tests.ingest.conftest import embedded_passage_texts

TEXT = (
    "Ketamine infusions were given over four hours. Pain scores fell in the first week. "
    "Nausea and vivid dreams were the most common side effects."
)


def _open(settings: Settings, embedder) -> ChunkStore:  # type: ignore[no-untyped-def]
    return ChunkStore.open(
        settings,
        embedding_model=embedder.model_id,
        dimension=embedder.dimension,
        chunking=chunking_signature(settings),
    )


def _live_ids(store: ChunkStore) -> set[str]:
    return {record_id(p) for p in store.all_passages()}


def _two_sources_ingested(settings: Settings, write_record, counting, embedder):  # type: ignore[no-untyped-def]
    """Records "a" (TEXT) and "b" ingested; their folder and the opened store."""
    folder = write_record("a", {"Findings": TEXT}).parent
    write_record("b")
    ingest_paths(settings, [folder], embedder=counting)
    return folder, _open(settings, embedder)


def test_ingest_stores_each_chunks_sentence_vectors(
    settings: Settings, write_record, counting, embedder
) -> None:
    _folder, store = _two_sources_ingested(settings, write_record, counting, embedder)
    assert store.sentence_ids() == _live_ids(store) and len(_live_ids(store)) == 2
    passage = next(p for p in store.all_passages() if p.source_id == "a")
    stored = store.sentence_vectors([record_id(passage)])[record_id(passage)]
    sentences = sentences_of(passage.text)
    assert len(sentences) == 3 and stored.sentences.shape == (3, embedder.dimension)
    fresh = embedder.embed_documents(list(sentences))
    assert np.allclose(stored.sentences, fresh, atol=1e-4)
    # The passage's own vector is its chunk record's (title and text), as a dense hit's is.
    (chunk_vector,) = store.chunk_vectors([record_id(passage)])  # type: ignore[misc]
    assert np.allclose(stored.passage, chunk_vector)


def test_sentence_vectors_go_with_their_chunk(
    settings: Settings, write_record, counting, embedder
) -> None:
    folder, store = _two_sources_ingested(settings, write_record, counting, embedder)
    old = store.sentence_ids()
    write_record("a", {"New": "Completely new wording about infusions. A second sentence."})
    ingest_paths(settings, [folder], embedder=counting)
    now = store.sentence_ids()
    assert now == _live_ids(store) and len(now) == 2
    assert len(old - now) == 1  # the replaced version's record is gone with its chunk
    (folder / "b.md").unlink()
    ingest_paths(settings, [folder], embedder=counting)
    assert store.sentence_ids() == _live_ids(store) and {i.split(":")[0] for i in now} >= {"b"}
    assert not any(i.startswith("b:") for i in store.sentence_ids())


def test_sweep_removes_sentence_vectors_of_swept_chunks(
    settings: Settings, write_record, counting, embedder, monkeypatch
) -> None:
    path = write_record("a", {"Findings": TEXT})
    ingest_paths(settings, [path.parent], embedder=counting)
    store = _open(settings, embedder)
    # A crash after the manifest switched but before the old records were deleted.
    real_delete = type(store._chunks).delete
    monkeypatch.setattr(type(store._chunks), "delete", lambda self, *a, **k: None)
    write_record("a", {"New": "Different text now. And more of it."})
    ingest_paths(settings, [path.parent], embedder=counting)
    assert len(store.sentence_ids()) == 2
    monkeypatch.setattr(type(store._chunks), "delete", real_delete)
    assert store.sweep() == 1
    assert store.sentence_ids() == _live_ids(store)


def test_no_sentence_is_embedded_while_answering(corpus_settings: Settings, embedder) -> None:
    from tests.ingest.conftest import CountingEmbedder

    counting = CountingEmbedder(embedder)
    store = _open(corpus_settings, embedder)
    engine = Bot(corpus_settings, counting, store)
    for question in (
        "Is ketamine good for CRPS?",
        "What are the side effects of ketamine infusions?",
        "Can psilocybin help with chronic pain?",
        "I have fibromyalgia, does ketamine help it?",
    ):
        assert engine.answer(question).citations
    assert engine.vectors.embedded_at_query == 0
    assert embedded_passage_texts(counting, store) == set()  # at load or while answering


def test_stored_vectors_are_read_into_memory_at_load_up_to_the_cache_size(
    corpus_settings: Settings, embedder
) -> None:
    """A large store's answers then never wait on a store read of their passages' sentence
    vectors; the cache holds no more than its size."""
    store = _open(corpus_settings, embedder)
    passages = store.all_passages()
    engine = Bot(corpus_settings, embedder, store)
    assert len(engine.vectors) == len(passages) > 10
    reads: list[int] = []
    original = store.sentence_vectors

    def counted(ids):  # type: ignore[no-untyped-def]
        reads.append(len(ids))
        return original(ids)

    store.sentence_vectors = counted  # type: ignore[method-assign]
    assert engine.answer("What are the side effects of ketamine infusions?").citations
    assert reads == []
    small = Bot(corpus_settings.model_copy(update={"sentence_cache_passages": 10}), embedder, store)
    assert len(small.vectors) == 10
    assert small.answer("What are the side effects of ketamine infusions?").citations


def _make_old_store(settings: Settings, folder, embedder) -> ChunkStore:  # type: ignore[no-untyped-def]
    """A store as made before sentence vectors were stored: no sentences collection."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    ingest_paths(settings, [folder], embedder=embedder)
    client = chromadb.PersistentClient(
        path=str(settings.store_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    client.delete_collection(settings.collection + SENTENCES_SUFFIX)
    return _open(settings, embedder)


def test_old_store_works_and_ingest_stores_its_vectors(
    settings: Settings, write_record, counting, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write_record("a", {"Findings": TEXT}).parent
    store = _make_old_store(settings, folder, embedder)
    assert store.sentence_ids() == set()
    # Whether one test passage covers the question is not what this test is about.
    everything_covered = dataclasses.replace(load_model(), threshold=0.0)
    with caplog.at_level(logging.WARNING, logger="bot.vector_cache"):
        engine = Bot(settings, counting, store, evidence_model=everything_covered)
    assert "Run `python -m ingest` once to store them" in caplog.text
    assert (settings.cache_dir / "sentence-vectors.npz").exists()
    assert embedded_passage_texts(counting, store)  # made at load
    counting.seen.clear()
    answer = engine.answer("What side effects did ketamine infusions have?")
    assert answer.citations and "Ketamine infusions" in answer.text
    assert engine.vectors.embedded_at_query == 0
    assert embedded_passage_texts(counting, store) == set()  # not while answering

    report = ingest_paths(settings, [folder], embedder=counting)
    assert report.sentence_backfill == 1 and report.chunks == 0
    store = _open(settings, embedder)
    assert store.sentence_ids() == _live_ids(store)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.vector_cache"):
        Bot(settings, counting, store)
    assert "python -m ingest" not in caplog.text
    assert ingest_paths(settings, [folder], embedder=counting).sentence_backfill == 0
