"""Embeddings of passages and of their sentences, computed once per passage text.

Composing an answer scores every sentence of the retrieved passages against the question;
embedding them on every question cost most of the answer time. Entries are keyed by the
chunk id and the text's hash, so a re-ingested (changed) passage is embedded afresh.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.embeddings import Embedder, Vectors
from bot.sentences import split_sentences
from bot.types import Passage

log = logging.getLogger(__name__)
_LIST_MARKER = ("- ", "* ", "• ")


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


class VectorCache:
    """Bounded, thread-safe LRU of per-passage sentence vectors."""

    def __init__(self, embedder: Embedder, max_passages: int = 5000) -> None:
        self._embedder = embedder
        self._max = max_passages
        self._entries: OrderedDict[str, PassageSentences] = OrderedDict()
        self._passages: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._entries)

    def save(self, path: Path, model_id: str) -> None:
        """Write every cached entry to ``path`` (.npz, no pickles) for the next start."""
        with self._lock:
            entries = list(self._entries.items())
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

    def load(self, path: Path, model_id: str) -> int:
        """Fill the cache from a snapshot written by ``save``; entries of other models or
        changed texts are simply never looked up. Returns the number of passages loaded."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["model"][0]) != model_id:
                    return 0
                keys, counts = data["keys"], data["counts"]
                sentences, vectors, passages = data["sentences"], data["vectors"], data["passages"]
        except (OSError, KeyError, ValueError) as exc:
            log.warning("sentence-vector cache %s not used (%s); it will be rebuilt", path, exc)
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
            self._entries.update(loaded)
        return len(loaded)

    def passage_vectors(self, passages: Sequence[Passage]) -> Vectors:
        """Whole-passage vectors only (cheaper than sentences when that is all that is needed)."""
        keys = [_key(p) for p in passages]
        with self._lock:
            known = {k: e.passage_vector for k in keys if (e := self._entries.get(k)) is not None}
            known |= {k: v for k in keys if (v := self._passages.get(k)) is not None}
        missing = [(k, p) for k, p in zip(keys, passages, strict=True) if k not in known]
        if missing:
            fresh = self._embedder.embed_documents([p.text for _, p in missing])
            with self._lock:
                for (key, _), vector in zip(missing, fresh, strict=True):
                    known[key] = vector
                    self._passages[key] = vector
                while len(self._passages) > self._max:
                    self._passages.popitem(last=False)
        return np.stack([known[k] for k in keys]) if keys else np.zeros((0, 1), np.float32)

    def get(self, passages: Sequence[Passage]) -> list[PassageSentences]:
        keys = [_key(p) for p in passages]
        with self._lock:
            missing = {k: p for k, p in zip(keys, passages, strict=True) if k not in self._entries}
        if missing:
            self._fill(missing)
        with self._lock:
            out = []
            for key in keys:
                entry = self._entries.get(key)
                if entry is None:  # evicted meanwhile by another thread: rebuild it
                    self._fill({key: passages[keys.index(key)]})
                    entry = self._entries[key]
                self._entries.move_to_end(key)
                out.append(entry)
            return out

    def _fill(self, missing: dict[str, Passage]) -> None:
        split = {k: tuple(_clean(s) for s in split_sentences(p.text)) for k, p in missing.items()}
        texts = [s for k in missing for s in split[k]] + [p.text for p in missing.values()]
        vectors = self._embedder.embed_documents(texts) if texts else np.zeros((0, 1), np.float32)
        n_sentences = sum(len(v) for v in split.values())
        offset = 0
        fresh = {}
        for i, (key, sentences) in enumerate(split.items()):
            fresh[key] = PassageSentences(
                sentences,
                vectors[offset : offset + len(sentences)],
                vectors[n_sentences + i],
            )
            offset += len(sentences)
        with self._lock:
            self._entries.update(fresh)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
