"""Passages -> extractive answer: verbatim sentences, each citing the passage it came from.

A sentence's score is its embedding similarity to the question plus how much of the
question's rarer vocabulary it contains (IDF-weighted, stemmed, acronyms expanded), so a
question about fibromyalgia picks the sentence that names fibromyalgia. Checked findings are
shown before the article author's views, under headings that say whose statement each is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot import prompts
from bot.citations import is_article, is_verified, make_citation
from bot.config import ComposeWeights
from bot.embeddings import Vectors
from bot.lexicon import Lexicon, about_another_drug, question_terms, terms
from bot.types import AnswerPart, Citation, Passage
from bot.understand import QuestionAnalysis
from bot.vector_cache import VectorCache

# Sections that list or describe sources rather than say anything about pain care.
_SKIPPED_SECTIONS = frozenset(["references"])
# Reference-record sections that describe the source itself rather than its findings; they
# answer "what is this paper?" questions but should not crowd out findings elsewhere.
_ABOUT_SOURCE_SECTION = re.compile(
    r"^(what (is known about )?this (reference|document|review|source)|why it was written)", re.I
)
_WEAK_EVIDENCE = re.compile(
    r"\b(weak|no|little|limited|insufficient|inconclusive) (or no )?evidence\b|\bnot supported\b",
    re.I,
)
NEAR_DUPLICATE = 0.9


@dataclass(frozen=True)
class Composed:
    text: str
    citations: tuple[Citation, ...]
    sentences: tuple[str, ...]
    """The answer sentences (without headings or citation marks), each verbatim."""
    parts: tuple[AnswerPart, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class _Candidate:
    sentence: str
    passage: Passage
    vector: Vectors
    score: float
    names_everything_asked: bool = False
    """The sentence (with its section and source title) holds every content word of the
    question that any source uses: "Weak or no evidence ... migraine" in the ketamine
    guideline, for "Does ketamine help migraines?"."""


def _overlap(q_terms: set[str], text_terms: set[str], lexicon: Lexicon) -> float:
    """Share of the question's vocabulary found, weighted by squared rarity."""
    total = sum(lexicon.idf(t) ** 2 for t in q_terms)
    if not total:
        return 0.0
    return sum(lexicon.idf(t) ** 2 for t in q_terms & text_terms) / total


def _candidates(
    analysis: QuestionAnalysis,
    query_vector: Vectors,
    passages: Sequence[Passage],
    cache: VectorCache,
    lexicon: Lexicon,
    weights: ComposeWeights,
) -> list[_Candidate]:
    # Words no source uses ("wrote", once "author" stands in for it) cannot be found, so
    # they would only lower every sentence's share.
    asked_terms = question_terms(analysis.query, lexicon.vocabulary)
    q_terms = {t for t in asked_terms if lexicon.used(t)}
    names_the_article = analysis.about_article
    # "Who wrote this article?" is about the article itself, not the notes on the papers it
    # cites ("the study this article mentions" still is): see QuestionAnalysis.about_sources.
    asks_about_sources = analysis.about_sources
    if names_the_article:
        # "article" then names the source rather than a word to look for in sentences.
        q_terms -= set(terms(" ".join(lexicon.vocabulary.article_names)))
    asked_drugs = analysis.drugs
    out: list[_Candidate] = []
    for passage, entry in zip(passages, cache.get(passages), strict=True):
        if passage.section.strip().lower() in _SKIPPED_SECTIONS:
            continue
        section_terms = set(terms(passage.section))
        section_score = _overlap(q_terms, section_terms, lexicon)
        # A sentence is read in the context of its source: "Serious side effects were rare"
        # in the ketamine guideline is about ketamine.
        context_terms = section_terms | set(terms(str(passage.metadata.get("title", ""))))
        if is_article(passage):
            source_adjust = weights.named_source_bonus if names_the_article else 0.0
        elif is_verified(passage):
            source_adjust = weights.verified_bonus
        else:
            # Unverified records only describe how the article cites them: useful when the
            # question is about the sources, noise when it is about pain care.
            source_adjust = 0.0 if asks_about_sources else -weights.unverified_penalty
        if not asks_about_sources and _ABOUT_SOURCE_SECTION.match(passage.section.strip()):
            source_adjust -= weights.about_source_penalty
        sims = entry.vectors @ query_vector.reshape(-1)
        for sentence, vector, sim in zip(entry.sentences, entry.vectors, sims, strict=True):
            if len(sentence.split()) < 5 or sentence.endswith("?") or sentence.startswith("#"):
                continue
            read_as = set(terms(sentence)) | context_terms
            if about_another_drug(read_as, asked_drugs, lexicon.vocabulary):
                # "Serious side effects were rare" in the ketamine guideline says nothing
                # about psilocybin's side effects, however well it matches the words.
                continue
            lexical = _overlap(q_terms, read_as, lexicon)
            score = (
                float(sim)
                + weights.lexical * lexical
                + weights.section * section_score
                + source_adjust
            )
            out.append(_Candidate(sentence, passage, vector, score, lexical >= 0.999))
    return out


def _checked(candidate: _Candidate) -> bool:
    return not is_article(candidate.passage) and is_verified(candidate.passage)


def _select(
    candidates: list[_Candidate], max_sentences: int, keep_within: float
) -> list[_Candidate]:
    ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
    if not ranked:
        return []
    floor = ranked[0].score - keep_within
    chosen: list[_Candidate] = []
    for candidate in ranked:
        if len(chosen) >= max_sentences or candidate.score < floor:
            break
        if any(float(candidate.vector @ c.vector) > NEAR_DUPLICATE for c in chosen):
            continue  # chunk overlap repeats sentences
        chosen.append(candidate)
    if not any(_checked(c) and c.names_everything_asked for c in chosen):
        # A checked source's finding on exactly what was asked must not be crowded out by the
        # article's more fluent claims (the guideline's "weak evidence for migraine").
        finding = next((c for c in ranked if _checked(c) and c.names_everything_asked), None)
        if finding is not None:  # not among the chosen, by the test above
            chosen = [*chosen[: max_sentences - 1], finding]
    return chosen


def compose_answer(
    analysis: QuestionAnalysis,
    query_vector: Vectors,
    passages: Sequence[Passage],
    cache: VectorCache,
    lexicon: Lexicon,
    max_sentences: int,
    weights: ComposeWeights | None = None,
) -> Composed:
    """Build the cited answer for ``analysis`` (its expanded query) from ``passages``."""
    weights = weights or ComposeWeights()
    candidates = _candidates(analysis, query_vector, passages, cache, lexicon, weights)
    chosen = _select(candidates, max_sentences, weights.keep_within)
    if not chosen:
        return Composed("", (), ())
    kept = [(c.sentence, c.passage) for c in chosen]
    note = ""
    # The note only when, in this answer, a checked source finds weak or no evidence on a
    # topic where the article and the checked sources disagree (corpus/vocabulary.toml), and
    # the article speaks to the same topic.
    topics = [
        m
        for d in lexicon.vocabulary.disagreements
        if d.topic in analysis.disagreement_topics
        for m in d.match
    ]
    checked_on_topic = any(
        _checked(c)
        and _WEAK_EVIDENCE.search(c.sentence)
        and any(t in c.sentence.lower() for t in topics)
        for c in chosen
    )
    article_on_topic = any(
        is_article(c.passage) and any(t in c.sentence.lower() for t in topics) for c in chosen
    )
    if checked_on_topic and article_on_topic:
        note = prompts.DISAGREEMENT_NOTE
    return group_by_source(kept, note)


def group_by_source(kept: Sequence[tuple[str, Passage]], note: str = "") -> Composed:
    """Cited sentences grouped under headings saying whose statements they are (checked
    findings first, then unverified references, then the article's author), sources
    numbered in order of first use."""
    groups = (
        (prompts.LEAD_VERIFIED, [k for k in kept if not is_article(k[1]) and is_verified(k[1])]),
        (prompts.LEAD_OTHER, [k for k in kept if not is_article(k[1]) and not is_verified(k[1])]),
        (prompts.LEAD_ARTICLE, [k for k in kept if is_article(k[1])]),
    )
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    parts: list[AnswerPart] = []
    for heading, group in groups:
        if not group:
            continue
        items = []
        for sentence, passage in group:
            if passage.chunk_id not in numbers:
                numbers[passage.chunk_id] = len(numbers) + 1
                citations.append(make_citation(numbers[passage.chunk_id], passage))
            items.append((sentence, numbers[passage.chunk_id]))
        parts.append(AnswerPart(heading, tuple(items)))
    order = tuple(s for part in parts for s, _ in part.items)
    return Composed(answer_text(parts, note), tuple(citations), order, tuple(parts), note)


def answer_text(parts: Sequence[AnswerPart], note: str = "") -> str:
    """Plain text of an answer: optional note, then each heading with its cited sentences."""
    blocks = [note] if note else []
    for part in parts:
        lines = [part.heading] + [f"- {sentence} [{n}]" for sentence, n in part.items]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


_SENTENCE_LINE = re.compile(r"^- (?P<sentence>.+) \[(?P<n>\d+)\]$")


def parse_answer_line(line: str) -> tuple[str, int] | None:
    """(sentence, citation number) for an answer line, or None for headings and notes."""
    match = _SENTENCE_LINE.match(line)
    return (match.group("sentence"), int(match.group("n"))) if match else None


__all__ = ["Composed", "answer_text", "compose_answer", "group_by_source", "parse_answer_line"]
