"""A learned check for requests for personal advice that the vocabulary's phrases miss.

The phrases in corpus/vocabulary.toml ("should i", "what dose", "with my meds", ...) stay the
main rule; this head, a logistic regression over the same features as the crisis router (the
shipped MiniLM embedding and character and word n-grams, bot/crisis_model.py), catches other
wordings of the same requests ("how much would I need to take for my back pain"). It is fitted
on the labelled question sets by `python -m benchmarks.train_advice` (`make train`), with its
bar chosen by cross-validation, and committed with the hash of its data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.crisis_model import (
    MODEL_DIR,
    LinearHead,
    feature_settings,
    features,
    load_weights,
    save_weights,
)
from bot.errors import ModelUnavailableError

MODEL_FILE = MODEL_DIR / "advice_head.npz"
META_FILE = MODEL_DIR / "advice_head.json"


@dataclass(frozen=True)
class AdviceHead:
    """P(the message asks for personal advice) per text, and the bar at which it counts."""

    head: LinearHead
    """Two rows: not personal, personal."""
    bar: float
    data_hash: str
    info: dict[str, object]

    def probabilities(
        self, texts: Sequence[str], vectors: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        rows = features(texts, vectors.reshape(len(texts), -1))
        return self.head.probabilities(rows)[:, 1]

    def asks_advice(self, text: str, vector: npt.NDArray[np.float32]) -> bool:
        return bool(self.probabilities([text], vector)[0] >= self.bar)

    def save(self, model_file: Path = MODEL_FILE, meta_file: Path = META_FILE) -> None:
        meta = {"bar": self.bar, "data_sha256": self.data_hash, **self.info}
        save_weights(model_file, meta_file, self.head.coef, self.head.intercept, meta)

    @classmethod
    def load(cls, model_file: Path = MODEL_FILE, meta_file: Path = META_FILE) -> AdviceHead:
        what = "personal-advice classifier", "the labelled question sets"
        coef, intercept, meta = load_weights(model_file, meta_file, *what)
        try:
            bar = float(meta["bar"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelUnavailableError(
                f"The {what[0]} could not be read from {meta_file} ({exc}). "
                f"Run `make train` to rebuild it from {what[1]}."
            ) from exc
        settings = feature_settings()
        info = {k: v for k, v in meta.items() if k not in settings and k != "bar"}
        return cls(LinearHead(coef, intercept), bar, str(meta["data_sha256"]), info)


@lru_cache(maxsize=1)
def default_advice_head() -> AdviceHead:
    return AdviceHead.load()
