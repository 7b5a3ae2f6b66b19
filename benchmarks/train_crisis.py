"""Fit the crisis classifier on eval/safety_train/ and the labelled question sets, choose its
thresholds by cross-validation, and write the head to bot/models/ with its data hash.
`make train` runs it.

Messages are read the way the router reads them: whole, and in sentences and windows. A long
crisis message is mostly an ordinary story with one alarming clause, so it does not teach the
classifier as a whole: a first fit finds its most alarming piece, and a second fit learns from
that piece (multiple-instance learning). Each reading (crisis_model.VIEWS: a piece alone, and a
piece with its whole message) is fitted so, and gets two bars (a short message or any piece of
it, a long message or any piece of it): the ones with the fewest out-of-fold false alarms among
those whose out-of-fold recall on the crisis messages reaches TARGET_RECALL. A message is a
crisis when either reading alarms. Recall comes first: a false alarm costs a patient one extra
paragraph, a miss could cost a life.
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
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from benchmarks import questions as question_sets
from bot.config import Settings, usable_cores
from bot.crisis import LONG_MESSAGE_WORDS, message_scores, segments
from bot.crisis_model import (
    CLASSES,
    META_FILE,
    MODEL_FILE,
    VIEWS,
    CrisisHead,
    LinearHead,
    MessageStage,
    Thresholds,
    data_hash,
    either_reading_alarms,
    features,
    fit,
    linear_head,
    message_features,
    over_bars,
    view_rows,
)
from bot.embeddings import Embedder, load_embedder

REFERENCE_RUNTIME = "torch"
"""The head is fit on sentence-transformers' own vectors. The ONNX runtime the bot answers with
gives the same vectors to about 1e-7, but the bars are picked among near-tied probabilities, so
a refit on ONNX vectors moved one bar by 0.003 (0.083 -> 0.080); fitting on the reference keeps
`make train` reproducing the committed head (tests/bot/test_crisis.py)."""


def reference_settings() -> Settings:
    """Settings that load the reference runtime with every usable core: training is a lone
    batch job, and torch gives the same vectors with one thread or several (checked on 2,000
    pieces: every row identical). The retraining test took 517 s so on two cores, against
    about 14 min with the serving default of one thread (docs/benchmarks.md)."""
    return Settings(embedding_runtime=REFERENCE_RUNTIME, embedding_threads=usable_cores())


log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TRAIN_DIR = ROOT / "eval" / "safety_train"
FIRST_CONTACT = question_sets.FIRST_CONTACT_DIR
QUESTION_SETS = (
    ROOT / "eval" / "questions_dev.jsonl",
    ROOT / "eval" / "questions.jsonl",
    ROOT / "eval" / "safety.jsonl",
    ROOT / "eval" / "safety_holdout.jsonl",
    FIRST_CONTACT / "safety-batch1.jsonl",
    FIRST_CONTACT / "safety-batch2.jsonl",
    FIRST_CONTACT / "questions-batch1.jsonl",
    FIRST_CONTACT / "questions-batch2.jsonl",
    FIRST_CONTACT / "safety-batch3.jsonl",
    FIRST_CONTACT / "questions-batch3.jsonl",
    FIRST_CONTACT / "safety-batch4.jsonl",
    FIRST_CONTACT / "questions-batch4.jsonl",
    FIRST_CONTACT / "safety-batch5.jsonl",
    FIRST_CONTACT / "questions-batch5.jsonl",
    FIRST_CONTACT / "safety-batch6.jsonl",
    FIRST_CONTACT / "questions-batch6.jsonl",
    FIRST_CONTACT / "questions-batch7.jsonl",
    FIRST_CONTACT / "safety-batch7.jsonl",
    FIRST_CONTACT / "safety-batch8.jsonl",
    FIRST_CONTACT / "safety-batch9.jsonl",
    FIRST_CONTACT / "questions-batch8.jsonl",
    FIRST_CONTACT / "questions-batch9.jsonl",
    FIRST_CONTACT / "questions-batch10.jsonl",
    FIRST_CONTACT / "questions-batch11.jsonl",
    FIRST_CONTACT / "safety-batch10.jsonl",
    FIRST_CONTACT / "questions-batch12.jsonl",
    FIRST_CONTACT / "questions-batch13.jsonl",
    FIRST_CONTACT / "safety-batch11.jsonl",
    FIRST_CONTACT / "questions-batch14.jsonl",
    FIRST_CONTACT / "questions-batch15.jsonl",
    FIRST_CONTACT / "safety-batch12.jsonl",
    FIRST_CONTACT / "questions-batch16.jsonl",
    FIRST_CONTACT / "safety-batch13.jsonl",
    FIRST_CONTACT / "questions-batch17.jsonl",
    FIRST_CONTACT / "safety-batch14.jsonl",
    FIRST_CONTACT / "questions-batch18.jsonl",
    FIRST_CONTACT / "safety-batch15.jsonl",
    FIRST_CONTACT / "questions-batch19.jsonl",
    FIRST_CONTACT / "safety-batch16.jsonl",
    FIRST_CONTACT / "safety-batch17.jsonl",
    FIRST_CONTACT / "questions-batch20.jsonl",
    FIRST_CONTACT / "safety-batch18.jsonl",
    FIRST_CONTACT / "questions-batch21.jsonl",
    FIRST_CONTACT / "safety-batch19.jsonl",
    FIRST_CONTACT / "questions-batch22.jsonl",
    FIRST_CONTACT / "safety-batch20.jsonl",
    FIRST_CONTACT / "questions-batch23.jsonl",
    FIRST_CONTACT / "safety-batch21.jsonl",
    FIRST_CONTACT / "questions-batch24.jsonl",
    FIRST_CONTACT / "safety-batch22.jsonl",
    FIRST_CONTACT / "questions-batch25.jsonl",
    FIRST_CONTACT / "safety-batch23.jsonl",
    FIRST_CONTACT / "questions-batch26.jsonl",
    FIRST_CONTACT / "safety-batch24.jsonl",
    FIRST_CONTACT / "questions-batch27.jsonl",
    FIRST_CONTACT / "safety-batch25.jsonl",
    FIRST_CONTACT / "questions-batch28.jsonl",
)
"""Labelled patient-question sets, learned from too: they hold the ordinary questions the
router meets most (the training files are mostly hard near misses). A first-contact batch
joins them only after its first-contact figure is in docs/benchmarks.md; the newest batch is
kept out, to measure the router on wordings it has not learned from."""
TARGET_RECALL = 0.97
"""Out-of-fold recall each reading must reach on its own; either reading alarming, the two
reach about 98.4% together (docs/benchmarks.md)."""
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
                    "text": row.get("question") or row["text"],
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
        self.owner = np.repeat(np.arange(len(texts)), [len(p) for p in self.pieces])
        # The first piece of each message is the whole message.
        self.whole = np.concatenate([[0], np.cumsum([len(p) for p in self.pieces])[:-1]])
        self.rows = features(flat, vectors, vectors[self.whole[self.owner]])
        self.long = np.array([len(p[0].split()) > LONG_MESSAGE_WORDS for p in self.pieces])

    def training_rows(
        self, view: str, index: np.ndarray, labels: np.ndarray, guide: LinearHead | None = None
    ) -> tuple[sparse.csr_matrix, np.ndarray]:
        """The given messages with their labels, plus every piece of the calm ones as calm
        too: a message that is not a crisis has no sentence that is. A long crisis message
        is given by its most alarming piece under ``guide`` (by its whole without one); its
        other pieces may be calm, so they are not labelled. Rows hold ``view``'s columns."""
        rows = view_rows(self.rows, view)
        calm = index[labels[index] == "none"]
        pieces = np.flatnonzero(np.isin(self.owner, calm))
        pieces = pieces[~np.isin(pieces, self.whole)]
        chosen = []
        for message in index:
            start, count = int(self.whole[message]), len(self.pieces[message])
            if guide is None or labels[message] == "none" or not self.long[message] or count < 2:
                chosen.append(start)
                continue
            candidates = np.arange(start + 1, start + count)
            probs = guide.probabilities(self.rows[candidates])
            chosen.append(int(candidates[np.argmax(probs[:, 1] + probs[:, 2])]))
        picked = np.concatenate([np.array(chosen, dtype=int), pieces])
        return rows[picked], np.concatenate([labels[index], np.full(len(pieces), "none")])

    def fit(self, view: str, index: np.ndarray, labels: np.ndarray) -> LinearHead:
        """Fit ``view`` on whole messages, then again with long crisis messages given by
        their most alarming piece under the first fit."""
        width = self.rows.shape[1]
        guide = linear_head(fit(*self.training_rows(view, index, labels)), width)
        return linear_head(fit(*self.training_rows(view, index, labels, guide)), width)

    def message_scores(self, head: LinearHead, index: np.ndarray) -> np.ndarray:
        """Per message, the crisis probabilities the router compares with each bar, as the
        router reads them (bot.crisis.message_scores): a short message's whole, the highest
        over its pieces, and a long message's highest over its whole and pieces."""
        mask = np.isin(self.owner, index)
        probs = head.probabilities(self.rows[mask])
        crisis = probs[:, 1] + probs[:, 2]
        # A message's pieces are contiguous, its whole first.
        owners, starts = np.unique(self.owner[mask], return_index=True)
        blocks = np.split(crisis, starts[1:])
        scores = {
            int(owner): message_scores(block[:, None], bool(self.long[owner]))[0, 0]
            for owner, block in zip(owners, blocks, strict=True)
        }
        return np.array([scores[int(i)] for i in index])


NEUTRAL = Thresholds(0.5, 0.5)


def choose_thresholds(scores: np.ndarray, is_crisis: np.ndarray, target: float) -> Thresholds:
    """The bars with the fewest false alarms among those whose recall on the crisis messages
    is at least ``target``; ``scores`` holds message_scores columns (short whole, short
    pieces, long). Misses are shared between short and long messages as they fall."""
    crisis, calm = scores[is_crisis], scores[~is_crisis]
    long_crisis = crisis[:, 2] > 0
    allowed_misses = int(np.floor((1 - target) * len(crisis)))
    best: tuple[int, Thresholds] | None = None
    for long_bar in np.unique(_floor(crisis[long_crisis, 2])):
        long_misses = int(np.sum(crisis[long_crisis, 2] < long_bar))
        if long_misses > allowed_misses:
            continue
        short_bar = _short_bar(crisis[~long_crisis], allowed_misses - long_misses)
        alarms = int(np.sum(np.maximum(calm[:, 0], calm[:, 1]) >= short_bar)) + int(
            np.sum(calm[:, 2] >= long_bar)
        )
        if best is None or alarms < best[0]:
            best = (alarms, Thresholds(short_bar, float(long_bar)))
    if best is None:
        return NEUTRAL
    return best[1]


def _short_bar(crisis: np.ndarray, allowed: int) -> float:
    """The bar for a short message and its sentences with at most ``allowed`` misses among
    the short crisis messages. One bar serves both: a short message and its sentences read
    alike, and two free bars were seen to trade a whole-message bar low enough to flag
    "What's the weather tomorrow?" for a few fewer alarms on multi-sentence near misses."""
    highest = np.sort(np.maximum(crisis[:, 0], crisis[:, 1]))
    return float(_floor(highest[min(allowed, len(highest) - 1)])) if len(highest) else 1.0


def _floor(scores: np.ndarray | float) -> np.ndarray:
    """Bars on a 0.001 grid, rounded down so the message a bar is taken from is still caught:
    tiny differences in floating point between machines must not move the chosen bars."""
    return np.floor(np.asarray(scores) * 1000) / 1000


def misses_and_alarms(
    scores: np.ndarray, is_crisis: np.ndarray, bars: Thresholds
) -> tuple[int, int]:
    """How many crisis messages ``bars`` miss and how many calm ones they flag, on
    message_scores columns."""
    alarm = over_bars(scores, bars)
    return int(np.sum(is_crisis & ~alarm)), int(np.sum(~is_crisis & alarm))


@dataclass(frozen=True)
class Training:
    head: CrisisHead
    out_of_fold: np.ndarray
    """Cross-validated message_scores of each training message, per reading: shape
    (VIEWS, messages, 3)."""
    stage_out_of_fold: np.ndarray | None = None
    """The message stage's cross-validated probability for each training message."""

    @property
    def alarms(self) -> np.ndarray:
        """Out of fold, whether each message alarms: the message stage over its bar, or
        (without a stage) either reading over its bars."""
        if self.head.stage is not None and self.stage_out_of_fold is not None:
            return np.asarray(self.stage_out_of_fold >= self.head.stage.bar)
        return either_reading_alarms(self.out_of_fold, self.head.thresholds)


STAGE_REGULARISATION = 1.0


def _fit_stage_weights(features: np.ndarray, is_crisis: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression with no negative weight: a feature whose weight comes out negative
    is left out and the rest refitted, so a more alarming reading never lowers the decision."""
    keep = np.ones(features.shape[1], dtype=bool)
    while True:
        model = LogisticRegression(C=STAGE_REGULARISATION, max_iter=3000)
        model.fit(features[:, keep], is_crisis.astype(int))
        weights = np.zeros(features.shape[1])
        weights[keep] = model.coef_[0]
        if (weights >= 0).all():
            return weights, float(model.intercept_[0])
        keep &= weights > 0


def fit_stage(
    out_of_fold: np.ndarray, thresholds: Sequence[Thresholds], is_crisis: np.ndarray
) -> tuple[MessageStage, np.ndarray]:
    """The message stage over the readings' out-of-fold scores, and its own cross-validated
    probabilities. Its bar keeps the out-of-fold misses of "either reading over its bar":
    the stage may only take away false alarms, not recall."""
    features = message_features(out_of_fold, thresholds)
    misses = int(np.sum(is_crisis & ~either_reading_alarms(out_of_fold, thresholds)))
    probabilities = np.zeros(len(is_crisis))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    for train_index, test_index in folds.split(features, is_crisis):
        weights, intercept = _fit_stage_weights(features[train_index], is_crisis[train_index])
        fold = MessageStage(tuple(weights.tolist()), intercept, 0.0)
        probabilities[test_index] = fold.probabilities(features[test_index])
    bar = float(_floor(np.sort(probabilities[is_crisis])[misses]))
    weights, intercept = _fit_stage_weights(features, is_crisis)
    return MessageStage(tuple(float(w) for w in weights), intercept, bar), probabilities


def train(examples: Sequence[Example], embedder: Embedder, digest: str) -> Training:
    labels = np.array([e.label for e in examples])
    segs = SegmentFeatures([e.text for e in examples], embedder)
    folds = list(
        StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0).split(
            np.zeros(len(labels)), labels
        )
    )
    # The readings are fitted apart, one process each when there are cores for them (the
    # fits are deterministic, so the head is the same either way; about half the time).
    jobs = min(len(VIEWS), usable_cores())
    fitted = Parallel(n_jobs=jobs, backend="loky")(
        delayed(_fit_view)(segs, view, folds, labels) for view in VIEWS
    )
    out_of_fold = np.stack([scores for scores, _, _ in fitted])
    views = tuple(head for _, _, head in fitted)
    thresholds = tuple(bars for _, bars, _ in fitted)
    stage, stage_out_of_fold = fit_stage(out_of_fold, thresholds, labels != "none")
    head = CrisisHead(views, thresholds, digest, stage)
    return Training(head, out_of_fold, stage_out_of_fold)


def _fit_view(
    segs: SegmentFeatures,
    view: str,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    labels: np.ndarray,
) -> tuple[np.ndarray, Thresholds, LinearHead]:
    """One reading: its out-of-fold message scores, the bars chosen on them, and its head
    fitted on every message."""
    scores = np.zeros((len(labels), 3))
    for train_index, test_index in folds:
        scores[test_index] = segs.message_scores(segs.fit(view, train_index, labels), test_index)
    bars = choose_thresholds(scores, labels != "none", TARGET_RECALL)
    return scores, bars, segs.fit(view, np.arange(len(labels)), labels)


def report(examples: Sequence[Example], training: Training) -> list[str]:
    """Cross-validated recall (crisis) or false-alarm rate (not crisis) per category, under
    the message stage (and, for comparison, overall under either reading over its bars)."""
    alarms = training.alarms
    per: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for example, alarm in zip(examples, alarms, strict=True):
        kind = "crisis" if example.label != "none" else "not crisis"
        per[(kind, example.category)].append(bool(alarm))
    lines = [
        f"thresholds, {view} reading: short message or any piece {bars.short:.3f},"
        f" long message or any piece {bars.long:.3f}"
        f" (cross-validated, target recall {TARGET_RECALL} each)"
        for view, bars in zip(VIEWS, training.head.thresholds, strict=True)
    ]
    for (kind, category), flags in sorted(per.items()):
        what = "recall" if kind == "crisis" else "false alarms"
        lines.append(f"{kind:10} {category:40} {what:12} {sum(flags)}/{len(flags)}")
    is_crisis = np.array([e.label != "none" for e in examples])
    is_long = training.out_of_fold[0, :, 2] > 0
    lines.append(
        f"overall recall {alarms[is_crisis].sum()}/{is_crisis.sum()},"
        f" false alarms {alarms[~is_crisis].sum()}/{(~is_crisis).sum()}"
        f" (long messages: false alarms {alarms[~is_crisis & is_long].sum()}"
        f"/{(~is_crisis & is_long).sum()})"
    )
    rule = either_reading_alarms(training.out_of_fold, training.head.thresholds)
    lines.append(
        f"either reading over its bars, without the message stage: recall"
        f" {rule[is_crisis].sum()}/{is_crisis.sum()}, false alarms"
        f" {rule[~is_crisis].sum()}/{(~is_crisis).sum()}"
    )
    if training.head.stage is not None:
        stage = training.head.stage
        lines.append(
            f"message stage: weights {[round(w, 3) for w in stage.coef]},"
            f" intercept {stage.intercept:.3f}, bar {stage.bar:.3f}"
        )
    return lines


def by_file(
    examples: Sequence[Example], paths: Sequence[Path], embedder: Embedder, head: CrisisHead
) -> list[str]:
    """Recall and false alarms out of fold with folds by source file, under ``head``'s bars:
    a whole file (a category, a batch) is held out, as a new writer's wording is at first
    contact. Ordinary 5-fold figures flatter a reading that learns a writer's style."""
    from sklearn.model_selection import GroupKFold

    groups = np.array(
        [
            path.name
            for path in paths
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    )
    labels = np.array([e.label for e in examples])
    segs = SegmentFeatures([e.text for e in examples], embedder)
    alarms = np.zeros(len(examples), dtype=bool)
    for view, bars in zip(VIEWS, head.thresholds, strict=True):
        scores = np.zeros((len(examples), 3))
        for train_index, test_index in GroupKFold(n_splits=FOLDS).split(
            np.zeros(len(labels)), labels, groups
        ):
            fold_head = segs.fit(view, train_index, labels)
            scores[test_index] = segs.message_scores(fold_head, test_index)
        alarms |= over_bars(scores, bars)
    crisis = labels != "none"
    return [
        f"by source file ({FOLDS} folds, committed bars): recall"
        f" {alarms[crisis].sum()}/{crisis.sum()}, false alarms {alarms[~crisis].sum()}"
        f"/{(~crisis).sum()}"
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-dir", type=Path, default=TRAIN_DIR)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--meta", type=Path, default=META_FILE)
    parser.add_argument(
        "--by-file",
        action="store_true",
        help="only report cross-validation by source file for the committed head (no refit)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    examples, paths = load_examples(args.train_dir)
    embedder = load_embedder(reference_settings())
    if args.by_file:
        for line in by_file(examples, paths, embedder, CrisisHead.load(args.out, args.meta)):
            print(line)
        return 0
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
