"""A document that cannot be loaded is named, with its reason, in reindex's response and in /readyz; the
others keep serving, start-up never stops on it, and reindex never drops a document without saying which."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from policyqa.api.app import create_app
from policyqa.qa.settings import Settings

KEY = {"X-API-Key": "s3cret"}
IMPOSSIBLE_DATE = "上海市关于促进社区服务发展的通知\n\n沪府办发〔2024〕99号\n\n2024年2月30日\n\n一、支持社区养老服务（责任单位：市民政局）\n"


@pytest.fixture
def corpus_dir(seed_corpus_dir):
    return seed_corpus_dir


def _client(corpus_dir: Path, tmp_path: Path) -> TestClient:
    settings = Settings(
        corpus_dir=corpus_dir, index_dir=tmp_path / "index", data_dir=tmp_path / "data", mode="lexical",
        rate_limit=0, admin_api_key="s3cret", translate_english=False, index_watch_seconds=0,
    )
    return TestClient(create_app(settings))


def _seed(corpus_dir: Path, prefix: str) -> Path:
    return next(corpus_dir.glob(f"{prefix}_*.txt"))


def test_reindex_names_documents_that_fail_and_those_dropped(corpus_dir, tmp_path):
    with _client(corpus_dir, tmp_path) as c:
        ready = c.get("/readyz").json()
        assert ready["status"] == "ready" and ready["documents"] == 5 and ready["documents_failed"] == []
        # one new document with an impossible date; one seed becomes unreadable (emptied)
        (corpus_dir / "010_bad_date.txt").write_text(IMPOSSIBLE_DATE, encoding="utf-8")
        broken = _seed(corpus_dir, "001")
        broken.write_bytes(b"")
        r = c.post("/v1/admin/reindex", headers=KEY)
        assert r.status_code == 200, r.text
        body = r.json()
        failed = {Path(f["file"]).name: f["reason"] for f in body["documents_failed"]}
        assert set(failed) == {"010_bad_date.txt", broken.name}
        assert "day is out of range" in failed["010_bad_date.txt"] and "empty" in failed[broken.name]
        assert [Path(d["file"]).name for d in body["documents_dropped"]] == [broken.name]
        assert body["documents"] == 4
        ready = c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert {Path(f["file"]).name for f in ready.json()["documents_failed"]} == set(failed)
        # the rest keep serving
        hits = c.post("/v1/search", json={"query": "社区养老上门服务"}).json()["results"]
        assert hits and all(h["doc_id"] != body["documents_dropped"][0]["doc_id"] for h in hits)


def test_start_up_survives_a_bad_document_and_a_broken_metadata_file(corpus_dir, tmp_path):
    (corpus_dir / "010_bad_date.txt").write_text(IMPOSSIBLE_DATE, encoding="utf-8")
    (corpus_dir / "metadata.toml").write_text('["004_7cd65bd107bac940.txt"]\ndoc_id = "sw2025-1225\n', encoding="utf-8")
    with _client(corpus_dir, tmp_path) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "degraded" and body["documents"] == 5
        failed = {Path(f["file"]).name: f["reason"] for f in body["documents_failed"]}
        assert set(failed) == {"010_bad_date.txt", "metadata.toml"}
        assert c.post("/v1/search", json={"query": "首店经济"}).status_code == 200
