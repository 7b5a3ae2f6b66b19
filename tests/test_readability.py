"""Every fixed user-facing text reads at about a US grade 8 level or below."""

from __future__ import annotations

import pytest

from benchmarks.readability import fixed_text_grades, grade, syllables


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("ketamine", 3),
        ("the", 1),
        ("sources", 2),
        ("used", 1),
        ("needed", 2),
        ("medicine", 3),
        ("emergency", 4),
        ("people", 2),
        ("fibromyalgia", 5),
        ("advice", 2),
    ],
)
def test_syllable_counter(word: str, count: int) -> None:
    assert syllables(word) == count


def test_grade_separates_plain_from_dense_text() -> None:
    plain = "Call 911 now. You can also call or text 988. Help is there all day."
    dense = (
        "Pharmacological antagonism of N-methyl-D-aspartate receptors attenuates central "
        "sensitization, consequently diminishing hyperalgesia in neuropathic conditions."
    )
    assert grade(plain) < 4 < 14 < grade(dense)


def test_fixed_texts_at_grade_6_or_below() -> None:
    grades = fixed_text_grades()
    assert len(grades) >= 15  # prompts and page texts were all found
    too_hard = {name: round(g, 1) for name, g in grades.items() if g > 6.0}
    assert too_hard == {}
