"""Fit the crisis classifier on eval/safety_train/, choose its threshold by cross-validation,
and write the head to bot/models/ with its data hash. `make train` runs it.

The threshold is the highest crisis probability at which the out-of-fold recall on the
training crisis messages still reaches TARGET_RECALL, reading each message the way the router
does (whole, sentences, windows; highest score wins). Recall comes first: a false alarm costs
a patient one extra paragraph, a miss could cost a life.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.model_selection import StratifiedKFold

from bot.config import Settings
from bot.crisis import segments
from bot.crisis_model import (
    CLASSES,
    META_FILE,
    MODEL_FILE,
    CrisisHead,
    data_hash,
    features,
    fit,
    head_of,
)
from bot.embeddings import Embedder, load_embedder

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TRAIN_DIR = ROOT / "eval" / "safety_train"
TARGET_RECALL = 0.98
FOLDS = 5


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # one of CLASSES
    category: str


def load_examples(train_dir: Path = TRAIN_DIR) -> tuple[list[Example], list[Path]]:
    paths = sorted(train_dir.glob("*.jsonl"))
    examples = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            crisis = row["label"] == "crisis"
            label = (
                (row.get("who") if row.get("who") in ("self", "other") else "self")
                if crisis
                else "none"
            )
            if label not in CLASSES:
                raise ValueError(
                    f"{path}:{number}: unknown label {row['label']!r}/{row.get('who')!r}"
                )
            examples.append(Example(row["text"], label, row.get("category", "")))
    return examples, paths


class SegmentFeatures:
    """Feature rows of every message and of each of its pieces, embedded once."""

    def __init__(self, texts: Sequence[str], embedder: Embedder) -> None:
        self.pieces = [segments(t) or [t] for t in texts]
        flat = [p for pieces in self.pieces for p in pieces]
        vectors = embedder.embed_documents(flat)
        self.rows = features(flat, vectors)
        self.owner = np.repeat(np.arange(len(texts)), [len(p) for p in self.pieces])
        # The first piece of each message is the whole message.
        self.whole = np.concatenate([[0], np.cumsum([len(p) for p in self.pieces])[:-1]])

    def training_rows(
        self, index: np.ndarray, labels: np.ndarray
    ) -> tuple[sparse.csr_matrix, np.ndarray]:
        """The given messages whole, with their labels, plus every piece of the calm ones as
        calm too: a message that is not a crisis has no sentence that is. (A crisis message
        may hold calm sentences, so its pieces are not labelled.)"""
        calm = index[labels[index] == "none"]
        pieces = np.flatnonzero(np.isin(self.owner, calm))
        pieces = pieces[~np.isin(pieces, self.whole)]
        rows = np.concatenate([self.whole[index], pieces])
        return self.rows[rows], np.concatenate([labels[index], np.full(len(pieces), "none")])

    def message_scores(self, head: CrisisHead, index: np.ndarray) -> np.ndarray:
        """Highest crisis probability over each message's pieces, as the router reads it."""
        mask = np.isin(self.owner, index)
        probs = head.probabilities(self.rows[mask])
        crisis = probs[:, 1] + probs[:, 2]
        best: dict[int, float] = defaultdict(float)
        for owner, score in zip(self.owner[mask], crisis, strict=True):
            best[int(owner)] = max(best[int(owner)], float(score))
        return np.array([best[int(i)] for i in index])


def choose_threshold(scores: np.ndarray, is_crisis: np.ndarray, target: float) -> float:
    """The highest threshold whose recall on the crisis messages is at least ``target``."""
    crisis_scores = np.sort(scores[is_crisis])
    allowed_misses = int(np.floor((1 - target) * len(crisis_scores)))
    return float(crisis_scores[allowed_misses]) if len(crisis_scores) else 0.5


@dataclass(frozen=True)
class Training:
    head: CrisisHead
    out_of_fold: np.ndarray
    """Cross-validated crisis score of each training message."""
    cv_threshold: float


def train(examples: Sequence[Example], embedder: Embedder, digest: str) -> Training:
    labels = np.array([e.label for e in examples])
    segs = SegmentFeatures([e.text for e in examples], embedder)
    out_of_fold = np.zeros(len(examples))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    for train_index, test_index in folds.split(np.zeros(len(labels)), labels):
        model = fit(*segs.training_rows(train_index, labels))
        fold_head = head_of(model, 0.5, digest)
        out_of_fold[test_index] = segs.message_scores(fold_head, test_index)
    threshold = choose_threshold(out_of_fold, labels != "none", TARGET_RECALL)
    model = fit(*segs.training_rows(np.arange(len(labels)), labels))
    return Training(head_of(model, threshold, digest), out_of_fold, threshold)


def report(examples: Sequence[Example], training: Training) -> list[str]:
    """Cross-validated recall (crisis) or false-alarm rate (not crisis) per category."""
    threshold = training.cv_threshold
    per: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for example, score in zip(examples, training.out_of_fold, strict=True):
        kind = "crisis" if example.label != "none" else "not crisis"
        per[(kind, example.category)].append(bool(score >= threshold))
    lines = [f"threshold {threshold:.3f} (cross-validated, target recall {TARGET_RECALL})"]
    for (kind, category), flags in sorted(per.items()):
        flagged = sum(flags)
        what = "recall" if kind == "crisis" else "false alarms"
        lines.append(f"{kind:10} {category:32} {what:12} {flagged}/{len(flags)}")
    crisis = [
        s >= threshold
        for e, s in zip(examples, training.out_of_fold, strict=True)
        if e.label != "none"
    ]
    calm = [
        s >= threshold
        for e, s in zip(examples, training.out_of_fold, strict=True)
        if e.label == "none"
    ]
    lines.append(
        f"overall recall {sum(crisis)}/{len(crisis)}, false alarms {sum(calm)}/{len(calm)}"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-dir", type=Path, default=TRAIN_DIR)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--meta", type=Path, default=META_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    examples, paths = load_examples(args.train_dir)
    embedder = load_embedder(Settings())
    training = train(examples, embedder, data_hash(paths))
    training.head.save(args.out, args.meta)
    for line in report(examples, training):
        print(line)
    print(
        f"wrote {args.out} ({len(examples)} examples, data sha256 {training.head.data_hash[:12]})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
