"""Reindex under load: requests keep succeeding while a new index is built and swapped in."""

import shutil
import threading
import time

import httpx
from live_server import LiveServer

from policyqa.api.app import create_app
from policyqa.index.store import read_manifest

from .conftest import make_settings

KEY = {"X-API-Key": "s3cret"}


def _hammer(url: str, stop: threading.Event, results: list, stamps: list) -> None:
    with httpx.Client(base_url=url, timeout=30) as c:
        i = 0
        while not stop.is_set():
            q = ["社区养老上门服务", "算力券 补贴", "首店经济", "邮轮旅客接待量"][i % 4]
            path = "/v1/search" if i % 3 else "/v1/ask"
            try:
                r = c.post(path, json={"query": q})
                results.append(r.status_code)
            except httpx.HTTPError as exc:  # a dropped connection counts as a failure
                results.append(repr(exc))
            stamps.append(time.monotonic())
            i += 1


def test_requests_succeed_during_an_atomic_swap(index_dir, tmp_path):
    own = tmp_path / "index"
    shutil.copytree(index_dir, own, symlinks=True)
    app = create_app(make_settings(own))
    with LiveServer(app) as server:
        before = read_manifest(own)["created"], (own / "current").resolve()
        stop = threading.Event()
        results: list = []
        stamps: list = []
        workers = [threading.Thread(target=_hammer, args=(server.url, stop, results, stamps)) for _ in range(4)]
        for w in workers:
            w.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        r = httpx.post(server.url + "/v1/admin/reindex", headers=KEY, timeout=120)
        t1 = time.monotonic()
        time.sleep(0.5)
        stop.set()
        for w in workers:
            w.join()
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "swapped" and body["passages"] > 0
        assert (own / "current").resolve() != before[1]
        during = [s for s in stamps if t0 <= s <= t1]
        assert len(during) > 0, "no request was in flight during the swap"
        assert results and all(code == 200 for code in results), [c for c in results if c != 200][:5]
        assert httpx.get(server.url + "/readyz").json()["index"] == str((own / "current").resolve())


def test_a_failed_build_leaves_the_old_index_serving(index_dir, tmp_path, monkeypatch):
    own = tmp_path / "index"
    shutil.copytree(index_dir, own, symlinks=True)
    app = create_app(make_settings(own))
    service = app.state.service
    with LiveServer(app) as server:
        current = (own / "current").resolve()

        def broken(*a, **k):
            raise OSError("disk full")

        monkeypatch.setattr(service.engine, "build", broken)
        r = httpx.post(server.url + "/v1/admin/reindex", headers=KEY, timeout=60)
        assert r.status_code == 500 and "previous index keeps serving" in r.json()["error"]["message"]
        assert "disk full" in r.json()["error"]["message"]
        assert (own / "current").resolve() == current
        assert httpx.post(server.url + "/v1/search", json={"query": "养老"}).status_code == 200


def test_only_one_reindex_at_a_time(index_dir, tmp_path, monkeypatch):
    own = tmp_path / "index"
    shutil.copytree(index_dir, own, symlinks=True)
    app = create_app(make_settings(own))
    service = app.state.service
    gate = threading.Event()
    real_build = service.engine.build

    def slow_build(*a, **k):
        gate.wait(10)
        return real_build(*a, **k)

    monkeypatch.setattr(service.engine, "build", slow_build)
    with LiveServer(app) as server:
        first = threading.Thread(target=lambda: httpx.post(server.url + "/v1/admin/reindex", headers=KEY, timeout=120))
        first.start()
        time.sleep(0.3)
        second = httpx.post(server.url + "/v1/admin/reindex", headers=KEY, timeout=30)
        gate.set()
        first.join()
        assert second.status_code == 409
