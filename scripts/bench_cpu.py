#!/usr/bin/env python
"""CPU time per request, through the whole ASGI app in this process (no sockets, no client): a figure that
stays meaningful on a busy, shared machine, where wall-clock latency does not.

    .venv/bin/python scripts/bench_cpu.py                          # every case, 200 requests each (hostile: 50)
    .venv/bin/python scripts/bench_cpu.py --cases search,ask --requests 500
    .venv/bin/python scripts/bench_cpu.py --cases ask-hostile --profile 25   # cProfile, top 25 by own time

Cases (lexical mode unless ``--mode``):
  search           POST /v1/search, the evaluation set's Chinese questions cycled
  ask              POST /v1/ask, the same questions
  search-hostile   POST /v1/search, 500 random CJK characters (U+4E00–U+9FA5), a new string each time
  ask-hostile      POST /v1/ask, the same

The normal cases cycle 200 questions: without ``--warm`` the first 200 requests are questions new to the
process (normalisation and tokenisation paid); with it every question was asked once before measuring.

Each request is one ASGI call of the app (middleware, validation, the route, JSON encoding) measured with
``time.process_time()`` — the CPU this process spent, whichever thread spent it (a long question runs in the
thread pool). Printed per case: median, p90 and max CPU ms per request, and the share of requests answered
with 200. The app is built as ``qa serve`` builds it, with the rate limit off and a throw-away data folder.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from bench_common import load_questions  # noqa: E402

CASES = ("search", "ask", "search-hostile", "ask-hostile")


def random_cjk(n: int, rng: random.Random) -> str:
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n))


async def call(app, path: str, payload: dict) -> tuple[int, bytes]:
    """One request through the ASGI app, as uvicorn would hand it over."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000), "state": {},
    }
    sent = False
    status, chunks = 0, []

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def make_app(index_dir: Path, mode: str):
    from policyqa.api.app import create_app
    from policyqa.qa.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="qa-bench-cpu-"))
    settings = Settings(index_dir=index_dir, mode=mode, rate_limit=0, data_dir=data_dir, index_watch_seconds=0)
    app = create_app(settings)
    app.state.service.warm_up()
    return app


def payloads(case: str, n: int, seed: int) -> list[dict]:
    rng = random.Random(f"{seed}-{case}")  # each case its own strings: none is a cache hit of another's
    if case.endswith("-hostile"):
        return [{"query": random_cjk(500, rng)} for _ in range(n)]
    qs = load_questions(200)
    return [{"query": qs[i % len(qs)]} for i in range(n)]


async def run_case(app, case: str, n: int, seed: int, profile: cProfile.Profile | None, warm: bool = False) -> dict:
    path = "/v1/search" if case.startswith("search") else "/v1/ask"
    items = payloads(case, n, seed)
    for p in items[:5]:  # lazy loads and first-use caches out of the way
        await call(app, path, {"query": p["query"] + "？"})
    if warm and not case.endswith("-hostile"):  # each question asked once before: its normalised text and tokens cached
        for p in items:
            await call(app, path, p)
    cpu, ok = [], 0
    for p in items:
        if profile:
            profile.enable()
        t0 = time.process_time()
        status, _ = await call(app, path, p)
        cpu.append((time.process_time() - t0) * 1000)
        if profile:
            profile.disable()
        ok += status == 200
    cpu.sort()
    return {
        "case": case, "requests": n, "ok": ok,
        "cpu_ms_median": round(statistics.median(cpu), 3),
        "cpu_ms_p90": round(cpu[int(0.9 * (n - 1))], 3),
        "cpu_ms_max": round(cpu[-1], 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    p.add_argument("--requests", type=int, default=200, help="requests per case (default 200; hostile cases: a quarter)")
    p.add_argument("--index-dir", type=Path, default=REPO / "var" / "index")
    p.add_argument("--mode", default="lexical", choices=("lexical", "hybrid", "auto"))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--warm", action="store_true",
                   help="ask each normal question once before measuring (a repeated question: its normalisation and "
                        "tokens are cached); by default most are new to the process")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="cProfile each case and print its top N functions (every question then runs on the event loop)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if bad := [c for c in cases if c not in CASES]:
        p.error(f"unknown case(s) {', '.join(bad)}; choose of {', '.join(CASES)}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # the access log as `qa serve` writes it (JSON lines, one per request), sent nowhere: its cost is measured
    from policyqa.api.app import configure_logging

    configure_logging()
    sink = open(os.devnull, "w")  # noqa: SIM115 - open for the whole run
    for handler in logging.getLogger().handlers:
        handler.setStream(sink)
    app = make_app(args.index_dir, args.mode)
    rows = []
    if args.profile:  # cProfile sees one thread: every question answered on the event loop, as a short one is
        import policyqa.api.app as app_module

        app_module.INLINE_MAX_CHARS = 10**9
    for case in cases:
        n = max(10, args.requests // 4) if case.endswith("-hostile") else args.requests
        profile = cProfile.Profile() if args.profile else None
        row = asyncio.run(run_case(app, case, n, args.seed, profile, args.warm))
        row["warm"] = args.warm and not case.endswith("-hostile")
        rows.append(row)
        print(f"{case:15s} n={row['requests']:4d} ok={row['ok']:4d}  CPU ms/request: median {row['cpu_ms_median']:.2f}"
              f"  p90 {row['cpu_ms_p90']:.2f}  max {row['cpu_ms_max']:.2f}", flush=True)
        if profile:
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (CPU time per request; wall time not measured)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"mode": args.mode, "rows": rows, "loadavg": load}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
