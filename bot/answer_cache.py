"""Reuse the answer to a question asked again: a bounded LRU wrapped around Bot.answer.

The key is the question and the earlier turns (Unicode- and whitespace-normalised, nothing
more, so only the same question finds an entry) plus the store's generation, so a re-ingest
starts afresh. Only the answer is shared: each hit gets the asker's own id and question text.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from bot.config import Settings
from bot.types import Answer

log = logging.getLogger(__name__)

Key = tuple[int, str, tuple[str, ...]]
AnswerFn = Callable[..., Answer]


def normalise(text: str) -> str:
    """Canonical Unicode form, runs of whitespace as one space, no surrounding spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class AnswerCache:
    """Thread-safe LRU of answers with hit and miss counters (for metrics): each question
    asked counts once, as a hit or a miss."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._entries: OrderedDict[Key, Answer] = OrderedDict()
        self._generation: int | None = None
        self._read_generation: Callable[[], int] | None = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[bool], None]] = []
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def subscribe(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(hit)`` once per question counted (e.g. to export the hit rate)."""
        self._listeners.append(listener)

    def get(self, key: Key, *, count_miss: bool = True) -> Answer | None:
        """The kept answer, counted as a hit; None, counted as a miss when ``count_miss``."""
        with self._lock:
            if key[0] != self._generation:  # the store changed: every answer may have too
                self._entries.clear()
                self._generation = key[0]
            answer = self._entries.get(key)
            if answer is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            elif count_miss:
                self.misses += 1
            else:
                return None
        for listener in self._listeners:
            listener(answer is not None)
        return answer

    def put(self, key: Key, answer: Answer) -> None:
        with self._lock:
            if key[0] != self._generation:
                return
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            asked = self.hits + self.misses
            return {
                "entries": len(self._entries),
                "max_entries": self._max,
                "hits": self.hits,
                "misses": self.misses,
                "hit_rate": round(self.hits / asked, 4) if asked else 0.0,
            }

    def wrap(
        self,
        answer: AnswerFn,
        generation: Callable[[], int],
        answered_from: Callable[[], int] | None = None,
    ) -> AnswerFn:
        """``answer`` with this cache in front. ``generation`` reads the store's generation;
        ``answered_from`` the generation the bot answered from (an answer made while the bot
        was still catching up with a re-ingest is not kept)."""
        self._read_generation = generation

        def cached(question: str, history: Sequence[str] = (), *, id: str | None = None) -> Answer:
            if not isinstance(question, str):
                return answer(question, history, id=id)  # let the bot reject it
            key = self._key(question, history)
            hit = self._hit(key, question, id)
            if hit is not None:
                return hit
            fresh = answer(question, history, id=id)
            if answered_from is None or answered_from() == key[0]:
                self.put(key, fresh)
            return fresh

        return cached

    def lookup(
        self, question: str, history: Sequence[str] = (), *, id: str | None = None
    ) -> Answer | None:
        """The kept answer to this question (counted as a hit), or None; for a server that
        wants to answer hits without waiting for a slot among the questions being computed.
        None is not counted as a miss: the answer call that follows counts the question."""
        if self._read_generation is None or not isinstance(question, str):
            return None
        return self._hit(self._key(question, history), question, id, count_miss=False)

    def _key(self, question: str, history: Sequence[str]) -> Key:
        assert self._read_generation is not None
        turns = tuple(normalise(turn) for turn in history if isinstance(turn, str))
        return (self._read_generation(), normalise(question), turns)

    def _hit(
        self, key: Key, question: str, id: str | None, *, count_miss: bool = True
    ) -> Answer | None:
        start = time.perf_counter()
        hit = self.get(key, count_miss=count_miss)
        if hit is None:
            return None
        ms = (time.perf_counter() - start) * 1000
        # The asker's own id and words (lone surrogates replaced, as the bot echoes them).
        asked = question.encode("utf-8", "replace").decode("utf-8")
        return dataclasses.replace(
            hit, id=id, question=asked, timings_ms={"total": ms, "cache": ms}
        )


def install(bot: Any, settings: Settings) -> AnswerCache | None:
    """Put an answer cache in front of ``bot.answer`` when the settings ask for one.

    The cache is ``bot.answer_cache`` (its ``stats()`` give hits, misses and the hit rate).
    """
    if not settings.answer_cache or settings.answer_cache_size <= 0:
        return None
    cache = AnswerCache(settings.answer_cache_size)

    # The bot's own reading of the generation (renewed every few seconds), where it has one:
    # reading the store for every question asked costs a store call per cache hit.
    read_generation = getattr(bot, "store_generation", None) or bot.store.generation

    def generation() -> int:
        return int(read_generation())

    def answered_from() -> int:
        return int(bot.retriever.generation)

    # Instance attributes: the method stays as it is, this bot's callers get the cached one.
    setattr(bot, "answer", cache.wrap(bot.answer, generation, answered_from))  # noqa: B010
    setattr(bot, "answer_cache", cache)  # noqa: B010
    return cache
