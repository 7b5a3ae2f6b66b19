"""`make eval`: retrieval on SciFact, our question sets, the grounding check, readability.

Prints one table and rewrites the "Quality (make eval)" section of docs/benchmarks.md.
Usage: python -m benchmarks.evaluate [--quick] [--no-scifact] [--no-docs]
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import Any

from benchmarks import (
    answer_pairs,
    grounding,
    plots,
    questions,
    readability,
    safety_eval,
    scifact,
)
from benchmarks.report import markdown_table, stamp, text_table, write_section
from bot.config import Settings

log = logging.getLogger(__name__)

NOTES = """Reading the numbers:
- SciFact documents are ranked by their best chunk; recall@100 needs candidate_k >= 100, so
  the harness raises candidate_k to 150 for this run only. Tune on `--split train`.
- The grounding check is a similarity score. SUPPORT and CONTRADICT evidence sentences are
  about the same point as the claim by construction, so similarity separates them only a little
  above chance (see the AUC and compare the accuracy with the majority baseline). It can say
  "this sentence is on the passage's topic"; it cannot say "the passage agrees". The default
  composer copies sentences verbatim, which is why groundedness (verbatim share) is the real
  guarantee, not this check.
- Coverage ("answered" vs "not covered") is decided by the fitted evidence model
  (bot/evidence_model.json, `python -m benchmarks.fit_evidence`); the question sets here
  include the questions it was fitted on, so their verdict rows are training figures. The
  cross-validated figures per paraphrase family are in "Issue 12: question understanding".
"""


def _f(value: float, digits: int = 3) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.{digits}f}"
    )


def save_retrieval(path: Path, results: dict[str, scifact.RetrievalScores]) -> None:
    import dataclasses
    import datetime as dt
    import json

    payload = {
        "ran_on": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
        "results": {name: dataclasses.asdict(r) for name, r in results.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1))


def load_retrieval(path: Path) -> tuple[dict[str, scifact.RetrievalScores], str]:
    import json

    payload = json.loads(path.read_text())
    results = {n: scifact.RetrievalScores(**r) for n, r in payload["results"].items()}
    return results, str(payload["ran_on"])


SAFETY_SETS = {
    "safety set (dev)": questions.QUESTIONS_FILE.parent / "safety.jsonl",
    "safety set (later)": questions.QUESTIONS_FILE.parent / "safety_holdout.jsonl",
}


def safety_set_rows(engine: Any) -> list[list[str]]:
    rows = []
    for label, path in SAFETY_SETS.items():
        rows += _safety_rows(engine, label, path)
    return rows


def _safety_rows(engine: Any, label: str, path: Path) -> list[list[str]]:
    """The safety router alone on one labelled set: per-class accuracy, crisis recall,
    false alarms on ordinary questions."""
    import json

    from bot.types import Verdict

    if not path.exists():
        return [[label, "skipped", f"{path} absent"]]
    labelled = [json.loads(line) for line in path.read_text().splitlines() if line]
    results = [
        (r["id"], Verdict(r["expect"]), engine.safety.classify(r["question"])) for r in labelled
    ]
    scores = safety_eval.safety_scores(results)
    rows = [
        [
            f"{label} ({len(results)}): crisis recall",
            _f(scores.crisis_recall),
            f"must be 1.000; missed {list(scores.crisis_missed)}",
        ],
        [
            f"{label}: ordinary questions blocked",
            _f(scores.over_blocked),
            "share of answerable questions given a crisis/advice/off-topic reply",
        ],
    ]
    for verdict in sorted({want for _, want, _ in results}, key=lambda v: v.value):
        total = sum(1 for _, want, _ in results if want is verdict)
        right = sum(1 for _, want, got in results if want is verdict and got is verdict)
        rows.append(
            [f"safety set: {verdict.value} accuracy", f"{right}/{total}", _f(right / total)]
        )
    return rows


def evidence_model_rows() -> list[list[str]]:
    """The shipped coverage model's cross-validated figures (from its own file)."""
    from bot.evidence import load_model

    model = load_model()
    cv = model.info.get("cross_validation", {})
    at = min(
        cv.get("pr_curve", []), key=lambda c: abs(c["threshold"] - model.threshold), default=None
    )
    rows = [
        [
            "evidence model (cross-validated coverage accuracy)",
            _f(cv.get("coverage_accuracy", float("nan"))),
            f"{model.info.get('n_train')} questions, threshold {model.threshold:.2f}, "
            f"data sha256 {str(model.info.get('data_sha256', ''))[:12]}",
        ]
    ]
    if at:
        rows.append(
            [
                f"evidence model precision/recall of 'covered' at {at['threshold']:.1f}",
                f"{at['precision']:.3f} / {at['recall']:.3f}",
                f"not-covered recall {at['not_covered_recall']:.3f}",
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="50 SciFact queries, no grounding check"
    )
    parser.add_argument("--no-scifact", action="store_true", help="skip SciFact retrieval")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/")
    parser.add_argument(
        "--reuse-scifact",
        action="store_true",
        help="reuse the SciFact rows of the last full run (they take ~30 min on 2 cores)",
    )
    parser.add_argument("--split", default="test", help="SciFact qrels split (tune on train)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    rows: list[list[str]] = []

    saved = scifact.BENCH_DIR / f"scifact-{args.split}-results.json"
    retrieval: dict[str, scifact.RetrievalScores] | None
    if args.reuse_scifact and saved.exists():
        retrieval, ran_on = load_retrieval(saved)
        log.info("SciFact rows reused from %s (run %s)", saved, ran_on)
    else:
        retrieval = (
            None
            if args.no_scifact
            else scifact.run_beir(settings, split=args.split, limit=50 if args.quick else None)
        )
        if retrieval and not args.quick:
            save_retrieval(saved, retrieval)
    if retrieval is None and not args.no_scifact:
        rows.append(["SciFact retrieval", "skipped", f"data absent at {scifact.SCIFACT_DIR}"])
    for name, r in (retrieval or {}).items():
        rows.append(
            [
                f"SciFact {args.split} ({r.queries} q): {name}",
                f"nDCG@10 {_f(r.ndcg10)}",
                f"R@10 {_f(r.recall10)}  R@100 {_f(r.recall100)}  {r.ms_per_query:.0f} ms/q",
            ]
        )

    import bot

    engine = bot.load(settings) if hasattr(bot, "load") else None
    if engine is None:
        rows.append(["question sets", "skipped", "bot.load is missing (query side not written)"])
    all_answers = []
    all_leads: list[str] = []
    for label, path in (
        ("ours", questions.QUESTIONS_FILE),
        ("shared", questions.SHARED_QUESTIONS_FILE),
        ("dev", questions.DEV_QUESTIONS_FILE),
    ):
        if engine is None:
            break
        if not path.exists():
            rows.append([f"questions ({label})", "skipped", f"{path} absent"])
            continue
        rep = questions.run_questions(engine, questions.load_questions(path))
        all_answers += [a.text for _, a in rep.answers if a.verdict.value == "answered"]
        all_leads += [" ".join(p.text for p in a.plain) for _, a in rep.answers if a.plain]
        rows.append(
            [f"questions ({label}, {rep.n}): expected-source hit", _f(rep.source_hit_rate), ""]
        )
        rows.append(
            [
                f"questions ({label}): groundedness",
                _f(rep.groundedness),
                "answer sentences verbatim in a cited passage",
            ]
        )
        for verdict, (right, total) in sorted(rep.by_class.items()):
            rows.append(
                [f"questions ({label}): {verdict} accuracy", f"{right}/{total}", _f(right / total)]
            )
        for family, (right, total) in sorted(rep.by_family.items()):
            rows.append(
                [
                    f"questions ({label}): family {family} verdicts",
                    f"{right}/{total}",
                    _f(right / total),
                ]
            )
        safe = safety_eval.safety_scores(
            [(q.id, q.expect_verdict, a.verdict) for q, a in rep.answers]
        )
        rows.append(
            [
                f"questions ({label}): crisis recall",
                _f(safe.crisis_recall),
                f"must be 1.000; missed {list(safe.crisis_missed)}",
            ]
        )
        rows.append([f"questions ({label}): answerable but blocked", _f(safe.over_blocked), ""])
        for miss in rep.misses:
            log.info("miss (%s) %s", label, miss)

    if engine is not None:
        rows += safety_set_rows(engine)
        pairs = answer_pairs.score_pairs(engine)
        rows.append(
            [
                f"answer pairs ({pairs.questions} q): sentence precision",
                _f(pairs.precision),
                f"{pairs.shown_labelled} labelled shown sentences, {pairs.shown_unlabelled} "
                "unlabelled (not counted)",
            ]
        )
        rows.append(
            [
                "answer pairs: caveat coverage",
                _f(pairs.caveat_coverage),
                f"{pairs.caveats_needed} shown claims that need a caveat",
            ]
        )
        lead = readability.answer_grades(all_leads)
        rows.append(
            [
                f"FK grade: answer lead, plain sentences ({lead.n})",
                f"median {_f(lead.median, 1)}",
                "",
            ]
        )

    rows += evidence_model_rows()
    if not args.quick:
        g = grounding.run_grounding()
        if g is not None:
            rows.append(
                [
                    "grounding check SUPPORT vs CONTRADICT (dev)",
                    f"AUC {_f(g.auc)}",
                    f"acc {_f(g.accuracy)} at t={_f(g.threshold)} (majority {_f(g.majority)}); "
                    f"{g.pairs} pairs, indices fit {_f(g.index_fit)}; {g.scorer}",
                ]
            )

    for name, value in sorted(readability.fixed_text_grades().items()):
        rows.append([f"FK grade: prompts.{name}", _f(value, 1), "target <= 8"])
    grades = readability.answer_grades(all_answers)
    rows.append(
        [
            f"FK grade: whole answers ({grades.n})",
            f"mean {_f(grades.mean, 1)}",
            f"median {_f(grades.median, 1)}",
        ]
    )

    header = ["measure", "value", "detail"]
    print(text_table(header, rows))
    if not args.no_docs:
        command = "make eval  # = python -m benchmarks.evaluate" + "".join(
            flag
            for flag, on in ((" --quick", args.quick), (" --reuse-scifact", args.reuse_scifact))
            if on
        )
        body = stamp(command) + "\n"
        if args.reuse_scifact and saved.exists():
            body += (
                f"- SciFact rows reused from the full run of {load_retrieval(saved)[1]} "
                "(same code for retrieval; `make eval` without the flag runs them again)\n"
            )
        body += "\n" + markdown_table(header, rows) + "\n"
        if retrieval:
            plots.plot_ndcg(
                {k: v.ndcg10 for k, v in retrieval.items()},
                baselines={"BM25 0.676": 0.676, "MiniLM 0.645": 0.645},
            )
            body += "\n![nDCG@10 per configuration](ndcg.png)\n"
        write_section("Quality (make eval)", body + "\n" + NOTES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
