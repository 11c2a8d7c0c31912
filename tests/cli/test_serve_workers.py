"""`qa serve --workers 2`: two processes over one index folder; a reindex answered by one is served by both."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_follow_one_index(tmp_path, seed_corpus_dir):
    corpus = seed_corpus_dir
    port = _free_port()
    env = {
        **os.environ, "QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index"), "QA_DATA_DIR": str(tmp_path / "data"),
        "QA_MODE": "lexical", "QA_TRANSLATE_ENGLISH": "false", "QA_RATE_LIMIT": "0", "QA_ADMIN_API_KEY": "k",
        "QA_INDEX_WATCH_SECONDS": "0.2",
    }
    qa = Path(sys.executable).parent / "qa"
    proc = subprocess.Popen([str(qa), "serve", "--workers", "2", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"

    def versions(n: int) -> set[str]:
        seen = set()
        for _ in range(n):  # a new connection each time, so either worker may answer
            r = httpx.get(url + "/readyz", timeout=10)
            assert r.status_code == 200, r.text
            seen.add(r.json()["version"])
        return seen

    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.5)
        first = versions(20)
        assert len(first) == 1  # both workers serve the one index built on the first start
        assert len([p for p in (tmp_path / "index").glob("v*")]) == 1  # built once, not by both
        r = httpx.post(url + "/v1/admin/reindex", headers={"X-API-Key": "k"}, timeout=120)
        assert r.status_code == 200, r.text
        new = r.json()["version"]
        assert new not in first
        # a worker busy loading the new version accepts connections slowly, so one round of answers can all
        # come from the other worker: wait for several consecutive rounds that all say the new version
        deadline = time.monotonic() + 60
        stable = 0
        while stable < 5 and time.monotonic() < deadline:
            stable = stable + 1 if versions(20) == {new} else 0
            time.sleep(0.3)
        assert versions(40) == {new}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
