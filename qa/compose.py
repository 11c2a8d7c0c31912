"""Composition: the answer a person reads, made only of what the clauses print.

An agency is only ever shown beside a clause that prints it. When the best clause names no agency, the
answer says so and offers the agencies of the nearest clause that does, labelled as such. The lead agency
(the one printed before 牵头, else the first listed) comes first.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from policyqa.corpus import Clause, Corpus

from .agencies import Agency, AgencyDirectory
from .analysis import AnalysedQuestion
from .citation import Highlight, best_sentence, citation_string
from .search import Hit
from .status import DocStatus, document_status

# What a clause that offers something to a business says (support answers put these first).
_OFFERS = re.compile(r"支持|补贴|补助|奖励|奖补|扶持|资助|资金|贷款|贴息|融资|减免|免征|优惠|券|基金|便利|给予|予以")
ENDED_WEIGHT = 0.85  # a measure whose document is no longer in force ranks as if this much less relevant


@dataclass(frozen=True)
class Citation:
    clause: Clause
    score: float | None
    citation: str
    highlight: Highlight | None
    status: DocStatus


@dataclass(frozen=True)
class AgencyEvidence:
    name: str  # as printed (canonical directory name when known)
    agency: Agency | None
    clause_ids: tuple[str, ...]  # clauses that print this agency — never any other
    evidence: float
    lead: bool = False  # first listed, or printed before 牵头


def lead_order(clause: Clause) -> list[str]:
    """The clause's printed agencies, the lead first: the one the text says 牵头, else the first listed."""
    names = list(clause.agencies)
    for i, a in enumerate(names):
        if re.search(re.escape(a) + r"[)）]?牵头", clause.text):
            return [a, *names[:i], *names[i + 1 :]]
    return names


class Composer:
    """Citations and answer text for one corpus; thread-safe."""

    def __init__(self, corpus: Corpus, directory: AgencyDirectory, citations: int = 5, agency_votes: int = 3) -> None:
        self.corpus = corpus
        self.directory = directory
        self.citations = citations
        self.agency_votes = agency_votes
        # citation strings never change for a corpus: computed on a clause's first citation and kept, not for
        # every clause at start-up (about 0.15 ms a clause: minutes of a worker's start at a million clauses)
        self._citations: dict[str, str] = {}

    def citation(self, clause: Clause) -> str:
        """The clause's citation string, computed once (a racing thread computes the same string)."""
        out = self._citations.get(clause.clause_id)
        if out is None:
            out = self._citations[clause.clause_id] = citation_string(clause, self.corpus.document(clause.doc_id), self.corpus)
        return out

    def cite(self, clause: Clause, matched: str | None, as_of: dt.date, score: float | None = None) -> Citation:
        """A clause as evidence: its citation, the sentence best matching the question, its document's status."""
        return Citation(
            clause=clause,
            score=score,
            citation=self.citation(clause),
            highlight=best_sentence(clause, matched) if matched else None,
            status=document_status(self.corpus.document(clause.doc_id), as_of),
        )

    # --- agencies -------------------------------------------------------------------------------

    def agencies_of(self, source: Hit, hits: list[Hit]) -> list[AgencyEvidence]:
        """The agencies one clause prints, lead first, each with the clause ids (among the top clauses
        with a list) that print it too."""
        others = [h for h in hits if h.clause.agencies][: self.agency_votes]
        out = []
        for pos, printed in enumerate(lead_order(source.clause)):
            a = self.directory.resolve(printed)
            key = a.name if a else printed
            ids = [source.clause.clause_id]
            ev = 1.0 if pos == 0 else 0.6
            for rank, h in enumerate(others, 1):
                if h is source:
                    continue
                if any(self.directory.canonical(x) == key for x in h.clause.agencies):
                    ids.append(h.clause.clause_id)
                    ev += 0.6 / rank**2
            out.append(AgencyEvidence(key, a, tuple(dict.fromkeys(ids)), round(ev, 4), lead=pos == 0))
        return out

    def agency_answer(self, hits: list[Hit]) -> tuple[list[AgencyEvidence], Hit | None, bool]:
        """(agencies, the clause they come from, whether that is the best clause). When the best clause
        prints no agency, the nearest clause that does gives them — labelled so by the caller."""
        if not hits:
            return [], None, False
        source = next((h for h in hits if h.clause.agencies), None)
        if source is None:
            return [], None, False
        return self.agencies_of(source, hits), source, source is hits[0]

    # --- ordering -------------------------------------------------------------------------------

    def support_order(self, hits: list[Hit], as_of: dt.date) -> list[Hit]:
        """Clauses that offer something first; within each, current measures above ended ones when
        relevance is close (an ended document's clause ranks as if ENDED_WEIGHT as relevant)."""

        def weight(h: Hit) -> float:
            current = document_status(self.corpus.document(h.clause.doc_id), as_of).current
            return h.score * (1.0 if current else ENDED_WEIGHT)

        return sorted(hits, key=lambda h: (not _OFFERS.search(h.clause.text), -weight(h)))

    # --- text -----------------------------------------------------------------------------------

    @staticmethod
    def _flag(c: Citation, english: bool) -> str:
        if c.status.current:
            return ""
        return f" (note: {c.status.label_en})" if english else f"（注意：{c.status.label}）"

    @staticmethod
    def _names(agencies: list[AgencyEvidence] | tuple[AgencyEvidence, ...], english: bool) -> str:
        if english:
            return "; ".join(f"{a.agency.english_name} ({a.name})" if a.agency and a.agency.english_name else a.name for a in agencies)
        return "、".join(a.name for a in agencies)

    def agency_text(
        self, q: AnalysedQuestion, best: Citation, agencies: tuple[AgencyEvidence, ...], source: Citation | None, from_best: bool
    ) -> str:
        en = q.english
        quote = best.highlight.text if best.highlight else best.clause.text[:120]
        if agencies and from_best:
            if en:
                return f"Responsible: {self._names(agencies, en)}. Source: {best.citation}{self._flag(best, en)}: “{quote}”"
            return f"责任单位：{self._names(agencies, en)}。依据{best.citation}{self._flag(best, en)}：“{quote}”"
        head = (
            f"The best-matching clause, {best.citation}{self._flag(best, en)}, names no responsible agency: “{quote}”"
            if en
            else f"最相关的条款{best.citation}{self._flag(best, en)}未列明责任单位：“{quote}”"
        )
        if not agencies or source is None:
            return head
        if en:
            return f"{head}\nThe nearest clause that names agencies, {source.citation}, lists: {self._names(agencies, en)}."
        return f"{head}\n相近条款{source.citation}列明的责任单位：{self._names(agencies, en)}。"

    def support_text(self, q: AnalysedQuestion, citations: tuple[Citation, ...]) -> str:
        en = q.english
        lines = []
        for c in citations[:3]:
            quote = c.highlight.text if c.highlight else c.clause.text[:80]
            line = f"{c.citation}{self._flag(c, en)}{': ' if en else '：'}“{quote}”"
            if c.clause.agencies:
                printed = [self.directory.resolve(a) for a in lead_order(c.clause)]
                names = [
                    (a.english_name or a.name) if (en and a) else (a.name if a else p)
                    for a, p in zip(printed, lead_order(c.clause))
                ]
                line += f" (responsible: {'; '.join(names)})" if en else f"（责任单位：{'、'.join(names)}）"
            lines.append(line)
        return "\n".join(lines)

    def plain_text(self, q: AnalysedQuestion, best: Citation) -> str:
        en = q.english
        quote = best.highlight.text if best.highlight else best.clause.text[:120]
        return f"{best.citation}{self._flag(best, en)}{': ' if en else '：'}“{quote}”"


def _day(d: dt.date | None, english: bool) -> str:
    if d is None:
        return "not stated" if english else "未写明"
    return d.isoformat() if english else f"{d.year}年{d.month}月{d.day}日"


def document_facts(doc, status: DocStatus, citation: str, english: bool) -> str:
    """A document's own dates and status, from its record (title, 文号, signing date, validity)."""
    ident = f"（{doc.doc_number}）" if doc.doc_number else ""
    if english:
        parts = [f"《{doc.title}》{ident}: signed {_day(doc.issued, True)}"]
        if doc.valid_from:
            parts.append(f"in force from {_day(doc.valid_from, True)}")
        if doc.valid_until:
            parts.append(f"valid until {_day(doc.valid_until, True)}")
        if doc.plan_period:
            parts.append(f"plan period {doc.plan_period[0]}–{doc.plan_period[1]}")
        parts.append(f"status on {status.as_of.isoformat()}: {status.label_en}")
        return "; ".join(parts) + f". Source: {citation}"
    parts = [f"《{doc.title}》{ident}成文日期{_day(doc.issued, False)}"]
    if doc.valid_from:
        parts.append(f"自{_day(doc.valid_from, False)}起施行")
    if doc.valid_until:
        parts.append(f"有效期至{_day(doc.valid_until, False)}")
    if doc.plan_period:
        parts.append(f"规划期{doc.plan_period[0]}–{doc.plan_period[1]}年")
    parts.append(f"截至{_day(status.as_of, False)}：{status.label}")
    return "，".join(parts) + f"。依据{citation}"
