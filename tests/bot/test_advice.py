"""The learned personal-advice check: it adds catches to the vocabulary's phrases, it is
reproducible from the committed data, and what it catches gets the advice reply alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot import prompts
from bot.advice_model import AdviceHead
from bot.errors import ModelUnavailableError
from bot.types import Verdict


def test_retraining_reproduces_the_committed_head(embedder: Any) -> None:
    from benchmarks.train_advice import QUESTION_SETS, train
    from bot.crisis_model import data_hash

    committed = AdviceHead.load()
    paths = [p for p in QUESTION_SETS if p.exists()]
    assert data_hash(paths) == committed.data_hash, "question sets changed: run make train"
    retrained, _ = train(paths, embedder)
    assert retrained.bar == committed.bar
    texts = [
        "How much ketamine should I take?",
        "Does ketamine help CRPS?",
        "can i use k w my xanax",
    ]
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    a, b = committed.probabilities(texts, vectors), retrained.probabilities(texts, vectors)
    assert np.abs(a - b).max() < 1e-3


def test_a_dose_request_the_phrases_miss_gets_the_advice_reply_alone(corpus_bot: Any) -> None:
    # From first-contact question batch 6, which the head was not fitted on.
    answer = corpus_bot.answer("how much would I need to take for my back pain")
    assert answer.verdict is Verdict.PERSONAL_ADVICE
    assert answer.text == prompts.PERSONAL_ADVICE_REPLY and not answer.citations


@pytest.mark.parametrize(
    "question", ["Does ketamine help CRPS?", "What are the side effects of ketamine infusions?"]
)
def test_ordinary_questions_are_not_taken_for_requests(corpus_bot: Any, question: str) -> None:
    assert corpus_bot.answer(question).verdict is Verdict.ANSWERED


def test_a_head_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    committed = AdviceHead.load()
    committed.save(tmp_path / "a.npz", tmp_path / "a.json")
    meta = json.loads((tmp_path / "a.json").read_text())
    meta["char_features"] = 8
    (tmp_path / "a.json").write_text(json.dumps(meta))
    with pytest.raises(ModelUnavailableError, match="make train"):
        AdviceHead.load(tmp_path / "a.npz", tmp_path / "a.json")
