"""The whole query path: validate -> crisis -> analyse -> route -> retrieve -> evidence ->
question kind -> plain lead -> compose -> optional writer -> words to know -> finish (with the
fixed disclaimer), one step a line in Bot.answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from bot import prompts
from bot.clinic import Clinic, with_contact
from bot.compose import Composed, compose_answer, with_words
from bot.config import Settings
from bot.crisis import CrisisCheck
from bot.embeddings import Embedder, Vectors, load_embedder
from bot.errors import InvalidQuestionError
from bot.evidence import (
    PRACTICAL_KIND,
    EvidenceFeatures,
    EvidenceModel,
    covers,
    evidence_features,
    load_model,
    salience,
    unknown_terms,
    without_word,
)
from bot.lead import (
    AnswerAids,
    Lead,
    PlainScores,
    asked_text,
    linked_chunks,
    plain_lead,
    plain_scores,
)
from bot.lexicon import Lexicon
from bot.retrieve import Retriever
from bot.review import check_reviews
from bot.safety import SafetyRouter
from bot.types import Answer, Passage, Verdict
from bot.understand import QuestionAnalysis, part_in_context, stands_alone, understand
from bot.vector_cache import VectorCache
from bot.vocabulary import Vocabulary, corpus_vocabulary

if TYPE_CHECKING:
    from bot.lc_retriever import PainbotRetriever
    from bot.store import Store

_T = TypeVar("_T")

log = logging.getLogger(__name__)

SEARCH_MARGIN = 50
"""Candidates each retriever gives a search beyond the k passages it returns."""
GENERATION_READ_S = 2.0
"""How old the bot's reading of the store's generation may be before it is read again."""


class Bot:
    """Loaded once (embedder, store, BM25); answers many questions."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: Store,
        chat_model: Any = None,
        vocabulary: Vocabulary | None = None,
        evidence_model: EvidenceModel | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.vocabulary = vocabulary or corpus_vocabulary(settings.corpus_dir)
        self.evidence_model = evidence_model or load_model(settings.evidence.model_path)
        self.safety = SafetyRouter(embedder, vocabulary=self.vocabulary, weights=settings.safety)
        self.vectors = VectorCache(embedder, store, settings.sentence_cache_passages)
        self.retriever = Retriever(store, embedder, settings, self.vectors)
        self.lexicon = self._build_lexicon()
        self.aids = self._build_aids()
        self._checked = time.monotonic()
        self._generation = self.retriever.generation
        # Optional LLM answer writer (bot/generate.py); built now so a missing extra fails early.
        self.chat_model = chat_model
        if chat_model is None and settings.llm_provider:
            from bot.generate import make_chat_model

            self.chat_model = make_chat_model(settings)

    def _build_lexicon(self) -> Lexicon:
        passages = self.retriever.corpus.passages
        lexicon = Lexicon(vocabulary=self.vocabulary, stats=self.retriever.corpus.stats)
        # Sentence vectors come from the store; a store made before they were stored gets them
        # made now, not during the first answers.
        snapshot = self.settings.cache_dir / "sentence-vectors.npz"
        self.vectors.prepare(passages, snapshot, self.embedder.model_id)
        return lexicon

    def _build_aids(self) -> AnswerAids:
        """The plain-language layer checked against the store's passages, question kinds and
        the glossary (corpus files beside the documents)."""
        passages = self.retriever.keyword.passages
        return AnswerAids.build(
            self.settings.corpus_dir, self.embedder, passages, self.settings.cache_dir
        )

    def store_generation(self) -> int:
        """The store's generation, read again (one store call) when the last reading is older
        than GENERATION_READ_S: a busy server asks it for every question (the answer cache's
        key), and a re-ingest is seen within that time."""
        now = time.monotonic()
        if now - self._checked >= GENERATION_READ_S:
            self._checked = now
            self._generation = self.store.generation()
        return self._generation

    def refresh_if_changed(self) -> bool:
        if self.store_generation() == self.retriever.generation:
            return False
        self.retriever.refresh()
        self._generation = self.retriever.generation
        self.lexicon = self._build_lexicon()
        self.aids = self._build_aids()
        return True

    def search(self, query: str, k: int = 10) -> list[Passage]:
        """Top k passages; candidates reach SEARCH_MARGIN past k, so the last ones are not cut
        short by the candidate depth (as the SciFact evaluation has always searched)."""
        self.refresh_if_changed()
        return self.retriever.retrieve(query, k, depth=k + SEARCH_MARGIN)

    def as_retriever(self, k: int = 6) -> PainbotRetriever:
        """This bot's search as a LangChain retriever (see bot/lc_retriever.py)."""
        from bot.lc_retriever import PainbotRetriever

        return PainbotRetriever(bot=self, k=k)

    def stats(self) -> dict[str, Any]:
        return {
            **self.store.stats(),
            "store": str(self.settings.chroma_url or self.settings.store_dir),
            "reviews": check_reviews(
                (sid, record.metadata) for sid, record in self.store.sources().items()
            ).to_json(),
        }

    def answer(
        self, question: str, history: Sequence[str] = (), *, id: str | None = None
    ) -> Answer:
        """The whole query path, one named step a line."""
        question, history = self.validate(question, history)
        reply = _Reply(question, id, Clinic.from_settings(self.settings))
        # The message and its sentences in one embedding call; the first row is the question's.
        pieces = reply.timed("safety", self.safety.crisis.embed, question)
        vector = pieces[0]
        crisis = reply.timed("safety", self.safety.crisis.check, question, pieces)  # always first
        if crisis.crisis:  # the crisis reply is fixed text, alone
            return reply.finish(Verdict.CRISIS, crisis.reply)
        analysis = reply.timed("analyse", self.analyse, question, history)
        verdict = reply.timed("safety", self.route, analysis, crisis, vector)
        if verdict in _FIXED_REPLIES:
            return reply.finish(verdict, _FIXED_REPLIES[verdict], query=analysis.query)
        # Mixing, doses, starting or stopping (and requests only the learned check caught,
        # whatever they ask) get the advice reply alone: no general sentence to read as a yes.
        if verdict is Verdict.PERSONAL_ADVICE and analysis.personal in ("always", ""):
            return reply.finish(verdict, prompts.PERSONAL_ADVICE_REPLY, query=analysis.query)
        passages, query_vector = reply.timed("retrieve", self.retrieve, analysis, vector)
        not_covered: list[str] = []
        if not reply.timed("evidence", self.covers, analysis, passages, query_vector, vector):
            # A question of several parts is answered for the parts the sources cover, each
            # other part named as not covered, rather than refused whole.
            narrowed = reply.timed("evidence", self.covered_parts, analysis, history)
            if narrowed is None:
                return reply.finish(_refusal(verdict), _REFUSALS[verdict], query=analysis.query)
            analysis, vector, passages, query_vector, not_covered = narrowed
        asked_vector = reply.timed("compose", self.asked_vector, analysis, query_vector)
        kinds = reply.timed("compose", self.aids.question_kinds, asked_vector)
        parts = reply.timed("compose", self.part_vectors, analysis)
        args = (analysis, verdict, kinds, asked_vector, parts)
        scores = reply.timed("compose", self.plain_scores, *args)
        passages = reply.timed("retrieve", self.retrieve_linked, analysis, kinds, scores, passages)
        lead = reply.timed("compose", self.lead, analysis, verdict, kinds, scores, passages)
        composed = reply.timed(
            "compose", self.compose, analysis, query_vector, passages, lead, not_covered
        )
        if self.chat_model is not None and composed.text:
            composed = reply.timed("generate", self.write, analysis, history, passages, composed)
        composed = reply.timed(
            "compose",
            with_words,
            composed,
            self.aids.glossary,
            analysis.asked,
            kinds,
            self.conditions_named(analysis, history),
            self.lexicon.vocabulary.condition_pattern,
        )
        return reply.finish_answer(verdict, composed, analysis.query)

    def conditions_named(self, analysis: QuestionAnalysis, history: Sequence[str]) -> str:
        """The conditions the patient named in this message or earlier turns: words they
        know, so "Words to know" does not define them (someone who writes "my fibromyalgia"
        knows the word; a term they ask about, such as "NMDA receptor", is still defined)."""
        pattern = self.lexicon.vocabulary.condition_pattern
        earlier = " ".join(m.group(0) for t in history for m in pattern.finditer(t.lower()))
        return " ".join([*analysis.conditions, earlier]).strip()

    def validate(self, question: str, history: Sequence[str]) -> tuple[str, list[str]]:
        """The question and history as valid text, or InvalidQuestionError."""
        if not isinstance(question, str) or not question.strip():
            raise InvalidQuestionError("The question is empty: type a question and try again.")
        # Text pasted from odd sources can hold lone surrogates, which no encoder accepts.
        question = _valid_unicode(question)
        turns = [_valid_unicode(turn) for turn in history if isinstance(turn, str)]
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestionError(
                f"The question is longer than {self.settings.max_question_chars} characters: "
                "shorten it and try again."
            )
        log.debug("question: %s", question)
        keep = self.settings.history_turns
        return question, (turns[-keep:] if keep else [])

    def analyse(self, question: str, history: Sequence[str]) -> QuestionAnalysis:
        self.refresh_if_changed()
        return understand(question, history, self.vocabulary, self.lexicon)

    def route(self, analysis: QuestionAnalysis, crisis: CrisisCheck, vector: Vectors) -> Verdict:
        """English only, off topic, personal advice or fine to answer (crisis is checked before)."""
        if crisis.language != "en" or analysis.language != "en":
            # The sources are in English; say so in the asker's language, with the
            # emergency line, rather than "not covered" in a language they may not read.
            return Verdict.NOT_COVERED
        return self.safety.route_analysis(analysis, vector)

    def retrieve(
        self, analysis: QuestionAnalysis, question_vector: Vectors
    ) -> tuple[list[Passage], Vectors]:
        """The passages for the analysis's query, and the query's vector."""
        query = analysis.query
        # A query that is the question itself, only normalised (case, spacing), has the
        # question's meaning: its vector is the question's, not a second embedding.
        same = query in (analysis.question, analysis.text)
        vector = question_vector if same else self.embedder.embed_query(query)
        return self.retriever.retrieve(query, self.settings.answer_pool, vector=vector), vector

    def features(
        self,
        analysis: QuestionAnalysis,
        passages: Sequence[Passage],
        vector: Vectors,
        question_vector: Vectors | None = None,
    ) -> EvidenceFeatures:
        """The evidence features the coverage model reads (bot/evidence.py); with the
        question's own vector, each asked word the corpus lacks is weighed by how much the
        question's meaning moves without it."""
        v = vector.reshape(-1)
        sentence_best = max(
            (float((e.vectors @ v).max()) for e in self.vectors.get(passages) if e.sentences),
            default=0.0,
        )
        top = self.retriever.keyword.search(analysis.query, 1)
        keyword_best = top[0].score if top else 0.0
        salient, topical = (
            ({}, {}) if question_vector is None else self.unknown_words(analysis, question_vector)
        )
        practical = self.aids.kind_similarity(v, PRACTICAL_KIND)
        return evidence_features(
            analysis,
            passages,
            sentence_best,
            keyword_best,
            self.lexicon,
            salient,
            practical,
            topical,
        )

    def unknown_words(
        self, analysis: QuestionAnalysis, question_vector: Vectors
    ) -> tuple[dict[str, float], dict[str, float]]:
        """For each asked word the corpus lacks, how much the question is about it (the
        question embedded without the word) and how likely the word names a topic (the word
        embedded alone), in one embedding call; none when there is no such word."""
        words = list(dict.fromkeys(t.word for t in unknown_terms(analysis)))
        if not words:
            return {}, {}
        topic_words = self.evidence_model.topic_words
        texts = [without_word(analysis.question, w) for w in words]
        texts += words if topic_words else []
        rows = np.asarray(self.embedder.embed_documents(texts)).reshape(len(texts), -1)
        q = question_vector.reshape(-1)
        q = q / (np.linalg.norm(q) or 1.0)
        salient = {
            word: salience(1.0 - float(row @ q) / (float(np.linalg.norm(row)) or 1.0))
            for word, row in zip(words, rows[: len(words)], strict=True)
        }
        if topic_words is None:
            return salient, {}
        chances = topic_words.probabilities(rows[len(words) :])
        return salient, {w: float(c) for w, c in zip(words, chances, strict=True)}

    def covers(
        self,
        analysis: QuestionAnalysis,
        passages: Sequence[Passage],
        vector: Vectors,
        question_vector: Vectors | None = None,
    ) -> bool:
        """Whether the sources cover the question (the fitted evidence model decides); never
        for a question naming a drug family no source studies (corpus/vocabulary.toml), even
        beside one they do: "does CBD work as well as ketamine?" asks for evidence on CBD that
        no source has. Nor for one asking about a group of people no source studies ("is it
        used in teenagers?"; corpus/vocabulary.toml [[population]]). A question of several
        parts is still answered for its other parts."""
        vocabulary = self.lexicon.vocabulary
        if analysis.drugs & vocabulary.unstudied_drugs:
            return False
        if vocabulary.names_unstudied_population(vocabulary.spell_out(analysis.request.lower())):
            return False
        features = self.features(analysis, passages, vector, question_vector)
        return covers(features, self.evidence_model, self.settings.evidence.threshold)

    def covered_parts(
        self, analysis: QuestionAnalysis, history: Sequence[str]
    ) -> tuple[QuestionAnalysis, Vectors, list[Passage], Vectors, list[str]] | None:
        """For a question of several parts that the sources do not cover as a whole: the
        analysis, question vector, passages and query vector of the parts they do cover, and
        the parts they do not; None when no part, or every part, is covered (the whole
        question's verdict stands)."""
        # A follow-up's parts include the earlier turn's topic, answered already.
        if len(analysis.parts) < 2 or analysis.follow_up:
            return None
        covered: list[str] = []
        not_covered: list[str] = []
        for part in analysis.parts:
            # Read alone, so that "any studies on that?" is not covered by its subject alone.
            part_analysis = self.analyse(part, ())
            part_vector = self.embedder.embed_query(part)
            found, part_query = self.retrieve(part_analysis, part_vector)
            answerable = stands_alone(part_analysis)
            if answerable and self.covers(part_analysis, found, part_query, part_vector):
                covered.append(part)
            else:
                not_covered.append(part)
        if not covered or not not_covered:
            return None
        question = " ".join(f"{p.rstrip(' ?.')}?" for p in covered)
        narrowed = self.analyse(question, history)
        vector = self.embedder.embed_query(question)
        passages, query_vector = self.retrieve(narrowed, vector)
        return narrowed, vector, passages, query_vector, not_covered

    def asked_vector(self, analysis: QuestionAnalysis, query_vector: Vectors) -> Vectors:
        """The vector the plain lead is chosen with: the asked part's, without the words of
        the story around it. "My dad is 71 and we're looking into clinics for his nerve pain.
        Who should not get infusions?" asks who should not; read whole, it read as asking
        whether infusions work. The story's conditions still count (lead.CONTEXT_SHARE)."""
        if not analysis.context:
            return query_vector
        asked = self.embedder.embed_query(self.lexicon.expand(asked_text(analysis))).reshape(-1)
        blend = asked + np.asarray(query_vector, dtype=np.float32).reshape(-1)
        return blend / (float(np.linalg.norm(blend)) or 1.0)

    def part_vectors(self, analysis: QuestionAnalysis) -> list[Vectors]:
        """The vectors of a multi-part question's parts (none for a one-part question)."""
        if not analysis.parts:
            return []
        return list(
            self.embedder.embed_documents([part_in_context(p, analysis) for p in analysis.parts])
        )

    def stored_passages(self) -> Mapping[str, Passage]:
        """Every stored passage by chunk id: what a link (a plain sentence's backing, a
        caveat's passage) may fetch beyond what the search brought."""
        return self.retriever.corpus.by_id

    def plain_scores(
        self,
        analysis: QuestionAnalysis,
        verdict: Verdict,
        kinds: Sequence[str],
        vector: Vectors,
        part_vectors: Sequence[Vectors],
    ) -> PlainScores:
        """The plain sentences (corpus/plain/) scored for the question and each of its parts;
        for a personal request, the cautions about what the asker named first."""
        personal = verdict is Verdict.PERSONAL_ADVICE
        return plain_scores(
            self.aids, analysis, kinds, vector, self.lexicon, personal, part_vectors
        )

    def retrieve_linked(
        self,
        analysis: QuestionAnalysis,
        kinds: Sequence[str],
        scores: PlainScores,
        passages: Sequence[Passage],
    ) -> list[Passage]:
        """``passages`` and, after them, the passages the best plain sentences for the question
        and their caveats need that the search did not bring (bot/lead.py, linked_chunks)."""
        have = {p.chunk_id for p in passages}
        wanted = linked_chunks(self.aids, analysis, kinds, self.lexicon, scores)
        store = self.stored_passages()
        extra = [store[c] for c in wanted if c not in have and c in store]
        return [*passages, *extra]

    def lead(
        self,
        analysis: QuestionAnalysis,
        verdict: Verdict,
        kinds: Sequence[str],
        scores: PlainScores,
        passages: Sequence[Passage],
    ) -> Lead:
        """The plain sentences that answer the question's kind, backed only by ``passages``."""
        personal = verdict is Verdict.PERSONAL_ADVICE
        return plain_lead(self.aids, analysis, kinds, passages, self.lexicon, scores, personal)

    def compose(
        self,
        analysis: QuestionAnalysis,
        vector: Vectors,
        passages: Sequence[Passage],
        lead: Lead | None = None,
        not_covered: Sequence[str] = (),
    ) -> Composed:
        return compose_answer(
            analysis,
            vector,
            passages,
            self.vectors,
            self.lexicon,
            self.settings.max_answer_sentences,
            self.settings.compose,
            lead,
            self.aids,
            not_covered,
            self.stored_passages(),
        )

    def write(
        self,
        analysis: QuestionAnalysis,
        history: Sequence[str],
        passages: Sequence[Passage],
        composed: Composed,
    ) -> Composed:
        """The LLM-written answer when it passes the grounding checks, else ``composed``."""
        from bot.generate import generate_answer

        question = analysis.general or analysis.question
        if history:
            question = f"{question}\n(Earlier questions: {' | '.join(history)})"
        try:
            written = generate_answer(
                question, passages, composed, self.chat_model, self.embedder, self.settings
            )
        except Exception as exc:  # time-outs, connection and provider errors
            # The provider's message could echo the prompt, so it stays at DEBUG.
            log.warning("LLM answer failed (%s); using the quoted answer", type(exc).__name__)
            log.debug("LLM error: %s", exc)
            written = None
        return written or composed


_FIXED_REPLIES = {
    Verdict.OFF_TOPIC: prompts.OFF_TOPIC_REPLY,
    Verdict.NOT_COVERED: prompts.ENGLISH_ONLY_REPLY,  # routed so only for other languages
}
_REFUSALS = {
    Verdict.PERSONAL_ADVICE: prompts.PERSONAL_ADVICE_REPLY,
    Verdict.ANSWERED: prompts.NOT_COVERED_REPLY,
}


def _refusal(verdict: Verdict) -> Verdict:
    """The verdict of a question the sources do not cover."""
    return verdict if verdict is Verdict.PERSONAL_ADVICE else Verdict.NOT_COVERED


class _Reply:
    """Times the steps of one answer and builds the Answer with the fixed disclaimer."""

    def __init__(self, question: str, id: str | None, clinic: Clinic) -> None:
        self.question = question
        self.id = id
        self.clinic = clinic
        self.start = time.perf_counter()
        self.timings: dict[str, float] = {}

    def timed(self, step: str, fn: Callable[..., _T], *args: Any) -> _T:
        t = time.perf_counter()
        try:
            return fn(*args)
        finally:
            ms = (time.perf_counter() - t) * 1000
            self.timings[step] = self.timings.get(step, 0.0) + ms

    def finish(
        self,
        verdict: Verdict,
        text: str,
        composed: Composed | None = None,
        query: str = "",
        lead: str = "",
    ) -> Answer:
        self.timings["total"] = (time.perf_counter() - self.start) * 1000
        answer = Answer(
            verdict=verdict,
            text=text,
            citations=composed.citations if composed else (),
            disclaimer=prompts.DISCLAIMER,
            timings_ms=dict(self.timings),
            id=self.id,
            question=self.question,
            retrieval_query=query,
            parts=composed.parts if composed else (),
            lead=lead,
            plain=composed.plain if composed else (),
            words=composed.words if composed else (),
            words_first=composed.words_first if composed else False,
        )
        return with_contact(answer, self.clinic)

    def finish_answer(self, verdict: Verdict, composed: Composed, query: str) -> Answer:
        """An answer; for a personal request, the kind refusal first, then the general part."""
        if verdict is Verdict.PERSONAL_ADVICE:
            lead = prompts.PERSONAL_ADVICE_REPLY
            if composed.text:
                lead += "\n\n" + prompts.PERSONAL_ADVICE_GENERAL_LEAD
            text = f"{lead}\n\n{composed.text}" if composed.text else lead
            return self.finish(verdict, text, composed, query, lead)
        if not composed.text:
            return self.finish(Verdict.NOT_COVERED, prompts.NOT_COVERED_REPLY, query=query)
        return self.finish(Verdict.ANSWERED, composed.text, composed, query, composed.note)


def _valid_unicode(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def load(settings: Settings, evidence_model: EvidenceModel | None = None) -> Bot:
    """Load the embedding model, open the store and build the keyword index, once."""
    from bot.store import ChunkStore, chunking_signature

    embedder = load_embedder(settings)
    store = ChunkStore.open(
        settings,
        embedding_model=embedder.model_id,
        dimension=embedder.dimension,
        chunking=chunking_signature(settings),
    )
    return Bot(settings, embedder, store, evidence_model=evidence_model)
