"""`python -m bot feedback report`: thumbs per verdict and cited source, not-covered rate per
day, --since, --csv; never any question text."""

from __future__ import annotations

import csv
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.feedback import FeedbackStore
from bot.feedback_report import CSV_COLUMNS, build_report


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path)
    store.record("a1", "answered", 1, ["pmid-29870458", "article"])
    store.record("a2", "answered", -1, ["article"])
    store.record("a3", "not_covered", -1)
    with sqlite3.connect(path) as conn:  # one rating from long ago
        conn.execute(
            "INSERT INTO feedback (answer_id, verdict, rating, created_at, sources) "
            "VALUES ('old', 'answered', -1, '2026-01-05T10:00:00+00:00', 'pmid-35734507')"
        )
    for day, verdict, n in [
        (date(2026, 1, 5), "answered", 3),
        (date(2026, 1, 5), "not_covered", 1),
        (date(2026, 11, 30), "answered", 2),
        (date(2026, 11, 30), "not_covered", 2),
        (date(2026, 11, 30), "crisis", 1),
    ]:
        for _ in range(n):
            store.count_answer(verdict, day)
    store.flush_counts()
    return path


def test_report_counts(db: Path) -> None:
    report = build_report(db)
    assert {k: (t.up, t.down) for k, t in report.by_verdict.items()} == {
        "answered": (1, 2),
        "not_covered": (0, 1),
    }
    assert {k: (t.up, t.down) for k, t in report.by_source.items()} == {
        "article": (1, 1),
        "pmid-29870458": (1, 0),
        "pmid-35734507": (0, 1),
    }
    assert {k: (d.answers, d.not_covered) for k, d in report.by_day.items()} == {
        "2026-01-05": (4, 1),
        "2026-11-30": (5, 2),
    }
    assert report.by_day["2026-11-30"].rate == pytest.approx(0.4)
    recent = build_report(db, since=date(2026, 6, 1))
    assert "pmid-35734507" not in recent.by_source and list(recent.by_day) == ["2026-11-30"]


def test_report_command_writes_csv(db: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.csv"
    args = ["feedback", "report", "--db", str(db), "--since", "2026-06-01", "--csv", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Feedback report since 2026-06-01" in printed and "40.0%" in printed
    rows = list(csv.reader(out.open()))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert ["verdict", "answered", "1", "1", "", "", ""] in rows
    assert ["source", "article", "1", "1", "", "", ""] in rows
    assert ["day", "2026-11-30", "", "", "5", "2", "0.400"] in rows
    assert not any(r[1] == "2026-01-05" for r in rows)
    assert main(["feedback", "report", "--db", str(tmp_path / "none.sqlite3")]) == 1
    assert main(["feedback", "report", "--db", str(db), "--since", "yesterday"]) == 2


def test_old_database_without_sources_still_reports(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT "
            "NULL, verdict TEXT NOT NULL, rating INTEGER NOT NULL, created_at TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO feedback VALUES (1, 'x', 'answered', 1, '2026-11-01T00:00')")
    assert build_report(path).by_verdict["answered"].up == 1
    FeedbackStore(path).record("y", "answered", -1, ["article"])  # the column is added
    assert build_report(path).by_source == {"article": build_report(path).by_source["article"]}
    assert build_report(path).by_source["article"].down == 1


def test_answer_counts_are_written_together_within_the_flush_time(tmp_path: Path) -> None:
    import sqlite3
    import time

    from bot.feedback import COUNT_FLUSH_S

    path = tmp_path / "counts.sqlite3"
    store = FeedbackStore(path)

    def counted() -> list[tuple[str, int]]:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT verdict, n FROM answers ORDER BY verdict").fetchall()

    for verdict in ("answered", "answered", "crisis"):
        store.count_answer(verdict, date(2026, 12, 4))
    assert counted() == []  # not a commit per answer
    deadline = time.monotonic() + 10 * COUNT_FLUSH_S
    while not counted() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counted() == [("answered", 2), ("crisis", 1)]
    store.count_answer("answered", date(2026, 12, 4))
    store.flush_counts()  # at once, without waiting
    assert counted() == [("answered", 3), ("crisis", 1)]
