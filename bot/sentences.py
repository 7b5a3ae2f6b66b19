"""Pure sentence splitting shared by the chunker and the answer composer."""

from __future__ import annotations

import re

# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "al",
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "fig",
        "figs",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "no",
        "nos",
        "vol",
        "pp",
        "approx",
        "ca",
        "resp",
        "incl",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "univ",
        "eq",
        "ref",
        "refs",
        "u.s",
        "u.k",
        "e.u",
        "ph.d",
        "m.d",
        "b.a",
        "m.sc",
    ]
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)])\s+")
# A candidate boundary: end punctuation (optionally closing quotes/brackets), whitespace,
# then something that can start a sentence.
_BOUNDARY = re.compile(r"""([.!?]+["'”’)\]]*)\s+(?=["'“‘(\[]?[A-Z0-9])""")


def _ends_with_abbreviation(text: str) -> bool:
    match = re.search(r"(\S+)$", text)
    if not match:
        return False
    word = match.group(1).rstrip(".").lstrip("(\"'“‘[").lower()
    if word in _ABBREVIATIONS:
        return True
    # Single initials ("J. Smith", "S. aureus") rarely end a sentence.
    return len(word) == 1 and word.isalpha()


def _split_paragraph(paragraph: str) -> list[str]:
    text = " ".join(paragraph.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.end(1)]
        if match.group(1).startswith(".") and _ends_with_abbreviation(candidate):
            continue
        sentences.append(candidate.strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def split_sentences(text: str) -> list[str]:
    """Split text into sentences without breaking "et al.", "e.g.", "Dr.", decimals.

    Blank lines end paragraphs; each Markdown list item ("- ", "* ", "1. ") is a sentence of
    its own (split further only if it holds several sentences). Whitespace is normalised.
    """
    sentences: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            sentences.extend(_split_paragraph(" ".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        if not line.strip():
            flush()
        elif _LIST_ITEM.match(line):
            flush()
            paragraph.append(line.strip())
        else:
            paragraph.append(line.strip())
    flush()
    return sentences
