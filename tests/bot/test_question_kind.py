"""Question kinds from example wordings and the shipped model (none of these is an example)."""

from __future__ import annotations

import pytest

from bot.question_kind import KindClassifier
from tests.conftest import CORPUS_DIR


@pytest.fixture(scope="module")
def kinds(embedder) -> KindClassifier:  # type: ignore[no-untyped-def]
    return KindClassifier.load(CORPUS_DIR, embedder)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("what exactly is ketamine", "what_is"),
        ("how long will the relief from an infusion last", "how_long"),
        ("can ketamine make fibromyalgia pain better", "does_it_work"),
        ("what are the dangers of ketamine", "is_it_safe"),
        ("is what the article claims actually true", "is_it_true"),
        ("who is the writer of this article", "who_wrote"),
    ],
)
def test_question_kind(kinds, embedder, question, kind) -> None:  # type: ignore[no-untyped-def]
    assert kinds.kinds(embedder.embed_query(question))[0] == kind


def test_no_kind_for_an_unrelated_message(kinds, embedder) -> None:  # type: ignore[no-untyped-def]
    assert kinds.kinds(embedder.embed_query("the weather in Paris tomorrow")) == ()


def test_practical_questions_are_nearer_the_practical_examples(kinds, embedder) -> None:  # type: ignore[no-untyped-def]
    """Getting care (cost, finding a prescriber) against what the research found; none of
    these wordings is an example in corpus/question_kinds.toml."""

    def practical(question: str) -> float:
        return kinds.similarity(embedder.embed_query(question), "practical")

    research = practical("what did the studies find about ketamine for fibromyalgia")
    assert practical("what does a ketamine infusion cost without insurance") > research + 0.15
    assert practical("how do I get an appointment at a ketamine clinic in Ohio") > research + 0.15
    assert kinds.similarity(embedder.embed_query("anything"), "no such kind") == 0.0
