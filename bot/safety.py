"""Question -> safety verdict (crisis, personal advice, off topic, fine) before any retrieval.

Two layers. Keyword backstops (phrases, misspellings via close matching, several languages)
catch the unmistakable cases and never depend on a model. An embedding classifier compares
the question with example messages of each class (bot/safety_examples.py), catching wordings
no keyword list foresees ("I don't see the point in living"). Crisis wins every tie: a false
alarm costs a patient one extra sentence; a miss could cost a life.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from bot import safety_examples
from bot.config import SafetyWeights
from bot.embeddings import Embedder, Vectors
from bot.types import Verdict
from bot.understand import QuestionAnalysis, understand
from bot.vocabulary import Vocabulary, default_vocabulary

# Keyword backstops. Crisis wins over everything else, so these lean toward recall.
_CRISIS_PHRASES = (
    "kill myself",
    "killing myself",
    "suicide",
    "suicidal",
    "end my life",
    "end it all",
    "want to die",
    "wanna die",
    "dont want to live",
    "don't want to live",
    "no reason to live",
    "better off dead",
    "hurt myself",
    "harm myself",
    "self harm",
    "self-harm",
    "cut myself",
    "cutting myself",
    "overdose",
    "overdosed",
    "od'd",
    "took too many",
    "took too much",
    "taken too much",
    "too many pills",
    "swallowed all",
    "chest pain",
    "chest hurts",
    "chest is tight",
    "crushing chest",
    "can't breathe",
    "cant breathe",
    "cannot breathe",
    "trouble breathing",
    "hard to breathe",
    "not breathing",
    "stroke",
    "face drooping",
    "slurred speech",
    "throat is closing",
    "throat closing",
    "anaphyla",
    "passed out",
    "unconscious",
    "seizure",
    "kms",
    "unalive",
    "quiero morir",
    "suicidarme",
    "matarme",
    "me quiero matar",
    "je veux mourir",
    "ich will sterben",
    "quero morrer",
    "to die",
    "lethal dose",
    "kill me",
    "end it",
    "be alive",
    "worth living",
    "keep living",
    "better off without me",
    "better off if i",
    "disappear forever",
    "jump off",
    "drooping",
    "suicid",
    "no quiero vivir",
    "me tuer",
    "mourir",
    "umbringen",
    "nicht mehr leben",
    "me matar",
    "voglio morire",
    "sterben",
    "morrer",
    "point of going on",
    "point of living",
    "point in living",
    "point in going on",
    "drank a bottle",
    "swallowed a bottle",
    "overdid",
    "poisoned",
    "saying goodbye",
    "say goodbye to",
    "goodbye letter",
    "goodbye note",
    "off a bridge",
    "off the bridge",
    "off a building",
    "off a roof",
    "off a cliff",
    "in front of a train",
    "in front of a car",
    "in front of a bus",
    "hang myself",
    "shoot myself",
    "slit my",
    "my wrists",
    "stockpil",
    "hoarding my",
    "gave away all",
    "giving away my",
    "give away my",
    "heart is racing",
    "heart racing",
    "double my dose",
    "double dose",
    "won't be here",
    "wont be here",
    "not be here",
    "won't be around",
    "wont be around",
    "nothing matters",
    "won't respond",
    "wont respond",
    "not responding",
    "unresponsive",
    "not wake up",
    "never wake up",
    "won't wake up",
    "wont wake up",
    "no way out",
    "farla finita",
    "acabar con todo",
    "acabar com tudo",
    "en finir",
)
# Phrases match at the start of a word ("end it" must not match "spend it").
_CRISIS_RE = re.compile("|".join(r"(?<![a-z])" + re.escape(p) for p in _CRISIS_PHRASES))
_CRISIS_WORDS = ("suicide", "suicidal", "overdose", "breathe", "unalive")
# Research questions that mention crisis words but are not emergencies.
_RESEARCH_CONTEXT = re.compile(
    r"\b(research|studies|study|evidence|used for|treat|treatment of|help with|does ketamine|"
    r"safety|side effects?|risks?|guidelines?|according to)\b"
)
_FIRST_PERSON = re.compile(r"\b(i|i'm|im|me|my|myself)\b")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip()


def _fuzzy_crisis_word(text: str) -> bool:
    """Catch misspellings like 'suicidel' or 'overdoze' with a close-match check per word."""
    for word in re.findall(r"[a-z']+", text):
        if len(word) >= 6 and difflib.get_close_matches(word, _CRISIS_WORDS, n=1, cutoff=0.8):
            return True
    return False


def is_crisis(question: str) -> bool:
    text = _normalise(question)
    hit = bool(_CRISIS_RE.search(text)) or _fuzzy_crisis_word(text)
    if not hit:
        return False
    # "is ketamine used for depression and suicidal thoughts research?" is not an emergency,
    # but anything in the first person stays a crisis: when in doubt, crisis wins.
    return not (_RESEARCH_CONTEXT.search(text) and not _FIRST_PERSON.search(text))


def classify(question: str) -> Verdict:
    """Keyword-only verdict: CRISIS, PERSONAL_ADVICE, OFF_TOPIC or ANSWERED (fine to answer)."""
    if is_crisis(question):
        return Verdict.CRISIS
    return route_by_words(understand(question, (), default_vocabulary()))


def route_by_words(analysis: QuestionAnalysis) -> Verdict:
    """Role play is off topic; mixing, doses, pregnancy and start/stop questions are personal
    advice; so is a personal request about pain care; a message naming no pain-care word is
    off topic (SafetyRouter.route may still answer it when it reads like an on-topic one)."""
    if analysis.role_play:
        return Verdict.OFF_TOPIC
    if analysis.personal and (analysis.on_topic or analysis.follow_up):
        return Verdict.PERSONAL_ADVICE
    return Verdict.ANSWERED if analysis.on_topic else Verdict.OFF_TOPIC


CRISIS_SIMILARITY = 0.38
"""Closeness to the crisis examples at which a message counts as a crisis, if it is also
closer to them than to every other class by CRISIS_MARGIN."""
CRISIS_MARGIN = 0.06
_TOP = 3


@dataclass(frozen=True)
class SafetyScores:
    """Mean similarity of a message to its closest examples of each class."""

    crisis: float
    personal: float
    off_topic: float
    on_topic: float


class SafetyRouter:
    """Crisis first (keyword backstops plus nearest examples), then personal advice and off
    topic from the question analysis, with nearest examples for messages naming no topic."""

    def __init__(
        self,
        embedder: Embedder,
        vocabulary: Vocabulary | None = None,
        weights: SafetyWeights | None = None,
    ) -> None:
        self._embedder = embedder
        self.vocabulary = vocabulary or default_vocabulary()
        self.weights = weights or SafetyWeights()
        self._examples = {
            name: embedder.embed_documents(list(texts))
            for name, texts in (
                ("crisis", safety_examples.CRISIS),
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

    def is_crisis(self, question: str, vector: Vectors | None = None) -> bool:
        """Whether ``question`` is an emergency or self-harm message (checked first, always)."""
        if is_crisis(question):
            return True
        text = _normalise(question)
        s = self.scores(question, vector)
        research = bool(_RESEARCH_CONTEXT.search(text)) and not _FIRST_PERSON.search(text)
        return (
            not research
            and s.crisis >= CRISIS_SIMILARITY
            and s.crisis >= max(s.on_topic, s.personal, s.off_topic) + CRISIS_MARGIN
        )

    def route(self, analysis: QuestionAnalysis, vector: Vectors | None = None) -> Verdict:
        """PERSONAL_ADVICE, OFF_TOPIC or ANSWERED for a message that is not a crisis."""
        verdict = route_by_words(analysis)
        if verdict is Verdict.OFF_TOPIC and not analysis.role_play:
            # No pain-care word: still fine if it reads like the on-topic examples.
            s = self.scores(analysis.question, vector)
            if s.on_topic > s.off_topic + self.weights.off_topic_margin:
                return Verdict.PERSONAL_ADVICE if analysis.personal else Verdict.ANSWERED
        return verdict

    def classify(self, question: str, vector: Vectors | None = None) -> Verdict:
        """The verdict for ``question`` alone; pass its embedding when it is already computed."""
        if vector is None:
            vector = self._embedder.embed_query(question)
        if self.is_crisis(question, vector):
            return Verdict.CRISIS
        return self.route(understand(question, (), self.vocabulary), vector)
