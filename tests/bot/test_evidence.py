"""The coverage model: shipped with its data hash, read as fitted, monotonic in its evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ConfigurationError
from bot.evidence import (
    FEATURE_NAMES,
    MODEL_FILE,
    EvidenceFeatures,
    covers,
    load_model,
    neutral_model,
    salience,
    without_word,
)

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_model_matches_the_features_and_its_data() -> None:
    model = load_model()
    assert model.features == FEATURE_NAMES and 0 < model.threshold < 1
    info = model.info
    assert info["n_covered"] > 0 and info["n_not_covered"] > 0
    assert info["cross_validation"]["pr_curve"]
    files = [ROOT / p for p in info["fitted_on"]]
    if not all(f.exists() for f in files):
        pytest.skip(f"not every training file is here: {info['fitted_on']}")
    from benchmarks.fit_evidence import data_hash

    assert data_hash(files) == info["data_sha256"], "refit: python -m benchmarks.fit_evidence"


STRONG = EvidenceFeatures(
    dense_best=0.7,
    sentence_best=0.75,
    keyword_best=0.8,
    coverage=1.0,
    coverage_plain=1.0,
    missing=0.0,
    unknown=0.0,
)


def test_more_evidence_never_lowers_the_probability() -> None:
    model = load_model()
    weak = EvidenceFeatures(
        dense_best=0.2,
        sentence_best=0.25,
        keyword_best=0.1,
        coverage=0.2,
        coverage_plain=0.3,
        missing=0.9,
        unknown=0.9,
        unknown_topic=0.9,
    )
    assert model.probability(STRONG) > model.probability(weak)
    assert covers(STRONG, model) and not covers(weak, model)
    # The threshold setting overrides the fitted one.
    assert not covers(STRONG, model, threshold=1.0)


def test_model_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    data = json.loads(MODEL_FILE.read_text())
    data["features"] = ["dense_best"]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigurationError, match="refit"):
        load_model(path)
    with pytest.raises(ConfigurationError, match="fit it with"):
        load_model(tmp_path / "absent.json")


def test_neutral_model_covers_everything() -> None:
    assert covers(replace(STRONG, coverage=0.0), neutral_model())


def test_without_word_takes_out_whole_words_only() -> None:
    assert without_word("Is ketamine considered a psychedelic?", "considered") == (
        "Is ketamine a psychedelic?"
    )
    assert without_word("Is CRPS pain worse than painful gout?", "pain") == (
        "Is CRPS worse than painful gout?"
    )
    assert salience(0.0) == 0.0 and salience(1.0) == 1.0 and 0 < salience(0.03) < 1


def _unknown(bot, question: str) -> float:  # type: ignore[no-untyped-def]
    analysis = bot.analyse(question, ())
    vector = bot.embedder.embed_query(question)
    passages, query_vector = bot.retrieve(analysis, vector)
    return float(bot.features(analysis, passages, query_vector, vector).unknown)


def test_a_word_the_corpus_lacks_counts_by_how_much_the_question_is_about_it(
    corpus_bot,  # type: ignore[no-untyped-def]
) -> None:
    """ "considered" is a word the corpus lacks; "Medicare" is a topic it lacks."""
    filler = _unknown(corpus_bot, "Is ketamine considered a psychedelic?")
    topic = _unknown(corpus_bot, "Does Medicare pay for ketamine infusions?")
    assert filler < 0.5 * topic
    assert _unknown(corpus_bot, "Is ketamine a psychedelic?") == 0.0


def test_a_practical_question_weighs_against_coverage() -> None:
    """The fitted model learned that questions about getting care (cost, finding a clinic)
    are rarely answered by research papers: with all else equal, nearness to the practical
    examples lowers the probability of "covered"."""
    model = load_model()
    research = replace(STRONG, coverage=0.8, practical=0.3)
    assert model.probability(replace(research, practical=0.85)) < model.probability(research)


def test_a_missing_topic_weighs_more_than_a_missing_stance_word(embedder: Any) -> None:
    """The learned topic words, on words no labelled question of its data used: a pregnancy
    and a treatment name topics the sources may lack; "nonsense" and "explain" do not."""
    topic_words = load_model().topic_words
    assert topic_words is not None
    topics, stances = ["pregnancy", "acupuncture"], ["nonsense", "explain"]
    chances = topic_words.probabilities(embedder.embed_documents(topics + stances))
    assert min(chances[: len(topics)]) > 0.5 > max(chances[len(topics) :])
