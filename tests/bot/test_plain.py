"""The plain-language layer: every shipped sentence is backed by the passages it names, the
check refuses sentences their passages do not back, and the summaries read at grade 7."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest

from benchmarks.readability import grade
from bot.plain import check_plain, load_names, load_plain, sources_without_plain
from ingest.load import load_documents
from tests.conftest import CORPUS_DIR


@pytest.fixture(scope="module")
def sections() -> dict[tuple[str, str], str]:
    docs = load_documents([CORPUS_DIR]).documents
    return {(d.source_id, s.title.strip().lower()): s.text for d, _ in docs for s in d.sections}


def test_every_shipped_plain_sentence_is_backed(embedder, sections) -> None:  # type: ignore[no-untyped-def]
    layer = load_plain(CORPUS_DIR)
    accepted, refused = check_plain(layer, sections, embedder, load_names(CORPUS_DIR))
    assert refused == []
    assert len(accepted.sentences) == len(layer.sentences) >= 40
    assert sources_without_plain(layer, sorted({s for s, _ in sections})) == []


@pytest.mark.parametrize(
    ("sentence_id", "text", "reason"),
    [
        (
            "guideline-crps",
            "For CRPS, ketamine infusions eased pain for up to about 20 weeks.",
            "20",
        ),
        (
            "guideline-long-term",
            "Apart from CRPS, ketamine helps in the medium and long term.",
            "no/not",
        ),
        (
            "guideline-crps",
            "For cluster headache, ketamine infusions eased pain for weeks.",
            "cluster",
        ),
        ("guideline-risk", "Ketamine cures most cancers within a month of use.", "closest"),
    ],
)
def test_unbacked_sentences_are_refused(embedder, sections, sentence_id, text, reason) -> None:  # type: ignore[no-untyped-def]
    layer = load_plain(CORPUS_DIR)
    changed = tuple(replace(s, text=text) if s.id == sentence_id else s for s in layer.sentences)
    _, refused = check_plain(
        replace(layer, sentences=changed), sections, embedder, load_names(CORPUS_DIR)
    )
    assert [r.id for r in refused] == [sentence_id]
    assert reason in refused[0].reason


def test_a_sentence_naming_a_missing_section_is_refused(embedder, sections) -> None:  # type: ignore[no-untyped-def]
    layer = load_plain(CORPUS_DIR)
    first = layer.sentences[0]
    moved = replace(first, backed_by=((first.source_id, "No such section"),))
    _, refused = check_plain(
        replace(layer, sentences=(moved, *layer.sentences[1:])), sections, embedder
    )
    assert [r.id for r in refused] == [first.id] and "not in the store" in refused[0].reason


@pytest.mark.parametrize(
    ("quote", "reason"),
    [
        # Words the passage does not hold.
        ("research proves that ketamine rewires the default mode network", "not in the named"),
        # A claim whose sentence cites its source ("(PMC, 2018)") is not uncited.
        ("role in resetting central sensitization and reducing hyperalgesia", "cites a source"),
    ],
)
def test_an_uncited_note_must_quote_a_claim_that_cites_nothing(  # type: ignore[no-untyped-def]
    embedder, sections, quote, reason
) -> None:
    layer = load_plain(CORPUS_DIR)
    note = next(s for s in layer.sentences if s.role == "uncited")
    changed = tuple(replace(s, quote=quote) if s.id == note.id else s for s in layer.sentences)
    _, refused = check_plain(replace(layer, sentences=changed), sections, embedder)
    assert [r.id for r in refused] == [note.id]
    assert reason in refused[0].reason


def test_every_plain_sentence_has_its_own_example_questions() -> None:
    layer = load_plain(CORPUS_DIR)
    owners: dict[str, str] = {}
    for s in layer.sentences:
        if s.role == "uncited":  # shown only as a claim's caveat, never chosen by a question
            continue
        assert len(s.asks) >= 4, s.id
        for ask in s.asks:
            key = " ".join(ask.lower().split())
            assert owners.setdefault(key, s.id) == s.id, (ask, owners[key], s.id)


def test_plain_summaries_read_at_grade_7() -> None:
    layer = load_plain(CORPUS_DIR)
    by_source: dict[str, list[str]] = {}
    for s in layer.sentences:
        by_source.setdefault(s.source_id, []).append(s.text)
    grades = {src: grade(" ".join(texts)) for src, texts in by_source.items()}
    # The article's own claims keep its hard words (fibromyalgia, anesthetic): 7.7 today.
    assert {src: round(g, 1) for src, g in grades.items() if g > 7.0 and src != "article"} == {}
    assert grades["article"] <= 8.0
    assert statistics.median(grade(s.text) for s in layer.sentences) <= 7.0


def test_a_note_on_a_source_names_it() -> None:
    """A note saying what a source is names that source: "This source is a news report" under
    a line from the scoping review read as about the review in a blind review (question batch
    27)."""
    layer = load_plain(CORPUS_DIR)
    vague = [
        s.id
        for s in layer.sentences
        if s.role == "status" and s.text.split()[0].lower() in {"this", "it", "these", "that"}
    ]
    assert vague == []
