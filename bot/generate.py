"""Optional LLM answer writer: plain-language sentences, each kept only if its cited passage
supports it.

Off unless PAINBOT_LLM_PROVIDER is set. The model sees the numbered passages and must end every
sentence with [n]. Sentences citing no given passage, or that the cited passage does not
support (bot.grounding.support_score: meaning, shared words, every number), are dropped; when
too few survive the caller keeps the extractive answer, so a bad model output can only make
an answer shorter, never add unsupported text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import prompts_llm
from bot.citations import citation_label
from bot.compose import Composed, group_by_source
from bot.config import Settings
from bot.embeddings import Embedder
from bot.errors import ConfigurationError
from bot.grounding import support_score
from bot.sentences import split_sentences
from bot.types import Passage

log = logging.getLogger(__name__)

_INSTALL_HINT = "run `pip install -e '.[llm]'` (or unset PAINBOT_LLM_PROVIDER to turn the LLM off)"
_CITES = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_CITES_AFTER_STOP = re.compile(r"([.!?])\s*((?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+)")
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+", re.M)


def make_chat_model(settings: Settings) -> Any:
    """The LangChain chat model named by settings.llm_provider ('openai' or 'ollama')."""
    provider = (settings.llm_provider or "").strip().lower()
    if provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise ConfigurationError(
                f"PAINBOT_LLM_PROVIDER=openai needs langchain-openai: {_INSTALL_HINT}."
            ) from exc
        # Local OpenAI-compatible servers (llama.cpp, vLLM) take any key.
        api_key = settings.llm_api_key or ("unused" if settings.llm_base_url else None)
        try:
            return ChatOpenAI(
                model=settings.llm_model or "gpt-4o-mini",
                base_url=settings.llm_base_url,
                api_key=api_key,
                timeout=settings.llm_timeout_s,
                max_retries=1,
                temperature=0,
            )
        except Exception as exc:  # pydantic validation, missing key
            raise ConfigurationError(
                f"Could not set up the OpenAI chat model ({exc.__class__.__name__}): set "
                "PAINBOT_LLM_API_KEY (and PAINBOT_LLM_BASE_URL for another endpoint)."
            ) from exc
    if provider == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError as exc:
            raise ConfigurationError(
                f"PAINBOT_LLM_PROVIDER=ollama needs langchain-ollama: {_INSTALL_HINT}."
            ) from exc
        if not settings.llm_model:
            raise ConfigurationError(
                "PAINBOT_LLM_PROVIDER=ollama needs a model: set PAINBOT_LLM_MODEL (e.g. llama3.1)."
            )
        return ChatOllama(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            temperature=0,
            client_kwargs={"timeout": settings.llm_timeout_s},
        )
    raise ConfigurationError(
        f"PAINBOT_LLM_PROVIDER={settings.llm_provider!r} is not known: use 'openai' or 'ollama', "
        "or unset it to answer with quoted sentences only."
    )


def choose_passages(passages: Sequence[Passage], composed: Composed, limit: int) -> list[Passage]:
    """Passages the extractive answer cited first (the best evidence), then the rest, in order."""
    cited = {c.chunk_id for c in composed.citations}
    ordered = [p for p in passages if p.chunk_id in cited]
    ordered += [p for p in passages if p.chunk_id not in cited]
    return ordered[:limit]


def build_messages(question: str, passages: Sequence[Passage], max_sentences: int) -> list[Any]:
    from langchain_core.messages import HumanMessage, SystemMessage

    shown = "\n\n".join(
        prompts_llm.PASSAGE.format(n=i, label=citation_label(p), text=p.text.strip())
        for i, p in enumerate(passages, 1)
    )
    system = prompts_llm.SYSTEM.format(
        max_sentences=max_sentences, not_covered=prompts_llm.NOT_COVERED_MARK
    )
    return [
        SystemMessage(content=system),
        HumanMessage(content=prompts_llm.USER.format(passages=shown, question=question)),
    ]


@dataclass(frozen=True)
class WrittenSentence:
    text: str
    """The sentence without its citation marks."""
    cited: tuple[int, ...]


def parse_sentences(output: str) -> list[WrittenSentence]:
    """Model output -> sentences with the passage numbers each cites ('x [1].', 'x. [1][2]')."""
    text = _LIST_MARK.sub("", output.replace("**", ""))
    text = _CITES_AFTER_STOP.sub(r" \2\1 ", text)  # "x. [1]" -> "x [1]."
    out = []
    for sentence in split_sentences(text):
        cited = tuple(
            int(n) for group in _CITES.findall(sentence) for n in re.split(r"[,;]", group)
        )
        bare = " ".join(_CITES.sub(" ", sentence).split())
        bare = re.sub(r"\s+([.!?,;:])", r"\1", bare).strip()
        if bare:
            out.append(WrittenSentence(bare, cited))
    return out


def _message_text(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content)


def generate_answer(
    question: str,
    passages: Sequence[Passage],
    composed: Composed,
    chat_model: Any,
    embedder: Embedder,
    settings: Settings,
) -> Composed | None:
    """An LLM-written answer whose every sentence its cited passage supports, or None.

    None means: the model declined, or fewer than half of its sentences (or none) survived
    the checks; the caller then keeps the extractive ``composed`` answer. Model errors
    propagate so the caller can log them.
    """
    shown = choose_passages(passages, composed, settings.llm_max_passages)
    if not shown:
        return None
    messages = build_messages(question, shown, settings.max_answer_sentences)
    output = _message_text(chat_model.invoke(messages)).strip()
    if not output or output.upper().startswith(prompts_llm.NOT_COVERED_MARK):
        log.info("LLM declined to answer from the passages")
        return None
    written = parse_sentences(output)
    kept: list[tuple[str, Passage]] = []
    for sentence in written:
        valid = [n for n in dict.fromkeys(sentence.cited) if 1 <= n <= len(shown)]
        scored = [
            (support_score(sentence.text, shown[n - 1].text, embedder), shown[n - 1]) for n in valid
        ]
        best = max(scored, key=lambda s: s[0], default=None)
        if best is None or best[0] < settings.llm_min_support:
            log.info(
                "dropped a written sentence: cites %s of %d passages, support %.2f",
                list(sentence.cited),
                len(shown),
                best[0] if best else 0.0,
            )
            continue
        kept.append((sentence.text, best[1]))
    kept = kept[: settings.max_answer_sentences]
    if not kept or len(kept) * 2 < len(written):
        log.warning(
            "LLM answer rejected (%d of %d sentences supported); using the quoted answer",
            len(kept),
            len(written),
        )
        return None
    return group_by_source(kept, composed.note)


__all__ = ["generate_answer", "make_chat_model", "parse_sentences"]
