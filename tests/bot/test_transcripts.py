"""Opt-in transcript log: written only when configured, pruned after the retention period."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bot.config import Settings
from bot.transcripts import TranscriptLog
from bot.types import Answer, Verdict


def _answer(question: str) -> Answer:
    return Answer(Verdict.ANSWERED, "text [1]", (), "disclaimer", id="a1", question=question)


def test_retention_drops_old_entries(tmp_path: Path) -> None:
    log = TranscriptLog(tmp_path / "t.jsonl", retention_days=30)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    log.record(_answer("old question"), now=start)
    log.record(_answer("newer question"), now=start + dt.timedelta(days=20))
    log.record(_answer("today"), now=start + dt.timedelta(days=40))
    questions = [json.loads(x)["question"] for x in log.path.read_text().splitlines()]
    assert questions == ["newer question", "today"]


def test_api_writes_transcript_only_when_turned_on(
    corpus_settings: Settings, corpus_bot: Any, tmp_path: Path
) -> None:
    import app as app_module

    path = tmp_path / "transcripts" / "log.jsonl"
    settings = corpus_settings.model_copy(
        update={"transcript_log": path, "feedback_db": tmp_path / "f.sqlite3"}
    )
    client = TestClient(app_module.build(settings, corpus_bot))
    assert (
        client.post("/api/ask", json={"question": "Is ketamine good for CRPS?"}).status_code == 200
    )
    entry = json.loads(path.read_text().splitlines()[-1])
    assert entry["question"] == "Is ketamine good for CRPS?" and entry["verdict"] == "answered"
    assert "pmid-29870458" in entry["sources"] and "ip" not in entry
