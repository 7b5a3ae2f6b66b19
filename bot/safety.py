"""Question -> safety verdict (crisis, personal advice, off topic, fine) before any retrieval.

Crisis comes first, always: the learned crisis router (bot/crisis.py) reads the whole
message and each sentence of it before any other route. Then the question analysis
(bot/understand.py, phrases in corpus/vocabulary.toml) tells personal advice, role play and
off-topic messages from ordinary questions, with an embedding nearest-examples check
(bot/safety_examples.py) for messages that name no pain-care word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot import safety_examples
from bot.advice_model import AdviceHead, default_advice_head
from bot.config import SafetyWeights
from bot.crisis import CrisisCheck, CrisisRouter
from bot.embeddings import Embedder, Vectors
from bot.types import Verdict
from bot.understand import QuestionAnalysis, understand
from bot.vocabulary import Vocabulary, default_vocabulary


def classify(question: str) -> Verdict:
    """Keyword-only verdict on a message that is not a crisis: PERSONAL_ADVICE, OFF_TOPIC or
    ANSWERED (fine to answer), from the question analysis and corpus/vocabulary.toml.
    Crisis detection is SafetyRouter's first step."""
    return route_by_words(understand(question, (), default_vocabulary()))


def route_by_words(analysis: QuestionAnalysis) -> Verdict:
    """Role play is off topic; mixing, doses, pregnancy and start/stop questions are personal
    advice; so is a personal request about pain care; a message naming no pain-care word is
    off topic (SafetyRouter.route_analysis may still answer it when it reads like an on-topic
    one)."""
    if analysis.role_play:
        return Verdict.OFF_TOPIC
    if analysis.personal and (analysis.on_topic or analysis.follow_up):
        return Verdict.PERSONAL_ADVICE
    return Verdict.ANSWERED if analysis.on_topic else Verdict.OFF_TOPIC


_TOP = 3


@dataclass(frozen=True)
class SafetyScores:
    """Mean similarity of a message to its closest examples of each class."""

    personal: float
    off_topic: float
    on_topic: float


@dataclass(frozen=True)
class Routing:
    """The verdict, with the crisis router's reading of the message (language, whose danger)."""

    verdict: Verdict
    crisis: CrisisCheck


class SafetyRouter:
    """The crisis router first, then the question analysis and a nearest-examples check."""

    def __init__(
        self,
        embedder: Embedder,
        crisis: CrisisRouter | None = None,
        vocabulary: Vocabulary | None = None,
        weights: SafetyWeights | None = None,
        advice: AdviceHead | None = None,
    ) -> None:
        self._embedder = embedder
        self.crisis = crisis or CrisisRouter(embedder)
        self.advice = advice or default_advice_head()
        self.vocabulary = vocabulary or default_vocabulary()
        self.weights = weights or SafetyWeights()
        self._examples = {
            name: embedder.embed_documents(list(texts))
            for name, texts in (
                ("personal", safety_examples.PERSONAL),
                ("off_topic", safety_examples.OFF_TOPIC),
                ("on_topic", safety_examples.ON_TOPIC),
            )
        }

    def scores(self, question: str, vector: Vectors | None = None) -> SafetyScores:
        if vector is None:
            vector = self._embedder.embed_query(question)
        v = vector.reshape(-1)
        top = {
            name: float(np.sort(examples @ v)[-_TOP:].mean())
            for name, examples in self._examples.items()
        }
        return SafetyScores(**top)

    def classify(self, question: str, vector: Vectors | None = None) -> Verdict:
        """The verdict for ``question``; pass its embedding when it is already computed."""
        return self.route(question, vector).verdict

    def route(self, question: str, vector: Vectors | None = None) -> Routing:
        """Crisis first, on the whole message and each sentence; then the other routes."""
        if vector is None:
            vector = self._embedder.embed_query(question)
        crisis = self.crisis.check(question, vector)
        if crisis.crisis:
            return Routing(Verdict.CRISIS, crisis)
        return Routing(self._classify_calm(question, vector), crisis)

    def _classify_calm(self, question: str, vector: Vectors) -> Verdict:
        return self.route_analysis(understand(question, (), self.vocabulary), vector)

    def route_analysis(self, analysis: QuestionAnalysis, vector: Vectors | None = None) -> Verdict:
        """PERSONAL_ADVICE, OFF_TOPIC or ANSWERED for a message that is not a crisis."""
        verdict = route_by_words(analysis)
        if verdict is Verdict.OFF_TOPIC and not analysis.role_play:
            # No pain-care word: still fine if it reads like the on-topic examples.
            s = self.scores(analysis.question, vector)
            if s.on_topic > s.off_topic + self.weights.off_topic_margin:
                verdict = Verdict.PERSONAL_ADVICE if analysis.personal else Verdict.ANSWERED
        if verdict is Verdict.ANSWERED:
            # Other wordings of a request for advice than the vocabulary's phrases.
            if vector is None:
                vector = self._embedder.embed_query(analysis.question)
            if self.advice.asks_advice(analysis.question, vector):
                return Verdict.PERSONAL_ADVICE
        return verdict
