"""Do the retrieved passages cover the question? A logistic model over a few evidence features.

The features (dense and keyword scores, best-sentence similarity, specificity-weighted share of
the asked words found in the passages) are computed here; the model's weights are fitted on
labelled questions by ``python -m benchmarks.fit_evidence`` and shipped as
bot/evidence_model.json with the hash of the data they came from and their cross-validated
precision and recall (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import ConfigurationError
from bot.lexicon import Lexicon, about_another_drug, terms
from bot.types import Passage
from bot.understand import QuestionAnalysis, Term

MODEL_FILE = Path(__file__).resolve().parent / "evidence_model.json"
MIN_WEIGHT = 0.05
"""Least weight of a content word: even a common word ("cost") counts a little."""
PRACTICAL_KIND = "practical"
"""The question kind (corpus/question_kinds.toml) whose nearness is the ``practical`` feature."""
SALIENCE_SCALE = 0.075
"""Drop in cosine similarity between the question and the question without a word at which
the word counts fully as what the question is about; smaller drops count in proportion.
Chosen by cross-validation on the labelled questions (docs/benchmarks.md)."""


@dataclass(frozen=True)
class EvidenceFeatures:
    """What the evidence looks like for one question (every value roughly in [0, 1])."""

    dense_best: float
    """Highest embedding similarity of a retrieved passage to the query."""
    sentence_best: float
    """Highest similarity of any single sentence of the retrieved passages."""
    keyword_best: float
    """Top BM25 score of the query, squashed to [0, 1) as s / (s + 10)."""
    coverage: float
    """Share of the asked words found in the passages, each weighted by specificity x rarity
    in the corpus (so "fibromyalgia" counts, "ketamine" and "really" hardly)."""
    coverage_plain: float
    """Share of the asked content words found, unweighted."""
    missing: float
    """Largest weight of an asked word the passages lack."""
    unknown: float
    """Largest specificity of an asked word the whole corpus lacks ("insurance", "children"),
    times how much the question's meaning rests on it (``salience``): "considered" in "Is
    ketamine considered a psychedelic?" is a word the corpus lacks, not a topic it lacks."""

    practical: float = 0.0
    """Similarity of the asked part to the nearest example of a practical question (cost,
    insurance, finding a clinic: `[kinds.practical]` in corpus/question_kinds.toml), which
    research papers rarely answer."""

    unknown_topic: float = 0.0
    """As ``unknown``, each word also weighed by how likely it names a topic of its own (a
    drug, a body part, a group of people, a cost) rather than a stance or a frame ("hype",
    "overselling", "compare"): TopicWords, learned from the labelled questions."""

    def vector(self) -> list[float]:
        return [float(v) for v in asdict(self).values()]


FEATURE_NAMES = tuple(EvidenceFeatures.__dataclass_fields__)


def _weight(term: Term, lexicon: Lexicon) -> float:
    rarity = lexicon.idf(term.stem) / lexicon.idf("\0never-seen\0")
    return max(MIN_WEIGHT, term.specificity * rarity)


def unknown_terms(analysis: QuestionAnalysis) -> list[Term]:
    """The asked words the whole corpus lacks."""
    return [t for t in analysis.asked_terms if t.specificity > 0 and not t.known]


def without_word(question: str, word: str) -> str:
    """``question`` with every whole-word use of ``word`` taken out."""
    return " ".join(re.sub(rf"(?i)(?<![\w']){re.escape(word)}(?![\w'])", " ", question).split())


def salience(drop: float) -> float:
    """How much a question is about a word, from the drop in similarity when it is taken out."""
    return min(1.0, max(0.0, drop) / SALIENCE_SCALE)


def evidence_features(
    analysis: QuestionAnalysis,
    passages: Sequence[Passage],
    sentence_best: float,
    keyword_best: float,
    lexicon: Lexicon,
    salient: Mapping[str, float] | None = None,
    practical: float = 0.0,
    topical: Mapping[str, float] | None = None,
) -> EvidenceFeatures:
    """The features of ``passages`` as evidence for ``analysis`` (see EvidenceFeatures);
    ``salient`` maps each unknown word to its salience (1 for a word not in it), ``topical``
    to the chance that it names a topic (1 for a word not in it)."""
    salient = salient or {}
    topical = topical or {}
    found_terms: set[str] = set()
    for passage in passages:
        title = str(passage.metadata.get("title", ""))
        passage_terms = set(terms(f"{title} {passage.section} {passage.text}"))
        # A passage about another drug than the one asked about is no evidence for it.
        if not about_another_drug(passage_terms, analysis.drugs, lexicon.vocabulary):
            found_terms |= passage_terms
    asked = [t for t in analysis.asked_terms if t.specificity > 0 or t.known]
    weights = [_weight(t, lexicon) for t in asked]
    found = [lexicon.found_in(t.corrected or t.word, found_terms) for t in asked]
    total = sum(weights)
    coverage = sum(w for w, f in zip(weights, found, strict=True) if f) / total if total else 1.0
    plain = sum(found) / len(found) if found else 1.0
    missing = max((w for w, f in zip(weights, found, strict=True) if not f), default=0.0)
    lacked = [t for t in asked if not t.known]
    unknown = [t.specificity * salient.get(t.word, 1.0) for t in lacked]
    return EvidenceFeatures(
        dense_best=max((p.similarity for p in passages), default=0.0),
        sentence_best=sentence_best,
        keyword_best=keyword_best / (keyword_best + 10.0),
        coverage=coverage,
        coverage_plain=plain,
        missing=missing,
        unknown=max(unknown, default=0.0),
        practical=practical,
        unknown_topic=max(
            (u * topical.get(t.word, 1.0) for u, t in zip(unknown, lacked, strict=True)),
            default=0.0,
        ),
    )


@dataclass(frozen=True)
class TopicWords:
    """How likely a word the corpus lacks names a topic of its own, from the word's embedding
    (the shipped model): a logistic regression fitted on the words the corpus lacks in the
    labelled questions, each word labelled by whether most questions that used it were not
    covered ("bladder", "insurance", "teens") or covered ("hype", "overselling")."""

    coef: tuple[float, ...]
    intercept: float

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        z = np.asarray(vectors, dtype=np.float64) @ np.asarray(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> dict[str, Any]:
        return {"coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TopicWords:
        return cls(tuple(float(c) for c in data["coef"]), float(data["intercept"]))


@dataclass(frozen=True)
class EvidenceModel:
    """Standardised logistic regression: P(covered) = sigmoid(((x - mean) / scale) . coef + b)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    """Probability at and above which the question counts as covered (chosen in cross-
    validation, see the model file's "cross_validation")."""
    info: dict[str, Any]
    topic_words: TopicWords | None = None
    """None: every word the corpus lacks counts as a topic (``unknown_topic`` = ``unknown``)."""

    def probability(self, features: EvidenceFeatures) -> float:
        x = features.vector()
        z = self.intercept + sum(
            c * (v - m) / s for c, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
            **({"topic_words": self.topic_words.to_json()} if self.topic_words else {}),
            **self.info,
        }


def neutral_model(topic_words: TopicWords | None = None) -> EvidenceModel:
    """A model that calls everything covered: for fitting the first real one."""
    n = len(FEATURE_NAMES)
    return EvidenceModel(
        FEATURE_NAMES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 1.0, 0.5, {}, topic_words
    )


def load_model(path: Path | None = None) -> EvidenceModel:
    """The fitted evidence model (default: the one shipped beside this module)."""
    path = path or MODEL_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"{path} is missing: fit it with `python -m benchmarks.fit_evidence`."
        ) from None
    if tuple(data["features"]) != FEATURE_NAMES:
        raise ConfigurationError(
            f"{path} was fitted on features {data['features']}, but the code computes "
            f"{list(FEATURE_NAMES)}: refit with `python -m benchmarks.fit_evidence`."
        )
    known = {"features", "mean", "scale", "coef", "intercept", "threshold", "topic_words"}
    topic = data.get("topic_words")
    return EvidenceModel(
        features=tuple(data["features"]),
        mean=tuple(data["mean"]),
        scale=tuple(data["scale"]),
        coef=tuple(data["coef"]),
        intercept=float(data["intercept"]),
        threshold=float(data["threshold"]),
        info={k: v for k, v in data.items() if k not in known},
        topic_words=TopicWords.from_json(topic) if topic else None,
    )


def covers(
    features: EvidenceFeatures, model: EvidenceModel, threshold: float | None = None
) -> bool:
    """Whether the evidence covers the question (``threshold`` overrides the model's)."""
    return model.probability(features) >= (model.threshold if threshold is None else threshold)
