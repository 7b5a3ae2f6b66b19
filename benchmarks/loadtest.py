"""A small asyncio + httpx load test against /api/ask on loopback.

Usage: python -m benchmarks.loadtest --url http://127.0.0.1:7860 [--clients 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

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
        }


async def _client(
    http: httpx.AsyncClient,
    url: str,
    questions: Sequence[str],
    deadline: float,
    result: LoadResult,
    offset: int,
) -> None:
    for question in itertools.islice(itertools.cycle(questions), offset, None):
        if time.perf_counter() >= deadline:
            return
        start = time.perf_counter()
        try:
            response = await http.post(url, json={"question": question})
            if response.status_code == 200:
                result.latencies_ms.append((time.perf_counter() - start) * 1000)
            else:
                result.errors[f"HTTP {response.status_code}"] += 1
        except httpx.HTTPError as exc:
            result.errors[exc.__class__.__name__] += 1


async def run_load(
    base_url: str,
    clients: int = 50,
    seconds: float = 60.0,
    questions: Sequence[str] = DEFAULT_QUESTIONS,
    timeout: float = 120.0,
) -> LoadResult:
    result = LoadResult(clients=clients, seconds=seconds)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(
            *(
                _client(http, base_url.rstrip("/") + "/api/ask", questions, deadline, result, i)
                for i in range(clients)
            )
        )
        result.seconds = time.perf_counter() - start
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    result = asyncio.run(run_load(args.url, args.clients, args.seconds))
    for key, value in result.summary().items():
        print(f"{key:10s} {value}")
    for kind, count in result.errors.items():
        print(f"error {kind}: {count}")
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
