"""Value objects that flow through painbot: documents, chunks, passages, citations, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot import prompts


@dataclass(frozen=True)
class Section:
    """A titled span of a document's text (the article keeps its headings)."""

    title: str
    text: str


@dataclass(frozen=True)
class Document:
    """One source: the article, a reference record, a PubMed abstract, a benchmark abstract.

    ``metadata`` holds the record's front matter (title, authors, journal, year, url, pmid,
    doi, kind, verification, short_citation, ...), all as strings, ints or floats.
    """

    source_id: str
    title: str
    sections: tuple[Section, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(section.text for section in self.sections)


@dataclass(frozen=True)
class Chunk:
    """A sentence-aligned piece of a document, with a stable id ``source_id:index``."""

    chunk_id: str
    source_id: str
    index: int
    text: str
    section: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its score (higher is better) and source metadata."""

    chunk_id: str
    source_id: str
    text: str
    section: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)
    similarity: float = 0.0
    """Cosine similarity between the query and this passage, for evidence thresholds (0.0 when
    not computed: keyword-only hits below the top 20 of a search)."""


class Verdict(StrEnum):
    ANSWERED = "answered"
    NOT_COVERED = "not_covered"
    PERSONAL_ADVICE = "personal_advice"
    CRISIS = "crisis"
    OFF_TOPIC = "off_topic"


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer, with the exact passage it relied on."""

    n: int
    source_id: str
    chunk_id: str
    title: str
    label: str
    """Human label: "Cohen et al., 2018 (consensus guideline), Regional Anesthesia and Pain
    Medicine, section 'Evidence by condition'" or "Article, section 'Challenges and Future
    Directions'"."""
    url: str | None
    section: str
    verification: str
    verified: bool
    passage: str
    kind: str = "reference"
    """'article' (the article's own words: its author's views) or 'reference' (a cited paper)."""
    passage_note: str = ""
    """Fixed text saying whose words the passage is (a summary written for this project, a
    published abstract); empty for the article's own words."""
    reviewed: str = ""
    """ISO date a person last reviewed the source's record (front matter), or empty."""

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "kind": self.kind,
            "source_id": self.source_id,
            "chunk_id": self.chunk_id,
            "title": self.title,
            "label": self.label,
            "url": self.url,
            "section": self.section,
            "verification": self.verification,
            "verified": self.verified,
            "passage": self.passage,
            "passage_note": self.passage_note,
            "reviewed": self.reviewed,
        }


@dataclass(frozen=True)
class AnswerPart:
    """A heading saying whose statements follow, and the cited sentences under it."""

    heading: str
    items: tuple[tuple[str, int], ...]
    """(verbatim sentence, citation number) pairs."""

    def to_json(self) -> dict[str, Any]:
        return {
            "heading": self.heading,
            "sentences": [{"text": text, "citation": n} for text, n in self.items],
        }


@dataclass(frozen=True)
class PlainPoint:
    """A plain-language sentence written for this project, with the sources that back it."""

    text: str
    citations: tuple[int, ...]
    """Numbers of the sources (exact passages) that back the sentence."""
    role: str = "fact"
    """benefit, claim, limit, risk, caution, status or fact (from the plain-language file)."""

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "citations": list(self.citations), "role": self.role}


@dataclass(frozen=True)
class GlossaryEntry:
    """A hard word, its plain definition and the source that uses it ("Words to know")."""

    term: str
    definition: str
    source_id: str
    section: str = ""
    forms: tuple[str, ...] = ()
    """The term and its other forms, as matched in answers (whole words, any case)."""

    def to_json(self) -> dict[str, str]:
        return {
            "term": self.term,
            "definition": self.definition,
            "source_id": self.source_id,
            "section": self.section,
        }


@dataclass(frozen=True)
class Answer:
    """What every interface renders: the CLI, the chat page, the widget and the JSON API."""

    verdict: Verdict
    text: str
    citations: tuple[Citation, ...]
    disclaimer: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    id: str | None = None
    question: str = ""
    """The question as asked; never logged above DEBUG."""
    retrieval_query: str = ""
    """The query used for retrieval after resolving follow-ups (empty when none ran)."""
    parts: tuple[AnswerPart, ...] = ()
    """The answer's structure (headings and cited sentences), for renderers; empty for fixed
    replies."""
    lead: str = ""
    """Fixed text shown before the parts (the personal-advice decline, a disagreement note)."""
    plain: tuple[PlainPoint, ...] = ()
    """Plain-language sentences that lead the answer, each citing the passages backing it."""
    words: tuple[GlossaryEntry, ...] = ()
    """"Words to know": glossary entries for hard words in the answer."""
    words_first: bool = False
    """The question asks what a word means: "Words to know" comes before the answer."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verdict": self.verdict.value,
            "text": self.text,
            "citations": [citation.to_json() for citation in self.citations],
            "lead": self.lead,
            "plain_heading": prompts.LEAD_PLAIN if self.plain else "",
            "plain": [point.to_json() for point in self.plain],
            "parts": [part.to_json() for part in self.parts],
            "words_heading": prompts.WORDS_TO_KNOW if self.words else "",
            "words": [word.to_json() for word in self.words],
            "words_first": self.words_first,
            "disclaimer": self.disclaimer,
            "timings_ms": {name: round(ms, 2) for name, ms in self.timings_ms.items()},
        }
