"""`make bench`: warm answer latency (with/without reranking) against a floor, cold start, ingest
times, answer speed on the big SciFact store next to the shipped corpus (benchmarks/bigcorpus.py),
server memory and a load test with a realistic mix of questions (70% from a top-20 list, 30% asked
once), with the answer cache on and off. Prints one table and rewrites the "Speed (make bench)"
section of docs/benchmarks.md.

Usage: python -m benchmarks.bench [--quick] [--clients 50] [--seconds 60] [--no-docs]
       [--no-scifact] [--no-cache-baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import bigcorpus, plots, questions
from benchmarks.beir import SCIFACT_DIR
from benchmarks.loadtest import load_mix_questions, realistic_mix, run_load
from benchmarks.metrics import percentile
from benchmarks.report import markdown_table, stamp, text_table, write_section
from benchmarks.server import REPO, start_server
from bot.config import Settings

log = logging.getLogger(__name__)


def floor_ms(settings: Settings, texts: list[str], repeats: int = 3) -> list[float]:
    """Embed one query plus one Chroma top-k query: the least any answer can cost
    (bigcorpus.floor_query).

    The embedder keeps no vectors: the texts are embedded each time, as a new question is."""
    from bot.embeddings import load_embedder
    from ingest.index import open_store

    embedder = load_embedder(bigcorpus.uncached(settings))
    store = open_store(settings, embedder)
    bigcorpus.floor_query(store, embedder, texts[0], settings.top_k)  # warm-up, not timed
    times = []
    for _ in range(repeats):
        for text in texts:
            start = time.perf_counter()
            bigcorpus.floor_query(store, embedder, text, settings.top_k)
            times.append((time.perf_counter() - start) * 1000)
    return times


def answer_ms(settings: Settings, qs: list[questions.Question]) -> list[float]:
    import bot

    engine = bot.load(settings.model_copy(update={"answer_cache": False}))
    for q in qs[:3]:
        engine.answer(q.question, q.history)  # warm caches
    times = []
    for q in qs:
        start = time.perf_counter()
        engine.answer(q.question, q.history)
        times.append((time.perf_counter() - start) * 1000)
    return times


def ingest_times(settings: Settings, path: Path) -> tuple[float, float, int]:
    """Fresh ingest then no-op re-ingest of path into a throwaway store (model already loaded)."""
    from bot.embeddings import load_embedder
    from ingest.index import ingest_paths

    embedder = load_embedder(settings)
    with tempfile.TemporaryDirectory(dir=REPO / ".painbot") as tmp:
        fresh = settings.model_copy(
            update={"store_dir": Path(tmp) / "chroma", "collection": "bench"}
        )
        start = time.perf_counter()
        report = ingest_paths(fresh, [path], embedder=embedder)
        first = time.perf_counter() - start
        start = time.perf_counter()
        ingest_paths(fresh, [path], embedder=embedder)
        again = time.perf_counter() - start
    return first, again, report.added


def big_corpus_rows(settings: Settings, qs: list[questions.Question]) -> list[list[str]]:
    """Ingest SciFact into its own store (hash-skip: cheap after the first time), then the
    floor, warm answers and cold start on it and on the shipped corpus."""
    from benchmarks.scifact import beir_settings, ingest_beir

    scifact = beir_settings(settings, SCIFACT_DIR)
    start = time.perf_counter()
    report = ingest_beir(scifact, SCIFACT_DIR)
    rows = [
        [
            "ingest SciFact into its own store",
            f"{time.perf_counter() - start:.1f} s",
            f"{report['added']} added, {report['skipped']} unchanged, "
            f"{report['chunks']} chunks embedded, {report['sentence_backfill']} backfilled",
            "",
        ]
    ]
    speeds = [
        bigcorpus.measure("shipped corpus", settings, [q.question for q in qs if not q.history]),
        bigcorpus.measure("SciFact", scifact, bigcorpus.scifact_claims(100)),
    ]
    for speed in speeds:
        label, floor, answer, ratio, cold, embedded = speed.row()
        rows.append(
            [label, answer, f"{floor}; sentences embedded while answering: {embedded}", ratio]
        )
        rows.append([f"cold start: app.py until first answer, {speed.label}", cold, "", ""])
    return rows


def _load_row(rows: list[list[str]], label: str, load: Any) -> dict[str, float]:
    s = load.summary()
    split = load.split()
    apart = "; ".join(
        f"{kind} ({n}) p50 {split[kind + '_p50']:.0f} / p95 {split[kind + '_p95']:.0f} ms"
        for kind, n in (("cached", s["cached"]), ("computed", s["ok"] - s["cached"]))
        if kind + "_p50" in split
    )
    rows.append(
        [
            label,
            f"{s['req_per_s']} req/s",
            f"p50 {s['p50']:.0f} / p95 {s['p95']:.0f} / p99 {s['p99']:.0f} ms"
            + (f" ({apart})" if apart else ""),
            f"errors {s['errors']} {dict(load.errors) or ''}",
        ]
    )
    return {"p50": s["p50"], "p95": s["p95"], "p99": s["p99"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="skip SciFact ingest; 10 clients x 10 s"
    )
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--no-scifact", action="store_true", help="skip the big SciFact store measurements"
    )
    parser.add_argument(
        "--no-cache-baseline",
        action="store_true",
        help="skip the second load test with the answer cache off",
    )
    parser.add_argument(
        "--latency-only",
        action="store_true",
        help="only the floor and the warm answer latency (a few minutes); docs untouched",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    clients = args.clients or (10 if args.quick else 50)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    settings = Settings()
    (REPO / ".painbot").mkdir(exist_ok=True)
    qs = questions.load_questions(questions.QUESTIONS_FILE)
    rows: list[list[str]] = []
    latency: dict[str, dict[str, float]] = {}

    floor = floor_ms(settings, [q.question for q in qs[:20]])
    f50 = percentile(floor, 50)
    rows.append(
        [
            "floor: embed 1 query + Chroma top-k",
            f"p50 {f50:.1f} ms",
            f"p95 {percentile(floor, 95):.1f} ms",
            "1.0x",
        ]
    )
    import bot

    answers: tuple[tuple[str, bool], ...] = (
        ("answer, default (rerank on)", True),
        ("answer, rerank off", False),
    )
    if not hasattr(bot, "load"):
        rows.append(["warm answer latency", "skipped", "bot.load missing (query side)", ""])
        answers = ()
    for label, rerank in answers:
        times = answer_ms(settings.model_copy(update={"rerank": rerank}), qs)
        p50, p95 = percentile(times, 50), percentile(times, 95)
        latency[label] = {"p50": p50, "p95": p95, "p99": percentile(times, 99)}
        rows.append(
            [
                f"warm {label} ({len(times)} q)",
                f"p50 {p50:.0f} ms",
                f"p95 {p95:.0f} ms",
                f"{p50 / f50:.1f}x / {p95 / f50:.1f}x floor",
            ]
        )

    if args.latency_only:
        print(text_table(["measure", "p50", "p95", "vs floor"], rows))
        return 0
    first, again, added = ingest_times(settings, settings.corpus_dir)
    rows.append(
        [f"ingest corpus, fresh store ({added} docs, model loaded)", f"{first:.2f} s", "", ""]
    )
    rows.append(["re-ingest corpus, nothing changed", f"{again:.2f} s", "target < 3 s", ""])
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ingest"], cwd=REPO, check=False, capture_output=True)
    rows.append(
        [
            "re-ingest, CLI `python -m ingest` (process start incl.)",
            f"{time.perf_counter() - start:.2f} s",
            "target < 3 s",
            "",
        ]
    )
    if args.no_scifact:
        rows.append(["SciFact big store", "not run", "--no-scifact", ""])
    elif not args.quick and (SCIFACT_DIR / "corpus.jsonl").exists():
        rows += big_corpus_rows(settings, qs)
    elif not args.quick:
        rows.append(["SciFact big store", "skipped", f"no data at {SCIFACT_DIR}", ""])

    server_log = REPO / ".painbot" / "bench-server.log"
    try:
        server = start_server(log_path=server_log)
    except (RuntimeError, OSError) as exc:
        rows.append(["app cold start / load test", "failed", str(exc)[:80], ""])
        server = None
    if server is not None:
        try:
            rows.append(
                [
                    "cold start: app.py until first answer",
                    f"{server.cold_start_s:.1f} s",
                    "target < 15 s",
                    "",
                ]
            )
            load = asyncio.run(
                run_load(server.url, clients, seconds, mix=realistic_mix(load_mix_questions()))
            )
            label = f"load {clients} clients, mix"
            latency[label] = _load_row(rows, label + f" x {seconds:.0f} s, answer cache on", load)
            rows.append(
                ["server peak RSS", f"{server.peak_rss_mb():.0f} MB", "target < 1536 MB", ""]
            )
        finally:
            server.stop()
    if server is not None and not args.no_cache_baseline:
        # The same mix with the answer cache off: what the cache is worth, in the same run.
        baseline = start_server(env={"PAINBOT_ANSWER_CACHE": "false"}, log_path=server_log)
        try:
            load = asyncio.run(
                run_load(baseline.url, clients, seconds, mix=realistic_mix(load_mix_questions()))
            )
            label = f"load {clients} clients, mix, cache off"
            latency[label] = _load_row(rows, label + f" x {seconds:.0f} s", load)
        finally:
            baseline.stop()

    header = ["measure", "value", "detail", "ratio"]
    print(text_table(header, rows))
    if not args.no_docs:
        image = plots.plot_latency(latency)
        cmd = "make bench  # = python -m benchmarks.bench" + "".join(
            flag
            for flag, on in ((" --quick", args.quick), (" --no-scifact", args.no_scifact))
            if on
        )
        body = stamp(cmd) + "\n" + markdown_table(header, rows) + "\n"
        if image is not None:
            body += "\n![latency percentiles](latency.png)\n"
        write_section("Speed (make bench)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
