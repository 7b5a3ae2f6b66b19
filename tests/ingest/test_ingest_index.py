"""Incremental ingest on a real Chroma store with the real model: skip, replace, delete, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.errors import StoreMismatchError, StoreMissingError
from bot.store import ChunkStore
from ingest.chunk import chunking_signature
from ingest.index import ingest_paths


def _open(settings: Settings, embedder) -> ChunkStore:
    return ChunkStore.open(
        settings,
        embedding_model=embedder.model_id,
        dimension=embedder.dimension,
        chunking=chunking_signature(settings),
    )


def test_reingest_unchanged_embeds_nothing(settings: Settings, write_record, counting) -> None:
    folder = write_record("a").parent
    write_record("b")
    first = ingest_paths(settings, [folder], embedder=counting)
    assert (first.added, first.skipped, first.chunks) == (2, 0, 2)
    embedded = counting.texts
    assert embedded == 2 + 2  # 2 chunks and their sentences (one each: "record a." is no end)
    again = ingest_paths(settings, [folder], embedder=counting)
    assert (again.added, again.replaced, again.skipped, again.deleted) == (0, 0, 2, 0)
    assert again.chunks == 0 and counting.texts == embedded


def test_changed_document_replaces_exactly_its_chunks(
    settings: Settings, write_record, counting
) -> None:
    folder = write_record("a").parent
    write_record("b")
    ingest_paths(settings, [folder], embedder=counting)
    store = _open(settings, counting)
    before = store.sources()
    write_record("a", {"New": "Completely new wording about infusions. A second sentence here."})
    report = ingest_paths(settings, [folder], embedder=counting)
    assert (report.replaced, report.skipped, report.added) == (1, 1, 0)
    after = store.sources()
    assert after["b"] == before["b"]
    assert after["a"].version != before["a"].version
    texts = {p.chunk_id: (p.text, p.section) for p in store.all_passages()}
    assert texts["a:0"] == (
        "Completely new wording about infusions. A second sentence here.",
        "New",
    )
    assert store.stats()["chunks"] == 2  # the old version's record is gone, not just hidden


def test_removed_document_is_deleted_only_from_its_folder(
    settings: Settings,
    write_record,
    counting,
    tmp_path: Path,
) -> None:
    folder = write_record("a").parent
    gone = write_record("b")
    single = tmp_path / "single.txt"
    single.write_text("A lone file. Ingested by name.", encoding="utf-8")
    ingest_paths(settings, [folder], embedder=counting)
    ingest_paths(settings, [single], embedder=counting)
    gone.unlink()
    report = ingest_paths(settings, [folder], embedder=counting)
    assert report.deleted == 1
    store = _open(settings, counting)
    assert set(store.sources()) == {"a", "single"}
    assert {p.source_id for p in store.all_passages()} == {"a", "single"}
    kept = ingest_paths(settings, [folder], embedder=counting, prune=False)
    assert kept.deleted == 0


def test_unreadable_file_keeps_its_last_good_version(
    settings: Settings, write_record, counting
) -> None:
    path = write_record("a")
    ingest_paths(settings, [path.parent], embedder=counting)
    path.write_bytes(b"")
    report = ingest_paths(settings, [path.parent], embedder=counting)
    assert report.deleted == 0 and "empty" in report.failed[0]["reason"]
    assert "a" in _open(settings, counting).sources()


def test_chunks_carry_citation_metadata(settings: Settings, write_record, counting) -> None:
    folder = write_record(
        "pmid-1",
        short_citation="Cohen et al., 2018",
        year=2018,
        url="https://pubmed.ncbi.nlm.nih.gov/1/",
        verification="identity verified",
        journal="Pain",
        authors="[Cohen SP, Bhatia A]",
    ).parent
    ingest_paths(settings, [folder], embedder=counting)
    store = _open(settings, counting)
    passage = store.query(counting.embed_query("ketamine"), 1)[0]
    meta = passage.metadata
    assert (passage.chunk_id, passage.source_id, passage.section) == (
        "pmid-1:0",
        "pmid-1",
        "Summary",
    )
    assert meta["short_citation"] == "Cohen et al., 2018" and meta["year"] == 2018
    assert meta["authors"] == "Cohen SP, Bhatia A" and meta["kind"] == "reference"
    assert meta["verification"] == "identity verified" and meta["journal"] == "Pain"
    assert meta["title"] == "Title of pmid-1" and meta["index"] == 0
    assert 0 < passage.similarity <= 1 and passage.score == passage.similarity


def test_model_or_chunking_mismatch_is_a_clear_error(
    settings: Settings, write_record, counting
) -> None:
    folder = write_record("a").parent
    ingest_paths(settings, [folder], embedder=counting)
    with pytest.raises(StoreMismatchError, match="--rebuild"):
        ChunkStore.open(settings, embedding_model="other/model", dimension=768, chunking="x")
    resized = settings.model_copy(update={"chunk_words": 300})
    with pytest.raises(StoreMismatchError, match="chunking"):
        ingest_paths(resized, [folder], embedder=counting)
    rebuilt = ingest_paths(resized, [folder], embedder=counting, rebuild=True)
    assert rebuilt.added == 1
    assert _open(resized, counting).stats()["chunking"] == "sentences-v1:300w/40o"


def test_missing_store_says_to_ingest(settings: Settings, counting) -> None:
    with pytest.raises(StoreMissingError, match="python -m ingest"):
        _open(settings, counting)


def test_failure_mid_replace_keeps_old_version_then_recovers(
    settings: Settings,
    write_record,
    counting,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_record("a", {"Old": "The old text about ketamine dosing."})
    ingest_paths(settings, [path.parent], embedder=counting)
    store = _open(settings, counting)
    old_version = store.sources()["a"].version

    # Crash after the new chunks were added but before the manifest switches to them.
    manifest = store._manifest
    collection_type = type(manifest)
    real_upsert = collection_type.upsert

    def failing_upsert(self, *args, **kwargs):
        if self.name.endswith("__sources"):
            raise RuntimeError("simulated crash")
        return real_upsert(self, *args, **kwargs)

    monkeypatch.setattr(collection_type, "upsert", failing_upsert)
    write_record("a", {"New": "The new text about infusion safety."})
    crashed = ingest_paths(settings, [path.parent], embedder=counting)
    assert crashed.failed and "simulated crash" in crashed.failed[0]["reason"]
    assert store.stats()["chunks"] == 2  # the new version's chunk is there, unreferenced
    assert store.sources()["a"].version == old_version
    assert [p.text for p in store.all_passages()] == ["The old text about ketamine dosing."]
    hits = store.query(counting.embed_query("infusion safety"), 5)
    assert [p.text for p in hits] == ["The old text about ketamine dosing."]

    monkeypatch.undo()
    recovered = ingest_paths(settings, [path.parent], embedder=counting)
    assert recovered.replaced == 1 and not recovered.failed
    assert [p.text for p in store.all_passages()] == ["The new text about infusion safety."]
    assert store.stats()["chunks"] == 1


def test_sweep_removes_orphans_left_by_a_crash(
    settings: Settings, write_record, counting, monkeypatch
) -> None:
    path = write_record("a")
    ingest_paths(settings, [path.parent], embedder=counting)
    store = _open(settings, counting)
    monkeypatch.setattr(ChunkStore, "_bump_generation", lambda self: None)
    # Simulate a crash after step 2 (manifest switched) but before step 3 (old deleted).
    real_delete = type(store._chunks).delete
    monkeypatch.setattr(type(store._chunks), "delete", lambda self, *a, **k: None)
    write_record("a", {"New": "Different text now."})
    ingest_paths(settings, [path.parent], embedder=counting)
    assert store.stats()["chunks"] == 2
    assert [p.text for p in store.all_passages()] == ["Different text now."]
    monkeypatch.setattr(type(store._chunks), "delete", real_delete)
    assert store.sweep() == 1 and store.stats()["chunks"] == 1


def test_generation_moves_on_change_only(settings: Settings, write_record, counting) -> None:
    folder = write_record("a").parent
    ingest_paths(settings, [folder], embedder=counting)
    store = _open(settings, counting)
    first = store.generation()
    ingest_paths(settings, [folder], embedder=counting)
    assert store.generation() == first
    write_record("b")
    ingest_paths(settings, [folder], embedder=counting)
    assert store.generation() > first


def test_ids_are_stable_across_fresh_stores(tmp_path: Path, write_record, counting) -> None:
    folder = write_record(
        "a", {"S": " ".join(f"Sentence {i} about pain relief." for i in range(80))}
    ).parent
    ids = []
    for name in ("one", "two"):
        settings = Settings(store_dir=tmp_path / name)
        ingest_paths(settings, [folder], embedder=counting)
        ids.append(
            [(p.chunk_id, p.metadata["version"]) for p in _open(settings, counting).all_passages()]
        )
    assert ids[0] == ids[1] and len(ids[0]) > 1
    assert [c for c, _ in ids[0]] == [f"a:{i}" for i in range(len(ids[0]))]


def test_manifest_keeps_front_matter(settings: Settings, write_record, counting) -> None:
    path = write_record("a", doi="10.1/x")
    ingest_paths(settings, [path.parent], embedder=counting)
    record = _open(settings, counting).sources()["a"]
    assert record.metadata["doi"] == "10.1/x" and record.path == str(path.resolve())
    assert record.chunk_count == 1 and record.version == record.content_hash[:12]
    json.dumps(record.metadata)


def test_real_corpus_store(corpus_settings: Settings, embedder) -> None:
    store = _open(corpus_settings, embedder)
    stats = store.stats()
    assert stats["documents"] == 8 and stats["chunks"] >= 20
    top = store.query(embedder.embed_query("stigma of psychedelic treatments and education"), 3)
    assert top[0].section == "Challenges and Future Directions"
    assert top[0].chunk_id.startswith("article:")
    assert len(store.all_passages()) == stats["chunks"]


def test_mixed_folder_of_every_kind(settings: Settings, tmp_path: Path, counting) -> None:
    import shutil

    folder = tmp_path / "mixed"
    folder.mkdir()
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
    shutil.copy(fixtures / "leaflet.pdf", folder)
    shutil.copy(fixtures / "page.html", folder)
    (folder / "note.txt").write_text("Rest after an infusion. Drink water.", encoding="utf-8")
    rows = [
        {"_id": "d1", "title": "Doc one", "text": "Alpha."},
        {"_id": "d2", "title": "", "text": "Beta."},
    ]
    (folder / "corpus.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\n{bad\n", encoding="utf-8"
    )
    report = ingest_paths(settings, [folder], embedder=counting)
    assert report.added == 5 and [f["path"] for f in report.failed] == [
        f"{folder / 'corpus.jsonl'}:3"
    ]
    store = _open(settings, counting)
    assert set(store.sources()) == {"leaflet", "page", "note", "d1", "d2"}
    html_sections = {p.section for p in store.all_passages() if p.source_id == "page"}
    assert html_sections == {"Ketamine clinic guide", "Before the infusion", "After the infusion"}
    # a bad line does not make prune delete what came from that file before
    (folder / "corpus.jsonl").write_text(json.dumps(rows[0]) + "\n{bad\n", encoding="utf-8")
    again = ingest_paths(settings, [folder], embedder=counting)
    assert again.deleted == 0 and "d2" in store.sources()


def test_moved_folder_updates_paths_without_embedding(
    settings: Settings, write_record, counting, tmp_path: Path
) -> None:
    folder = write_record("a").parent
    ingest_paths(settings, [folder], embedder=counting)
    embedded = counting.texts
    moved = folder.rename(tmp_path / "moved")
    report = ingest_paths(settings, [moved], embedder=counting)
    assert (report.skipped, report.deleted, counting.texts) == (1, 0, embedded)
    store = _open(settings, counting)
    assert store.sources()["a"].path == str((moved / "a.md").resolve())
    assert [p.source_id for p in store.all_passages()] == ["a"]


def _ingest_in_another_process(settings: Settings, folder: Path) -> dict[str, object]:
    """`python -m ingest FOLDER` into the test's store, as a maintainer runs it beside the app;
    its JSON report."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "ingest", str(folder), "--store", str(settings.store_dir), "--json"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_reader_sees_changes_made_by_another_process(
    settings: Settings, write_record, counting
) -> None:
    folder = write_record("a", {"S": "Ketamine raises blood pressure briefly."}).parent
    ingest_paths(settings, [folder], embedder=counting)
    reader = _open(settings, counting)
    question = counting.embed_query("psilocybin for migraine headaches")
    assert [p.chunk_id for p in reader.query(question, 2)] == ["a:0"]
    write_record("b", {"S": "Psilocybin was tried for migraine headaches."})
    assert _ingest_in_another_process(settings, folder)["added"] == 1
    assert [p.chunk_id for p in reader.query(question, 2)] == ["b:0", "a:0"]
    assert {p.chunk_id for p in reader.all_passages()} == {"a:0", "b:0"}


def _count_reads(store: ChunkStore, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """Records each read of the chunk count and of the generation (the manifest's metadata)."""
    reads: list[str] = []
    count, metadata = store._chunks.count, store._manifest_metadata
    monkeypatch.setattr(store._chunks, "count", lambda: reads.append("count") or count())
    monkeypatch.setattr(
        store, "_manifest_metadata", lambda: reads.append("generation") or metadata()
    )
    return reads


def test_a_quiet_store_is_not_read_again_until_its_files_change(
    settings: Settings, write_record, counting, monkeypatch
) -> None:
    import bot.store

    folder = write_record("a", {"S": "Ketamine raises blood pressure briefly."}).parent
    ingest_paths(settings, [folder], embedder=counting)
    reader = _open(settings, counting)
    question = counting.embed_query("psilocybin for migraine headaches")
    reads = _count_reads(reader, monkeypatch)
    monkeypatch.setattr(bot.store, "QUIET_S", 3600.0)  # files changed within it: not quiet
    reader.query(question, 2)
    assert reads == ["generation", "count"]  # read every time
    reader.query(question, 2)
    assert reads == ["generation", "count"] * 2

    monkeypatch.setattr(bot.store, "QUIET_S", 0.0)  # files untouched since count as quiet now
    reader.query(question, 2)
    reads.clear()
    assert [p.chunk_id for p in reader.query(question, 2)] == ["a:0"]
    assert reads == []

    write_record("b", {"S": "Psilocybin was tried for migraine headaches."})
    assert _ingest_in_another_process(settings, folder)["added"] == 1
    # Another process wrote: the files changed, so the reader reads and reopens at once.
    assert [p.chunk_id for p in reader.query(question, 2)] == ["b:0", "a:0"]
    assert "generation" in reads


def test_query_skips_a_record_deleted_while_it_was_read(
    settings: Settings, write_record, counting, monkeypatch
) -> None:
    """Seen under load: during a re-ingest in another process Chroma returned a hit whose
    metadata and text were already gone (None), and the query raised AttributeError."""
    folder = write_record("a").parent
    write_record("b")
    ingest_paths(settings, [folder], embedder=counting)
    store = _open(settings, counting)
    real_query = store._chunks.query

    def half_deleted(**kwargs):  # type: ignore[no-untyped-def]
        result = real_query(**kwargs)
        result["metadatas"][0][0] = None
        result["documents"][0][0] = None
        return result

    monkeypatch.setattr(store._chunks, "query", half_deleted)
    vector = counting.embed_query("record")
    passages = store.query(vector, 2)
    assert len(passages) == 1 and passages[0].text


def test_nearest_gives_the_ids_and_similarities_of_query_and_skips_what_keep_refuses(
    corpus_settings: Settings, embedder
) -> None:
    """An answer's dense search (Store.nearest, passages from the corpus index) finds what a
    full query does, reading only ids and distances."""
    from bot.store import record_id
    from ingest.index import open_store

    store = open_store(corpus_settings, embedder)
    vector = embedder.embed_query("side effects of ketamine infusions")
    full = store.query(vector, 8)
    hits = store.nearest(vector, 8, lambda _record: True)
    assert [rid for rid, _ in hits] == [record_id(p) for p in full]
    assert np.allclose([s for _, s in hits], [p.similarity for p in full], atol=1e-6)
    refused = record_id(full[0])
    kept = store.nearest(vector, 8, lambda record: record != refused)
    assert len(kept) == 8 and refused not in {rid for rid, _ in kept}
