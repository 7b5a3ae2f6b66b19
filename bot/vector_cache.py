"""Sentence vectors of passages for the reranker, the evidence check and the composer.

Ingest stores them with each chunk (bot/store.py, ``C__sentences``), so an answer only reads
them: from memory, else from the store. A store made before that lacks them; its passages'
vectors are made once when the bot loads (kept in a snapshot under the cache folder, so the
next start is quick) and `python -m ingest` stores them for good.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.embeddings import Embedder, Vectors
from bot.sentences import split_sentences
from bot.store import StoredSentences, record_id
from bot.types import Passage

log = logging.getLogger(__name__)
_LIST_MARKER = ("- ", "* ", "• ")
PRELOAD_PAGE = 500
"""Passages whose stored sentence vectors are read in one store call at load (about 20 KB
each)."""


@dataclass(frozen=True)
class PassageSentences:
    sentences: tuple[str, ...]
    """Verbatim sentences of the passage, list markers removed."""
    vectors: Vectors
    """One unit-length row per sentence."""
    passage_vector: Vectors


def _key(passage: Passage) -> str:
    digest = hashlib.blake2b(passage.text.encode("utf-8", "replace"), digest_size=8).hexdigest()
    return f"{passage.chunk_id}#{digest}"


def _clean(sentence: str) -> str:
    for marker in _LIST_MARKER:
        if sentence.startswith(marker):
            return sentence[len(marker) :].strip()
    return sentence


def sentences_of(text: str) -> tuple[str, ...]:
    """The sentences of a passage whose vectors are stored, in stored order."""
    return tuple(_clean(s) for s in split_sentences(text))


def embed_sentences(
    embedder: Embedder, texts: Sequence[str], passages: Vectors | None = None
) -> list[StoredSentences]:
    """Vectors of each text's sentences (one embedding per distinct sentence: chunks overlap),
    with ``passages`` as the texts' own vectors (embedded here when not given)."""
    if not texts:
        return []
    split = [sentences_of(text) for text in texts]
    unique = list(dict.fromkeys(s for sentences in split for s in sentences))
    vectors = embedder.embed_documents(unique + (list(texts) if passages is None else []))
    if passages is None:
        passages = vectors[len(unique) :]
    row = {sentence: i for i, sentence in enumerate(unique)}
    dimension = passages.shape[-1]
    out = []
    for i, sentences in enumerate(split):
        rows = [row[s] for s in sentences]
        matrix = vectors[rows] if rows else np.zeros((0, dimension), np.float32)
        out.append(StoredSentences(np.asarray(passages[i], dtype=np.float32), matrix))
    return out


class VectorCache:
    """Bounded, thread-safe LRU of per-passage sentence vectors read from the store.

    Passages the store has no vectors for (an old store) are embedded once at load and pinned;
    ``embedded_at_query`` counts passages that had to be embedded while answering (0 unless
    the store changed under a running bot and ingest did not store vectors).
    """

    def __init__(self, embedder: Embedder, store: Any, max_passages: int) -> None:
        self._embedder = embedder
        self._store = store
        self._max = max_passages
        self._entries: OrderedDict[str, PassageSentences] = OrderedDict()
        self._pinned: dict[str, PassageSentences] = {}
        self._lock = threading.RLock()
        self.embedded_at_query = 0

    def __len__(self) -> int:
        return len(self._entries) + len(self._pinned)

    # --- loading --------------------------------------------------------------------------
    def prepare(self, passages: Sequence[Passage], snapshot: Path, model_id: str) -> None:
        """At load: read stored vectors into memory (as many as the cache holds), and make
        those the store lacks."""
        stored = self._store.sentence_ids() if self._store is not None else set()
        lacking = [p for p in passages if record_id(p) not in stored]
        self._preload([p for p in passages if record_id(p) in stored][: self._max])
        if not lacking:
            return
        log.warning(
            "%d of %d passages have no stored sentence vectors (a store made before they were "
            "stored); making them now. Run `python -m ingest` once to store them.",
            len(lacking),
            len(passages),
        )
        if snapshot.exists():
            self._load_snapshot(snapshot, model_id)
        missing = {k: p for p in lacking if (k := _key(p)) not in self._pinned}
        if missing:
            self._pinned.update(self._embed(missing))
            try:
                self._save_snapshot(snapshot, model_id)
            except OSError as exc:  # a read-only disk only costs start-up time
                log.warning("could not save %s: %s", snapshot, exc)

    def _preload(self, passages: Sequence[Passage]) -> None:
        """Read these passages' stored vectors into the cache, a page at a time; on a large
        store this saves each answer a store read of its passages (most of its time)."""
        started = time.perf_counter()
        for start in range(0, len(passages), PRELOAD_PAGE):
            self.get(passages[start : start + PRELOAD_PAGE])
        if len(passages) > PRELOAD_PAGE:
            log.info(
                "sentence vectors of %d passages read into memory in %.1f s",
                len(passages),
                time.perf_counter() - started,
            )

    def _save_snapshot(self, path: Path, model_id: str) -> None:
        """Write the pinned (made at load) entries to ``path`` (.npz, no pickles)."""
        with self._lock:
            entries = list(self._pinned.items())
        if not entries:
            return
        keys = [key for key, _ in entries]
        sentences = [s for _, e in entries for s in e.sentences]
        counts = [len(e.sentences) for _, e in entries]
        dim = entries[0][1].passage_vector.shape[-1]
        vectors = [e.vectors for _, e in entries if len(e.sentences)]
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part.npz")
        np.savez(
            partial,
            model=np.array([model_id]),
            keys=np.array(keys),
            counts=np.array(counts, dtype=np.int64),
            sentences=np.array(sentences if sentences else [""]),
            vectors=np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32),
            passages=np.stack([e.passage_vector for _, e in entries]),
        )
        partial.replace(path)

    def _load_snapshot(self, path: Path, model_id: str) -> int:
        """Pin the entries of a snapshot; entries of other models or changed texts are never
        looked up. Returns the number of passages loaded."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["model"][0]) != model_id:
                    return 0
                keys, counts = data["keys"], data["counts"]
                sentences, vectors, passages = data["sentences"], data["vectors"], data["passages"]
        except (OSError, KeyError, ValueError) as exc:
            log.warning("sentence-vector snapshot %s not used (%s); it will be rebuilt", path, exc)
            return 0
        offset = 0
        loaded = {}
        for i, (key, count) in enumerate(zip(keys, counts, strict=True)):
            n = int(count)
            loaded[str(key)] = PassageSentences(
                tuple(str(s) for s in sentences[offset : offset + n]),
                vectors[offset : offset + n].astype(np.float32),
                passages[i].astype(np.float32),
            )
            offset += n
        with self._lock:
            self._pinned.update(loaded)
        return len(loaded)

    # --- reading --------------------------------------------------------------------------
    def passage_vectors(self, passages: Sequence[Passage]) -> Vectors:
        """Vectors of the passages' texts alone."""
        if not passages:
            return np.zeros((0, 1), np.float32)
        return np.stack([e.passage_vector for e in self.get(passages)])

    def get(self, passages: Sequence[Passage]) -> list[PassageSentences]:
        keys = [_key(p) for p in passages]
        found: dict[str, PassageSentences] = {}
        with self._lock:
            for key in keys:
                entry = self._pinned.get(key) or self._entries.get(key)
                if entry is not None:
                    found[key] = entry
        missing = {k: p for k, p in zip(keys, passages, strict=True) if k not in found}
        if missing:
            fresh = self._read(missing)
            lacking = {k: p for k, p in missing.items() if k not in fresh}
            if lacking:
                log.debug("embedding %d passages' sentences while answering", len(lacking))
                self.embedded_at_query += len(lacking)
                fresh.update(self._embed(lacking))
            found.update(fresh)
            with self._lock:
                self._entries.update(fresh)
        with self._lock:
            for key in keys:
                if key in self._entries:
                    self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return [found[key] for key in keys]

    def _read(self, missing: dict[str, Passage]) -> dict[str, PassageSentences]:
        """Entries from the store; one whose sentence count no longer matches is left out."""
        if self._store is None:
            return {}
        ids = {key: record_id(p) for key, p in missing.items()}
        stored = self._store.sentence_vectors(list(ids.values()))
        out = {}
        for key, passage in missing.items():
            value = stored.get(ids[key])
            if value is None:
                continue
            sentences = sentences_of(passage.text)
            if len(sentences) != len(value.sentences):
                log.warning("stored sentence vectors of %s do not match its text", ids[key])
                continue
            out[key] = PassageSentences(sentences, value.sentences, value.passage)
        return out

    def _embed(self, missing: dict[str, Passage]) -> dict[str, PassageSentences]:
        # As ingest does: the chunk's stored vector is the passage's own.
        chunk_vectors = (
            self._store.chunk_vectors([record_id(p) for p in missing.values()])
            if self._store is not None
            else None
        )
        made = embed_sentences(self._embedder, [p.text for p in missing.values()], chunk_vectors)
        return {
            key: PassageSentences(sentences_of(p.text), value.sentences, value.passage)
            for (key, p), value in zip(missing.items(), made, strict=True)
        }
