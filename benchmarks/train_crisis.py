"""Fit the crisis classifier on eval/safety_train/ and the labelled question sets, choose its
thresholds by cross-validation, and write the head to bot/models/ with its data hash.
`make train` runs it.

Messages are read the way the router reads them: whole, and in sentences and windows. The
two thresholds (whole message, any piece) are the pair with the fewest out-of-fold false
alarms among those whose out-of-fold recall on the crisis messages reaches TARGET_RECALL.
Recall comes first: a false alarm costs a patient one extra paragraph, a miss could cost a
life.
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
from bot.crisis import LONG_MESSAGE_WORDS, segments
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
QUESTION_SETS = (
    ROOT / "eval" / "questions_dev.jsonl",
    ROOT / "eval" / "questions.jsonl",
    ROOT / "eval" / "safety.jsonl",
    ROOT / "eval" / "safety_holdout.jsonl",
)
"""Labelled patient-question sets, learned from too: they hold the ordinary questions the
router meets most (the training files are mostly hard near misses). The first-contact
batches in eval/firstcontact/ are never trained on."""
TARGET_RECALL = 0.98
FOLDS = 5


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # one of CLASSES
    category: str


def load_examples(
    train_dir: Path = TRAIN_DIR, question_sets: Sequence[Path] = QUESTION_SETS
) -> tuple[list[Example], list[Path]]:
    """Training files (text, label, who, category) and question sets (question,
    expect or expect_verdict, who for crisis rows), with the paths they came from."""
    paths = sorted(train_dir.glob("*.jsonl")) + [p for p in question_sets if p.exists()]
    examples = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if "label" not in row:  # a question set
                expect = row.get("expect") or row["expect_verdict"]
                row = {
                    "text": row["question"],
                    "label": "crisis" if expect == "crisis" else "not_crisis",
                    "who": row.get("who", "none"),
                    "category": f"{path.stem}:{row.get('family') or row.get('kind') or expect}",
                }
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
        """Per message: crisis probability of the whole, and the highest over its pieces."""
        mask = np.isin(self.owner, index)
        positions = np.flatnonzero(mask)
        probs = head.probabilities(self.rows[mask])
        crisis = probs[:, 1] + probs[:, 2]
        whole_set = set(self.whole.tolist())
        whole: dict[int, float] = {}
        piece: dict[int, float] = defaultdict(float)
        for position, owner, score in zip(positions, self.owner[mask], crisis, strict=True):
            short = len(self.pieces[int(owner)][0].split()) <= LONG_MESSAGE_WORDS
            if int(position) in whole_set and short:
                whole[int(owner)] = float(score)
            else:
                piece[int(owner)] = max(piece[int(owner)], float(score))
        return np.array([[whole.get(int(i), 0.0), piece[int(i)]] for i in index])


def choose_thresholds(
    scores: np.ndarray, is_crisis: np.ndarray, target: float
) -> tuple[float, float]:
    """The (whole-message, piece) thresholds with the fewest false alarms among those whose
    recall on the crisis messages is at least ``target``; ``scores`` holds per message the
    whole message's crisis probability and its pieces' highest (0 when it has none)."""
    crisis, calm = scores[is_crisis], scores[~is_crisis]
    allowed_misses = int(np.floor((1 - target) * len(crisis)))
    best: tuple[int, float, float] | None = None
    for whole_bar in np.unique(np.round(crisis[:, 0], 4)):
        below = np.sort(crisis[crisis[:, 0] < whole_bar, 1])[::-1]
        if len(below) <= allowed_misses:
            piece_bar = 1.0
        else:
            piece_bar = float(below[len(below) - allowed_misses - 1])
        alarms = int(np.sum((calm[:, 0] >= whole_bar) | (calm[:, 1] >= piece_bar)))
        if best is None or (alarms, -piece_bar) < (best[0], -best[2]):
            best = (alarms, float(whole_bar), piece_bar)
    if best is None:
        return 0.5, 0.5
    return best[1], best[2]


def flagged(scores: np.ndarray, thresholds: tuple[float, float]) -> np.ndarray:
    return (scores[:, 0] >= thresholds[0]) | (scores[:, 1] >= thresholds[1])


@dataclass(frozen=True)
class Training:
    head: CrisisHead
    out_of_fold: np.ndarray
    """Cross-validated (whole, highest piece) crisis scores of each training message."""
    thresholds: tuple[float, float]


def train(examples: Sequence[Example], embedder: Embedder, digest: str) -> Training:
    labels = np.array([e.label for e in examples])
    segs = SegmentFeatures([e.text for e in examples], embedder)
    out_of_fold = np.zeros((len(examples), 2))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    for train_index, test_index in folds.split(np.zeros(len(labels)), labels):
        model = fit(*segs.training_rows(train_index, labels))
        fold_head = head_of(model, (0.5, 0.5), digest)
        out_of_fold[test_index] = segs.message_scores(fold_head, test_index)
    thresholds = choose_thresholds(out_of_fold, labels != "none", TARGET_RECALL)
    model = fit(*segs.training_rows(np.arange(len(labels)), labels))
    return Training(head_of(model, thresholds, digest), out_of_fold, thresholds)


def report(examples: Sequence[Example], training: Training) -> list[str]:
    """Cross-validated recall (crisis) or false-alarm rate (not crisis) per category."""
    alarms = flagged(training.out_of_fold, training.thresholds)
    per: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for example, alarm in zip(examples, alarms, strict=True):
        kind = "crisis" if example.label != "none" else "not crisis"
        per[(kind, example.category)].append(bool(alarm))
    whole_bar, piece_bar = training.thresholds
    lines = [
        f"thresholds: whole message {whole_bar:.3f}, any sentence or window {piece_bar:.3f}"
        f" (cross-validated, target recall {TARGET_RECALL})"
    ]
    for (kind, category), flags in sorted(per.items()):
        what = "recall" if kind == "crisis" else "false alarms"
        lines.append(f"{kind:10} {category:40} {what:12} {sum(flags)}/{len(flags)}")
    is_crisis = np.array([e.label != "none" for e in examples])
    lines.append(
        f"overall recall {alarms[is_crisis].sum()}/{is_crisis.sum()},"
        f" false alarms {alarms[~is_crisis].sum()}/{(~is_crisis).sum()}"
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
