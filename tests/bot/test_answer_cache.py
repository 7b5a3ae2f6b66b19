"""The answer cache: hits only for the same question, history and store generation."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from bot.answer_cache import AnswerCache, install
from bot.config import Settings
from bot.types import Answer, Verdict


class FakeStore:
    def __init__(self) -> None:
        self.value = 1

    def generation(self) -> int:
        return self.value


class CountingBot:
    """Answers with a fresh text each time it is really asked, so a reuse shows."""

    def __init__(self) -> None:
        self.calls = 0
        self.store = FakeStore()
        self.retriever = SimpleNamespace(generation=1)

    def reingest(self) -> None:
        self.store.value += 1
        self.retriever.generation = self.store.value

    def answer(
        self, question: str, history: Sequence[str] = (), *, id: str | None = None
    ) -> Answer:
        self.calls += 1
        return Answer(
            verdict=Verdict.ANSWERED,
            text=f"answer #{self.calls} to {question!r} after {list(history)}",
            citations=(),
            disclaimer="fixed",
            id=id,
            question=question,
        )


def _cached(size: int = 10) -> tuple[CountingBot, AnswerCache]:
    bot = CountingBot()
    cache = install(bot, Settings(answer_cache_size=size))
    assert cache is not None and bot.answer_cache is cache  # type: ignore[attr-defined]
    return bot, cache


def test_same_question_is_answered_once_and_each_asker_gets_their_own_id() -> None:
    bot, cache = _cached()
    first = bot.answer("What is ketamine?", id="a1")
    again = bot.answer("  What is   ketamine?", id="b2")
    assert bot.calls == 1 and again.text == first.text
    assert (first.id, again.id) == ("a1", "b2")
    assert again.question == "  What is   ketamine?" and again.timings_ms.keys() == {
        "total",
        "cache",
    }
    assert cache.stats() == {
        "entries": 1,
        "max_entries": 10,
        "hits": 1,
        "misses": 1,
        "hit_rate": 0.5,
    }


@pytest.mark.parametrize(
    ("second", "history"),
    [
        ("what is ketamine?", ()),  # another spelling is another question
        ("What is ketamine", ()),
        ("What is esketamine?", ()),
        ("What is ketamine?", ("Is it safe?",)),  # same words, another conversation
    ],
)
def test_anything_but_the_same_question_is_a_miss(second: str, history: tuple[str, ...]) -> None:
    bot, cache = _cached()
    bot.answer("What is ketamine?")
    bot.answer(second, history)
    assert bot.calls == 2 and cache.hits == 0


def test_an_answer_made_before_the_bot_caught_up_is_not_kept() -> None:
    bot, cache = _cached()
    bot.store.value = 2  # re-ingested; the bot has not refreshed yet
    bot.answer("What is ketamine?")
    bot.answer("What is ketamine?")
    assert bot.calls == 2 and len(cache) == 0


def test_a_new_store_generation_starts_afresh() -> None:
    bot, cache = _cached()
    bot.answer("What is ketamine?")
    bot.reingest()
    changed = bot.answer("What is ketamine?")
    assert bot.calls == 2 and changed.text.startswith("answer #2") and len(cache) == 1
    bot.answer("What is ketamine?")
    assert bot.calls == 2 and cache.hits == 1


def test_lru_keeps_at_most_size_answers() -> None:
    bot, cache = _cached(size=2)
    for question in ("one?", "two?", "one?", "three?"):  # "two?" is the least recently used
        bot.answer(question)
    assert len(cache) == 2
    bot.answer("one?")
    assert bot.calls == 3
    bot.answer("two?")
    assert bot.calls == 4


def test_off_in_settings_leaves_the_bot_alone() -> None:
    bot = CountingBot()
    plain = bot.answer
    assert install(bot, Settings(answer_cache=False)) is None
    assert bot.answer == plain and not hasattr(bot, "answer_cache")


def test_errors_are_not_cached() -> None:
    from bot.errors import InvalidQuestionError

    _bot, cache = _cached()

    def refuse(question: str, history: Sequence[str] = (), *, id: str | None = None) -> Answer:
        raise InvalidQuestionError("empty")

    cache_wrapped = cache.wrap(refuse, lambda: 1)
    with pytest.raises(InvalidQuestionError):
        cache_wrapped("")
    assert len(cache) == 0


def test_lookup_gives_a_kept_answer_without_computing_one() -> None:
    bot, cache = _cached()
    assert cache.lookup("What is ketamine?") is None
    first = bot.answer("What is ketamine?", id="a")
    found = cache.lookup("What is ketamine?", id="c")
    assert found is not None and found.text == first.text and found.id == "c"
    assert cache.lookup("What is ketamine?", ("earlier?",)) is None and bot.calls == 1


def test_a_question_looked_up_then_answered_counts_once() -> None:
    """A server looks a question up before it queues it; the answer call then counts it."""
    bot, cache = _cached()
    seen: list[bool] = []
    cache.subscribe(seen.append)
    assert cache.lookup("What is ketamine?") is None
    bot.answer("What is ketamine?")  # the miss, counted here
    assert cache.lookup("What is ketamine?") is not None  # a hit served before the queue
    assert cache.lookup("What is esketamine?") is None
    bot.answer("What is esketamine?")
    bot.answer("What is ketamine?")  # a hit through the answer call
    assert (cache.hits, cache.misses) == (2, 2) and seen == [False, True, False, True]
    assert cache.stats()["hit_rate"] == 0.5
