#!/usr/bin/env python
"""CPU cost of the ranking stage (`qa/rank.py`): ordering a question's fused top 10 by the fitted model —
features (coverage, asked kind, similarities already on the hits) and the logistic score — over dev
questions of both languages in hybrid mode, medians of per-question CPU time, beside the search it follows.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_rank.py [--questions 200] [--rounds 3]

The questions are analysed and searched once; the search is then timed again (its query vector cached) and
the ranking alone, alternating, each round.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--index-dir", type=Path, default=REPO / "var" / "index")
    args = p.parse_args()

    from policyqa.corpus import default_corpus_dir
    from policyqa.eval.dataset import load_questions
    from policyqa.qa.engine import Engine, EngineConfig

    loaded = Engine(EngineConfig(corpus_dir=default_corpus_dir(), index_dir=args.index_dir)).warm_up()
    s, a = loaded.searcher, loaded.answerer
    if not s.dense_available:
        raise SystemExit("the dense leg is not available: the ranking stage runs in hybrid mode only")
    qs = load_questions(split="dev")
    half = args.questions // 2
    picked = [q for q in qs if q.lang == "zh"][:half] + [q for q in qs if q.lang == "en"][: args.questions - half]
    analysed = [a.analyse(s, q.question) for q in picked]
    found = [list(s.search(q, top_k=10).hits) for q in analysed]
    search_ms: dict[str, list[float]] = {"zh": [], "en": []}
    rank_ms: dict[str, list[float]] = {"zh": [], "en": []}
    for _ in range(args.rounds):
        for q, hits in zip(analysed, found):
            t = time.process_time()
            s.search(q, top_k=10)
            search_ms[q.lang].append((time.process_time() - t) * 1000)
            t = time.process_time()
            a.ranker.rank(q, hits)
            rank_ms[q.lang].append((time.process_time() - t) * 1000)
    for lang in ("zh", "en"):
        print(f"{lang}: {len(rank_ms[lang]) // args.rounds} questions × {args.rounds} rounds — search median "
              f"{statistics.median(search_ms[lang]):.2f} ms CPU, ranking median {statistics.median(rank_ms[lang]):.2f} ms CPU")


if __name__ == "__main__":
    main()
