"""Schema and coverage of the repository's own question set (eval/questions.jsonl)."""

from __future__ import annotations

from collections import Counter

from benchmarks.questions import QUESTIONS_FILE, load_questions
from bot.types import Verdict

CORPUS_IDS = {"article"} | {
    path.stem for path in (QUESTIONS_FILE.parent.parent / "corpus" / "references").glob("*.md")
}


def test_question_file_schema() -> None:
    questions = load_questions(QUESTIONS_FILE)
    assert len(questions) >= 80
    ids = [q.id for q in questions]
    assert len(ids) == len(set(ids))
    for q in questions:
        assert q.question.strip()
        assert set(q.expect_sources) <= CORPUS_IDS, q.id
        if q.expect_verdict is Verdict.ANSWERED:
            assert q.expect_sources, q.id
        if q.expect_verdict in (Verdict.CRISIS, Verdict.OFF_TOPIC, Verdict.NOT_COVERED):
            assert not q.expect_sources, q.id


def test_question_set_covers_every_class_and_follow_ups() -> None:
    questions = load_questions(QUESTIONS_FILE)
    counts = Counter(q.expect_verdict for q in questions)
    assert all(counts[v] >= 5 for v in Verdict), counts
    assert counts[Verdict.CRISIS] >= 10
    assert sum(1 for q in questions if q.history) >= 5


def test_groundedness_is_complete_for_the_default_composer(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    """Every quoted sentence is found in the passage it cites: the metric must say 1.0."""
    from benchmarks.questions import fixed_texts, grounded_share

    shares = [
        grounded_share(corpus_bot.answer(q), fixed_texts())
        for q in (
            "Does ketamine help fibromyalgia?",
            "What are the side effects of ketamine infusions?",
            # A personal request: the refusal first, then the general part, quoted.
            "Should I try ketamine for my CRPS? What do the studies say about CRPS?",
        )
    ]
    assert shares == [1.0, 1.0, 1.0]
