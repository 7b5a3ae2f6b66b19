"""Pure: a document -> sentence-aligned chunks with stable ids and their section titles."""

from __future__ import annotations

from bot.config import Settings
from bot.sentences import split_sentences
from bot.store import chunking_signature

__all__ = ["chunk_document", "chunking_signature", "embedding_text", "pack_sentences"]
from bot.types import Chunk, Document


def embedding_text(chunk: Chunk, title: str) -> str:
    """What gets embedded: the chunk under its document and section titles (better recall).

    The stored text stays the exact passage shown to patients.
    """
    heading = title if not chunk.section or chunk.section == title else f"{title} — {chunk.section}"
    return f"{heading}\n{chunk.text}" if heading else chunk.text


def _words(sentence: str) -> int:
    return len(sentence.split())


def pack_sentences(sentences: list[str], target_words: int, overlap_words: int) -> list[list[str]]:
    """Group whole sentences into chunks of about target_words, overlapping by whole sentences.

    A chunk closes when adding the next sentence would pass the target, so no chunk passes it
    unless it is a single sentence longer than the target. The next chunk starts with the trailing
    sentences of the previous one that fit in overlap_words, so context carries over.
    """
    groups: list[list[str]] = []
    current: list[str] = []
    size = 0
    fresh = 0  # sentences in `current` that are not overlap
    for sentence in sentences:
        n = _words(sentence)
        if fresh and size + n > target_words:
            groups.append(current)
            carried: list[str] = []
            carried_size = 0
            for previous in reversed(current):
                m = _words(previous)
                if carried_size + m > overlap_words or len(carried) + 1 >= len(current):
                    break
                carried.insert(0, previous)
                carried_size += m
            if carried_size + n > target_words:
                carried, carried_size = [], 0  # the overlap must not push a chunk past the target
            current, size, fresh = carried, carried_size, 0
        current.append(sentence)
        size += n
        fresh += 1
    if fresh:
        groups.append(current)
    return groups


def join_sentences(sentences: list[str]) -> str:
    """Sentences back into text; list items keep their own lines so passages read as lists."""
    out = ""
    for sentence in sentences:
        if out:
            out += "\n" if sentence.startswith(("- ", "* ", "• ")) else " "
        out += sentence
    return out


def chunk_document(document: Document, settings: Settings) -> list[Chunk]:
    """Chunks never cross a section and never split a sentence; ids are source_id:index."""
    chunks: list[Chunk] = []
    for section in document.sections:
        sentences = split_sentences(section.text)
        for group in pack_sentences(sentences, settings.chunk_words, settings.chunk_overlap_words):
            index = len(chunks)
            chunks.append(
                Chunk(
                    chunk_id=f"{document.source_id}:{index}",
                    source_id=document.source_id,
                    index=index,
                    text=join_sentences(group),
                    section=section.title,
                )
            )
    return chunks
