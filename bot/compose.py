"""Passages -> extractive answer: verbatim sentences, each citing the passage it came from.

A sentence's score is its embedding similarity to the question plus how much of the
question's rarer vocabulary it contains (IDF-weighted, stemmed, acronyms expanded), so a
question about fibromyalgia picks the sentence that names fibromyalgia. Checked findings are
shown before the article author's views, under headings that say whose statement each is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot import prompts
from bot.citations import (
    is_article,
    is_checked_finding,
    is_news,
    is_verified,
    make_citation,
)
from bot.config import ComposeWeights
from bot.embeddings import Vectors
from bot.glossary import words_in
from bot.grounding import COSINE_WEIGHT, OVERLAP_WEIGHT, word_overlap
from bot.lead import (
    AnswerAids,
    Lead,
    caveats_of,
    lead_of,
    needed_chunks,
    restated_claim,
    showable,
)
from bot.lexicon import Lexicon, about_another_drug, question_terms, terms
from bot.plain import PlainSentence
from bot.types import AnswerPart, Citation, GlossaryEntry, Passage, PlainPoint
from bot.understand import QuestionAnalysis
from bot.vector_cache import VectorCache
from bot.vocabulary import Vocabulary

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
EXTRA_WITH_LEAD = 2
"""With a plain lead, quoted sentences beyond the exact words behind it."""
KEEP_WITH_LEAD = 0.1
"""With a plain lead, those extra sentences must be this close to the best one."""
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
    """Plain-language sentences leading the answer, each citing retrieved, shown passages."""
    words: tuple[GlossaryEntry, ...] = ()
    """"Words to know" for hard words in the answer."""
    words_first: bool = False
    """The question asks what a glossary word means: its entry leads the answer."""


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
        if (
            analysis.sources
            and not is_article(passage)
            and passage.source_id not in analysis.sources
        ):
            # "What did the 2023 review say?": another reference's note ("no paper with that
            # title could be matched to this PubMed ID") reads as the named one's.
            source_adjust -= weights.other_source_penalty
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
    return is_checked_finding(candidate.passage)


def _select(
    candidates: list[_Candidate], max_sentences: int, keep_within: float, min_relevance: float
) -> list[_Candidate]:
    ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
    if not ranked:
        return []
    # Beyond the best sentence, none below the relevance floor, rather than filling to a count
    # (the best one stays: whether the sources cover the question is the evidence step's call).
    floor = max(ranked[0].score - keep_within, min(min_relevance, ranked[0].score))
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
        if finding is not None and finding.score >= min(min_relevance, ranked[0].score):
            # In place of the last one, but never of the best one.
            chosen = [*chosen[: max(max_sentences - 1, 1)], finding]
    return chosen


def compose_answer(
    analysis: QuestionAnalysis,
    query_vector: Vectors,
    passages: Sequence[Passage],
    cache: VectorCache,
    lexicon: Lexicon,
    max_sentences: int,
    weights: ComposeWeights | None = None,
    lead: Lead | None = None,
    aids: AnswerAids | None = None,
    not_covered: Sequence[str] = (),
    linkable: Mapping[str, Passage] | None = None,
) -> Composed:
    """Build the cited answer for ``analysis`` (its expanded query) from ``passages``.

    With a plain ``lead`` (bot/lead.py), the answer leads with it and quotes, under it, the
    exact words of its backing passages (all retrieved) plus the best retrieved sentence; a
    quoted claim brings the plain caveats ``aids`` name for it, when their passages were
    retrieved too, or can be fetched from ``linkable`` (the store's passages by chunk id).
    ``not_covered``: parts of the question the sources were found not to cover, each named
    so in the note.
    """
    weights = weights or ComposeWeights()
    lead = lead or Lead()
    candidates = _candidates(analysis, query_vector, passages, cache, lexicon, weights)
    if lead:
        chosen = _select(candidates, EXTRA_WITH_LEAD, KEEP_WITH_LEAD, weights.min_relevance)
    else:
        chosen = _select(candidates, max_sentences, weights.keep_within, weights.min_relevance)
    chosen, uncovered = _cover_parts(lead, chosen, candidates)
    uncovered = [*(prompts.PART_NOT_COVERED.format(part=p) for p in not_covered), *uncovered]
    if aids is not None and aids.plain:
        # Each quote's plain restatement, read once: it decides whether the quote can be shown
        # and which caveats it brings.
        quoted = [(c, restated_claim(aids, c.passage, c.sentence, c.vector)) for c in chosen]
        if linkable:
            # After the candidates were read: a caveat's passage completes a quote and brings
            # no quotes of its own.
            passages = [*passages, *_caveat_passages(aids, quoted, passages, linkable)]
        quoted, notes = _claims_with_status(aids, quoted, passages, lexicon.vocabulary)
        chosen = [c for c, _ in quoted]
        lead = _with_claim_caveats(aids, lead, [s for _, s in quoted if s], passages, notes)
    if lead:
        chosen = _dedupe(chosen + _backing_sentences(lead, chosen, cache))
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
        # "The checked finding is shown first" only where the plain lead does start with one
        # ("show me the paper that says ketamine works for fibromyalgia" leads with the claims
        # it asks about); moving the checked findings up instead lost a blind A/B (rv29c).
        first_checked = not lead.sentences or is_checked_finding(
            lead.backing[lead.sentences[0].id][0]
        )
        note = prompts.DISAGREEMENT_NOTE if first_checked else prompts.DISAGREEMENT_NOTE_SHORT
    note = "\n\n".join([*([note] if note else []), *uncovered])
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    plain = tuple(
        PlainPoint(
            s.text,
            tuple(_number(p, numbers, citations) for p in lead.backing[s.id]),
            s.role,
        )
        for s in lead.sentences
    )
    return group_by_source(kept, note, numbers, citations, plain)


def _with_claim_caveats(
    aids: AnswerAids,
    lead: Lead,
    restated: Sequence[PlainSentence],
    passages: Sequence[Passage],
    notes: Sequence[str] = (),
) -> Lead:
    """``lead`` plus the caveats of the quoted claims (``restated``: the plain claims that
    restate them): a quoted benefit brings its limit even when no plain sentence leads, when
    the claim can be shown (a quoted risk does not bring the who-should-not list:
    needs_own_caveats); and the status ``notes`` the quotes rest on, whether or not their
    claims can be shown: "a pivotal study showed lasting relief" quoted without "that source
    has not been checked" read as a checked finding in a blind review (question batch 25)."""
    retrieved = {p.chunk_id: p for p in passages}
    by_id = aids.by_id()
    have = list(lead.sentences)
    claims: list[PlainSentence] = []
    for s in restated:
        if s not in claims and s not in have and showable(aids, s, retrieved):
            claims.append(s)
    # Only the quoted claims' caveats: the lead's own were chosen with it (a caveat already in
    # the lead does not bring its caveats again).
    extra = [s for s in caveats_of(aids, claims, retrieved) if s not in claims and s not in have]
    for note in (by_id[n] for n in notes):
        if note not in have and note not in extra:
            extra.append(note)
    return lead_of(aids, [*have, *extra], retrieved) if extra else lead


def _caveat_passages(
    aids: AnswerAids,
    quoted: Sequence[tuple[_Candidate, PlainSentence | None]],
    passages: Sequence[Passage],
    linkable: Mapping[str, Passage],
) -> list[Passage]:
    """The passages, not in ``passages``, that the claims restating the quotes need to be
    shown with their caveats. The search brings the article's claim ("ketamine has an
    established safety profile and a robust evidence base") by its words, not the guideline's
    limits on it; quoted alone, a blind review read five such claims as misleading (question
    batch 26)."""
    have = {p.chunk_id for p in passages}
    out: list[Passage] = []
    for _, claim in quoted:
        if claim is None or claim.role != "claim":
            continue
        for chunk_id in needed_chunks(aids, claim) or ():
            if chunk_id not in have and chunk_id in linkable:
                have.add(chunk_id)
                out.append(linkable[chunk_id])
    return out


def _claims_with_status(
    aids: AnswerAids,
    quoted: Sequence[tuple[_Candidate, PlainSentence | None]],
    passages: Sequence[Passage],
    vocabulary: Vocabulary,
) -> tuple[list[tuple[_Candidate, PlainSentence | None]], list[str]]:
    """``quoted`` (each quote with the plain claim that restates it) without the quoted
    claims resting on a reference whose status note (not checked, or mislabelled) cannot be
    shown with them. The author's "a pivotal 2020 study
    showed lasting relief" needs "that source has not been checked"; quoted alone, a blind
    review read it as a checked finding (question batch 24). A quoted sentence of the article
    rests on each reference it names (corpus/vocabulary.toml [[source_name]]: "an earlier study
    in Current Opinion in Anesthesiology") and on the claim that restates it. A claim whose
    missing caveats are only limits stays: "most studies were small" under "what is an NMDA
    receptor antagonist?" answers nothing asked. Also the ids of the status notes the kept
    quotes rest on, each once: they are shown with them."""
    retrieved = {p.chunk_id: p for p in passages}
    by_id = aids.by_id()

    def needed(c: _Candidate, claim: PlainSentence | None) -> set[str]:
        notes = {
            n for n in (claim.caveats if claim else ()) if n in by_id and by_id[n].role == "status"
        }
        if is_article(c.passage):
            for source in vocabulary.sources_named(c.sentence.lower()):
                notes |= aids.article_status_notes.get(source, frozenset())
        return notes

    kept: list[tuple[_Candidate, PlainSentence | None]] = []
    notes: list[str] = []
    for c, claim in quoted:
        wanted = needed(c, claim)
        if all(showable(aids, by_id[n], retrieved, with_caveats=False) for n in wanted):
            kept.append((c, claim))
            # The restating claim's own notes say what this quote needs ("not checked" under
            # "a pivotal study showed..."); the other notes on the references it names ("cited
            # three ways") only when no claim restates it.
            own = [n for n in (claim.caveats if claim else ()) if n in wanted]
            notes += [n for n in (own or sorted(wanted)) if n not in notes]
    return kept, notes


def _cover_parts(
    lead: Lead, chosen: list[_Candidate], candidates: Sequence[_Candidate]
) -> tuple[list[_Candidate], list[str]]:
    """A quoted sentence for each part of the question the plain lead does not answer, or a
    line naming the part as not covered when nothing retrieved comes close to it."""
    uncovered: list[str] = []
    for part, vector in lead.open_parts:
        v = vector.reshape(-1)
        quoted = max(candidates, key=lambda c: float(c.vector @ v), default=None)
        closest = float(quoted.vector @ v) if quoted is not None else 0.0
        if quoted is not None and closest >= PART_COVERED:
            if quoted not in chosen:
                chosen = [*chosen, quoted]
            continue
        closest = max([closest, *(float(pv @ v) for pv in lead.vectors.values())])
        if closest < PART_UNRELATED:
            uncovered.append(prompts.PART_NOT_COVERED.format(part=part))
    return chosen, uncovered


def _dedupe(chosen: Sequence[_Candidate]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for c in chosen:
        if all(float(c.vector @ o.vector) <= NEAR_DUPLICATE for o in out):
            out.append(c)
    return out


def _backing_sentences(
    lead: Lead, chosen: Sequence[_Candidate], cache: VectorCache
) -> list[_Candidate]:
    """For each plain sentence (caveats included), the verbatim sentence of its backing
    passages closest to it: the exact words under the plain ones."""
    have = {c.sentence for c in chosen}
    out: list[_Candidate] = []
    for plain in lead.sentences:
        backing = lead.backing[plain.id]
        vector = lead.vectors[plain.id]
        best: _Candidate | None = None
        quote = " ".join(plain.quote.split())
        for passage, entry in zip(backing, cache.get(backing), strict=True):
            for sentence, sv in zip(entry.sentences, entry.vectors, strict=True):
                if quote:
                    # A note about a claim (it names no source) stands over the claim's words.
                    fit = float(quote in " ".join(sentence.split()))
                else:
                    # Meaning and shared words, as the plain-language check scores support.
                    fit = COSINE_WEIGHT * float(sv @ vector) + OVERLAP_WEIGHT * word_overlap(
                        plain.text, sentence
                    )
                if best is None or fit > best.score:
                    best = _Candidate(sentence, passage, sv, fit)
        if best is not None and best.sentence not in have:
            have.add(best.sentence)
            out.append(best)
    return out


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


WORDS_LIMIT = 3
"""A blind review (question batch 22) read up to six entries, many for conditions named in
passing in a quoted passage, as padding: a few, from the words the patient reads first."""


LISTED_CONDITIONS = 3
"""A line naming this many conditions or more lists them: its conditions are named in passing."""


def with_words(
    composed: Composed,
    glossary: Sequence[GlossaryEntry],
    question: str = "",
    kinds: Sequence[str] = (),
    said: str = "",
    conditions: re.Pattern[str] | None = None,
) -> Composed:
    """``composed`` with "Words to know": glossary entries for the hard words it uses. When
    the question is mainly a "what is" question about glossary words ("What is CRPS?"), their
    entries come first and lead the answer: the sources rarely define a word, and a patient
    who asks what it means should read that before the findings. The other entries are for
    the hard words of the plain-language lead (of the quoted sentences when there is none),
    except those in ``said`` (the conditions the patient named): someone who writes "my
    fibromyalgia" knows the word, and a blind review (question batch 23) read such entries
    as padding. Nor are the words of a line that lists ``conditions`` ("weak or no evidence
    for migraine, fibromyalgia or nerve pain...") unless another line uses them: two blind
    reviews (question batch 25) read "Fibromyalgia" under a phantom limb answer as padding."""
    lines = [p.text for p in composed.plain] or list(composed.sentences)
    if conditions is not None:
        lines = [
            line
            for line in lines
            if len({m.group(0) for m in conditions.finditer(line.lower())}) < LISTED_CONDITIONS
        ]
    text = " ".join(lines)
    known = set(words_in(said, glossary, len(glossary))) if said else set()
    used = tuple(w for w in words_in(text, glossary, len(glossary)) if w not in known)
    asked = words_in(question, glossary, WORDS_LIMIT) if kinds[:1] == ("what_is",) else ()
    if not composed.text:
        asked = ()
    ordered = asked + tuple(w for w in used if w not in asked)
    return replace(composed, words=ordered[:WORDS_LIMIT], words_first=bool(asked))


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


__all__ = [
    "Composed",
    "answer_text",
    "compose_answer",
    "group_by_source",
    "parse_answer_line",
    "with_words",
]
