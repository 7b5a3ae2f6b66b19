"""How many answers are computed at once when the settings leave it to the app."""

from __future__ import annotations

import os

from bot.config import Settings


def test_answer_slots_are_one_per_core_or_eight_for_a_remote_model() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert Settings().answer_slots == cores
    assert Settings(llm_provider="openai").answer_slots == 8
    assert Settings(concurrency=3, llm_provider="openai").answer_slots == 3
