"""Prometheus metrics for /metrics: requests, latency by route and verdict, rate-limited and
queue-full replies, answer cache hits and misses. Summed over worker processes when
PROMETHEUS_MULTIPROC_DIR is set."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Routes named by their path; everything else (Gradio's files and queue) is grouped.
ROUTES = frozenset(
    {"/", "/api/ask", "/api/feedback", "/api/health", "/api/ready", "/metrics"}
    | {"/widget", "/widget.js", "/widget.css", "/docs", "/openapi.json"}
)
PAGE_JOIN = "/gradio_api/queue/join"
"""Where the chat page puts a question in Gradio's queue (503 there = queue full)."""
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def prepare_multiprocess_dir(folder: Path | None) -> Path:
    """Point prometheus-client at an empty folder shared by the worker processes.

    Call it before any worker imports prometheus_client: the library picks its mode then."""
    path = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="painbot-metrics-"))
    if path.exists():
        shutil.rmtree(path)  # counts of an earlier run would be added to this one's
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def route_label(path: str) -> str:
    if path in ROUTES or path == PAGE_JOIN:
        return path
    return "/gradio_api" if path.startswith("/gradio_api/") else "other"


class Metrics:
    """This app's metrics. Without the multiprocess folder they live in a private registry."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess = MULTIPROC_ENV in os.environ
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "painbot_http_requests",
            "HTTP requests by route, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "painbot_http_errors",
            "Replies with a 4xx or 5xx status, by route and class.",
            ["route", "kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "painbot_http_request_duration_seconds",
            "Time to the end of the reply, by route and answer verdict (empty when none).",
            ["route", "verdict"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.answers = Histogram(
            "painbot_answer_duration_seconds",
            "Time to compute an answer, by where it was asked and its verdict.",
            ["channel", "verdict"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "painbot_rate_limited", "Requests refused with 429 (too fast).", registry=self.registry
        )
        self.cache_hits = Counter(
            "painbot_answer_cache_hits",
            "Questions answered from the answer cache (the same question asked before).",
            registry=self.registry,
        )
        self.cache_misses = Counter(
            "painbot_answer_cache_misses",
            "Questions the answer cache did not hold, so the bot computed the answer "
            "(hit rate = hits / (hits + misses)).",
            registry=self.registry,
        )
        self.queue_full = Counter(
            "painbot_queue_full",
            "Questions refused because every answer slot and queue place was taken.",
            ["channel"],
            registry=self.registry,
        )

    def count_cache(self, hit: bool) -> None:
        """One question looked up in the answer cache (bot/answer_cache.py)."""
        (self.cache_hits if hit else self.cache_misses).inc()

    def observe_answer(self, channel: str, verdict: str, seconds: float) -> None:
        self.answers.labels(channel, verdict).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text format for a scrape: every worker's values summed in multiprocess mode."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if not self.multiprocess:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts every HTTP request and times it; reads the verdict an endpoint left in state."""

    def __init__(self, app: ASGIApp, metrics: Metrics, root_path: str = "") -> None:
        self.app = app
        self.metrics = metrics
        self.root_path = root_path.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if self.root_path and path.startswith(self.root_path + "/"):
            path = path[len(self.root_path) :]
        route = route_label(path)
        status = 500
        start = time.perf_counter()
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            state: dict[str, Any] = scope.get("state") or {}
            verdict = str(state.get("verdict", ""))
            m = self.metrics
            m.requests.labels(route, scope.get("method", ""), str(status)).inc()
            m.latency.labels(route, verdict).observe(time.perf_counter() - start)
            if status >= 400:
                m.errors.labels(route, "4xx" if status < 500 else "5xx").inc()
            if status == 429:
                m.rate_limited.inc()
            if status == 503 and route == PAGE_JOIN:
                m.queue_full.labels("page").inc()

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()  # before the last byte leaves: a client that has its reply sees it
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            record()  # no reply was sent (an error): counted as it stands
