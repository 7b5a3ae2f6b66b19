"""Operations: /api/health (alive) apart from /api/ready (answering), Prometheus /metrics in
one process and summed over two worker processes, JSON logs."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import free_port
from fastapi.testclient import TestClient

import app as app_module
from bot.config import Settings
from web.logs import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})? ([0-9.e+-]+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


def test_health_is_alive_and_ready_means_answering(settings: Settings, app_bot: Any) -> None:
    missing = TestClient(app_module.build(settings, None, "Run `python -m ingest` first."))
    assert missing.get("/api/health").status_code == 200
    assert missing.get("/api/health").json()["status"] == "store missing"
    r = missing.get("/api/ready")
    assert r.status_code == 503 and "ingest" in r.json()["error"] and r.headers["retry-after"]
    client = TestClient(app_module.build(settings, app_bot))
    ready = client.get("/api/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["chunks"] > 0
    health = client.get("/api/health").json()
    # Every shipped source has a review date; which are overdue depends on today's date.
    assert health["status"] == "ok" and health["reviews"]["unreviewed"] == 0
    assert isinstance(health["reviews"]["overdue"], list)


def test_metrics_count_routes_verdicts_errors_and_rate_limits(
    settings: Settings, app_bot: Any
) -> None:
    client = TestClient(app_module.build(settings.model_copy(update={"rate_limit": 2}), app_bot))
    assert client.post("/api/ask", json={"question": "What is ketamine?"}).status_code == 200
    assert (
        client.post("/api/ask", json={"question": "Is it safe to fix my car?"}).status_code == 200
    )
    assert client.post("/api/ask", json={"question": ""}).status_code == 422
    assert client.post("/api/ask", json={"question": "What is ketamine?"}).status_code == 429
    scrape = client.get("/metrics")
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    requests = "painbot_http_requests_total"
    assert sample(text, requests, route="/api/ask", status="200") == 2
    assert sample(text, requests, route="/api/ask", status="422") == 1
    assert sample(text, "painbot_http_errors_total", route="/api/ask", kind="4xx") == 2
    assert sample(text, "painbot_rate_limited_total") == 1
    latency = "painbot_http_request_duration_seconds_count"
    assert sample(text, latency, route="/api/ask", verdict="answered") == 1
    assert sample(text, latency, route="/api/ask", verdict="") == 2  # 422 and 429
    answers = "painbot_answer_duration_seconds_count"
    assert sample(text, answers, channel="api") == 2
    assert sample(text, answers, channel="api", verdict="answered") == 1


def test_busy_api_is_counted_as_queue_full(
    settings: Settings, app_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web.ratelimit import Busy, ConcurrencyGate

    async def refuse(self: Any) -> None:
        raise Busy

    monkeypatch.setattr(ConcurrencyGate, "__aenter__", refuse)
    client = TestClient(app_module.build(settings, app_bot))
    assert client.post("/api/ask", json={"question": "What is ketamine?"}).status_code == 503
    text = client.get("/metrics").text
    assert sample(text, "painbot_queue_full_total", channel="api") == 1
    assert sample(text, "painbot_http_errors_total", route="/api/ask", kind="5xx") == 1


def test_json_logs_are_one_object_per_line() -> None:
    record = logging.LogRecord(
        "painbot.app", logging.WARNING, __file__, 1, "store %s", ("x",), None
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "WARNING" and entry["message"] == "store x"
    assert entry["logger"] == "painbot.app" and entry["time"].endswith("+00:00")


def per_worker_counts(folder: Path, tmp: Path) -> list[float]:
    """Each worker's count of answered /api/ask requests, read from its own metrics file."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    counts = []
    for index, db in enumerate(sorted(folder.glob("counter_*.db"))):
        alone = tmp / f"worker-{index}"
        alone.mkdir(parents=True)
        shutil.copy(db, alone / db.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        text = generate_latest(registry).decode()
        counts.append(sample(text, "painbot_http_requests_total", route="/api/ask", status="200"))
    return counts


@pytest.mark.timeout(300)
def test_metrics_are_summed_over_two_worker_processes(
    corpus_settings: Settings, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    shutil.copytree(corpus_settings.store_dir, store)
    if corpus_settings.cache_dir.exists():  # the sentence vectors: a faster start
        shutil.copytree(corpus_settings.cache_dir, tmp_path / "cache")
    metrics_dir = tmp_path / "metrics"
    port = free_port()
    env = {
        **os.environ,
        "PAINBOT_WORKERS": "2",
        "PAINBOT_PORT": str(port),
        "PAINBOT_STORE_DIR": str(store),
        "PAINBOT_CACHE_DIR": str(tmp_path / "cache"),
        "PAINBOT_METRICS_DIR": str(metrics_dir),
        "PAINBOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
        "PAINBOT_RATE_LIMIT": "0",
        "PAINBOT_JSON_LOGS": "true",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        # Both workers are up once each has built its app (and so its metrics file).
        while len(list(metrics_dir.glob("counter_*.db"))) < 2 or not _ready(url):
            assert proc.poll() is None, (tmp_path / "app.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the two workers did not start"
            time.sleep(0.5)

        def ask(_: int) -> int:
            # A new connection each time, so the kernel hands them to either worker.
            body = {"question": "What are the side effects of ketamine?"}
            with httpx.Client(timeout=60) as client:
                return client.post(f"{url}/api/ask", json=body).status_code

        sent = 0
        with ThreadPoolExecutor(8) as pool:
            for _ in range(6):
                assert set(pool.map(ask, range(16))) == {200}
                sent += 16
                counts = per_worker_counts(metrics_dir, tmp_path / f"split-{sent}")
                if len(counts) == 2 and min(counts) > 0:
                    break
        assert len(counts) == 2 and min(counts) > 0, f"one worker answered all: {counts}"
        assert sum(counts) == sent
        for _ in range(4):  # whichever worker serves the scrape, it reports both
            text = httpx.get(f"{url}/metrics", timeout=30).text
            assert sample(text, "painbot_http_requests_total", route="/api/ask") == sent
            answered = sample(
                text, "painbot_answer_duration_seconds_count", channel="api", verdict="answered"
            )
            assert answered == sent
        lines = [line for line in (tmp_path / "app.log").read_text().splitlines() if line]
        assert lines and all(json.loads(line)["level"] for line in lines if line.startswith("{"))
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_metrics_count_answer_cache_hits_and_misses_once_per_question(
    corpus_settings: Settings,
) -> None:
    import bot as painbot

    loaded = painbot.load(corpus_settings)  # the answer cache is on by default
    client = TestClient(app_module.build(corpus_settings, loaded))
    for question in ("What is ketamine?", "What is ketamine?", "What is psilocybin?"):
        assert client.post("/api/ask", json={"question": question}).status_code == 200
    text = client.get("/metrics").text
    assert sample(text, "painbot_answer_cache_hits_total") == 1
    assert sample(text, "painbot_answer_cache_misses_total") == 2
    assert loaded.answer_cache.stats()["hit_rate"] == round(1 / 3, 4)
