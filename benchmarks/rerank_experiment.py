"""Standalone: does re-ordering RRF's top candidates by the best *sentence* cosine help?

Train queries only (tuning). Embeds every sentence of the candidate abstracts, so it is slow
(about 150 s for 150 queries x top 20 on 2 cores). Run: `python -m benchmarks.rerank_experiment
[queries] [top] [rrf|minmax]`.
"""

from __future__ import annotations

import logging
import sys

import numpy as np

from benchmarks import experiment as ex
from benchmarks.beir import SCIFACT_DIR, load_corpus, load_qrels, load_queries
from benchmarks.metrics import mean, ndcg_at_k


def _z(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() + 1e-9)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    if not SCIFACT_DIR.exists():
        print(f"SciFact not found at {SCIFACT_DIR}; skipping.")
        return 0
    from bot.config import Settings
    from bot.embeddings import load_embedder
    from bot.sentences import split_sentences

    n_queries = int(argv[0]) if argv else 150
    top_n = int(argv[1]) if len(argv) > 1 else 20
    docs = load_corpus(SCIFACT_DIR)
    ids = [d.doc_id for d in docs]
    queries = load_queries(SCIFACT_DIR)
    qrels = load_qrels(SCIFACT_DIR, "train")
    qids = list(qrels)[:n_queries]
    embedder = load_embedder(Settings())
    q_vec = embedder.embed_documents([queries[q] for q in qids])
    chunk_vec, owner = ex._chunk_vectors(docs)
    if chunk_vec is None:
        print("no chunk vectors; run benchmarks.experiment first")
        return 1
    dense = ex._max_over_chunks(q_vec @ chunk_vec.T, owner, len(docs))
    bm25 = ex._bm25(docs, [queries[q] for q in qids])
    base_name = argv[2] if len(argv) > 2 else "rrf"
    if base_name == "minmax":  # min-max over each retriever's top 100, dense weight 0.5
        fused = 0.5 * ex._minmax(bm25, 100) + 0.5 * ex._minmax(dense, 100)
    else:
        fused = ex.rrf([ex._ranks(bm25), ex._ranks(dense)], 20, [1.0, 1.0])
    top = np.argsort(-fused, axis=1)[:, :top_n]
    needed = sorted(set(top.ravel().tolist()))
    sentences, sentence_owner = [], []
    for j in needed:
        for sentence in split_sentences(docs[j].text):
            sentences.append(sentence)
            sentence_owner.append(j)
    s_vec = embedder.embed_documents(sentences)
    s_owner = np.asarray(sentence_owner)
    base: list[float] = []
    blended: dict[float, list[float]] = {}
    for i, qid in enumerate(qids):
        candidates = top[i]
        sims = q_vec[i] @ s_vec.T
        best = np.asarray([sims[s_owner == j].max() for j in candidates])
        fz, bz = _z(fused[i, candidates]), _z(best)
        base.append(ndcg_at_k([ids[j] for j in candidates], qrels[qid]))
        for beta in (0.1, 0.2, 0.3, 0.5):
            order = candidates[np.argsort(-((1 - beta) * fz + beta * bz))]
            blended.setdefault(beta, []).append(ndcg_at_k([ids[j] for j in order], qrels[qid]))
    print(f"train queries {len(qids)}, top {top_n}, {len(sentences)} sentences")
    print(f"{base_name:30s} nDCG@10 {mean(base):.3f}")
    for beta, values in blended.items():
        print(f"+ {beta:.1f} * z(max sentence cos)  nDCG@10 {mean(values):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
