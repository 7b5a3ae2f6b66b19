"""Per-client sliding-window rate limit and a bounded concurrency gate for answers."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque


class RateLimiter:
    """At most ``per_minute`` requests per client in any 60 s window (0 = off)."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> int:
        """Record a hit; return 0 if allowed, else the seconds to wait (Retry-After)."""
        if self.per_minute <= 0:
            return 0
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, math.ceil(hits[0] + self.window_s - now))
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients so memory stays bounded
                for key in [k for k, v in self._hits.items() if not v]:
                    del self._hits[key]
            return 0


class Busy(Exception):
    """The queue of waiting answers is full."""


class ConcurrencyGate:
    """Run at most ``limit`` answers at once; at most ``queue_size`` wait, the rest get Busy."""

    def __init__(self, limit: int, queue_size: int) -> None:
        self._semaphore = asyncio.Semaphore(limit)
        self._limit = limit
        self._queue_size = queue_size
        self._inside = 0

    async def __aenter__(self) -> None:
        if self._inside >= self._limit + self._queue_size:
            raise Busy
        self._inside += 1
        try:
            await self._semaphore.acquire()
        except BaseException:
            self._inside -= 1
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._semaphore.release()
        self._inside -= 1
