"""The chunk store: the one place chromadb is imported (open, add, query, delete).

Two Chroma collections per logical name ``C`` (see docs/design.md): ``C`` holds one record per
chunk (id ``chunk_id@version``), ``C__sources`` is the manifest with one record per source.
Readers only trust chunks whose version matches the manifest, so a crash mid-replace shows
either the old or the new version of a document, never a mix. ``C__sentences`` holds, per chunk
record (same id), the vectors of the chunk's sentences made at ingest, so no answer embeds a
sentence; they are written and deleted with their chunk. Stores made before it lack them.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

import numpy as np

from bot.config import Settings
from bot.embeddings import Vectors
from bot.errors import StoreError, StoreMismatchError, StoreMissingError
from bot.types import Chunk, Passage

log = logging.getLogger(__name__)

MANIFEST_SUFFIX = "__sources"
SENTENCES_SUFFIX = "__sentences"
CHUNKER_VERSION = "sentences-v1"
"""Bump when chunk boundaries or the embedded text change: old stores then ask for --rebuild."""
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]$")
_PAGE = 2000  # records fetched per page when reading a whole collection
_Row = TypeVar("_Row")
_DATABASE_FILES = ("chroma.sqlite3", "chroma.sqlite3-wal")
QUIET_S = 2.0
"""An embedded store whose database files have not changed for this long, and not since, still
has the generation and chunk count last read: a query skips reading them (about 1.6 ms of a
23 ms answer). The wait covers file systems whose file times are coarse."""
_SOURCE_FIELDS = (
    "title",
    "short_citation",
    "kind",
    "url",
    "verification",
    "year",
    "journal",
    "authors",
    "text_kind",
    "reviewed",
)


@dataclass(frozen=True)
class SourceRecord:
    """One manifest entry: which version of a source is live and where it came from."""

    source_id: str
    content_hash: str
    version: str
    chunk_count: int
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str | None = None


@dataclass(frozen=True)
class StoredSentences:
    """What ingest stores for one chunk: the vector of its text and one per sentence."""

    passage: Vectors
    """Unit-length vector of the chunk: the chunk record's own (its text with its source's
    title), so a keyword-only hit's similarity means what a dense hit's does."""
    sentences: Vectors
    """One unit-length row per sentence, in the order bot.vector_cache.sentences_of gives."""


def record_id(passage: Passage) -> str:
    """The Chroma id of the chunk record a passage came from (chunk id @ source version)."""
    return f"{passage.chunk_id}@{passage.metadata.get('version', '')}"


def _pack(vectors: Vectors) -> str:
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode("ascii")


def _unpack(text: str, rows: int, dimension: int) -> Vectors:
    flat = np.frombuffer(base64.b64decode(text), dtype="<f4")
    return flat.reshape(rows, dimension).astype(np.float32)


class Store(Protocol):
    """What the query side needs of a store (ChunkStore; tests may pass a small fake)."""

    def query(self, embedding: Vectors, k: int) -> list[Passage]:
        """The k nearest passages, with similarity filled in."""
        ...

    def nearest(
        self, embedding: Vectors, k: int, keep: Callable[[str], bool]
    ) -> list[tuple[str, float]]:
        """Record ids (record_id) and similarities of the k nearest chunk records ``keep``
        accepts: for a reader that holds the passages already."""
        ...

    def all_passages(self) -> list[Passage]:
        """Every live passage (for the keyword index and the corpus word statistics)."""
        ...

    def generation(self) -> int:
        """A counter bumped on every change; readers poll it to know when to refresh."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counts and build settings, for /api/health."""
        ...

    def sources(self) -> dict[str, SourceRecord]:
        """The manifest: every live source with its front matter (for review status)."""
        ...


@functools.cache
def _warn_about_server_exposure() -> None:
    # chromadb's HTTP server has unfixed advisories (security/known_issues.toml); once per process.
    log.warning(
        "Using a Chroma server (PAINBOT_CHROMA_URL). Keep it on a private network or loopback "
        "that only the app replicas reach: the Chroma server must never face the internet."
    )


def chunking_signature(settings: Settings) -> str:
    """What shapes the chunks, recorded with the collection (e.g. 'sentences-v1:220w/40o').

    Lives here, not in ingest/, so the query side can open the store without importing ingest.
    """
    return f"{CHUNKER_VERSION}:{settings.chunk_words}w/{settings.chunk_overlap_words}o"


def flatten_value(value: Any) -> str | int | float | bool | None:
    """A metadata value Chroma accepts: scalars pass, lists are joined, the rest stringified."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def chunk_metadata(chunk: Chunk, record: SourceRecord) -> dict[str, Any]:
    """Metadata stored with a chunk record: its position plus the source's citation fields."""
    source = record.metadata
    meta: dict[str, Any] = {
        "source_id": chunk.source_id,
        "chunk_id": chunk.chunk_id,
        "index": chunk.index,
        "section": chunk.section,
        "version": record.version,
    }
    for key in _SOURCE_FIELDS:
        value = flatten_value(chunk.metadata.get(key, source.get(key)))
        if value is not None and value != "":
            meta[key] = value
    if "authors" not in meta and source.get("author"):
        meta["authors"] = flatten_value(source["author"])
    return meta


_CLIENTS_LOCK = threading.RLock()
"""Chroma keeps one system per folder in class-level dictionaries that are not thread-safe:
two threads reopening the store at once (two API requests right after a re-ingest) could
drop each other's entry mid-construction (KeyError, a 503 for the patient)."""


def _make_client(settings: Settings) -> Any:
    name = settings.collection
    if not _COLLECTION_NAME.match(name + MANIFEST_SUFFIX) or len(name) < 3:
        raise StoreError(
            f"The collection name {name!r} is not allowed: use 3-500 letters, digits, '.', "
            "'_' or '-', starting and ending with a letter or digit (PAINBOT_COLLECTION)."
        )
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if not url.hostname:
                raise StoreError(
                    f"PAINBOT_CHROMA_URL {settings.chroma_url!r} is not a URL: use the form "
                    "http://host:8000, or unset it to use the on-disk store."
                )
            ssl = url.scheme == "https"
            _warn_about_server_exposure()
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if ssl else 8000),
                ssl=ssl,
                settings=chroma_settings,
            )
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        with _CLIENTS_LOCK:
            return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except StoreError:
        raise
    except Exception as exc:
        where = settings.chroma_url or str(settings.store_dir)
        raise StoreError(
            f"Could not open the Chroma store at {where} ({exc.__class__.__name__}: {exc}). "
            "Check that the folder is writable or the server is running, or set "
            "PAINBOT_STORE_DIR / PAINBOT_CHROMA_URL."
        ) from exc


def _get_collection(client: Any, name: str) -> Any | None:
    from chromadb.errors import NotFoundError

    try:
        return client.get_collection(name, embedding_function=None)
    except (NotFoundError, ValueError):
        return None


class ChunkStore:
    """Chunks and their manifest in Chroma; always fed our own embeddings."""

    def __init__(
        self,
        settings: Settings,
        client: Any,
        name: str,
        chunks: Any,
        manifest: Any,
        sentences: Any | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._name = name
        self._chunks = chunks
        self._manifest = manifest
        self._sentences = sentences
        """None in a store made before sentence vectors were stored (read-only opening)."""
        self._active_cache: tuple[int, dict[str, str]] | None = None
        self._quiet_files: tuple[int, ...] | None = None
        """The database files' times and sizes when the last reading was known to hold."""
        self._counted: tuple[tuple[int, ...], int] | None = None
        self._seen_generation = self.generation()

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        embedding_model: str,
        dimension: int,
        chunking: str,
        create: bool = False,
    ) -> ChunkStore:
        """Open the collection; create it when asked, refuse one built with other settings."""
        client = _make_client(settings)
        name = settings.collection
        manifest = _get_collection(client, name + MANIFEST_SUFFIX)
        chunks = _get_collection(client, name)
        if manifest is None or chunks is None:
            if not create:
                raise StoreMissingError(
                    f"The collection {name!r} does not exist in "
                    f"{settings.chroma_url or settings.store_dir}: run `python -m ingest` "
                    "(or make run) to build it."
                )
            chunks = client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={
                    "hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": 200}
                },
            )
            manifest = client.get_or_create_collection(
                name + MANIFEST_SUFFIX,
                embedding_function=None,
                metadata={
                    "embedding_model": embedding_model,
                    "dimension": dimension,
                    "chunking": chunking,
                    "generation": 0,
                },
            )
        recorded = manifest.metadata or {}
        wanted = {"embedding_model": embedding_model, "dimension": dimension, "chunking": chunking}
        differing = {k: recorded.get(k) for k, v in wanted.items() if recorded.get(k) != v}
        if differing:
            found = ", ".join(f"{k}={recorded.get(k)!r} (now {wanted[k]!r})" for k in differing)
            raise StoreMismatchError(
                f"The collection {name!r} was built with other settings: {found}. Run "
                "`python -m ingest --rebuild` to rebuild it with the current settings."
            )
        sentences = _get_collection(client, name + SENTENCES_SUFFIX)
        if sentences is None and create:
            # One record per chunk record; its own vector is the chunk text's, searched by nobody.
            sentences = client.get_or_create_collection(
                name + SENTENCES_SUFFIX,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
            )
        return cls(settings, client, name, chunks, manifest, sentences)

    @staticmethod
    def recorded(settings: Settings) -> dict[str, Any] | None:
        """The model, dimension and chunking a collection was built with; None when missing."""
        manifest = _get_collection(_make_client(settings), settings.collection + MANIFEST_SUFFIX)
        return None if manifest is None else dict(manifest.metadata or {})

    @staticmethod
    def drop(settings: Settings) -> None:
        """Delete both collections (for --rebuild); a missing collection is fine."""
        client = _make_client(settings)
        base = settings.collection
        for name in (base, base + MANIFEST_SUFFIX, base + SENTENCES_SUFFIX):
            if _get_collection(client, name) is not None:
                client.delete_collection(name)

    # --- manifest -----------------------------------------------------------------------
    def _manifest_metadata(self) -> dict[str, Any]:
        fresh = self._client.get_collection(self._name + MANIFEST_SUFFIX, embedding_function=None)
        return dict(fresh.metadata or {})

    def generation(self) -> int:
        """A counter bumped on every change; readers poll it to know when to refresh."""
        return int(self._manifest_metadata().get("generation", 0))

    def local_folder(self) -> Path | None:
        """The folder of an on-disk store; None for a Chroma server."""
        return None if self._settings.chroma_url else self._settings.store_dir.resolve()

    def identity(self) -> str:
        """Names this store's collections as they exist now: a rebuilt store (whose
        generation counts again from 0) gets another identity. Read afresh, not remembered,
        so a rebuild by another process is seen."""
        chunks = self._client.get_collection(self._name, embedding_function=None)
        manifest = self._client.get_collection(
            self._name + MANIFEST_SUFFIX, embedding_function=None
        )
        where = self._settings.chroma_url or str(self._settings.store_dir.resolve())
        return f"{where}|{self._name}|{chunks.id}|{manifest.id}"

    def _bump_generation(self) -> None:
        meta = self._manifest_metadata()
        before = int(meta.get("generation", 0))
        meta["generation"] = before + 1
        self._manifest.modify(metadata=meta)
        if self._seen_generation == before:  # our own write: this process already sees it
            self._seen_generation = before + 1

    def _reload_if_changed(self) -> int:
        """Reopen the embedded store when another process changed it; returns the generation.

        An embedded Chroma keeps its vector index in memory per process, so chunks written by
        another process (`python -m ingest` while the app runs) stay invisible to queries until
        the store is reopened. A server (chroma_url) needs no reopening.
        """
        files = self._database_files()
        if files is not None and files == self._quiet_files:
            return self._seen_generation
        generation = self.generation()
        if generation != self._seen_generation and not self._settings.chroma_url:
            with _CLIENTS_LOCK:
                # Another thread may have reopened it while this one waited.
                if generation != self._seen_generation:
                    self._reopen()
                    log.info("store changed (generation %d): reopened it", generation)
                self._seen_generation = generation
        self._seen_generation = generation
        # Read after the files' state was taken: any later write changes that state.
        settled = files is not None and time.time_ns() - max(files[::2]) > QUIET_S * 1e9
        self._quiet_files = files if settled else None
        return generation

    def _database_files(self) -> tuple[int, ...] | None:
        """The embedded store's database files' modification times and sizes (0, 0 for one
        that does not exist); None for a Chroma server or an unreadable folder."""
        folder = self.local_folder()
        if folder is None:
            return None
        state: list[int] = []
        for name in _DATABASE_FILES:
            try:
                stat = os.stat(folder / name)
            except FileNotFoundError:
                state += [0, 0]
            except OSError:
                return None
            else:
                state += [stat.st_mtime_ns, stat.st_size]
        return tuple(state)

    def _chunk_count(self) -> int:
        """Chunk records in the collection, read again unless the store is quiet (above)."""
        quiet = self._quiet_files
        if quiet is not None and self._counted is not None and self._counted[0] == quiet:
            return self._counted[1]
        total = int(self._chunks.count())
        self._counted = None if quiet is None else (quiet, total)
        return total

    def _reopen(self) -> None:
        from chromadb.api.shared_system_client import SharedSystemClient

        identifier = getattr(self._client, "_identifier", None)
        if identifier is not None:
            # Chroma caches one system per folder; dropping it makes every client of this
            # folder in the process load a fresh one (the old one is left to the GC, since
            # a query on another thread may still be using it).
            SharedSystemClient._identifier_to_system.pop(identifier, None)
            SharedSystemClient._identifier_to_refcount.pop(identifier, None)
        self._client = _make_client(self._settings)
        self._chunks = self._client.get_collection(self._name, embedding_function=None)
        self._manifest = self._client.get_collection(
            self._name + MANIFEST_SUFFIX, embedding_function=None
        )
        self._sentences = _get_collection(self._client, self._name + SENTENCES_SUFFIX)

    def sources(self) -> dict[str, SourceRecord]:
        """The manifest: every live source with its version, hash and front matter."""
        out: dict[str, SourceRecord] = {}
        for ids, metas, _docs in self._pages(self._manifest, documents=False):
            for source_id, meta in zip(ids, metas, strict=True):
                if meta is None:  # being removed by another process right now
                    continue
                out[source_id] = SourceRecord(
                    source_id=source_id,
                    content_hash=str(meta["content_hash"]),
                    version=str(meta["version"]),
                    chunk_count=int(meta["chunk_count"]),
                    metadata=json.loads(str(meta.get("front_matter", "{}"))),
                    path=str(meta["path"]) if meta.get("path") else None,
                )
        return out

    def _active_versions(self) -> dict[str, str]:
        generation = self._reload_if_changed()
        if self._active_cache is None or self._active_cache[0] != generation:
            # The versions alone: parsing every source's front matter cost most of a first
            # answer's time on a store of thousands of sources.
            versions = {
                source_id: str(meta["version"])
                for ids, metas, _docs in self._pages(self._manifest, documents=False)
                for source_id, meta in zip(ids, metas, strict=True)
                if meta and "version" in meta
            }
            self._active_cache = (generation, versions)
        return self._active_cache[1]

    # --- writing ------------------------------------------------------------------------
    def put_document(
        self, record: SourceRecord, chunks: Sequence[Chunk], embeddings: Vectors
    ) -> None:
        """Replace a source: add new chunks, switch the manifest, delete the old chunks."""
        self.put_documents([(record, chunks, embeddings)])

    def put_documents(
        self,
        items: Sequence[tuple[SourceRecord, Sequence[Chunk], Vectors]],
        sentences: Sequence[StoredSentences] | None = None,
    ) -> None:
        """put_document for many sources at once, with the same three steps (fewer round trips).

        ``sentences``, one per chunk of all items in order, are written with the chunks (step 1)
        and their old versions deleted with the old chunks (step 3).
        """
        if not items:
            return
        ids: list[str] = []
        metas: list[dict[str, Any]] = []
        texts: list[str] = []
        vectors: list[Vectors] = []
        for record, chunks, embeddings in items:
            if len(chunks) != len(embeddings):
                raise StoreError(
                    f"{record.source_id}: {len(chunks)} chunks but {len(embeddings)} embeddings; "
                    "this is a bug in the caller, please report it."
                )
            if not chunks:
                continue  # a manifest-only update (e.g. the file moved)
            ids += [f"{c.chunk_id}@{record.version}" for c in chunks]
            metas += [chunk_metadata(c, record) for c in chunks]
            texts += [c.text for c in chunks]
            vectors.append(np.asarray(embeddings, dtype=np.float32).reshape(len(chunks), -1))
        matrix = np.concatenate(vectors) if ids else None
        step = max(1, int(self._client.get_max_batch_size()))
        if sentences is not None and len(sentences) != len(ids):
            raise StoreError(
                f"{len(ids)} chunks but {len(sentences)} sentence vector sets; "
                "this is a bug in the caller, please report it."
            )
        # 1. the new versions' chunks (invisible until the manifest points at them)
        for start in range(0, len(ids), step):
            end = start + step
            assert matrix is not None
            self._chunks.upsert(
                ids=ids[start:end],
                embeddings=matrix[start:end],
                documents=texts[start:end],
                metadatas=metas[start:end],
            )
        if sentences is not None:  # after their chunks: a sweep deletes those of absent chunks
            self._write_sentences(ids, metas, sentences)
        # 2. the manifest switches to the new versions
        self._manifest.upsert(
            ids=[record.source_id for record, _, _ in items],
            embeddings=[[1.0]] * len(items),
            metadatas=[
                {
                    "content_hash": record.content_hash,
                    "version": record.version,
                    "chunk_count": record.chunk_count,
                    "path": record.path or "",
                    "front_matter": json.dumps(record.metadata, default=str, sort_keys=True),
                }
                for record, _, _ in items
            ],
        )
        # 3. the old versions' chunks (and their sentence vectors) go
        old = {
            "$and": [
                {"source_id": {"$in": [record.source_id for record, _, _ in items]}},
                {"version": {"$nin": [record.version for record, _, _ in items]}},
            ]
        }
        self._chunks.delete(where=old)
        if self._sentences is not None:
            self._sentences.delete(where=old)
        self._bump_generation()

    def _write_sentences(
        self, ids: Sequence[str], metas: Sequence[dict[str, Any]], values: Sequence[StoredSentences]
    ) -> None:
        if self._sentences is None:
            raise StoreError(
                "This store was opened read-only; open it with create=True to write to it."
            )
        step = max(1, int(self._client.get_max_batch_size()))
        for start in range(0, len(ids), step):
            batch = values[start : start + step]
            self._sentences.upsert(
                ids=list(ids[start : start + step]),
                embeddings=np.stack([np.asarray(v.passage, dtype=np.float32) for v in batch]),
                metadatas=[
                    {
                        "source_id": meta["source_id"],
                        "version": meta["version"],
                        "count": len(value.sentences),
                        "vectors": _pack(value.sentences),
                    }
                    for meta, value in zip(metas[start : start + step], batch, strict=True)
                ],
            )

    def put_sentences(self, passages: Sequence[Passage], values: Sequence[StoredSentences]) -> None:
        """Store sentence vectors for chunks already in the store (a store made before them)."""
        metas = [{"source_id": p.source_id, "version": p.metadata.get("version")} for p in passages]
        self._write_sentences([record_id(p) for p in passages], metas, values)

    def chunk_vectors(self, ids: Sequence[str]) -> Vectors | None:
        """The stored vectors of these chunk records in order; None when one is missing.
        StoreError when the store cannot be read (another process changing it meanwhile)."""
        from chromadb.errors import ChromaError

        if not ids:
            return None
        self._reload_if_changed()  # first: it may reopen a store changed elsewhere
        found: dict[str, Vectors] = {}
        step = max(1, int(self._client.get_max_batch_size()))
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), step):
            try:
                got = self._chunks.get(ids=wanted[start : start + step], include=["embeddings"])
            except ChromaError as exc:
                raise StoreError(
                    f"Could not read chunk vectors ({exc}): the store changed while they were "
                    "read. Reading them again after the change completes works."
                ) from exc
            for rid, vector in zip(got["ids"], got["embeddings"], strict=True):
                found[rid] = np.asarray(vector, dtype=np.float32)
        if any(rid not in found for rid in ids):
            return None
        return np.stack([found[rid] for rid in ids])

    def sentence_ids(self) -> set[str]:
        """Ids of the chunk records whose sentence vectors are stored."""
        return set() if self._sentences is None else self._ids(self._sentences)

    @staticmethod
    def _ids(collection: Any) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            got = collection.get(include=[], limit=_PAGE * 5, offset=offset)
            out.update(got["ids"])
            if len(got["ids"]) < _PAGE * 5:
                return out
            offset += len(got["ids"])

    def sentence_vectors(self, ids: Sequence[str]) -> dict[str, StoredSentences]:
        """Stored sentence vectors of these chunk records; missing ones are left out."""
        if self._sentences is None or not ids:
            return {}
        self._reload_if_changed()
        wanted = list(dict.fromkeys(ids))
        out: dict[str, StoredSentences] = {}
        step = max(1, int(self._client.get_max_batch_size()))
        for start in range(0, len(wanted), step):
            got = self._sentences.get(
                ids=wanted[start : start + step], include=["embeddings", "metadatas"]
            )
            for rid, vector, meta in zip(
                got["ids"], got["embeddings"], got["metadatas"], strict=True
            ):
                if meta is None or vector is None:  # being deleted right now
                    continue
                passage = np.asarray(vector, dtype=np.float32)
                sentences = _unpack(str(meta["vectors"]), int(meta["count"]), passage.shape[-1])
                out[rid] = StoredSentences(passage, sentences)
        return out

    def delete_source(self, source_id: str) -> None:
        """Remove a source from the manifest first (hides it), then its chunk records."""
        self._manifest.delete(ids=[source_id])
        self._chunks.delete(where={"source_id": source_id})
        if self._sentences is not None:
            self._sentences.delete(where={"source_id": source_id})
        self._bump_generation()

    def sweep(self) -> int:
        """Delete chunk records no manifest entry vouches for (leftovers of a crash)."""
        active = {sid: rec.version for sid, rec in self.sources().items()}
        orphans: list[str] = []
        for ids, metas, _docs in self._pages(self._chunks, documents=False):
            for record_id, meta in zip(ids, metas, strict=True):
                if meta is None or active.get(str(meta.get("source_id"))) != meta.get("version"):
                    orphans.append(record_id)
        step = max(1, int(self._client.get_max_batch_size()))
        for start in range(0, len(orphans), step):
            self._chunks.delete(ids=orphans[start : start + step])
        if self._sentences is not None:
            # Ids only (the sentence records are large): a record whose chunk is gone goes too.
            stale = sorted(self.sentence_ids() - self._ids(self._chunks))
            for start in range(0, len(stale), step):
                self._sentences.delete(ids=stale[start : start + step])
            if stale:
                log.info("swept %d orphan sentence-vector records", len(stale))
        if orphans:
            log.info("swept %d orphan chunk records", len(orphans))
            self._bump_generation()
        return len(orphans)

    # --- reading ------------------------------------------------------------------------
    def query(self, embedding: Vectors, k: int) -> list[Passage]:
        """The k nearest active chunks; similarity = 1 - cosine distance."""
        active = self._active_versions()  # first: it may reopen a store changed elsewhere

        def live(result: Any) -> list[Passage]:
            return [
                stored_passage(doc, meta, 1.0 - float(dist))
                for doc, meta, dist in zip(
                    result["documents"][0],
                    result["metadatas"][0],
                    result["distances"][0],
                    strict=True,
                )
                if _is_live(meta, doc, active)
            ]

        return self._nearest_kept(embedding, k, ["documents", "metadatas", "distances"], live)

    def nearest(
        self, embedding: Vectors, k: int, keep: Callable[[str], bool]
    ) -> list[tuple[str, float]]:
        """Ids and similarities of the k nearest chunk records that ``keep`` accepts. Only ids
        and distances are read: a query that also reads each record's text and metadata cost
        about four times as much on a store of 7,000 passages (docs/benchmarks.md)."""
        self._reload_if_changed()  # first: it may reopen a store changed elsewhere

        def kept(result: Any) -> list[tuple[str, float]]:
            return [
                (str(rid), 1.0 - float(distance))
                for rid, distance in zip(result["ids"][0], result["distances"][0], strict=True)
                if keep(str(rid))
            ]

        return self._nearest_kept(embedding, k, ["distances"], kept)

    def _nearest_kept(
        self,
        embedding: Vectors,
        k: int,
        include: list[str],
        rows: Callable[[Any], list[_Row]],
    ) -> list[_Row]:
        """The first k of ``rows`` (what it keeps of a Chroma query's result), asking Chroma for
        four times as many records while fewer than k are kept (records of old versions, or
        being deleted, come back too)."""
        total = self._chunk_count()
        if total == 0 or k <= 0:
            return []
        vector = np.asarray(embedding, dtype=np.float32).reshape(1, -1)
        n = min(total, k + 10)
        while True:
            result = self._chunks.query(query_embeddings=vector, n_results=n, include=include)
            kept = rows(result)
            if len(kept) >= k or n >= total:
                return kept[:k]
            n = min(total, n * 4)

    def all_passages(self) -> list[Passage]:
        """Every active chunk, in source and index order (for the keyword index)."""
        active = self._active_versions()
        out: list[Passage] = []
        for _ids, metas, docs in self._pages(self._chunks, documents=True):
            for meta, doc in zip(metas, docs, strict=True):
                if _is_live(meta, doc, active):
                    out.append(stored_passage(doc, meta, 0.0))
        out.sort(key=lambda p: (p.source_id, int(p.metadata.get("index", 0))))
        return out

    def stats(self) -> dict[str, Any]:
        """Counts and the settings the collection was built with (for /api/health)."""
        meta = self._manifest_metadata()
        return {
            "collection": self._name,
            "documents": self._manifest.count(),
            "chunks": self._chunks.count(),
            "embedding_model": meta.get("embedding_model"),
            "dimension": meta.get("dimension"),
            "chunking": meta.get("chunking"),
            "generation": int(meta.get("generation", 0)),
        }

    @staticmethod
    def _pages(
        collection: Any, *, documents: bool
    ) -> Iterator[tuple[list[str], list[dict[str, Any]], list[str]]]:
        include = ["metadatas", "documents"] if documents else ["metadatas"]
        offset = 0
        while True:
            got = collection.get(include=include, limit=_PAGE, offset=offset)
            ids = list(got["ids"])
            if not ids:
                return
            metas = [dict(m or {}) for m in got["metadatas"]]
            docs = list(got["documents"]) if documents else [""] * len(ids)
            yield ids, metas, docs
            if len(ids) < _PAGE:
                return
            offset += len(ids)


def _is_live(meta: dict[str, Any] | None, document: str | None, active: dict[str, str]) -> bool:
    """A chunk of the live version of its source. A record another process is deleting
    right now can come back from a query without its metadata or text: not live."""
    if meta is None or document is None:
        return False
    return active.get(str(meta.get("source_id"))) == meta.get("version")


def stored_passage(text: str, meta: dict[str, Any], similarity: float) -> Passage:
    """The Passage of a chunk record's text and metadata."""
    return Passage(
        chunk_id=str(meta.get("chunk_id")),
        source_id=str(meta.get("source_id")),
        text=text,
        section=str(meta.get("section", "")),
        score=similarity,
        metadata=dict(meta),
        similarity=similarity,
    )
