import json

import pytest
from typer.testing import CliRunner

from policyqa.cli.main import app

runner = CliRunner()


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("QA_MODE", "lexical")
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def test_corpus_table(env):
    r = runner.invoke(app, ["corpus"])
    assert r.exit_code == 0
    assert "hfbf2025-5" in r.stdout and "沪府办发〔2025〕5号" in r.stdout


def test_corpus_json_lines(env, corpus):
    r = runner.invoke(app, ["corpus", "--json"])
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == len(corpus.clauses)
    assert {"clause_id", "doc_id", "section_path", "heading", "text", "agencies", "source_path", "span"} <= set(lines[0])


def test_index_then_search(env):
    r = runner.invoke(app, ["index"])
    assert r.exit_code == 0, r.output
    assert "passages:" in r.output and "time:" in r.output
    r = runner.invoke(app, ["search", "哪个部门负责社区养老上门服务", "--top-k", "3", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["mode"] == "lexical" and len(out["results"]) == 3
    assert out["results"][0]["agencies"]


def test_search_builds_a_missing_index(env):
    r = runner.invoke(app, ["search", "算力券"])
    assert r.exit_code == 0 and "mode: lexical" in r.stdout


def test_search_with_a_local_model_is_hybrid(env, monkeypatch, tiny_model):
    monkeypatch.setenv("QA_MODE", "auto")
    monkeypatch.setenv("QA_MODEL", str(tiny_model))
    r = runner.invoke(app, ["search", "家政服务", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["mode"] == "hybrid"


def test_unloadable_model_falls_back_to_lexical_and_says_so(env, monkeypatch):
    monkeypatch.setenv("QA_MODE", "auto")
    monkeypatch.setenv("QA_MODEL", str(env / "missing-model"))
    r = runner.invoke(app, ["search", "家政服务", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["mode"] == "lexical"
    assert "cannot load embedding model" in r.stderr


def test_bad_mode_is_a_clear_error(env):
    r = runner.invoke(app, ["search", "x", "--mode", "semantic"])
    assert r.exit_code == 2 and "auto, hybrid, lexical, dense" in r.output


def test_eval_writes_reports(env):
    r = runner.invoke(app, ["eval", "--split", "dev", "--out", str(env / "eval"), "--no-baseline"])
    assert r.exit_code == 0, r.output
    assert "== lexical ==" in r.stdout
    assert (env / "eval" / "report.png").exists()
    report = json.loads((env / "eval" / "report.json").read_text())
    assert "hybrid" in report["unavailable_modes"]


def test_ask_in_english_shows_the_translation_and_refusal_reasons(env):
    r = runner.invoke(app, ["ask", "Which department handles family care beds for older people?"])
    assert r.exit_code == 0, r.output
    assert "searched as:" in r.stdout and "床位" in r.stdout and "Lead agency:" in r.stdout and "authoritative" in r.stdout
    r = runner.invoke(app, ["ask", "Does Shenzhen give rent subsidies to start-ups?"])
    assert r.exit_code == 0 and "reason: other_place Shenzhen" in r.stdout
    r = runner.invoke(app, ["search", "computing power vouchers", "--json"])
    assert "算力券" in json.loads(r.stdout)["translation"]["searched_as"]
