#!/usr/bin/env python
"""Hostile-load benchmark: do clients sending the most expensive queries the rate limit allows hurt
everyone else?

    .venv/bin/python scripts/bench_hostile.py                  # 3 runs × (20 s normal, 20 s normal + hostile)
    .venv/bin/python scripts/bench_hostile.py --seconds 10 --runs 1   # a quick look
    .venv/bin/python scripts/bench_hostile.py --json artifacts/bench/hostile.json

What it does:

1. Starts ``qa serve`` (lexical mode by default, the index in ``--index-dir``, built if missing) on a free
   loopback port, with the rate limit at ``--rate-limit`` requests a minute (the service's default, 60).
2. Normal users: ``--normal`` threads (4), each sending ``POST /v1/search`` with the evaluation set's
   Chinese questions every ``--interval`` seconds (0.05: 20 a second each). A real site's visitors come
   from many addresses, so each thread spreads its requests over ``--addresses`` loopback source
   addresses (127.0.x.y, one keep-alive connection each) and stays under the per-client limit.
3. Hostile clients: ``--hostile`` threads (3), each from its own address, sending ``POST /v1/ask`` with
   500 random CJK characters (U+4E00–U+9FA5, a new string each time) exactly at the rate limit, or with
   ``--payload english`` 500 characters of random Latin words (the English path: translation, spelling), or
   ``--payload parts`` random CJK characters ending a question every ~120 characters (…吗？): the most parts a
   question is split into, each searched again (qa/analysis.py ``question_parts``).
4. Each run: a warm-up, then phase "alone" (normal users only) and phase "under attack" (both), each
   ``--seconds`` long. Reported per phase: the normal users' p50/p99 latency (client-side wall time, ms),
   their error count, the hostile requests' statuses and latency, and the CPU seconds the server used.
   Printed: the median over ``--runs`` runs of each figure, and p99 under attack / p99 alone (target ≤ 2).

The machine is small and shared: the CPU the rest of the machine used in each phase is printed too, so a
run during someone else's test suite can be recognised.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(v[:8]) - v[3] - v[4] - (v[7] if len(v) > 7 else 0)) / os.sysconf("SC_CLK_TCK")


def questions() -> list[str]:
    out = []
    for line in (REPO / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            if q.get("lang", "zh") == "zh":
                out.append(q["question"])
    return out


def random_chinese(rng: random.Random, n: int = 500) -> str:
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n))


def random_english(rng: random.Random, n: int = 500) -> str:
    """About ``n`` characters of random lower-case 'words' of 5–12 letters: every one unknown to the dictionary
    and the spelling checker, the English path's most expensive input (translation, spelling correction)."""
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < n:
        words.append("".join(chr(rng.randint(97, 122)) for _ in range(rng.randint(5, 12))))
    return " ".join(words)[:n]


def random_parts(rng: random.Random, n: int = 500) -> str:
    """``n`` characters of random CJK text cut into questions (吗？ every ~120 characters): split into the most
    parts allowed, so every part is analysed and searched on its own besides the whole."""
    out = ""
    while len(out) < n:
        out += random_chinese(rng, 118) + "吗？"
    return out[:n]


class Server:
    def __init__(self, args: argparse.Namespace, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
        env.update(
            QA_MODE=args.mode,
            QA_RATE_LIMIT=str(args.rate_limit),
            QA_INDEX_DIR=str(args.index_dir),
            QA_ADMIN_API_KEY=secrets.token_urlsafe(16),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
        )
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "qa"), "serve", "--host", HOST, "--port", str(self.port)],
            env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with code {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError("server not ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def client_from(address: str, base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, timeout=30, trust_env=False,
        transport=httpx.HTTPTransport(local_address=address, limits=httpx.Limits(max_connections=1)),
    )


class Normal(threading.Thread):
    """One stream of ordinary searches, spread over many source addresses, paced at a fixed interval."""

    def __init__(self, index: int, args, base_url: str, qs: list[str], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.clients = [client_from(f"127.0.{10 + index}.{i + 1}", base_url) for i in range(args.addresses)]
        self.interval = args.interval
        self.qs = qs[index::4] or qs
        self.stop_event = stop
        self.samples: list[tuple[float, float, int]] = []  # (start, ms, status)

    def run(self) -> None:
        i = 0
        next_at = time.perf_counter()
        while not self.stop_event.is_set():
            client = self.clients[i % len(self.clients)]
            t0 = time.perf_counter()
            try:
                status = client.post("/v1/search", json={"query": self.qs[i % len(self.qs)], "top_k": 10}).status_code
            except httpx.HTTPError:
                status = 0
            self.samples.append((t0, (time.perf_counter() - t0) * 1000, status))
            i += 1
            next_at += self.interval
            time.sleep(max(0.0, next_at - time.perf_counter()))

    def close(self) -> None:
        for c in self.clients:
            c.close()


class Hostile(threading.Thread):
    """One client sending 500 random characters to /v1/ask at exactly the rate limit."""

    def __init__(self, index: int, args, base_url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.client = client_from(f"127.0.200.{index + 1}", base_url)
        self.interval = 60.0 / args.rate_limit
        self.rng = random.Random(index)
        self.payload = {"english": random_english, "parts": random_parts}.get(args.payload, random_chinese)
        self.stop_event = stop
        self.samples: list[tuple[float, float, int]] = []

    def run(self) -> None:
        next_at = time.perf_counter()
        while not self.stop_event.is_set():
            t0 = time.perf_counter()
            try:
                status = self.client.post("/v1/ask", json={"query": self.payload(self.rng)}).status_code
            except httpx.HTTPError:
                status = 0
            self.samples.append((t0, (time.perf_counter() - t0) * 1000, status))
            next_at += self.interval
            self.stop_event.wait(max(0.0, next_at - time.perf_counter()))

    def close(self) -> None:
        self.client.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def phase(args, server: Server, qs: list[str], *, hostile: bool, seconds: float, offset: int) -> dict:
    stop = threading.Event()
    normals = [Normal(i, args, server.url, qs[offset:] + qs[:offset], stop) for i in range(args.normal)]
    attackers = [Hostile(i, args, server.url, stop) for i in range(args.hostile)] if hostile else []
    cpu0, busy0 = proc_cpu_seconds(server.proc.pid), machine_busy_seconds()
    for t in (*normals, *attackers):
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in (*normals, *attackers):
        t.join(timeout=60)
        t.close()
    cpu = proc_cpu_seconds(server.proc.pid) - cpu0
    busy = machine_busy_seconds() - busy0
    ms = [m for t in normals for _, m, _ in t.samples]
    statuses = [s for t in normals for _, _, s in t.samples]
    out = {
        "normal_requests": len(ms),
        "normal_p50_ms": percentile(ms, 0.5),
        "normal_p99_ms": percentile(ms, 0.99),
        "normal_errors": sum(s != 200 for s in statuses),
        "server_cpu_s": round(cpu, 2),
        "other_cpu_s": round(max(0.0, busy - cpu), 2),  # the client threads, and everyone else on the machine
    }
    if attackers:
        hs = [(m, s) for t in attackers for _, m, s in t.samples]
        out.update(
            hostile_requests=len(hs),
            hostile_200=sum(s == 200 for _, s in hs),
            hostile_429=sum(s == 429 for _, s in hs),
            hostile_other=sum(s not in (200, 429) for _, s in hs),
            hostile_p50_ms=percentile([m for m, s in hs if s == 200], 0.5),
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    p.add_argument("--normal", type=int, default=4, help="normal user threads")
    p.add_argument("--interval", type=float, default=0.05, help="seconds between a normal thread's requests")
    p.add_argument("--addresses", type=int, default=40, help="source addresses per normal thread")
    p.add_argument("--hostile", type=int, default=3, help="hostile clients")
    p.add_argument("--rate-limit", type=int, default=60, help="QA_RATE_LIMIT for the server (requests a minute)")
    p.add_argument("--mode", default="lexical")
    p.add_argument("--payload", choices=("chinese", "english", "parts"), default="chinese",
                   help="hostile questions: 500 random CJK characters, 500 characters of random Latin words, or random CJK questions asked together (the most parts)")
    p.add_argument("--index-dir", type=Path, default=REPO / "var" / "index")
    p.add_argument("--json", type=Path, help="also write every run's figures here")
    args = p.parse_args(argv)
    if args.rate_limit <= 0:
        p.error("--rate-limit must be positive: the hostile clients send at it")
    per_address = 60.0 / (args.interval * args.addresses)
    if per_address > args.rate_limit:
        p.error(f"normal users would send {per_address:.0f} requests a minute per address: raise --addresses")

    qs = questions()
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_hostile_server_{os.getpid()}.log"
    server = Server(args, log_path)
    runs = []
    try:
        server.wait_ready()
        phase(args, server, qs, hostile=False, seconds=3, offset=0)  # warm-up
        for r in range(args.runs):
            alone = phase(args, server, qs, hostile=False, seconds=args.seconds, offset=r * 7)
            # a fresh minute for the hostile clients' addresses is not needed: they start unlimited
            attacked = phase(args, server, qs, hostile=True, seconds=args.seconds, offset=r * 7 + 3)
            runs.append({"alone": alone, "under_attack": attacked, "p99_ratio": attacked["normal_p99_ms"] / alone["normal_p99_ms"]})
            print(
                f"run {r + 1}: alone p50/p99 {alone['normal_p50_ms']:.1f}/{alone['normal_p99_ms']:.1f} ms; "
                f"under attack {attacked['normal_p50_ms']:.1f}/{attacked['normal_p99_ms']:.1f} ms "
                f"(hostile: {attacked['hostile_200']} answered, {attacked['hostile_429']} × 429, p50 {attacked['hostile_p50_ms']:.0f} ms; "
                f"server CPU {alone['server_cpu_s']} → {attacked['server_cpu_s']} s, rest of machine {alone['other_cpu_s']} → "
                f"{attacked['other_cpu_s']} s)",
                flush=True,
            )
    finally:
        server.stop()

    def med(phase_name: str, key: str) -> float:
        return statistics.median(run[phase_name][key] for run in runs)

    ratio = statistics.median(run["p99_ratio"] for run in runs)
    print()
    print(f"medians of {len(runs)} runs ({args.mode}, {args.normal} normal threads at {1 / args.interval:.0f}/s each, "
          f"{args.hostile} hostile clients at {args.rate_limit}/min, {args.seconds:g} s phases)")
    print("| phase | normal p50 ms | normal p99 ms | normal errors | server CPU s | rest of machine CPU s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, label in (("alone", "normal users alone"), ("under_attack", "with hostile clients")):
        print(f"| {label} | {med(name, 'normal_p50_ms'):.1f} | {med(name, 'normal_p99_ms'):.1f} | "
              f"{med(name, 'normal_errors'):.0f} | {med(name, 'server_cpu_s'):.2f} | {med(name, 'other_cpu_s'):.2f} |")
    print(f"hostile /v1/ask (500 random characters): p50 {med('under_attack', 'hostile_p50_ms'):.0f} ms, "
          f"{med('under_attack', 'hostile_200'):.0f} answered and {med('under_attack', 'hostile_429'):.0f} refused per phase")
    print(f"p99 under attack / p99 alone: {ratio:.2f} (target ≤ 2: {'met' if ratio <= 2 else 'MISSED'})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs, "p99_ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
