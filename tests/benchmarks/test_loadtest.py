"""The load-test client against a stand-in /api/ask on loopback (no model, a few seconds)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest
import uvicorn
from fastapi import FastAPI, HTTPException

from benchmarks.loadtest import LoadResult, run_load
from benchmarks.server import free_port


def _serve(app: FastAPI) -> tuple[uvicorn.Server, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


def _in_own_thread(run: Callable[[], LoadResult]) -> LoadResult:
    """Own thread: the session's Playwright fixture keeps an event loop running in this one."""
    box: list[LoadResult] = []
    runner = threading.Thread(target=lambda: box.append(run()))
    runner.start()
    runner.join(timeout=30)
    return box[0]


@pytest.mark.parametrize("client", ["aiohttp", "httpx"])
def test_load_counts_answers_and_errors(client: str) -> None:
    app = FastAPI()
    calls = {"n": 0}

    @app.post("/api/ask")
    async def ask(body: dict[str, str]) -> dict[str, object]:
        calls["n"] += 1
        if calls["n"] % 5 == 0:
            raise HTTPException(status_code=503, detail="busy")
        # Every other answer as the answer cache gives it (its timings name the cache).
        timings = {"total": 0.1, "cache": 0.1} if calls["n"] % 2 else {"total": 5.0}
        return {"verdict": "answered", "text": body["question"], "timings_ms": timings}

    server, url = _serve(app)
    try:
        result = _in_own_thread(
            lambda: asyncio.run(run_load(url, clients=4, seconds=1.0, client=client))
        )
    finally:
        server.should_exit = True
    summary = result.summary()
    assert summary["ok"] > 0
    assert result.errors["HTTP 503"] == calls["n"] // 5
    assert summary["p50"] <= summary["p95"] <= summary["p99"]
    odd_ok = sum(1 for n in range(1, calls["n"] + 1) if n % 2 and n % 5)
    assert 0 < summary["cached"] == odd_ok and summary["cached"] < summary["ok"]
    assert {"cached_p50", "cached_p95", "computed_p50", "computed_p95"} <= set(result.split())


def test_load_counts_a_refused_connection_as_an_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    result = _in_own_thread(lambda: asyncio.run(run_load(url, clients=2, seconds=0.3)))
    assert result.latencies_ms == [] and sum(result.errors.values()) > 0


def test_realistic_mix_is_mostly_the_top_20_and_otherwise_never_repeats() -> None:
    import itertools

    from benchmarks.loadtest import realistic_mix

    questions = [f"question {i}?" for i in range(60)]
    asked = list(itertools.islice(realistic_mix(questions), 5000))
    popular = [q for q in asked if q in questions[:20]]
    rest = [q for q in asked if q not in questions[:20]]
    assert 0.67 < len(popular) / len(asked) < 0.73
    assert len(set(rest)) == len(rest)  # each asked once: the answer cache cannot help them
    assert len(set(popular)) == 20
