"""The glossary shipped with the corpus: plain definitions, each naming a source that uses it."""

from __future__ import annotations

import re

import pytest

from benchmarks.readability import grade
from bot.glossary import load_glossary, words_in
from ingest.load import load_documents
from tests.conftest import CORPUS_DIR

GLOSSARY = load_glossary(CORPUS_DIR)


def test_glossary_is_not_ingested_as_a_source() -> None:
    docs = load_documents([CORPUS_DIR]).documents
    assert not any(str(d.path).endswith("glossary.md") for d, _ in docs)


@pytest.mark.parametrize("entry", GLOSSARY, ids=lambda e: e.term)
def test_each_definition_is_plain_and_its_source_uses_the_word(entry) -> None:  # type: ignore[no-untyped-def]
    assert grade(entry.definition) <= 7.0
    docs = {d.source_id: d for d, _ in load_documents([CORPUS_DIR]).documents}
    sections = [
        s.text
        for s in docs[entry.source_id].sections
        if s.title == entry.section or not entry.section
    ]
    assert sections, f"{entry.term}: section {entry.section!r} not in {entry.source_id}"
    pattern = "|".join(re.escape(f) for f in entry.forms)
    assert any(re.search(pattern, text, re.I) for text in sections)


def test_words_in_finds_hard_words_in_order_of_use() -> None:
    text = "For CRPS, moderate evidence that ketamine infusions reduce pain; fibromyalgia had weak."
    assert [w.term for w in words_in(text, GLOSSARY)] == ["CRPS", "Infusion", "Fibromyalgia"]
    assert words_in("Call your doctor.", GLOSSARY) == ()


def test_british_spellings_find_the_same_word() -> None:
    """A patient who writes "central sensitisation" asks about the same term."""
    terms = [w.term for w in words_in("what does central sensitisation mean?", GLOSSARY)]
    assert terms == ["Central sensitization"]
