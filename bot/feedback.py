"""Thumbs up/down on answers in SQLite: answer id, verdict, cited source ids, rating, time;
and how many answers of each verdict were given per day. No question text, no IP."""

from __future__ import annotations

import atexit
import csv
import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
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
# Added later: the source ids the rated answer cited, space-separated (older rows: empty).
_ADD_SOURCES = "ALTER TABLE feedback ADD COLUMN sources TEXT NOT NULL DEFAULT ''"
# Answers given per day and verdict: counts only, for the not-covered rate over time.
_ANSWERS = """
CREATE TABLE IF NOT EXISTS answers (
    day TEXT NOT NULL,
    verdict TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, verdict)
)
"""
COLUMNS = ("answer_id", "verdict", "rating", "created_at")
COUNT_FLUSH_S = 1.0
"""Answer counts are written at most this long after the answer, all at once: a commit per
answer held the server's event loop for about 0.6 ms of every request under load (py-spy,
docs/benchmarks.md, issue 15)."""


class FeedbackStore:
    """A small thread-safe SQLite store of ratings (+1 helpful, -1 not helpful)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # One connection, used under the lock, in WAL mode without an fsync per commit: a busy
        # server counts every answer, and a new connection and a synced commit for each cost
        # about 3 ms, held under the lock. A power cut may lose the last few counts or ratings.
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock, self._connect() as db:
            db.execute(_SCHEMA)
            db.execute(_ANSWERS)
            columns = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
            if "sources" not in columns:
                db.execute(_ADD_SOURCES)
        self._pending: Counter[tuple[str, str]] = Counter()
        self._pending_lock = threading.Lock()
        self._flush_timer: threading.Timer | None = None
        atexit.register(self.flush_counts)

    def _connect(self) -> sqlite3.Connection:
        """The store's connection; as a context manager it commits (or rolls back) on exit.
        Use it under the lock."""
        return self._db

    def record(
        self, answer_id: str, verdict: str, rating: int, sources: Sequence[str] = ()
    ) -> None:
        if rating not in (-1, 1):
            raise ValueError("rating must be 1 (helpful) or -1 (not helpful)")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        cited = " ".join(dict.fromkeys(s.strip()[:100] for s in sources if s.strip()))
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO feedback (answer_id, verdict, rating, created_at, sources) "
                "VALUES (?,?,?,?,?)",
                (answer_id[:64], verdict[:32], rating, now, cited),
            )
        logger.info("feedback %+d on answer %s", rating, answer_id[:64])

    def count_answer(self, verdict: str, day: date | None = None) -> None:
        """One more answer of this verdict today (for the not-covered rate over time); written
        within COUNT_FLUSH_S, or by flush_counts."""
        key = ((day or datetime.now(UTC).date()).isoformat(), verdict[:32])
        with self._pending_lock:
            self._pending[key] += 1
            if self._flush_timer is None:
                self._flush_timer = threading.Timer(COUNT_FLUSH_S, self.flush_counts)
                self._flush_timer.daemon = True
                self._flush_timer.start()

    def flush_counts(self) -> None:
        """Write the answer counts not written yet."""
        with self._pending_lock:
            pending, self._pending = self._pending, Counter()
            timer, self._flush_timer = self._flush_timer, None
        if timer is not None:
            timer.cancel()  # when called directly, before the timer fired
        if not pending:
            return
        try:
            with self._lock, self._connect() as db:
                db.executemany(
                    "INSERT INTO answers (day, verdict, n) VALUES (?, ?, ?) "
                    "ON CONFLICT (day, verdict) DO UPDATE SET n = n + excluded.n",
                    [(day, verdict, n) for (day, verdict), n in pending.items()],
                )
        except sqlite3.Error as exc:  # a count for staff reports never costs a patient's answer
            logger.warning(
                "%d answers not counted in %s: %s", sum(pending.values()), self.path, exc
            )

    def rows(self) -> list[tuple[str, str, int, str]]:
        with self._lock, self._connect() as db:
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
