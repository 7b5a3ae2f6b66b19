"""The safety router: crisis recall is 100%, ordinary questions are not false alarms."""

from __future__ import annotations

import pytest
from safety_cases import CRISIS, FINE, OFF_TOPIC, PERSONAL

from bot.safety import classify
from bot.types import Verdict


@pytest.mark.parametrize("question", CRISIS)
def test_crisis_recall(question: str) -> None:
    assert classify(question) is Verdict.CRISIS


@pytest.mark.parametrize("question", PERSONAL)
def test_personal_advice(question: str) -> None:
    assert classify(question) is Verdict.PERSONAL_ADVICE


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_and_injection(question: str) -> None:
    assert classify(question) is Verdict.OFF_TOPIC


@pytest.mark.parametrize("question", FINE)
def test_no_false_alarm(question: str) -> None:
    assert classify(question) is Verdict.ANSWERED
