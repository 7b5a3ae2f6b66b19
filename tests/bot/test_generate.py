"""The optional LLM answer writer with scripted fake chat models and the real embedding model."""

from __future__ import annotations

import copy
import logging
import re
import sys
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableLambda

from bot import prompts, prompts_llm
from bot.compose import Composed, parse_answer_line
from bot.config import Settings
from bot.errors import ConfigurationError
from bot.generate import generate_answer, make_chat_model, parse_sentences
from bot.types import Passage, Verdict

GUIDELINE = Passage(
    chunk_id="pmid-1:0",
    source_id="pmid-1",
    section="Evidence by condition",
    text=(
        "The panel found moderate evidence that ketamine infusions reduce pain in complex "
        "regional pain syndrome for up to 12 weeks. Evidence for other conditions, such as "
        "spinal cord injury pain, was weak. Common side effects were nausea, vivid dreams "
        "and feeling detached."
    ),
    score=1.0,
    metadata={
        "title": "Consensus guidelines on ketamine infusions",
        "short_citation": "Cohen et al., 2018",
        "verification": "verified against PubMed",
        "url": "https://pubmed.ncbi.nlm.nih.gov/1/",
        "kind": "reference",
    },
)
ARTICLE = Passage(
    chunk_id="article:3",
    source_id="article",
    section="Challenges",
    text=(
        "The author writes that ketamine clinics vary widely in how they choose patients. "
        "Insurance rarely pays for ketamine infusions for pain."
    ),
    score=0.9,
    metadata={"title": "Ketamine for chronic pain", "kind": "article"},
)
OTHER = Passage(
    chunk_id="pmid-2:0",
    source_id="pmid-2",
    section="Findings",
    text="Oral ketamine given after infusions kept pain lower in a small group of patients.",
    score=0.8,
    metadata={"title": "Oral ketamine", "verification": "verified", "kind": "reference"},
)
PASSAGES = [GUIDELINE, ARTICLE, OTHER]
EMPTY = Composed("", (), ())


def _generate(output: str, embedder: Any, passages: list[Passage] = PASSAGES) -> Composed | None:
    return generate_answer(
        "Does ketamine help CRPS?",
        passages,
        EMPTY,
        FakeListChatModel(responses=[output]),
        embedder,
        Settings(),
    )


def test_good_output_is_kept_grouped_and_renumbered(embedder) -> None:  # type: ignore[no-untyped-def]
    output = (
        "The author says ketamine clinics vary widely in how they choose patients [2]. "
        "Ketamine infusions can reduce pain in complex regional pain syndrome for up to "
        "12 weeks [1]. Common side effects were nausea and vivid dreams. [1]"
    )
    result = _generate(output, embedder)
    assert result is not None
    # Checked sources first, then the article, as in the extractive answer; numbers follow.
    assert [p.heading for p in result.parts] == [prompts.LEAD_VERIFIED, prompts.LEAD_ARTICLE]
    assert [c.source_id for c in result.citations] == ["pmid-1", "article"]
    assert [c.n for c in result.citations] == [1, 2]
    assert result.parts[0].items == (
        (
            "Ketamine infusions can reduce pain in complex regional pain syndrome for up to "
            "12 weeks.",
            1,
        ),
        ("Common side effects were nausea and vivid dreams.", 1),
    )
    assert result.parts[1].items[0][1] == 2
    lines = [parse_answer_line(line) for line in result.text.splitlines()]
    assert [x for x in lines if x] == [item for part in result.parts for item in part.items]


def test_sentence_with_an_invented_number_is_removed(embedder) -> None:  # type: ignore[no-untyped-def]
    output = (
        "Ketamine infusions can reduce pain in complex regional pain syndrome for up to "
        "52 weeks [1]. Common side effects were nausea and vivid dreams [1]. "
        "Evidence for spinal cord injury pain was weak [1]."
    )
    result = _generate(output, embedder)
    assert result is not None
    kept = [s for s, _ in result.parts[0].items]
    assert len(kept) == 2 and not any("52" in s for s in kept)


def test_citation_to_a_passage_not_given_is_dropped(embedder) -> None:  # type: ignore[no-untyped-def]
    output = (
        "Insurance rarely pays for ketamine infusions for pain [9]. "
        "Common side effects were nausea and vivid dreams [1][9]. "
        "Evidence for spinal cord injury pain was weak [1]."
    )
    result = _generate(output, embedder)
    assert result is not None
    assert {c.source_id for c in result.citations} == {"pmid-1"}
    assert [s for s, _ in result.parts[0].items] == [
        "Common side effects were nausea and vivid dreams.",
        "Evidence for spinal cord injury pain was weak.",
    ]


@pytest.mark.parametrize(
    "output",
    [
        "Cats sleep most of the day [1]. Regular exercise helps the heart [2].",
        "Ketamine cures most pain in 90% of people [1]. It is paid for by insurance [3].",
        "Ketamine helps CRPS for up to 12 weeks.",  # no citations at all
        # One good sentence out of three is less than half.
        "Ketamine can reduce CRPS pain for up to 12 weeks [1]. Cats purr [2]. Dogs bark [3].",
        prompts_llm.NOT_COVERED_MARK,
        "",
    ],
)
def test_bad_output_returns_none(output: str, embedder) -> None:  # type: ignore[no-untyped-def]
    assert _generate(output, embedder) is None


def test_parse_sentences_handles_citation_styles() -> None:
    parsed = parse_sentences(
        "- **Ketamine** can help CRPS pain. [1]\n- Side effects are common [2, 3].\n"
        "1. Clinics vary [2][3]. No citation here."
    )
    assert [(s.text, s.cited) for s in parsed] == [
        ("Ketamine can help CRPS pain.", (1,)),
        ("Side effects are common.", (2, 3)),
        ("Clinics vary.", (2, 3)),
        ("No citation here.", ()),
    ]


def test_the_prompt_numbers_the_passages_and_asks_for_citations(embedder) -> None:  # type: ignore[no-untyped-def]
    seen: list[list[BaseMessage]] = []

    def model(messages: list[BaseMessage]) -> AIMessage:
        seen.append(messages)
        return AIMessage(content="Evidence for spinal cord injury pain was weak [1].")

    settings = Settings(llm_max_passages=2)
    result = generate_answer("q?", PASSAGES, EMPTY, RunnableLambda(model), embedder, settings)
    assert result is not None
    system, user = (str(m.content) for m in seen[0])
    assert "grade 8" in system and "[2]" in system
    assert re.findall(r"^\[(\d)\] \(", user, re.M) == ["1", "2"]  # limited to llm_max_passages
    assert "Cohen et al., 2018" in user and user.rstrip().endswith("Answer:")


# --- make_chat_model -------------------------------------------------------------------------


def test_unknown_provider_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="'openai' or 'ollama'"):
        make_chat_model(Settings(llm_provider="gpt"))


def test_missing_package_gives_the_install_hint(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "langchain_openai", None)
    with pytest.raises(ConfigurationError, match=r"pip install -e '\.\[llm\]'"):
        make_chat_model(Settings(llm_provider="openai"))


def test_openai_provider_builds_a_chat_model() -> None:
    openai = pytest.importorskip("langchain_openai")
    model = make_chat_model(
        Settings(
            llm_provider="openai",
            llm_model="local-model",
            llm_base_url="http://127.0.0.1:9/v1",
            llm_timeout_s=5,
        )
    )
    assert isinstance(model, openai.ChatOpenAI)
    assert (model.model_name, model.openai_api_base, model.request_timeout) == (
        "local-model",
        "http://127.0.0.1:9/v1",
        5,
    )


def test_ollama_provider_needs_a_model() -> None:
    pytest.importorskip("langchain_ollama")
    with pytest.raises(ConfigurationError, match="PAINBOT_LLM_MODEL"):
        make_chat_model(Settings(llm_provider="ollama"))
    assert (
        make_chat_model(Settings(llm_provider="ollama", llm_model="llama3.1")).model == "llama3.1"
    )


# --- the hook in Bot.answer --------------------------------------------------------------------

CRPS = "Is ketamine good for CRPS?"


def _with_model(corpus_bot, model: Any):  # type: ignore[no-untyped-def]
    """The session's bot with a chat model attached (a shallow copy; the original stays off)."""
    llm_bot = copy.copy(corpus_bot)
    llm_bot.settings = corpus_bot.settings.model_copy(update={"llm_provider": "fake"})
    llm_bot.chat_model = model
    return llm_bot


def _quoting_model(calls: list[int]) -> RunnableLambda:  # type: ignore[type-arg]
    """A fake LLM that 'writes' the first sentence of passages [1] and [2], cited."""

    def write(messages: list[BaseMessage]) -> AIMessage:
        calls.append(1)
        user = str(messages[-1].content)
        texts = re.findall(r"^\[(\d+)\] \(.*\)\n(.+)$", user, re.M)
        lines = []
        for n, text in texts[:2]:
            first = re.split(r"(?<=[.!?])\s", text.lstrip("-# "), maxsplit=1)[0].rstrip(".")
            lines.append(f"{first} [{n}].")
        return AIMessage(content=" ".join(lines))

    return RunnableLambda(write)


def test_bot_uses_a_supported_llm_answer(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    answer = _with_model(corpus_bot, _quoting_model(calls)).answer(CRPS)
    assert calls == [1]
    written = [s for part in answer.parts for s, _ in part.items]
    assert len(written) == 2 and answer.text != corpus_bot.answer(CRPS).text
    assert answer.verdict is Verdict.ANSWERED and "generate" in answer.timings_ms
    assert answer.citations and [c.n for c in answer.citations] == list(
        range(1, len(answer.citations) + 1)
    )
    by_n = {c.n: c for c in answer.citations}
    for part in answer.parts:
        for sentence, n in part.items:
            assert sentence.rstrip(".") in by_n[n].passage
    assert answer.disclaimer == prompts.DISCLAIMER


@pytest.mark.parametrize(
    "model",
    [
        FakeListChatModel(responses=["Cats sleep most of the day [1]. Dogs bark loudly [2]."]),
        GenericFakeChatModel(messages=iter([AIMessage(content="Ketamine cures 95% of CRPS [1].")])),
        FakeListChatModel(responses=[prompts_llm.NOT_COVERED_MARK]),
    ],
    ids=["unsupported", "invented-number", "declined"],
)
def test_bot_falls_back_to_the_quoted_answer(corpus_bot, model) -> None:  # type: ignore[no-untyped-def]
    expected = corpus_bot.answer(CRPS)
    answer = _with_model(corpus_bot, model).answer(CRPS)
    assert (answer.text, answer.citations) == (expected.text, expected.citations)
    assert "generate" in answer.timings_ms


def test_model_error_keeps_the_quoted_answer(corpus_bot, caplog) -> None:  # type: ignore[no-untyped-def]
    def fail(_: Any) -> AIMessage:
        raise TimeoutError("the model did not answer in time")

    expected = corpus_bot.answer(CRPS)
    with caplog.at_level(logging.WARNING, logger="bot.pipeline"):
        answer = _with_model(corpus_bot, RunnableLambda(fail)).answer(CRPS)
    assert answer.text == expected.text and answer.verdict is Verdict.ANSWERED
    assert "TimeoutError" in caplog.text and CRPS not in caplog.text


@pytest.mark.parametrize(
    "question",
    ["I want to end my life", "I'm thinking about killing myself tonight"],
)
def test_crisis_questions_never_reach_the_model(corpus_bot, question: str) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    answer = _with_model(corpus_bot, _quoting_model(calls)).answer(question)
    assert answer.verdict is Verdict.CRISIS and answer.text == prompts.CRISIS_REPLY
    assert calls == [] and "generate" not in answer.timings_ms
