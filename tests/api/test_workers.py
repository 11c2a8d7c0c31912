"""Many workers, one index folder: a version built by one is picked up by the others, and builds from
several processes take turns under one lock instead of clobbering each other."""

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from policyqa.api.service import QAService
from policyqa.index import store
from policyqa.qa.engine import Engine, EngineConfig

NEW_DOC = (
    "上海市关于发展银发旅游列车的通知\n\n沪府办发〔2026〕77号\n\n2026年3月1日\n\n"
    "一、发展银发旅游\n\n（一）开行银发旅游专列。支持旅行社组织老年游客乘坐银发旅游列车。（责任单位：市文化旅游局）\n\n"
    "（二）完善沿线服务。为银发旅游列车配备随车医护人员。（责任单位：市卫生健康委）\n"
)


@pytest.fixture
def corpus_dir(seed_corpus_dir):
    return seed_corpus_dir


def _service(corpus_dir: Path, index_dir: Path, watch: float = 0) -> QAService:
    cfg = EngineConfig(corpus_dir=corpus_dir, index_dir=index_dir, mode="lexical", translate_english=False)
    svc = QAService(Engine(cfg), watch_seconds=watch)
    svc.warm_up()
    return svc


def _finds_new_doc(svc: QAService) -> bool:
    hits = svc.engine.loaded.searcher.search("银发旅游列车", top_k=3).hits
    return any("银发旅游" in h.clause.text for h in hits)


def test_a_reindex_in_one_worker_is_picked_up_by_the_other(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    a = _service(corpus_dir, index_dir)
    b = _service(corpus_dir, index_dir)
    assert a.engine.loaded.version == b.engine.loaded.version  # the second worker loaded, did not build
    assert len(store.versions(index_dir)) == 1
    assert b.engine.refresh() is False  # nothing new
    (corpus_dir / "020_silver.txt").write_text(NEW_DOC, encoding="utf-8")
    a.reindex()
    assert _finds_new_doc(a) and not _finds_new_doc(b)
    assert b.engine.refresh() is True
    assert b.engine.loaded.version == a.engine.loaded.version and _finds_new_doc(b)
    assert b.ready()["documents"] == 6


def test_the_version_watch_switches_without_being_asked(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    a = _service(corpus_dir, index_dir)
    b = _service(corpus_dir, index_dir, watch=0.2)
    b.start_watch()
    try:
        (corpus_dir / "020_silver.txt").write_text(NEW_DOC, encoding="utf-8")
        a.reindex()
        deadline = time.monotonic() + 60  # generous: the other worker loads and warms the version first
        while b.engine.loaded.version != a.engine.loaded.version and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b.engine.loaded.version == a.engine.loaded.version
        assert _finds_new_doc(b)
    finally:
        b.stop_watch()


def test_concurrent_builds_in_one_folder_both_complete(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    cfg = EngineConfig(corpus_dir=corpus_dir, index_dir=index_dir, mode="lexical", translate_english=False, keep_versions=5)
    engines = [Engine(cfg), Engine(cfg)]
    paths: list[Path] = []
    threads = [threading.Thread(target=lambda e=e: paths.append(e.build())) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(paths) == 2 and paths[0] != paths[1]
    for p in paths:
        store.verify_version(p)  # neither was pruned or half-written by the other
    assert (index_dir / "current").resolve() in paths
    assert not list(index_dir.glob(".tmp-*"))


def test_the_build_lock_excludes_another_process(tmp_path):
    marker = tmp_path / "child-released"
    ready = tmp_path / "child-holds"
    child = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from policyqa.index.store import build_lock
        with build_lock(Path({str(tmp_path)!r})):
            Path({str(ready)!r}).touch()
            time.sleep(1.0)
            Path({str(marker)!r}).touch()
    """)
    proc = subprocess.Popen([sys.executable, "-c", child])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists()
        with store.build_lock(tmp_path):
            assert marker.exists()  # we got the lock only after the other process let it go
    finally:
        proc.wait(timeout=60)
