"""An embedder that remembers the vectors of fixed texts (plain sentences, the clauses the
plain check compares, question-kind examples) in one file under the cache folder, so ingest
embeds them once and a bot load reads them instead of embedding them again."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.embeddings import Embedder, Vectors

log = logging.getLogger(__name__)
CACHE_NAME = "text-vectors.npz"


class RememberingEmbedder:
    """``embedder`` with its document vectors kept by text (per model) in ``path``."""

    def __init__(self, embedder: Embedder, path: Path) -> None:
        self.embedder = embedder
        self.model_id = embedder.model_id
        self.dimension = embedder.dimension
        self.path = path
        self.known: dict[str, Vectors] = {}
        self._changed = False
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["model_id"]) == self.model_id:
                    texts = [str(t) for t in data["texts"]]
                    self.known = dict(zip(texts, data["vectors"], strict=True))
        except (OSError, KeyError, ValueError) as exc:
            if path.exists():
                log.info("text vectors at %s not used (%s); they will be made again", path, exc)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        missing = list(dict.fromkeys(t for t in texts if t not in self.known))
        if missing:
            made = self.embedder.embed_documents(missing)
            self.known.update(zip(missing, made, strict=True))
            self._changed = True
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.known[t] for t in texts]).astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self.embedder.embed_query(text)

    def save(self) -> None:
        """Write the vectors if new ones were made (a failure only costs embedding again)."""
        if not self._changed:
            return
        texts = list(self.known)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    model_id=np.array(self.model_id),
                    texts=np.array(texts, dtype=str),
                    vectors=np.stack([self.known[t] for t in texts]).astype(np.float32),
                )
            os.replace(tmp, self.path)
            self._changed = False
        except OSError as exc:
            log.warning("could not save %s: %s", self.path, exc)


__all__ = ["CACHE_NAME", "RememberingEmbedder"]
