"""The support check for written sentences, with the real embedding model."""

from __future__ import annotations

import pytest

from bot.grounding import (
    DEFAULT_THRESHOLD,
    is_supported,
    missing_numbers,
    numbers,
    support_score,
    word_overlap,
)

PASSAGE = (
    "Complex regional pain syndrome (CRPS): moderate evidence that ketamine infusions reduce "
    "pain for up to about 12 weeks. The studies used multi-day infusion schedules given under "
    "medical supervision, for example a 4-hour infusion every day for 10 days. Serious side "
    "effects were rare, but the risk rises with higher and more frequent doses."
)


def test_verbatim_sentence_scores_about_one(embedder) -> None:  # type: ignore[no-untyped-def]
    sentence = (
        "Serious side effects were rare, but the risk rises with higher and more frequent doses."
    )
    assert support_score(sentence, PASSAGE, embedder) == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(
    "sentence",
    [
        "Ketamine infusions can lower CRPS pain for up to about 12 weeks.",
        "In the studies, people got a 4-hour infusion every day for 10 days.",
        "Serious side effects were rare.",
    ],
)
def test_plain_paraphrases_are_supported(sentence: str, embedder) -> None:  # type: ignore[no-untyped-def]
    assert is_supported(sentence, PASSAGE, embedder)


@pytest.mark.parametrize(
    "sentence",
    [
        "Ketamine infusions can lower CRPS pain for up to about 52 weeks.",
        "The studies used a 6-hour infusion every day for 10 days.",
        "Ketamine infusions reduce CRPS pain in 80% of patients.",
    ],
)
def test_a_changed_number_is_rejected(sentence: str, embedder) -> None:  # type: ignore[no-untyped-def]
    score = support_score(sentence, PASSAGE, embedder)
    assert score < 0.3 and not is_supported(sentence, PASSAGE, embedder)


@pytest.mark.parametrize(
    "sentence",
    [
        "Cats sleep for most of the day.",
        "Regular exercise improves heart health in older adults.",
        "Psilocybin therapy helps people with cluster headaches.",
    ],
)
def test_an_unrelated_sentence_is_rejected(sentence: str, embedder) -> None:  # type: ignore[no-untyped-def]
    assert support_score(sentence, PASSAGE, embedder) < DEFAULT_THRESHOLD - 0.1


def test_empty_inputs_score_zero(embedder) -> None:  # type: ignore[no-untyped-def]
    assert support_score("", PASSAGE, embedder) == 0.0
    assert support_score("Ketamine helps.", " ", embedder) == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,000 people took 2.50 mg", {"1000", "2.5"}),
        ("five times in 10 days (30%)", {"5", "10", "30"}),
        ("no numbers here", set()),
    ],
)
def test_numbers_are_normalised(text: str, expected: set[str]) -> None:
    assert numbers(text) == expected


def test_missing_numbers_and_word_overlap() -> None:
    assert missing_numbers("for 12 weeks and 3 days", PASSAGE) == {"3"}
    assert missing_numbers("ten days of infusions", PASSAGE) == set()
    assert word_overlap("ketamine infusions reduce pain", PASSAGE) == 1.0
    assert word_overlap("cats purr", PASSAGE) == 0.0
