"""Chunk boundaries: whole sentences, sections respected, sizes, overlap, stable ids."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings
from bot.sentences import split_sentences
from bot.types import Document, Section
from ingest.chunk import chunk_document, chunking_signature, pack_sentences
from ingest.load import load_markdown

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def _sentence(i: int, words: int = 12) -> str:
    return f"Word{i} " + " ".join(["word"] * (words - 2)) + f" end{i}."


def test_chunks_are_whole_sentences_within_target(settings: Settings) -> None:
    text = " ".join(_sentence(i) for i in range(100))  # 1200 words
    doc = Document("d", "D", (Section("Only", text),))
    chunks = chunk_document(doc, settings)
    sentences = set(split_sentences(text))
    assert len(chunks) > 4
    for chunk in chunks:
        assert set(split_sentences(chunk.text)) <= sentences
        assert len(chunk.text.split()) <= settings.chunk_words
    # every sentence is somewhere, in order
    seen = [s for c in chunks for s in split_sentences(c.text)]
    assert sorted(set(seen), key=seen.index) == split_sentences(text)


def test_overlap_is_whole_trailing_sentences(settings: Settings) -> None:
    text = " ".join(_sentence(i) for i in range(60))
    chunks = chunk_document(Document("d", "D", (Section("S", text),)), settings)
    assert len(chunks) > 3
    for previous, current in itertools.pairwise(chunks):
        first = split_sentences(current.text)[0]
        assert first in split_sentences(previous.text)
        carried = [s for s in split_sentences(current.text) if s in previous.text]
        assert 0 < sum(len(s.split()) for s in carried) <= settings.chunk_overlap_words


def test_chunks_never_cross_sections_and_short_section_is_one_chunk(settings: Settings) -> None:
    doc = Document(
        "d",
        "D",
        (
            Section("Short", "Just one line here."),
            Section("Long", " ".join(_sentence(i) for i in range(40))),
        ),
    )
    chunks = chunk_document(doc, settings)
    assert chunks[0].section == "Short" and chunks[0].text == "Just one line here."
    assert all(c.section == "Long" for c in chunks[1:])
    assert [c.chunk_id for c in chunks] == [f"d:{i}" for i in range(len(chunks))]


def test_a_sentence_longer_than_the_target_is_its_own_chunk() -> None:
    long = " ".join(["w"] * 400) + "."
    assert pack_sentences(["Short one.", long, "Tail."], 220, 40) == [
        ["Short one."],
        [long],
        ["Tail."],
    ]


def test_article_chunks_keep_section_titles_and_ids_are_stable(settings: Settings) -> None:
    article = load_markdown(CORPUS / "article.md")[0]
    first = chunk_document(article, settings)
    again = chunk_document(load_markdown(CORPUS / "article.md")[0], settings)
    assert [(c.chunk_id, c.text) for c in first] == [(c.chunk_id, c.text) for c in again]
    sections = {c.section for c in first}
    assert {"Challenges and Future Directions", "Introduction", "References"} <= sections
    assert all(
        30 <= len(c.text.split()) <= settings.chunk_words
        for c in first
        if c.section != "References"
    )


def test_list_items_keep_their_own_lines(settings: Settings) -> None:
    doc = Document("d", "D", (Section("S", "Intro:\n- one thing.\n- another thing."),))
    assert chunk_document(doc, settings)[0].text == "Intro:\n- one thing.\n- another thing."


def test_signature_names_the_chunking(settings: Settings) -> None:
    assert chunking_signature(settings) == "sentences-v1:220w/40o"


@given(
    st.lists(
        st.tuples(st.integers(1, 60), st.sampled_from([".", "!", "?"])), min_size=0, max_size=60
    ),
    st.integers(50, 300),
    st.integers(0, 60),
)
def test_packing_keeps_every_sentence_in_order_within_target(
    shapes: list[tuple[int, str]], target: int, overlap: int
) -> None:
    sentences = [f"S{i} " + "w " * (n - 1) + end for i, (n, end) in enumerate(shapes)]
    groups = pack_sentences(sentences, target, overlap)
    fresh: list[str] = []
    for group in groups:
        words = sum(len(s.split()) for s in group)
        assert words <= target or len(group) == 1
        fresh += [s for s in group if s not in fresh]
    assert fresh == sentences
