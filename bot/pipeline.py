"""The whole query path: safety -> retrieve -> evidence check -> compose -> disclaimer."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot import prompts
from bot.compose import Composed, compose_answer
from bot.config import Settings
from bot.embeddings import Embedder, load_embedder
from bot.errors import InvalidQuestionError
from bot.followup import rewrite_query
from bot.lead import AnswerAids
from bot.lexicon import (
    STOPWORDS,
    Lexicon,
    about_another_drug,
    asked_drugs_of,
    looks_non_english,
    question_terms,
    terms,
)
from bot.retrieve import Retriever
from bot.safety import SafetyRouter
from bot.types import Answer, Passage, Verdict
from bot.vector_cache import VectorCache

if TYPE_CHECKING:
    from bot.lc_retriever import PainbotRetriever

log = logging.getLogger(__name__)

WARM_CACHE_MAX_PASSAGES = 2000
"""Stores this small get every sentence embedded at load; larger ones fill the cache lazily."""


class Bot:
    """Loaded once (embedder, store, BM25); answers many questions."""

    def __init__(
        self, settings: Settings, embedder: Embedder, store: Any, chat_model: Any = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.safety = SafetyRouter(embedder)
        self.vectors = VectorCache(embedder)
        self.retriever = Retriever(store, embedder, settings, self.vectors)
        self.lexicon = self._build_lexicon()
        self.aids = AnswerAids.build(settings.corpus_dir, embedder, self.retriever.keyword.passages)
        self._checked = time.monotonic()
        # Optional LLM answer writer (bot/generate.py); built now so a missing extra fails early.
        self.chat_model = chat_model
        if chat_model is None and settings.llm_provider:
            from bot.generate import make_chat_model

            self.chat_model = make_chat_model(settings)

    def _build_lexicon(self) -> Lexicon:
        passages = self.retriever.keyword.passages
        lexicon = Lexicon([p.text for p in passages])
        if len(passages) <= WARM_CACHE_MAX_PASSAGES:
            # Every sentence vector now, not during the first answers: from the snapshot of the
            # last start when the texts are unchanged, else embedded (a few seconds) and saved.
            snapshot = self.settings.cache_dir / "sentence-vectors.npz"
            if snapshot.exists():
                self.vectors.load(snapshot, self.embedder.model_id)
            before = len(self.vectors)
            self.vectors.get(passages)
            if len(self.vectors) != before or not snapshot.exists():
                try:
                    self.vectors.save(snapshot, self.embedder.model_id)
                except OSError as exc:  # a read-only disk only costs start-up time
                    log.warning("could not save %s: %s", snapshot, exc)
        return lexicon

    def refresh_if_changed(self) -> bool:
        now = time.monotonic()
        if now - self._checked < 2.0:
            return False
        self._checked = now
        if self.store.generation() == self.retriever.generation:
            return False
        self.retriever.refresh()
        self.lexicon = self._build_lexicon()
        self.aids = AnswerAids.build(
            self.settings.corpus_dir, self.embedder, self.retriever.keyword.passages
        )
        return True

    def search(self, query: str, k: int = 10) -> list[Passage]:
        self.refresh_if_changed()
        return self.retriever.retrieve(query, k)

    def as_retriever(self, k: int = 6) -> PainbotRetriever:
        """This bot's search as a LangChain retriever (see bot/lc_retriever.py)."""
        from bot.lc_retriever import PainbotRetriever

        return PainbotRetriever(bot=self, k=k)

    def _write_with_llm(
        self,
        question: str,
        history: Sequence[str],
        passages: Sequence[Passage],
        composed: Composed,
        timings: dict[str, float],
    ) -> Composed:
        """The LLM-written answer when it passes the grounding checks, else ``composed``."""
        from bot.generate import generate_answer

        turns = history[-self.settings.history_turns :] if self.settings.history_turns else ()
        if turns:
            question = f"{question}\n(Earlier questions: {' | '.join(turns)})"
        t = time.perf_counter()
        try:
            written = generate_answer(
                question, passages, composed, self.chat_model, self.embedder, self.settings
            )
        except Exception as exc:  # time-outs, connection and provider errors
            # The provider's message could echo the prompt, so it stays at DEBUG.
            log.warning("LLM answer failed (%s); using the quoted answer", type(exc).__name__)
            log.debug("LLM error: %s", exc)
            written = None
        timings["generate"] = (time.perf_counter() - t) * 1000
        return written or composed

    def stats(self) -> dict[str, Any]:
        return {
            **self.store.stats(),
            "store": str(self.settings.chroma_url or self.settings.store_dir),
        }

    def answer(
        self, question: str, history: Sequence[str] = (), *, id: str | None = None
    ) -> Answer:
        if not isinstance(question, str) or not question.strip():
            raise InvalidQuestionError("The question is empty: type a question and try again.")
        # Text pasted from odd sources can hold lone surrogates, which no encoder accepts.
        question = _valid_unicode(question)
        history = [_valid_unicode(turn) for turn in history if isinstance(turn, str)]
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestionError(
                f"The question is longer than {self.settings.max_question_chars} characters: "
                "shorten it and try again."
            )
        log.debug("question: %s", question)
        start = time.perf_counter()
        timings: dict[str, float] = {}
        question_vector = self.embedder.embed_query(question)
        routing = self.safety.route(question, question_vector)
        verdict = routing.verdict
        timings["safety"] = (time.perf_counter() - start) * 1000

        def finish(
            v: Verdict,
            text: str,
            composed: Composed | None = None,
            query: str = "",
            lead: str = "",
        ) -> Answer:
            timings["total"] = (time.perf_counter() - start) * 1000
            return Answer(
                verdict=v,
                text=text,
                citations=composed.citations if composed else (),
                disclaimer=prompts.DISCLAIMER,
                timings_ms=dict(timings),
                id=id,
                question=question,
                retrieval_query=query,
                parts=composed.parts if composed else (),
                lead=lead,
                plain=composed.plain if composed else (),
                words=composed.words if composed else (),
            )

        if verdict is Verdict.CRISIS:
            # Crisis comes before every other route; the reply is fixed text, alone.
            return finish(verdict, routing.crisis.reply)
        if routing.crisis.language != "en" or looks_non_english(question):
            # The sources are in English; say so in the asker's language, with the
            # emergency line, rather than "not covered" in a language they may not read.
            return finish(Verdict.NOT_COVERED, prompts.ENGLISH_ONLY_REPLY)
        if verdict is Verdict.OFF_TOPIC:
            return finish(verdict, prompts.OFF_TOPIC_REPLY)

        self.refresh_if_changed()
        asked = question if verdict is not Verdict.PERSONAL_ADVICE else general_form(question)
        rewritten = rewrite_query(
            asked, history[-self.settings.history_turns :] if self.settings.history_turns else ()
        )
        query = self.lexicon.expand(rewritten)
        t = time.perf_counter()
        vector = question_vector if query == question else self.embedder.embed_query(query)
        passages = self.retriever.retrieve(query, self.settings.answer_pool, vector=vector)
        timings["retrieve"] = (time.perf_counter() - t) * 1000
        # Evidence: the best passage or, for long passages, the best single sentence in them.
        best = max(
            [p.similarity for p in passages]
            + [
                float((e.vectors @ vector).max()) for e in self.vectors.get(passages) if e.sentences
            ],
            default=0.0,
        )
        covered = best >= self.settings.min_evidence and _key_words_found(
            rewritten, passages, self.lexicon
        )
        personal = verdict is Verdict.PERSONAL_ADVICE
        if not covered:
            if personal:
                # No passage matched, but the sources may still caution about what was named.
                general = compose_answer(
                    query,
                    vector,
                    [],
                    self.vectors,
                    self.lexicon,
                    1,
                    self.aids,
                    question=question,
                    personal=True,
                )
                if general.plain:
                    lead = (
                        f"{prompts.PERSONAL_ADVICE_REPLY}\n\n{prompts.PERSONAL_ADVICE_GENERAL_LEAD}"
                    )
                    return finish(verdict, f"{lead}\n\n{general.text}", general, query, lead)
                return finish(verdict, prompts.PERSONAL_ADVICE_REPLY, query=query)
            return finish(Verdict.NOT_COVERED, prompts.NOT_COVERED_REPLY, query=query)
        t = time.perf_counter()
        composed = compose_answer(
            query,
            vector,
            passages,
            self.vectors,
            self.lexicon,
            self.settings.max_answer_sentences,
            self.aids,
            question=question,
            personal=personal,
        )
        timings["compose"] = (time.perf_counter() - t) * 1000
        if self.chat_model is not None and composed.text:
            composed = self._write_with_llm(asked, history, passages, composed, timings)
        if personal:
            lead = prompts.PERSONAL_ADVICE_REPLY
            if composed.text:
                lead += "\n\n" + prompts.PERSONAL_ADVICE_GENERAL_LEAD
            text = f"{lead}\n\n{composed.text}" if composed.text else lead
            return finish(verdict, text, composed, query, lead)
        if not composed.text:
            return finish(Verdict.NOT_COVERED, prompts.NOT_COVERED_REPLY, query=query)
        return finish(Verdict.ANSWERED, composed.text, composed, query, composed.note)


_PERSONAL_WORDS = re.compile(
    r"\b(i|i'm|im|i've|me|my|mine|myself|should|could|can|would|will|do|am|take|taking|"
    r"start|stop|quit|try|get|okay|ok|safe for|how much|how many)\b",
    re.IGNORECASE,
)


def _valid_unicode(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def general_form(question: str) -> str:
    """'How much ketamine should I take for my back pain?' -> 'ketamine for back pain?':
    the general topic of a personal question, for finding general information on it."""
    general = " ".join(_PERSONAL_WORDS.sub(" ", question).split())
    return general if len(general.split()) >= 2 else question


def _key_words_found(question: str, passages: Sequence[Passage], lexicon: Lexicon) -> bool:
    """More than half of the question's rarer content words must appear in the passages
    (stemmed; a misspelling or a patient word counts when its source form is there), leaving
    out passages about another drug than the one asked about ("is ketamine legal?" is not
    answered by the legal status of psilocybin)."""
    words = {
        w for w in re.findall(r"[a-z0-9]+", question.lower()) if w not in STOPWORDS and len(w) > 2
    } - _GENERIC
    if not words:
        return True
    asked = asked_drugs_of(question_terms(question))
    text_terms: set[str] = set()
    for passage in passages:
        title = str(passage.metadata.get("title", ""))
        passage_terms = set(terms(f"{title} {passage.section} {passage.text}"))
        if not about_another_drug(passage_terms, asked):
            text_terms |= passage_terms
    found = sum(1 for w in words if lexicon.found_in(w, text_terms))
    return found * 2 > len(words)


# Words that say little about what is asked; the rest must mostly appear in the evidence.
_GENERIC = frozenset(
    [
        "ketamine",
        "pain",
        "chronic",
        "help",
        "helps",
        "good",
        "say",
        "says",
        "article",
        "work",
        "better",
        "together",
        "like",
        "matter",
        "get",
        "wrote",
        "open",
        "questions",
        "question",
        "should",
        "there",
        "kinds",
        "kind",
        "respond",
        "treat",
        "tell",
        "know",
        "much",
        "use",
        "used",
        "does",
        "thing",
        "things",
        "cover",
        "covered",
        "happen",
        "happens",
        "happened",
        # How the patient feels about it, not what they ask about.
        "scared",
        "afraid",
        "worried",
        "nervous",
        "frightened",
    ]
)


def load(settings: Settings) -> Bot:
    """Load the embedding model, open the store and build the keyword index, once."""
    from bot.store import ChunkStore, chunking_signature

    embedder = load_embedder(settings)
    store = ChunkStore.open(
        settings,
        embedding_model=embedder.model_id,
        dimension=embedder.dimension,
        chunking=chunking_signature(settings),
    )
    return Bot(settings, embedder, store)
