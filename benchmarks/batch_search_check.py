"""The batch search CLI against the evaluation harness on SciFact test: same nDCG@10?

Runs `python -m bot search --queries Q.jsonl -k 100 --json` on the SciFact store (as an external
evaluator would, in its own process), scores its output with BEIR's nDCG@10, and scores the
default configuration through the harness `make eval` uses (benchmarks/scifact.py).

Usage: python -m benchmarks.batch_search_check
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time

from benchmarks.beir import SCIFACT_DIR, load_qrels, load_queries
from benchmarks.metrics import mean, ndcg_at_k
from benchmarks.scifact import BENCH_DIR, beir_settings, rank_documents, run_beir
from benchmarks.server import REPO
from bot.config import Settings
from bot.types import Passage


def ndcg_of_output(lines: list[str], qrels: dict[str, dict[str, int]]) -> float:
    """nDCG@10 of the CLI's JSON lines, documents ranked by their best passage."""
    scores = []
    for line in lines:
        row = json.loads(line)
        passages = [
            Passage(r["chunk_id"], r["source_id"], "", "", r["score"]) for r in row["results"]
        ]
        scores.append(ndcg_at_k(rank_documents(passages), qrels[row["query_id"]], 10))
    return mean(scores)


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    settings = beir_settings(Settings(), SCIFACT_DIR)
    qrels = load_qrels(SCIFACT_DIR, "test")
    queries = load_queries(SCIFACT_DIR)
    path = REPO / BENCH_DIR / "scifact-test-queries.jsonl"  # git-ignored: the data is not ours
    path.write_text(
        "".join(json.dumps({"_id": qid, "text": queries[qid]}) + "\n" for qid in qrels),
        encoding="utf-8",
    )
    command = [
        sys.executable,
        "-m",
        "bot",
        "search",
        "--queries",
        str(path),
        "-k",
        "100",
        "--json",
        "--store",
        str(settings.store_dir),
        "--collection",
        settings.collection,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    cli_seconds = time.perf_counter() - start
    lines = done.stdout.splitlines()
    cli = ndcg_of_output(lines, qrels)
    harness = run_beir(Settings(), configs={"default (hybrid+rerank)": {}}) or {}
    print(f"batch CLI: {len(lines)} queries, nDCG@10 {cli:.4f} ({cli_seconds:.0f} s wall)")
    for name, scores in harness.items():
        print(f"harness {name}: nDCG@10 {scores.ndcg10:.4f} ({scores.queries} queries)")
    same = abs(cli - harness["default (hybrid+rerank)"].ndcg10) < 1e-9
    print("same nDCG@10:", same)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
