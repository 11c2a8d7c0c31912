#!/usr/bin/env python
"""CPU cost of refining an English question's fused order by its closest-sentence cosines
(`FusionConfig.sentence_weight_en`): `Searcher.search` in hybrid mode over the dev half's English questions,
with the refinement off and on, alternating, medians of per-search CPU time.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_rerank.py [--questions 200] [--rounds 3]

The first round encodes each question once (the encoder caches it), so it is left out of the figures: what
is compared is the search after encoding, where the refinement's extra cosines are spent.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
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
    analysed = [a.analyse(s, q.question) for q in load_questions(split="dev") if q.lang == "en"][: args.questions]
    on = s.fusion
    off = dataclasses.replace(on, sentence_weight_en=0.0)
    for aq in analysed:  # encode every question once (cached): not part of the comparison
        s.search(aq, top_k=5)
    medians: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(args.rounds):
        for name, fusion in (("off", off), ("on", on)):
            s.fusion = fusion
            t = []
            for aq in analysed:
                t0 = time.process_time()
                s.search(aq, top_k=5)
                t.append(time.process_time() - t0)
            medians[name].append(statistics.median(t) * 1e3)
    s.fusion = on
    for name, m in medians.items():
        print(f"refinement {name:3s}: median CPU per English hybrid search {statistics.median(m):.2f} ms "
              f"(rounds: {', '.join(f'{x:.2f}' for x in m)}; {len(analysed)} questions)")


if __name__ == "__main__":
    main()
