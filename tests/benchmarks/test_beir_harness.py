"""End to end on a tiny BEIR set made in tmp_path: ingest, search, score (no SciFact)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import scifact
from benchmarks.beir import load_qrels, load_queries
from bot.config import Settings

DOCS = {
    "d1": (
        "Ketamine blocks NMDA receptors",
        "Ketamine is an NMDA receptor antagonist used in anesthesia.",
    ),
    "d2": (
        "Psilocybin and mood",
        "Psilocybin is a serotonergic psychedelic studied for depression.",
    ),
    "d3": ("Gardening", "Tomatoes grow best in full sun with regular watering."),
}
QUERIES = {"q1": "NMDA antagonist anesthetic", "q2": "serotonergic psychedelic depression"}
QRELS = [("q1", "d1"), ("q2", "d2")]


def make_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as handle:
        for doc_id, (title, text) in DOCS.items():
            handle.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as handle:
        for qid, text in QUERIES.items():
            handle.write(json.dumps({"_id": qid, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, d in QRELS]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return folder


def test_tiny_beir_end_to_end(tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from ingest.index import open_store

    folder = make_beir(tmp_path / "beir")
    monkeypatch.setattr(scifact, "BENCH_DIR", tmp_path / "bench")
    settings = scifact.beir_settings(Settings(), folder, name="tiny")
    report = scifact.ingest_beir(settings, folder)
    assert report["added"] == 3
    assert scifact.ingest_beir(settings, folder)["skipped"] == 3  # re-runs are cheap

    store = open_store(settings, embedder)
    scores = scifact.score_queries(
        lambda q, k: store.query(embedder.embed_query(q), k),
        load_queries(folder),
        load_qrels(folder, "test"),
        depth=10,
    )
    assert scores.queries == 2
    assert scores.ndcg10 == pytest.approx(1.0)
    assert scores.recall100 == pytest.approx(1.0)


def test_missing_data_is_skipped(tmp_path: Path) -> None:
    assert scifact.run_beir(Settings(), tmp_path / "absent") is None


def test_every_configuration_through_the_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("bot.pipeline", reason="query side (bot.load) not written yet")
    folder = make_beir(tmp_path / "beir")
    monkeypatch.setattr(scifact, "BENCH_DIR", tmp_path / "bench")
    results = scifact.run_beir(Settings(), folder)
    assert results, "no retrieval configuration ran"
    for scores in results.values():
        assert scores.recall100 == pytest.approx(1.0)
