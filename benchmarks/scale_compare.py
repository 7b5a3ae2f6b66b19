"""This checkout against another one (e.g. the commit before a change), in one run, alternating:
cold start of `app.py` until its first answer on the SciFact store and on the shipped corpus, warm
answers on SciFact next to the floor, and the realistic-mix load test with cached and computed
answers apart. Both checkouts read the same stores (this checkout's .painbot/); each keeps its
derived files in its own cache folder.

Usage: python -m benchmarks.scale_compare --base DIR [--rounds 2] [--clients 50] [--seconds 60]
       [--http aiohttp,httpx] [--workers 1,2]
       [--parts cold,warm,cost,load]   (e.g. --parts warm: warm SciFact answers only, each
       round; cost: one computed answer of the load mix, in one process, per step)
       (DIR: e.g. `git worktree add /tmp/base <commit>` or `git archive <commit> | tar -x -C DIR`)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.beir import SCIFACT_DIR
from benchmarks.loadtest import load_mix_questions, realistic_mix, run_load
from benchmarks.server import REPO, Server, free_port

SCIFACT = {
    "PAINBOT_STORE_DIR": str(REPO / ".painbot/bench/scifact"),
    "PAINBOT_COLLECTION": "scifact",
}
SHIPPED = {"PAINBOT_STORE_DIR": str(REPO / ".painbot/chroma"), "PAINBOT_COLLECTION": "painbot"}

# Run inside a checkout's own code (cwd = that checkout): floor and warm answers on SciFact,
# through that checkout's benchmarks.bigcorpus.measure (the same function since a4da6ca).
WARM = """
import json, os
from pathlib import Path
from benchmarks.bigcorpus import measure, scifact_claims
from bot.config import Settings
claims = scifact_claims(folder=Path(os.environ["SCIFACT_DIR"]))
speed = measure("scifact", Settings(), claims, cold_start=False)
print(json.dumps({"floor": speed.floor_ms, "answers": speed.answer_ms}))
"""

# Run inside a checkout's own code: what a computed answer of the load test's mix costs alone,
# in one process (its first 80 never-repeated questions, answer cache off), per step.
COST = """
import itertools, json, time
import bot
from benchmarks.loadtest import load_mix_questions, realistic_mix
from bot.config import Settings
engine = bot.load(Settings(answer_cache=False))
mix = itertools.islice(realistic_mix(load_mix_questions()), 400)
questions = [q for q in mix if "(#" in q][:80]
for question in questions[:3]:
    engine.answer(question)
times, steps = [], {}
for question in questions:
    start = time.perf_counter()
    answer = engine.answer(question)
    times.append((time.perf_counter() - start) * 1000)
    for step, ms in answer.timings_ms.items():
        steps[step] = steps.get(step, 0.0) + ms / len(questions)
print(json.dumps({"answers": times, "steps": steps}))
"""


def _env(tree: Path, store: dict[str, str]) -> dict[str, str]:
    # This checkout's derived files are where its ingest wrote them; the other's apart.
    own = tree == REPO
    folder = REPO / ".painbot" / ("compare-after" if own else "compare-before")
    return {
        **os.environ,
        **store,
        "PAINBOT_CACHE_DIR": str(REPO / ".painbot" / "cache" if own else folder / "cache"),
        "PAINBOT_FEEDBACK_DB": str(folder / "feedback.sqlite3"),
        "PAINBOT_RATE_LIMIT": "0",
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(tree),
        "SCIFACT_DIR": str(SCIFACT_DIR),
    }


def start(tree: Path, store: dict[str, str], extra: dict[str, str] | None = None) -> Server:
    """`python app.py` of ``tree`` on a free port; time to its first answer = cold start."""
    port = free_port()
    env = {**_env(tree, store), "PAINBOT_PORT": str(port), "PAINBOT_HOST": "127.0.0.1"}
    log = (REPO / ".painbot" / f"compare-{'after' if tree == REPO else 'before'}.log").open("wb")
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=tree, env={**env, **(extra or {})}, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - began < 300:
        if process.poll() is not None:
            raise RuntimeError(f"{tree}/app.py exited with code {process.returncode}")
        try:
            reply = httpx.post(url + "/api/ask", json={"question": "What is ketamine?"}, timeout=60)
            if reply.status_code == 200:
                return Server(process, url, time.perf_counter() - began)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{tree}/app.py gave no answer within 300 s")


def warm(tree: Path) -> dict[str, list[float]]:
    return _run(tree, WARM, SCIFACT)


def _run(tree: Path, code: str, store: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree,
        env=_env(tree, store),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def prepare() -> None:
    """What `python -m ingest` leaves for this checkout's next start (its last step), for
    both stores: their corpus index in the cache folder (bot/corpus_index.py)."""
    from bot.config import Settings
    from bot.corpus_index import write_corpus_index
    from bot.embeddings import load_embedder
    from ingest.index import open_store

    for store in (SCIFACT, SHIPPED):
        settings = Settings(
            store_dir=Path(store["PAINBOT_STORE_DIR"]), collection=store["PAINBOT_COLLECTION"]
        )
        write_corpus_index(open_store(settings, load_embedder(settings)), settings.cache_dir)


def _p(values: list[float], q: float) -> float:
    from benchmarks.metrics import percentile

    return percentile(values, q)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--workers", default="1", help="worker processes of the server under load, e.g. 1,2"
    )
    parser.add_argument(
        "--http",
        default="aiohttp",
        help="the load test's client libraries, comma-separated (aiohttp, httpx): each runs "
        "against a fresh server of each tree",
    )
    parser.add_argument(
        "--parts", default="cold,warm,cost,load", help="which measurements, comma-separated"
    )
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    trees = {"before": args.base.resolve(), "after": REPO}
    load_avg: list[float] = []
    out: dict[str, Any] = {}

    def note(label: str, value: str) -> None:
        load_avg.append(os.getloadavg()[0])
        print(f"{label}: {value} (load {load_avg[-1]:.1f})", flush=True)
        out.setdefault(label, []).append(value)

    prepare()
    for _ in range(args.rounds if "cold" in parts else 0):
        for store_name, store in (("SciFact", SCIFACT), ("shipped corpus", SHIPPED)):
            for name, tree in trees.items():
                server = start(tree, store)
                server.stop()
                note(f"cold start, {store_name}, {name}", f"{server.cold_start_s:.1f} s")
    for _ in range(args.rounds if "warm" in parts else 0):
        for name, tree in trees.items():
            times = warm(tree)
            f50, f95 = _p(times["floor"], 50), _p(times["floor"], 95)
            a50, a95 = _p(times["answers"], 50), _p(times["answers"], 95)
            note(
                f"warm SciFact, {name}",
                f"floor p50 {f50:.1f} / p95 {f95:.1f} ms; answer p50 {a50:.0f} / p95 {a95:.0f} "
                f"ms; {a50 / f50:.1f}x / {a95 / f50:.1f}x floor p50, {a95 / f95:.1f}x floor p95",
            )
    for _ in range(args.rounds if "cost" in parts else 0):
        for name, tree in trees.items():
            cost = _run(tree, COST, SHIPPED)
            times, steps = cost["answers"], cost["steps"]
            per_step = ", ".join(f"{k} {v:.1f}" for k, v in steps.items() if k != "total")
            note(
                f"computed answer of the load mix, shipped corpus, {name}",
                f"mean {sum(times) / len(times):.0f} / p50 {_p(times, 50):.0f} / p95 "
                f"{_p(times, 95):.0f} ms; per step (mean ms): {per_step}",
            )
    runs = [
        (w, h, n, t)
        for w in args.workers.split(",")
        for h in args.http.split(",")
        for n, t in trees.items()
    ]
    for workers, http, name, tree in runs if "load" in parts else ():
        server = start(tree, SHIPPED, {"PAINBOT_WORKERS": workers})
        if workers != "1":
            time.sleep(15)  # the first answer came from one worker; let the others load too
        try:
            mix = realistic_mix(load_mix_questions())
            load = asyncio.run(
                run_load(server.url, args.clients, args.seconds, mix=mix, client=http)
            )
        finally:
            server.stop()
        s, split = load.summary(), load.split()
        apart = ", ".join(f"{k} {v:.0f}" for k, v in split.items())
        note(
            f"load {args.clients} clients x {args.seconds:.0f} s, mix, {workers} worker(s), "
            f"{http} client, {name}",
            f"{s['req_per_s']} req/s, p50 {s['p50']:.0f} / p95 {s['p95']:.0f} / p99 "
            f"{s['p99']:.0f} ms, {s['cached']} of {s['ok']} cached ({apart}), "
            f"errors {s['errors']} {dict(load.errors) or ''}",
        )
    print(f"load average during the run: {min(load_avg):.1f}-{max(load_avg):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
