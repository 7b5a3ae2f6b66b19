"""Answer speed on a big store (SciFact, 5,183 abstracts) next to the shipped corpus.

For each store, in one run: the floor (one query embedding + one Chroma top-k), warm answer
latency with the answer cache off (each question computed), and cold start of `app.py` until
its first answer. SciFact claims (test split) are asked as questions; the data is read in
place from ../shared/eval/scifact and indexed into its own store under .painbot/bench/.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.beir import SCIFACT_DIR, load_qrels, load_queries
from benchmarks.metrics import percentile
from benchmarks.server import start_server
from bot.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreSpeed:
    label: str
    passages: int
    floor_ms: list[float]
    answer_ms: list[float]
    cold_start_s: float | None
    embedded_at_query: int
    """Passages whose sentences had to be embedded while answering (should be 0)."""

    def row(self) -> list[str]:
        f50, f95 = percentile(self.floor_ms, 50), percentile(self.floor_ms, 95)
        a50, a95 = percentile(self.answer_ms, 50), percentile(self.answer_ms, 95)
        cold = "n/a" if self.cold_start_s is None else f"{self.cold_start_s:.1f} s"
        return [
            f"{self.label} ({self.passages} passages, {len(self.answer_ms)} q)",
            f"floor p50 {f50:.1f} / p95 {f95:.1f} ms",
            f"answer p50 {a50:.0f} / p95 {a95:.0f} ms",
            f"{a50 / f50:.1f}x / {a95 / f50:.1f}x floor p50",
            cold,
            str(self.embedded_at_query),
        ]


HEADER = ["store", "floor", "warm answer (cache off)", "ratio", "cold start", "embedded"]


def scifact_claims(n: int = 100, folder: Path = SCIFACT_DIR) -> list[str]:
    """The first ``n`` claims of the SciFact test split, asked as questions."""
    queries = load_queries(folder)
    return [queries[qid] for qid in list(load_qrels(folder, "test"))[:n]]


def floor_query(store: Any, embedder: Any, text: str, k: int) -> None:
    """The least any answer can cost: one query embedding and one Chroma top-k, which reads
    ids and distances as an answer's dense search does (Store.nearest)."""
    store.nearest(embedder.embed_query(text), k, lambda _record: True)


def uncached(settings: Settings) -> Settings:
    """The settings with the embedding cache off. The floor measures one real query embedding;
    with the cache on, a text embedded before (by a repeat or by the answer) costs a lookup."""
    return settings.model_copy(update={"embedding_cache_size": 0})


def measure(
    label: str, settings: Settings, questions: list[str], cold_start: bool = True
) -> StoreSpeed:
    """Floor and warm answer latency in this process; cold start in a fresh `app.py`."""
    import bot
    from bot.embeddings import load_embedder

    settings = settings.model_copy(update={"answer_cache": False})
    engine = bot.load(settings)
    # Its own uncached embedder: the floor embeds each question for real, and does not warm the
    # engine's cache for the answer that follows.
    embedder = load_embedder(uncached(settings))
    for question in questions[:3]:  # warm-up, not timed
        engine.answer(question)
        floor_query(engine.store, embedder, question, settings.top_k)
    floor, answers = [], []
    for question in questions:
        start = time.perf_counter()
        floor_query(engine.store, embedder, question, settings.top_k)
        floor.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        engine.answer(question)
        answers.append((time.perf_counter() - start) * 1000)
    cold = None
    if cold_start:
        env = {
            "PAINBOT_STORE_DIR": str(settings.store_dir.resolve()),
            "PAINBOT_COLLECTION": settings.collection,
        }
        server = start_server(env=env, log_path=Path(".painbot") / f"bench-{label}.log")
        cold = server.cold_start_s
        server.stop()
    return StoreSpeed(
        label,
        len(engine.retriever.keyword.passages),
        floor,
        answers,
        cold,
        engine.vectors.embedded_at_query,
    )
