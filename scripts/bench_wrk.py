"""Server latency with a load generator that leaves the second core to the server: wrk (C, Debian `wrk`).

    .venv/bin/python scripts/bench_wrk.py [--workers 1,2] [--connections 16] [--runs 3] [--seconds 15]

`bench_load.py`'s Python client needs about one core of its own at 16 connections on this 2-core machine, so
there the server gets what is left and the tail is partly the client's. Here `qa serve` (lexical mode, rate
limit off, the index in QA_INDEX_DIR or var/index) answers `POST /v1/search` for the labelled questions in
turn — all of them, then the Chinese and the English ones apart — and wrk reports QPS and latency
percentiles. Prints medians of --runs runs per cell (a 5 s warm-up first); needs an idle machine to mean
anything.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from bench_load import PeerServer, Server, free_port  # noqa: E402  (a sibling script)

QUESTIONS = REPO / "eval" / "questions.jsonl"


def lua_script(questions: list[str], path: Path, url_path: str = "/v1/search") -> Path:
    """A wrk script cycling through the questions as /v1/search bodies (Lua long strings hold any text)."""
    bodies = [json.dumps({"query": q, "top_k": 10}, ensure_ascii=False).replace("]]", "] ]") for q in questions]
    path.write_text(
        "local bodies = {\n" + ",\n".join(f"[[{b}]]" for b in bodies) + "\n}\nlocal i = 0\n"
        "request = function()\n  i = i % #bodies + 1\n"
        f"  return wrk.format('POST', '{url_path}', {{['Content-Type']='application/json'}}, bodies[i])\nend\n",
        encoding="utf-8",
    )
    return path


def parse(out: str) -> dict:
    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            raise ValueError(f"no {label} in wrk output:\n{out}")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    qps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"qps": qps, "p50": ms("50%"), "p90": ms("90%"), "p99": ms("99%"),
            "errors": (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)}


def run_cells(url: str, conns: int, sets: dict, a, label: str) -> None:
    subprocess.run(["wrk", "-t1", f"-c{conns}", "-d5s", "-s", str(next(iter(sets.values()))), url], capture_output=True)
    for name, script in sets.items():
        runs = [parse(subprocess.run(
            ["wrk", "-t1", f"-c{conns}", f"-d{a.seconds}s", "-s", str(script), "--latency", url],
            capture_output=True, text=True, check=True).stdout) for _ in range(a.runs)]
        med = {k: statistics.median(r[k] for r in runs) for k in ("qps", "p50", "p90", "p99")}
        print(f"| {label} | {conns} | {name} | {med['qps']:.0f} | {med['p50']:.1f} | {med['p90']:.1f} "
              f"| {med['p99']:.1f} | {sum(r['errors'] for r in runs)} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--connections", default="16")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=15)
    a = ap.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
    sets = {
        "all": lua_script([r["question"] for r in rows], tmp / "all.lua"),
        "zh": lua_script([r["question"] for r in rows if r["lang"] == "zh"], tmp / "zh.lua"),
        "en": lua_script([r["question"] for r in rows if r["lang"] == "en"], tmp / "en.lua"),
    }
    peer_set = lua_script([r["question"] for r in rows], tmp / "peer.lua", "/search")
    index_dir = Path(os.environ.get("QA_INDEX_DIR", str(REPO / "var" / "index")))
    print("| server | connections | questions | QPS | p50 ms | p90 ms | p99 ms | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    # bench_load's servers: `qa serve` (lexical, rate limit off) and the peer (FastAPI + jieba + rank_bm25)
    starts = [(f"ours, {w} worker(s)", lambda w=w: Server(free_port(), mode="lexical", log_path=tmp / f"server-{w}.log",
                                                        index_dir=index_dir, workdir=tmp, workers=w), sets)
              for w in map(int, a.workers.split(","))]
    starts.append(("peer, 1 worker", lambda: PeerServer(free_port(), log_path=tmp / "peer.log", workdir=tmp), {"all": peer_set}))
    for label, start, scripts in starts:
        server = start()
        try:
            server.wait_ready(120)
            for conns in map(int, a.connections.split(",")):
                run_cells(server.base_url, conns, scripts, a, label)
        finally:
            server.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
