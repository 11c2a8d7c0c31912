"""English answers composed from structured fields, never by translating a clause.

An English reader gets: what kind of measure a clause offers (qa/data/measure_kinds.json), the document's
English title where one is on record (corpus/metadata.toml), the agencies' official English names (the agency
directory), the document's status and dates — each point with the Chinese sentence beside it, marked as the
authoritative text. Nothing here pretends to translate the clause itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from policyqa.corpus import Corpus

from .agencies import AgencyDirectory
from .answer import Answer, Citation
from .compose import lead_order

KINDS_FILE = Path(__file__).resolve().parent / "data" / "measure_kinds.json"
AUTHORITATIVE = (
    "The Chinese sentences quoted are the authoritative text. The English around them is built from the documents' "
    "records (titles, agencies' official English names, status and dates); it is not a translation of the clauses."
)


@dataclass(frozen=True)
class MeasureKind:
    kind: str
    pattern: re.Pattern[str]
    en: str


@lru_cache(maxsize=1)
def measure_kinds() -> tuple[MeasureKind, ...]:
    raw = json.loads(KINDS_FILE.read_text(encoding="utf-8"))
    return tuple(MeasureKind(k["kind"], re.compile(k["pattern"]), k["en"]) for k in raw["kinds"])


def kind_of(quote: str, clause_text: str) -> tuple[str, str]:
    """(kind, English phrase) of the measure: the quoted sentence decides, else the whole clause."""
    for text in (quote, clause_text):
        for k in measure_kinds():
            if k.pattern.search(text):
                return k.kind, k.en
    return "provision", "a provision"


def _point(c: Citation, corpus: Corpus, directory: AgencyDirectory | None) -> dict:
    doc = corpus.document(c.clause.doc_id)
    quote = c.highlight.text if c.highlight else c.clause.text
    kind, kind_en = kind_of(quote, c.clause.text)
    agencies = []
    for pos, printed in enumerate(lead_order(c.clause)):
        a = directory.resolve(printed) if directory else None
        agencies.append({"name": printed, "english_name": a.english_name if a and a.english_name else None, "lead": pos == 0})
    return {
        "clause_id": c.clause.clause_id,
        "citation": c.citation,
        "document": doc.title_en or None,
        "document_zh": doc.title,
        "doc_number": doc.doc_number,
        "kind": kind,
        "kind_en": kind_en,
        "agencies": agencies,
        "status": c.status.status,
        "status_en": c.status.label_en,
        "as_of": c.status.as_of.isoformat(),
        "valid_until": doc.valid_until.isoformat() if doc.valid_until else None,
        "quote_zh": quote,
    }


SHOWN_AGENCIES = 3  # a measure's first agencies by name (the lead first); the rest are counted, all are in points


def _names(agencies: list[dict]) -> str:
    names = [
        f"{a['english_name']} ({a['name']})" if a["english_name"] else f"{a['name']} (no English name on record)"
        for a in agencies[:SHOWN_AGENCIES]
    ]
    more = len(agencies) - SHOWN_AGENCIES
    return "; ".join(names) + (f"; and {more} other agenc{'y' if more == 1 else 'ies'}" if more > 0 else "")


def _source(p: dict) -> str:
    title = f"“{p['document']}”" if p["document"] else f"《{p['document_zh']}》"
    number = f" ({p['doc_number']})" if p["doc_number"] else ""
    return f"{title}{number} — {p['status_en']} as of {p['as_of']}"


def english_answer(ans: Answer, corpus: Corpus, directory: AgencyDirectory | None = None) -> dict | None:
    """The English answer of an English question (None for other questions): {text, points, authoritative}."""
    q = ans.question
    if q is None or not q.english:
        return None
    cites = ans.citations if ans.answerable else ans.closest
    points = [_point(c, corpus, directory) for c in cites[:3]]
    lines: list[str] = []
    if not ans.answerable:
        lines.append(ans.message)
        if points:
            lines.append("The closest clauses are listed below; they do not answer the question.")
    elif ans.reverse_agency is not None:
        lines.append(ans.answer)
    elif ans.intent == "agency" and ans.agencies:
        lead = [a for a in ans.agencies if a.lead] or list(ans.agencies[:1])
        rest = [a for a in ans.agencies if a not in lead]

        def name(a) -> str:
            en = a.agency.english_name if a.agency and a.agency.english_name else None
            return f"{en} ({a.name})" if en else f"{a.name} (no English name on record)"

        if ans.agencies_source == "nearest_clause":
            lines.append("The best-matching clause names no agency; the nearest clause that does names:")
        lines.append(f"Lead agency: {name(lead[0])}." if lead else "")
        if rest:
            lines.append("Also responsible: " + "; ".join(name(a) for a in rest) + ".")
        source_id = lead[0].clause_ids[0] if lead and lead[0].clause_ids else None
        source = next((p for p in points if p["clause_id"] == source_id), points[0] if points else None)
        if source:
            lines.append(f"Source: {source['kind_en']} in {_source(source)}.")
    else:
        intro = {
            "support": "These measures in the documents may apply:",
        }.get(ans.intent, "What the documents provide on this:")
        lines.append(intro)
        for i, p in enumerate(points, 1):
            line = f"{i}. {p['kind_en'][0].upper()}{p['kind_en'][1:]} in {_source(p)}."
            if p["agencies"]:
                line += f" Responsible: {_names(p['agencies'])}."
            lines.append(line)
    return {"text": "\n".join(x for x in lines if x), "points": points, "authoritative": AUTHORITATIVE}
