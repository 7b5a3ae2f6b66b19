"""Ingest killed at random points, or failing writes (disk full): the store stays consistent.

Consistent means: the store opens; every manifest entry names a version of its document that
some run really wrote (the old or the new one), and all of that version's chunks are there and
nothing else of the source is visible; a query works; the next ingest completes and the bot
answers from the current files.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.store import ChunkStore, chunking_signature
from bot.types import Verdict
from ingest.index import content_hash, ingest_paths
from ingest.load import load_documents

ROOT = Path(__file__).resolve().parents[2]
REVISIONS = ("A", "B")


def set_revision(folder: Path, originals: dict[Path, str], revision: str) -> None:
    """Give every record a closing line that differs between revision A and B."""
    for path, text in originals.items():
        path.write_text(f"{text.rstrip()}\n\nThis copy is revision {revision}.\n", "utf-8")


def versions_of(folder: Path, settings: Settings) -> dict[str, str]:
    chunking = chunking_signature(settings)
    loaded = load_documents([folder])
    return {d.source_id: content_hash(d, chunking)[:12] for d, _ in loaded.documents}


def open_fresh(settings: Settings, embedder: Any) -> ChunkStore:
    """Open the store as a new process would: drop Chroma's per-folder cache for this folder."""
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(settings.store_dir)
    SharedSystemClient._identifier_to_system.pop(key, None)
    SharedSystemClient._identifier_to_refcount.pop(key, None)
    return ChunkStore.open(
        settings,
        embedding_model=embedder.model_id,
        dimension=embedder.dimension,
        chunking=chunking_signature(settings),
    )


def assert_consistent(
    settings: Settings, embedder: Any, allowed: dict[str, set[str]]
) -> dict[str, str]:
    """The invariants above; returns the live version of each source."""
    store = open_fresh(settings, embedder)
    sources = store.sources()
    assert set(sources) == set(allowed)
    visible: dict[str, list[Any]] = defaultdict(list)
    for passage in store.all_passages():
        visible[passage.source_id].append(passage)
    for source_id, record in sources.items():
        assert record.version in allowed[source_id], (source_id, record.version)
        passages = visible[source_id]
        assert {p.metadata["version"] for p in passages} == {record.version}
        assert sorted(int(p.metadata["index"]) for p in passages) == list(
            range(record.chunk_count)
        ), source_id
    hits = store.query(embedder.embed_query("side effects of ketamine infusions"), 5)
    assert len(hits) == min(5, sum(r.chunk_count for r in sources.values())) and all(
        sources[h.source_id].version == h.metadata["version"] for h in hits
    )
    return {source_id: record.version for source_id, record in sources.items()}


def assert_recovers(settings: Settings, folder: Path, embedder: Any, *, answer: bool) -> None:
    """The next ingest completes, leaves no orphans, matches the files, and the bot answers."""
    from bot.pipeline import Bot

    report = ingest_paths(settings, [folder], embedder=embedder)
    assert not report.failed, report.failed
    store = open_fresh(settings, embedder)
    current = versions_of(folder, settings)
    assert {sid: r.version for sid, r in store.sources().items()} == current
    assert store.stats()["chunks"] == sum(r.chunk_count for r in store.sources().values())
    if not answer:
        return
    reply = Bot(settings, embedder, store).answer("What are the side effects of ketamine?")
    assert reply.verdict is Verdict.ANSWERED and reply.citations


def store_mtime(store_dir: Path) -> tuple[int, ...]:
    return tuple(
        sorted(p.stat().st_mtime_ns for p in store_dir.rglob("*") if p.is_file())
        if store_dir.exists()
        else ()
    )


def kill_ingest_once(folder: Path, settings: Settings, rng: random.Random, mode: str) -> str:
    """Run `python -m ingest` and SIGKILL it; returns what happened ('killed...' or 'finished').

    mode 'writes': kill a random 0-400 ms after the store's files first change (the write
    phase); mode 'anytime': kill at a random moment of a typical whole run (0-12 s).
    """
    env = {
        **os.environ,
        "PAINBOT_STORE_DIR": str(settings.store_dir),
        "PAINBOT_CORPUS_DIR": str(folder),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    before = store_mtime(settings.store_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "ingest", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if mode == "writes":
            deadline = time.monotonic() + 120
            while process.poll() is None and store_mtime(settings.store_dir) == before:
                assert time.monotonic() < deadline, "ingest wrote nothing for 2 minutes"
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.4))
        else:
            time.sleep(rng.uniform(0, 12))
        if process.poll() is not None:
            return "finished"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        wrote = store_mtime(settings.store_dir) != before
        return "killed while writing" if wrote else "killed before writing"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def revisions_of(
    folder: Path, tmp_path: Path
) -> tuple[dict[Path, str], Settings, dict[str, set[str]]]:
    """The folder's original texts, settings for a store beside it, and every version id
    each source can have across REVISIONS (the only versions a consistent store may hold)."""
    originals = {p: p.read_text("utf-8") for p in sorted(folder.rglob("*.md"))}
    settings = Settings(store_dir=tmp_path / "chroma", corpus_dir=folder)
    versions: dict[str, set[str]] = defaultdict(set)
    for revision in REVISIONS:
        set_revision(folder, originals, revision)
        for source_id, version in versions_of(folder, settings).items():
            versions[source_id].add(version)
    return originals, settings, versions


def run_kills(tmp_path: Path, embedder: Any, kills: int, seed: int) -> dict[str, Any]:
    folder = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", folder)
    originals, settings, versions = revisions_of(folder, tmp_path)
    set_revision(folder, originals, "A")
    assert not ingest_paths(settings, [folder], embedder=embedder).failed

    rng = random.Random(seed)
    outcomes: dict[str, int] = defaultdict(int)
    states: dict[str, int] = defaultdict(int)  # after the kill: all old, all new or some each
    for number in range(kills):
        set_revision(folder, originals, REVISIONS[(number + 1) % 2])
        wanted = versions_of(folder, settings)
        mode = "writes" if number % 4 != 3 else "anytime"
        outcomes[kill_ingest_once(folder, settings, rng, mode)] += 1
        live = assert_consistent(settings, embedder, versions)
        new = sum(live[sid] == wanted[sid] for sid in live)
        states["all new" if new == len(live) else "all old" if new == 0 else "some new"] += 1
    assert_recovers(settings, folder, embedder, answer=True)
    return {"kills": kills, "outcomes": dict(outcomes), "store_after_kill": dict(states)}


def test_sigkill_during_ingest_keeps_store_consistent(tmp_path: Path, embedder: Any) -> None:
    result = run_kills(tmp_path, embedder, kills=2, seed=1)
    assert sum(result["outcomes"].values()) == 2


@pytest.mark.slow
def test_sigkill_100_times(tmp_path: Path, embedder: Any) -> None:
    result = run_kills(tmp_path, embedder, kills=100, seed=int(os.environ.get("KILL_SEED", "7")))
    print("\nkill summary:", json.dumps(result))
    assert result["outcomes"].get("killed while writing", 0) >= 30


# --- full disk: every write to the store fails once, in turn ---------------------------------
WRITE_METHODS = ("add", "upsert", "update", "delete", "modify")
SMALL = {
    "infusions": "Ketamine infusions can ease some nerve pain. Side effects include dizziness.",
    "psilocybin": "Psilocybin is being studied for cluster headache and fibromyalgia.",
    "safety": "Ketamine raises blood pressure for a short time. Nausea is common.",
}


def failing_writes(monkeypatch: pytest.MonkeyPatch, fail_at: int) -> list[str]:
    """Make the fail_at-th write call to any collection raise ENOSPC; returns the call log."""
    from chromadb.api.models.Collection import Collection

    calls: list[str] = []
    for name in WRITE_METHODS:
        real = getattr(Collection, name)

        def write(self: Any, *args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls.append(f"{self.name}.{_name}")
            if len(calls) == fail_at:
                raise OSError(errno.ENOSPC, "No space left on device")
            return _real(self, *args, **kw)

        monkeypatch.setattr(Collection, name, write)
    return calls


def test_disk_full_at_every_write_keeps_store_consistent(
    tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "corpus"  # small records: the write sequence is the same, only faster
    folder.mkdir()
    for name, text in SMALL.items():
        (folder / f"{name}.md").write_text(f"---\nid: {name}\n---\n\n## Summary\n\n{text}\n")
    originals, settings, versions = revisions_of(folder, tmp_path)

    set_revision(folder, originals, "A")
    ingest_paths(settings, [folder], embedder=embedder)
    set_revision(folder, originals, "B")
    with monkeypatch.context() as patch:  # count the writes of one clean re-ingest
        calls = failing_writes(patch, fail_at=0)
        ingest_paths(settings, [folder], embedder=embedder)
    writes = len(calls)
    assert writes >= 3, calls
    print(f"\n{writes} store writes per re-ingest: {calls}")

    failures = 0
    for fail_at in range(1, writes + 1):
        set_revision(folder, originals, "A")  # a clean run first, so the next one has work
        assert not ingest_paths(settings, [folder], embedder=embedder).failed
        set_revision(folder, originals, "B")
        with monkeypatch.context() as patch:
            failing_writes(patch, fail_at)
            try:
                report = ingest_paths(settings, [folder], embedder=embedder)
            except OSError as exc:  # a write outside the per-batch guard: the run stops
                assert exc.errno == errno.ENOSPC
                failures += 1
            else:
                failures += bool(report.failed)
        assert_consistent(settings, embedder, versions)
    assert failures == writes  # every injected failure was noticed
    assert_recovers(settings, folder, embedder, answer=False)
