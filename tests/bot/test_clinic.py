"""The clinic's contact line: built from the settings, added only where a person is needed."""

from __future__ import annotations

from typing import Any

import pytest

from bot import prompts
from bot.clinic import Clinic, with_contact
from bot.config import Settings
from bot.types import Answer, Verdict

FULL = Clinic("Riverside Pain Clinic", "555-0100", "https://clinic.example", "Mon-Fri 8 am to 5 pm")


@pytest.mark.parametrize(
    ("clinic", "line"),
    [
        (Clinic(), ""),
        (Clinic(name="Riverside", hours="Mon-Fri"), ""),  # no way to reach anyone: no line
        (Clinic(phone="555-0100"), "You can call your clinic at 555-0100."),
        (
            Clinic("Riverside", "555-0100", hours="Mon-Fri 8 am to 5 pm"),
            "You can call Riverside at 555-0100, Mon-Fri 8 am to 5 pm.",
        ),
        (
            Clinic("Riverside", url="https://r.example"),
            "You can reach Riverside at https://r.example.",
        ),
        (
            FULL,
            "You can call Riverside Pain Clinic at 555-0100, Mon-Fri 8 am to 5 pm. "
            "You can also visit https://clinic.example.",
        ),
    ],
)
def test_contact_line(clinic: Clinic, line: str) -> None:
    assert clinic.contact_line() == line


def test_settings_are_trimmed_and_bad_url_refused() -> None:
    clinic = Clinic.from_settings(Settings(clinic_name=" Riverside ", clinic_phone="555-0100 "))
    assert clinic.contact_line() == "You can call Riverside at 555-0100."
    with pytest.raises(ValueError, match="clinic_url"):
        Settings(clinic_url="javascript:alert(1)")


def _answer(verdict: Verdict, text: str, lead: str = "") -> Answer:
    return Answer(
        verdict=verdict, text=text, citations=(), disclaimer=prompts.DISCLAIMER, lead=lead
    )


def test_contact_goes_after_the_decline_and_the_not_covered_reply() -> None:
    line = FULL.contact_line()
    not_covered = with_contact(_answer(Verdict.NOT_COVERED, prompts.NOT_COVERED_REPLY), FULL)
    assert not_covered.text == f"{prompts.NOT_COVERED_REPLY}\n\n{line}"
    lead = f"{prompts.PERSONAL_ADVICE_REPLY}\n\n{prompts.PERSONAL_ADVICE_GENERAL_LEAD}"
    advice = with_contact(_answer(Verdict.PERSONAL_ADVICE, f"{lead}\n\n- a point [1]", lead), FULL)
    assert advice.lead == (
        f"{prompts.PERSONAL_ADVICE_REPLY}\n\n{line}\n\n{prompts.PERSONAL_ADVICE_GENERAL_LEAD}"
    )
    assert advice.text.startswith(advice.lead) and advice.text.endswith("- a point [1]")


@pytest.mark.parametrize("verdict", [Verdict.ANSWERED, Verdict.CRISIS, Verdict.OFF_TOPIC])
def test_other_replies_unchanged(verdict: Verdict) -> None:
    answer = _answer(verdict, "text")
    assert with_contact(answer, FULL) is answer
    assert with_contact(_answer(Verdict.NOT_COVERED, "x"), Clinic()).text == "x"


@pytest.mark.parametrize(
    ("question", "verdict", "has_line"),
    [
        ("What does ketamine do to a broken leg cast?", Verdict.NOT_COVERED, True),
        ("How much ketamine should I take for my back pain?", Verdict.PERSONAL_ADVICE, True),
        ("What are the side effects of ketamine?", Verdict.ANSWERED, False),
        ("I want to kill myself", Verdict.CRISIS, False),
    ],
)
def test_real_bot_adds_the_line_from_its_settings(
    corpus_bot: Any,
    monkeypatch: pytest.MonkeyPatch,
    question: str,
    verdict: Verdict,
    has_line: bool,
) -> None:
    clinic = {"clinic_name": "Riverside Pain Clinic", "clinic_phone": "555-0100"}
    monkeypatch.setattr(corpus_bot, "settings", corpus_bot.settings.model_copy(update=clinic))
    answer = corpus_bot.answer(question)
    assert answer.verdict is verdict
    assert ("You can call Riverside Pain Clinic at 555-0100." in answer.text) is has_line
    assert answer.disclaimer == prompts.DISCLAIMER
