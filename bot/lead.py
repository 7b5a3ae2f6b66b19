"""The plain-language lead of an answer: which checked plain sentences answer the question,
and the caveats that must travel with them.

A plain sentence (corpus/plain/) is chosen by its similarity to the question, the share of the
question's words it is about, whether it was written for the question's kind, and the
conditions or drugs the asker names (a personal question naming glaucoma gets the sources'
line on raised eye pressure). Every chosen sentence brings the caveats its file names.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.embeddings import Embedder, Vectors
from bot.glossary import load_glossary
from bot.lexicon import Lexicon, about_another_drug, terms
from bot.plain import PlainRefusal, PlainSentence, check_plain, load_names, load_plain
from bot.question_kind import KindClassifier
from bot.types import GlossaryEntry, Passage

log = logging.getLogger(__name__)

LEXICAL_WEIGHT = 0.3
ABOUT_BONUS = 0.25
"""A phrase of the sentence's `about` list found in the question ("glaucoma", "back pain")."""
KIND_BONUS = 0.1
CAUTION_BONUS = 0.1
"""Personal questions: the sources' cautions about what the asker named come first."""
MIN_SCORE = 0.55
"""Calibrated on eval/answer_pairs.jsonl (docs/benchmarks.md, Issue 13); below it a plain
sentence is not shown, however few are left."""
KEEP_WITHIN = 0.15
MAX_LEAD = 3
MAX_CAVEATS = 4
_CAUTION_ROLES = frozenset(["caution", "risk"])


@dataclass(frozen=True)
class AnswerAids:
    """What the composer needs besides the retrieved passages, built once per store."""

    plain: tuple[PlainSentence, ...] = ()
    refused: tuple[PlainRefusal, ...] = ()
    vectors: Vectors = field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))
    plain_terms: tuple[frozenset[str], ...] = ()
    about: tuple[re.Pattern[str] | None, ...] = ()
    backing: dict[tuple[str, str], tuple[Passage, ...]] = field(default_factory=dict)
    kinds: KindClassifier | None = None
    glossary: tuple[GlossaryEntry, ...] = ()
    embedder: Embedder | None = None

    @classmethod
    def build(cls, corpus_dir: Path, embedder: Embedder, passages: Sequence[Passage]) -> AnswerAids:
        backing: dict[tuple[str, str], list[Passage]] = {}
        for p in passages:
            backing.setdefault((p.source_id, p.section.strip().lower()), []).append(p)
        texts = {key: "\n\n".join(p.text for p in ps) for key, ps in backing.items()}
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
        return cls(
            plain=plain,
            refused=tuple(refused),
            vectors=vectors,
            plain_terms=tuple(frozenset(terms(" ".join([s.text, *s.about]))) for s in plain),
            about=tuple(_phrases(s.about) for s in plain),
            backing={k: tuple(v) for k, v in backing.items()},
            kinds=KindClassifier.load(corpus_dir, embedder),
            glossary=load_glossary(corpus_dir),
            embedder=embedder,
        )

    def passages_of(self, sentence: PlainSentence) -> list[Passage]:
        return [
            p for src, sec in sentence.backed_by for p in self.backing.get((src, sec.lower()), ())
        ]

    def question_kinds(self, vector: Vectors) -> tuple[str, ...]:
        return self.kinds.kinds(vector) if self.kinds else ()


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
    question: str,
    q_terms: set[str],
    vector: Vectors,
    kinds: Sequence[str],
    asked_drugs: set[str],
    lexicon: Lexicon,
    personal: bool = False,
) -> list[ScoredPlain]:
    """Every plain sentence about what was asked, best first, with its score."""
    if not aids.plain:
        return []
    sims = aids.vectors @ vector.reshape(-1)
    weights = {t: lexicon.idf(t) ** 2 for t in q_terms}
    total = sum(weights.values())
    out = []
    for i, s in enumerate(aids.plain):
        if about_another_drug(set(aids.plain_terms[i]), asked_drugs):
            continue
        share = sum(weights[t] for t in q_terms & aids.plain_terms[i]) / total if total else 0.0
        about = aids.about[i]
        named = bool(about and about.search(question))
        score = float(sims[i]) + LEXICAL_WEIGHT * share + (ABOUT_BONUS if named else 0.0)
        if kinds:  # written for what was asked, or for another kind of question
            score += KIND_BONUS if set(kinds) & set(s.kinds) else -KIND_BONUS
        if personal and named and s.role in _CAUTION_ROLES:
            score += CAUTION_BONUS
        out.append(ScoredPlain(s, aids.vectors[i], score))
    return sorted(out, key=lambda c: c.score, reverse=True)


def choose_lead(scored: Sequence[ScoredPlain], min_score: float = MIN_SCORE) -> list[ScoredPlain]:
    """The best plain sentences above the floor and near the best one, at most MAX_LEAD."""
    if not scored or scored[0].score < min_score:
        return []
    floor = max(min_score, scored[0].score - KEEP_WITHIN)
    return [c for c in scored[:MAX_LEAD] if c.score >= floor]


def with_caveats(aids: AnswerAids, chosen: Sequence[PlainSentence]) -> list[PlainSentence]:
    """``chosen`` followed by the caveats they name (each once, at most MAX_CAVEATS)."""
    by_id = {s.id: s for s in aids.plain}
    have = {s.id for s in chosen}
    extra: list[PlainSentence] = []
    # Whether a reference could be checked comes before other limits; a caveat's own caveats
    # (a claim's source that was mislabelled) are followed too.
    queue = sorted(
        (cid for s in chosen for cid in s.caveats),
        key=lambda cid: cid in by_id and by_id[cid].role != "status",
    )
    while queue and len(extra) < MAX_CAVEATS:
        cid = queue.pop(0)
        if cid not in have and cid in by_id:
            have.add(cid)
            extra.append(by_id[cid])
            queue.extend(by_id[cid].caveats)
    return [*chosen, *extra]


def claims_in(
    aids: AnswerAids, quoted: Sequence[tuple[Passage, Vectors]], min_similarity: float = 0.6
) -> list[PlainSentence]:
    """Plain sentences that restate a quoted sentence (same passage, close meaning) and carry
    caveats: a quoted benefit brings its limit even when no plain sentence leads."""
    out: list[PlainSentence] = []
    for passage, vector in quoted:
        key = (passage.source_id, passage.section.strip().lower())
        for i, s in enumerate(aids.plain):
            close = float(aids.vectors[i] @ vector.reshape(-1)) >= min_similarity
            if close and s.caveats and key in s.backed_by_lower() and s not in out:
                out.append(s)
    return out


__all__ = ["AnswerAids", "ScoredPlain", "choose_lead", "claims_in", "score_plain", "with_caveats"]
