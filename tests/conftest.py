"""Shared fixtures: settings in a temp dir, the real embedding model, a real ingested corpus."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"
SHARED_DIR = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Fresh settings with an empty store and feedback DB under tmp_path."""
    return Settings(
        store_dir=tmp_path / "chroma",
        feedback_db=tmp_path / "feedback.sqlite3",
        cache_dir=tmp_path / "cache",
        corpus_dir=CORPUS_DIR,
        rate_limit=0,
    )


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real default embedding model, loaded once per test session."""
    from bot.embeddings import load_embedder

    return load_embedder(Settings())


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    """Settings whose store holds the real shipped corpus, ingested once per session.

    Treat it as read-only: tests that change a store build their own with `settings`.
    """
    from ingest.index import ingest_paths

    base = tmp_path_factory.mktemp("corpus-store")
    corpus_settings = Settings(
        store_dir=base / "chroma",
        feedback_db=base / "feedback.sqlite3",
        cache_dir=base / "cache",
        corpus_dir=CORPUS_DIR,
        rate_limit=0,
    )
    report = ingest_paths(corpus_settings, [CORPUS_DIR], embedder=embedder)
    assert not report.failed, report.failed
    yield corpus_settings


@pytest.fixture(scope="session")
def corpus_bot(corpus_settings: Settings):  # type: ignore[no-untyped-def]
    """The real bot over the real corpus, loaded once per session; no answer cache, so tests
    that change the bot (a scripted LLM, a failing step) and ask again see the change."""
    import bot

    return bot.load(corpus_settings.model_copy(update={"answer_cache": False}))
