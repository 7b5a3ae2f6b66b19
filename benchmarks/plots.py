"""Matplotlib PNGs for docs/: nDCG@10 per retrieval configuration, latency percentiles."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from benchmarks.report import DOCS

log = logging.getLogger(__name__)


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib missing (pip install matplotlib==3.10.8); no plot written")
        return None
    return plt


def plot_ndcg(
    scores: dict[str, float],
    path: Path = DOCS / "ndcg.png",
    baselines: dict[str, float] | None = None,
) -> Path | None:
    plt = _pyplot()
    if plt is None or not scores:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(scores)
    bars = ax.bar(names, [scores[n] for n in names], color="#4c78a8")
    ax.bar_label(bars, fmt="%.3f")
    for label, value in (baselines or {}).items():
        ax.axhline(value, linestyle="--", linewidth=1, color="gray")
        ax.text(len(names) - 0.5, value, label, va="bottom", ha="right", fontsize=8)
    ax.set_ylabel("nDCG@10 (SciFact test, 300 queries)")
    ax.set_ylim(0.5, max(scores.values()) + 0.05)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_latency(
    series: dict[str, dict[str, float]], path: Path = DOCS / "latency.png"
) -> Path | None:
    """series: name -> {"p50": ms, "p95": ms, "p99": ms}."""
    plt = _pyplot()
    if plt is None or not series:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.5))
    quantiles = ["p50", "p95", "p99"]
    width = 0.8 / len(quantiles)
    for i, q in enumerate(quantiles):
        xs = [j + i * width for j in range(len(series))]
        bars = ax.bar(xs, [s.get(q, 0.0) for s in series.values()], width, label=q)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks([j + width for j in range(len(series))], list(series), fontsize=8)
    ax.set_ylabel("milliseconds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
