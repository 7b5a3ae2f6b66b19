"""A small asyncio load test against /api/ask on loopback.

Usage: python -m benchmarks.loadtest --url http://127.0.0.1:7860 [--clients 50] [--seconds 60]
       [--mix]   (70% of requests from a top-20 list, 30% asked once: a clinic's busy day)
       [--client aiohttp|httpx]

The clients run on the same cores as the server, so their own CPU is taken from the server's.
aiohttp (the default) spends about 0.3 ms of CPU per request here; httpx spent about 2 ms,
more than the server's 0.7 ms for an answer from the cache (docs/benchmarks.md, issue 15).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx

from benchmarks.metrics import percentile

DEFAULT_QUESTIONS = (
    "What is ketamine?",
    "how does ketamine help chronic pain",
    "Can psilocybin treat pain?",
    "who should not get ketamine infusions?",
    "What is central sensitization?",
    "What's the weather in Phoenix tomorrow?",
)


PREFIXES = (
    "",
    "Quick question: ",
    "I was wondering, ",
    "My doctor mentioned this. ",
    "Can you tell me: ",
    "Sorry if this is silly, ",
    "For my mom: ",
    "Before my appointment, ",
)


def realistic_mix(
    questions: Sequence[str], top: int = 20, share: float = 0.7, seed: int = 15
) -> Iterator[str]:
    """An endless stream: ``share`` of requests are one of the ``top`` questions (patients
    asking the same few things), the rest worded as nobody asked before (never repeated)."""
    rng = random.Random(seed)
    popular = list(questions[:top])
    pool = list(questions)
    for n in itertools.count():
        if rng.random() < share:
            yield rng.choice(popular)
        else:
            prefix = PREFIXES[n % len(PREFIXES)]
            base = rng.choice(pool)
            yield f"{prefix}{base[:1].lower() if prefix else base[:1]}{base[1:]} (#{n})"


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    cached_ms: list[float] = field(default_factory=list)
    """Latencies of the answers served from the answer cache (their timings name "cache")."""

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + sum(self.errors.values())

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 1),
            "ok": len(self.latencies_ms),
            "errors": sum(self.errors.values()),
            "req_per_s": round(self.throughput, 2),
            "p50": percentile(self.latencies_ms, 50),
            "p95": percentile(self.latencies_ms, 95),
            "p99": percentile(self.latencies_ms, 99),
            "cached": len(self.cached_ms),
        }

    def split(self) -> dict[str, float]:
        """p50/p95 of the cached answers and of the computed ones, apart."""
        computed = _without(self.latencies_ms, self.cached_ms)
        out: dict[str, float] = {}
        for label, values in (("cached", self.cached_ms), ("computed", computed)):
            if values:
                out[f"{label}_p50"] = percentile(values, 50)
                out[f"{label}_p95"] = percentile(values, 95)
        return out


def _without(values: list[float], removed: list[float]) -> list[float]:
    left = Counter(removed)
    out = []
    for value in values:
        if left[value]:
            left[value] -= 1
        else:
            out.append(value)
    return out


async def _client(
    post: Callable[[str], Awaitable[tuple[int, dict[str, Any]]]],
    questions: Iterable[str],
    deadline: float,
    result: LoadResult,
) -> None:
    for question in questions:
        if time.perf_counter() >= deadline:
            return
        start = time.perf_counter()
        try:
            status, body = await post(question)
        except (TimeoutError, aiohttp.ClientError, httpx.HTTPError) as exc:
            result.errors[exc.__class__.__name__] += 1
            continue
        if status == 200:
            ms = (time.perf_counter() - start) * 1000
            result.latencies_ms.append(ms)
            if "cache" in (body.get("timings_ms") or {}):
                result.cached_ms.append(ms)
        else:
            result.errors[f"HTTP {status}"] += 1


def _json(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def run_load(
    base_url: str,
    clients: int = 50,
    seconds: float = 60.0,
    questions: Sequence[str] = DEFAULT_QUESTIONS,
    timeout: float = 120.0,
    mix: Iterator[str] | None = None,
    client: str = "aiohttp",
) -> LoadResult:
    """``clients`` clients asking in a loop: each cycles ``questions`` from its own offset, or
    all draw from one shared ``mix`` stream (see realistic_mix). ``client`` names the HTTP
    library the clients use (aiohttp, or httpx to compare)."""
    result = LoadResult(clients=clients, seconds=seconds)
    url = base_url.rstrip("/") + "/api/ask"
    streams: list[Iterable[str]] = [
        mix if mix is not None else itertools.islice(itertools.cycle(questions), i, None)
        for i in range(clients)
    ]
    async with _poster(client, url, clients, timeout) as post:
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(_client(post, s, deadline, result) for s in streams))
        result.seconds = time.perf_counter() - start
    return result


@contextlib.asynccontextmanager
async def _poster(
    client: str, url: str, clients: int, timeout: float
) -> AsyncIterator[Callable[[str], Awaitable[tuple[int, dict[str, Any]]]]]:
    """A function that posts one question and returns the status and the JSON body, over
    ``clients`` kept-alive connections."""
    if client == "aiohttp":
        connector = aiohttp.TCPConnector(limit=clients)
        limit = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=limit) as session:

            async def post_aiohttp(question: str) -> tuple[int, dict[str, Any]]:
                async with session.post(url, json={"question": question}) as response:
                    return response.status, _json(await response.text())

            yield post_aiohttp
    elif client == "httpx":
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:

            async def post_httpx(question: str) -> tuple[int, dict[str, Any]]:
                response = await http.post(url, json={"question": question})
                return response.status_code, _json(response.text)

            yield post_httpx
    else:
        raise ValueError(f"unknown load-test client {client!r}: use aiohttp or httpx")


def load_mix_questions() -> list[str]:
    """Our patient questions (eval/questions.jsonl), the first 20 being the popular ones."""
    from benchmarks.questions import QUESTIONS_FILE, load_questions

    return [q.question for q in load_questions(QUESTIONS_FILE) if not q.history]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--mix", action="store_true", help="70%% top-20 / 30%% unique questions")
    parser.add_argument("--client", choices=("aiohttp", "httpx"), default="aiohttp")
    args = parser.parse_args(argv)
    mix = realistic_mix(load_mix_questions()) if args.mix else None
    result = asyncio.run(
        run_load(args.url, args.clients, args.seconds, mix=mix, client=args.client)
    )
    for key, value in {**result.summary(), **result.split()}.items():
        print(f"{key:12s} {value}")
    for kind, count in result.errors.items():
        print(f"error {kind}: {count}")
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
