"""Request and response models of the public API."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_query(value: str) -> str:
    """Strip control characters and outer space; reject text that is not valid Unicode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains invalid Unicode (a lone surrogate)") from None
    value = _CONTROL.sub("", value).replace("\t", " ").replace("\r", " ").replace("\n", " ")
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > 500:
        raise ValueError("must be at most 500 characters")
    return value


# A question as every endpoint takes it: cleaned by `clean_query`, its errors reported on the field.
QueryText = Annotated[str, AfterValidator(clean_query)]


# The earliest date a question about these (PRC) policy documents can mean, and a horizon no plan reaches.
EARLIEST_DATE = dt.date(1949, 10, 1)
HORIZON_YEARS = 50


def _date_text(value):
    """Dates are written YYYY-MM-DD: a number would be read as seconds since 1970 (0 → 1970-01-01)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("must be a date written YYYY-MM-DD, not a number")  # noqa: TRY004 - pydantic reports ValueError as a 422
    return value


def _date_in_range(value: dt.date) -> dt.date:
    today = dt.date.today()
    try:
        latest = today.replace(year=today.year + HORIZON_YEARS)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + HORIZON_YEARS, day=28)
    if not EARLIEST_DATE <= value <= latest:
        raise ValueError(f"must be between {EARLIEST_DATE.isoformat()} and {latest.isoformat()}")
    return value


PolicyDate = Annotated[dt.date, BeforeValidator(_date_text), AfterValidator(_date_in_range)]


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc_ids: list[str] | None = Field(None, max_length=20)
    agencies: list[str] | None = Field(None, max_length=20, description="printed, full or English names")
    in_force_on: PolicyDate | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: QueryText = Field(..., description="1–500 characters after trimming", examples=["哪个部门负责社区养老上门服务?"])
    top_k: int = Field(10, ge=1, le=50)
    filters: Filters | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: QueryText = Field(..., description="1–500 characters after trimming", examples=["我们是做广告的小公司，研发投入大，有什么奖励?"])
    as_of: PolicyDate | None = Field(None, description="judge documents in force on this date (default today; YYYY-MM-DD)")


class FeedbackRequest(BaseModel):
    """A "was this helpful?" vote on one answer."""

    model_config = ConfigDict(extra="forbid")
    query: QueryText = Field(..., description="the question answered (kept only when query logging is on)")
    helpful: bool
    lang: Literal["zh", "en"] = "zh"
    intent: str = Field("", max_length=20, pattern=r"^[a-z_]*$")
    answerable: bool | None = None
    clause_ids: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20)


class FeedbackResponse(BaseModel):
    stored: bool
    id: int
    question_kept: Literal["text", "salted_hash", "nothing"] = Field(
        description="text only with QA_LOG_QUERIES on; a salted hash with QA_FEEDBACK_SALT set; else nothing"
    )


class FeedbackEntry(BaseModel):
    id: int
    created_at: str
    helpful: bool
    lang: str
    intent: str
    answerable: bool | None
    clause_ids: list[str]
    question: str | None
    question_sha256: str | None


class FeedbackExport(BaseModel):
    helpful: int
    not_helpful: int
    votes: list[FeedbackEntry]


class Contact(BaseModel):
    text: str
    text_en: str
    url: str | None = Field(description="tel:, mailto: or http(s): link; null when the configured one is not one of these")


class ClientConfig(BaseModel):
    """What the widget and the pages need to know about this deployment."""

    contact: Contact
    feedback: bool = Field(description="whether votes can be stored (a registry database is configured)")


class Span(BaseModel):
    start: int
    end: int


class Highlight(BaseModel):
    start: int
    end: int
    text: str
    source_start: int
    source_end: int


class DocStatus(BaseModel):
    status: str
    label: str
    label_en: str
    as_of: dt.date


class Hit(BaseModel):
    clause_id: str
    doc_id: str
    doc_title: str
    doc_number: str | None
    kind: str
    number: str | None
    section_path: list[str]
    heading: str | None
    text: str
    agencies: list[str]
    score: float | None = Field(
        None,
        description="/v1/search: the fused reciprocal-rank score; /v1/ask in hybrid mode: the ranking model's "
        "probability that this clause answers the question (qa/rank.py); in lexical mode, the fused score",
    )
    citation: str
    source_path: str
    span: Span
    highlight: Highlight | None = None
    doc_status: DocStatus | None = None


class TranslatedWord(BaseModel):
    english: str = Field(description="the (stemmed) English word of the question")
    chinese: list[str] = Field(description="its CC-CEDICT renderings that occur in the documents")


class Translation(BaseModel):
    """How an English question was searched by the keyword legs (dictionary translation, not a model)."""

    searched_as: str
    words: list[TranslatedWord]


class Refusal(BaseModel):
    kind: str = Field(
        description="no_match | other_place | other_document | amount_not_stated | date_not_stated | figure_not_stated "
        "| procedure_not_stated | contact_not_stated | names_not_stated | places_not_stated | agency_not_stated | validity_not_stated | language "
        "(personal_procedure, city_matter: no longer assigned)"
    )
    detail: str = ""


class SearchResponse(BaseModel):
    query: str
    mode: str
    notice: str | None = None
    translation: Translation | None = None
    results: list[Hit]


class AgencyRef(BaseModel):
    name: str
    full_name: str | None
    english_name: str | None
    clause_ids: list[str] = Field(description="clauses that print this agency (never any other)")
    lead: bool = Field(False, description="the lead agency: printed before 牵头, else first listed")


class EnglishAgency(BaseModel):
    name: str = Field(description="as printed (Chinese)")
    english_name: str | None = Field(description="the agency's official English name from the directory; null when none is on record")
    lead: bool


class EnglishPoint(BaseModel):
    clause_id: str
    citation: str
    document: str | None = Field(description="the document's English title where one is on record")
    document_zh: str
    doc_number: str | None
    kind: str = Field(description="voucher | loan_support | tax_fee_relief | reward | subsidy | fund | facilitation | support | provision")
    kind_en: str
    agencies: list[EnglishAgency]
    status: str
    status_en: str
    as_of: dt.date
    valid_until: dt.date | None
    quote_zh: str = Field(description="the clause's own words: the authoritative text")


class EnglishAnswer(BaseModel):
    """For an English question: an answer composed in English from structured fields (kind of measure, English
    title, agencies' English names, status and dates), each point with its Chinese quote. Never a translation."""

    text: str
    points: list[EnglishPoint]
    authoritative: str


class AskPart(BaseModel):
    question: str = Field(description="the part as asked (normalised)")
    answerable: bool
    intent: str
    answer: str
    message: str
    refusal: Refusal | None = None
    confidence: float | None = None
    clause_ids: list[str] = Field(description="the part's cited clauses (its closest, when refused)")


class AskResponse(BaseModel):
    query: str
    mode: str
    answerable: bool
    intent: str
    answer: str
    message: str
    agencies: list[AgencyRef]
    citations: list[Hit]
    closest: list[Hit]
    notice: str | None = None
    translation: Translation | None = None
    refusal: Refusal | None = None
    agencies_source: str | None = Field(
        None,
        description="best_clause | nearest_clause (the best clause lists no agency; these are the nearest "
        "clause's, labelled so in the answer) | cited_clauses | listed_clauses",
    )
    confidence: float | None = Field(None, description="the judge's probability that the clauses found answer the question")
    answer_en: EnglishAnswer | None = Field(None, description="English questions only: the answer composed in English, Chinese quotes beside it")
    parts: list[AskPart] = Field(
        default_factory=list,
        description="a question asking several things at once (a question mark with more question after it, "
        "', and which…'): each part's own answer. The whole is answered when every part is; otherwise the "
        "question as a whole decides, and a refusal names the part the documents do not answer. Empty for "
        "a question asking one thing",
    )


class Document(BaseModel):
    doc_id: str
    title: str
    title_en: str = Field("", description="an English title where one is on record (empty otherwise)")
    doc_number: str | None
    issuer: str
    issuers: list[str]
    issued: dt.date | None = Field(description="the signing date; null when neither the text nor its page gives one")
    valid_from: dt.date | None
    valid_until: dt.date | None
    plan_period: list[int] | None
    source_path: str
    notes: str
    status: DocStatus
    clause_count: int


class DocumentsResponse(BaseModel):
    documents: list[Document]


class Agency(BaseModel):
    name: str
    aliases: list[str]
    full_name: str
    english_name: str
    kind: str
    sources: dict[str, str]
    clause_count: int


class AgenciesResponse(BaseModel):
    agencies: list[Agency]


class AgencyDocument(BaseModel):
    doc_id: str
    doc_title: str
    doc_number: str | None
    clauses: list[Hit]


class AgencyResponse(BaseModel):
    agency: Agency
    documents: list[AgencyDocument]


class DocumentFailure(BaseModel):
    file: str
    reason: str


class DroppedDocument(BaseModel):
    doc_id: str
    file: str


class IndexFallback(BaseModel):
    from_: str | None = Field(None, alias="from", description="the version `current` points at, which cannot serve")
    reason: str
    action: Literal["previous_version", "rebuilt"]


class ReadyResponse(BaseModel):
    status: Literal["ready", "degraded"]
    mode: str
    index: str
    version: str | None
    passages: int
    documents: int
    index_fallback: IndexFallback | None
    documents_failed: list[DocumentFailure]
    passages_awaiting_vectors: int = Field(
        0, description="passages of just-added documents, searchable by keywords, whose dense vectors are still being computed"
    )
    vectors_error: str | None = Field(None, description="why the background computation of those vectors failed, if it did")


class ReindexResponse(BaseModel):
    status: str
    index_path: str
    version: str | None
    passages: int
    documents: int
    mode: str
    seconds: float
    documents_failed: list[DocumentFailure]
    documents_dropped: list[DroppedDocument]
