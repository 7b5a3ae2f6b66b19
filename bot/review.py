"""Content review dates: when each source was last reviewed and whether a review is overdue.

A source's front matter says ``reviewed: 2026-12-01`` (the date a person last checked it) and
``review_every_months: 12`` (how often it should be checked; 12 when missing)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_REVIEW_MONTHS = 12


@dataclass(frozen=True)
class ReviewStatus:
    """One source's review dates; ``reviewed`` and ``due`` are None when it has no date."""

    source_id: str
    title: str
    reviewed: dt.date | None
    due: dt.date | None

    def overdue(self, today: dt.date) -> bool:
        return self.due is not None and self.due < today

    def to_json(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "title": self.title,
            "reviewed": self.reviewed.isoformat() if self.reviewed else None,
            "due": self.due.isoformat() if self.due else None,
        }


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def review_status(source_id: str, metadata: Mapping[str, Any]) -> ReviewStatus:
    reviewed = parse_date(metadata.get("reviewed"))
    try:
        months = int(metadata.get("review_every_months") or DEFAULT_REVIEW_MONTHS)
    except (TypeError, ValueError):
        months = DEFAULT_REVIEW_MONTHS
    due = add_months(reviewed, max(months, 1)) if reviewed else None
    title = str(metadata.get("short_citation") or metadata.get("title") or source_id)
    return ReviewStatus(source_id, title, reviewed, due)


@dataclass(frozen=True)
class ReviewReport:
    """Sources whose review is overdue, and how many have no review date at all."""

    overdue: tuple[ReviewStatus, ...]
    unreviewed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.overdue and not self.unreviewed

    def to_json(self) -> dict[str, Any]:
        return {
            "overdue": [status.to_json() for status in self.overdue],
            "unreviewed": len(self.unreviewed),
        }


def check_reviews(
    sources: Iterable[tuple[str, Mapping[str, Any]]], today: dt.date | None = None
) -> ReviewReport:
    """Which of ``(source_id, front matter)`` are overdue for review or were never reviewed."""
    today = today or dt.date.today()
    statuses = [review_status(source_id, meta) for source_id, meta in sources]
    overdue = tuple(
        sorted((s for s in statuses if s.overdue(today)), key=lambda s: (s.due, s.source_id))
    )
    unreviewed = tuple(sorted(s.source_id for s in statuses if s.reviewed is None))
    return ReviewReport(overdue, unreviewed)
