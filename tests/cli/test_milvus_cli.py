"""`qa index`, `qa search` and `qa migrate-index` with the index in Milvus (Milvus Lite)."""

import json

import pytest
from typer.testing import CliRunner

from policyqa.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QA_MODE", "lexical")
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def _manifest(env):
    return json.loads((env / "index" / "current" / "manifest.json").read_text(encoding="utf-8"))


def test_index_and_search_through_milvus_lite(env, monkeypatch, milvus_uri):
    monkeypatch.setenv("QA_INDEX_BACKEND", "milvus")
    monkeypatch.setenv("QA_MILVUS_URI", milvus_uri)
    r = runner.invoke(app, ["index"])
    assert r.exit_code == 0, r.output
    assert _manifest(env)["engine"] == {"kind": "milvus", "uri": milvus_uri, "collections": _manifest(env)["engine"]["collections"]}
    r = runner.invoke(app, ["search", "哪个部门负责社区养老上门服务", "--top-k", "3", "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["results"]) == 3


def test_an_embedded_index_is_refused_when_milvus_is_configured_then_migrated(env, monkeypatch, milvus_uri):
    r = runner.invoke(app, ["index"])
    assert r.exit_code == 0, r.output
    before = runner.invoke(app, ["search", "首店经济", "--top-k", "5", "--json"])
    monkeypatch.setenv("QA_INDEX_BACKEND", "milvus")
    monkeypatch.setenv("QA_MILVUS_URI", milvus_uri)
    r = runner.invoke(app, ["migrate-index"])
    assert r.exit_code == 0, r.output
    assert _manifest(env)["engine"]["kind"] == "milvus"
    after = runner.invoke(app, ["search", "首店经济", "--top-k", "5", "--json"])
    assert after.exit_code == 0, after.output

    def ids(out: str) -> list[str]:
        return [h["clause_id"] for h in json.loads(out)["results"]]

    assert ids(after.stdout)[:3] == ids(before.stdout)[:3]
    r = runner.invoke(app, ["migrate-index"])
    assert r.exit_code == 2 and "in Milvus already" in r.output


def test_milvus_index_with_embedded_configured_says_what_to_run(env, monkeypatch, milvus_uri):
    from policyqa.index.store import IndexMismatch
    from policyqa.qa.engine import Engine
    from policyqa.qa.settings import Settings

    monkeypatch.setenv("QA_INDEX_BACKEND", "milvus")
    monkeypatch.setenv("QA_MILVUS_URI", milvus_uri)
    assert runner.invoke(app, ["index"]).exit_code == 0
    monkeypatch.setenv("QA_INDEX_BACKEND", "embedded")
    with pytest.raises(IndexMismatch, match="held by the milvus backend"):
        Engine(Settings().engine_config()).warm_up(build_if_missing=False)


def test_bad_backend_name_is_a_clear_error(env, monkeypatch):
    monkeypatch.setenv("QA_INDEX_BACKEND", "elastic")
    r = runner.invoke(app, ["search", "x"])
    assert r.exit_code == 2
    assert "QA_INDEX_BACKEND" in r.output and "milvus" in r.output


def test_several_workers_on_milvus_lite_are_refused(env, monkeypatch, milvus_uri):
    monkeypatch.setenv("QA_INDEX_BACKEND", "milvus")
    monkeypatch.setenv("QA_MILVUS_URI", milvus_uri)
    r = runner.invoke(app, ["serve", "--workers", "2"])
    assert r.exit_code == 2
    assert "Milvus server" in r.output
