"""The staff's feedback report: thumbs per verdict and per cited source, and the not-covered
rate per day. Built from counts and ratings only; it never holds a question's text."""

from __future__ import annotations

import csv
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

CSV_COLUMNS = (
    "group",
    "key",
    "thumbs_up",
    "thumbs_down",
    "answers",
    "not_covered",
    "not_covered_rate",
)


@dataclass
class Thumbs:
    up: int = 0
    down: int = 0


@dataclass
class Day:
    answers: int = 0
    not_covered: int = 0

    @property
    def rate(self) -> float:
        return self.not_covered / self.answers if self.answers else 0.0


@dataclass
class FeedbackReport:
    since: date | None
    by_verdict: dict[str, Thumbs] = field(default_factory=dict)
    by_source: dict[str, Thumbs] = field(default_factory=dict)
    by_day: dict[str, Day] = field(default_factory=dict)

    def csv_rows(self) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        for group, table in (("verdict", self.by_verdict), ("source", self.by_source)):
            rows += [(group, key, t.up, t.down, "", "", "") for key, t in sorted(table.items())]
        rows += [
            ("day", key, "", "", d.answers, d.not_covered, f"{d.rate:.3f}")
            for key, d in sorted(self.by_day.items())
        ]
        return rows

    def write_csv(self, path: Path) -> int:
        rows = self.csv_rows()
        with Path(path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            writer.writerows(rows)
        return len(rows)

    def text(self) -> str:
        since = f" since {self.since.isoformat()}" if self.since else ""
        lines = [f"Feedback report{since}", "", "Thumbs by verdict (up / down):"]
        lines += [f"  {k:<18} {t.up:>5} / {t.down:<5}" for k, t in sorted(self.by_verdict.items())]
        lines += ["", "Thumbs by cited source (up / down):"]
        lines += [f"  {k:<30} {t.up:>5} / {t.down:<5}" for k, t in sorted(self.by_source.items())]
        lines += ["", "Answers per day and the share the sources did not cover:"]
        lines += [
            f"  {k}  {d.answers:>6} answers  {d.not_covered:>5} not covered  {d.rate:6.1%}"
            for k, d in sorted(self.by_day.items())
        ]
        if not (self.by_verdict or self.by_day):
            lines += ["", "No ratings or answers in this period."]
        return "\n".join(lines)


def build_report(db_path: Path, since: date | None = None) -> FeedbackReport:
    """Read the feedback database (bot/feedback.py) into a report; ``since`` is inclusive."""
    report = FeedbackReport(since)
    start = since.isoformat() if since else ""
    by_verdict: dict[str, Thumbs] = defaultdict(Thumbs)
    by_source: dict[str, Thumbs] = defaultdict(Thumbs)
    by_day: dict[str, Day] = defaultdict(Day)
    with sqlite3.connect(db_path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
        sources = "sources" if "sources" in columns else "''"
        ratings = db.execute(
            f"SELECT verdict, rating, {sources} FROM feedback WHERE substr(created_at, 1, 10) >= ?",
            (start,),
        )
        for verdict, rating, cited in ratings:
            for table, key in [(by_verdict, verdict)] + [(by_source, s) for s in cited.split()]:
                if rating > 0:
                    table[key].up += 1
                else:
                    table[key].down += 1
        has_answers = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'answers'"
        ).fetchone()
        if has_answers:
            for day, verdict, n in db.execute(
                "SELECT day, verdict, n FROM answers WHERE day >= ?", (start,)
            ):
                by_day[day].answers += n
                if verdict == "not_covered":
                    by_day[day].not_covered += n
    report.by_verdict, report.by_source, report.by_day = (
        dict(by_verdict),
        dict(by_source),
        dict(by_day),
    )
    return report
