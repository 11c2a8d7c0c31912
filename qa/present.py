"""Plain-dict views of answers and hits, shared by the CLI's --json and the API."""

from __future__ import annotations

from policyqa.corpus import Corpus

from .agencies import AgencyDirectory
from .answer import Answer, Citation
from .english import english_answer
from .status import DocStatus
from .translate import Translation


def status_to_dict(s: DocStatus) -> dict:
    return {"status": s.status, "label": s.label, "label_en": s.label_en, "as_of": s.as_of.isoformat()}


def citation_to_dict(c: Citation, corpus: Corpus) -> dict:
    """A cited clause as the API's Hit: the record, its document, citation, highlight and status."""
    doc = corpus.document(c.clause.doc_id)
    h = c.highlight
    return {
        **c.clause.to_dict(),
        "doc_title": doc.title,
        "doc_number": doc.doc_number,
        "score": c.score,
        "citation": c.citation,
        "highlight": (
            {"start": h.start, "end": h.end, "text": h.text, "source_start": h.source.start, "source_end": h.source.end}
            if h
            else None
        ),
        "doc_status": status_to_dict(c.status),
    }


def translation_to_dict(t: Translation | None) -> dict | None:
    if not t:
        return None
    return {"searched_as": t.text, "words": [{"english": en, "chinese": list(zh)} for en, zh in t.terms]}


def answer_to_dict(ans: Answer, corpus: Corpus, directory: AgencyDirectory | None = None) -> dict:
    """``directory`` gives the English names of the agencies each English point lists."""
    return {
        "query": ans.query,
        "mode": ans.mode,
        "answerable": ans.answerable,
        "intent": ans.intent,
        "answer": ans.answer,
        "message": ans.message,
        "agencies": [
            {
                "name": a.name,
                "full_name": a.agency.full_name if a.agency else None,
                "english_name": a.agency.english_name if a.agency else None,
                "clause_ids": list(a.clause_ids),
                "evidence": a.evidence,
                "lead": a.lead,
            }
            for a in ans.agencies
        ],
        # where the agencies come from: best_clause | nearest_clause (the best clause lists none) |
        # cited_clauses (support answers) | listed_clauses (what an agency is responsible for)
        "agencies_source": ans.agencies_source,
        "confidence": ans.confidence,
        "citations": [citation_to_dict(c, corpus) for c in ans.citations],
        "closest": [citation_to_dict(c, corpus) for c in ans.closest],
        "notice": ans.notice,
        "translation": translation_to_dict(ans.translation),
        "refusal": {"kind": ans.refusal.kind, "detail": ans.refusal.detail} if ans.refusal else None,
        "answer_en": english_answer(ans, corpus, directory),
        # a question asking several things: what each part got on its own evidence
        "parts": [
            {
                "question": p.query,
                "answerable": p.answerable,
                "intent": p.intent,
                "answer": p.answer,
                "message": p.message,
                "refusal": {"kind": p.refusal.kind, "detail": p.refusal.detail} if p.refusal else None,
                "confidence": p.confidence,
                "clause_ids": [c.clause.clause_id for c in (p.citations or p.closest)],
            }
            for p in ans.parts
        ],
    }
