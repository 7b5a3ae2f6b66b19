"""Fixtures for the write side: a counting wrapper around the real embedder, record writers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.embeddings import Embedder, Vectors

INGEST_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.texts = 0
        self.calls = 0
        self.seen: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if texts:
            self.calls += 1
            self.texts += len(texts)
            self.seen += texts
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self._inner.embed_query(text)


def embedded_passage_texts(counting: CountingEmbedder, store: Any) -> set[str]:
    """Passage texts and sentences among what ``counting`` embedded (questions, and the crisis
    router's pieces of them, are not)."""
    from bot.vector_cache import sentences_of

    passages = store.all_passages()
    known = {p.text for p in passages} | {s for p in passages for s in sentences_of(p.text)}
    return known & set(counting.seen)


@pytest.fixture
def counting(embedder: Embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


RecordWriter = Callable[..., Path]


def record_text(source_id: str, sections: dict[str, str], **front: object) -> str:
    lines = ["---", f"id: {source_id}", "kind: reference", f"title: Title of {source_id}"]
    lines += [f"{key}: {value}" for key, value in front.items()]
    lines.append("---")
    for title, body in sections.items():
        lines += ["", f"## {title}", "", body]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_record(tmp_path: Path) -> RecordWriter:
    """Write a Markdown corpus record into tmp_path/docs and return its path."""
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)

    def write(source_id: str, sections: dict[str, str] | None = None, **front: object) -> Path:
        path = folder / f"{source_id}.md"
        body = sections or {"Summary": f"This is the record {source_id}. It talks about ketamine."}
        path.write_text(record_text(source_id, body, **front), encoding="utf-8")
        return path

    return write
