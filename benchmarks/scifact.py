"""SciFact (BEIR) retrieval through the project's own ingest, store and retrieval configurations.

The data is read in place from ../shared/eval/scifact (CC BY-NC, evaluation only) and indexed
into a separate store under .painbot/bench/ (git-ignored); re-runs skip unchanged abstracts.
Documents are ranked by their best chunk (first appearance in the passage ranking).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.beir import SCIFACT_DIR, load_qrels, load_queries
from benchmarks.metrics import mean, ndcg_at_k, recall_at_k
from bot.config import Settings
from bot.types import Passage

log = logging.getLogger(__name__)

BENCH_DIR = Path(".painbot/bench")
Search = Callable[[str, int], Sequence[Passage]]

# The Settings field that switches the retriever (the first one Settings has is used).
MODE_FIELDS = ("retrieval", "retrieval_mode", "retriever", "search_mode")


def default_configs() -> dict[str, dict[str, Any]]:
    """Retrieval configurations compared side by side; each is a Settings update."""
    mode = next((name for name in MODE_FIELDS if name in Settings.model_fields), None)
    if mode is None:
        log.warning(
            "Settings has none of %s; comparing only the default with and without rerank",
            MODE_FIELDS,
        )
        return {"default (no rerank)": {"rerank": False}, "default": {"rerank": True}}
    return {
        "bm25": {mode: "bm25", "rerank": False},
        "dense": {mode: "dense", "rerank": False},
        "hybrid": {mode: "hybrid", "rerank": False},
        "hybrid+rerank": {mode: "hybrid", "rerank": True},
    }


@dataclass(frozen=True)
class RetrievalScores:
    ndcg10: float
    recall10: float
    recall100: float
    queries: int
    ms_per_query: float


def beir_settings(base: Settings, folder: Path, name: str = "scifact") -> Settings:
    """Settings whose store is a separate, git-ignored collection for the benchmark."""
    return base.model_copy(
        update={"store_dir": BENCH_DIR / name, "collection": name, "corpus_dir": folder}
    )


def ingest_beir(settings: Settings, folder: Path) -> dict[str, Any]:
    """Index folder/corpus.jsonl into the benchmark store (hash-skip makes re-runs cheap)."""
    from bot.embeddings import load_embedder
    from ingest.index import ingest_paths

    report = ingest_paths(settings, [folder / "corpus.jsonl"], embedder=load_embedder(settings))
    if report.failed:
        raise RuntimeError(
            f"BEIR ingest failed for {len(report.failed)} files: {report.failed[:3]}"
        )
    return report.to_json()


def rank_documents(passages: Sequence[Passage]) -> list[str]:
    """Source ids in order of their best passage (max over chunks)."""
    seen: dict[str, None] = {}
    for passage in passages:
        seen.setdefault(passage.source_id, None)
    return list(seen)


def score_queries(
    search: Search,
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    depth: int = 100,
) -> RetrievalScores:
    ndcg, r10, r100 = [], [], []
    start = time.perf_counter()
    for qid, relevant in qrels.items():
        ranked = rank_documents(search(queries[qid], depth))
        ndcg.append(ndcg_at_k(ranked, relevant, 10))
        r10.append(recall_at_k(ranked, relevant, 10))
        r100.append(recall_at_k(ranked, relevant, 100))
    elapsed = (time.perf_counter() - start) * 1000
    return RetrievalScores(
        mean(ndcg), mean(r10), mean(r100), len(qrels), elapsed / max(len(qrels), 1)
    )


def config_settings(settings: Settings, update: dict[str, Any]) -> Settings | None:
    """The settings for one configuration, or None when Settings lacks a needed field."""
    missing = [key for key in update if key not in Settings.model_fields]
    if missing:
        log.warning("Settings has no field(s) %s; configuration skipped", missing)
        return None
    return settings.model_copy(update=update)


def run_beir(
    base: Settings,
    folder: Path = SCIFACT_DIR,
    split: str = "test",
    configs: dict[str, dict[str, Any]] | None = None,
    limit: int | None = None,
) -> dict[str, RetrievalScores] | None:
    """Score every configuration on one split; None (with a message) when the data is absent."""
    if not (folder / "corpus.jsonl").exists():
        log.warning("BEIR data not found at %s; skipping retrieval evaluation", folder)
        return None
    import bot
    from bot.embeddings import load_embedder
    from ingest.index import open_store

    settings = beir_settings(base, folder)
    ingest_beir(settings, folder)
    queries = load_queries(folder)
    qrels = load_qrels(folder, split)
    if limit:
        qrels = dict(list(qrels.items())[:limit])
    # The store alone (one Chroma query, no retrieval module): a check on the other rows.
    embedder = load_embedder(settings)
    store = open_store(settings, embedder)
    results: dict[str, RetrievalScores] = {
        "store dense (ChunkStore.query)": score_queries(
            lambda q, k: store.query(embedder.embed_query(q), k + 50), queries, qrels
        )
    }
    if not hasattr(bot, "load"):
        log.warning("bot.load is missing (query side not written yet); only the store row ran")
        return results
    for name, update in (configs or default_configs()).items():
        cfg = config_settings(settings, update)
        if cfg is None:
            continue
        # candidate_k must reach past 100 so recall@100 measures the retriever, not the cut.
        cfg = cfg.model_copy(update={"candidate_k": max(cfg.candidate_k, 150)})
        engine = bot.load(cfg)
        results[name] = score_queries(engine.search, queries, qrels)
        log.info("%s: nDCG@10 %.3f", name, results[name].ndcg10)
    return results
