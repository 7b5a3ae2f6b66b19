"""`python -m ingest`: --json report on stdout, exit codes 0/1/2, messages without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ingest.cli import cli

KEYS = {"added", "replaced", "skipped", "deleted", "failed", "chunks", "seconds"}
KEYS |= {"overdue", "unreviewed", "sentence_backfill"}
KEYS |= {"without_plain"}


def _run(args: list[str], env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def test_json_report_and_exit_zero(tmp_path: Path, write_record, embedder) -> None:
    folder = write_record("a").parent
    write_record("b")
    store = str(tmp_path / "store")
    result = _run([str(folder), "--store", store, "--collection", "cli-test", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == KEYS
    assert (report["added"], report["chunks"], report["failed"]) == (2, 2, [])
    again = json.loads(
        _run([str(folder), "--store", store, "--collection", "cli-test", "--json"]).stdout
    )
    assert (again["skipped"], again["added"], again["chunks"]) == (2, 0, 0)


def test_failures_exit_one_and_are_listed(tmp_path: Path, write_record, embedder) -> None:
    folder = write_record("a").parent
    (folder / "empty.md").write_bytes(b"")
    result = _run([str(folder), "--store", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["added"] == 1
    assert (
        report["failed"][0]["path"].endswith("empty.md")
        and "empty" in report["failed"][0]["reason"]
    )
    human = _run([str(folder), "--store", str(tmp_path / "s")])
    assert human.exit_code == 1 and "empty.md" in human.stderr and human.stdout == ""


def test_settings_mismatch_exits_two_with_rebuild_hint(
    tmp_path: Path, write_record, embedder
) -> None:
    folder = write_record("a").parent
    store = str(tmp_path / "s")
    assert _run([str(folder), "--store", store]).exit_code == 0
    result = _run([str(folder), "--store", store], env={"PAINBOT_CHUNK_WORDS": "300"})
    assert result.exit_code == 2
    assert "--rebuild" in result.stderr and "Traceback" not in result.output
    rebuilt = _run(
        [str(folder), "--store", store, "--rebuild", "--json"], env={"PAINBOT_CHUNK_WORDS": "300"}
    )
    assert rebuilt.exit_code == 0 and json.loads(rebuilt.stdout)["added"] == 1


def test_no_prune_keeps_removed_sources(tmp_path: Path, write_record, embedder) -> None:
    folder = write_record("a").parent
    gone = write_record("b")
    store = str(tmp_path / "s")
    _run([str(folder), "--store", store])
    gone.unlink()
    kept = json.loads(_run([str(folder), "--store", store, "--no-prune", "--json"]).stdout)
    assert kept["deleted"] == 0
    pruned = json.loads(_run([str(folder), "--store", store, "--json"]).stdout)
    assert pruned["deleted"] == 1


def test_invalid_setting_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(["--store", str(tmp_path)], env={"PAINBOT_CHUNK_WORDS": "many"})
    assert result.exit_code == 2 and "PAINBOT_" in result.output


def test_default_path_is_the_corpus_folder(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "README.md").write_text("# not a record\n", encoding="utf-8")
    (corpus / "x.txt").write_text("A plain note. About pain.", encoding="utf-8")
    result = _run(
        ["--store", str(tmp_path / "s"), "--json"], env={"PAINBOT_CORPUS_DIR": str(corpus)}
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["added"] == 1


def test_bad_collection_name_exits_two(tmp_path: Path, write_record, embedder) -> None:
    folder = write_record("a").parent
    result = _run([str(folder), "--store", str(tmp_path / "s"), "--collection", "x"])
    assert result.exit_code == 2 and "collection name" in result.stderr


def test_ctrl_c_is_a_message_not_a_traceback(tmp_path: Path, monkeypatch) -> None:
    import ingest.index

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest.index, "ingest_paths", interrupted)
    result = _run(["--store", str(tmp_path / "s")])
    assert result.exit_code == 130 and "run the same command again" in result.stderr
