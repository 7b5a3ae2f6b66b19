"""Read a BEIR-layout data set (corpus.jsonl, queries.jsonl, qrels/*.tsv) in place."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

SCIFACT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "scifact"


@dataclass(frozen=True)
class BeirDoc:
    doc_id: str
    title: str
    text: str


def load_corpus(folder: Path) -> list[BeirDoc]:
    with (folder / "corpus.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [BeirDoc(str(r["_id"]), r.get("title", ""), r.get("text", "")) for r in rows]


def load_queries(folder: Path) -> dict[str, str]:
    with (folder / "queries.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {str(r["_id"]): r["text"] for r in rows}


def load_qrels(folder: Path, split: str) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader, None)
        for row in reader:
            if len(row) >= 3:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels
