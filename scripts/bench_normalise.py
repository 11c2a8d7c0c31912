#!/usr/bin/env python
"""Per-call cost of the question's traditional → simplified normalisation (qa/analysis.py `normalise`,
its own cache bypassed) against plain whole-text OpenCC t2s (what it replaced; identical output), on random
500-character strings, in this process: medians.

    .venv/bin/python scripts/bench_normalise.py              # 300 strings of each kind
    .venv/bin/python scripts/bench_normalise.py --strings 1000

Kinds: uniform CJK (U+4E00–U+9FA5, as the hostile case of bench_cpu.py) and half of the characters drawn from
OpenCC's dictionary keys (mostly traditional forms). normalise is measured on the strings first seen (its
table and phrase-run cache filling) and again on new ones.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from policyqa.corpus.rules import normalize
from policyqa.qa import analysis


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--strings", type=int, default=300, help="strings of each kind (default 300)")
    p.add_argument("--length", type=int, default=500)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    rng = random.Random(a.seed)
    cc = analysis._opencc()
    keys = sorted({ch for _max, _min, table in cc.dict_cache.values() for key in table for ch in key})

    def uniform() -> str:
        return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(a.length))

    def traditional() -> str:
        return "".join(rng.choice(keys) if rng.random() < 0.5 else chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(a.length))

    def median_us(f, strings) -> float:
        ts = []
        for s in strings:
            t = time.perf_counter()
            f(s)
            ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1e6

    def plain(s: str) -> str:
        return cc.convert(normalize(s).strip())

    new = analysis.normalise.__wrapped__
    for name, make in (("uniform U+4E00-9FA5", uniform), ("half dictionary chars", traditional)):
        first, again = [make() for _ in range(a.strings)], [make() for _ in range(a.strings)]
        row = {"plain OpenCC": median_us(plain, first), "normalise (first)": median_us(new, first), "normalise (again)": median_us(new, again)}
        assert all(new(s) == plain(s) for s in first + again), "normalise differs from plain OpenCC"
        print(f"{name:22s} " + "  ".join(f"{k} {v:7.0f} us ({v / a.length:.2f} us/char)" for k, v in row.items()))


if __name__ == "__main__":
    main()
