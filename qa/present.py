"""Plain-dict views of answers and hits, shared by the CLI's --json and the API."""

from __future__ import annotations

from policyqa.corpus import Clause, Corpus

from .answer import Answer, Citation


def clause_to_dict(clause: Clause, corpus: Corpus) -> dict:
    from .citation import citation_string

    doc = corpus.document(clause.doc_id)
    return {
        **clause.to_dict(),
        "doc_title": doc.title,
        "doc_number": doc.doc_number,
        "citation": citation_string(clause, doc, corpus),
    }


def citation_to_dict(c: Citation, corpus: Corpus) -> dict:
    d = clause_to_dict(c.clause, corpus)
    d["score"] = c.score
    d["highlight"] = (
        {
            "start": c.highlight.start,
            "end": c.highlight.end,
            "text": c.highlight.text,
            "source_start": c.highlight.source.start,
            "source_end": c.highlight.source.end,
        }
        if c.highlight
        else None
    )
    d["doc_status"] = {"status": c.status.status, "label": c.status.label, "label_en": c.status.label_en, "as_of": c.status.as_of.isoformat()}
    return d


def answer_to_dict(ans: Answer, corpus: Corpus) -> dict:
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
            }
            for a in ans.agencies
        ],
        "citations": [citation_to_dict(c, corpus) for c in ans.citations],
        "closest": [citation_to_dict(c, corpus) for c in ans.closest],
        "notice": ans.notice,
    }
