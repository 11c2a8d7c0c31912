"""Records handed from the corpus layer to the rest of the pipeline.

All are frozen dataclasses with stable ids; nothing downstream mutates them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range ``[start, end)`` into the decoded source file."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"invalid span {self.start}..{self.end}")

    def contains(self, other: "Span") -> bool:
        return self.start <= other.start and other.end <= self.end

    def __reduce__(self):
        return (Span, (self.start, self.end))  # see Clause.__reduce__


CLAUSE_KINDS = ("notice", "section", "clause", "paragraph", "table")


@dataclass(frozen=True, slots=True)
class Document:
    doc_id: str
    title: str
    doc_number: str | None
    issuer: str
    issued: dt.date | None  # the signing date; None only when the text, its page and the file give none
    valid_from: dt.date | None
    valid_until: dt.date | None
    source_path: str
    issuers: tuple[str, ...] = ()
    plan_period: tuple[int, int] | None = None  # first and last year of a plan (e.g. 十四五 = 2021–2025)
    printed: dt.date | None = None  # the 印发 date, where printed
    notes: str = ""  # what metadata.toml says the text cannot (e.g. a cut-off opening)
    sha256: str = ""
    # what an administrator set in the registry because the text cannot say it: revoked | superseded | expired |
    # in_force (None: judged from the text's dates)
    status_override: str | None = None
    status_note: str = ""
    title_en: str = ""  # an English title where one is on record (metadata.toml), for English answers

    @property
    def effective_from(self) -> dt.date:
        return self.valid_from or self.issued or dt.date.min

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("issued", "valid_from", "valid_until", "printed"):
            d[key] = d[key].isoformat() if d[key] else None
        d["issuers"] = list(self.issuers)
        d["plan_period"] = list(self.plan_period) if self.plan_period else None
        return d


@dataclass(frozen=True, slots=True)
class Clause:
    """One addressable unit of a document: a numbered item, a section heading, a paragraph, a table."""

    clause_id: str
    doc_id: str
    kind: str
    number: str | None  # the numbering marker as printed, e.g. "６．" or "（三）"
    section_path: tuple[str, ...]
    heading: str | None
    text: str
    agencies: tuple[str, ...]
    source_path: str
    span: Span
    order: int  # position in the document
    # source offset of every character of ``text`` (same length as text), so that any sub-span of
    # the text can be traced back to the file; excluded from equality/hash for speed.
    offsets: tuple[int, ...] = field(default=(), compare=False, repr=False)
    # every unit the clause's agency notes name, in printed order, with its role: "lead" (牵头, or first listed
    # where the document says the first leads), "responsible" or "support" (配合/参与). ``agencies`` holds the names.
    agency_roles: tuple[tuple[str, str], ...] = ()

    def __reduce__(self):
        # pickled as a constructor call: unpickling the parse cache (a worker's start-up reads every clause
        # from it) takes about half the time of the dataclass's generic per-field __setstate__
        return (Clause, tuple(getattr(self, f.name) for f in fields(self)))

    @property
    def lead_agencies(self) -> tuple[str, ...]:
        return tuple(n for n, r in self.agency_roles if r == "lead")

    def source_span(self, start: int, end: int) -> Span:
        """Source-file span covering ``text[start:end]``."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"text range {start}..{end} outside clause {self.clause_id}")
        return Span(self.offsets[start], self.offsets[end - 1] + 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "clause_id": self.clause_id,
            "doc_id": self.doc_id,
            "kind": self.kind,
            "number": self.number,
            "section_path": list(self.section_path),
            "heading": self.heading,
            "text": self.text,
            "agencies": list(self.agencies),
            "agency_roles": [{"name": n, "role": r} for n, r in self.agency_roles],
            "source_path": self.source_path,
            "span": {"start": self.span.start, "end": self.span.end},
            "order": self.order,
        }


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of a clause small enough to embed; keeps everything of its clause plus its own span."""

    passage_id: str
    clause_id: str
    doc_id: str
    index: int  # position within the clause
    text: str
    section_path: tuple[str, ...]
    heading: str | None
    agencies: tuple[str, ...]
    span: Span  # into the source file
    text_start: int  # offset of this passage within the clause text


@dataclass(frozen=True, slots=True)
class Boilerplate:
    """A range of the source file that is deliberately not part of any clause."""

    kind: str
    span: Span


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    document: Document
    clauses: tuple[Clause, ...]
    boilerplate: tuple[Boilerplate, ...]
    text: str  # the decoded source file (or, for converted formats, the stored converted text)
    warnings: tuple[str, ...] = ()  # what the parser could not find (title, 文号, date…): reported, never fatal
    agency_notes: int = 0  # agency notes and agency-table rows found in the text


@dataclass(frozen=True, slots=True)
class LoadError:
    """A document that could not be loaded; the others still are."""

    source_path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source_path}: {self.reason}"
