#!/usr/bin/env python
"""The index in Milvus (Milvus Lite) against the embedded index (bm25s + FAISS) on synthetic clauses:
build time, start-up, search p50/p99 unfiltered and filtered, RSS.

    .venv/bin/python scripts/bench_milvus.py                          # 10k and 100k clauses
    .venv/bin/python scripts/bench_milvus.py --clauses 10000 --runs 1 # smoke run
    .venv/bin/python scripts/bench_milvus.py --clauses 1000000        # 1M (hours with Milvus Lite)

For each size N the clauses are made deterministically (``--seed``) by ``bench_retrieval.synthetic_corpus``
(real sentences recombined, grouped in documents of 1,000 clauses, each with a (责任单位:…) list) and
tokenized once (jieba and bigram, in worker processes, timed apart). The dense leg gets random unit
384-dim vectors of low intrinsic dimension (``bench_retrieval.embedding_like_vectors``), queries drawn
the same way: no model runs, so query encoding is not in the figures, and no sentence vectors.

Each backend then runs in fresh processes, so one's memory never counts against the other:
- **build**: both keyword legs from the tokens and the dense leg (FAISS flat) from the vectors, written
  to a folder — and, for Milvus, into a Milvus Lite file; median of ``--runs``;
- **start-up**: a new process loads that folder (Milvus: opens the Lite file, loads the collections) and
  answers one search; median of ``--runs`` processes; RSS after start-up is that process's;
- **search**: ``Searcher.search`` in hybrid mode (both keyword legs + dense, fused), top 10, over the Chinese
  questions of eval/questions.jsonl; unfiltered, and filtered to one document (1,000 clauses) and one
  agency. The embedded index applies a filter as a mask over passage positions inside each leg; Milvus
  as an expression inside its search. ``--search-budget S`` stops a case's sampling after S seconds (a
  Milvus Lite agency filter at 100k clauses takes seconds a search); ``n`` says how many were taken.

Progress and each figure are logged to stderr as soon as they are measured, and the JSON is rewritten
after every phase, so a run stopped part-way still leaves what it measured.

Everything ran on a shared 2-core machine: figures are under load (``load1`` is printed per phase).
Writes artifacts/bench/milvus.json and prints a Markdown table.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import REPO, current_rss_mib, latency_stats, load_questions  # noqa: E402

DIM = 384


def load1() -> float:
    return os.getloadavg()[0]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- data, shared by both backends --------------------------------------------------------------


def prepare(n: int, seed: int, workdir: Path, workers: int, n_queries: int) -> dict:
    """Clauses, tokens and vectors for N, kept in ``workdir`` (made once per N and seed)."""
    from bench_retrieval import embedding_like_vectors, synthetic_corpus, tokenize_all

    from policyqa.corpus import load_corpus
    from policyqa.index.store import indexable, passage_index_text
    from policyqa.index.tokenize import user_dictionary

    data = workdir / f"data-{n}-{seed}.pkl"
    if data.exists():
        return pickle.loads(data.read_bytes())["info"]
    real = load_corpus()
    syn = synthetic_corpus(real, n, seed)
    texts = [passage_index_text(p) for p in indexable(syn, 400)]
    words = user_dictionary(real.clauses)
    out = {"texts": len(texts), "tokenize": {}}
    tokens = {}
    for name in ("jieba", "bigram"):
        log(f"N={n:,}: tokenizing {len(texts):,} passages with {name}")
        tokens[name], out["tokenize"][name] = tokenize_all(name, words, texts, workers)
    vectors, queries = embedding_like_vectors(len(texts), n_queries, DIM, seed)
    data.write_bytes(pickle.dumps({"tokens": tokens, "vectors": vectors, "queries": queries, "info": out}, protocol=5))
    return out


class FixedQueries:
    """The dense leg's encoder for the benchmark: question i ↦ the i-th query vector (no model)."""

    def __init__(self, questions: list[str], vectors: np.ndarray) -> None:
        self._vectors = vectors
        self.dimension = vectors.shape[1]

    def encode_query(self, query: str) -> np.ndarray:
        # the searcher normalises a question first: a stable hash of what it passes picks the vector
        return self._vectors[zlib.crc32(query.encode("utf-8")) % len(self._vectors)]

    def encode_passages(self, texts):  # never called: the vectors are given
        raise AssertionError("the benchmark gives the passage vectors")


def _setup(n: int, seed: int, workdir: Path, n_queries: int):
    from bench_retrieval import synthetic_corpus

    from policyqa.corpus import load_corpus
    from policyqa.index.store import indexable

    syn = synthetic_corpus(load_corpus(), n, seed)
    passages = indexable(syn, 400)
    data = pickle.loads((workdir / f"data-{n}-{seed}.pkl").read_bytes())
    questions = load_questions(n_queries)
    return syn, passages, data, questions


# --- phases, each in its own process ------------------------------------------------------------


def phase_build(args) -> dict:
    from bench_retrieval import Pretokenized

    from policyqa.index.backends import DenseBackend, KeywordBackend
    from policyqa.index.store import passage_index_text

    syn, passages, data, questions = _setup(args.clauses, args.seed, args.workdir, args.queries)
    texts = [passage_index_text(p) for p in passages]
    encoder = FixedQueries(questions, data["queries"])
    folder = args.workdir / f"index-{args.backend}-{args.clauses}"
    times = []
    for run in range(args.runs):
        shutil.rmtree(folder, ignore_errors=True)
        t0 = last = time.perf_counter()

        def step(what: str) -> None:  # each part of a build as it ends: a stopped run still says where time went
            nonlocal last
            now = time.perf_counter()
            log(f"{args.backend} N={args.clauses:,}: {what} in {now - last:.1f} s (load1 {load1():.1f})")
            last = now

        keyword = {t: KeywordBackend.build(texts, Pretokenized(t, texts, data["tokens"][t])) for t in ("jieba", "bigram")}
        dense = DenseBackend.build(texts, encoder, "flat", vectors=data["vectors"])
        step("bm25s legs and FAISS flat built")
        if args.backend == "milvus":
            from policyqa.index.milvus_store import MilvusDenseBackend, MilvusKeywordBackend, PassageMeta, connect

            uri = str(args.workdir / f"milvus-{args.clauses}.db")
            client = connect(uri)
            for name in client.list_collections():
                client.drop_collection(name)
            meta = PassageMeta.of(passages)
            base = f"bench{args.clauses}r{run}"
            for t, b in keyword.items():
                keyword[t] = MilvusKeywordBackend.from_keyword(b, meta, uri, f"{base}_bm25_{t}")
                step(f"Milvus keyword leg {t} written")
            dense = MilvusDenseBackend.from_dense(dense, meta, uri, base)
            step("Milvus dense leg written")
        for t, b in keyword.items():
            b.save(folder / f"bm25-{t}")
        dense.save(folder / "dense")
        times.append(time.perf_counter() - t0)
        log(f"{args.backend} N={args.clauses:,}: build {run + 1}/{args.runs} in {times[-1]:.1f} s (load1 {load1():.1f})")
    return {"build_s": times, "rss_after_build_mib": current_rss_mib(), "passages": len(passages), "load1": load1()}


def phase_serve(args) -> dict:
    t0 = time.perf_counter()
    from policyqa.index.backends import DenseBackend, KeywordBackend
    from policyqa.index.store import IndexBundle
    from policyqa.index.tokenize import make_tokenizer, user_dictionary
    from policyqa.qa.search import Searcher, SearchFilters

    syn, passages, data, questions = _setup(args.clauses, args.seed, args.workdir, args.queries)
    encoder = FixedQueries(questions, data["queries"])
    setup_s = time.perf_counter() - t0  # making the synthetic corpus: not part of a real start
    t1 = time.perf_counter()
    folder = args.workdir / f"index-{args.backend}-{args.clauses}"
    from policyqa.corpus import load_corpus

    words = user_dictionary(load_corpus().clauses)
    keyword = {t: KeywordBackend.load(folder / f"bm25-{t}", make_tokenizer(t, words)) for t in ("jieba", "bigram")}
    dense = DenseBackend.load(folder / "dense", encoder)
    bundle = IndexBundle(passages, keyword, dense)
    searcher = Searcher(syn, bundle, mode="hybrid")
    searcher.search(questions[0], 10)
    startup_s = time.perf_counter() - t1
    out = {"startup_s": startup_s, "corpus_setup_s": setup_s, "rss_after_start_mib": current_rss_mib(), "load1": load1()}
    log(f"{args.backend} N={args.clauses:,}: start-up {startup_s:.1f} s, RSS after start {out['rss_after_start_mib']:.0f} MiB "
        f"(corpus setup {setup_s:.1f} s, not counted; load1 {out['load1']:.1f})")
    if not args.search:
        return out
    doc = syn.documents[len(syn.documents) // 2].document.doc_id
    agency = max(
        ((a, sum(a in c.agencies for c in syn.clauses)) for a in {a for c in syn.clauses[:2000] for a in c.agencies}),
        key=lambda x: x[1],
    )[0]
    cases = {
        "unfiltered": (SearchFilters(), questions),
        "filtered: one document": (SearchFilters(doc_ids=(doc,)), questions),
        "filtered: one agency": (SearchFilters(agencies=(agency,)), questions),
    }
    for label, (filters, qs) in cases.items():
        for q in qs[:3]:
            searcher.search(q, 10, filters)  # warm
        samples = []
        deadline = time.perf_counter_ns() + args.search_budget * 1e9 if args.search_budget else None
        planned = [q for _ in range(args.search_repeats) for q in qs]
        for q in planned:
            s = time.perf_counter_ns()
            searcher.search(q, 10, filters)
            samples.append(time.perf_counter_ns() - s)
            if deadline and time.perf_counter_ns() > deadline:
                break
        out[label] = {**latency_stats(samples), "planned": len(planned), "load1": load1()}
        log(f"{args.backend} N={args.clauses:,} {label}: p50 {out[label]['p50_ms']:.1f} ms, p99 {out[label]['p99_ms']:.1f} ms "
            f"(n {out[label]['n']}, load1 {out[label]['load1']:.1f})")
    out["rss_after_search_mib"] = current_rss_mib()
    return out


def run_phase(args, phase: str, backend: str, n: int, search: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--backend", backend, "--clauses", str(n), "--seed", str(args.seed),
           "--workdir", str(args.workdir), "--runs", str(args.runs), "--queries", str(args.queries),
           "--search-repeats", str(args.search_repeats), "--search-budget", str(args.search_budget)]
    if search:
        cmd.append("--search")
    # the phase's log goes straight to ours: a long phase shows its progress (and figures) as it runs
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{phase} {backend} N={n} failed (exit {out.returncode}; its log is above)")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clauses", default="10000,100000", help="comma-separated sizes")
    ap.add_argument("--backends", default="embedded,milvus")
    ap.add_argument("--runs", type=int, default=3, help="builds and start-ups per median")
    ap.add_argument("--queries", type=int, default=40, help="Chinese questions from eval/questions.jsonl")
    ap.add_argument("--search-repeats", type=int, default=3)
    ap.add_argument("--search-budget", type=float, default=0, help="seconds of sampling per search case (0: no limit)")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--workers", type=int, default=2, help="processes tokenizing the synthetic corpus")
    ap.add_argument("--workdir", type=Path, default=None, help="kept between runs (default: a temporary folder)")
    ap.add_argument("--out", type=Path, default=REPO / "artifacts" / "bench" / "milvus.json")
    ap.add_argument("--phase", choices=["build", "serve"], help=argparse.SUPPRESS)
    ap.add_argument("--backend", help=argparse.SUPPRESS)
    ap.add_argument("--search", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        args.clauses = int(args.clauses)
        result = phase_build(args) if args.phase == "build" else phase_serve(args)
        print(json.dumps(result))
        return 0

    temp = None
    if args.workdir is None:
        temp = tempfile.mkdtemp(prefix="bench-milvus-")
        args.workdir = Path(temp)
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict = {"seed": args.seed, "runs": args.runs, "queries": args.queries, "search_repeats": args.search_repeats,
                     "search_budget_s": args.search_budget, "cpus": os.cpu_count(), "sizes": {}}

    def write() -> None:  # after every phase, so a run stopped part-way keeps what it measured
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1))

    try:
        for n in (int(x) for x in args.clauses.split(",")):
            info = prepare(n, args.seed, args.workdir, args.workers, args.queries)
            res = results["sizes"][str(n)] = {"passages": info["texts"], "tokenize": info["tokenize"]}
            write()
            for backend in args.backends.split(","):
                log(f"{backend} N={n:,}: building ({args.runs}×)")
                build = run_phase(args, "build", backend, n)
                r = res[backend] = {"build_median_s": statistics.median(build["build_s"]), "build": build, "starts": []}
                write()
                for i in range(args.runs):
                    r["starts"].append(run_phase(args, "serve", backend, n, search=(i == args.runs - 1)))
                    r["startup_median_s"] = statistics.median(s["startup_s"] for s in r["starts"])
                    r["rss_after_start_median_mib"] = statistics.median(s["rss_after_start_mib"] for s in r["starts"])
                    write()
    finally:
        write()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    print(table(results))
    return 0


def table(results: dict) -> str:
    rows = ["| clauses (passages) | backend | build | start-up | RSS after start | search p50 / p99: unfiltered | one document | one agency |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n, res in results["sizes"].items():
        for backend in ("embedded", "milvus"):
            if backend not in res or not res[backend]["starts"]:
                continue
            r = res[backend]
            s = r["starts"][-1]

            def lat(k, s=s):
                if k not in s:
                    return "—"
                cut = f" (n {s[k]['n']})" if s[k]["n"] < s[k]["planned"] else ""  # a --search-budget stopped the case
                return f"{s[k]['p50_ms']:.1f} / {s[k]['p99_ms']:.1f} ms{cut}"

            rows.append(
                f"| {int(n):,} ({res['passages']:,}) | {backend} | {r['build_median_s']:.1f} s | {r['startup_median_s']:.1f} s | "
                f"{r['rss_after_start_median_mib']:.0f} MiB | {lat('unfiltered')} | {lat('filtered: one document')} | "
                f"{lat('filtered: one agency')} |"
            )
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
