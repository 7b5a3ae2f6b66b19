"""Question -> safety verdict (crisis, personal advice, off topic, fine) before any retrieval.

Crisis comes first, always: the learned crisis router (bot/crisis.py) reads the whole
message and each sentence of it before any other route. Then keyword patterns and an
embedding nearest-examples classifier (bot/safety_examples.py) separate personal-advice,
off-topic and ordinary questions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from bot import safety_examples
from bot.crisis import CrisisCheck, CrisisRouter
from bot.embeddings import Embedder, Vectors
from bot.types import Verdict

_FIRST_PERSON = re.compile(r"\b(i|i'm|im|me|my|myself)\b")

_PERSONAL = re.compile(
    r"\b(my dose|my doctor|should i|can i|could i|do i|am i|is it safe for me|safe for me|"
    r"for me|i'm pregnant|im pregnant|pregnan\w*|breast ?feed\w*|nursing|with my|i take|"
    r"(help|for|treat|fix|cure) my|"
    r"i am taking|i'm taking|im taking|how much should)\b"
)
# Mixing and interaction questions are personal only when asked about the patient's own drugs.
_MIXING = re.compile(r"\b(mix\w*|combin\w*|interact\w*|together with|along with)\b")

_INJECTION = re.compile(
    r"(ignore (all |your |the |previous )*(instructions|rules)|system prompt|your instructions|"
    r"pretend to be|jailbreak|developer mode|reveal your|no rules|you are now|\bdan\b|act as|"
    r"hidden rules|without (any )?restrictions|no restrictions)"
)
_TOPIC = re.compile(
    r"(ketamin|psilocyb|psychedel|lsd|mdma|\bpain(s|ful)?\b|wrote|writer|george|crps|fibromyalg|migrain|neuropath|infusion|"
    r"nmda|esketamin|dose|side effect|treatment|therapy|drug|medic|opioid|depress|ayahuasca|"
    r"mushroom|microdos|dmt|doctor|clinic|nerve|phantom|arthrit|cancer|insurance|cost|sensiti|article|author|source|guideline|study|studies|research)"
)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip()


def classify(question: str) -> Verdict:
    """Keyword-only verdict on a message that is not a crisis: PERSONAL_ADVICE, OFF_TOPIC or
    ANSWERED (fine to answer). Crisis detection is SafetyRouter's first step."""
    text = _normalise(question)
    if _INJECTION.search(text):
        return Verdict.OFF_TOPIC
    personal = _PERSONAL.search(text) or (_MIXING.search(text) and _FIRST_PERSON.search(text))
    if personal and _TOPIC.search(text):
        return Verdict.PERSONAL_ADVICE
    if not _TOPIC.search(text):
        return Verdict.OFF_TOPIC
    return Verdict.ANSWERED


PERSONAL_SIMILARITY = 0.6
OFF_TOPIC_MARGIN = 0.05
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
    """The crisis router first, then keyword patterns and a nearest-examples classifier."""

    def __init__(self, embedder: Embedder, crisis: CrisisRouter | None = None) -> None:
        self._embedder = embedder
        self.crisis = crisis or CrisisRouter(embedder)
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
        keyword = classify(question)
        if keyword is Verdict.PERSONAL_ADVICE:
            return keyword
        text = _normalise(question)
        if _INJECTION.search(text):
            return Verdict.OFF_TOPIC
        s = self.scores(question, vector)
        if (
            _FIRST_PERSON.search(text)
            and s.personal >= PERSONAL_SIMILARITY
            and s.personal > s.on_topic
        ):
            return Verdict.PERSONAL_ADVICE
        if keyword is Verdict.OFF_TOPIC:
            # No pain-care word: still fine if it reads like the on-topic examples.
            return Verdict.ANSWERED if s.on_topic > s.off_topic + OFF_TOPIC_MARGIN else keyword
        return keyword
