"""`python -m bot`: answers, search and feedback export on the real corpus; clear store errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import prompts
from bot.cli import main
from bot.feedback import FeedbackStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store_args(corpus_settings, corpus_bot, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """--store for the corpus store; loading it reuses the session's bot (loading costs ~10 s)."""
    import bot

    real_load = bot.load

    def load(settings):  # type: ignore[no-untyped-def]
        if settings.store_dir == corpus_settings.store_dir:
            assert settings.collection == corpus_settings.collection
            return corpus_bot
        return real_load(settings)

    monkeypatch.setattr(bot, "load", load)
    return ["--store", str(corpus_settings.store_dir)]


def test_ask_plain_text_shows_answer_sources_and_disclaimer(store_args, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["ask", "Is ketamine good for CRPS?", *store_args]) == 0
    out = capsys.readouterr().out
    assert prompts.LEAD_VERIFIED in out and "[1]" in out
    sources = out.split("Sources:\n", 1)[1]
    assert sources.startswith("[1] ") and "https://" in sources
    assert out.rstrip().endswith(prompts.DISCLAIMER)


def test_ask_json_with_history_resolves_the_follow_up(store_args, capsys) -> None:  # type: ignore[no-untyped-def]
    # The global option before the sub-command works as well as after it.
    args = [*store_args, "ask", "What about its side effects?", "--json"]
    assert main([*args, "--history", "Is ketamine good for CRPS?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["verdict"] == "answered" and answer["citations"]
    assert answer["disclaimer"] == prompts.DISCLAIMER


def test_ask_questions_file_prints_one_json_per_line(store_args, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"question": "Is ketamine good for CRPS?", "id": "q1"}\n\n'
        '{"question": "I want to end my life"}\n'
    )
    assert main(["ask", "--questions", str(questions), *store_args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert (first["id"], first["verdict"]) == ("q1", "answered")
    assert second["verdict"] == "crisis" and second["text"] == prompts.CRISIS_REPLY


def test_search_json_and_k(store_args, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["search", "ketamine CRPS", "--k", "3", "--json", *store_args]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert len(passages) == 3
    assert {"chunk_id", "source_id", "score", "text"} <= set(passages[0])
    assert main(["search", "ketamine CRPS", *store_args]) == 0
    assert capsys.readouterr().out.startswith("[1] ")


def test_batch_search_prints_one_line_per_query(
    store_args, corpus_bot, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    queries = tmp_path / "queries.jsonl"
    rows = [
        {"_id": "q1", "text": "ketamine CRPS", "metadata": {}},  # BEIR
        {"id": 7, "question": "psilocybin for chronic pain"},
        {"_id": "q3", "text": "side effects of esketamine nasal spray"},
    ]
    queries.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert main(["search", "--queries", str(queries), "-k", "5", "--json", *store_args]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query_id"] for line in lines] == ["q1", "7", "q3"]
    for row, line in zip(rows, lines, strict=True):
        assert set(line) == {"query_id", "results"}
        results = line["results"]
        assert [r["rank"] for r in results] == list(range(1, 6))
        assert {"chunk_id", "source_id", "score", "text"} <= set(results[0])
        text = str(row.get("text", row.get("question")))
        assert [r["chunk_id"] for r in results] == [p.chunk_id for p in corpus_bot.search(text, 5)]


@pytest.mark.parametrize(
    "line",
    ['{"_id": "q1"}', '{"text": "no id"}', "not json", '["a list"]'],
)
def test_batch_search_says_which_line_is_wrong(
    store_args, tmp_path: Path, capsys, line: str
) -> None:  # type: ignore[no-untyped-def]
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"_id": "ok", "text": "ketamine"}\n' + line + "\n", encoding="utf-8")
    assert main(["search", "--queries", str(queries), *store_args]) == 2
    assert "line 2" in capsys.readouterr().err


def test_search_needs_a_query_or_a_file(store_args, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["search", *store_args]) == 2
    assert "--queries" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("make_store", "hint"),
    [
        (lambda tmp: tmp / "nowhere", "python -m ingest"),
        (lambda tmp: tmp, "python -m ingest"),  # an existing folder without the collection
    ],
)
def test_missing_store_exits_two_with_a_hint(make_store, hint, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["ask", "Is ketamine good for CRPS?", "--store", str(make_store(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert hint in err and "Traceback" not in err


def test_empty_collection_exits_two(settings, embedder, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.store import ChunkStore, chunking_signature

    ChunkStore.open(
        settings,
        embedding_model=embedder.model_id,
        dimension=embedder.dimension,
        chunking=chunking_signature(settings),
        create=True,
    )
    assert main(["search", "ketamine", "--store", str(settings.store_dir)]) == 2
    assert "empty" in capsys.readouterr().err


def test_usage_errors_exit_two(store_args, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["ask", *store_args]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": 1}\n')
    assert main(["ask", "--questions", str(bad), *store_args]) == 2
    assert "line 1" in capsys.readouterr().err
    assert main(["ask", " ", *store_args]) == 2


def test_feedback_export(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "feedback.sqlite3"
    out = tmp_path / "out.csv"
    assert main(["feedback", "--export", str(out), "--db", str(db)]) == 1
    store = FeedbackStore(db)
    store.record("a1", "answered", 1)
    store.record("a2", "not_covered", -1)
    assert main(["feedback", "--export", str(out), "--db", str(db)]) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["answer_id", "verdict", "rating", "created_at"]
    assert [r[:3] for r in rows[1:]] == [["a1", "answered", "1"], ["a2", "not_covered", "-1"]]


def test_python_m_bot_ask_json_subprocess(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "ask",
            "Is ketamine good for CRPS?",
            "--json",
            "--store",
            str(corpus_settings.store_dir),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["verdict"] == "answered"
    assert any(c["source_id"] == "pmid-29870458" for c in answer["citations"])
