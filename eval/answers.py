"""Answer-level measures: intent accuracy, no-answer decisions, agency answers, citation checks."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from policyqa.corpus import Corpus
from policyqa.qa.answer import Answer, Answerer
from policyqa.qa.search import Searcher

from .dataset import INTENTS, Question
from .metrics import mean

_PAGE_NUMBER_LINE = re.compile(r"\n[ \t\u3000]*[—－-]\s*[0-9０-９]+\s*[—－-][ \t\u3000]*(?=\n)")


def source_quote(source: str, start: int, end: int) -> str:
    """The source slice as a reader sees it: hard line breaks joined, page-number lines dropped."""
    piece = _PAGE_NUMBER_LINE.sub("\n", source[start:end])
    lines = [ln.strip(" \t\u3000") for ln in piece.split("\n")]
    return "".join(lines).replace("**", "")


def verify_citation(corpus: Corpus, clause_id: str, quote: str, start: int, end: int) -> bool:
    clause = corpus.clause(clause_id)
    doc = next(pd for pd in corpus.documents if pd.document.doc_id == clause.doc_id)
    return clause.span.start <= start < end <= clause.span.end and source_quote(doc.text, start, end) == quote.replace("\n", "")


@dataclass(frozen=True)
class AnswerRow:
    question: Question
    answer: Answer


def run_answers(answerer: Answerer, searcher: Searcher, questions: list[Question], as_of: dt.date) -> list[AnswerRow]:
    return [AnswerRow(q, answerer.ask(searcher, q.question, as_of=as_of)) for q in questions]


def _f1(got: list[str], gold: list[str]) -> float:
    g, s = set(got), set(gold)
    if not g or not s:
        return 0.0
    tp = len(g & s)
    if tp == 0:
        return 0.0
    p, r = tp / len(g), tp / len(s)
    return 2 * p * r / (p + r)


def answer_metrics(rows: list[AnswerRow], answerer: Answerer, corpus: Corpus) -> dict:
    canon = answerer.directory.canonical
    out: dict = {}
    # intent is measured on the questions labelled with an intent the service has (see dataset.OTHER_INTENTS)
    scored = [r for r in rows if r.question.intent in INTENTS]
    out["intent_accuracy"] = mean([float(r.answer.intent == r.question.intent) for r in scored])
    for lang in ("zh", "en"):
        sub = [r for r in scored if r.question.lang == lang]
        out[f"intent_accuracy_{lang}"] = mean([float(r.answer.intent == r.question.intent) for r in sub])
    if len(scored) < len(rows):
        out["intent_unscored"] = len(rows) - len(scored)
    unans = [r for r in rows if not r.question.answerable]
    ans = [r for r in rows if r.question.answerable]
    refused = [r for r in rows if not r.answer.answerable]
    out["unanswerable"] = len(unans)
    out["unanswerable_refused"] = mean([float(not r.answer.answerable) for r in unans])
    out["unanswerable_refused_zh"] = mean([float(not r.answer.answerable) for r in unans if r.question.lang == "zh"])
    out["answerable_refused"] = mean([float(not r.answer.answerable) for r in ans])
    out["answerable_refused_zh"] = mean([float(not r.answer.answerable) for r in ans if r.question.lang == "zh"])
    out["refusal_precision"] = mean([float(not r.question.answerable) for r in refused])
    out["refusal_curve"] = refusal_curve(rows)
    # an agency shown beside a clause that does not print it (must be zero)
    out["agencies_misattributed"] = sum(
        1
        for r in rows
        for a in r.answer.agencies
        for cid in a.clause_ids
        if not any(canon(x) == a.name for x in corpus.clause(cid).agencies)
    )
    agency = [r for r in rows if r.question.type == "agency" and r.question.answerable]
    exact, f1 = [], []
    for r in agency:
        top = next((c for c in r.answer.citations if c.clause.agencies), None)
        # each agency once, in printed order: a note that prints one twice lists it once (the clause record does)
        gold = list(dict.fromkeys(r.question.gold_agencies))
        exact.append(float(top is not None and list(top.clause.agencies) == gold))
        f1.append(_f1([a.name for a in r.answer.agencies], [canon(a) for a in r.question.gold_agencies]))
    out["agency_questions"] = len(agency)
    out["agency_top_clause_exact"] = mean(exact)
    out["agency_answer_f1"] = mean(f1)
    zh_agency = [i for i, r in enumerate(agency) if r.question.lang == "zh"]
    out["agency_top_clause_exact_zh"] = mean([exact[i] for i in zh_agency])
    out["agency_answer_f1_zh"] = mean([f1[i] for i in zh_agency])
    checked = ok = 0
    for r in rows:
        for c in (*r.answer.citations, *r.answer.closest):
            if c.highlight is None:
                continue
            checked += 1
            ok += verify_citation(corpus, c.clause.clause_id, c.highlight.text, c.highlight.source.start, c.highlight.source.end)
    out["citations_checked"] = checked
    out["citations_verified"] = ok
    return out


def refusal_curve(rows: list[AnswerRow]) -> list[dict]:
    """The refusal decision at every threshold on the judge's probability: share of answerable questions
    answered against share of unanswerable ones refused. Questions a rule refuses (another place, another
    document, English in lexical mode) stay refused at every threshold; the point the service runs at is
    marked `operating`."""
    probs = []
    for r in rows:
        a = r.answer
        forced = not a.answerable and a.confidence in (None, 0.0)  # a rule refused it (a model's P rounds to 0 only far below any threshold)
        probs.append((r.question.answerable, 0.0 if forced else float(a.confidence or 0.0), forced, a.answerable))
    n_ans = sum(1 for y, *_ in probs if y) or 1
    n_un = sum(1 for y, *_ in probs if not y) or 1
    out = []
    for t in sorted({0.0, 1.01, *(round(p, 4) for _, p, f, _ in probs if not f)}):
        answered = [(y, (not f) and p >= t) for y, p, f, _ in probs]
        out.append({
            "threshold": t,
            "answerable_answered": round(sum(1 for y, a in answered if y and a) / n_ans, 4),
            "unanswerable_refused": round(sum(1 for y, a in answered if not y and not a) / n_un, 4),
        })
    op = {
        "threshold": None,
        "answerable_answered": round(sum(1 for y, _, _, a in probs if y and a) / n_ans, 4),
        "unanswerable_refused": round(sum(1 for y, _, _, a in probs if not y and not a) / n_un, 4),
        "operating": True,
    }
    return [*out, op]


def render_curve(curve: list[dict], points: int = 9) -> str:
    """A few points of the curve as text, the operating point last."""
    body = [c for c in curve if not c.get("operating")]
    step = max(1, len(body) // points)
    chosen = body[::step] + ([body[-1]] if body and body[-1] is not body[::step][-1] else [])
    lines = ["threshold  answerable answered  unanswerable refused"]
    lines += [f"{c['threshold']:>9.3f}  {c['answerable_answered']:>19.3f}  {c['unanswerable_refused']:>20.3f}" for c in chosen]
    op = next((c for c in curve if c.get("operating")), None)
    if op:
        lines.append(f"{'serving':>9}  {op['answerable_answered']:>19.3f}  {op['unanswerable_refused']:>20.3f}")
    return "\n".join(lines)


def plot_curve(curve: list[dict], path) -> None:
    """The refusal curve as a PNG: unanswerable refused (x) against answerable answered (y)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    body = [c for c in curve if not c.get("operating")]
    op = next((c for c in curve if c.get("operating")), None)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([c["unanswerable_refused"] for c in body], [c["answerable_answered"] for c in body], marker=".")
    if op:
        ax.scatter([op["unanswerable_refused"]], [op["answerable_answered"]], color="red", zorder=3, label="serving")
        ax.legend(loc="lower left")
    ax.axhline(0.95, color="grey", lw=0.5, ls="--")
    ax.axvline(0.8, color="grey", lw=0.5, ls="--")
    ax.set_xlabel("unanswerable questions refused")
    ax.set_ylabel("answerable questions answered")
    ax.set_title("Refusal decision (threshold swept)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
