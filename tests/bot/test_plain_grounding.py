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
    """The passages retrieved for the last answer: by the search, then by the plain lead's
    links (the passages behind its best sentences and their caveats)."""
    hits: list[Passage] = []
    real, real_linked = corpus_bot.retrieve, corpus_bot.retrieve_linked

    def retrieve(*args: Any) -> tuple[list[Passage], Any]:
        passages, vector = real(*args)
        hits[:] = passages
        return passages, vector

    def retrieve_linked(*args: Any) -> list[Passage]:
        passages = real_linked(*args)
        hits[:] = passages
        return passages

    monkeypatch.setattr(corpus_bot, "retrieve", retrieve)
    monkeypatch.setattr(corpus_bot, "retrieve_linked", retrieve_linked)
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
        # A claim or a benefit travels with its caveats (a limit shown as a caveat does not
        # bring its own: bot/lead.py, needs_own_caveats).
        if plain[point.text].role in ("claim", "benefit"):
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
    real, real_linked = corpus_bot.retrieve, corpus_bot.retrieve_linked

    def without(*args: Any) -> tuple[Sequence[Passage], Any]:
        passages, vector = real(*args)
        return [p for p in passages if p.chunk_id not in dropped], vector

    def linked_without(*args: Any) -> list[Passage]:
        return [p for p in real_linked(*args) if p.chunk_id not in dropped]

    monkeypatch.setattr(corpus_bot, "retrieve", without)
    monkeypatch.setattr(corpus_bot, "retrieve_linked", linked_without)
    # Nor can a quoted claim's caveats fetch them: they are gone from the store.
    kept = {c: p for c, p in corpus_bot.stored_passages().items() if c not in dropped}
    monkeypatch.setattr(corpus_bot, "stored_passages", lambda: kept)
    answer = corpus_bot.answer(question)
    assert all(c.chunk_id not in dropped for c in answer.citations)
    for point in answer.plain:
        assert not set(corpus_bot.aids.backing[plain[point.text].id]) & set(dropped)
    assert not {p.text for p in answer.plain} >= led


def test_linked_passages_let_the_answering_sentence_show(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    """The search finds the article's mechanism passage but not the guideline passage behind
    one of the claim's caveats (its limits on how well ketamine eases pain). The link fetches
    it, so the sentence that answers is shown, with that caveat."""
    question = "Which 2018 study does the article say supports ketamine for central sensitization?"
    analysis = corpus_bot.analyse(question, [])
    vector = corpus_bot.embedder.embed_query(question)
    searched, _ = corpus_bot.retrieve(analysis, vector)
    found = {p.chunk_id for p in searched}
    by_id = corpus_bot.aids.by_id()
    mechanism = by_id["article-mechanism"]
    fetched = [c for c in mechanism.caveats if not set(corpus_bot.aids.backing[c]) <= found]
    assert fetched, "the search alone brings every caveat"
    answer = corpus_bot.answer(question)
    shown = [p.text for p in answer.plain]
    assert mechanism.text in shown
    for caveat in fetched:
        assert by_id[caveat].text in shown
