"""qa add / qa remove / qa corpus and the admin document routes: the contract of issue 11."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policyqa.cli.main import app
from policyqa.ingest.library import Library, LibraryError
from policyqa.ingest.registry import Registry

WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"
SEEDS = Path(__file__).resolve().parents[2] / "corpus"
runner = CliRunner()
HTML = "gov_guofa2019-3_zonghe-baoshuiqu-yijian.html"
MD = "sh_huke2025-5_naoji-jiekou-xingdong-fangan.md"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "var" / "index"))
    monkeypatch.setenv("QA_MODE", "lexical")
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def test_add_search_remove(env, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7 garbage")
    r = runner.invoke(app, ["add", str(WILD / HTML), str(WILD / MD), str(bad), "--json"])
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.exit_code == 1  # one file failed
    assert [x["status"] for x in rows] == ["added", "added", "error"]
    assert set(rows[0]) >= {"file", "doc_id", "status", "clauses", "agency_notes_found", "agency_names_extracted", "warnings", "error"}
    assert rows[0]["clauses"] == 40 and rows[0]["agency_notes_found"] == 21 and rows[0]["agency_names_extracted"] > 10
    assert "broken.pdf" == rows[2]["file"] and "not a readable PDF" in rows[2]["error"]
    # qa add finishes the index before returning; lexical mode has no dense vectors to wait for
    assert [x["vectors"] for x in rows] == ["none", "none", None]
    html_id = rows[0]["doc_id"]
    # the original is kept beside its converted text; the package's seeds are never written
    stored = env / "var" / "documents" / html_id
    assert (stored / HTML).read_bytes() == (WILD / HTML).read_bytes() and (stored / "converted.txt").exists()

    r = runner.invoke(app, ["corpus", "--json"])
    clauses = [json.loads(x) for x in r.stdout.splitlines()]
    docs = {c["doc_id"] for c in clauses}
    assert {"hfbf2025-5", html_id, rows[1]["doc_id"]} <= docs
    added = [c for c in clauses if c["doc_id"] == html_id]
    assert all(c["source_path"].endswith(HTML) for c in added)
    text = (stored / "converted.txt").read_text(encoding="utf-8")
    c = next(c for c in added if c["agencies"])
    assert text[c["span"]["start"] : c["span"]["end"]].endswith(c["text"][-10:])  # spans index the stored text

    r = runner.invoke(app, ["search", "保税维修 检测维修", "--top-k", "3", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["results"][0]["doc_id"] == html_id  # the index was rebuilt

    # re-adding the same file keeps its id and is reported unchanged
    r = runner.invoke(app, ["add", str(WILD / HTML), "--json", "--no-index"])
    again = json.loads(r.stdout)
    assert r.exit_code == 0 and again["status"] == "unchanged" and again["doc_id"] == html_id

    assert runner.invoke(app, ["remove", "hfbf2025-5"]).exit_code == 1  # a seed
    r = runner.invoke(app, ["remove", html_id])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["corpus", "--json"])
    assert html_id not in {json.loads(x)["doc_id"] for x in r.stdout.splitlines()}
    assert not stored.exists()


def test_ids_are_stable_and_never_empty(tmp_path):
    lib = Library(tmp_path / "var", seeds_dir=SEEDS)
    # a Chinese-only file name and no 文号: the id comes from the title
    data = "关于测试的通知\n一、总体要求\n（一）加强统筹。\n".encode("gbk")
    a = lib.add_bytes(data, "通知.txt")
    b = lib.add_bytes(data.replace("加强统筹".encode("gbk"), "加强协调".encode("gbk")), "改正后的通知.txt")
    assert a.ok and b.ok and a.doc_id and a.doc_id == b.doc_id and b.status == "updated"
    assert [c.clause_id for c in lib.parse_entry(a.doc_id).clauses] == [f"{a.doc_id}:1", f"{a.doc_id}:1.1"]


def test_registry_holds_metadata_status_and_report(tmp_path):
    lib = Library(tmp_path / "var", seeds_dir=SEEDS)
    res = lib.add(WILD / MD)
    reg = Registry.in_dir(tmp_path / "var")
    e = reg.get(res.doc_id)
    assert (e.doc_number, e.format, e.status) == ("沪科〔2025〕5号", "markdown", "auto")
    assert len(e.sha256) == 64 and e.report["agency_notes_found"] == 17
    reg.set_status(res.doc_id, "revoked", "replaced by a later document")
    assert reg.get(res.doc_id).status == "revoked"
    with pytest.raises(ValueError):
        reg.set_status(res.doc_id, "bogus")
    assert json.loads((tmp_path / "var" / "documents" / res.doc_id / "source_map.json").read_text())  # Markdown's map


def test_admin_upload_and_delete_on_a_running_service(tmp_path):
    from fastapi.testclient import TestClient

    from policyqa.api.app import create_app
    from policyqa.qa.settings import Settings

    settings = Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "var", mode="lexical", rate_limit=0, admin_api_key="k")
    with TestClient(create_app(settings)) as client:
        key = {"X-API-Key": "k"}
        files = {"files": (MD, (WILD / MD).read_bytes(), "text/markdown")}
        assert client.post("/v1/admin/documents", files=files).status_code == 401
        r = client.post("/v1/admin/documents", files=files, headers=key)
        assert r.status_code == 200, r.text
        doc = r.json()["documents"][0]
        assert doc["status"] == "added" and r.json()["reindexed"]
        hits = client.post("/v1/search", json={"query": "脑机接口 产品研发", "top_k": 3}).json()["results"]
        assert hits[0]["doc_id"] == doc["doc_id"]
        assert doc["doc_id"] in {d["doc_id"] for d in client.get("/v1/documents").json()["documents"]}
        # a malformed file: 4xx naming it and the reason, nothing loaded is lost
        r = client.post("/v1/admin/documents", files={"files": ("bad.docx", b"PK\x03\x04junk", "application/octet-stream")}, headers=key)
        assert r.status_code == 422 and "bad.docx" in r.json()["error"]["message"]
        assert client.post("/v1/search", json={"query": "脑机接口", "top_k": 1}).json()["results"][0]["doc_id"] == doc["doc_id"]
        assert client.delete("/v1/admin/documents/hfbf2025-5", headers=key).status_code == 409
        assert client.delete("/v1/admin/documents/nope", headers=key).status_code == 404
        r = client.delete(f"/v1/admin/documents/{doc['doc_id']}", headers=key)
        assert r.status_code == 200
        hits = client.post("/v1/search", json={"query": "脑机接口 产品研发", "top_k": 3}).json()["results"]
        assert all(h["doc_id"] != doc["doc_id"] for h in hits)


def test_new_agencies_enter_the_directory(tmp_path):
    from fastapi.testclient import TestClient

    from policyqa.api.app import create_app
    from policyqa.qa.settings import Settings

    settings = Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "var", mode="lexical", rate_limit=0, admin_api_key="k")
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/agencies/海关总署").status_code == 404
        files = {"files": (HTML, (WILD / HTML).read_bytes(), "text/html")}
        assert client.post("/v1/admin/documents", files=files, headers={"X-API-Key": "k"}).status_code == 200
        r = client.get("/v1/agencies/海关总署")
        assert r.status_code == 200, r.text
        assert r.json()["documents"][0]["clauses"]


def test_an_admin_set_status_is_what_answers_report(tmp_path):
    import datetime as dt

    from policyqa.qa.status import document_status

    lib = Library(tmp_path / "var", seeds_dir=SEEDS)
    res = lib.add(WILD / MD)
    day = dt.date(2026, 1, 1)
    assert document_status(lib.parse_entry(res.doc_id).document, day).status == "in_force"
    lib.set_status(res.doc_id, "revoked", "replaced by 沪科〔2026〕1号")
    st = document_status(lib.parse_entry(res.doc_id).document, day)
    assert st.status == "expired" and st.label.startswith("已废止") and "沪科〔2026〕1号" in st.label
    with pytest.raises(LibraryError):
        lib.set_status("nope", "revoked")


def test_agencies_update_lists_units_the_directory_lacks(env):
    r = runner.invoke(app, ["add", str(WILD / HTML), "--no-index", "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["agencies-update"])  # without --write: lists only, the package's data is not touched
    assert r.exit_code == 0
    listed = r.stdout.split()
    assert "海关总署" in listed and "市商务委" not in listed  # known units are not listed again
