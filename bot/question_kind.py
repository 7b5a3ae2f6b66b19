"""What kind of question was asked (what is / does it work / is it safe / is it true ...).

Nearest examples over the shipped embedding model: `corpus/question_kinds.toml` holds example
wordings of each kind; a question gets the kinds whose nearest example is within `MARGIN` of
its best match, if that match clears `MIN_SIMILARITY`. Answers use the kinds to prefer the
sentences written for them; nothing here is about one question.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.embeddings import Embedder, Vectors
from bot.errors import ConfigurationError

KINDS_FILE = "question_kinds.toml"
MIN_SIMILARITY = 0.45
MARGIN = 0.06


@dataclass(frozen=True)
class KindClassifier:
    names: tuple[str, ...]
    """The kind of each example row of ``vectors``."""
    vectors: Vectors

    @classmethod
    def load(cls, corpus_dir: Path, embedder: Embedder) -> KindClassifier:
        path = corpus_dir / KINDS_FILE
        if not path.exists():
            return cls((), np.zeros((0, 1), dtype=np.float32))
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"{path}: cannot be read ({exc}); fix the file.") from exc
        names: list[str] = []
        examples: list[str] = []
        for kind, table in data.get("kinds", {}).items():
            for example in table.get("examples", []):
                names.append(kind)
                examples.append(str(example))
        vectors = (
            embedder.embed_documents(examples) if examples else np.zeros((0, 1), dtype=np.float32)
        )
        return cls(tuple(names), vectors)

    def similarity(self, question_vector: Vectors, kind: str) -> float:
        """Cosine similarity of the question to the nearest example of ``kind`` (0 when the
        file has no example of it)."""
        rows = [i for i, name in enumerate(self.names) if name == kind]
        if not rows:
            return 0.0
        return float((self.vectors[rows] @ question_vector.reshape(-1)).max())

    def kinds(self, question_vector: Vectors) -> tuple[str, ...]:
        """The question's kinds, best first (none when no example is close)."""
        if not self.names:
            return ()
        sims = self.vectors @ question_vector.reshape(-1)
        best: dict[str, float] = {}
        for name, sim in zip(self.names, sims, strict=True):
            best[name] = max(best.get(name, -1.0), float(sim))
        top = max(best.values())
        if top < MIN_SIMILARITY:
            return ()
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
        return tuple(name for name, sim in ranked if sim >= top - MARGIN)


__all__ = ["KindClassifier"]
