#!/usr/bin/env python
"""Load benchmark of the HTTP service: N keep-alive clients on loopback, steady load, then the same
load with a hot reindex in the middle.

    .venv/bin/python scripts/bench_load.py                 # 16 clients, 2 × 4000 requests (≤ 60 s each)
    .venv/bin/python scripts/bench_load.py --quick         # smoke run: 2 × 400 requests (≤ 20 s each)
    .venv/bin/python scripts/bench_load.py --clients 4 --mix 0.5 --requests 2000 --seconds 30
    .venv/bin/python scripts/bench_load.py --pool per-client   # the load generator's own share, see below
    .venv/bin/python scripts/bench_load.py --matrix        # the matrix below, with the peer service (long)
    .venv/bin/python scripts/bench_load.py --matrix --quick            # smoke: lexical, 1 worker, 1 and 16 conn., 1 run
    .venv/bin/python scripts/bench_load.py --matrix --modes lexical --workers 1,2 --connections 16 --runs 3

The matrix (``--matrix``): for each mode (``--modes``, default lexical,hybrid) the index is built once
(``qa index``, when a multi-worker server is in the matrix), then ``qa serve --workers N`` (``--workers``,
default 1,2) is started over it, each with its own data folder. At every connection count
(``--connections``, default 1,4,16,64) and run (``--runs``, default 3) three phases run back to back,
each with one httpx pool of that many keep-alive connections: ``/v1/search`` only, ``/v1/ask`` only,
and the peer's ``/search`` (scripts/peer_service.py: plain FastAPI + jieba + rank_bm25 over the same
five seed documents split at blank lines, started once with uvicorn in its own process). Then, per
run, a mixed phase at ``--event-connections`` (default 16) with a reindex fired after a third of it and
a document add (``POST /v1/admin/documents`` with ``--add-document``, a real policy text from
tests/fixtures/wild/) once the reindex has answered; the added document is removed again after the
phase, outside the timed window. The table shows medians over the runs per cell (errors summed), our
QPS ÷ the peer's measured beside it, server CPU ms per request (the server's whole process tree, from
/proc) and the cores each side used (CPU time ÷ wall time); core counts and affinities are in the JSON,
written to ``var/bench/load.json`` (``--quick``: ``load-quick.json``).

What it does:

1. Starts ``qa serve`` as a separate process on 127.0.0.1 and a free port, in lexical mode, with the
   rate limit off, a random admin key and a fresh index folder (so the index is built on start), and
   waits for ``GET /readyz`` to answer 200.
2. Warm-up: a few hundred untimed requests with the same clients.
3. Phase "steady": ``--clients`` coroutines share one ``httpx.AsyncClient`` whose pool holds exactly
   ``--clients`` keep-alive connections; each sends requests back to back (a closed loop: a client
   sends its next request when the previous answer is in). The phase ends after ``--requests``
   requests or ``--seconds`` seconds, whichever comes first. Queries are the Chinese questions of
   ``eval/questions.jsonl`` cycled; each request is ``POST /v1/search`` (top_k 10) with probability
   ``--mix`` and ``POST /v1/ask`` otherwise (seeded, so every run sends the same sequence).
4. Phase "reindex": the same load; once a third of it is done (or a third of the time cap has
   passed) a separate task, with its own connection, calls ``POST /v1/admin/reindex`` once. The load
   goes on until the reindex has answered and ``--tail`` seconds more (within the time cap), so the
   swap and the first requests on the new index are always under load. Reported: the reindex's
   duration and status, and the latency of the requests in flight at any moment of its window.
5. The server's peak RSS (``VmHWM`` of /proc/<pid>/status), and per phase the CPU used by the
   server, by this script and by every other process on the machine (/proc/stat): the machine is
   small and shared, and a run during someone else's test suite is not comparable with a quiet one.

Latency is client-side wall time in ms, from sending the request to having read the whole body, with
numpy's default (linear) percentiles, over every request (failed ones included). An error is a
non-2xx status, a body without the expected field, or an exception (timeout, connection reset);
errors are counted by kind. The server's own view (its /metrics histogram, time inside the app) is
in the JSON under ``server_side``.

Reading the numbers: in a closed loop latency and throughput are tied by Little's law, mean latency ≈
clients / QPS, so p99 < 50 ms at 16 clients needs the server to sustain well over 16 / 0.05 = 320
requests a second. The load generator is Python too and shares the two cores: one httpx pool of 16
connections costs it ~3–4 ms of CPU per request (httpcore re-checks every pooled connection on each
request, encode/httpx#3215), about as much as the server spends, and its queueing shows in the tail.
``--pool per-client`` (16 single-connection clients) halves that cost; the difference between the two
runs is the load generator's share of the latency, not the service's.

Prints a Markdown table (for the README) and writes the raw figures to ``artifacts/bench/load.json``
(``--quick``: ``load-quick.json``). The server and its index folder are removed at the end, also on
errors or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "eval" / "questions.jsonl"
DEFAULT_OUT = REPO / "artifacts" / "bench" / "load.json"
MATRIX_OUT = REPO / "var" / "bench" / "load.json"
HOST = "127.0.0.1"  # loopback only, never configurable
VENV_BIN = Path(sys.executable).parent


# --- inputs ---------------------------------------------------------------------------------------


def load_questions(path: Path = QUESTIONS) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [r["question"].strip() for r in rows if r.get("lang") == "zh" and r.get("question", "").strip()]
    if not qs:
        raise SystemExit(f"no Chinese question in {path}")
    return qs


def parse_mix(value: str) -> float:
    """``0.7``, ``70`` or ``70:30`` / ``70/30`` (search:ask) → the share of /v1/search requests."""
    v = value.strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*[:/]\s*(\d+(?:\.\d+)?)", v)
    try:
        if m:
            a, b = float(m.group(1)), float(m.group(2))
            share = a / (a + b)
        else:
            share = float(v)
            if share > 1:
                share /= 100
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"--mix: expected 0.7, 70 or 70:30, got {value!r}") from None
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"--mix must be between 0 and 1 (or 0–100), got {value!r}")
    return share


@dataclass(frozen=True)
class Plan:
    """The request sequence of a phase: request i is (endpoint, query). Same seed → same sequence."""

    endpoints: tuple[str, ...]
    queries: tuple[str, ...]

    @classmethod
    def make(cls, n: int, questions: list[str], search_share: float, seed: int, offset: int = 0) -> "Plan":
        rng = random.Random(seed)
        eps = tuple("search" if rng.random() < search_share else "ask" for _ in range(n))
        qs = tuple(questions[(offset + i) % len(questions)] for i in range(n))
        return cls(eps, qs)

    def __len__(self) -> int:
        return len(self.endpoints)


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM / VmRSS etc. of a process, in KiB (empty if it is gone)."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k.startswith("Vm") or k == "Threads":
                parts = v.split()
                if parts and parts[0].isdigit():
                    out[k] = int(parts[0])
    except OSError:
        pass
    return out


def proc_cpu_seconds(pid: int) -> float | None:
    """user + system CPU seconds of a process (all threads), from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)


def process_tree(pid: int) -> list[int]:
    """A process and its live descendants (``qa serve --workers N``: the supervisor and its worker
    processes), found through the parent pid in /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a process and its live descendants."""
    cpu = [c for p in process_tree(pid) if (c := proc_cpu_seconds(p)) is not None]
    return sum(cpu) if cpu else None


def affinity(pid: int) -> list[int] | None:
    """The CPU cores a process may run on (taskset / sched_setaffinity), None if unknown."""
    try:
        return sorted(os.sched_getaffinity(pid))
    except (OSError, AttributeError):
        return None


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def machine_cpu_seconds() -> tuple[float, float, float] | None:
    """(busy, idle, steal) CPU seconds of the whole machine, all cores, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    v = [int(x) for x in first[1:]]  # user nice system idle iowait irq softirq steal guest guest_nice
    ticks = os.sysconf("SC_CLK_TCK")
    idle = v[3] + v[4]
    steal = v[7] if len(v) > 7 else 0
    busy = sum(v[:8]) - idle - steal  # guest time is already counted in user
    return busy / ticks, idle / ticks, steal / ticks


def loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError):
        return None


def server_env(mode: str, index_dir: Path, admin_key: str) -> dict[str, str]:
    """The environment of ``qa serve`` (and of ``qa index`` before a multi-worker run): no QA_* setting
    from the caller's shell, the rate limit off, offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        QA_MODE=mode,
        QA_RATE_LIMIT="0",
        QA_ADMIN_API_KEY=admin_key,
        QA_INDEX_DIR=str(index_dir),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


class Server:
    """``qa serve`` in its own process group; ``stop()`` terminates it, then kills it after a timeout."""

    def __init__(
        self, port: int, *, mode: str, log_path: Path, index_dir: Path, workdir: Path, workers: int = 1,
        settings: dict[str, str] | None = None,
    ) -> None:
        """``settings``: further QA_* variables (e.g. QA_CORPUS_DIR for another corpus)."""
        self.port = port
        self.workers = workers
        self.base_url = f"http://{HOST}:{port}"
        self.admin_key = secrets.token_urlsafe(24)
        self.log_path = log_path
        env = {**server_env(mode, index_dir, self.admin_key), **(settings or {})}
        self.command = [str(VENV_BIN / "qa"), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
        self._start(env, workdir)

    def _start(self, env: dict[str, str], workdir: Path) -> None:
        log_path = self.log_path
        self._log = open(log_path, "wb")
        # Own session: a Ctrl-C in the terminal reaches only this script, which then stops the server.
        self.proc = subprocess.Popen(
            self.command, env=env, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pid = self.proc.pid

    def cpu_seconds(self) -> float | None:
        return tree_cpu_seconds(self.pid)

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with httpx.Client(base_url=self.base_url, timeout=5.0, trust_env=False) as c:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with code {self.proc.returncode} before ready:\n{self.log_tail()}")
                try:
                    r = c.get("/readyz")
                    if r.status_code == 200:
                        return r.json()
                    last = f"HTTP {r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                time.sleep(0.25)
        raise TimeoutError(f"server not ready after {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: uvicorn shuts down gracefully
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


class PeerServer(Server):
    """scripts/peer_service.py (plain FastAPI + jieba + rank_bm25) with uvicorn in its own process."""

    def __init__(self, port: int, *, log_path: Path, workdir: Path, corpus: Path | None = None) -> None:
        """``corpus``: its folder of *.txt documents (default: the seed documents)."""
        self.port = port
        self.workers = 1
        self.base_url = f"http://{HOST}:{port}"
        self.admin_key = ""
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
        self.command = [sys.executable, str(REPO / "scripts" / "peer_service.py"), "--host", HOST, "--port", str(port)]
        if corpus is not None:
            self.command += ["--corpus", str(corpus)]
        self._start(env, workdir)


def scrape_metrics(base_url: str) -> dict[str, dict[str, float]]:
    """Server-side latency histogram from /metrics: {route: {"count", "sum", "le=0.05", ...}}."""
    out: dict[str, dict[str, float]] = {}
    try:
        text = httpx.get(base_url + "/metrics", timeout=10.0, trust_env=False).text
    except httpx.HTTPError:
        return out
    for line in text.splitlines():
        m = re.match(r'qa_request_seconds_(bucket|count|sum)\{(.*)\} ([0-9.e+-]+|\+Inf|NaN)$', line)
        if not m:
            continue
        kind, labels, value = m.groups()
        lab = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        d = out.setdefault(lab.get("path", "?"), {})
        d[f"le={lab['le']}" if kind == "bucket" else kind] = float(value)
    return out


def metrics_delta(before: dict, after: dict) -> dict[str, Any]:
    """Server-side view of a phase: per route, requests, mean time in the app and share under 50 ms."""
    out: dict[str, Any] = {}
    for route, a in after.items():
        if not route.startswith("/v1/"):
            continue
        b = before.get(route, {})
        n = a.get("count", 0) - b.get("count", 0)
        if n <= 0:
            continue
        s = a.get("sum", 0) - b.get("sum", 0)
        le = {k: a[k] - b.get(k, 0) for k in a if k.startswith("le=")}
        out[route] = {
            "requests": int(n),
            "mean_ms": round(s / n * 1000, 3),
            "share_le_10ms": round(le.get("le=0.01", 0) / n, 4),
            "share_le_50ms": round(le.get("le=0.05", 0) / n, 4),
        }
    return out


# --- the load -------------------------------------------------------------------------------------


class GCPauses:
    """The client's own garbage-collector pauses: each one delays every request in flight, so a long
    one shows up as client-side latency that the server never caused."""

    def __init__(self) -> None:
        self._t0 = 0.0
        self.pauses: list[tuple[int, float]] = []  # (generation, ms)

    def _cb(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.pauses.append((info.get("generation", -1), (time.perf_counter() - self._t0) * 1000))

    def __enter__(self) -> "GCPauses":
        gc.callbacks.append(self._cb)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self._cb)

    def summary(self) -> dict[str, Any]:
        ms = [p for _, p in self.pauses]
        return {
            "collections": len(ms),
            "gen2": sum(g == 2 for g, _ in self.pauses),
            "total_ms": round(sum(ms), 1),
            "max_ms": round(max(ms), 2) if ms else 0.0,
        }


@dataclass
class Sample:
    endpoint: str
    start: float  # seconds since the phase started
    end: float
    status: int  # 0 when an exception was raised
    error: str | None  # None when it succeeded

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


@dataclass
class PhaseResult:
    name: str
    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0
    stopped_by: str = ""
    server_cpu_s: float | None = None
    client_cpu_s: float | None = None
    machine: dict[str, Any] = field(default_factory=dict)
    client_gc: dict[str, Any] = field(default_factory=dict)
    cpu_window_s: float = 0.0
    beyond_plan: int = 0  # requests sent past --requests to keep the load on until the reindex was over
    server_side: dict[str, Any] = field(default_factory=dict)
    reindex: dict[str, Any] | None = None
    add_document: dict[str, Any] | None = None


EXPECTED_FIELD = {"search": "results", "ask": "answerable", "peer": "results"}
URL_PATH = {"search": "/v1/search", "ask": "/v1/ask", "peer": "/search"}  # "peer": scripts/peer_service.py


async def one_request(client: httpx.AsyncClient, endpoint: str, query: str, t0: float, clock) -> Sample:
    body = {"query": query} if endpoint == "ask" else {"query": query, "top_k": 10}
    start = clock()
    status, error = 0, None
    try:
        r = await client.post(URL_PATH[endpoint], json=body)
        status = r.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}"
        elif EXPECTED_FIELD[endpoint] not in r.json():
            error = "bad body"
    except httpx.TimeoutException as exc:
        error = type(exc).__name__
    except (httpx.HTTPError, OSError, ValueError) as exc:  # ValueError: the body is not JSON
        error = type(exc).__name__
    end = clock()
    return Sample(endpoint, start - t0, end - t0, status, error)


async def run_phase(
    name: str,
    pool: list[httpx.AsyncClient],
    plan: Plan,
    *,
    clients: int,
    seconds: float,
    server: Server | None = None,
    reindex_at: float | None = None,
    reindex_timeout: float = 600.0,
    tail_after_reindex: float = 2.0,
    add_document: Path | None = None,
    add_at: float = 2 / 3,
) -> PhaseResult:
    """``clients`` workers take request numbers from a shared counter until the plan is used up or the
    time cap passes (requests already sent finish). With ``reindex_at`` (a share of the plan), one
    reindex call is fired when that many requests have completed, or that share of the time cap has
    passed, whichever comes first; the load then goes on (cycling the plan) until the reindex has
    answered and ``tail_after_reindex`` seconds more have passed, so that the swap and the first
    requests on the new index are always under load, but never past the time cap. With
    ``add_document`` (a file), once the reindex has answered and ``add_at`` of the plan is done, the file
    is uploaded with ``POST /v1/admin/documents`` (after the reindex, never during it: the service
    refuses a second rebuild while one runs), and the load goes on until that too has answered."""
    clock = time.perf_counter
    res = PhaseResult(name)
    next_i = 0
    done = 0
    reindex_go = asyncio.Event()
    reindex_after_n = int(len(plan) * reindex_at) if reindex_at is not None else None
    add_go = asyncio.Event()
    add_after_n = int(len(plan) * add_at) if add_document is not None else None
    t0 = clock()
    deadline = t0 + seconds
    hit_time_cap = False

    reindex_done_at: float | None = None  # clock() when the reindex call returned

    def load_wanted() -> bool:
        if next_i < len(plan):
            return True
        if reindex_at is None:
            return False
        return reindex_done_at is None or clock() < reindex_done_at + tail_after_reindex

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_i, done, hit_time_cap
        while True:
            if not load_wanted():
                return
            if clock() >= deadline:
                hit_time_cap = True
                return
            i = next_i
            next_i += 1
            k = i % len(plan)
            s = await one_request(client, plan.endpoints[k], plan.queries[k], t0, clock)
            res.samples.append(s)
            done += 1
            if reindex_after_n is not None and done >= reindex_after_n:
                reindex_go.set()
            if add_after_n is not None and done >= add_after_n:
                add_go.set()

    async def reindexer() -> None:
        nonlocal reindex_done_at
        assert server is not None and reindex_at is not None
        try:
            await asyncio.wait_for(reindex_go.wait(), timeout=seconds * reindex_at)
        except TimeoutError:
            pass
        info: dict[str, Any] = {"fired_after_requests": done}
        start = end = clock()
        try:
            start, end = await admin_post(info, "/v1/admin/reindex")
            info["start_s"] = round(start - t0, 4)
            info["end_s"] = round(end - t0, 4)
            info["duration_ms"] = round((end - start) * 1000, 1)
            res.reindex = info
            if add_document is not None:
                res.add_document = await upload(add_document)
        finally:
            reindex_done_at = clock()  # also on a crash here: the load must not wait for it forever

    async def admin_post(info: dict[str, Any], route: str, **kwargs: Any) -> tuple[float, float]:
        """One admin call on its own client and connection (it takes no slot of the load's pool); its status and
        response (or error) go into `info`; returns when it started and ended."""
        assert server is not None
        async with httpx.AsyncClient(base_url=server.base_url, timeout=reindex_timeout, trust_env=False) as admin:
            start = clock()
            try:
                r = await admin.post(route, headers={"X-API-Key": server.admin_key}, **kwargs)
                info["status"] = r.status_code
                try:
                    info["response"] = r.json()
                except ValueError:
                    info["response"] = r.text[:500]
            except httpx.HTTPError as exc:
                info["status"] = 0
                info["error"] = f"{type(exc).__name__}: {exc}"
            return start, clock()

    async def upload(path: Path) -> dict[str, Any]:
        assert server is not None
        try:
            await asyncio.wait_for(add_go.wait(), timeout=max(0.0, t0 + seconds * add_at - clock()))
        except TimeoutError:
            pass
        info: dict[str, Any] = {"file": path.name, "fired_after_requests": done}
        start, end = await admin_post(
            info, "/v1/admin/documents", files=[("files", (path.name, path.read_bytes(), "text/plain"))]
        )
        info["start_s"] = round(start - t0, 4)
        info["end_s"] = round(end - t0, 4)
        info["duration_ms"] = round((end - start) * 1000, 1)
        return info

    cpu_server0 = server.cpu_seconds() if server else None
    cpu_self0 = self_cpu_seconds()
    machine0 = machine_cpu_seconds()
    with GCPauses() as gcp:
        tasks = [asyncio.create_task(worker(pool[w % len(pool)])) for w in range(clients)]
        rtask = asyncio.create_task(reindexer()) if reindex_at is not None else None
        await asyncio.gather(*tasks)
        res.wall_s = clock() - t0
        if rtask is not None:
            await rtask  # the reindex may outlast the load; its window is still measured
    res.client_gc = gcp.summary()
    res.stopped_by = "time cap" if hit_time_cap else "request count"
    res.beyond_plan = max(0, len(res.samples) - len(plan))
    res.cpu_window_s = clock() - t0  # CPU figures cover the load and, if longer, the reindex
    if server is not None:
        cpu1 = server.cpu_seconds()
        if cpu_server0 is not None and cpu1 is not None:
            res.server_cpu_s = round(cpu1 - cpu_server0, 2)
    res.client_cpu_s = round(self_cpu_seconds() - cpu_self0, 2)
    machine1 = machine_cpu_seconds()
    if machine0 and machine1:
        busy, idle, steal = (b - a for a, b in zip(machine0, machine1))
        wall = res.cpu_window_s
        res.machine = {
            "cpus": os.cpu_count(),
            "busy_cores": round(busy / wall, 2),  # average number of cores busy, all processes
            "idle_cores": round(idle / wall, 2),
            "steal_cores": round(steal / wall, 2),  # taken by the hypervisor
            # everything that is neither the server nor this script: other people's jobs on the machine
            "other_processes_cores": round(max(0.0, busy - (res.server_cpu_s or 0) - res.client_cpu_s) / wall, 2),
            "loadavg_1m_at_end": loadavg(),
        }
    return res


# --- statistics -----------------------------------------------------------------------------------


def latency_summary(ms: list[float]) -> dict[str, Any]:
    if not ms:
        return {"n": 0, "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    a = np.asarray(ms, dtype=np.float64)
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return {
        "n": int(a.size),
        "p50_ms": round(float(p50), 3),
        "p90_ms": round(float(p90), 3),
        "p99_ms": round(float(p99), 3),
        "max_ms": round(float(a.max()), 3),
        "mean_ms": round(float(a.mean()), 3),
    }


def timeline(samples: list[Sample], step: float = 1.0) -> list[dict[str, Any]]:
    """Per ``step`` seconds of the phase (by completion time): requests, p50, p99, max, errors."""
    if not samples:
        return []
    buckets: dict[int, list[Sample]] = {}
    for s in samples:
        buckets.setdefault(int(s.end // step), []).append(s)
    out = []
    for b in sorted(buckets):
        ss = buckets[b]
        lat = latency_summary([s.ms for s in ss])
        out.append({"t_s": b * step, "n": len(ss), "p50_ms": lat["p50_ms"], "p99_ms": lat["p99_ms"], "max_ms": lat["max_ms"],
                    "errors": sum(s.error is not None for s in ss)})
    return out


def summarize(res: PhaseResult, clients: int) -> dict[str, Any]:
    samples = res.samples
    errors = Counter(s.error for s in samples if s.error is not None)
    ok = [s for s in samples if s.error is None]
    out: dict[str, Any] = {
        "phase": res.name,
        "clients": clients,
        "requests": len(samples),
        "ok": len(ok),
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        "wall_s": round(res.wall_s, 3),
        "stopped_by": res.stopped_by,
        "requests_beyond_plan": res.beyond_plan,
        "qps": round(len(samples) / res.wall_s, 1) if res.wall_s > 0 else None,
        # every request, failed ones included: a fast 500 must not flatter the percentiles, nor a
        # timeout be left out of them
        "latency": latency_summary([s.ms for s in samples]),
        "by_endpoint": {
            ep: {"requests": sum(s.endpoint == ep for s in samples), **latency_summary([s.ms for s in samples if s.endpoint == ep])}
            for ep in ("search", "ask")
        },
        "server_cpu_s": res.server_cpu_s,
        "cpu_window_s": round(res.cpu_window_s, 3),
        "server_cpu_share_of_one_core": round(res.server_cpu_s / res.cpu_window_s, 3) if res.server_cpu_s is not None and res.cpu_window_s else None,
        "client_cpu_s": res.client_cpu_s,
        "client_cpu_share_of_one_core": round(res.client_cpu_s / res.cpu_window_s, 3) if res.client_cpu_s is not None and res.cpu_window_s else None,
        "client_gc": res.client_gc,
        "machine": res.machine,
        "server_side": res.server_side,
        "timeline_1s": timeline(samples),
    }
    if res.reindex is not None:
        r = dict(res.reindex)
        if "start_s" in r:
            a, b = r["start_s"], r["end_s"]
            inflight = [s for s in samples if s.start < b and s.end > a]
            r["in_flight"] = {
                "requests": len(inflight),
                "errors": sum(s.error is not None for s in inflight),
                "errors_by_kind": dict(Counter(s.error for s in inflight if s.error is not None)),
                "latency": latency_summary([s.ms for s in inflight]),
            }
            after = [s for s in samples if s.start >= b]
            r["after"] = {"requests": len(after), "errors": sum(s.error is not None for s in after),
                          "latency": latency_summary([s.ms for s in after])}
            r["load_ended_before_reindex"] = res.wall_s < b
        out["reindex"] = r
    if res.add_document is not None:
        a = dict(res.add_document)
        inflight = [s for s in samples if s.start < a["end_s"] and s.end > a["start_s"]]
        a["in_flight"] = {"requests": len(inflight), "errors": sum(s.error is not None for s in inflight),
                          "latency": latency_summary([s.ms for s in inflight])}
        out["add_document"] = a
    return out


# --- output ---------------------------------------------------------------------------------------


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "–"
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}"


def markdown(summary: dict[str, Any]) -> str:
    cfg = summary["config"]
    head = ("Phase", "Requests", "Errors", "QPS", "p50 ms", "p90 ms", "p99 ms", "max ms", "Notes")
    rows: list[tuple[Any, ...]] = []

    def errs(d: dict[str, Any]) -> str:
        if not d["errors"]:
            return "0"
        return f"{d['errors']} ({', '.join(f'{k} ×{v}' for k, v in d['errors_by_kind'].items())})"

    for p in summary["phases"]:
        lat = p["latency"]
        cores = [(label, v) for label, v in (("server", p.get("server_cpu_share_of_one_core")),
                                             ("client", p.get("client_cpu_share_of_one_core")),
                                             ("others", (p.get("machine") or {}).get("other_processes_cores"))) if v is not None]
        note = ("CPU cores: " + ", ".join(f"{label} {v:.2f}" for label, v in cores)) if cores else ""
        if p["stopped_by"] == "time cap":
            note += "; hit the time cap"
        if p.get("requests_beyond_plan"):
            note += f"; +{p['requests_beyond_plan']} requests to cover the reindex"
        rows.append((p["phase"], p["requests"], errs(p), p["qps"], fmt_ms(lat["p50_ms"]), fmt_ms(lat["p90_ms"]),
                     fmt_ms(lat["p99_ms"]), fmt_ms(lat["max_ms"]), note.strip("; ")))
        r = p.get("reindex")
        if r and "in_flight" in r:
            f = r["in_flight"]
            fl = f["latency"]
            note = f"reindex HTTP {r.get('status')} in {r['duration_ms'] / 1000:.2f} s"
            rows.append(("↳ in flight during reindex", f["requests"], errs(f), "–", fmt_ms(fl["p50_ms"]), fmt_ms(fl["p90_ms"]),
                         fmt_ms(fl["p99_ms"]), fmt_ms(fl["max_ms"]), note))
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    rss = summary["server"]["peak_rss_mib"]
    pk = summary["environment"]["packages"]
    # what uvicorn's "auto" settings pick when these are importable
    stack = " + ".join([("httptools" if pk.get("httptools") else "h11"), ("uvloop" if pk.get("uvloop") else "asyncio")])
    lines.append("")
    lines.append(
        f"{cfg['clients']} keep-alive clients on loopback ({'one httpx pool' if cfg.get('pool', 'shared') == 'shared' else 'one httpx client each'}), closed loop, {cfg['search_share']:.0%} `/v1/search` (top_k 10) / "
        f"{1 - cfg['search_share']:.0%} `/v1/ask`, {cfg['mode']} mode, one uvicorn worker ({stack}); client-side latency. "
        f"Server peak RSS {rss:.0f} MiB. {summary['environment']['cpus']} CPUs ({summary['environment']['cpu']})"
        + (f", commit {git['commit']}{' + local changes' if git['modified_files'] else ''}." if (git := summary['environment'].get('git')) else ".")
    )
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pk = {}
    for name in ("fastapi", "starlette", "uvicorn", "httpx", "h11", "httptools", "uvloop", "numpy", "jieba", "bm25s", "pydantic"):
        try:
            pk[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pk[name] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
            "packages": pk, "git": git_revision()}


def git_revision() -> dict[str, Any] | None:
    """The commit measured and whether the tree had local changes (read-only git commands)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                               text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return {"commit": head.stdout.strip(), "modified_files": [line[3:] for line in dirty.stdout.splitlines() if line.strip()]}


# --- the matrix: modes × workers × connections, the peer in the same run -------------------------

ADD_DOCUMENT = REPO / "tests" / "fixtures" / "wild" / "gov_yinfa2019-41_qiye-zhanghu-xuke.txt"


def parse_ints(value: str) -> list[int]:
    try:
        out = [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {value!r}") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"expected integers ≥ 1, got {value!r}")
    return out


def parse_modes(value: str) -> list[str]:
    out = [x.strip() for x in value.split(",") if x.strip()]
    bad = [m for m in out if m not in ("lexical", "hybrid", "auto", "dense")]
    if not out or bad:
        raise argparse.ArgumentTypeError(f"modes are lexical, hybrid, auto, dense; got {value!r}")
    return out


def cell(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs of one cell; errors are summed (one error in any run counts)."""
    def med(xs: list[float | None]) -> float | None:
        xs = [x for x in xs if x is not None]
        return round(float(np.median(xs)), 3) if xs else None

    return {
        "runs": len(phases),
        "qps": med([p["qps"] for p in phases]),
        "p50_ms": med([p["latency"]["p50_ms"] for p in phases]),
        "p99_ms": med([p["latency"]["p99_ms"] for p in phases]),
        "errors": sum(p["errors"] for p in phases),
        "requests": sum(p["requests"] for p in phases),
        "server_cpu_ms_per_request": med([p["server_cpu_s"] * 1000 / p["requests"] if p["server_cpu_s"] is not None and p["requests"] else None
                                          for p in phases]),
        "server_cores": med([p["server_cpu_share_of_one_core"] for p in phases]),
        "client_cores": med([p["client_cpu_share_of_one_core"] for p in phases]),
        "other_cores": med([(p.get("machine") or {}).get("other_processes_cores") for p in phases]),
        # the figures above mean little without it: the 1-minute load average at the end of each phase
        "loadavg_1m": med([(p.get("machine") or {}).get("loadavg_1m_at_end") for p in phases]),
    }


async def measure(server: Server, endpoint_mix: float | str, connections: int, plan_n: int, seconds: float,
                  questions: list[str], seed: int, *, warmup: int = 0, request_timeout: float = 30.0,
                  **event_kw) -> dict[str, Any]:
    """One phase against ``server`` with ``connections`` keep-alive connections in one httpx pool.
    ``endpoint_mix``: "peer", or the share of /v1/search (1.0 = search only, 0.0 = ask only)."""
    timeout = httpx.Timeout(request_timeout, pool=request_timeout)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=120)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=timeout, trust_env=False) as client:
        def plan(n: int, s: int) -> Plan:
            if endpoint_mix == "peer":
                p = Plan.make(n, questions, 1.0, seed=s)
                return Plan(("peer",) * n, p.queries)
            return Plan.make(n, questions, float(endpoint_mix), seed=s)

        if warmup:
            await run_phase("warm-up", [client], plan(warmup, seed + 99), clients=connections, seconds=seconds)
        res = await run_phase("cell", [client], plan(plan_n, seed), clients=connections, seconds=seconds, server=server, **event_kw)
    return summarize(res, connections)


def prebuild_index(mode: str, index_dir: Path, workdir: Path, timeout: float) -> float:
    """``qa index`` once before a multi-worker server, so that its workers start on a built index."""
    t0 = time.perf_counter()
    env = server_env(mode, index_dir, secrets.token_urlsafe(8))
    r = subprocess.run([str(VENV_BIN / "qa"), "index"], env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"qa index ({mode}) failed with code {r.returncode}:\n{(r.stdout + r.stderr)[-2000:]}")
    return time.perf_counter() - t0


def run_matrix(args: argparse.Namespace, questions: list[str], workdir: Path, servers: list[Server]) -> dict[str, Any]:
    """Every (mode, workers) server in turn; at each connection count and run, our /v1/search, our /v1/ask
    and the peer's /search back to back, so that the ratio compares phases a few seconds apart. Then one
    phase per run at ``--event-connections`` with a reindex and a document add fired mid-run."""
    peer = PeerServer(free_port(), log_path=workdir / "peer.log", workdir=workdir)
    servers.append(peer)
    peer.wait_ready(args.startup_timeout)
    cells: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    configs: list[dict[str, Any]] = []
    cached = REPO / "var" / "index" / "passage-vectors.sqlite"
    for mode in args.modes:
        index_dir = workdir / f"index-{mode}"
        index_dir.mkdir(parents=True, exist_ok=True)
        if cached.exists() and mode != "lexical":  # spares the embedding of the build (not what is measured)
            shutil.copy(cached, index_dir / cached.name)
        build_s = None
        if max(args.workers_list) > 1:
            print(f"[{mode}] building the index once (qa index) …", file=sys.stderr)
            build_s = prebuild_index(mode, index_dir, workdir, args.startup_timeout)
        for workers in args.workers_list:
            sdir = workdir / f"{mode}-w{workers}"  # its own data_dir (var/): documents added here stay here
            sdir.mkdir()
            t0 = time.perf_counter()
            server = Server(free_port(), mode=mode, log_path=sdir / "server.log", index_dir=index_dir, workdir=sdir, workers=workers)
            servers.append(server)
            server.wait_ready(args.startup_timeout)
            startup_s = time.perf_counter() - t0
            print(f"[{mode} × {workers} worker(s)] ready in {startup_s:.1f} s", file=sys.stderr)
            first = True
            for conns in args.connections:
                for run in range(args.runs):
                    seed = args.seed + run
                    for label, target, mix in (("search", server, 1.0), ("ask", server, 0.0), ("peer", peer, "peer")):
                        s = asyncio.run(measure(target, mix, conns, args.requests, args.seconds, questions, seed,
                                                warmup=args.warmup if first or run == 0 else 0))
                        s.update(mode=mode, workers=workers, endpoint=label, run=run)
                        cells.append(s)
                        print(f"  {label:6} {conns:3} conn run {run + 1}: {s['qps']} QPS, p99 {s['latency']['p99_ms']} ms, "
                              f"errors {s['errors']}", file=sys.stderr)
                    first = False
            for run in range(args.runs if args.events else 0):
                s = asyncio.run(measure(server, args.mix, args.event_connections, args.requests, max(args.seconds * 2, 30.0), questions,
                                        args.seed + run, reindex_at=1 / 3, reindex_timeout=args.reindex_timeout,
                                        tail_after_reindex=args.tail, add_document=args.add_document))
                s.update(mode=mode, workers=workers, endpoint="mixed + reindex + add", run=run)
                events.append(s)
                r, a = s.get("reindex") or {}, s.get("add_document") or {}
                print(f"  events run {run + 1}: {s['requests']} requests, errors {s['errors']}, reindex HTTP {r.get('status')} "
                      f"in {r.get('duration_ms')} ms, add HTTP {a.get('status')} in {a.get('duration_ms')} ms", file=sys.stderr)
                remove_added(server, a, args.reindex_timeout)
            configs.append({"mode": mode, "workers": workers, "startup_s": round(startup_s, 2),
                            "prebuild_s": round(build_s, 2) if build_s is not None else None,
                            # each process's own peak, summed: shared pages count once per worker
                            "peak_rss_mib_all_processes": round(sum(proc_status(p).get("VmHWM", 0) for p in process_tree(server.pid)) / 1024, 1),
                            "processes": len(process_tree(server.pid)),
                            "server_affinity": affinity(server.pid)})
            server.stop()
            servers.remove(server)
    return {"cells": cells, "events": events, "configs": configs, "peer_affinity": affinity(peer.pid)}


def remove_added(server: Server, add_info: dict[str, Any], timeout: float) -> None:
    """Take the added document out again, outside the timed window, so the next run adds it afresh."""
    try:
        doc_ids = [d["doc_id"] for d in (add_info.get("response") or {}).get("documents", []) if d.get("doc_id")]
    except (AttributeError, TypeError):
        return
    with httpx.Client(base_url=server.base_url, timeout=timeout, trust_env=False) as c:
        for doc_id in doc_ids:
            c.delete(f"/v1/admin/documents/{doc_id}", headers={"X-API-Key": server.admin_key})


def matrix_summary(args: argparse.Namespace, raw: dict[str, Any]) -> dict[str, Any]:
    rows = []
    keys = sorted({(c["mode"], c["workers"], c["clients"], c["endpoint"]) for c in raw["cells"]},
                  key=lambda k: (args.modes.index(k[0]), k[1], k[2], ("search", "ask", "peer").index(k[3])))
    for mode, workers, conns, ep in keys:
        phases = [c for c in raw["cells"] if (c["mode"], c["workers"], c["clients"], c["endpoint"]) == (mode, workers, conns, ep)]
        rows.append({"mode": mode, "workers": workers, "connections": conns, "endpoint": ep, **cell(phases)})
    for row in rows:  # ours ÷ the peer measured beside it (same config, connections and runs)
        if row["endpoint"] == "peer":
            continue
        peer = next((r for r in rows if r["endpoint"] == "peer" and (r["mode"], r["workers"], r["connections"]) ==
                     (row["mode"], row["workers"], row["connections"])), None)
        row["ratio_to_peer"] = round(row["qps"] / peer["qps"], 2) if peer and peer["qps"] and row["qps"] else None
    event_rows = []
    for mode, workers in sorted({(e["mode"], e["workers"]) for e in raw["events"]}, key=lambda k: (args.modes.index(k[0]), k[1])):
        ph = [e for e in raw["events"] if (e["mode"], e["workers"]) == (mode, workers)]
        event_rows.append({
            "mode": mode, "workers": workers, "connections": args.event_connections, "endpoint": "mixed + reindex + add", **cell(ph),
            "errors_by_kind": dict(sum((Counter(e["errors_by_kind"]) for e in ph), Counter())),
            "reindex_status": [(e.get("reindex") or {}).get("status") for e in ph],
            "reindex_ms": [(e.get("reindex") or {}).get("duration_ms") for e in ph],
            "add_status": [(e.get("add_document") or {}).get("status") for e in ph],
            "add_ms": [(e.get("add_document") or {}).get("duration_ms") for e in ph],
        })
    return {"rows": rows, "event_rows": event_rows}


def matrix_markdown(summary: dict[str, Any]) -> str:
    head = ("Mode", "Workers", "Conn.", "Endpoint", "QPS", "× peer", "p50 ms", "p99 ms", "Errors", "Server CPU ms/req",
            "Cores: server / client / others", "Load avg", "Notes")
    out = []

    def cores(r: dict[str, Any]) -> str:
        return " / ".join("–" if r[k] is None else f"{r[k]:.2f}" for k in ("server_cores", "client_cores", "other_cores"))

    def num(v: float | None, fmt: str = "{:.0f}") -> str:
        return "–" if v is None else fmt.format(v)

    for r in summary["rows"]:
        ep = {"search": "/v1/search", "ask": "/v1/ask", "peer": "peer /search"}[r["endpoint"]]
        out.append((r["mode"] if r["endpoint"] != "peer" else "(peer)", r["workers"] if r["endpoint"] != "peer" else 1,
                    r["connections"], ep, num(r["qps"]), num(r.get("ratio_to_peer"), "{:.2f}"), fmt_ms(r["p50_ms"]),
                    fmt_ms(r["p99_ms"]), r["errors"], num(r["server_cpu_ms_per_request"], "{:.2f}"), cores(r),
                    num(r.get("loadavg_1m"), "{:.1f}"), ""))
    for r in summary["event_rows"]:
        note = (f"reindex HTTP {', '.join(map(str, r['reindex_status']))} ({', '.join(f'{(x or 0) / 1000:.1f} s' for x in r['reindex_ms'])}); "
                f"add HTTP {', '.join(map(str, r['add_status']))} ({', '.join(f'{(x or 0) / 1000:.1f} s' for x in r['add_ms'])})")
        if r["errors_by_kind"]:
            note += "; errors: " + ", ".join(f"{k} ×{v}" for k, v in r["errors_by_kind"].items())
        out.append((r["mode"], r["workers"], r["connections"], r["endpoint"], num(r["qps"]), "–", fmt_ms(r["p50_ms"]),
                    fmt_ms(r["p99_ms"]), r["errors"], num(r["server_cpu_ms_per_request"], "{:.2f}"), cores(r),
                    num(r.get("loadavg_1m"), "{:.1f}"), note))
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in out]
    return "\n".join(lines)


def main_matrix(args: argparse.Namespace) -> int:
    questions = load_questions()
    workdir = Path(tempfile.mkdtemp(prefix="policyqa-bench-load-"))
    servers: list[Server] = []
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: signal.raise_signal(signal.SIGINT))
    try:
        raw = run_matrix(args, questions, workdir, servers)
    except KeyboardInterrupt:
        print("interrupted: stopping the servers", file=sys.stderr)
        return 130
    except (RuntimeError, TimeoutError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    summary = {
        "benchmark": "load-matrix",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "config": {"modes": args.modes, "workers": args.workers_list, "connections": args.connections, "runs": args.runs,
                   "requests_per_phase": args.requests, "seconds_cap_per_phase": args.seconds, "warmup_requests": args.warmup,
                   "event_connections": args.event_connections if args.events else None, "event_search_share": round(args.mix, 4),
                   "add_document": str(args.add_document.relative_to(REPO)) if args.add_document.is_relative_to(REPO) else str(args.add_document),
                   "quick": args.quick, "seed": args.seed, "rate_limit": "off (QA_RATE_LIMIT=0)",
                   "peer": "scripts/peer_service.py (FastAPI + jieba + rank_bm25 BM25Okapi over blank-line paragraphs)"},
        "cores": {"cpu_count": os.cpu_count(), "client_affinity": affinity(0), "peer_affinity": raw["peer_affinity"],
                  "servers": raw["configs"],
                  # inherited by every server: BLAS/OpenMP threads per worker change the hybrid figures a lot
                  "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}},
        "environment": environment(),
        **matrix_summary(args, raw),
        "phases": {"cells": raw["cells"], "events": raw["events"]},
    }
    for p in summary["phases"]["cells"] + summary["phases"]["events"]:
        p.pop("timeline_1s", None)  # per-second detail of ~150 phases would dwarf the rest
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(matrix_markdown(summary))
    print()
    print(f"Medians of {args.runs} run(s) per cell; closed loop, keep-alive connections on loopback in one httpx pool; "
          f"{os.cpu_count()} CPUs, client on cores {affinity(0)}; '× peer' = our QPS ÷ the peer's at the same connections, "
          f"measured right after ours. Cores = CPU time ÷ wall time of each process (server: all its workers).")
    print(f"written: {args.out}", file=sys.stderr)
    return 0


# --- main -----------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, server: Server, questions: list[str]) -> dict[str, Any]:
    timeout = httpx.Timeout(args.request_timeout, pool=args.request_timeout)
    phases: list[dict[str, Any]] = []
    # --pool shared (the default): one AsyncClient whose pool holds --clients keep-alive connections.
    # --pool per-client: one AsyncClient with a single connection per client; the same connections,
    # without httpcore's pool bookkeeping, which re-checks every pooled connection on each request and
    # so costs the client more CPU the larger the pool (encode/httpx#3215). Comparing the two shows
    # how much of the latency at high concurrency is the load generator's own.
    n_pools, per_pool = (1, args.clients) if args.pool == "shared" else (args.clients, 1)
    limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool, keepalive_expiry=120)
    async with contextlib.AsyncExitStack() as stack:
        # trust_env=False: no proxy from the environment may take loopback traffic elsewhere
        pool = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=timeout, trust_env=False)
            )
            for _ in range(n_pools)
        ]
        if args.warmup:
            w = await run_phase("warm-up", pool, Plan.make(args.warmup, questions, args.mix, seed=args.seed + 99),
                                clients=args.clients, seconds=args.seconds)
            werr = sum(s.error is not None for s in w.samples)
            print(f"warm-up: {len(w.samples)} requests, {werr} errors, {len(w.samples) / w.wall_s:.0f} QPS", file=sys.stderr)

        for name, reindex_at in (("steady", None), ("reindex", args.reindex_at)):
            plan = Plan.make(args.requests, questions, args.mix, seed=args.seed)
            before = scrape_metrics(server.base_url)
            res = await run_phase(name, pool, plan, clients=args.clients, seconds=args.seconds, server=server,
                                  reindex_at=reindex_at, reindex_timeout=args.reindex_timeout, tail_after_reindex=args.tail)
            res.server_side = metrics_delta(before, scrape_metrics(server.base_url))
            s = summarize(res, args.clients)
            s["server_rss_kib_after"] = proc_status(server.pid).get("VmRSS")
            phases.append(s)
            lat = s["latency"]
            print(f"{name}: {s['requests']} requests in {s['wall_s']:.1f} s, {s['qps']} QPS, p50 {lat['p50_ms']} ms, "
                  f"p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms, errors {s['errors']} {s['errors_by_kind'] or ''}",
                  file=sys.stderr)
            if s.get("reindex"):
                r = s["reindex"]
                print(f"  reindex: HTTP {r.get('status')} in {r.get('duration_ms')} ms; in flight: {r.get('in_flight', {}).get('requests')} "
                      f"requests, p99 {r.get('in_flight', {}).get('latency', {}).get('p99_ms')} ms", file=sys.stderr)
    return {"phases": phases}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=16, help="concurrent clients = keep-alive connections (default 16)")
    p.add_argument("--requests", type=int, default=None, help="requests per phase (default 4000; --quick: 400)")
    p.add_argument("--seconds", type=float, default=None, help="time cap per phase (default 60; --quick: 20)")
    p.add_argument("--mix", type=parse_mix, default=parse_mix("0.7"),
                   help="share of /v1/search, the rest /v1/ask: 0.7, 70 or 70:30 (default 0.7)")
    p.add_argument("--pool", choices=("shared", "per-client"), default="shared",
                   help="one httpx.AsyncClient with a pool of --clients connections (default), or one single-connection "
                        "AsyncClient per client, to measure the load generator's own share of the latency")
    p.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 for the server (default: a free one)")
    p.add_argument("--quick", action="store_true", help="smoke run: 400 requests / 20 s per phase, 50 warm-up")
    p.add_argument("--warmup", type=int, default=None, help="untimed warm-up requests before phase 1 (default 300; --quick: 50)")
    p.add_argument("--reindex-at", type=float, default=1 / 3, help="fire the reindex after this share of phase 2 (default 1/3)")
    p.add_argument("--tail", type=float, default=2.0,
                   help="keep phase 2's load on this many seconds after the reindex returned (default 2)")
    p.add_argument("--mode", default="lexical", choices=("lexical", "auto", "hybrid", "dense"), help="QA_MODE of the server (default lexical)")
    p.add_argument("--seed", type=int, default=20260101, help="seed of the search/ask sequence")
    p.add_argument("--startup-timeout", type=float, default=300.0, help="seconds to wait for /readyz (default 300)")
    p.add_argument("--request-timeout", type=float, default=30.0, help="per-request timeout in seconds (default 30)")
    p.add_argument("--reindex-timeout", type=float, default=600.0, help="timeout of the reindex call (default 600)")
    p.add_argument("--out", type=Path, default=None,
                   help=f"JSON output (default {DEFAULT_OUT.relative_to(REPO)}; --quick: load-quick.json beside it)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed (errors > 0 or p99 ≥ 50 ms)")
    m = p.add_argument_group("matrix (--matrix): modes × workers × connections, the peer service in the same run")
    m.add_argument("--matrix", action="store_true",
                   help=f"run the matrix and the peer (scripts/peer_service.py); table to stdout, JSON to {MATRIX_OUT.relative_to(REPO)}")
    m.add_argument("--modes", type=parse_modes, default=None, help="comma-separated QA_MODE values (default lexical,hybrid; --quick: lexical)")
    m.add_argument("--workers", dest="workers_list", type=parse_ints, default=None,
                   help="comma-separated qa serve --workers counts (default 1,2; --quick: 1)")
    m.add_argument("--connections", type=parse_ints, default=None, help="comma-separated connection counts (default 1,4,16,64; --quick: 1,16)")
    m.add_argument("--runs", type=int, default=None, help="runs per cell, the table shows medians (default 3; --quick: 1)")
    m.add_argument("--no-events", dest="events", action="store_false",
                   help="skip the phase with a reindex and a document add (steady cells only)")
    m.add_argument("--event-connections", type=int, default=16, help="connections of the reindex + document-add phase (default 16)")
    m.add_argument("--add-document", type=Path, default=ADD_DOCUMENT,
                   help=f"file uploaded mid-run (default {ADD_DOCUMENT.relative_to(REPO)})")
    args = p.parse_args(argv)
    if args.matrix:
        args.modes = args.modes or (["lexical"] if args.quick else ["lexical", "hybrid"])
        args.workers_list = args.workers_list or ([1] if args.quick else [1, 2])
        args.connections = args.connections or ([1, 16] if args.quick else [1, 4, 16, 64])
        args.runs = args.runs if args.runs is not None else (1 if args.quick else 3)
        if args.quick:
            _fill_defaults(args, 100, 5.0, 20, MATRIX_OUT.with_name("load-quick.json"))
        else:
            _fill_defaults(args, 1000, 20.0, 100, MATRIX_OUT)
        if args.runs < 1 or args.event_connections < 1:
            p.error("--runs and --event-connections must be ≥ 1")
        if not args.add_document.is_file():
            p.error(f"--add-document {args.add_document}: no such file")
    # (a matrix run has filled these already; a smoke run does not overwrite the full run's figures)
    if args.quick:
        _fill_defaults(args, 400, 20.0, 50, DEFAULT_OUT.with_name("load-quick.json"))
    else:
        _fill_defaults(args, 4000, 60.0, 300, DEFAULT_OUT)
    if args.clients < 1 or args.requests < 1 or args.seconds <= 0 or args.warmup < 0:
        p.error("--clients and --requests must be ≥ 1, --seconds > 0, --warmup ≥ 0")
    if not 0 < args.reindex_at < 1:
        p.error("--reindex-at must be between 0 and 1")
    if args.port is not None and not (1 <= args.port <= 65535 and port_is_free(args.port)):
        p.error(f"--port {args.port}: not a free port on {HOST}")
    return args


def _fill_defaults(args: argparse.Namespace, requests: int, seconds: float, warmup: int, out: Path) -> None:
    """Phase size, warm-up and output file where the command line left them unset."""
    for name, value in (("requests", requests), ("seconds", seconds), ("warmup", warmup), ("out", out)):
        if getattr(args, name) is None:
            setattr(args, name, value)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.matrix:
        return main_matrix(args)
    questions = load_questions()
    port = args.port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="policyqa-bench-load-"))
    server: Server | None = None
    interrupted = False

    # Ctrl-C and SIGTERM take the same clean-up path: SIGINT raises KeyboardInterrupt (inside
    # asyncio.run, asyncio first cancels the running benchmark), SIGTERM is turned into a SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, lambda signum, frame: signal.raise_signal(signal.SIGINT))
    try:
        # passage vectors an earlier build left behind spare the server the embedding (not what is measured)
        cached = REPO / "var" / "index" / "passage-vectors.sqlite"
        if cached.exists() and args.mode != "lexical":
            (workdir / "index").mkdir(parents=True, exist_ok=True)
            shutil.copy(cached, workdir / "index" / cached.name)
        t_start = time.perf_counter()
        server = Server(port, mode=args.mode, log_path=workdir / "server.log", index_dir=workdir / "index", workdir=workdir)
        print(f"server pid {server.pid} on {server.base_url}; building the index and waiting for /readyz …", file=sys.stderr)
        ready = server.wait_ready(args.startup_timeout)
        startup_s = time.perf_counter() - t_start
        print(f"ready in {startup_s:.1f} s: {ready}", file=sys.stderr)
        result = asyncio.run(bench(args, server, questions))
        status = proc_status(server.pid)
        if server.proc.poll() is not None:
            raise RuntimeError(f"server died during the run (code {server.proc.returncode}):\n{server.log_tail()}")
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: stopping the server", file=sys.stderr)
        return 130
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            code = server.stop()
            if code not in (0, -signal.SIGTERM, None):
                print(f"server exit code {code}; log tail:\n{server.log_tail(15)}", file=sys.stderr)
            elif interrupted:
                print("server stopped", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)

    summary: dict[str, Any] = {
        "benchmark": "load",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "config": {
            "clients": args.clients,
            "pool": args.pool,
            "requests_per_phase": args.requests,
            "seconds_cap_per_phase": args.seconds,
            "search_share": round(args.mix, 4),
            "warmup_requests": args.warmup,
            "reindex_at": round(args.reindex_at, 4),
            "mode": args.mode,
            "quick": args.quick,
            "seed": args.seed,
            "questions": len(questions),
            "server_command": " ".join(["QA_MODE=" + args.mode, "QA_RATE_LIMIT=0", "QA_ADMIN_API_KEY=<random>",
                                        "QA_INDEX_DIR=<tmp>", ".venv/bin/qa", *server.command[1:]]) if server else None,
        },
        "server": {
            "startup_s": round(startup_s, 2),
            "ready": ready,
            "peak_rss_mib": round(status.get("VmHWM", 0) / 1024, 1),
            "rss_at_end_mib": round(status.get("VmRSS", 0) / 1024, 1),
            "threads_at_end": status.get("Threads"),
        },
        "environment": environment(),
        **result,
    }
    targets = {
        "zero_errors": all(p["errors"] == 0 for p in summary["phases"]),
        "p99_under_50ms": all((p["latency"]["p99_ms"] or 0) < 50 for p in summary["phases"]),
        "reindex_ok": all(200 <= (p.get("reindex") or {}).get("status", 200) < 300 for p in summary["phases"]),
    }
    summary["targets"] = targets
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(markdown(summary))
    print()
    print("targets: " + ", ".join(f"{k} {'✓' if v else '✗'}" for k, v in targets.items()))
    print(f"written: {args.out}", file=sys.stderr)
    return 1 if args.strict and not all(targets.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
