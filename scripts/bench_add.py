"""Adding a document to a running service: time until it is searchable, with its report.

Starts the service's engine on the seeds (building the index, dense vectors included when the model loads), then
uploads one document through the same path as POST /v1/admin/documents and times parse + store + rebuild + swap,
then checks a query finds it. Default document: the 52-article Guangzhou 管理办法 (about 10,500 characters, some
20 printed pages). Usage: .venv/bin/python scripts/bench_add.py [FILE] [--mode lexical]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from policyqa.api.service import QAService
from policyqa.qa.engine import Engine
from policyqa.qa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    mode = argv[argv.index("--mode") + 1] if "--mode" in argv else None
    files = [a for i, a in enumerate(argv) if not a.startswith("--") and (i == 0 or argv[i - 1] != "--mode")]
    path = Path(files[0]) if files else ROOT / "tests/fixtures/wild/gz_suifubangui2022-13_jujia-yanglao.html"
    with tempfile.TemporaryDirectory() as tmp:
        kw = {"mode": mode} if mode else {}
        settings = Settings(index_dir=Path(tmp) / "index", data_dir=Path(tmp) / "var", **kw)
        t0 = time.perf_counter()
        service = QAService(Engine(settings.engine_config()))
        service.warm_up()
        warm = time.perf_counter() - t0
        loaded = service.engine.loaded
        mode_used = loaded.searcher.resolve_mode()[0]
        passages_before = len(loaded.searcher.bundle.passages)
        t1 = time.perf_counter()
        out = service.add_documents([(path.name, path.read_bytes())])
        added = time.perf_counter() - t1
        doc = out["documents"][0]
        hits = service.engine.loaded.searcher.search("居家社区养老服务 星级评定补贴", top_k=3).hits
        found = bool(hits) and hits[0].clause.doc_id == doc["doc_id"]
        result = {
            "file": path.name, "file_bytes": path.stat().st_size, "mode": mode_used,
            "start_and_first_build_s": round(warm, 2), "passages_before": passages_before,
            "passages_after": len(service.engine.loaded.searcher.bundle.passages),
            "add_to_searchable_s": round(added, 2), "clauses": doc["clauses"], "status": doc["status"],
            "top_hit_is_new_document": found,
        }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    out_dir = ROOT / "artifacts" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"add_document_{mode_used}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
