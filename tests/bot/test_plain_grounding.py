"""Grounding of the plain lead: an answer cites only passages retrieved for it, and a plain
sentence is shown only when every passage backing it was retrieved and is shown with its
exact words (real model, real store, the shipped corpus)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from bot.types import Passage

QUESTIONS = [
    "does ketamine help CRPS",
    "does ketamine help fibromyalgia?",
    "who should not get ketamine",
    "Is the pivotal study in Pain Medicine real?",
    "I have glaucoma, can I get ketamine?",
    "what is ketamine?",
    "can psilocybin help chronic pain",
    "what did the psychedelics today report say",
    "how long does pain relief from ketamine last",
]


@pytest.fixture
def recorded(corpus_bot, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Passage]]:  # type: ignore[no-untyped-def]
    """The passages retrieved for the last answer."""
    hits: list[Passage] = []
    real = corpus_bot.retrieve

    def retrieve(*args: Any) -> tuple[list[Passage], Any]:
        passages, vector = real(*args)
        hits[:] = passages
        return passages, vector

    monkeypatch.setattr(corpus_bot, "retrieve", retrieve)
    yield hits


@pytest.mark.parametrize("question", QUESTIONS)
def test_answer_cites_only_retrieved_passages(corpus_bot, recorded, question) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_bot.answer(question)
    retrieved = {p.chunk_id: p for p in recorded}
    for citation in answer.citations:
        assert citation.chunk_id in retrieved, (question, citation.chunk_id, sorted(retrieved))
        assert citation.passage == retrieved[citation.chunk_id].text
    by_n = {c.n: c for c in answer.citations}
    quoted_from = {n for part in answer.parts for _, n in part.items}
    backing = corpus_bot.aids.backing
    plain = {s.text: s for s in corpus_bot.aids.plain}
    for point in answer.plain:
        # Every passage the sentence names is retrieved and cited under it ...
        assert set(backing[plain[point.text].id]) == {by_n[n].chunk_id for n in point.citations}
        # ... and its exact words are quoted in the answer.
        assert quoted_from & set(point.citations), (question, point.text)
        # A claim travels with its caveats.
        caveats = {corpus_bot.aids.by_id()[c].text for c in plain[point.text].caveats}
        assert caveats <= {p.text for p in answer.plain}, (question, point.text)
    for part in answer.parts:
        for sentence, n in part.items:
            assert sentence in " ".join(by_n[n].passage.split())


def test_plain_sentence_dropped_when_its_backing_was_not_retrieved(
    corpus_bot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    question = "does ketamine help CRPS"
    full = corpus_bot.answer(question)
    assert full.plain, "the CRPS question has a plain lead when its passages are retrieved"
    led = {p.text for p in full.plain}
    plain = {s.text: s for s in corpus_bot.aids.plain}
    dropped = corpus_bot.aids.backing[plain[full.plain[0].text].id]
    real = corpus_bot.retrieve

    def without(*args: Any) -> tuple[Sequence[Passage], Any]:
        passages, vector = real(*args)
        return [p for p in passages if p.chunk_id not in dropped], vector

    monkeypatch.setattr(corpus_bot, "retrieve", without)
    answer = corpus_bot.answer(question)
    assert all(c.chunk_id not in dropped for c in answer.citations)
    for point in answer.plain:
        assert not set(corpus_bot.aids.backing[plain[point.text].id]) & set(dropped)
    assert not {p.text for p in answer.plain} >= led
