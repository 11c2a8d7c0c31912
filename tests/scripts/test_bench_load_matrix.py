"""The load benchmark's matrix and its reference service (scripts/bench_load.py --matrix, scripts/peer_service.py).

No timing is asserted (figures come from the benchmark, on an idle machine): only that every server answered,
that errors are counted, and that the table has the rows the issue asks for."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # pydantic resolves the module's postponed annotations through it
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(SCRIPTS))
    return mod


@pytest.fixture(scope="module")
def peer_client():
    peer = _load("peer_service")
    with TestClient(peer.create_app()) as c:
        yield c


def test_peer_ranks_paragraphs_for_a_chinese_query(peer_client):
    r = peer_client.post("/search", json={"query": "推进服务业扩能提质的工作目标", "top_k": 5})
    assert r.status_code == 200
    hits = r.json()["results"]
    assert 1 <= len(hits) <= 5
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert "服务业" in hits[0]["text"]  # the best paragraph shares the query's words
    assert peer_client.get("/readyz").json()["paragraphs"] > 100  # five documents, split at blank lines


def test_peer_rejects_bad_input_naming_the_field(peer_client):
    r = peer_client.post("/search", json={"query": "养老", "top_k": 0})
    assert r.status_code == 422 and "top_k" in r.text
    assert peer_client.post("/search", json={"query": "养老", "top_k": 3}).json()["results"]


def _run(coro):
    """asyncio.run in a thread of its own: in the full suite the browser tests' Playwright (sync API) keeps an
    event loop running in the main thread, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_measure_counts_errors_and_successes_against_the_peer(tmp_path):
    bench = _load("bench_load")
    peer = bench.PeerServer(bench.free_port(), log_path=tmp_path / "peer.log", workdir=tmp_path)
    try:
        peer.wait_ready(60)
        qs = bench.load_questions()
        ok = _run(bench.measure(peer, "peer", 1, 8, 30.0, qs, seed=1))
        # the peer has no /v1/search: every request is a 404, and each must be counted as an error
        bad = _run(bench.measure(peer, 1.0, 1, 8, 30.0, qs, seed=1))
    finally:
        peer.stop()
    assert ok["requests"] == 8 and ok["errors"] == 0 and ok["qps"] > 0
    assert bad["requests"] == 8 and bad["errors"] == 8 and bad["errors_by_kind"] == {"HTTP 404": 8}
    assert ok["server_cpu_s"] is not None  # the peer's CPU time is read from /proc


def test_matrix_smallest_shape_runs_peer_and_lexical_server(tmp_path):
    out = tmp_path / "load.json"
    cmd = [sys.executable, str(SCRIPTS / "bench_load.py"), "--matrix", "--quick", "--modes", "lexical", "--workers", "1",
           "--connections", "1", "--event-connections", "1", "--runs", "1", "--requests", "6", "--warmup", "0",
           "--seconds", "10", "--tail", "0.2", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=REPO)
    assert r.returncode == 0, r.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    rows = {(x["mode"], x["workers"], x["connections"], x["endpoint"]): x for x in data["rows"]}
    assert set(rows) == {("lexical", 1, 1, "search"), ("lexical", 1, 1, "ask"), ("lexical", 1, 1, "peer")}
    for row in rows.values():
        assert row["requests"] >= 6 and row["errors"] == 0 and row["qps"] > 0
    assert rows[("lexical", 1, 1, "search")]["ratio_to_peer"] > 0
    (ev,) = data["event_rows"]
    assert ev["reindex_status"] == [200] and ev["add_status"] == [200]
    assert ev["errors"] == 0 and ev["errors_by_kind"] == {}
    assert data["cores"]["cpu_count"] >= 1 and data["cores"]["servers"][0]["workers"] == 1
    for endpoint in ("/v1/search", "/v1/ask", "peer /search", "mixed + reindex + add"):
        assert any(line.startswith("| ") and f"| {endpoint} |" in line for line in r.stdout.splitlines()), endpoint


def test_cells_report_the_load_average_and_events_can_be_skipped():
    bench = _load("bench_load")
    phases = [{"requests": 10, "errors": 0, "qps": q, "latency": {"p50_ms": 1.0, "p99_ms": 2.0}, "server_cpu_s": 0.02,
               "server_cpu_share_of_one_core": 0.5, "client_cpu_share_of_one_core": 0.3,
               "machine": {"other_processes_cores": 0.1, "loadavg_1m_at_end": load}} for q, load in ((10, 1.0), (20, 7.0), (30, 3.0))]
    assert bench.cell(phases)["loadavg_1m"] == 3.0
    assert bench.parse_args(["--matrix", "--no-events"]).events is False
    assert bench.parse_args(["--matrix"]).events is True
