"""The JSON API against the real app: answers, health, feedback, bad input, limits, headers."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

import app as app_module
from bot.config import Settings
from bot.feedback import COUNT_FLUSH_S, FeedbackStore


@pytest.fixture
def client(settings: Settings, app_bot: Any) -> TestClient:
    return TestClient(app_module.build(settings, app_bot))


def test_ask_returns_answer_json(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "What is ketamine?", "history": []})
    assert r.status_code == 200
    data = r.json()
    assert data["verdict"] == "answered" and "[1]" in data["text"]
    assert data["disclaimer"] and data["citations"][0]["passage"]


@pytest.mark.parametrize(
    "body",
    [
        {"question": ""},
        {"question": "x" * 2001},
        {"question": 5},
        {"history": []},
        {"question": "ok", "history": "nope"},
        [1, 2],
    ],
)
def test_bad_json_input_is_4xx(client: TestClient, body: Any) -> None:
    r = client.post("/api/ask", json=body)
    assert r.status_code == 422 and "error" in r.json()


def test_non_json_body_is_4xx(client: TestClient) -> None:
    r = client.post(
        "/api/ask", content=b"\xff not json", headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500 and "error" in r.json()


def test_health(client: TestClient) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["chunks"] > 0 and r.json()["documents"] > 0


def test_feedback_stored_without_question(client: TestClient, settings: Settings, tmp_path) -> None:
    assert client.post("/api/feedback", json={"answer_id": "abc", "rating": -1}).status_code == 200
    assert client.post("/api/feedback", json={"answer_id": "abc", "rating": 3}).status_code == 422
    rows = (
        sqlite3.connect(settings.feedback_db)
        .execute("SELECT answer_id, rating FROM feedback")
        .fetchall()
    )
    assert rows == [("abc", -1)]
    assert FeedbackStore(settings.feedback_db).export_csv(tmp_path / "f.csv") == 1
    assert (tmp_path / "f.csv").read_text().splitlines()[0] == "answer_id,verdict,rating,created_at"


def test_rate_limit_429_with_retry_after(settings: Settings, app_bot: Any) -> None:
    client = TestClient(app_module.build(settings.model_copy(update={"rate_limit": 2}), app_bot))
    codes = [client.post("/api/ask", json={"question": "hi"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = client.post("/api/ask", json={"question": "hi"})
    assert int(r.headers["Retry-After"]) >= 1


def test_forwarded_for_trusted_only_behind_proxy(settings: Settings, app_bot: Any) -> None:
    for behind, expected in [(False, [200, 429]), (True, [200, 200])]:
        s = settings.model_copy(update={"rate_limit": 1, "behind_proxy": behind})
        client = TestClient(app_module.build(s, app_bot))
        codes = [
            client.post(
                "/api/ask", json={"question": "hi"}, headers={"X-Forwarded-For": f"10.0.0.{i}"}
            ).status_code
            for i in range(2)
        ]
        assert codes == expected


def test_busy_gives_503_with_retry_after(client: TestClient, monkeypatch) -> None:
    from web.ratelimit import Busy, ConcurrencyGate

    async def full(self: ConcurrencyGate) -> None:
        raise Busy

    monkeypatch.setattr(ConcurrencyGate, "__aenter__", full)
    r = client.post("/api/ask", json={"question": "hi"})
    assert r.status_code == 503 and r.headers["Retry-After"] and "try again" in r.json()["error"]


def test_security_headers(settings: Settings, app_bot: Any) -> None:
    s = settings.model_copy(update={"allowed_origins": ["https://clinic.example"]})
    client = TestClient(app_module.build(s, app_bot))
    widget = client.get("/widget")
    assert (
        widget.headers["content-security-policy"] == "frame-ancestors 'self' https://clinic.example"
    )
    assert "x-frame-options" not in widget.headers
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/widget.js").headers["content-type"].startswith("text/javascript")


def test_store_missing_is_clear_not_traceback(settings: Settings) -> None:
    client = TestClient(app_module.build(settings, None, "Run `python -m ingest` first."))
    r = client.post("/api/ask", json={"question": "hi"})
    assert r.status_code == 503 and "ingest" in r.json()["error"]
    assert client.get("/").status_code == 200
    assert client.get("/docs").status_code == 200


def test_feedback_export_command(settings: Settings, tmp_path, monkeypatch) -> None:
    from bot.feedback import main

    FeedbackStore(settings.feedback_db).record("id1", "answered", 1)
    monkeypatch.setenv("PAINBOT_FEEDBACK_DB", str(settings.feedback_db))
    assert main(["--export", str(tmp_path / "out.csv")]) == 0
    assert (tmp_path / "out.csv").read_text().splitlines()[1].startswith("id1,answered,1,")


def test_root_path_behind_proxy(settings: Settings, app_bot: Any) -> None:
    s = settings.model_copy(update={"root_path": "/painbot", "behind_proxy": True})
    client = TestClient(app_module.build(s, app_bot))
    page = client.get(
        "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "clinic.example"}
    )
    assert page.status_code == 200 and "/painbot" in page.text
    assert client.get("/api/health").status_code == 200
    assert client.get("/widget").headers["content-security-policy"].startswith("frame-ancestors")


def test_feedback_keeps_cited_sources_and_answers_are_counted(
    client: TestClient, settings: Settings
) -> None:
    answer = client.post("/api/ask", json={"question": "What is ketamine?"}).json()
    sources = [c["source_id"] for c in answer["citations"]]
    body = {"answer_id": "a9", "verdict": "answered", "rating": 1, "sources": sources}
    assert client.post("/api/feedback", json=body).status_code == 200
    too_many = {**body, "sources": ["x"] * 21}
    assert client.post("/api/feedback", json=too_many).status_code == 422
    with sqlite3.connect(settings.feedback_db) as db:
        stored = db.execute("SELECT sources FROM feedback").fetchone()[0]
        assert stored.split() == list(dict.fromkeys(sources))  # each source once
    # Answer counts are written within a second (bot.feedback.COUNT_FLUSH_S), not per answer.
    deadline = time.monotonic() + 10 * COUNT_FLUSH_S
    counted: list[tuple[str, int]] = []
    while not counted and time.monotonic() < deadline:
        time.sleep(0.1)
        with sqlite3.connect(settings.feedback_db) as db:
            counted = db.execute("SELECT verdict, n FROM answers").fetchall()
    assert counted == [("answered", 1)]


def test_widget_page_carries_clinic_details_as_inert_json(settings: Settings) -> None:
    import json
    import re

    hostile = "</script><script>window.__pwned=1</script>"
    s = settings.model_copy(update={"clinic_name": hostile, "clinic_phone": "555-0100"})
    page = TestClient(app_module.build(s, None)).get("/widget").text
    assert hostile not in page
    block = re.search(r'<script id="pb-config" type="application/json">(.*?)</script>', page)
    assert block is not None
    config = json.loads(block.group(1))
    assert config["clinic"]["contact"] == f"You can call {hostile} at 555-0100."
    assert config["notice"] == "" and "not a person" in config["ai_disclosure"]


def test_a_repeated_question_is_answered_without_waiting_for_a_slot(
    corpus_settings: Settings, monkeypatch
) -> None:
    import bot as painbot
    from web.ratelimit import Busy, ConcurrencyGate
    from web.server import create_app

    loaded = painbot.load(corpus_settings)  # the answer cache is on by default
    client = TestClient(create_app(corpus_settings, loaded))
    question = {"question": "Does ketamine help CRPS?", "id": "first"}
    first = client.post("/api/ask", json=question)
    assert first.status_code == 200

    async def full(self: ConcurrencyGate) -> None:
        raise Busy

    monkeypatch.setattr(ConcurrencyGate, "__aenter__", full)
    again = client.post("/api/ask", json={**question, "id": "second"})
    assert again.status_code == 200
    assert again.json()["text"] == first.json()["text"] and again.json()["id"] == "second"
    new = client.post("/api/ask", json={"question": "What is central sensitization?"})
    assert new.status_code == 503
