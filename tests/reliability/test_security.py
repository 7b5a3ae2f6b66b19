"""Security properties of the running app: headers everywhere, no admin surface, no stored
questions or IPs, and clean 503/429 answers with Retry-After under load."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from live_api import LiveApi

import app as app_module
from bot.config import Settings
from bot.types import Answer
from web.server import create_app

MARKER = "zqxw-private-marker"
QUESTIONS = [
    f"What are the side effects of ketamine? {MARKER}",
    f"I want to kill myself {MARKER}",
    f"How much ketamine should I take for my back? {MARKER}",
    f"What is the capital of France? {MARKER}",
]


@pytest.fixture(scope="module")
def full_app(api_settings: Settings, corpus_bot: Any) -> TestClient:
    """The whole app as served (Gradio page + widget + API)."""
    return TestClient(app_module.build(api_settings, corpus_bot), raise_server_exceptions=False)


ROUTES = [
    ("GET", "/"),
    ("GET", "/widget"),
    ("GET", "/widget.js"),
    ("GET", "/widget.css"),
    ("GET", "/api/health"),
    ("POST", "/api/ask"),
    ("POST", "/api/feedback"),
    ("GET", "/api/ask"),  # 405
    ("GET", "/no-such-page"),  # 404s
    ("GET", "/api/no-such-route"),
    ("GET", "/static/../../etc/passwd"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_security_headers_on_every_route(full_app: TestClient, method: str, path: str) -> None:
    body = {"question": "What is ketamine?"} if path == "/api/ask" else {}
    response = full_app.request(method, path, json=body if method == "POST" else None)
    assert response.status_code < 500, (path, response.status_code)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", path
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
    assert "frame-ancestors" in headers["content-security-policy"], path


@pytest.mark.parametrize(
    "path", ["/admin", "/ingest", "/api/ingest", "/api/admin", "/api/reload", "/api/feedback.csv"]
)
def test_no_admin_or_ingest_route(full_app: TestClient, path: str) -> None:
    for method in ("GET", "POST", "PUT", "DELETE"):
        response = full_app.request(method, path)
        assert response.status_code in (404, 405), (method, path, response.status_code)
    paths = {getattr(route, "path", "") for route in full_app.app.routes}  # type: ignore[attr-defined]
    assert not {p for p in paths if "admin" in p or "ingest" in p}


def test_feedback_rows_hold_no_ip_and_no_question(settings: Settings, corpus_bot: Any) -> None:
    client = TestClient(create_app(settings, corpus_bot))
    headers = {"X-Forwarded-For": "203.0.113.77", "User-Agent": f"agent-{MARKER}"}
    answer = client.post("/api/ask", json={"question": QUESTIONS[0]}, headers=headers).json()
    response = client.post(
        "/api/feedback",
        json={"answer_id": answer["id"] or "a1", "verdict": answer["verdict"], "rating": 1},
        headers=headers,
    )
    assert response.status_code == 200
    db = sqlite3.connect(settings.feedback_db)
    columns = [row[1] for row in db.execute("PRAGMA table_info(feedback)")]
    # sources: the ids of the cited sources (e.g. "article pmid-29870458"), not patient data
    assert columns == ["id", "answer_id", "verdict", "rating", "created_at", "sources"]
    dump = "\n".join(db.iterdump())
    for secret in ("203.0.113.77", "testclient", MARKER, "User-Agent"):
        assert secret not in dump


def test_questions_are_not_logged_or_written_by_default(
    settings: Settings, corpus_bot: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    assert settings.transcript_log is None
    client = TestClient(app_module.build(settings, corpus_bot), raise_server_exceptions=False)
    caplog.set_level(logging.INFO)  # what `python app.py` logs at
    for question in QUESTIONS:
        assert client.post("/api/ask", json={"question": question}).status_code == 200
        client.post("/api/ask", json={"question": question, "history": ["x" * 3000]})  # 422
        client.post("/api/ask", json={"question": question + "x" * 2000})  # too long: 422
    client.post("/api/feedback", json={"answer_id": MARKER, "rating": 5})
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert MARKER not in logged
    # No file anywhere under this test's folder (feedback DB included) holds the question.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path
    # Nor does the store the bot reads from.
    for path in Path(corpus_bot.settings.store_dir).rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path


class BlockingBot:
    """The real bot, but every answer waits until the test releases it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def answer(
        self, question: str, history: Sequence[str] = (), *, id: str | None = None
    ) -> Answer:
        self.entered.release()
        assert self.release.wait(30)
        return self.inner.answer(question, history, id=id)

    def stats(self) -> dict[str, Any]:
        return dict(self.inner.stats())


def test_full_queue_is_503_with_retry_after(settings: Settings, corpus_bot: Any) -> None:
    bot = BlockingBot(corpus_bot)
    app = create_app(settings.model_copy(update={"concurrency": 1, "queue_size": 1}), bot)
    with LiveApi(app) as live, ThreadPoolExecutor(4) as pool:

        def ask() -> httpx.Response:
            question = {"question": "What is ketamine?"}
            return httpx.post(f"{live.url}/api/ask", json=question, timeout=60)

        running = pool.submit(ask)
        assert bot.entered.acquire(timeout=30)  # one answer is being computed
        queued = pool.submit(ask)
        deadline = time.monotonic() + 10
        while app.state.gate._inside < 2:  # the second request is waiting in the queue
            assert time.monotonic() < deadline
            time.sleep(0.01)
        refused = ask()
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["Retry-After"]) > 0
        assert "try again" in refused.json()["error"]
        assert refused.headers["x-content-type-options"] == "nosniff"
        bot.release.set()
        assert running.result(60).status_code == 200
        assert queued.result(60).status_code == 200
        assert ask().status_code == 200  # the queue drained: served again


@pytest.mark.parametrize("path", ["/api/ask", "/api/feedback"])
def test_rate_limit_is_429_with_retry_after(settings: Settings, corpus_bot: Any, path: str) -> None:
    client = TestClient(create_app(settings.model_copy(update={"rate_limit": 3}), corpus_bot))
    body = (
        {"question": "What is ketamine?"} if path == "/api/ask" else {"answer_id": "a", "rating": 1}
    )
    codes = [client.post(path, json=body).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.post(path, json=body)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"]
    assert limited.headers["x-content-type-options"] == "nosniff"
