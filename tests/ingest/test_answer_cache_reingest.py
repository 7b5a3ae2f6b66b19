"""The answer cache on the real bot and store: a re-ingest makes the next answer fresh."""

from __future__ import annotations

import pytest

from bot.config import Settings


def test_real_bot_reuses_answers_until_a_reingest(
    settings: Settings, write_record, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot as painbot
    from ingest.index import ingest_paths

    path = write_record("a", {"Findings": "Ketamine infusions eased nerve pain for weeks."})
    ingest_paths(settings, [path.parent], embedder=embedder)
    engine = painbot.load(settings)
    cache = engine.answer_cache  # type: ignore[attr-defined]
    question = "Did ketamine infusions ease nerve pain?"
    first = engine.answer(question, id="x")
    assert first.citations and "weeks" in first.text
    assert engine.answer(question, id="y").text == first.text and cache.hits == 1

    write_record("a", {"Findings": "Ketamine infusions eased nerve pain for months."})
    ingest_paths(settings, [path.parent], embedder=embedder)
    monkeypatch.setattr(engine, "_checked", 0.0)  # let the bot look for the change now
    after = engine.answer(question)
    assert "months" in after.text and cache.hits == 1 and cache.misses == 2
    assert engine.answer(question).text == after.text and cache.hits == 2
