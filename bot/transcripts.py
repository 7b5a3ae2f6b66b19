"""Opt-in transcript log for clinics that must keep one (PAINBOT_TRANSCRIPT_LOG).

Off by default: painbot then stores no question text anywhere. When a clinic turns it on,
each answered question becomes one JSON line (time, question, verdict, answer text, cited
source ids; never an IP address), and lines older than the retention period are removed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path

from bot.types import Answer

log = logging.getLogger(__name__)


class TranscriptLog:
    """Append-only JSONL with a retention period; safe to share between threads."""

    def __init__(self, path: Path, retention_days: int) -> None:
        self.path = path
        self.retention = dt.timedelta(days=retention_days)
        self._lock = threading.Lock()
        self._pruned_on: dt.date | None = None

    def record(self, answer: Answer, now: dt.datetime | None = None) -> None:
        now = now or dt.datetime.now(dt.UTC)
        entry = {
            "time": now.isoformat(timespec="seconds"),
            "answer_id": answer.id,
            "question": answer.question,
            "verdict": answer.verdict.value,
            "answer": answer.text,
            "sources": [c.source_id for c in answer.citations],
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._pruned_on != now.date():
                self._prune(now)
                self._pruned_on = now.date()
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)

    def _prune(self, now: dt.datetime) -> None:
        """Drop entries older than the retention period (once a day, rewriting the file)."""
        if not self.path.exists():
            return
        cutoff = now - self.retention
        kept = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                when = dt.datetime.fromisoformat(json.loads(line)["time"])
            except (ValueError, KeyError, TypeError):
                continue  # a damaged line is not worth keeping
            if when >= cutoff:
                kept.append(line + "\n")
        partial = self.path.with_suffix(self.path.suffix + ".tmp")
        partial.write_text("".join(kept), encoding="utf-8")
        os.replace(partial, self.path)
        log.info("transcript log pruned to %d entries", len(kept))
