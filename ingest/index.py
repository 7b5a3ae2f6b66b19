"""Ingest: load -> chunk -> embed -> store, skipping unchanged documents by content hash.

Changed documents replace exactly their own chunks, sources removed from an ingested folder
are deleted (prune), and the run returns an IngestReport counting documents.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from bot.config import Settings
from bot.corpus_index import write_corpus_index
from bot.embeddings import Embedder, Vectors, load_embedder, model_id_for
from bot.review import check_reviews
from bot.store import ChunkStore, SourceRecord, record_id
from bot.types import Chunk, Document
from bot.vector_cache import embed_sentences
from ingest.chunk import chunk_document, chunking_signature, embedding_text
from ingest.load import load_documents
from ingest.plain_check import check_folder

log = logging.getLogger(__name__)

EMBED_BATCH_CHUNKS = 512
"""Chunks embedded together across documents (throughput on many small abstracts)."""


@dataclass
class IngestReport:
    """What one ingest run did. Counts are documents; `chunks` is chunks embedded this run."""

    added: int = 0
    replaced: int = 0
    skipped: int = 0
    deleted: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    chunks: int = 0
    sentence_backfill: int = 0
    """Chunks of a store made before sentence vectors were stored that got them this run."""
    seconds: float = 0.0
    overdue: list[dict[str, Any]] = field(default_factory=list)
    """Sources in the store whose review is overdue (bot/review.py), after this run."""
    unreviewed: int = 0
    """Sources in the store with no `reviewed` date."""
    without_plain: list[str] = field(default_factory=list)
    """Sources with no plain-language summary in corpus/plain/ yet (see corpus/README.md)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "replaced": self.replaced,
            "skipped": self.skipped,
            "deleted": self.deleted,
            "failed": list(self.failed),
            "chunks": self.chunks,
            "sentence_backfill": self.sentence_backfill,
            "seconds": round(self.seconds, 3),
            "overdue": list(self.overdue),
            "unreviewed": self.unreviewed,
            "without_plain": list(self.without_plain),
        }


def content_hash(document: Document, chunking: str) -> str:
    """sha256 of the normalised text, sections, metadata and chunking (not the file's path)."""
    payload = json.dumps(
        {
            "source_id": document.source_id,
            "title": document.title,
            "sections": [[s.title, " ".join(s.text.split())] for s in document.sections],
            "metadata": document.metadata,
            "chunking": chunking,
        },
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _manifest_path(document: Document, root: Path | None) -> str:
    """Absolute file path, so prune can tell which folder a source came from."""
    assert document.path is not None
    full = (root / document.path) if root is not None else Path(document.path)
    return str(full.resolve())


def open_store(settings: Settings, embedder: Embedder, *, rebuild: bool = False) -> ChunkStore:
    """The collection for these settings, created if missing (dropped first on rebuild)."""
    if rebuild:
        ChunkStore.drop(settings)
    return ChunkStore.open(
        settings,
        embedding_model=embedder.model_id,
        dimension=embedder.dimension,
        chunking=chunking_signature(settings),
        create=True,
    )


class LazyEmbedder:
    """The settings' model, loaded only when something needs embedding.

    A no-op re-ingest then skips the model load (seconds) when the collection already
    records this model and its dimension.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._model: Embedder | None = None
        self.model_id = model_id_for(settings.embedding_model)
        recorded = ChunkStore.recorded(settings) or {}
        self._dimension: int | None = None
        if recorded.get("embedding_model") == self.model_id and recorded.get("dimension"):
            self._dimension = int(recorded["dimension"])

    def _load(self) -> Embedder:
        if self._model is None:
            self._model = load_embedder(self._settings)
        return self._model

    @property
    def dimension(self) -> int:
        return self._dimension if self._dimension is not None else self._load().dimension

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._load().embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self._load().embed_query(text)


@dataclass(frozen=True)
class _Pending:
    record: SourceRecord
    chunks: list[Chunk]
    replacing: bool


def _batches(pending: Sequence[_Pending]) -> Iterator[list[_Pending]]:
    batch: list[_Pending] = []
    size = 0
    for item in pending:
        batch.append(item)
        size += len(item.chunks)
        if size >= EMBED_BATCH_CHUNKS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def ingest_paths(
    settings: Settings,
    paths: Sequence[Path],
    *,
    prune: bool = True,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    progress: bool = False,
) -> IngestReport:
    """Bring the store in line with the files under paths; see the module docstring."""
    started = time.perf_counter()
    if embedder is None:
        embedder = cast(Embedder, LazyEmbedder(settings))
    store = open_store(settings, embedder, rebuild=rebuild)
    chunking = chunking_signature(settings)
    report = IngestReport()

    swept = store.sweep()  # leftovers of an interrupted run
    if swept:
        log.warning("removed %d chunk records left by an interrupted ingest", swept)

    loaded = load_documents(paths, max_bytes=int(settings.max_file_mb * 2**20))
    report.failed.extend({"path": f.path, "reason": f.reason} for f in loaded.failed)
    existing = store.sources()

    unreadable = _failed_paths(report.failed)
    pending: list[_Pending] = []
    moved: list[SourceRecord] = []
    for document, root in loaded.documents:
        digest = content_hash(document, chunking)
        path = _manifest_path(document, root)
        if document.source_id in loaded.duplicates:
            # Which file is right is unknown: keep what the store has (prune keeps it too).
            report.failed.append(
                {
                    "path": path,
                    "reason": f"its id {document.source_id!r} is used by another file too; "
                    "nothing with this id was changed. Give each record its own id.",
                }
            )
            continue
        old = existing.get(document.source_id)
        if old is not None and old.path and old.path != path and Path(old.path) in unreadable:
            # The file this id came from is there but broken right now: do not let another
            # file take the id over (a copy or an impostor) until it is fixed.
            report.failed.append(
                {
                    "path": path,
                    "reason": f"its id {document.source_id!r} belongs to {old.path}, which "
                    "could not be read this time; nothing was changed. Fix that file first, "
                    "or give this record its own id.",
                }
            )
            continue
        if old is not None and old.content_hash == digest:
            report.skipped += 1
            if old.path != path:  # moved file: update the manifest only, embed nothing
                moved.append(SourceRecord(**{**old.__dict__, "path": path}))
            continue
        chunks = chunk_document(document, settings)
        if not chunks:
            report.failed.append({"path": path, "reason": "no sentences to index; add text."})
            continue
        metadata = {**document.metadata, "title": document.title}
        record = SourceRecord(
            source_id=document.source_id,
            content_hash=digest,
            version=digest[:12],
            chunk_count=len(chunks),
            metadata=metadata,
            path=path,
        )
        pending.append(_Pending(record, chunks, replacing=old is not None))

    if moved:
        empty = np.zeros((0, 1), dtype=np.float32)
        store.put_documents([(record, [], empty) for record in moved])

    bar = _progress_bar(sum(len(p.chunks) for p in pending), progress)
    try:
        for batch in _batches(pending):
            texts = [
                embedding_text(c, str(item.record.metadata.get("title", "")))
                for item in batch
                for c in item.chunks
            ]
            vectors = embedder.embed_documents(texts)
            # The chunk vectors double as the passages' own: a sentence's passage is its chunk.
            sentences = embed_sentences(
                embedder, [c.text for item in batch for c in item.chunks], vectors
            )
            items = []
            offset = 0
            for item in batch:
                n = len(item.chunks)
                items.append((item.record, item.chunks, vectors[offset : offset + n]))
                offset += n
            try:
                store.put_documents(items, sentences)
            except Exception as exc:
                log.exception("could not store a batch of %d documents", len(batch))
                report.failed += [
                    {
                        "path": item.record.path or item.record.source_id,
                        "reason": f"could not store it ({exc.__class__.__name__}: {exc}); "
                        "run the ingest again.",
                    }
                    for item in batch
                ]
            else:
                report.chunks += len(texts)
                report.replaced += sum(item.replacing for item in batch)
                report.added += sum(not item.replacing for item in batch)
            if bar is not None:
                bar.update(len(texts))
    finally:
        if bar is not None:
            bar.close()

    if prune:
        report.deleted = _prune(store, paths, {d.source_id for d, _ in loaded.documents}, report)
    report.sentence_backfill = store_missing_sentences(store, embedder)
    try:  # the keyword index and word counts of this generation, so the next start reads them
        write_corpus_index(store, settings.cache_dir)
    except OSError as exc:
        log.warning("could not save the corpus index (%s); the next start builds it", exc)
    reviews = check_reviews((sid, rec.metadata) for sid, rec in store.sources().items())
    report.overdue = [status.to_json() for status in reviews.overdue]
    report.unreviewed = len(reviews.unreviewed)
    for folder in (p for p in paths if p.is_dir()):
        docs = [d for d, root in loaded.documents if root == folder]
        plain = check_folder(folder, docs, embedder, settings.cache_dir)
        report.failed += [
            {"path": r["path"], "reason": f"plain sentence {r['id']!r} refused: {r['reason']}"}
            for r in plain.refused
        ]
        report.without_plain += plain.without_plain
    report.seconds = time.perf_counter() - started
    log.info("ingest done: %s", report.to_json())
    return report


def store_missing_sentences(store: ChunkStore, embedder: Embedder) -> int:
    """Store the sentence vectors live chunks lack (a store made before they were stored)."""
    stored = store.sentence_ids()
    if len(stored) >= int(store.stats()["chunks"]):
        return 0
    lacking = [p for p in store.all_passages() if record_id(p) not in stored]
    if not lacking:
        return 0
    log.info("storing sentence vectors for %d chunks that have none", len(lacking))
    for start in range(0, len(lacking), EMBED_BATCH_CHUNKS):
        batch = lacking[start : start + EMBED_BATCH_CHUNKS]
        vectors = store.chunk_vectors([record_id(p) for p in batch])
        store.put_sentences(batch, embed_sentences(embedder, [p.text for p in batch], vectors))
    return len(lacking)


def _failed_paths(failures: Sequence[dict[str, str]]) -> set[Path]:
    """Resolved paths of the files that failed ("file" or "file:line" for a bad JSONL line)."""
    paths = set()
    for failure in failures:
        paths.add(Path(failure["path"]).resolve())
        paths.add(Path(failure["path"].rsplit(":", 1)[0]).resolve())
    return paths


def _prune(
    store: ChunkStore, paths: Sequence[Path], present: set[str], report: IngestReport
) -> int:
    """Delete sources that came from an ingested folder but are no longer in it."""
    folders = [p.resolve() for p in paths if p.is_dir()]
    if not folders:
        return 0
    failed_paths = _failed_paths(report.failed)
    deleted = 0
    for source_id, record in store.sources().items():
        if source_id in present or not record.path:
            continue
        origin = Path(record.path)
        if not any(origin.is_relative_to(folder) for folder in folders):
            continue
        if origin in failed_paths:
            continue  # the file is still there but unreadable now: keep the last good version
        store.delete_source(source_id)
        deleted += 1
    return deleted


def _progress_bar(total: int, progress: bool) -> Any:
    if not progress or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr, leave=False)


def ingest_fetched(
    settings: Settings,
    written: Sequence[Path],
    failed: list[dict[str, str]],
    embedder: Embedder | None = None,
) -> IngestReport:
    """Ingest files a fetcher (PubMed, URL) just wrote; its own failures lead the report."""
    report = (
        ingest_paths(settings, list(written), prune=False, embedder=embedder)
        if written
        else IngestReport()
    )
    report.failed = failed + report.failed
    return report
