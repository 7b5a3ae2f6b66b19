"""Review dates in front matter: overdue sources in the ingest report, `ingest --check`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import frontmatter
import pytest
from click.testing import CliRunner

from bot.review import add_months, check_reviews
from ingest.cli import cli

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
LONG_AGO = (dt.date.today() - dt.timedelta(days=800)).isoformat()
RECENTLY = (dt.date.today() - dt.timedelta(days=10)).isoformat()


@pytest.mark.parametrize(
    ("day", "months", "due"),
    [
        ("2026-12-01", 12, "2027-12-01"),
        ("2026-01-31", 1, "2026-02-28"),  # a shorter month: its last day
        ("2026-11-15", 3, "2027-02-15"),
        ("2024-02-29", 12, "2025-02-28"),
    ],
)
def test_due_date(day: str, months: int, due: str) -> None:
    assert add_months(dt.date.fromisoformat(day), months).isoformat() == due


def test_overdue_unreviewed_and_up_to_date() -> None:
    today = dt.date(2026, 12, 1)
    report = check_reviews(
        [
            ("fresh", {"reviewed": "2026-06-01"}),
            ("old", {"reviewed": "2025-11-30", "title": "Old paper"}),
            ("quarterly", {"reviewed": "2026-08-01", "review_every_months": 3}),
            ("never", {"title": "No date"}),
            ("bad", {"reviewed": "soon"}),
        ],
        today,
    )
    assert [(s.source_id, s.due.isoformat()) for s in report.overdue if s.due] == [
        ("quarterly", "2026-11-01"),
        ("old", "2026-11-30"),
    ]
    assert report.unreviewed == ("bad", "never") and not report.ok
    assert check_reviews([("fresh", {"reviewed": dt.date(2026, 6, 1)})], today).ok


def test_shipped_corpus_files_all_carry_a_review_date() -> None:
    files = [CORPUS / "article.md", *sorted((CORPUS / "references").glob("*.md"))]
    for path in files:
        meta = frontmatter.load(path).metadata
        assert isinstance(meta.get("reviewed"), dt.date), path
        assert meta.get("review_every_months") == 12, path


def test_check_exits_one_when_a_review_is_due(write_record) -> None:  # type: ignore[no-untyped-def]
    folder = write_record("fresh", reviewed=RECENTLY).parent
    ok = CliRunner().invoke(cli, ["--check", str(folder), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"overdue": [], "unreviewed": 0, "unreviewed_ids": []}
    write_record("old", reviewed=LONG_AGO, review_every_months=24)
    write_record("undated")
    due = CliRunner().invoke(cli, ["--check", str(folder)])
    assert due.exit_code == 1
    assert "review overdue: Title of old (old)" in due.stderr
    assert "not reviewed: undated" in due.stderr and "fresh" not in due.stderr


def test_ingest_report_lists_overdue_sources(tmp_path: Path, write_record, embedder) -> None:  # type: ignore[no-untyped-def]
    folder = write_record("old", reviewed=LONG_AGO).parent
    write_record("fresh", reviewed=RECENTLY)
    store = str(tmp_path / "store")
    result = CliRunner().invoke(cli, [str(folder), "--store", store, "--json"])
    assert result.exit_code == 0, result.output  # overdue is a warning, not an ingest failure
    report = json.loads(result.stdout)
    assert [s["source_id"] for s in report["overdue"]] == ["old"]
    assert report["overdue"][0]["reviewed"] == LONG_AGO and report["unreviewed"] == 0
    text = CliRunner().invoke(cli, [str(folder), "--store", store])
    assert "review overdue: Title of old (old): last reviewed" in text.stderr
