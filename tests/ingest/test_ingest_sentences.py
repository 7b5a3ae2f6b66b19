"""bot.sentences.split_sentences: the splitter shared by the chunker and the composer."""

from __future__ import annotations

import pytest

from bot.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        (
            "Cohen et al. (2018) found this. Then more.",
            ["Cohen et al. (2018) found this.", "Then more."],
        ),
        (
            "Some drugs, e.g. ketamine, help. Others do not.",
            ["Some drugs, e.g. ketamine, help.", "Others do not."],
        ),
        (
            "Dr. George treats pain. He works in Arizona.",
            ["Dr. George treats pain.", "He works in Arizona."],
        ),
        (
            "Pain fell by 2.5 points. It lasted 12 weeks.",
            ["Pain fell by 2.5 points.", "It lasted 12 weeks."],
        ),
        (
            "Intro line:\n- first item\n- second item. Still second.\n\nAfter.",
            ["Intro line:", "- first item", "- second item.", "Still second.", "After."],
        ),
        ('She said "Stop." Then left.', ['She said "Stop."', "Then left."]),
        ("Infused over 4 h (i.e. slowly). Done.", ["Infused over 4 h (i.e. slowly).", "Done."]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_keeps_every_word() -> None:
    text = "Ketamine is an NMDA antagonist. It was studied in the U.S. by many groups.\n\n- A. B."
    assert " ".join(split_sentences(text)).split() == text.split()
