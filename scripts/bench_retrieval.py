#!/usr/bin/env python
"""Retrieval benchmark: index build time, search latency (p50/p99) and peak memory.

    .venv/bin/python scripts/bench_retrieval.py                  # full run (~9 min on 2 cores)
    .venv/bin/python scripts/bench_retrieval.py --quick          # smoke run: 10k clauses, fewer repeats
    .venv/bin/python scripts/bench_retrieval.py --clauses 50000  # another synthetic size

What it measures, all in one process (in-process latency: no HTTP, no serialisation):

1. The real corpus (five documents): ``build_index`` lexical and hybrid (median of 3 builds), then
   ``Searcher.search`` latency per mode over ~40 Chinese questions from ``eval/questions.jsonl``.
   The dense leg uses a *tiny random-weight 32-dim model* built locally by ``tests/tiny_model.py``
   (there is no model hub here): its numbers are a lower bound for a real 384-dim model.
2. N synthetic clauses (default 100,000) made by perturbing the real ones with a fixed seed: jieba and
   bigram tokenization (timed separately, in worker processes), ``KeywordBackend.build`` on the tokens,
   ``KeywordBackend.search(q, 100)`` latency (target: p99 < 5 ms at 100k) and the full lexical
   ``Searcher`` path over a Corpus of fake documents.
3. rank_bm25's ``BM25Okapi`` (what LangChain's BM25Retriever uses) on the same tokens and queries.
4. FAISS alone (flat vs HNSW, the project's settings) over N random unit 384-dim vectors of low
   intrinsic dimension, like sentence embeddings: what a real model's index would cost to build and
   search, query encoding excluded.

Prints one Markdown table (for the README) and writes the raw numbers to ``artifacts/bench/retrieval.json``.
"""

from __future__ import annotations

import os

# Never reach for a model hub: the only model used is built locally. Set before anything imports
# transformers / huggingface_hub, which read these at import time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import multiprocessing as mp  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from bench_common import (  # noqa: E402
    REPO,
    PeakRSS,
    Table,
    Timed,
    build_stats,
    environment,
    fmt_ms,
    fmt_s,
    latency_stats,
    load_questions,
    md_table,
    repeats_for,
    time_each,
    time_runs,
    write_json,
)

from policyqa.corpus import Clause, Corpus, ParsedDocument, Span, load_corpus  # noqa: E402
from policyqa.corpus.rules import find_agency_list  # noqa: E402
from policyqa.index.backends import DenseBackend, KeywordBackend, _top_k  # noqa: E402
from policyqa.index.store import IndexBundle, build_index, indexable, passage_index_text  # noqa: E402
from policyqa.index.tokenize import TOKENIZERS, make_tokenizer, user_dictionary  # noqa: E402
from policyqa.qa.search import Searcher  # noqa: E402

DEFAULT_OUT = REPO / "artifacts" / "bench" / "retrieval.json"
PASSAGE_MAX_CHARS = 400  # build_index's default
KEYWORD_K = 100  # what Searcher asks each keyword leg for (FusionConfig.depth)
TARGET_P99_MS = 5.0
FAISS_DIM = 384  # a typical small multilingual sentence-transformers model (e.g. MiniLM-L12, e5-small)

_T0 = time.perf_counter()


def load1() -> float:
    """1-minute load average: recorded next to latency series, since other work on a 2-core machine
    (and torch's 2 intra-op threads then waiting for a core) shows up in p99 first."""
    return round(os.getloadavg()[0], 2)


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


@dataclasses.dataclass(frozen=True)
class Config:
    clauses: int
    builds: int  # index builds per median on the real corpus
    synthetic_builds: int  # KeywordBackend builds per median on the synthetic corpus
    min_searches: int  # timed searches per latency series (at least)
    questions: int
    rank_bm25_queries: int
    workers: int
    threads: int | None
    seed: int
    faiss: bool
    out: Path
    quick: bool


def parse_args(argv: list[str] | None = None) -> Config:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 10k synthetic clauses, fewer repeats")
    ap.add_argument("--clauses", type=int, help="synthetic clauses (default 100000, 10000 with --quick)")
    ap.add_argument("--synthetic-builds", type=int, default=1, help="KeywordBackend builds per tokenizer at N clauses (median; default 1)")
    ap.add_argument("--questions", type=int, default=40, help="Chinese questions taken from eval/questions.jsonl")
    ap.add_argument("--seed", type=int, default=20260101, help="seed of the synthetic corpus and random vectors")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes for tokenizing the synthetic corpus")
    ap.add_argument("--threads", type=int, help="intra-op threads for torch and FAISS (default: their own, one per core)")
    ap.add_argument("--no-faiss", action="store_true", help="skip the 384-dim FAISS section (HNSW build is the slowest step)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output (default artifacts/bench/retrieval.json)")
    a = ap.parse_args(argv)
    clauses = a.clauses or (10_000 if a.quick else 100_000)
    if clauses < 1:
        ap.error("--clauses must be positive")
    return Config(
        clauses=clauses,
        builds=1 if a.quick else 3,
        synthetic_builds=max(1, a.synthetic_builds),
        min_searches=100 if a.quick else 500,
        questions=a.questions,
        rank_bm25_queries=10 if a.quick else 30,
        workers=max(1, a.workers),
        threads=a.threads,
        seed=a.seed,
        faiss=not a.no_faiss,
        out=a.out,
        quick=a.quick,
    )


def with_samples(stats: dict[str, Any], samples_ns: list[int]) -> dict[str, Any]:
    """Latency summary, the load average when it ended, and every raw sample (µs) for the JSON file."""
    ctx = samples_ns.context() if isinstance(samples_ns, Timed) else {}
    return {**stats, **ctx, "loadavg_1min_after": load1(), "samples_us": [round(s / 1000, 1) for s in samples_ns]}


# --- 1. the real corpus ---------------------------------------------------------------------------


def bench_real(cfg: Config, queries: list[str], table: Table, mem: list[tuple]) -> tuple[Corpus, dict]:
    res: dict[str, Any] = {}
    log("real corpus: loading")
    times, corpus = time_runs(load_corpus, cfg.builds)
    res["load_corpus"] = build_stats(times)
    n_passages = len(indexable(corpus, PASSAGE_MAX_CHARS))
    res["corpus"] = {"documents": len(corpus.documents), "clauses": len(corpus.clauses), "passages": n_passages}
    label = f"real, {len(corpus.documents)} docs / {n_passages} passages"
    table.build(label, "load_corpus (parse 5 files)", res["load_corpus"])

    log(f"real corpus: lexical build_index ×{cfg.builds}")
    with PeakRSS() as m:
        times, _ = time_runs(lambda: build_index(corpus), cfg.builds)
    res["build_lexical"] = {**build_stats(times), "memory": m.as_dict()}
    table.build(label, "build_index lexical (jieba + bigram)", res["build_lexical"], "includes jieba dictionary load (each build makes fresh tokenizers)")
    mem.append((label, "build_index lexical", m))

    # English questions in lexical mode: the CC-CEDICT translator is built once per corpus at start-up,
    # then every English question is translated before the keyword legs run.
    from policyqa.qa.agencies import AgencyDirectory
    from policyqa.qa.engine import assemble
    from policyqa.qa.translate import QueryTranslator, corpus_text

    lex = build_index(corpus)
    en_queries = load_questions(10_000, lang="en")
    log(f"real corpus: translator build ×{cfg.builds}, then {len(en_queries)} English questions")
    searcher_en, answerer_en = assemble(corpus, lex, AgencyDirectory.load(), mode="lexical")
    text = corpus_text(corpus.clauses)
    with PeakRSS() as m:
        times, translator = time_runs(lambda: QueryTranslator(text, vocabulary=answerer_en.vocabulary), cfg.builds)
    res["build_translator"] = {**build_stats(times), "memory": m.as_dict()}
    table.build(label, "QueryTranslator (CC-CEDICT → corpus terms)", res["build_translator"], "once per corpus, at start-up and reindex")
    repeats = repeats_for(len(en_queries), cfg.min_searches)
    samples = time_each(translator.translate, en_queries, repeats=repeats)
    stats = latency_stats(samples)
    res["translate_en"] = with_samples(stats, samples)
    table.latency(label, "translate one English question", stats, "stemming + gloss lookup + compounds", samples)
    samples = time_each(lambda q: searcher_en.search(q, top_k=10), en_queries, repeats=repeats)
    stats = latency_stats(samples)
    res["search_en_lexical"] = with_samples(stats, samples)
    table.latency(label, "Searcher.search top 10, lexical, English", stats, "translation + 2 keyword legs + RRF", samples)

    sys.path.insert(0, str(REPO / "tests"))
    from tiny_model import build_tiny_model  # noqa: E402  (tests/ is not a package)

    from policyqa.index.embedding import Embedder

    with tempfile.TemporaryDirectory(prefix="bench-tiny-model-") as tmp:
        log("real corpus: building the tiny 32-dim model locally")
        t0 = time.perf_counter()
        model_dir = build_tiny_model(Path(tmp), [c.text for c in corpus.clauses], dim=32)
        res["tiny_model_build_s"] = time.perf_counter() - t0
        embedder = Embedder(str(model_dir))
        t0 = time.perf_counter()
        embedder.warm_up()  # model load is a one-off at service start, not part of an index build
        res["tiny_model_load_s"] = time.perf_counter() - t0

        log(f"real corpus: hybrid build_index ×{cfg.builds}")
        with PeakRSS() as m:
            times, bundle = time_runs(lambda: build_index(corpus, embedder=embedder), cfg.builds)
        if bundle.dense is None:
            raise RuntimeError(f"the tiny model did not load: {embedder.error}")
        res["build_hybrid"] = {**build_stats(times), "memory": m.as_dict(), "dimension": bundle.dimension}
        table.build(label, "build_index hybrid (+ encode + FAISS flat)", res["build_hybrid"], "tiny 32-dim model")
        mem.append((label, "build_index hybrid (torch loaded)", m))

        searcher = Searcher(corpus, bundle, mode="hybrid")
        repeats = repeats_for(len(queries), cfg.min_searches)
        res["search"] = {}
        with PeakRSS() as m:
            for mode in ("lexical", "hybrid", "dense"):
                log(f"real corpus: Searcher.search mode={mode}, {repeats}×{len(queries)} queries (load {load1()})")
                used = searcher.search(queries[0], top_k=10, mode=mode).mode
                if used != mode:  # a silent fallback to lexical would make the numbers meaningless
                    raise RuntimeError(f"asked for {mode} search, got {used}")
                samples = time_each(lambda q, mode=mode: searcher.search(q, top_k=10, mode=mode), queries, repeats=repeats)
                stats = latency_stats(samples)
                res["search"][mode] = with_samples(stats, samples)
                note = "tiny 32-dim model (a real 384-dim one encodes slower)" if mode != "lexical" else "2 keyword legs (depth 100) + RRF"
                table.latency(label, f"Searcher.search top 10, {mode}", stats, note, samples)
        res["search"]["memory"] = m.as_dict()
        mem.append((label, "Searcher.search, all modes", m))

        # torch runs one encode on all cores by default. With 2 cores and any other load, a 2-thread
        # region waits for the thread that lost its core; one thread shows how much that costs.
        import torch

        threads = torch.get_num_threads()
        if threads > 1:
            torch.set_num_threads(1)
            try:
                for mode in ("hybrid", "dense"):
                    log(f"real corpus: Searcher.search mode={mode} with torch on 1 thread (load {load1()})")
                    samples = time_each(lambda q, mode=mode: searcher.search(q, top_k=10, mode=mode), queries, repeats=repeats)
                    stats = latency_stats(samples)
                    res["search"][f"{mode}_torch_1_thread"] = with_samples(stats, samples)
                    table.latency(label, f"Searcher.search top 10, {mode}, torch 1 thread", stats, f"as above, torch.set_num_threads(1) instead of {threads}", samples)
            finally:
                torch.set_num_threads(threads)

        # What the dense leg spends: the query encoder, not FAISS (253 vectors).
        samples = time_each(lambda q: embedder.encode_queries([q]), queries, repeats=repeats)
        stats = latency_stats(samples)
        res["encode_query_tiny"] = with_samples(stats, samples)
        table.latency(label, "encode one query (tiny model)", stats, "Embedder.encode_queries, one query: inside every dense/hybrid search", samples)
    return corpus, res


# --- 2. synthetic clauses ------------------------------------------------------------------------

# A sentence ends at 。；！？ or at the ASCII '.' that the plain-text conversion of two documents left
# (but not at a decimal point).
_SENTENCE = re.compile(r".+?(?:[。；！？;!?]|(?<!\d)\.(?!\d)|$)", re.S)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")  # \d also matches the full-width digits some documents use


def synthetic_corpus(real: Corpus, n: int, seed: int, per_doc: int = 1000) -> Corpus:
    """``n`` clause-like records made by perturbing real clauses, deterministically for ``seed``.

    Each takes a real clause and: keeps its lead sentence (often its title) in front and shuffles the
    rest; drops each other sentence with p=0.2; duplicates one with p=0.2; splices in 1–2 sentences
    from other clauses with p=0.5; replaces every number with one printed elsewhere in the corpus; and
    ends with the (责任单位:…) list of another clause, which becomes its ``agencies``.

    The vocabulary stays the real one, recombined: posting lists are about as long, relative to N, as
    in the five documents. Records are grouped into fake documents of ``per_doc`` clauses, so that a
    real ``Corpus`` and ``Searcher`` can be built around them.
    """
    rng = random.Random(seed)
    templates: list[tuple[Clause, list[str]]] = []
    agency_lists: list[tuple[str, ...]] = []
    for c in real.clauses:
        if c.kind == "section" or not c.text.strip():
            continue  # heading-only records are not indexed
        loc = find_agency_list(c.text)
        body = c.text[: loc[0]] if loc else c.text
        sentences = [s for s in _SENTENCE.findall(body) if s.strip()]
        if sentences:
            templates.append((c, sentences))
        if c.agencies:
            agency_lists.append(c.agencies)
    pool = [s for _, ss in templates for s in ss]
    numbers = sorted({m for c in real.clauses for m in _NUMBER.findall(c.text)})
    has_agencies = sum(1 for c, _ in templates if c.agencies) / len(templates)

    records: list[tuple[Clause, str, tuple[str, ...]]] = []
    for _ in range(n):
        base, sentences = templates[rng.randrange(len(templates))]
        lead, rest = sentences[:1], sentences[1:]
        rng.shuffle(rest)
        rest = [s for s in rest if rng.random() >= 0.2]
        if rest and rng.random() < 0.2:
            rest.insert(rng.randrange(len(rest) + 1), rng.choice(rest))
        if rng.random() < 0.5:
            for _ in range(rng.randint(1, 2)):
                rest.insert(rng.randrange(len(rest) + 1), rng.choice(pool))
        text = "".join(lead + rest)
        if numbers:
            text = _NUMBER.sub(lambda _m: rng.choice(numbers), text)
        agencies: tuple[str, ...] = ()
        if agency_lists and rng.random() < has_agencies:
            agencies = rng.choice(agency_lists)
            text += "(责任单位:" + "、".join(agencies) + ")"
        records.append((base, text, agencies))

    # Clause.offsets maps text positions to source positions; synthetic text has no source file, so every
    # clause shares one identity map (a tuple per clause would cost ~0.5 GB at 100k).
    identity = tuple(range(max(len(t) for _, t, _ in records) + 1))
    real_docs = [pd.document for pd in real.documents]
    docs: list[ParsedDocument] = []
    for d, start in enumerate(range(0, n, per_doc)):
        doc = dataclasses.replace(real_docs[d % len(real_docs)], doc_id=f"syn{d:04d}", source_path=f"synthetic/{d:04d}.txt")
        clauses = tuple(
            Clause(
                clause_id=f"{doc.doc_id}:{i}",
                doc_id=doc.doc_id,
                kind=base.kind,
                number=base.number,
                section_path=base.section_path,
                heading=base.heading,
                text=text,
                agencies=agencies,
                source_path=doc.source_path,
                span=Span(0, len(text)),
                order=i,
                offsets=identity,
            )
            for i, (base, text, agencies) in enumerate(records[start : start + per_doc])
        )
        docs.append(ParsedDocument(doc, clauses, (), ""))
    return Corpus(tuple(docs))


# Tokenizing 100k texts with jieba takes ~1 ms each on one core, so it runs once, in worker processes,
# and the tokens are reused by bm25s and rank_bm25. Workers are spawned (not forked): the parent has
# torch and OpenMP thread pools loaded by then, which do not survive a fork reliably.
_worker_tokenizer = None


def _init_worker(name: str, words: list[str]) -> None:
    global _worker_tokenizer
    _worker_tokenizer = make_tokenizer(name, words)
    _worker_tokenizer.tokenize("预热")  # load jieba's dictionary before the clock of the first chunk


def _tokenize_chunk(texts: list[str]) -> tuple[list[list[str]], float]:
    t0 = time.process_time()
    # interning lets pickle send each distinct token once per chunk, and the parent keep far fewer strings
    out = [[sys.intern(t) for t in _worker_tokenizer.tokenize(text)] for text in texts]
    return out, time.process_time() - t0


def tokenize_all(name: str, words: list[str], texts: list[str], workers: int) -> tuple[list[list[str]], dict]:
    chunk = 1000
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    t0 = time.perf_counter()
    tokens: list[list[str]] = []
    cpu = 0.0
    with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(name, words)) as pool:
        for toks, secs in pool.imap(_tokenize_chunk, chunks):
            tokens.extend(toks)
            cpu += secs
    wall = time.perf_counter() - t0
    info = {
        "wall_s": wall,  # includes starting the workers and loading jieba's dictionary in each
        "workers": workers,
        "cpu_s": cpu,  # tokenizing proper, summed over workers: the single-core cost
        "us_per_text": cpu / len(texts) * 1e6,
        "tokens_per_text": sum(map(len, tokens)) / len(tokens),
    }
    return tokens, info


class Pretokenized:
    """A Tokenizer that hands ``KeywordBackend.build`` tokens computed earlier (looked up by text), so the
    build is timed without tokenization. Only used for building; searches use the real tokenizer."""

    def __init__(self, name: str, texts: list[str], tokens: list[list[str]]) -> None:
        self.name = name
        self._by_text = dict(zip(texts, tokens))

    def tokenize(self, text: str) -> list[str]:
        return self._by_text[text]


def bm25s_nbytes(backend: KeywordBackend) -> int:
    scores = backend._bm25.scores  # bm25s's CSC matrix of precomputed per-(token, doc) scores
    return int(sum(v.nbytes for v in scores.values() if isinstance(v, np.ndarray)))


def bench_synthetic(cfg: Config, real: Corpus, queries: list[str], table: Table, mem: list[tuple]) -> dict:
    res: dict[str, Any] = {}
    log(f"synthetic: generating {cfg.clauses:,} clauses (seed {cfg.seed})")
    t0 = time.perf_counter()
    syn = synthetic_corpus(real, cfg.clauses, cfg.seed)
    res["generate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    passages = indexable(syn, PASSAGE_MAX_CHARS)
    texts = [passage_index_text(p) for p in passages]
    words = user_dictionary(syn.clauses)
    res["passages_s"] = time.perf_counter() - t0
    res["corpus"] = {
        "clauses": len(syn.clauses),
        "documents": len(syn.documents),
        "passages": len(passages),
        "mean_chars": sum(map(len, texts)) / len(texts),
        "user_words": len(words),
        "seed": cfg.seed,
    }
    label = f"synthetic, {cfg.clauses:,} clauses / {len(passages):,} passages"
    log(f"synthetic: {len(passages):,} passages, {res['corpus']['mean_chars']:.0f} chars on average")

    tokens: dict[str, list[list[str]]] = {}
    res["tokenize"] = {}
    for name in TOKENIZERS:
        log(f"synthetic: tokenizing with {name} in {cfg.workers} processes")
        tokens[name], info = tokenize_all(name, words, texts, cfg.workers)
        res["tokenize"][name] = info
        table.value(
            label,
            f"tokenize all passages, {name}",
            fmt_s(info["wall_s"]),
            f"{info['workers']} processes; {fmt_s(info['cpu_s'])} CPU = {info['us_per_text']:.0f} µs/text; {info['tokens_per_text']:.0f} tokens/text",
        )

    repeats = repeats_for(len(queries), cfg.min_searches)
    backends: dict[str, KeywordBackend] = {}
    res["keyword"] = {}
    for name in TOKENIZERS:
        log(f"synthetic: KeywordBackend.build ({name}) ×{cfg.synthetic_builds}")
        pre = Pretokenized(name, texts, tokens[name])
        with PeakRSS() as m:
            times, built = time_runs(lambda pre=pre: KeywordBackend.build(texts, pre), cfg.synthetic_builds)
        # the same bm25s index, behind the real tokenizer, exactly as build_index would leave it
        backend = KeywordBackend(make_tokenizer(name, words), built._bm25, len(built))
        backends[name] = backend
        r = {
            "build": {**build_stats(times), "memory": m.as_dict()},
            "index_mib": round(bm25s_nbytes(backend) / 2**20, 1),
            "vocabulary": len(backend._bm25.vocab_dict),
        }
        table.build(label, f"KeywordBackend.build bm25-{name} (tokens given)", r["build"], f"index arrays {r['index_mib']} MiB, vocabulary {r['vocabulary']:,}")
        mem.append((label, f"KeywordBackend.build bm25-{name}", m))

        log(f"synthetic: KeywordBackend.search ({name}), {repeats}×{len(queries)} queries")
        samples = time_each(lambda q, b=backend: b.search(q, KEYWORD_K), queries, repeats=repeats)
        stats = latency_stats(samples)
        r["search"] = with_samples(stats, samples)
        met = "met" if stats["p99_ms"] < TARGET_P99_MS else "NOT met"
        table.latency(label, f"KeywordBackend.search k={KEYWORD_K}, bm25-{name}", stats, f"target p99 < {TARGET_P99_MS:g} ms: {met}", samples)

        # Where a search's time goes: query tokenization, bm25s scoring, top-k selection.
        qtok = [backend.query_tokens(q) for q in queries]
        qtok = [t for t in qtok if t]  # bm25s.get_scores rejects an empty list; search() skips those anyway
        bm25 = backend._bm25
        parts = {
            "tokenize_query": time_each(backend.query_tokens, queries, repeats=repeats),
            "get_scores": time_each(lambda t: bm25.get_scores(t), qtok, repeats=repeats),
        }
        score_arrays = [np.asarray(bm25.get_scores(t), dtype=np.float32) for t in qtok]
        parts["top_k"] = time_each(lambda s: _top_k(s, KEYWORD_K), score_arrays, repeats=repeats)
        r["breakdown"] = {k: latency_stats(v) for k, v in parts.items()}
        r["query_tokens_mean"] = sum(map(len, qtok)) / len(qtok)
        del score_arrays
        res["keyword"][name] = r

    log(f"synthetic: Searcher.search lexical, {repeats}×{len(queries)} queries")
    t0 = time.perf_counter()
    searcher = Searcher(syn, IndexBundle(passages, backends, None), mode="lexical")
    res["searcher_init_s"] = time.perf_counter() - t0
    with PeakRSS() as m:
        samples = time_each(lambda q: searcher.search(q, top_k=10), queries, repeats=repeats)
    stats = latency_stats(samples)
    res["searcher_lexical"] = {**with_samples(stats, samples), "memory": m.as_dict()}
    table.latency(label, "Searcher.search top 10, lexical", stats, "both keyword legs + fusion over a Corpus of fake documents", samples)

    res["rank_bm25"] = bench_rank_bm25(cfg, backends, tokens, queries, table, label, mem)
    return res


# --- 3. rank_bm25 on the same tokens --------------------------------------------------------------


def bench_rank_bm25(cfg, backends, tokens, queries, table: Table, label: str, mem: list[tuple]) -> dict:
    from rank_bm25 import BM25Okapi

    res: dict[str, Any] = {}
    sub = queries[: cfg.rank_bm25_queries]
    for name in TOKENIZERS:
        backend = backends[name]
        qtok = [t for t in (backend.query_tokens(q) for q in sub) if t]
        log(f"rank_bm25: BM25Okapi build ({name})")
        with PeakRSS() as m:
            # same k1/b as KeywordBackend; the idf formulas differ (Okapi floors negative idf, bm25s uses Lucene's)
            times, okapi = time_runs(lambda t=tokens[name]: BM25Okapi(t, k1=1.2, b=0.75), 1)
        r: dict[str, Any] = {"build": {**build_stats(times), "memory": m.as_dict()}}
        table.build(label, f"rank_bm25 BM25Okapi build, {name}", r["build"], "same tokens; 1 build")
        mem.append((label, f"rank_bm25 BM25Okapi build {name}", m))

        # Both engines on identical pre-tokenized queries: get_scores + the same top-k selection. Each
        # call keeps its top 10, to compare the rankings without scoring everything a second time.
        def search_with(engine, top10: list):
            def run(t: list[str]) -> None:
                top10.append(_top_k(np.asarray(engine.get_scores(t), dtype=np.float32), KEYWORD_K)[0][:10].tolist())

            return run

        log(f"rank_bm25: get_scores + top-{KEYWORD_K} ({name}), {len(qtok)} queries once each")
        okapi_top: list = []
        samples = time_each(search_with(okapi, okapi_top), qtok, repeats=1, warmup=qtok[:2])
        stats = latency_stats(samples)
        r["search"] = with_samples(stats, samples)
        bm25s_top: list = []
        ref = time_each(search_with(backend._bm25, bm25s_top), qtok, repeats=repeats_for(len(qtok), cfg.min_searches))
        ref_stats = latency_stats(ref)
        r["bm25s_same_queries"] = with_samples(ref_stats, ref)

        # Sanity check that both rank alike (same k1 and b, different idf): top-10 overlap per query.
        overlap = [
            len(set(a) & set(b)) / max(1, min(len(a), len(b)))
            for a, b in zip(okapi_top[-len(qtok) :], bm25s_top[-len(qtok) :])
        ]
        r["top10_overlap_mean"] = float(np.mean(overlap))
        r["speedup_p50"] = stats["p50_ms"] / ref_stats["p50_ms"]
        table.latency(label, f"rank_bm25 get_scores + top {KEYWORD_K}, {name}", stats, f"{len(qtok)} queries once each (slow: a Python loop over every doc per token)", samples)
        table.latency(
            label,
            f"bm25s get_scores + top {KEYWORD_K}, {name} (same queries)",
            ref_stats,
            f"{r['speedup_p50']:.0f}× faster at p50; top-10 overlap with rank_bm25 {r['top10_overlap_mean']:.0%}",
            ref,
        )
        res[name] = r
        del okapi
    return res


# --- 4. FAISS at 384 dimensions -------------------------------------------------------------------


def embedding_like_vectors(n: int, n_queries: int, dim: int, seed: int, intrinsic: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors that vary along ``intrinsic`` random directions (plus a little isotropic noise), and
    queries drawn the same way.

    Sentence embeddings have a low intrinsic dimension, so their nearest neighbours stand out. Vectors
    uniform on the 384-dim sphere do not (every point is about equally far from every other): HNSW's
    recall on them looks far worse than on real data, and its graph is built differently. Flat search
    costs the same either way.
    """
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((dim, intrinsic), dtype=np.float32) / np.sqrt(dim)

    def draw(m: int) -> np.ndarray:
        v = rng.standard_normal((m, intrinsic), dtype=np.float32) @ basis.T
        v += 0.1 * np.sqrt(intrinsic / dim) * rng.standard_normal((m, dim), dtype=np.float32)
        return np.ascontiguousarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float32)

    return draw(n), draw(n_queries)


def bench_faiss(cfg: Config, table: Table, mem: list[tuple]) -> dict:
    import faiss

    n = cfg.clauses
    label = f"FAISS only, {n:,} synthetic {FAISS_DIM}-dim vectors"
    x, q = embedding_like_vectors(n, 64, FAISS_DIM, cfg.seed)
    queries = list(q)
    res: dict[str, Any] = {"n": n, "dim": FAISS_DIM, "intrinsic_dim": 32, "omp_threads": faiss.omp_get_max_threads()}
    exact = None
    for kind in ("flat", "hnsw"):
        log(f"faiss: building {kind} over {n:,}×{FAISS_DIM}")
        with PeakRSS() as m:
            # DenseBackend with the vectors given: the project's index settings, no encoder
            times, dense = time_runs(lambda kind=kind: DenseBackend.build([], None, kind, vectors=x), 1)
        r: dict[str, Any] = {"build": {**build_stats(times), "memory": m.as_dict()}}
        table.build(label, f"DenseBackend.build {kind}", r["build"], "M=32, efConstruction=80" if kind == "hnsw" else "")
        mem.append((label, f"DenseBackend.build {kind}", m))
        repeats = repeats_for(len(queries), cfg.min_searches)
        log(f"faiss: {kind} search k={KEYWORD_K}, {repeats}×{len(queries)} queries")
        samples = time_each(lambda v, d=dense: d.search_vector(v, KEYWORD_K), queries, repeats=repeats)
        stats = latency_stats(samples)
        r["search"] = with_samples(stats, samples)
        found = [set(dense.search_vector(v, 10)[0].tolist()) for v in queries]
        note = "exact"
        if exact is None:
            exact = found
        else:
            r["recall_at_10"] = float(np.mean([len(a & b) / 10 for a, b in zip(found, exact)]))
            note = f"efSearch=64; recall@10 vs flat {r['recall_at_10']:.0%}"
        table.latency(label, f"DenseBackend.search_vector k={KEYWORD_K}, {kind}", stats, note + "; query encoding excluded", samples)
        res[kind] = r
        del dense
    return res


# --- main -----------------------------------------------------------------------------------------


def set_threads(n: int | None) -> None:
    """Pin torch's and FAISS's intra-op thread counts, if asked (importing torch costs ~0.5 GB RSS, so
    it is only imported early when needed).

    Both use OpenMP and default to one thread per core. On a 2-core machine shared with other work a
    2-thread region waits for whichever thread lost its core, which shows up as large p99s."""
    if n:
        import faiss
        import torch

        torch.set_num_threads(n)
        faiss.omp_set_num_threads(n)


def thread_counts() -> dict[str, int]:
    import faiss
    import torch

    return {"torch": torch.get_num_threads(), "faiss": faiss.omp_get_max_threads()}


def memory_table(mem: list[tuple]) -> str:
    rows = [
        (corpus, phase, f"{m.start_mib:,.0f}", f"{m.peak_mib:,.0f}", f"{m.peak_mib - m.start_mib:+,.0f}", f"{m.end_mib - m.start_mib:+,.0f}")
        for corpus, phase, m in mem
    ]
    headers = ("Corpus", "Phase", "RSS at start", "Peak RSS", "Peak − start", "Retained (end − start)")
    return md_table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    start = time.perf_counter()
    queries = load_questions(cfg.questions, lang="zh")
    log(f"{len(queries)} zh questions; {cfg.clauses:,} synthetic clauses; {'quick' if cfg.quick else 'full'} run")
    set_threads(cfg.threads)
    table = Table()
    mem: list[tuple] = []
    results: dict[str, Any] = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(cfg).items()},
        "environment": environment(
            ("bm25s", "rank-bm25", "jieba", "faiss-cpu", "numpy", "torch", "sentence-transformers", "transformers")
        ),
        "loadavg_at_start": os.getloadavg(),
        "queries": queries,
        "memory_method": (
            "peak RSS per phase: resource.getrusage(RUSAGE_SELF).ru_maxrss, after gc + malloc_trim and "
            "resetting the kernel's peak mark (5 > /proc/self/clear_refs) at the start of the phase; "
            "retained = RSS after the phase (after gc + malloc_trim) minus RSS before. Not tracemalloc: "
            "it slows jieba's dictionary load ~20x and does not see torch's own allocations."
        ),
    }
    corpus, results["real"] = bench_real(cfg, queries, table, mem)
    results["synthetic"] = bench_synthetic(cfg, corpus, queries, table, mem)
    if cfg.faiss:
        results["faiss_384"] = bench_faiss(cfg, table, mem)
    wall = time.perf_counter() - start
    results["wall_s"] = wall
    results["loadavg_at_end"] = os.getloadavg()
    results["threads"] = threads = thread_counts()

    md = table.markdown()
    if not all(m.reset for _, _, m in mem):
        note = "(peak RSS could not be reset per phase here: each value is the peak since start-up)"
    else:
        note = "(per phase, from ru_maxrss with the peak mark reset at the start of each phase)"
    md_mem = memory_table(mem)
    results["table_md"] = md
    results["memory_md"] = md_mem
    write_json(cfg.out, results)
    print()
    env = results["environment"]
    print(f"## Retrieval benchmark ({'quick' if cfg.quick else 'full'} run, {env['cpus']} CPUs, {env['cpu']})")
    print()
    print(
        f"torch/FAISS threads {threads['torch']}/{threads['faiss']}; load average (1 min) "
        f"{results['loadavg_at_start'][0]:.2f} at start, {results['loadavg_at_end'][0]:.2f} at end."
    )
    print()
    print(md)
    print()
    print(f"Peak memory {note}:")
    print()
    print(md_mem)
    print()
    kw = results["synthetic"]["keyword"]
    p99s = ", ".join(f"bm25-{t} {fmt_ms(kw[t]['search']['p99_ms'])}" for t in kw)
    met = all(kw[t]["search"]["p99_ms"] < TARGET_P99_MS for t in kw)
    print(
        f"Target KeywordBackend.search p99 < {TARGET_P99_MS:g} ms at {cfg.clauses:,} clauses: "
        f"{'met' if met else 'NOT met'} ({p99s})."
    )
    print(f"Wall time {fmt_s(wall)}; raw numbers in {cfg.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
