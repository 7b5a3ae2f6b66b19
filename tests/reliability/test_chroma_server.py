"""The store on a Chroma server (Settings.chroma_url): ingest, answer, and replicas sharing it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.pipeline import Bot
from bot.types import Verdict
from ingest.index import ingest_paths

RECORDS = {
    "infusions": "Ketamine infusions can ease some nerve pain for a few weeks. Common side "
    "effects of ketamine infusions are dizziness, nausea and a short rise in blood pressure.",
    "psilocybin": "Psilocybin is being studied for cluster headache and fibromyalgia in small "
    "trials. Psilocybin is not approved for pain.",
}
TINNITUS = "In a small pilot study, a ketamine nasal spray reduced tinnitus loudness for about "
TINNITUS += "two weeks in some adults with chronic tinnitus."


def write_records(folder: Path, records: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for source_id, text in records.items():
        (folder / f"{source_id}.md").write_text(
            f"---\nid: {source_id}\ntitle: About {source_id}\n---\n\n## Summary\n\n{text}\n",
            encoding="utf-8",
        )


def replica(settings: Settings, embedder: Any) -> Bot:
    """One app replica: its own client and store handle on the shared server."""
    import bot

    return bot.load(settings)  # the embedding model is loaded once per process and shared


def test_ingest_and_answer_through_the_server(
    chroma_server: str, tmp_path: Path, embedder: Any
) -> None:
    settings = Settings(
        store_dir=tmp_path / "unused", chroma_url=chroma_server, collection="rel-single"
    )
    write_records(tmp_path / "docs", RECORDS)
    assert ingest_paths(settings, [tmp_path / "docs"], embedder=embedder).added == 2
    assert ingest_paths(settings, [tmp_path / "docs"], embedder=embedder).skipped == 2
    answer = replica(settings, embedder).answer("What are the side effects of ketamine infusions?")
    assert answer.verdict is Verdict.ANSWERED
    assert answer.citations[0].source_id == "infusions"
    assert not (tmp_path / "unused").exists()  # nothing written locally


def test_two_replicas_share_the_store_and_see_a_reingest(
    chroma_server: str, tmp_path: Path, embedder: Any
) -> None:
    settings = Settings(
        store_dir=tmp_path / "unused", chroma_url=chroma_server, collection="rel-replicas"
    )
    folder = tmp_path / "docs"
    write_records(folder, RECORDS)
    ingest_paths(settings, [folder], embedder=embedder)
    replicas = [replica(settings, embedder), replica(settings, embedder)]
    question = "Does ketamine help tinnitus?"
    for bot in replicas:
        assert bot.answer("Is psilocybin approved for pain?").verdict is Verdict.ANSWERED
        assert bot.answer(question).verdict is Verdict.NOT_COVERED

    write_records(folder, {"infusions": RECORDS["infusions"] + " " + TINNITUS})
    report = ingest_paths(settings, [folder], embedder=embedder)  # a third client writes
    assert report.replaced == 1 and report.skipped == 1

    deadline = time.monotonic() + 15  # replicas poll the store's generation every 2 s
    seen = [False, False]
    while not all(seen) and time.monotonic() < deadline:
        for n, bot in enumerate(replicas):
            answer = bot.answer(question)
            seen[n] = answer.verdict is Verdict.ANSWERED and "tinnitus" in answer.text
        time.sleep(0.5)
    assert seen == [True, True]
    for bot in replicas:
        assert bot.stats()["documents"] == 2
        assert bot.stats()["chunks"] == 2  # the old version's chunk was deleted


def test_server_mode_warns_to_keep_the_server_private(
    chroma_server: str, tmp_path: Path, caplog: Any
) -> None:
    """chromadb's HTTP server has unfixed advisories (security/known_issues.toml)."""
    from bot import store

    store._warn_about_server_exposure.cache_clear()
    settings = Settings(store_dir=tmp_path / "unused", chroma_url=chroma_server)
    with caplog.at_level("WARNING", logger="bot.store"):
        store._make_client(settings)
        store._make_client(settings)
    warnings = [r.getMessage() for r in caplog.records if "private network" in r.getMessage()]
    assert len(warnings) == 1 and "never face the internet" in warnings[0]


def test_replicas_read_the_sentence_vectors_ingest_stored_on_the_server(
    chroma_server: str, tmp_path: Path, embedder: Any
) -> None:
    from bot.store import ChunkStore, chunking_signature, record_id
    from tests.ingest.conftest import CountingEmbedder, embedded_passage_texts

    settings = Settings(
        store_dir=tmp_path / "unused",
        cache_dir=tmp_path / "cache",
        chroma_url=chroma_server,
        collection="rel-sentences",
    )
    write_records(tmp_path / "docs", RECORDS)
    ingest_paths(settings, [tmp_path / "docs"], embedder=embedder)
    counting = CountingEmbedder(embedder)
    store = ChunkStore.open(
        settings,
        embedding_model=embedder.model_id,
        dimension=embedder.dimension,
        chunking=chunking_signature(settings),
    )
    assert store.sentence_ids() == {record_id(p) for p in store.all_passages()}
    replica_bot = Bot(settings, counting, store)
    answer = replica_bot.answer("What are the side effects of ketamine infusions?")
    assert answer.verdict is Verdict.ANSWERED
    assert replica_bot.vectors.embedded_at_query == 0
    assert embedded_passage_texts(counting, store) == set()  # neither at load nor answering
    # No sentence vectors made locally: no snapshot needed (the corpus index may be kept).
    assert not (tmp_path / "cache" / "sentence-vectors.npz").exists()
