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

import numpy as np

from bot import prompts
from bot.citations import is_article, is_checked_finding, is_news, is_verified, make_citation
from bot.embeddings import Vectors
from bot.glossary import words_in
from bot.grounding import COSINE_WEIGHT, OVERLAP_WEIGHT, word_overlap
from bot.lead import AnswerAids, choose_lead, claims_in, score_plain, with_caveats
from bot.lexicon import Lexicon, about_another_drug, asked_drugs_of, question_terms, terms
from bot.plain import PlainSentence
from bot.question_parts import question_parts
from bot.types import AnswerPart, Citation, GlossaryEntry, Passage, PlainPoint
from bot.vector_cache import VectorCache

# Sections that list or describe sources rather than say anything about pain care.
_SKIPPED_SECTIONS = frozenset(["references"])
# Reference-record sections that describe the source itself rather than its findings; they
# answer "what is this paper?" questions but should not crowd out findings elsewhere.
_ABOUT_SOURCE_SECTION = re.compile(
    r"^(what (is known about )?this (reference|document|review|source)|why it was written)", re.I
)
_ASKS_ABOUT_SOURCES = re.compile(
    r"\b(who|wrote|written|author\w*|study|studies|review\w*|guideline\w*|paper\w*|source\w*|"
    r"reference\w*|cite\w*|citation\w*|journal\w*|publish\w*|pubmed|pmid|article)\b",
    re.I,
)
ABOUT_SOURCE_PENALTY = 0.12
_NAMES_THE_ARTICLE = re.compile(r"\b(this|the) (article|blog|post|page)\b", re.I)
NAMED_SOURCE_BONUS = 0.06
_AUTHORSHIP = re.compile(r"\b(who|wrote|written|author\w*)\b", re.I)
_CONFLICT_TOPICS = ("migrain", "fibromyalg", "headache")
_WEAK_EVIDENCE = re.compile(
    r"\b(weak|no|little|limited|insufficient|inconclusive) (or no )?evidence\b|\bnot supported\b",
    re.I,
)
LEXICAL_WEIGHT = 0.35
SECTION_WEIGHT = 0.25
VERIFIED_BONUS = 0.05
UNVERIFIED_PENALTY = 0.08
KEEP_WITHIN = 0.22
"""Sentences scoring more than this below the best one are left out, however few remain."""
MIN_RELEVANCE = 0.5
"""Quoted sentences scoring below this are left out even when they are the best there is
(calibrated on eval/answer_pairs.jsonl; docs/benchmarks.md, Issue 13)."""
NEAR_DUPLICATE = 0.85
EXTRA_WITH_LEAD = 1
KEEP_WITH_LEAD = 0.05
"""With a plain lead, retrieved sentences beyond its backing must be this close to the best."""
PART_COVERED = 0.55
"""A part of a multi-part question counts as answered by a sentence this similar to it."""
PART_UNRELATED = 0.4
"""A part is named as not covered only when no sentence at all comes this close to it."""


@dataclass(frozen=True)
class Composed:
    text: str
    citations: tuple[Citation, ...]
    sentences: tuple[str, ...]
    """The answer sentences (without headings or citation marks), each verbatim."""
    parts: tuple[AnswerPart, ...] = ()
    note: str = ""
    plain: tuple[PlainPoint, ...] = ()
    words: tuple[GlossaryEntry, ...] = ()


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
    query: str,
    query_vector: Vectors,
    passages: Sequence[Passage],
    cache: VectorCache,
    lexicon: Lexicon,
    about_sources: bool = False,
) -> list[_Candidate]:
    # Words no source uses ("wrote", once "author" stands in for it) cannot be found, so
    # they would only lower every sentence's share.
    asked_terms = question_terms(query)
    q_terms = {t for t in asked_terms if lexicon.used(t)}
    names_the_article = bool(_NAMES_THE_ARTICLE.search(query))
    asks_about_sources = about_sources or bool(_ASKS_ABOUT_SOURCES.search(query))
    if names_the_article:
        # "Who wrote this article?" is about the article itself, not the notes on the papers it
        # cites ("the study this article mentions" still is), and "article" then names the
        # source rather than a word to look for in sentences.
        rest = _AUTHORSHIP.sub(" ", _NAMES_THE_ARTICLE.sub(" ", query))
        asks_about_sources = about_sources or bool(_ASKS_ABOUT_SOURCES.search(rest))
        q_terms -= set(terms("article blog post page"))
    asked_drugs = asked_drugs_of(asked_terms)
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
            source_adjust = NAMED_SOURCE_BONUS if names_the_article else 0.0
        elif is_verified(passage):
            source_adjust = VERIFIED_BONUS
        else:
            # Unverified records only describe how the article cites them: useful when the
            # question is about the sources, noise when it is about pain care.
            source_adjust = 0.0 if asks_about_sources else -UNVERIFIED_PENALTY
        if not asks_about_sources and _ABOUT_SOURCE_SECTION.match(passage.section.strip()):
            source_adjust -= ABOUT_SOURCE_PENALTY
        sims = entry.vectors @ query_vector.reshape(-1)
        for sentence, vector, sim in zip(entry.sentences, entry.vectors, sims, strict=True):
            if len(sentence.split()) < 5 or sentence.endswith("?") or sentence.startswith("#"):
                continue
            read_as = set(terms(sentence)) | context_terms
            if about_another_drug(read_as, asked_drugs):
                # "Serious side effects were rare" in the ketamine guideline says nothing
                # about psilocybin's side effects, however well it matches the words.
                continue
            lexical = _overlap(q_terms, read_as, lexicon)
            score = (
                float(sim)
                + LEXICAL_WEIGHT * lexical
                + SECTION_WEIGHT * section_score
                + source_adjust
            )
            out.append(_Candidate(sentence, passage, vector, score, lexical >= 0.999))
    return out


def _checked(candidate: _Candidate) -> bool:
    return is_checked_finding(candidate.passage)


def _select(
    candidates: list[_Candidate],
    max_sentences: int,
    min_relevance: float = MIN_RELEVANCE,
    keep_within: float = KEEP_WITHIN,
) -> list[_Candidate]:
    ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
    if not ranked:
        return []
    floor = max(ranked[0].score - keep_within, min_relevance)
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
        if finding is not None and finding.score >= min_relevance:
            chosen = [*chosen[: max_sentences - 1], finding]
    return chosen


def compose_answer(
    query: str,
    query_vector: Vectors,
    passages: Sequence[Passage],
    cache: VectorCache,
    lexicon: Lexicon,
    max_sentences: int,
    aids: AnswerAids | None = None,
    *,
    question: str = "",
    personal: bool = False,
) -> Composed:
    """Build the cited answer for ``query`` (already expanded) from retrieved ``passages``.

    With ``aids``: the answer leads with the plain-language sentences that answer the
    question's kind, each bringing its caveats (whose exact passages are quoted too); each part
    of a multi-part ``question`` is answered or named as not covered; hard words are defined.
    """
    aids = aids or AnswerAids()
    kinds = aids.question_kinds(query_vector)
    about_sources = bool(kinds) and kinds[0] in ("is_it_true", "which_study")
    candidates = _candidates(query, query_vector, passages, cache, lexicon, about_sources)
    asked = question_terms(query)
    drugs = asked_drugs_of(asked)
    scored = score_plain(
        aids, question or query, asked, query_vector, kinds, drugs, lexicon, personal
    )
    lead = [c.sentence for c in choose_lead(scored)]
    # Checked findings first, then notes on unchecked references, news, the article's views;
    # for a personal question the sources' cautions lead.
    lead.sort(key=lambda s: (personal and s.role not in ("caution", "risk"), _rank(aids, s)))
    # With a plain lead, the quoted part shows the exact words behind it plus at most a couple
    # of retrieved sentences as strong as the best one; without one, the best retrieved ones.
    chosen = (
        _select(candidates, EXTRA_WITH_LEAD, MIN_RELEVANCE, KEEP_WITH_LEAD)
        if lead
        else _select(candidates, max_sentences)
    )
    notes: list[str] = []
    parts = question_parts(question)
    if len(parts) > 1 and aids.embedder is not None:
        lead, chosen, missing = _cover_parts(
            parts, aids, lead, chosen, candidates, lexicon, personal, drugs
        )
        notes += [prompts.PART_NOT_COVERED.format(part=p) for p in missing]
    claims = claims_in(aids, [(c.passage, c.vector) for c in chosen])
    shown = with_caveats(aids, [*lead, *(c for c in claims if c not in lead)])
    caveats = [s for s in shown if s not in lead and s not in claims]
    lead = [*lead, *caveats]
    chosen = _dedupe(_backing_sentences(aids, lead, chosen, cache) + chosen)
    if not chosen and not lead:
        return Composed("", (), ())
    kept = [(c.sentence, c.passage) for c in chosen]
    if _disagree(query, chosen):
        notes.insert(0, prompts.DISAGREEMENT_NOTE)
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    plain = tuple(
        PlainPoint(
            s.text,
            tuple(_number(p, numbers, citations) for p in aids.passages_of(s)),
            s.role,
        )
        for s in lead
    )
    composed = group_by_source(kept, "\n\n".join(notes), numbers, citations, plain)
    text = " ".join([*(p.text for p in plain), *composed.sentences])
    return Composed(
        composed.text,
        composed.citations,
        composed.sentences,
        composed.parts,
        composed.note,
        plain,
        words_in(text, aids.glossary),
    )


def _dedupe(chosen: Sequence[_Candidate]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for c in chosen:
        if all(float(c.vector @ o.vector) <= NEAR_DUPLICATE for o in out):
            out.append(c)
    return out


def _rank(aids: AnswerAids, sentence: PlainSentence) -> int:
    passages = aids.passages_of(sentence)
    if not passages:
        return 4
    p = passages[0]
    return 0 if is_checked_finding(p) else 3 if is_article(p) else 2 if is_news(p) else 1


def _disagree(query: str, chosen: Sequence[_Candidate]) -> bool:
    """A checked source in the answer finds weak or no evidence on the topic asked about, and
    the article speaks to the same topic."""
    topics = [t for t in _CONFLICT_TOPICS if t in query.lower()]
    checked_on_topic = any(
        _checked(c)
        and _WEAK_EVIDENCE.search(c.sentence)
        and any(t in c.sentence.lower() for t in topics)
        for c in chosen
    )
    article_on_topic = any(
        is_article(c.passage) and any(t in c.sentence.lower() for t in topics) for c in chosen
    )
    return checked_on_topic and article_on_topic


def _backing_sentences(
    aids: AnswerAids,
    lead: Sequence[PlainSentence],
    chosen: Sequence[_Candidate],
    cache: VectorCache,
) -> list[_Candidate]:
    """For each plain sentence (caveats included), the verbatim sentence of its backing
    passages closest to it: the exact words under the plain ones."""
    by_id = {s.id: i for i, s in enumerate(aids.plain)}
    have = {c.sentence for c in chosen}
    out: list[_Candidate] = []
    for caveat in lead:
        backing = aids.passages_of(caveat)
        vector = aids.vectors[by_id[caveat.id]]
        best: _Candidate | None = None
        for passage, entry in zip(backing, cache.get(backing), strict=True):
            for sentence, sv in zip(entry.sentences, entry.vectors, strict=True):
                # Meaning and shared words, as the plain-language check scores support.
                fit = COSINE_WEIGHT * float(sv @ vector) + OVERLAP_WEIGHT * word_overlap(
                    caveat.text, sentence
                )
                if best is None or fit > best.score:
                    best = _Candidate(sentence, passage, sv, fit)
        if best is not None and best.sentence not in have:
            have.add(best.sentence)
            out.append(best)
    return out


def _cover_parts(
    parts: Sequence[str],
    aids: AnswerAids,
    lead: list[PlainSentence],
    chosen: list[_Candidate],
    candidates: Sequence[_Candidate],
    lexicon: Lexicon,
    personal: bool,
    drugs: set[str],
) -> tuple[list[PlainSentence], list[_Candidate], list[str]]:
    """Each part of the question gets its own best sentence, or is named as not covered."""
    assert aids.embedder is not None
    vectors = aids.embedder.embed_documents(list(parts))
    missing: list[str] = []
    for part, pv in zip(parts, vectors, strict=True):
        asked = question_terms(part)
        kinds = aids.question_kinds(pv)
        best = choose_lead(
            # The drugs of the whole question: "does it help pain" is still about ketamine.
            score_plain(
                aids, part, asked, pv, kinds, drugs | asked_drugs_of(asked), lexicon, personal
            )
        )
        if best:
            if best[0].sentence not in lead:
                lead = [*lead, best[0].sentence]
            continue
        quoted = max(candidates, key=lambda c: float(c.vector @ pv), default=None)
        if quoted is not None and float(quoted.vector @ pv) >= PART_COVERED:
            if quoted not in chosen:
                chosen = [*chosen, quoted]
            continue
        closest = max(
            [float(quoted.vector @ pv)] if quoted is not None else [0.0],
            default=0.0,
        )
        if aids.plain:
            closest = max(closest, float(np.max(aids.vectors @ pv)))
        if closest < PART_UNRELATED:
            missing.append(part)
    return lead, chosen, missing


def _number(passage: Passage, numbers: dict[str, int], citations: list[Citation]) -> int:
    if passage.chunk_id not in numbers:
        numbers[passage.chunk_id] = len(numbers) + 1
        citations.append(make_citation(numbers[passage.chunk_id], passage))
    return numbers[passage.chunk_id]


def group_by_source(
    kept: Sequence[tuple[str, Passage]],
    note: str = "",
    numbers: dict[str, int] | None = None,
    citations: list[Citation] | None = None,
    plain: Sequence[PlainPoint] = (),
) -> Composed:
    """Cited sentences grouped under headings saying whose statements they are (checked
    findings first, then unverified references, then news reports, then the article's
    author), sources numbered in order of first use (after any already in ``numbers``)."""
    groups = (
        (prompts.LEAD_VERIFIED, [k for k in kept if is_checked_finding(k[1])]),
        (
            prompts.LEAD_OTHER,
            [
                k
                for k in kept
                if not is_article(k[1]) and not is_news(k[1]) and not is_checked_finding(k[1])
            ],
        ),
        (prompts.LEAD_NEWS, [k for k in kept if is_news(k[1]) and not is_article(k[1])]),
        (prompts.LEAD_ARTICLE, [k for k in kept if is_article(k[1])]),
    )
    numbers = {} if numbers is None else numbers
    citations = [] if citations is None else citations
    parts: list[AnswerPart] = []
    for heading, group in groups:
        if not group:
            continue
        items = [(sentence, _number(passage, numbers, citations)) for sentence, passage in group]
        parts.append(AnswerPart(heading, tuple(items)))
    order = tuple(s for part in parts for s, _ in part.items)
    text = answer_text(parts, note, plain)
    return Composed(text, tuple(citations), order, tuple(parts), note, tuple(plain))


def answer_text(
    parts: Sequence[AnswerPart], note: str = "", plain: Sequence[PlainPoint] = ()
) -> str:
    """Plain text of an answer: optional note, the plain-language lead (its lines start with
    "* "), then each heading with its cited sentences ("- sentence [n]")."""
    blocks = [note] if note else []
    if plain:
        lines = [prompts.LEAD_PLAIN]
        for point in plain:
            marks = "".join(f"[{n}]" for n in point.citations)
            lines.append(f"* {point.text} {marks}".rstrip())
        blocks.append("\n".join(lines))
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
