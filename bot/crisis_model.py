"""The learned crisis classifier: features, fitting, saving and loading its small head.

The one place scikit-learn is imported. Features are the text's sentence embedding (the
shipped MiniLM, already computed for retrieval) joined with hashed character n-grams, which
carry misspellings, slang and other languages that the embedding model reads poorly, and with
the embedding of the whole message the text comes from: a sentence is read in the light of
its message ("2021 was a dark year" in a story that ends "I'm doing better now"). Two
multinomial logistic regressions over three classes (no crisis, the asker's own danger,
someone else's emergency) sit on top, one reading each piece alone and one reading it with
its message (VIEWS); their coefficients are a few hundred kilobytes, committed with the hash
of the data they were fitted on. (A one-layer network over the
embedding, averaged with it, was tried: no fewer false alarms at the same recall, and less
reproducible; docs/benchmarks.md.)
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils import murmurhash3_32

from bot.errors import ModelUnavailableError

CLASSES = ("none", "self", "other")
"""Column order of the classifier's probabilities."""

CHAR_FEATURES = 2**14
CHAR_NGRAMS = (2, 5)
CHAR_WEIGHT = 1.0
"""Scale of the character block relative to the unit-length embedding."""
WORD_FEATURES = 2**14
WORD_NGRAMS = (1, 2)
WORD_WEIGHT = 1.0
"""Scale of the word block: word pairs carry tense and hedges ("years ago", "lol")."""
CONTEXT_WEIGHT = 1.0
"""Scale of the whole message's embedding joined to each of its pieces (for the whole message
itself, its own embedding again). Chosen by cross-validation (docs/benchmarks.md)."""

MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_FILE = MODEL_DIR / "crisis_head.npz"
META_FILE = MODEL_DIR / "crisis_head.json"

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff]")
# Digits and symbols written for letters ("su1c1de", "k!ll"), read back as letters.
_LEET = str.maketrans(
    {"1": "i", "3": "e", "0": "o", "4": "a", "5": "s", "@": "a", "$": "s", "!": "i"}
)


def normalise(text: str) -> str:
    """Lower case, accents and zero-width characters removed, typographic quotes plain."""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip()


def deleet(text: str) -> str:
    """'su1c1de' -> 'suicide'; only inside words, so '911' and '2 pills' stay as they are."""
    return re.sub(r"(?<=[a-z])[01345@$!]+(?=[a-z])|(?<=[a-z])[013@$]+\b", _deleet_match, text)


def _deleet_match(match: re.Match[str]) -> str:
    return match.group(0).translate(_LEET)


_CHARS = HashingVectorizer(
    analyzer="char_wb",
    ngram_range=CHAR_NGRAMS,
    n_features=CHAR_FEATURES,
    alternate_sign=False,
    norm="l2",
    lowercase=False,
)


_WORDS = HashingVectorizer(
    analyzer="word",
    ngram_range=WORD_NGRAMS,
    n_features=WORD_FEATURES,
    alternate_sign=False,
    norm="l2",
    lowercase=False,
    token_pattern=r"(?u)\b\w+\b|[^\w\s]",
)


_CHAR_ANALYZER = _CHARS.build_analyzer()
_WORD_ANALYZER = _WORDS.build_analyzer()


def _hashed(
    terms: Sequence[str], n_features: int, weight: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The columns and values HashingVectorizer gives one text's terms (murmurhash3 of each
    term's UTF-8 bytes, seed 0, counts, unit length), times ``weight``; computed here because
    its transform spends most of a millisecond per call checking its arguments, on every
    message the router reads (tests/bot/test_crisis.py checks the two agree)."""
    if not terms:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    hashes = np.fromiter((abs(murmurhash3_32(t, 0)) % n_features for t in terms), np.int64)
    columns, counts = np.unique(hashes, return_counts=True)
    values = counts.astype(np.float64)
    return columns, values / np.sqrt(np.dot(values, values)) * weight


def features(
    texts: Sequence[str],
    vectors: npt.NDArray[np.float32],
    context: npt.NDArray[np.float32] | None = None,
) -> sparse.csr_matrix:
    """The classifier's input rows: [embedding | char n-grams | word n-grams | context], the
    n-grams of the normalised text, ``context`` the embedding of the message each text comes
    from (the texts' own embeddings when they are whole messages), each block scaled by its
    weight."""
    vectors = np.asarray(vectors, dtype=np.float32)
    vectors = vectors.reshape(len(texts), vectors.shape[-1] if vectors.size == 0 else -1)
    around = vectors if context is None else np.asarray(context, dtype=np.float32)
    dim = vectors.shape[1]
    dense = np.arange(dim, dtype=np.int64)
    char_start, word_start = dim, dim + CHAR_FEATURES
    context_start = word_start + WORD_FEATURES
    columns: list[npt.NDArray[np.int64]] = []
    values: list[npt.NDArray[np.float64]] = []
    indptr = [0]
    for row, text in enumerate(texts):
        plain = deleet(normalise(text))
        chars = _hashed(_CHAR_ANALYZER(plain), CHAR_FEATURES, CHAR_WEIGHT)
        words = _hashed(_WORD_ANALYZER(plain), WORD_FEATURES, WORD_WEIGHT)
        columns += [dense, chars[0] + char_start, words[0] + word_start, dense + context_start]
        values += [vectors[row], chars[1], words[1], around[row] * CONTEXT_WEIGHT]
        indptr.append(indptr[-1] + 2 * dim + len(chars[0]) + len(words[0]))
    width = context_start + around.shape[1]
    if not texts:
        return sparse.csr_matrix((0, width))
    rows = sparse.csr_matrix(
        (np.concatenate(values), np.concatenate(columns), np.asarray(indptr)),
        shape=(len(texts), width),
    )
    rows.eliminate_zeros()  # as the stacked sparse blocks had (an embedding is never 0.0)
    return rows


VIEWS = ("plain", "context")
"""Two readings of every piece, each with its own linear head and bars; the message stage
weighs both (MessageStage). "plain" reads the piece alone (its context block weighs nothing),
"context" reads it together with the whole message. The context reading makes fewer false
alarms on stories of past, resolved episodes, but alone it missed more crisis lines hidden in
an ordinary question, on first contact and in cross-validation by source file; either one
alarming keeps the recall of the plain reading at fewer false alarms (docs/benchmarks.md)."""


@dataclass(frozen=True)
class Thresholds:
    """Crisis probability (self + other) at or above which one reading of a message alarms."""

    short: float
    """A short message, as a whole or in any sentence or window of it."""
    long: float
    """A long message, as a whole or in any piece: a long story of pain reads much like the
    stories around a crisis, so it has its own bar."""


@dataclass(frozen=True)
class LinearHead:
    """One reading's multinomial logistic regression: probabilities of CLASSES per row."""

    coef: npt.NDArray[np.float32]
    intercept: npt.NDArray[np.float32]

    def probabilities(self, rows: sparse.csr_matrix) -> npt.NDArray[np.float64]:
        logits = np.asarray(rows @ self.coef.T, dtype=np.float64) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))


SCORE_COLUMNS = 3
"""Per message and reading, the crisis probabilities the bars are compared with: a short
message's whole, the highest of its pieces, and a long message's highest over its whole and
pieces (0 where a column does not apply)."""
_EPSILON = 1e-4


def _logit(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    clipped = np.clip(np.asarray(p, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    return np.asarray(np.log(clipped / (1 - clipped)))


def message_features(
    scores: npt.NDArray[np.float64], thresholds: Sequence[Thresholds]
) -> npt.NDArray[np.float64]:
    """The message stage's inputs from ``scores`` (VIEWS x messages x SCORE_COLUMNS): per
    reading, the log-odds margin of the message's highest score over its bar, the log-odds of
    the whole message and of its most alarming piece (a long message's highest for both)."""
    is_long = scores[0, :, 2] > 0
    columns = []
    for view, bars in zip(scores, thresholds, strict=True):
        short = np.maximum(view[:, 0], view[:, 1])
        longest = _logit(view[:, 2])
        columns += [
            np.where(
                is_long,
                longest - _logit(bars.long),
                _logit(short) - _logit(bars.short),
            ),
            np.where(is_long, longest, _logit(view[:, 0])),
            np.where(is_long, longest, _logit(np.maximum(view[:, 1], _EPSILON))),
        ]
    return np.column_stack(columns)


def over_bars(scores: npt.NDArray[np.float64], bars: Thresholds) -> npt.NDArray[np.bool_]:
    """Per message, whether one reading's scores (messages x SCORE_COLUMNS) reach its bars."""
    short = np.maximum(scores[:, 0], scores[:, 1]) >= bars.short
    return np.asarray(short | (scores[:, 2] >= bars.long))


def either_reading_alarms(
    scores: npt.NDArray[np.float64], thresholds: Sequence[Thresholds]
) -> npt.NDArray[np.bool_]:
    """Per message, whether either reading (VIEWS x messages x SCORE_COLUMNS) reaches its bars."""
    over = [over_bars(view, bars) for view, bars in zip(scores, thresholds, strict=True)]
    return np.asarray(np.any(over, axis=0))


@dataclass(frozen=True)
class MessageStage:
    """The last decision, over a message's reading scores (message_features): a logistic
    regression with no negative weight, so a more alarming reading never lowers it, and its
    bar. Either reading over its bar alarmed on its own before; weighing the readings together
    flags fewer calm messages at the same recall (docs/benchmarks.md)."""

    coef: tuple[float, ...]
    intercept: float
    bar: float

    def probabilities(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        logits = features @ np.asarray(self.coef, dtype=np.float64) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-logits)))

    def alarms(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        return np.asarray(self.probabilities(features) >= self.bar)


@dataclass(frozen=True)
class CrisisHead:
    """The fitted readings (one LinearHead per VIEWS), their bars and the message stage."""

    views: tuple[LinearHead, ...]
    thresholds: tuple[Thresholds, ...]
    data_hash: str
    stage: MessageStage | None = None
    """None: a message is a crisis when either reading is over its bar."""

    def alarms(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Per message, whether it alarms, from its scores (VIEWS x messages x SCORE_COLUMNS)."""
        if self.stage is not None:
            return self.stage.alarms(message_features(scores, self.thresholds))
        return either_reading_alarms(scores, self.thresholds)

    def probabilities(self, rows: sparse.csr_matrix) -> npt.NDArray[np.float64]:
        """Probabilities of CLASSES per row and reading: shape (rows, VIEWS, CLASSES)."""
        return np.stack([view.probabilities(rows) for view in self.views], axis=1)

    def save(self, model_file: Path = MODEL_FILE, meta_file: Path = META_FILE) -> None:
        meta = {
            "classes": list(CLASSES),
            "views": list(VIEWS),
            "thresholds": {
                view: asdict(bars) for view, bars in zip(VIEWS, self.thresholds, strict=True)
            },
            "data_sha256": self.data_hash,
        }
        if self.stage is not None:
            meta["message_stage"] = asdict(self.stage)
        coef = np.stack([v.coef for v in self.views])
        intercept = np.stack([v.intercept for v in self.views])
        save_weights(model_file, meta_file, coef, intercept, meta)

    @classmethod
    def load(cls, model_file: Path = MODEL_FILE, meta_file: Path = META_FILE) -> CrisisHead:
        what = "crisis classifier", "eval/safety_train/"
        coef, intercept, meta = load_weights(model_file, meta_file, *what)
        try:
            views = tuple(LinearHead(c, i) for c, i in zip(coef, intercept, strict=True))
            thresholds = tuple(Thresholds(**meta["thresholds"][view]) for view in VIEWS)
            stage_meta = meta.get("message_stage")
            stage = (
                None
                if stage_meta is None
                else MessageStage(
                    tuple(float(c) for c in stage_meta["coef"]),
                    float(stage_meta["intercept"]),
                    float(stage_meta["bar"]),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelUnavailableError(
                f"The {what[0]} could not be read from {meta_file} ({exc}). "
                f"Run `make train` to rebuild it from {what[1]}."
            ) from exc
        if (
            meta.get("classes") != list(CLASSES)
            or meta.get("views") != list(VIEWS)
            or len(views) != len(VIEWS)
        ):
            raise ModelUnavailableError(
                f"{meta_file} was trained with other features than this code uses. "
                "Run `make train` to rebuild it."
            )
        return cls(views, thresholds, str(meta["data_sha256"]), stage)


def save_weights(
    model_file: Path,
    meta_file: Path,
    coef: npt.NDArray[np.float32],
    intercept: npt.NDArray[np.float32],
    meta: Mapping[str, object],
) -> None:
    """A fitted head's weights to ``model_file``, and ``meta`` with the feature settings it was
    fitted with to ``meta_file`` (JSON)."""
    model_file.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(model_file, coef=coef, intercept=intercept)
    meta_file.write_text(json.dumps({**meta, **feature_settings()}, indent=2) + "\n")


def load_weights(
    model_file: Path, meta_file: Path, what: str, source: str
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], dict[str, Any]]:
    """The weights and meta written by save_weights; ModelUnavailableError naming ``what``
    (and the data to refit it from, ``source``) when they cannot be read or were fitted with
    other features than this code makes."""
    try:
        arrays = np.load(model_file)
        meta = json.loads(meta_file.read_text())
        coef, intercept = (arrays[name].astype(np.float32) for name in ("coef", "intercept"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailableError(
            f"The {what} could not be read from {model_file} ({exc}). "
            f"Run `make train` to rebuild it from {source}."
        ) from exc
    if not isinstance(meta, dict) or any(
        meta.get(key) != value for key, value in feature_settings().items()
    ):
        raise ModelUnavailableError(
            f"{meta_file} was trained with other features than this code uses. "
            "Run `make train` to rebuild it."
        )
    return coef, intercept, meta


def feature_settings() -> dict[str, object]:
    """The feature options a saved head was fitted with (checked when it is loaded)."""
    return {
        "char_features": CHAR_FEATURES,
        "char_ngrams": list(CHAR_NGRAMS),
        "char_weight": CHAR_WEIGHT,
        "word_features": WORD_FEATURES,
        "word_ngrams": list(WORD_NGRAMS),
        "word_weight": WORD_WEIGHT,
        "context_weight": CONTEXT_WEIGHT,
    }


REGULARISATION = 4.0
"""Inverse regularisation strength C of the linear model, chosen by cross-validation
(docs/benchmarks.md)."""


def fit(
    rows: sparse.csr_matrix, labels: Sequence[str] | npt.NDArray[np.str_], seed: int = 0
) -> LogisticRegression:
    """A multinomial logistic regression over CLASSES. The classes are not reweighted: the
    probabilities keep the data's proportions, and the bars chosen in cross-validation do
    the trading between recall and false alarms (reweighting raised every ordinary
    question's crisis probability; docs/benchmarks.md)."""
    model = LogisticRegression(C=REGULARISATION, max_iter=3000, random_state=seed)
    model.fit(rows, [CLASSES.index(label) for label in labels])
    return model


def plain_columns(width: int) -> int:
    """How many leading columns of a feature row of ``width`` the plain reading uses: all
    but the context block, which is as wide as the embedding."""
    embedding = (width - CHAR_FEATURES - WORD_FEATURES) // 2
    return width - embedding


def view_rows(rows: sparse.csr_matrix, view: str) -> sparse.csr_matrix:
    """The columns of ``rows`` that ``view`` reads."""
    return rows if view == "context" else rows[:, : plain_columns(rows.shape[1])]


def linear_head(model: LogisticRegression, width: int) -> LinearHead:
    """A fitted model as a LinearHead over full feature rows of ``width`` (zero weight on
    the columns its reading does not use)."""
    coef = np.zeros((len(CLASSES), width), dtype=np.float32)
    coef[:, : model.coef_.shape[1]] = model.coef_
    return LinearHead(coef, np.asarray(model.intercept_, dtype=np.float32))


def data_hash(paths: Sequence[Path]) -> str:
    """SHA-256 over the training files' names and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
