"""Thumbs up/down on answers in SQLite: answer id, verdict, rating, time; no question, no IP."""

from __future__ import annotations

import csv
import logging
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL,
    verdict TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    created_at TEXT NOT NULL
)
"""
COLUMNS = ("answer_id", "verdict", "rating", "created_at")


class FeedbackStore:
    """A small thread-safe SQLite store of ratings (+1 helpful, -1 not helpful)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(self, answer_id: str, verdict: str, rating: int) -> None:
        if rating not in (-1, 1):
            raise ValueError("rating must be 1 (helpful) or -1 (not helpful)")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO feedback (answer_id, verdict, rating, created_at) VALUES (?,?,?,?)",
                (answer_id[:64], verdict[:32], rating, now),
            )
        logger.info("feedback %+d on answer %s", rating, answer_id[:64])

    def rows(self) -> list[tuple[str, str, int, str]]:
        with self._connect() as db:
            return list(db.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id"))

    def export_csv(self, path: Path) -> int:
        """Write every rating to ``path`` as CSV; returns the number of rows."""
        rows = self.rows()
        with Path(path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(rows)
        return len(rows)


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.feedback --export feedback.csv` (wired into `python -m bot feedback` too)."""
    import argparse

    from bot.config import Settings

    parser = argparse.ArgumentParser(prog="python -m bot feedback", description=main.__doc__)
    parser.add_argument("--export", type=Path, required=True, help="CSV file to write.")
    args = parser.parse_args(argv)
    settings = Settings()  # pydantic-settings fills the fields from the environment
    if not settings.feedback_db.exists():
        print(f"No feedback yet ({settings.feedback_db} does not exist).")
        return 1
    count = FeedbackStore(settings.feedback_db).export_csv(args.export)
    print(f"Wrote {count} ratings to {args.export}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
