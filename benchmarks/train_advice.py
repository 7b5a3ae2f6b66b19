"""Fit the personal-advice classifier (bot/advice_model.py) on the labelled question sets,
choose its bar by cross-validation, and write the head to bot/models/ with its data hash.
`make train` runs it.

Positives are questions labelled personal_advice; negatives every other non-crisis question.
Folds are grouped by intent, so wordings of one question never sit on both sides. The bar is
the lowest (most catching) on a grid at which the vocabulary's phrases together with the head
wrongly decline no more questions out of fold than the phrases alone: the head may only add
catches, never refusals of questions the phrases get right.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from benchmarks import questions as question_sets
from bot.advice_model import META_FILE, MODEL_FILE, AdviceHead
from bot.config import Settings
from bot.crisis_model import LinearHead, data_hash, features
from bot.embeddings import Embedder, load_embedder
from bot.safety import route_by_words
from bot.types import Verdict
from bot.understand import understand
from bot.vocabulary import default_vocabulary

log = logging.getLogger(__name__)

QUESTION_SETS = (
    question_sets.QUESTIONS_FILE,
    question_sets.SHARED_QUESTIONS_FILE,
    question_sets.DEV_QUESTIONS_FILE,
    *question_sets.MEASURED_QUESTION_BATCHES,
)
REGULARISATION = 4.0
BARS = tuple(round(b, 2) for b in np.arange(0.5, 0.96, 0.05))
FOLDS = 5


def fit(rows: object, labels: np.ndarray) -> LinearHead:
    model = LogisticRegression(C=REGULARISATION, max_iter=3000, random_state=0)
    model.fit(rows, labels.astype(int))
    width = model.coef_.shape[1]
    coef = np.vstack([np.zeros((1, width)), model.coef_]).astype(np.float32)
    intercept = np.array([0.0, model.intercept_[0]], dtype=np.float32)
    return LinearHead(coef, intercept)


def train(paths: Sequence[Path], embedder: Embedder) -> tuple[AdviceHead, list[str]]:
    vocabulary = default_vocabulary()
    questions = [
        q
        for path in paths
        for q in question_sets.load_questions(path)
        if q.expect_verdict is not Verdict.CRISIS
    ]
    texts = [q.question for q in questions]
    rows = features(texts, np.asarray(embedder.embed_documents(texts), dtype=np.float32))
    wanted = np.array([q.expect_verdict is Verdict.PERSONAL_ADVICE for q in questions])
    phrases = np.array(
        [
            route_by_words(understand(q.question, q.history, vocabulary)) is Verdict.PERSONAL_ADVICE
            for q in questions
        ]
    )
    groups = [q.intent or q.id for q in questions]
    out_of_fold = np.zeros(len(questions))
    for train_index, test_index in GroupKFold(n_splits=FOLDS).split(rows, wanted, groups):
        fold_head = fit(rows[train_index], wanted[train_index])
        out_of_fold[test_index] = fold_head.probabilities(rows[test_index])[:, 1]
    wrong_alone = int((phrases & ~wanted).sum())
    lines = [
        f"{len(questions)} questions, {int(wanted.sum())} personal advice; phrases alone:"
        f" caught {int((phrases & wanted).sum())}, wrongly declined {wrong_alone}"
    ]
    bar = 1.0
    for candidate in BARS:
        flagged = phrases | (out_of_fold >= candidate)
        caught, wrong = int((flagged & wanted).sum()), int((flagged & ~wanted).sum())
        lines.append(f"bar {candidate:.2f}: caught {caught}, wrongly declined {wrong}")
        if wrong <= wrong_alone and bar == 1.0:
            bar = float(candidate)
    lines.append(f"chosen bar {bar:.2f} (out of fold, folds grouped by intent)")
    info: dict[str, object] = {
        "cross_validation": lines,
        "fitted_on": [p.name for p in paths],
    }
    return AdviceHead(fit(rows, wanted), bar, data_hash(list(paths)), info), lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--meta", type=Path, default=META_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    paths = [p for p in QUESTION_SETS if p.exists()]
    head, lines = train(paths, load_embedder(Settings()))
    head.save(args.out, args.meta)
    for line in lines:
        print(line)
    print(f"wrote {args.out} (data sha256 {head.data_hash[:12]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
