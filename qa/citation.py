"""Checkable citations: a human citation string and the best-matching sentence with its source offsets."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from policyqa.corpus import Clause, Corpus, Document, Span
from policyqa.corpus.rules import AGENCY_LIST_RE, normalize

_SENTENCE_END = re.compile(r"[。！!？?；;\n]|\.(?![0-9０-９])")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z0-9]+")


@dataclass(frozen=True)
class Highlight:
    start: int  # offsets into clause.text
    end: int
    text: str
    source: Span  # offsets into the decoded source file


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, ending punctuation included, surrounding space excluded."""
    out = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        out.append((start, m.end()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    spans = []
    for s, e in out:
        while s < e and text[s] in " \n\u3000":
            s += 1
        while e > s and text[e - 1] in " \n\u3000":
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def bigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for run in _CJK_RUN.findall(normalize(text).lower()):
        if run.isascii():
            grams.add(run)
        else:
            grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


@lru_cache(maxsize=8192)
def _candidates(clause: Clause) -> tuple[tuple[int, int, frozenset[str], float], ...]:
    """The sentences a quote may come from, with their bigrams and the score's denominator — fixed per
    clause, so computed once."""
    spans = sentences(clause.text)
    agency = AGENCY_LIST_RE.search(clause.text)
    body = [s for s in spans if not (agency and s[0] >= agency.start())] or spans
    if clause.heading and len(body) > 1 and clause.text[body[0][0] : body[0][1]].rstrip("。.") == clause.heading:
        body = body[1:]  # the title is shown anyway; quote the sentence that says something
    out = []
    for s, e in body:
        grams = frozenset(bigrams(clause.text[s:e]))
        out.append((s, e, grams, math.sqrt(len(grams) + 4)))
    return tuple(out)


@lru_cache(maxsize=256)
def _question_bigrams(query: str) -> frozenset[str]:
    """A question's bigrams, computed once per question, not once per clause cited (ten per search): the
    per-clause work is then a set intersection, bounded by the sentence's size whatever the question's."""
    return frozenset(bigrams(query))


def _scores(clause: Clause, query: str) -> tuple[tuple[tuple[int, int, frozenset[str], float], float], ...]:
    """Each candidate sentence with its share of the question: common bigrams / √(its bigrams + 4)."""
    q = _question_bigrams(query)
    # a frozenset intersection walks the smaller of the two sets: a 500-character question costs a
    # sentence no more than a short one
    return tuple((it, len(q & it[2]) / it[3] if it[2] else 0.0) for it in _candidates(clause))


def best_sentences(clause: Clause, query: str, n: int = 2) -> list[str]:
    """The n sentences of the clause that share most with the question (its agency list excluded)."""
    ranked = sorted(_scores(clause, query), key=lambda x: (-x[1], x[0][0]))
    return [clause.text[it[0] : it[1]] for it, _ in ranked[:n]]


def best_sentence(clause: Clause, query: str) -> Highlight | None:
    """The sentence of the clause that shares most with the question (its agency list only if nothing else)."""
    scored = _scores(clause, query)
    if not scored:
        return None
    best, top = scored[0]
    for it, sc in scored[1:]:  # the highest score, the earliest sentence among equals
        if sc > top:
            best, top = it, sc
    if top == 0 and clause.heading is None:
        best = scored[0][0]
    s, e = best[0], best[1]
    return Highlight(s, e, clause.text[s:e], clause.source_span(s, e))


def _marker(number: str) -> str:
    """Printed marker in the citation style: （三）, 二、, 6."""
    n = normalize(number).strip()
    if n.startswith("(") and n.endswith(")"):
        return f"（{n[1:-1]}）"
    if n.startswith("专栏"):
        return re.sub(r"[:：]$", "", n)
    if n[:1].isdigit():
        return re.sub(r"[.、]$", "", n) + "."
    return n


def clause_locator(clause: Clause, corpus: Corpus) -> str:
    """二、（三）6. — the numbering path of a clause, with 第N段 for un-numbered paragraphs."""
    doc_id, path = clause.clause_id.split(":", 1)
    parts = []
    segs = path.split(".")
    for i, seg in enumerate(segs):
        if seg == "notice":
            parts.append("印发通知")
            continue
        if m := re.fullmatch(r"p(\d+)", seg):
            parts.append(f"第{m.group(1)}段")
            continue
        if m := re.fullmatch(r"table(\d+)", seg):
            parts.append("主要指标表" if m.group(1) == "1" else f"表{m.group(1)}")
            continue
        node = corpus.clause(f"{doc_id}:{'.'.join(segs[: i + 1])}")
        if node is not None and node.number:
            parts.append(_marker(node.number))
    return "".join(parts)


def citation_string(clause: Clause, doc: Document, corpus: Corpus) -> str:
    """《上海市促进服务业创新发展若干措施》（沪府办发〔2025〕5号）二、（三）6."""
    ident = doc.doc_number or (f"{doc.issued.year}年{doc.issued.month}月{doc.issued.day}日" if doc.issued else doc.doc_id)
    return f"《{doc.title}》（{ident}）{clause_locator(clause, corpus)}"
