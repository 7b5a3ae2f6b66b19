"""The keyword index and word counts kept on disk per store generation (bot/corpus_index.py):
written by ingest, read by the next start instead of rebuilt, never read when stale."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot import corpus_index
from bot.config import Settings
from bot.corpus_index import CorpusIndex, load_corpus_index
from bot.lexicon import _ACRONYM, LexiconStats, _acronym_matches, find_acronyms


def _open(settings: Settings, embedder: Any) -> Any:
    from ingest.index import open_store

    return open_store(settings, embedder)


def _folders(settings: Settings) -> list[Path]:
    return sorted(settings.cache_dir.glob(f"{corpus_index.FOLDER}/*/g*"))


def _no_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(cls: Any, *args: Any) -> Any:
        raise AssertionError("the corpus index was rebuilt")

    monkeypatch.setattr(CorpusIndex, "build", classmethod(refuse))


def _ingest(settings: Settings, embedder: Any, path: Path) -> None:
    from ingest.index import ingest_paths

    report = ingest_paths(settings, [path], embedder=embedder)
    assert not report.failed, report.failed


def test_ingest_writes_it_and_a_start_reads_it_instead_of_rebuilding(
    settings: Settings, write_record, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot as painbot

    findings = "Ketamine blocks N-methyl-D-aspartate (NMDA) receptors. Ketamine infusions "
    path = write_record("a", {"Findings": findings + "eased nerve pain for weeks."})
    _ingest(settings, embedder, path.parent)
    store = _open(settings, embedder)
    [folder] = _folders(settings)
    assert folder.name == f"g{store.generation()}"
    built = CorpusIndex.build(store.all_passages(), store.generation())

    _no_builds(monkeypatch)
    engine = painbot.load(settings)
    read = engine.retriever.corpus
    assert read.passages == built.passages and read.stats == built.stats
    assert read.stats.acronyms == {"nmda": "n-methyl-d-aspartate"}
    query = "ketamine infusions nerve pain"
    assert [(p.chunk_id, round(p.score, 6)) for p in read.keyword.search(query, 5)] == [
        (p.chunk_id, round(p.score, 6)) for p in built.keyword.search(query, 5)
    ]
    assert "weeks" in engine.answer("Did ketamine infusions ease nerve pain?").text


def test_a_stale_index_is_never_read_after_the_store_changes(
    settings: Settings, write_record, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_record("a", {"Findings": "Ketamine infusions eased nerve pain for weeks."})
    _ingest(settings, embedder, path.parent)
    store = _open(settings, embedder)
    old = load_corpus_index(store, settings.cache_dir)

    # Another process changes the store and does not write the new generation's index
    # (it crashed, or is an older version): the old files must not be taken for it.
    monkeypatch.setattr("ingest.index.write_corpus_index", lambda *args: False)
    write_record("b", {"Findings": "Psilocybin eased cluster headaches in a small trial."})
    _ingest(settings, embedder, path.parent)
    fresh = load_corpus_index(store, settings.cache_dir)
    assert fresh.generation > old.generation
    assert {p.source_id for p in fresh.passages} == {"a", "b"}
    assert [p.source_id for p in fresh.keyword.search("psilocybin cluster headaches", 3)] == ["b"]
    assert fresh.stats.n_docs == len(fresh.passages) > old.stats.n_docs
    # The new generation's files replace the old ones.
    assert [f.name for f in _folders(settings)] == [f"g{fresh.generation}"]


def test_a_running_bot_takes_the_new_generation_after_a_reingest(
    settings: Settings, write_record, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot as painbot

    path = write_record("a", {"Findings": "Ketamine infusions eased nerve pain for weeks."})
    _ingest(settings, embedder, path.parent)
    engine = painbot.load(settings.model_copy(update={"answer_cache": False}))
    write_record("b", {"Findings": "Psilocybin eased cluster headaches in a small trial."})
    _ingest(settings, embedder, path.parent)  # writes the new generation's index too
    _no_builds(monkeypatch)
    monkeypatch.setattr(engine, "_checked", 0.0)  # let the bot look for the change now
    assert engine.refresh_if_changed()
    assert [p.source_id for p in engine.search("psilocybin cluster headaches", 1)] == ["b"]


def test_an_unreadable_index_is_rebuilt(
    settings: Settings, write_record, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_record("a", {"Findings": "Ketamine infusions eased nerve pain for weeks."})
    _ingest(settings, embedder, path.parent)
    store = _open(settings, embedder)
    [folder] = _folders(settings)
    (folder / "passages.json").write_text('[["cut short', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.corpus_index"):
        rebuilt = load_corpus_index(store, settings.cache_dir)
    assert "rebuilding it" in caplog.text
    assert [p.source_id for p in rebuilt.passages] == ["a"]
    # ... and written again, whole.
    assert load_corpus_index(store, settings.cache_dir).passages == rebuilt.passages


def test_a_rebuilt_store_does_not_reuse_the_old_store_files(
    settings: Settings, write_record, embedder
) -> None:
    from ingest.index import ingest_paths

    path = write_record("a", {"Findings": "Ketamine infusions eased nerve pain for weeks."})
    _ingest(settings, embedder, path.parent)
    before = _folders(settings)
    # A rebuilt store counts its generations from the start again.
    write_record("a", {"Findings": "Esketamine spray eased depression within a day."})
    ingest_paths(settings, [path.parent], embedder=embedder, rebuild=True)
    store = _open(settings, embedder)
    index = load_corpus_index(store, settings.cache_dir)
    assert "Esketamine" in index.passages[0].text
    assert {f.parent for f in _folders(settings)} != {f.parent for f in before}


def test_a_store_without_identity_is_indexed_in_memory_only(tmp_path: Path) -> None:
    from bot.types import Passage

    class FakeStore:
        def generation(self) -> int:
            return 3

        def all_passages(self) -> list[Passage]:
            return [Passage("c1", "s1", "Ketamine eased pain.", "", 0.0, {"version": "v"})]

    index = load_corpus_index(FakeStore(), tmp_path)
    assert index.generation == 3 and len(index.passages) == 1
    assert not list(tmp_path.iterdir())


def test_lexicon_stats_survive_json() -> None:
    stats = LexiconStats.of(
        ["Complex regional pain syndrome (CRPS) responds to ketamine.", "Pain, pain."]
    )
    assert LexiconStats.from_json(stats.to_json()) == stats
    assert stats.acronyms == {"crps": "complex regional pain syndrome"}


_PIECES = [*"abcAB (-)_.,1é\n", "CRPS", "(NMDA)", " (Ab) ", "x-y ", "Chronic Pain "]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@hypothesis_settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_acronyms_are_found_where_the_plain_pattern_finds_them(text: str) -> None:
    assert [m.span() for m in _acronym_matches(text)] == [m.span() for m in _ACRONYM.finditer(text)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "Complex regional pain syndrome (CRPS) responds.",
            {"crps": "complex regional pain syndrome"},
        ),
        ("Patients with optic neuritis (ON) were seen.", {}),  # "on" is an everyday word
        ("The World Health Organization (WHO) says so.", {}),
        ("Regulatory T (Treg) cells rose.", {}),  # "t" is not a long form of "treg"
    ],
)
def test_acronyms_that_would_match_everyday_words_are_left_out(
    text: str, found: dict[str, str]
) -> None:
    assert find_acronyms([text]) == found


def test_a_question_gets_the_long_form_of_an_acronym_only_for_whole_words() -> None:
    from bot.lexicon import Lexicon

    lexicon = Lexicon(["Babies of low birth weight (LBW) need care.", "Optic neuritis (ON)."])
    assert lexicon.expand("is lbw common?") == "is lbw common? (low birth weight)"
    assert lexicon.expand("what about low birth weight?").endswith("(LBW)")
    assert lexicon.expand("what happens on the day?") == "what happens on the day?"
    assert lexicon.expand("lbwx and slow birth weights") == "lbwx and slow birth weights"


def test_the_files_of_a_deleted_store_go_when_another_store_writes(
    settings: Settings, write_record, embedder, tmp_path: Path
) -> None:
    import shutil

    path = write_record("a", {"Findings": "Ketamine infusions eased nerve pain for weeks."})
    other = settings.model_copy(update={"store_dir": tmp_path / "other-store"})
    _ingest(other, embedder, path.parent)
    [gone] = {f.parent for f in _folders(other)}
    shutil.rmtree(other.store_dir)
    _ingest(settings, embedder, path.parent)
    assert gone not in {f.parent for f in _folders(settings)} and len(_folders(settings)) == 1
