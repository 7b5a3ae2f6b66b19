"""Message -> is someone in danger, and who: the first route every message takes.

A learned classifier (bot/crisis_model.py) reads the whole message, each sentence of it and
short overlapping windows of long run-on sentences, so a crisis line inside a long story or
beside an ordinary question is read on its own. Each piece is read twice: alone, and with the
whole message's embedding (a past episode in a story of recovery reads as past); either
reading alarming is enough. A short reviewed keyword floor (bot/data/crisis_floor.toml)
guarantees the unmistakable cases whatever the model does.
The reply is fixed text in the message's language (bot/prompts.py).
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from bot import prompts
from bot.crisis_model import (
    CLASSES,
    SCORE_COLUMNS,
    CrisisHead,
    deleet,
    features,
    normalise,
)
from bot.embeddings import Embedder, Vectors
from bot.errors import ConfigurationError
from bot.language import detect_language

log = logging.getLogger(__name__)

Who = Literal["self", "other", "both", "none"]

FLOOR_FILE = Path(__file__).resolve().parent / "data" / "crisis_floor.toml"

WINDOW_WORDS = 12
"""Long sentences (chat often has no full stops) are also read in windows of this many
words, half overlapping, so one alarming clause is not diluted by the rest."""
LONG_MESSAGE_WORDS = 25
"""A longer message, whole and in pieces, is judged by its own bar (crisis_model.Thresholds)."""
MAX_SEGMENTS = 64
"""Upper bound on the pieces read per message (about 2,000 characters of run-on text)."""

_SENTENCE_BREAK = re.compile(r"(?<=[.!?;:])\s+|\n+|\s+[-–—]+\s+|(?<=[.!?])(?=[A-Z])")


@dataclass(frozen=True)
class CrisisCheck:
    """The router's reading of one message."""

    crisis: bool
    who: Who
    """Whose danger: the asker's ("self"), someone else's ("other"), unclear ("both": the floor
    and the model read different people, or the model's alarming readings are split, so both
    replies are shown); "none" if no crisis."""
    score: float
    """Highest crisis probability over the message and its pieces."""
    floor: bool
    """Whether the keyword floor matched."""
    language: str

    @property
    def reply(self) -> str:
        return crisis_reply(self.who, self.language)


def crisis_reply(who: Who, language: str = "en") -> str:
    """The fixed crisis reply for whose danger it is, in the message's language (English
    follows a translated reply, in case the language was misread). When whose danger it is
    is unclear, someone else's reply (what to do now) comes first, then the asker's."""
    if who == "both":
        return "\n\n".join([crisis_reply("other", language), crisis_reply("self", language)])
    english = prompts.CRISIS_OTHER_REPLY if who == "other" else prompts.CRISIS_REPLY
    translated = prompts.CRISIS_REPLIES_BY_LANGUAGE.get(language)
    if translated is None:
        return english
    return f"{translated[1] if who == 'other' else translated[0]}\n\n{english}"


@dataclass(frozen=True)
class CrisisFloor:
    """Phrases that mean danger in any sentence, for the asker (self) or someone else."""

    self_phrases: re.Pattern[str]
    other_phrases: re.Pattern[str]

    def match(self, text: str) -> Who:
        """ "self" or "other" when a phrase matches the normalised text, else "none"."""
        if self.self_phrases.search(text):
            return "self"
        if self.other_phrases.search(text):
            return "other"
        return "none"


def load_floor(path: Path = FLOOR_FILE) -> CrisisFloor:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        groups = {
            who: [p for phrases in data[who].values() for p in phrases] for who in ("self", "other")
        }
    except (OSError, tomllib.TOMLDecodeError, KeyError, AttributeError) as exc:
        raise ConfigurationError(
            f"The crisis keyword floor {path} could not be read ({exc}). Restore it from git; "
            "it needs [self] and [other] tables of phrase lists per language."
        ) from exc
    for who, phrases in groups.items():
        bad = [p for p in phrases if not isinstance(p, str) or len(p.strip()) < 3]
        if bad or not phrases:
            raise ConfigurationError(
                f"{path}: the [{who}] table needs phrases of three or more letters; fix {bad}."
            )
    return CrisisFloor(_phrase_pattern(groups["self"]), _phrase_pattern(groups["other"]))


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    # At the start of a word: "end it" must not match "spend it".
    alternatives = sorted({re.escape(normalise(p)) for p in phrases}, key=len, reverse=True)
    return re.compile(r"(?<![a-z])(?:" + "|".join(alternatives) + ")")


def segments(message: str) -> list[str]:
    """The whole message, each sentence, and half-overlapping windows of long sentences."""
    whole = " ".join(message.split())
    pieces = [whole]
    sentences = [s.strip() for s in _SENTENCE_BREAK.split(message) if s and s.strip()]
    for sentence in sentences:
        words = sentence.split()
        if len(sentences) > 1 and len(words) >= 2:
            pieces.append(" ".join(words))
        if len(words) > WINDOW_WORDS + WINDOW_WORDS // 2:
            step = WINDOW_WORDS // 2
            for start in range(0, len(words) - step, step):
                pieces.append(" ".join(words[start : start + WINDOW_WORDS]))
    unique = list(dict.fromkeys(pieces))
    return unique[:MAX_SEGMENTS]


class CrisisRouter:
    """The learned crisis classifier over the shipped embedding model, with its floor."""

    def __init__(
        self, embedder: Embedder, head: CrisisHead | None = None, floor: CrisisFloor | None = None
    ) -> None:
        self._embedder = embedder
        self.head = head or _default_head()
        self.floor = floor or _default_floor()

    def probabilities(
        self, texts: Sequence[str], vectors: Vectors | None = None, context: Vectors | None = None
    ) -> np.ndarray:
        """Per text and reading (VIEWS), the probabilities of CLASSES; ``context`` holds
        the embedding of each text's whole message (by default, each text is a message)."""
        if vectors is None:
            vectors = self._embedder.embed_documents(list(texts))
        rows = vectors.reshape(len(texts), -1)
        return self.head.probabilities(features(texts, rows, context))

    def embed(self, message: str) -> Vectors:
        """The vectors of the message's pieces (segments), in one call: the whole message's
        first, so a caller can reuse it as the question's vector."""
        return np.asarray(self._embedder.embed_documents(segments(message) or [message]))

    def check(self, message: str, vector: Vectors | None = None) -> CrisisCheck:
        """Read the message and its pieces. Pass what `embed` gave, or the whole message's
        embedding alone (the other pieces are then embedded here)."""
        pieces = segments(message) or [message]
        given = None if vector is None else np.asarray(vector, dtype=np.float32)
        if given is not None and given.ndim == 2 and given.shape[0] == len(pieces):
            vectors = given
        elif given is not None:
            rest = self._embedder.embed_documents(pieces[1:]) if len(pieces) > 1 else None
            first = given.reshape(1, -1)
            vectors = first if rest is None else np.vstack([first, rest])
        else:
            vectors = self._embedder.embed_documents(pieces)
        context = np.repeat(vectors[:1], len(pieces), axis=0)
        probs = self.probabilities(pieces, vectors, context)  # pieces x VIEWS x CLASSES
        crisis_probs = probs[:, :, 1] + probs[:, :, 2]
        is_long = len(pieces[0].split()) > LONG_MESSAGE_WORDS
        bars = np.array([t.long if is_long else t.short for t in self.head.thresholds])
        margins = crisis_probs - bars
        top = np.unravel_index(int(np.argmax(margins)), margins.shape)
        score = float(crisis_probs[top])
        alarm = bool(self.head.alarms(message_scores(crisis_probs, is_long))[0])
        floor_who = self.floor.match(deleet(normalise(message)))
        language = detect_language(message)
        # Whose danger, from every reading of every piece: a piece under its bar still says
        # who is described (a carer's account of the patient, in a message whose whole reads
        # as the carer's own danger).
        share = other_share(probs.reshape(-1, probs.shape[-1])) if alarm else 0.0
        if floor_who != "none":
            who: Who = floor_who
            # The floor's phrase and the model may read different people ("my son says he wants
            # to die" matches the asker's "want to die"; "my husband won't wake up" was read as
            # the asker's own danger by the model): then both replies are shown.
            if alarm and ("other" if share > 0.5 else "self") != floor_who:
                who = "both"
            return CrisisCheck(True, who, score, True, language)
        if alarm:
            return CrisisCheck(True, whose_danger(share), score, False, language)
        return CrisisCheck(False, "none", score, False, language)


def message_scores(crisis_probs: np.ndarray, is_long: bool) -> np.ndarray:
    """One message's scores (VIEWS x 1 x SCORE_COLUMNS) from its pieces' crisis probabilities
    (pieces x VIEWS; the first piece is the whole message), as the trainer computes them."""
    scores = np.zeros((crisis_probs.shape[1], 1, SCORE_COLUMNS))
    if is_long:
        scores[:, 0, 2] = crisis_probs.max(axis=0)
    else:
        scores[:, 0, 0] = crisis_probs[0]
        if len(crisis_probs) > 1:
            scores[:, 0, 1] = crisis_probs[1:].max(axis=0)
    return scores


def other_share(rows: np.ndarray) -> float:
    """Of the self and other probability over every reading of the message's pieces, the
    share that reads someone else's danger. Pooled, not taken from the most alarming piece
    alone: words of despair that the asker quotes from someone else read as the asker's own,
    while the message's other pieces read that person's danger. Over all pieces, not only
    those over their bars: on the 1200 crisis messages of safety batches 1-21 this changed one
    reply, a nurse's patient read as the nurse's own danger (docs/benchmarks.md)."""
    other = float(rows[:, CLASSES.index("other")].sum())
    own = float(rows[:, CLASSES.index("self")].sum())
    return other / (other + own) if other + own > 0 else 0.0


OWN_DANGER_BELOW = 1 / 4
"""Under this share of readings about someone else, the asker's own reply alone. Set low on
purpose: "both" costs an asker in danger one extra paragraph (their own reply still follows),
while "self" leaves a carer without "call 911 for them now". Of the 1305 labelled crisis
messages of the safety sets (batches 1-22, training and hold-out), no one else's emergency
read below 0.32, and 2 of 955 of the asker's own read between a quarter and a third
(docs/benchmarks.md)."""


def whose_danger(share: float) -> Who:
    """Whose danger: a clear majority of the alarming readings decides; between
    OWN_DANGER_BELOW and two thirds it is unclear, and both replies are shown (someone
    else's first)."""
    if share > 2 / 3:
        return "other"
    if share < OWN_DANGER_BELOW:
        return "self"
    return "both"


@lru_cache(maxsize=1)
def _default_head() -> CrisisHead:
    return CrisisHead.load()


@lru_cache(maxsize=1)
def _default_floor() -> CrisisFloor:
    return load_floor()
