"""Adding a document to a running service: time until it is searchable (stage 1) and until its dense vectors
are in (stage 2), with the checks that it is found.

Each run starts the service's engine on a copy of an index folder (default var/index: its vector cache holds
the seeds' vectors, so a start embeds nothing; the copy is first rebuilt by this code so its version is what
the service would have saved), uploads one document through the same path as POST /v1/admin/documents and
times:
- stage 1: parse + store + report + an index version where the new passages are searchable by keywords
  (their vectors pending) swapped in — the request returns here;
- stage 2: until the background thread has embedded the new passages and sentences and swapped the complete
  version in.
After stage 1 and again after stage 2 it checks that a search and a question about the new document find it
(the answer answered, not refused, citing it). Default document: the 52-article Guangzhou 管理办法 (about
10,500 characters, some 20 printed pages). Prints the medians over --runs runs.

Usage: .venv/bin/python scripts/bench_add.py [FILE] [--runs 3] [--mode lexical] [--index var/index]
       [--query Q] [--question Q]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from policyqa.api.schemas import AskRequest, SearchRequest
from policyqa.api.service import QAService
from policyqa.qa.engine import Engine
from policyqa.qa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = ROOT / "tests/fixtures/wild/gz_suifubangui2022-13_jujia-yanglao.html"
DEFAULT_QUERY = "居家社区养老服务 星级评定补贴"
DEFAULT_QUESTION = "广州市居家社区养老服务的星级评定补贴怎么发放？"


def found(service: QAService, doc_id: str, query: str, question: str) -> dict:
    hits = service.search(SearchRequest(query=query, top_k=3))["results"]
    ans = service.ask(AskRequest(query=question))
    cited = {c["doc_id"] for c in ans.get("citations", [])}
    return {
        "search_top_hit_is_new_document": bool(hits) and hits[0]["doc_id"] == doc_id,
        "ask_answered": bool(ans["answerable"]),
        "ask_cites_new_document": doc_id in cited,
    }


def one_run(path: Path, source_index: Path | None, mode: str | None, query: str, question: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        kw = {"mode": mode} if mode else {}
        settings = Settings(index_dir=Path(tmp) / "index", data_dir=Path(tmp) / "var", **kw)
        if source_index is not None and source_index.is_dir():
            shutil.copytree(source_index, settings.index_dir, symlinks=True)
            Engine(settings.engine_config()).build()  # this code's version of it (vectors from the copied cache)
        t0 = time.perf_counter()
        service = QAService(Engine(settings.engine_config()), watch_seconds=0)
        service.warm_up()
        warm = time.perf_counter() - t0
        loaded = service.engine.loaded
        passages_before = len(loaded.searcher.bundle.passages)
        t1 = time.perf_counter()
        out = service.add_documents([(path.name, path.read_bytes())])
        stage1 = time.perf_counter() - t1
        doc = out["documents"][0]
        interim = found(service, doc["doc_id"], query, question)
        ready = service.ready()
        service.engine.wait_for_vectors()
        stage2 = time.perf_counter() - t1
        final = found(service, doc["doc_id"], query, question)
        return {
            "mode": service.engine.loaded.searcher.resolve_mode()[0], "start_s": round(warm, 2),
            "passages_before": passages_before, "passages_after": len(service.engine.loaded.searcher.bundle.passages),
            "clauses": doc["clauses"], "status": doc["status"], "vectors_after_stage1": doc["vectors"],
            "passages_awaiting_vectors_after_stage1": ready["passages_awaiting_vectors"],
            "passages_awaiting_vectors_after_stage2": service.engine.vectors_pending,
            "vectors_error": service.engine.vectors_error,
            "stage1_searchable_s": round(stage1, 2), "stage2_embedded_s": round(stage2, 2),
            "found_after_stage1": interim, "found_after_stage2": final,
        }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mode", default=None)
    ap.add_argument("--index", type=Path, default=ROOT / "var/index", help="index folder to copy (its vector cache included)")
    ap.add_argument("--query", default=DEFAULT_QUERY)
    ap.add_argument("--question", default=DEFAULT_QUESTION)
    args = ap.parse_args(argv)
    load_before = os.getloadavg()
    runs = []
    for i in range(args.runs):
        r = one_run(args.file, args.index, args.mode, args.query, args.question)
        print(f"run {i + 1}: stage 1 {r['stage1_searchable_s']} s, stage 2 {r['stage2_embedded_s']} s", file=sys.stderr)
        runs.append(r)
    ok = all(all(r["found_after_stage1"].values()) and all(r["found_after_stage2"].values()) for r in runs)
    result = {
        "file": args.file.name, "file_bytes": args.file.stat().st_size, "mode": runs[0]["mode"], "runs": len(runs),
        "median_stage1_searchable_s": round(statistics.median(r["stage1_searchable_s"] for r in runs), 2),
        "median_stage2_embedded_s": round(statistics.median(r["stage2_embedded_s"] for r in runs), 2),
        "load_average_before": load_before, "load_average_after": os.getloadavg(), "cpus": os.cpu_count(), "query": args.query, "question": args.question,
        "all_found": ok, "per_run": runs,
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    out_dir = ROOT / "artifacts" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"add_document_{result['mode']}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
