"""The plain-language lead of an answer: which checked plain sentences answer the question,
and the caveats that must travel with them, using only passages retrieved for this answer.

A plain sentence (corpus/plain/) is chosen by its similarity to the question, the share of the
question's words it is about, whether it was written for the question's kind, and the
conditions or drugs the asker names (a personal question naming glaucoma gets the sources'
line on raised eye pressure). Grounding: a sentence is shown only when every passage backing
it was retrieved for this answer (so its exact words are shown under it), and a claim is shown
only when the caveats it names can be shown too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

import numpy as np

from bot.citations import ARTICLE_ID, is_article, is_checked_finding, is_news
from bot.embeddings import Embedder, Vectors
from bot.glossary import load_glossary
from bot.grounding import COSINE_WEIGHT, OVERLAP_WEIGHT, word_overlap
from bot.lexicon import Lexicon, about_another_drug, drug_families_in, question_terms, terms
from bot.plain import UNCITED, PlainRefusal, PlainSentence, check_plain, load_names, load_plain
from bot.question_kind import KindClassifier
from bot.sentences import split_sentences
from bot.text_vectors import CACHE_NAME as TEXT_VECTORS
from bot.text_vectors import RememberingEmbedder
from bot.types import GlossaryEntry, Passage
from bot.understand import QuestionAnalysis

log = logging.getLogger(__name__)

LEXICAL_WEIGHT = 0.3
ASK_WEIGHT = 0.5
"""Share of a plain sentence's similarity that comes from its nearest example question."""
ABOUT_BONUS = 0.25
"""A phrase of the sentence's `about` list found in the question ("glaucoma", "back pain")."""
CONTEXT_SHARE = 0.5
"""The share of ABOUT_BONUS for a phrase found only in the statements around the asked part."""
KIND_BONUS = 0.1
PARAPHRASE = 0.85
"""Similarity from which a sentence's example question is a paraphrase of the question: the
sentence was written for that very question, whatever kind the question is read as."""
PARAPHRASE_GAP = 0.1
OTHER_SOURCE_PENALTY = 0.25
"""A question that names a source (corpus/vocabulary.toml [[source_name]]): another
reference's sentence would read as the named one's ("What's in the 2023 review?" answered with
the 2024 scoping review's line on Schedule I), so it needs that much more to lead. So does an
article sentence unless its caveats are the named source's: the article's claims about that
source answer, its other claims do not ("is that Psychedelics Today thing a study?" was
answered with the author's view that ketamine is not a classic psychedelic)."""
CAUTION_BONUS = 0.1
"""Personal questions: the sources' cautions about what the asker named come first."""
MIN_SCORE = 0.55
"""Calibrated on eval/answer_pairs.jsonl (docs/benchmarks.md, Issue 13); below it a plain
sentence is not shown, however few are left."""
KEEP_WITHIN = 0.15
RELATED_WITHIN = 0.3
"""A caveat scoring within this of the best sentence is about what was asked: it is shown
with the answering sentences, before caveats about other things."""
MAX_LEAD = 2
"""Answering sentences in a lead, before their caveats. Chosen on eval/answer_pairs.jsonl
once the passages behind a lead are fetched by link (every chosen sentence can then be shown
with its caveats): 2 gave sentence precision 0.863 against 0.818 for 3, with every needed
caveat shown in both (docs/benchmarks.md)."""
MAX_CAVEATS = 6
EFFECT_KIND = "does_it_work"
"""The question kind (corpus/question_kinds.toml) whose drugs each get their own sentence."""
_CAUTION_ROLES = frozenset(["caution", "risk"])
_CARRIES_CAVEATS = frozenset(["claim", "benefit"])


@dataclass(frozen=True)
class AnswerAids:
    """What the composer needs besides the retrieved passages, built once per store."""

    plain: tuple[PlainSentence, ...] = ()
    refused: tuple[PlainRefusal, ...] = ()
    vectors: Vectors = field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))
    plain_terms: tuple[frozenset[str], ...] = ()
    context_terms: tuple[frozenset[str], ...] = ()
    """Each sentence's words with its backing sources' titles and sections: a sentence is read
    in the context of its source ("serious side effects were rare" is about ketamine)."""
    about: tuple[re.Pattern[str] | None, ...] = ()
    backing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Plain sentence id -> chunk ids of every passage in the sections it names."""
    kinds: KindClassifier | None = None
    glossary: tuple[GlossaryEntry, ...] = ()
    ask_vectors: Vectors = field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))
    """The vectors of every sentence's example questions (``asks``), row by row."""
    ask_owner: tuple[int, ...] = ()
    """For each row of ``ask_vectors``, the index in ``plain`` of the sentence it belongs to."""

    @classmethod
    def build(
        cls,
        corpus_dir: Path,
        embedder: Embedder,
        passages: Sequence[Passage],
        cache_dir: Path | None = None,
    ) -> AnswerAids:
        """Check the plain layer against ``passages`` (the store's) and embed what answers
        compare with; with ``cache_dir``, the vectors ingest kept there are read, not made
        again (the bot never writes them: a replica on a shared store makes nothing locally)."""
        remembering = RememberingEmbedder(embedder, cache_dir / TEXT_VECTORS) if cache_dir else None
        return cls._build(corpus_dir, remembering or embedder, passages)

    @classmethod
    def _build(
        cls, corpus_dir: Path, embedder: Embedder, passages: Sequence[Passage]
    ) -> AnswerAids:
        sections: dict[tuple[str, str], list[Passage]] = {}
        for p in passages:
            sections.setdefault((p.source_id, p.section.strip().lower()), []).append(p)
        texts = {key: _section_text(ps) for key, ps in sections.items()}
        layer, refused = check_plain(
            load_plain(corpus_dir), texts, embedder, load_names(corpus_dir)
        )
        for r in refused:
            log.warning("plain sentence %s (%s) not used: %s", r.id, r.path, r.reason)
        plain = layer.sentences
        vectors = (
            embedder.embed_documents([s.text for s in plain])
            if plain
            else np.zeros((0, 1), dtype=np.float32)
        )
        asks = [(i, q) for i, s in enumerate(plain) for q in s.asks]
        ask_vectors = (
            embedder.embed_documents([q for _, q in asks])
            if asks
            else np.zeros((0, 1), dtype=np.float32)
        )
        backing = {
            s.id: tuple(p.chunk_id for key in s.backed_by_lower() for p in sections.get(key, ()))
            for s in plain
        }
        plain_terms = tuple(frozenset(terms(" ".join([s.text, *s.about]))) for s in plain)
        context = {
            key: frozenset(
                t for p in ps for t in terms(f"{p.section} {p.metadata.get('title', '')}")
            )
            for key, ps in sections.items()
        }
        return cls(
            plain=plain,
            refused=tuple(refused),
            vectors=vectors,
            plain_terms=plain_terms,
            context_terms=tuple(
                own.union(*(context.get(key, frozenset()) for key in s.backed_by_lower()))
                for s, own in zip(plain, plain_terms, strict=True)
            ),
            about=tuple(_phrases(s.about) for s in plain),
            backing=backing,
            kinds=KindClassifier.load(corpus_dir, embedder),
            glossary=load_glossary(corpus_dir),
            ask_vectors=ask_vectors,
            ask_owner=tuple(i for i, _ in asks),
        )

    def similarities_and_asks(self, vector: Vectors) -> tuple[np.ndarray, np.ndarray]:
        """How close each plain sentence is to the question, and its nearest example
        question's similarity (its own where it has none). The first is a blend of the two (a
        question is nearer to another question than to the statement that answers it: "how
        does ketamine ease pain?" and the NMDA line). An example that paraphrases the question
        (PARAPHRASE) is the question the sentence was written for: the blend is then at least
        that example's similarity less PARAPHRASE_GAP, however far the statement's own words
        are ("which conditions did the psychedelic studies look at" and "Three studies were on
        phantom limb pain...")."""
        q = vector.reshape(-1)
        sims = self.vectors @ q
        if not self.ask_owner:
            return sims, sims
        nearest = np.full(len(self.plain), -np.inf, dtype=np.float32)
        np.maximum.at(nearest, np.asarray(self.ask_owner), self.ask_vectors @ q)
        nearest = np.where(np.isfinite(nearest), nearest, sims)  # a sentence with no asks
        blend = (1 - ASK_WEIGHT) * sims + ASK_WEIGHT * nearest
        paraphrased = np.where(nearest >= PARAPHRASE, nearest - PARAPHRASE_GAP, -np.inf)
        return np.maximum(blend, paraphrased), nearest

    def question_kinds(self, vector: Vectors) -> tuple[str, ...]:
        return self.kinds.kinds(vector) if self.kinds else ()

    def kind_similarity(self, vector: Vectors, kind: str) -> float:
        return self.kinds.similarity(vector, kind) if self.kinds else 0.0

    def by_id(self) -> Mapping[str, PlainSentence]:
        return self._by_id

    @cached_property
    def sources(self) -> frozenset[str]:
        """Ids of the sources the plain layer sums up."""
        return frozenset(s.source_id for s in self.plain)

    @cached_property
    def position(self) -> Mapping[str, int]:
        """Each plain sentence's index in ``plain`` (and in ``vectors``, ``context_terms``)."""
        return MappingProxyType({s.id: i for i, s in enumerate(self.plain)})

    @cached_property
    def _by_id(self) -> Mapping[str, PlainSentence]:
        # Read by every caveat and showability check of every answer: built once per store.
        return MappingProxyType({s.id: s for s in self.plain})

    @cached_property
    def article_status_notes(self) -> Mapping[str, frozenset[str]]:
        """Per reference, the ids of its status notes (not checked, mislabelled) that the
        article's own claims carry: a quoted sentence naming that reference needs them."""
        by_id = self._by_id
        notes: dict[str, set[str]] = {}
        for s in self.plain:
            if s.source_id == ARTICLE_ID:
                for c in s.caveats:
                    if c in by_id and by_id[c].role == "status":
                        notes.setdefault(by_id[c].source_id, set()).add(c)
        return MappingProxyType({k: frozenset(v) for k, v in notes.items()})

    @cached_property
    def plain_words(self) -> frozenset[str]:
        """Every word the plain layer is read with (sentences, sources' titles, sections)."""
        return frozenset().union(*self.context_terms)


@dataclass(frozen=True)
class Lead:
    """The plain sentences an answer leads with (caveats included), each with the retrieved
    passages that back it; every one of those passages is shown under the answer."""

    sentences: tuple[PlainSentence, ...] = ()
    backing: Mapping[str, tuple[Passage, ...]] = field(default_factory=dict)
    """Plain sentence id -> its backing passages, as retrieved for this answer."""
    vectors: Mapping[str, Vectors] = field(default_factory=dict)
    open_parts: tuple[tuple[str, Vectors], ...] = ()
    """Parts of a multi-part question no plain sentence answers (with their vectors), for the
    composer to answer with a quoted sentence or name as not covered."""

    def __bool__(self) -> bool:
        return bool(self.sentences)


def _section_text(chunks: Sequence[Passage]) -> str:
    """A section's text from its chunks, the sentences that overlapping chunks repeat once (as
    ingest's check reads the document's section)."""

    def index(p: Passage) -> int:
        tail = p.chunk_id.rsplit(":", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    ordered = sorted(chunks, key=index)
    sentences: list[str] = []
    for chunk in ordered:
        new = split_sentences(chunk.text)
        overlap = next(
            (k for k in range(min(len(new), len(sentences)), 0, -1) if new[:k] == sentences[-k:]),
            0,
        )
        sentences += new[overlap:]
    return "\n\n".join(sentences)


def shown_backing(
    aids: AnswerAids, sentence: PlainSentence, retrieved: Mapping[str, Passage]
) -> tuple[Passage, ...] | None:
    """The retrieved passages backing ``sentence``, or None when any of them was not retrieved
    (the sentence may then not be shown: its exact words could not be shown under it)."""
    ids = aids.backing.get(sentence.id, ())
    if not ids or any(i not in retrieved for i in ids):
        return None
    return tuple(retrieved[i] for i in ids)


def _phrases(about: Sequence[str]) -> re.Pattern[str] | None:
    if not about:
        return None
    alternatives = "|".join(re.escape(a) for a in sorted(about, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})", re.I)


@dataclass(frozen=True)
class ScoredPlain:
    sentence: PlainSentence
    vector: Vectors
    score: float


def score_plain(
    aids: AnswerAids,
    analysis: QuestionAnalysis,
    vector: Vectors,
    kinds: Sequence[str],
    lexicon: Lexicon,
    personal: bool = False,
) -> list[ScoredPlain]:
    """Every plain sentence about what was asked, best first, with its score."""
    if not aids.plain:
        return []
    q_terms = question_terms(analysis.query, lexicon.vocabulary)
    sims, asks = aids.similarities_and_asks(vector)
    weights = {t: lexicon.idf(t) ** 2 for t in q_terms}
    total = sum(weights.values())
    asked = asked_text(analysis)
    unnamed = lexicon.vocabulary.without_source_names(analysis.text)
    out = []
    for i, s in enumerate(aids.plain):
        if s.role == UNCITED:
            continue  # a note on another sentence's claim, shown only as its caveat
        if about_another_drug(set(aids.context_terms[i]), analysis.drugs, lexicon.vocabulary):
            continue
        share = sum(weights[t] for t in q_terms & aids.plain_terms[i]) / total if total else 0.0
        about = aids.about[i]
        named = bool(about and about.search(unnamed))
        bonus = 0.0
        if about and named:
            # Named where the question asks, or only in the story around it (a condition in
            # the backstory of a question about addiction: the question is about addiction).
            bonus = ABOUT_BONUS if about.search(asked) else CONTEXT_SHARE * ABOUT_BONUS
        score = float(sims[i]) + LEXICAL_WEIGHT * share + bonus
        # Of a source other than the one the question names: written for the same kind of
        # question, it still answers it about the wrong source ("who wrote the 2018
        # guideline?" is not answered by who wrote the article).
        other_source = bool(analysis.sources) and not _speaks_of(aids, s, analysis.sources)
        if set(kinds) & set(s.kinds):  # written for what was asked
            score += 0.0 if other_source else KIND_BONUS
        elif kinds and asks[i] < PARAPHRASE:  # for another kind, unless it was written for this
            score -= KIND_BONUS
        if personal and named and s.role in _CAUTION_ROLES:
            score += CAUTION_BONUS
        if other_source:
            score -= OTHER_SOURCE_PENALTY
        out.append(ScoredPlain(s, aids.vectors[i], score))
    return sorted(out, key=lambda c: c.score, reverse=True)


def _speaks_of(aids: AnswerAids, sentence: PlainSentence, sources: Collection[str]) -> bool:
    """Whether ``sentence`` is one of ``sources``' own, or the article's claim about one of
    them (a claim whose caveats are that source's: "the author says a 2020 study showed...")."""
    if sentence.source_id in sources:
        return True
    if sentence.source_id != ARTICLE_ID:
        return False
    by_id = aids.by_id()
    return any(c in by_id and by_id[c].source_id in sources for c in sentence.caveats)


def asked_text(analysis: QuestionAnalysis) -> str:
    """The part of the question that asks, with the words it points back to ("fibro + ket
    infusions.. does it work?") and a follow-up's subject."""
    pointed = " ".join(
        t.word for t in analysis.terms if t.asked and t.word not in analysis.resolved
    )
    return f"{analysis.resolved} {pointed}".strip()


def _near_best(
    scored: Sequence[ScoredPlain], within: float, min_score: float = MIN_SCORE
) -> list[ScoredPlain]:
    """The sentences above the floor that score within ``within`` of the best one."""
    if not scored or scored[0].score < min_score:
        return []
    floor = max(min_score, scored[0].score - within)
    return [c for c in scored if c.score >= floor]


def choose_lead(scored: Sequence[ScoredPlain], min_score: float = MIN_SCORE) -> list[ScoredPlain]:
    """The best plain sentences above the floor and near the best one, at most MAX_LEAD."""
    return _near_best(scored, KEEP_WITHIN, min_score)[:MAX_LEAD]


def required_caveats(
    aids: AnswerAids, sentence: PlainSentence, named: Collection[str] = ()
) -> tuple[str, ...]:
    """The caveats ``sentence`` must be shown with. A caution lists the other cautions of its
    list ("heart disease" names "raised eye pressure"), so a question about who should not
    have it gets the whole list; but when the question names the caution's own subject
    (``named``: "I'm scared about addiction"), only the cautions it names come with it: the
    rest of the list answers nothing asked (a blind review counted it as padding:
    docs/benchmarks.md). A risk keeps its cautions (who is at more risk) either way: a
    second review counted them as part of the answer to "what makes side effects likely"."""
    if sentence.id not in named or sentence.role != "caution":
        return sentence.caveats
    by_id = aids.by_id()
    return tuple(
        c for c in sentence.caveats if c in named or not (c in by_id and by_id[c].role == "caution")
    )


_EXAMPLES = re.compile(
    r"[,?;:(-]\s*(?:like|such as|for example|for instance|e\.g\.?|say)\s[^.?!]*", re.IGNORECASE
)
WHO_SHOULD_NOT_KIND = "who_should_not"


def without_examples(question: str, kinds: Sequence[str]) -> str:
    """``question`` without the examples it gives of a group it asks about, when it asks who
    should not have a treatment: "are there people who shouldn't have it? like heart problems
    or liver problems?" asks for the whole list, not for the two examples (a blind review
    counted the rest of the list as missing). Not in other questions: "what about mental
    illness, like psychosis?" asks about psychosis."""
    if WHO_SHOULD_NOT_KIND not in kinds:
        return question
    return _EXAMPLES.sub(" ", question)


def named_in(aids: AnswerAids, question: str) -> frozenset[str]:
    """Ids of the plain sentences whose subject (their ``about`` phrases) the question names."""
    return frozenset(
        s.id
        for s, about in zip(aids.plain, aids.about, strict=True)
        if about is not None and about.search(question)
    )


def caveats_of(
    aids: AnswerAids,
    chosen: Sequence[PlainSentence],
    retrieved: Mapping[str, Passage],
    named: Collection[str] = (),
) -> list[PlainSentence]:
    """The showable caveats ``chosen`` name (each once, at most MAX_CAVEATS), not in it;
    ``named``: see required_caveats."""
    by_id = aids.by_id()
    have = {s.id for s in chosen}
    extra: list[PlainSentence] = []
    # Whether a reference could be checked comes before other limits; a caveat's own caveats
    # (a claim's source that was mislabelled) are followed too.
    queue = sorted(
        (cid for s in chosen for cid in required_caveats(aids, s, named)),
        key=lambda cid: cid in by_id and by_id[cid].role != "status",
    )
    while queue and len(extra) < MAX_CAVEATS:
        cid = queue.pop(0)
        if cid in have or cid not in by_id:
            continue
        have.add(cid)
        if showable(aids, by_id[cid], retrieved, needs_own_caveats(by_id[cid])):
            extra.append(by_id[cid])
            if needs_own_caveats(by_id[cid]):
                queue.extend(by_id[cid].caveats)
    return extra


def needs_own_caveats(caveat: PlainSentence) -> bool:
    """Whether a sentence shown as another's caveat brings its own caveats too. A claim or a
    benefit does ("the author cites a 2018 study" needs "it is really a guideline"); a limit,
    a risk or a status note does not: "the risk rises with higher doses" under a dose finding
    is the caveat, and the whole who-should-not list after it was padding in a blind review
    (docs/benchmarks.md)."""
    return caveat.role in _CARRIES_CAVEATS


def with_caveats(
    aids: AnswerAids,
    chosen: Sequence[PlainSentence],
    retrieved: Mapping[str, Passage],
    named: Collection[str] = (),
) -> list[PlainSentence]:
    """``chosen`` and their caveats; a sentence whose caveats did not all fit is left out.
    ``named``: see required_caveats."""
    shown = [*chosen, *caveats_of(aids, chosen, retrieved, named)]
    answers = {s.id for s in chosen}
    while True:
        ids = {s.id for s in shown}
        kept = [
            s
            for s in shown
            if all(c in ids for c in required_caveats(aids, s, named))
            or (s.id not in answers and not needs_own_caveats(s))
        ]
        if len(kept) == len(shown):
            return kept
        shown = kept


def showable(
    aids: AnswerAids,
    sentence: PlainSentence,
    retrieved: Mapping[str, Passage],
    with_caveats: bool = True,
) -> bool:
    """Backed by retrieved passages, and (``with_caveats``, as an answer is) so is every
    caveat it names, and a claim's caveats in turn (a claim never travels without its caveats:
    "the author cites a 2018 study" needs "the 2018 source is really a guideline, under
    another journal's name")."""
    needed = needed_chunks(aids, sentence, with_caveats)
    return needed is not None and all(c in retrieved for c in needed)


def needed_chunks(
    aids: AnswerAids, sentence: PlainSentence, with_caveats: bool = True
) -> list[str] | None:
    """Chunk ids of every passage ``sentence`` needs shown: its own, and (``with_caveats``)
    its caveats' and, for a claim or benefit among them, that one's caveats' in turn. None
    when it, or a caveat it needs, has no backing passage in the store."""
    by_id = aids.by_id()
    seen: set[str] = set()
    out: list[str] = []
    todo = [(sentence.id, with_caveats)]
    while todo:
        sid, follow = todo.pop()
        if sid in seen:
            continue
        seen.add(sid)
        if sid not in by_id or not aids.backing.get(sid):
            return None
        out += [c for c in aids.backing[sid] if c not in out]
        if follow:
            todo.extend(
                (cid, cid in by_id and needs_own_caveats(by_id[cid])) for cid in by_id[sid].caveats
            )
    return out


SPECIFIC = 0.9
"""Specificity (general-English rarity, bot/understand.py) from which an asked word names a
topic: "tinnitus", "opioids", "neuralgia"; not "reduce" or "chronic"."""


def names_unplain_topic(aids: AnswerAids, analysis: QuestionAnalysis, lexicon: Lexicon) -> bool:
    """Whether the question asks about a topic that passages speak of but no plain sentence
    does (nor the titles and sections it is read with): a paper on tinnitus ingested without a
    plain summary, or why opioids fall short. Plain sentences close to such a question answer
    something else, so no passage is fetched to complete them (test_serve_reingest: the new
    tinnitus passage must lead, not the mechanism claim's caveats)."""
    return any(
        t.asked
        and t.specificity >= SPECIFIC
        and lexicon.used(t.stem)
        and t.stem not in aids.plain_words
        for t in analysis.terms
    )


def per_drug(
    aids: AnswerAids,
    analysis: QuestionAnalysis,
    kinds: Sequence[str],
    scored: Sequence[ScoredPlain],
    lexicon: Lexicon,
) -> list[list[ScoredPlain]]:
    """For a question whether two drug families or more work ("ketamine or psychedelics for
    phantom limb pain?"), for each: the scored sentences about it alone whose subject the
    question names. Each family's best one answers as a part would: read together, the
    family with more sentences near the question filled the lead, and the other's finding on
    the very condition asked about was left out. A sentence about both ("ketamine is not a
    classic psychedelic") is no family's own; and what they are ("is ketamine a
    psychedelic?") is answered as before: every family's sentence naming "psychedelic" was
    padding there."""
    if len(analysis.drugs) < 2 or EFFECT_KIND not in kinds:
        return []
    named = named_in(aids, asked_text(analysis))
    candidates = [
        (c, _families(aids, c.sentence, lexicon)) for c in scored if c.sentence.id in named
    ]
    return [
        [c for c, families in candidates if families == {drug}] for drug in sorted(analysis.drugs)
    ]


@dataclass(frozen=True)
class PlainScores:
    """score_plain of the question and of each of its parts, made once per answer: the
    passages to fetch (linked_chunks) and the lead (plain_lead) are chosen from the same."""

    whole: list[ScoredPlain]
    parts: list[list[ScoredPlain]]
    part_vectors: Sequence[Vectors]


def plain_scores(
    aids: AnswerAids,
    analysis: QuestionAnalysis,
    kinds: Sequence[str],
    vector: Vectors,
    lexicon: Lexicon,
    personal: bool = False,
    part_vectors: Sequence[Vectors] = (),
) -> PlainScores:
    """The question's plain sentences scored, and each of ``analysis.parts``' (embedded as
    ``part_vectors``) with the drugs and conditions of the whole question: "does it help
    pain" is still about ketamine."""
    whole = score_plain(aids, analysis, vector, kinds, lexicon, personal)
    parts = [
        score_plain(
            aids, replace(analysis, query=part), pv, aids.question_kinds(pv), lexicon, personal
        )
        for part, pv in zip(analysis.parts, part_vectors, strict=True)
    ]
    return PlainScores(whole, parts, part_vectors)


def linked_chunks(
    aids: AnswerAids,
    analysis: QuestionAnalysis,
    kinds: Sequence[str],
    lexicon: Lexicon,
    scores: PlainScores,
) -> list[str]:
    """Chunk ids of every passage behind the plain sentences that best answer the question
    (and each of its parts), and behind the caveats they carry, followed through.

    Retrieval ranks passages by the question's words, so it can bring the passage that
    answers but not the one holding that answer's caveat (a mechanism claim, and the note that
    its 2018 source is really a guideline). Without it the answering sentence could not be
    shown, and weaker ones took its place. These passages are fetched by this link and shown
    like any retrieved one. Nothing is fetched for a question about a topic the plain layer
    never names (see names_unplain_topic), unless it names a source the plain layer sums up
    ("Is Psychedelics Today even a scientific source?": its words are about that source)."""
    if names_unplain_topic(aids, analysis, lexicon) and not analysis.sources & aids.sources:
        return []
    chosen = [c.sentence for c in choose_lead(scores.whole)]
    for part_scored in scores.parts:
        chosen += [c.sentence for c in choose_lead(part_scored)[:1]]
    for own in per_drug(aids, analysis, kinds, scores.whole, lexicon):
        chosen += [c.sentence for c in choose_lead(own)[:1]]
    out: list[str] = []
    for sentence in chosen:
        out += [c for c in needed_chunks(aids, sentence) or () if c not in out]
    return out


def plain_lead(
    aids: AnswerAids,
    analysis: QuestionAnalysis,
    kinds: Sequence[str],
    passages: Sequence[Passage],
    lexicon: Lexicon,
    scores: PlainScores,
    personal: bool = False,
) -> Lead:
    """The plain sentences that answer ``analysis``'s question from ``passages`` (retrieved),
    then their caveats; sentences whose backing was not retrieved are left out. Each of
    ``analysis.parts`` gets its own best sentence, if any."""
    retrieved = {p.chunk_id: p for p in passages}

    def best(scored: Sequence[ScoredPlain]) -> list[PlainSentence]:
        # The floor is set by the best sentence, shown or not: when the one that answers cannot
        # be shown, weaker ones are not promoted in its place (the quoted answer stands alone).
        return [c.sentence for c in choose_lead(scored) if showable(aids, c.sentence, retrieved)]

    scored = scores.whole
    chosen = best(scored)
    open_parts: list[tuple[str, Vectors]] = []
    parts = zip(analysis.parts, scores.part_vectors, scores.parts, strict=True)
    for part, pv, part_scored in parts:
        answers = best(part_scored)
        if answers:
            chosen += [answers[0]] if answers[0] not in chosen else []
        else:
            open_parts.append((part, pv))
    for own in per_drug(aids, analysis, kinds, scored, lexicon):
        answers = best(own)
        if answers and answers[0] not in chosen:
            chosen.append(answers[0])
    shown = with_caveats(
        aids, chosen, retrieved, named_in(aids, without_examples(analysis.text, kinds))
    )
    # What answers the question comes first: the chosen sentences, and any caveat that scores
    # close to them (a claim's checked finding on the very thing asked: RELATED_WITHIN).
    # Within each group checked findings come first (a patient meets the evidence before the
    # claims), then notes on unchecked references, news, the article's views; for a personal
    # question the sources' cautions lead. A caveat about something else ("most studies were
    # small" under a claim about how ketamine works) follows what it qualifies; leading with
    # it read as padding in a blind review, and so did each claim followed by its own caveats
    # (docs/benchmarks.md).
    answering = {s.id for s in chosen} | {c.sentence.id for c in _near_best(scored, RELATED_WITHIN)}
    shown.sort(
        key=lambda s: (
            personal and s.role not in _CAUTION_ROLES,
            s.id not in answering,
            _rank(shown_backing(aids, s, retrieved) or ()),
        )
    )
    return replace(lead_of(aids, shown, retrieved), open_parts=tuple(open_parts))


def _families(aids: AnswerAids, sentence: PlainSentence, lexicon: Lexicon) -> set[str]:
    """The drug families a plain sentence is about (its words and its sources')."""
    return drug_families_in(set(aids.context_terms[aids.position[sentence.id]]), lexicon.vocabulary)


def _rank(backing: Sequence[Passage]) -> int:
    if not backing:
        return 4
    p = backing[0]
    return 0 if is_checked_finding(p) else 3 if is_article(p) else 2 if is_news(p) else 1


def lead_of(
    aids: AnswerAids, sentences: Sequence[PlainSentence], retrieved: Mapping[str, Passage]
) -> Lead:
    """A Lead of ``sentences`` that are all showable from ``retrieved``."""
    backing: dict[str, tuple[Passage, ...]] = {}
    for s in sentences:
        shown = shown_backing(aids, s, retrieved)
        if shown is None:
            raise ValueError(f"plain sentence {s.id} is not backed by retrieved passages")
        backing[s.id] = shown
    vectors = {s.id: aids.vectors[aids.position[s.id]] for s in sentences}
    return Lead(tuple(sentences), backing, vectors)


def restated_claim(
    aids: AnswerAids,
    passage: Passage,
    sentence: str,
    vector: Vectors,
    min_similarity: float = 0.6,
) -> PlainSentence | None:
    """The plain claim or benefit with caveats that restates a quoted sentence, if any: the
    closest plain sentence of the same section, by meaning and shared words as the
    plain-language check scores support (a quoted claim brings that sentence's caveats, not
    those of every claim of the section that reads a little alike)."""
    key = (passage.source_id, passage.section.strip().lower())
    same_section = [i for i, s in enumerate(aids.plain) if key in s.backed_by_lower()]
    if not same_section:
        return None
    sims = aids.vectors[same_section] @ vector.reshape(-1)
    fits = [
        COSINE_WEIGHT * float(sim) + OVERLAP_WEIGHT * word_overlap(aids.plain[i].text, sentence)
        for i, sim in zip(same_section, sims, strict=True)
    ]
    best = int(np.argmax(fits))
    s = aids.plain[same_section[best]]
    if float(sims[best]) >= min_similarity and s.caveats and needs_own_caveats(s):
        return s
    return None


__all__ = [
    "AnswerAids",
    "Lead",
    "PlainScores",
    "ScoredPlain",
    "caveats_of",
    "choose_lead",
    "lead_of",
    "linked_chunks",
    "named_in",
    "plain_lead",
    "plain_scores",
    "required_caveats",
    "restated_claim",
    "score_plain",
    "shown_backing",
    "with_caveats",
]
