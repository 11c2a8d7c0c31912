"""Answers: the clauses that answer a question, their agencies, support measures with their status,
checkable citations — or an honest "not in these documents"."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from policyqa.corpus import Corpus
from policyqa.index.clause_tokens import ClauseTokens
from policyqa.index.tokenize import JiebaTokenizer, Tokenizer, user_dictionary

from .agencies import Agency, AgencyDirectory
from .analysis import AnalysedQuestion, Analyser
from .compose import AgencyEvidence, Citation, Composer, document_facts, lead_order
from .judge import Judge, Verdict
from .rank import Ranker
from .search import Searcher
from .translate import Translation

# a question about a document's validity rather than a day: 还有效吗, 有效期, in force, expire
_VALIDITY = re.compile(r"有效|失效|到期|废止|施行|生效|\bin force\b|\bvalid\b|\bexpir|\btakes? effect\b|\buntil when\b", re.I)

__all__ = ["Answer", "AnswerConfig", "Answerer", "AgencyEvidence", "Citation", "Refusal", "REFUSALS"]


@dataclass(frozen=True)
class AnswerConfig:
    agency_votes: int = 3  # top clauses whose lists add their clause ids to an agency (clauses that print it)
    citations: int = 5


# Why a question is not answered → (English, Chinese) message; {detail} is the place, title or term.
_NOT_FOUND = (
    "Sorry, these service-industry policy documents do not answer this question. The Shanghai 12345 citizen "
    "hotline can direct you to the right office.",
    "抱歉，这几份服务业政策文件中没有找到能回答这个问题的条款。建议咨询12345市民服务热线或相关部门。",
)
REFUSALS: dict[str, tuple[str, str]] = {
    "no_match": _NOT_FOUND,
    # kept so API clients that know them keep working; no longer assigned (their word lists are gone)
    "personal_procedure": _NOT_FOUND,
    "city_matter": (
        "These service-industry policy documents do not cover this everyday city matter; the Shanghai 12345 "
        "citizen hotline handles it.",
        "这类日常城市管理和生活服务事项不在这几份服务业政策文件的范围内，请拨打12345市民服务热线。",
    ),
    "other_place": (
        "These are Shanghai's policy documents; they say nothing about {detail}.",
        "这几份是上海市的政策文件，没有关于{detail}的规定。",
    ),
    "other_document": (
        "《{detail}》 is not one of these documents, so its contents are not available here.",
        "《{detail}》不在本服务收录的文件之中，无法回答其具体内容。",
    ),
    "amount_not_stated": (
        "The documents describe related measures (the closest clauses are below) but do not state the amount; "
        "the responsible agency's application guidelines do.",
        "文件提到了相关措施（见下方最接近的条款），但没有写明具体金额，请以主管部门发布的申报指南为准。",
    ),
    "date_not_stated": (
        "The documents mention this (the closest clauses are below) but give no date; the organiser's "
        "announcements do.",
        "文件提到了相关内容（见下方最接近的条款），但没有写明具体时间，请以主办或主管部门的公告为准。",
    ),
    "validity_not_stated": (
        "《{detail}》 prints no period of validity, effective date or expiry date; what its record says is below.",
        "《{detail}》没有写明施行日期、有效期或失效日期；文件本身的信息如下。",
    ),
    "figure_not_stated": (
        "The documents mention this (the closest clauses are below) but do not give the figure asked for.",
        "文件提到了相关内容（见下方最接近的条款），但没有给出所问的具体数字。",
    ),
    "procedure_not_stated": (
        "The documents set the policy (the closest clauses are below) but do not describe how or where to "
        "apply; the responsible agency or the Shanghai 12345 hotline can tell you.",
        "文件规定了相关政策（见下方最接近的条款），但没有写明申请条件和办理流程，请咨询主管部门或12345市民服务热线。",
    ),
    "contact_not_stated": (
        "The documents mention this (the closest clauses are below) but print no phone number, address or web "
        "address; the Shanghai 12345 citizen hotline can direct you.",
        "文件提到了相关内容（见下方最接近的条款），但没有写明联系电话、地址或网址，可拨打12345市民服务热线咨询。",
    ),
    "names_not_stated": (
        "The documents mention this (the closest clauses are below) but do not list the names or items asked for.",
        "文件提到了相关内容（见下方最接近的条款），但没有列出所问的具体名单或清单内容。",
    ),
    "places_not_stated": (
        "The documents mention this (the closest clauses are below) but do not name the places — districts, "
        "areas or countries — asked for.",
        "文件提到了相关内容（见下方最接近的条款），但没有列出所问的具体区域、地点或国家。",
    ),
    "agency_not_stated": (
        "The closest clauses (below) deal with this but name no responsible agency.",
        "最接近的条款（见下方）涉及这一内容，但没有写明责任单位。",
    ),
    "language": (
        "The documents are in Chinese and the service is running in keyword (lexical) mode, which cannot match "
        "these English words. Please ask in Chinese (中文提问), or ask the operator to enable the multilingual model.",
        "The documents are in Chinese and the service is running in keyword (lexical) mode, which cannot match "
        "these English words. Please ask in Chinese (中文提问), or ask the operator to enable the multilingual model.",
    ),
}


@dataclass(frozen=True)
class Refusal:
    """Why a question is not answered: one of REFUSALS' kinds, with the place, title or term concerned."""

    kind: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in REFUSALS:
            raise ValueError(f"unknown refusal {self.kind!r}; choose one of {', '.join(REFUSALS)}")

    def message(self, english: bool) -> str:
        return REFUSALS[self.kind][0 if english else 1].format(detail=self.detail)



@dataclass(frozen=True)
class Answer:
    query: str
    mode: str
    intent: str
    answerable: bool
    answer: str
    message: str
    agencies: tuple[AgencyEvidence, ...]
    citations: tuple[Citation, ...]
    closest: tuple[Citation, ...] = ()
    coverage: float = 0.0
    notice: str | None = None
    translation: Translation | None = None
    refusal: Refusal | None = None
    reverse_agency: Agency | None = None
    reverse_documents: tuple[tuple[str, tuple[Citation, ...]], ...] = field(default=())
    confidence: float | None = None  # the judge's P(the clauses found answer the question)
    evidence: dict[str, float] = field(default_factory=dict)  # the judge's features
    agencies_source: str | None = None  # "best_clause" | "nearest_clause" (the best clause lists none)
    question: AnalysedQuestion | None = None
    # a question asking several things at once: each part's own answer (see `Answerer._together`)
    parts: tuple["Answer", ...] = ()


class Answerer:
    """The answer pipeline: analyse the question once, search with it, rank what was found, judge the
    evidence, compose.

    Each stage has its own module — `analysis`, `search`, `rank`, `judge`, `compose` — and reads the analysed question;
    none re-tokenises or re-translates it."""

    def __init__(
        self,
        corpus: Corpus,
        directory: AgencyDirectory,
        config: AnswerConfig | None = None,
        tokenizer: Tokenizer | None = None,
        clause_tokens: ClauseTokens | None = None,
        places_present: list[str] | None = None,
        analysis_text: str | None = None,
    ) -> None:
        self.corpus = corpus
        self.directory = directory
        self.config = config or AnswerConfig()
        # the keyword leg's tokenizer (same corpus dictionary), so coverage sees the words search saw
        tok = tokenizer or JiebaTokenizer(user_dictionary(corpus.clauses))
        self.analyser = Analyser(corpus, directory, tok, places_present=places_present, text=analysis_text)
        # the build's clause tokens only when they come from this very tokenizer (the keyword leg's)
        self.judge = Judge(corpus, tok, clause_tokens=clause_tokens if tokenizer is not None else None)
        self.ranker = Ranker(self.judge.coverage)
        self.composer = Composer(corpus, directory, citations=self.config.citations, agency_votes=self.config.agency_votes)

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every token the keyword tokenizer finds in the corpus."""
        return self.judge.vocabulary

    def cite(self, clause, query: str | None, as_of: dt.date, score: float | None = None) -> Citation:
        return self.composer.cite(clause, query, as_of, score)

    def analyse(self, searcher: Searcher, query: str) -> AnalysedQuestion:
        return self.analyser.analyse(query, translator=searcher.translator, encoder=searcher.query_encoder())

    # --- the answer --------------------------------------------------------------------------

    def ask(self, searcher: Searcher, query: str, *, as_of: dt.date | None = None, top_k: int = 10) -> Answer:
        as_of = as_of or dt.date.today()
        q = self.analyse(searcher, query)
        whole = self._answer(q, searcher, as_of, top_k)
        if not q.parts or whole.reverse_agency is not None or (whole.answerable and _asks_document_dates(q)):
            # an agency's clauses, or a named document's dates from its record: the whole question is answered
            return whole
        parts = tuple(self._answer(self.analyse(searcher, p), searcher, as_of, top_k) for p in q.parts)
        return self._together(q, whole, parts)

    def _together(self, q: AnalysedQuestion, whole: Answer, parts: tuple[Answer, ...]) -> Answer:
        """A question asking several things (`analysis.question_parts`): answered when every part is answered
        on its own evidence — the answer then gives each part's answer, cites the best clauses of each in turn
        and lists the agencies of each. Otherwise the question as a whole decides, as for any question; when
        it is refused, the refusal says which part the documents do not answer (when that part's reason is more
        specific than 'not found') and the answered parts' clauses are offered as the closest."""
        n = self.config.citations
        if all(p.answerable for p in parts):
            # the part asking what the whole question asks first (who is responsible → the agency part)
            ordered = sorted(parts, key=lambda p: p.intent != whole.intent)
            agencies: dict[str, AgencyEvidence] = {}
            for p in ordered:
                for a in p.agencies:
                    old = agencies.get(a.name)
                    agencies[a.name] = a if old is None else AgencyEvidence(
                        a.name, old.agency, tuple(dict.fromkeys((*old.clause_ids, *a.clause_ids))),
                        old.evidence + a.evidence, old.lead or a.lead,
                    )
            cites = _interleave([p.citations for p in ordered], n)
            # every clause an agency is shown beside is cited
            needed = {cid: None for a in agencies.values() for cid in a.clause_ids[:1]}  # ordered, each once
            by_id = {c.clause.clause_id: c for p in parts for c in p.citations}
            have = {c.clause.clause_id for c in cites}
            missing = [by_id[cid] for cid in needed if cid not in have and cid in by_id]
            if missing:
                keep = [c for c in cites if c.clause.clause_id in needed]
                rest = [c for c in cites if c.clause.clause_id not in needed]
                cites = tuple((keep + missing + rest)[: max(n, len(keep) + len(missing))])
            label = "({}) {}: {}" if q.english else "（{}）{}：{}"
            text = "\n".join(label.format(i, p.query, p.answer) for i, p in enumerate(parts, 1))
            # one part's agencies, beside its best clause cited first: that part's own account of them;
            # agencies from several parts: each beside the cited clauses that print it
            lead = ordered[0]
            if not agencies:
                source = None
            elif set(agencies) == {a.name for a in lead.agencies} and cites[0] is lead.citations[0]:
                source = lead.agencies_source
            else:
                source = "cited_clauses"
            return replace(
                whole, answerable=True, answer=text, message="", agencies=tuple(agencies.values()),
                citations=cites, closest=(), refusal=None, coverage=min(p.coverage for p in parts),
                confidence=min(p.confidence or 0.0 for p in parts), agencies_source=source, parts=parts,
            )
        if whole.answerable:
            return replace(whole, parts=parts)
        refused = next(p for p in parts if not p.answerable)
        reason, message = whole.refusal, whole.message
        if refused.refusal is not None and refused.refusal.kind != "no_match":
            reason = refused.refusal
            quote = '"{}": {}' if q.english else "「{}」{}"
            message = quote.format(refused.query, refused.message)
        closest = _interleave([p.citations or p.closest for p in parts], n)
        return replace(whole, refusal=reason, message=message, closest=closest or whole.closest, parts=parts)

    def _answer(self, q: AnalysedQuestion, searcher: Searcher, as_of: dt.date, top_k: int) -> Answer:
        """One question's answer from its own evidence."""
        query = q.raw
        if q.reverse_agency:
            return self._reverse(q, searcher, as_of)
        result = searcher.search(q, top_k=top_k)
        hits = self.ranker.rank(q, result.hits)
        if _asks_document_dates(q):
            return self._document_facts(q, result, hits, as_of)
        tr = q.translation
        matched = q.keyword_text
        english = q.english

        def refuse(reason: Refusal, verdict: Verdict | None = None) -> Answer:
            closest = tuple(self.cite(h.clause, matched, as_of, h.score) for h in hits[:3])
            return Answer(
                query, result.mode, q.intent, False, "", reason.message(english), (), (), closest,
                round((verdict.evidence if verdict else {}).get("cov1", 0.0), 4), result.notice, tr, refusal=reason,
                confidence=verdict.probability if verdict else 0.0, evidence=verdict.evidence if verdict else {},
                question=q,
            )

        if english and result.mode == "lexical" and not tr:
            return refuse(Refusal("language"))
        verdict = self.judge.judge(q, hits, result.dense_gap, list(result.hits))
        if not verdict.answerable:
            return refuse(Refusal(verdict.refusal_kind or "no_match", verdict.refusal_detail), verdict)

        selected = self.composer.support_order(hits, as_of) if q.intent == "support" else hits
        citations = tuple(self.cite(h.clause, matched, as_of, h.score) for h in selected[: self.config.citations])
        agencies: tuple[AgencyEvidence, ...] = ()
        source_kind = None
        if q.intent == "agency":
            found, source, from_best = self.composer.agency_answer(hits)
            agencies = tuple(found)
            source_kind = None if source is None else ("best_clause" if from_best else "nearest_clause")
            src_cite = self.cite(source.clause, matched, as_of, source.score) if source else None
            text = self.composer.agency_text(q, self.cite(hits[0].clause, matched, as_of, hits[0].score), agencies, src_cite, from_best)
            if source is not None and not from_best and all(c.clause is not source.clause for c in citations):
                citations = (*citations[: self.config.citations - 1], src_cite)
        elif q.intent == "support":
            agencies = tuple(self._support_agencies(citations))
            source_kind = "cited_clauses" if agencies else None
            text = self.composer.support_text(q, citations)
        else:
            text = self.composer.plain_text(q, citations[0])
        return Answer(
            query=query,
            mode=result.mode,
            intent=q.intent,
            answerable=True,
            answer=text,
            message="",
            agencies=agencies,
            citations=citations,
            coverage=round(verdict.evidence.get("cov1", 0.0), 4),
            notice=result.notice,
            translation=tr,
            confidence=verdict.probability,
            evidence=verdict.evidence,
            agencies_source=source_kind,
            question=q,
        )

    def _document_facts(self, q: AnalysedQuestion, result, hits, as_of: dt.date) -> Answer:
        """'沪府办发〔2025〕5号是哪天印发的?': a document's own dates come from its record, with its first
        clause (or the best clause of that document found) cited."""
        doc = self.corpus.document(q.documents[0])
        own = [h for h in hits if h.clause.doc_id == doc.doc_id]
        clause = own[0].clause if own else next(c for c in self.corpus.clauses if c.doc_id == doc.doc_id)
        cite = self.cite(clause, q.keyword_text, as_of, own[0].score if own else None)
        text = document_facts(doc, cite.status, cite.citation, q.english)
        if _VALIDITY.search(q.text) and not (doc.valid_from or doc.valid_until or doc.plan_period):
            # asked whether it is in force or until when, of a document that prints no period of validity:
            # its record has nothing to answer with but its signing date, which is not what was asked
            reason = Refusal("validity_not_stated", doc.title)
            return Answer(
                q.raw, result.mode, q.intent, False, "", f"{reason.message(q.english)} {text}", (), (), (cite,),
                notice=result.notice, translation=q.translation, refusal=reason, confidence=0.0, question=q,
            )
        return Answer(
            query=q.raw, mode=result.mode, intent=q.intent, answerable=True, answer=text, message="", agencies=(),
            citations=(cite,), notice=result.notice, translation=q.translation, confidence=1.0, question=q,
        )

    def _support_agencies(self, citations: tuple[Citation, ...]) -> list[AgencyEvidence]:
        """The agencies responsible for the measures cited (first three), each with the clauses that print it."""
        order: dict[str, list[str]] = {}
        agency_of: dict[str, Agency | None] = {}
        lead: set[str] = set()
        for c in citations[:3]:
            for pos, printed in enumerate(lead_order(c.clause)):
                a = self.directory.resolve(printed)
                key = a.name if a else printed
                agency_of[key] = a
                order.setdefault(key, []).append(c.clause.clause_id)
                if pos == 0:
                    lead.add(key)
        return [
            AgencyEvidence(k, agency_of[k], tuple(dict.fromkeys(ids)), float(len(ids)), lead=k in lead)
            for k, ids in order.items()
        ]

    def _reverse(self, q: AnalysedQuestion, searcher: Searcher, as_of: dt.date) -> Answer:
        """'市民政局负责哪些事?': every clause that lists the agency, grouped by document."""
        agency = q.agencies[0]
        names = set(agency.names)
        groups: dict[str, list[Citation]] = {}
        for c in self.corpus.clauses:
            if names & set(c.agencies):
                groups.setdefault(c.doc_id, []).append(self.cite(c, q.text, as_of, 1.0))
        docs = tuple((doc, tuple(cs)) for doc, cs in groups.items())
        n = sum(len(c) for _, c in docs)
        cites = tuple(c for _, cs in docs for c in cs)
        mode, notice = searcher.resolve_mode()
        if q.english:
            text = f"{agency.english_name or agency.name} ({agency.name}) is listed as responsible in {n} clauses of {len(docs)} documents."
        else:
            text = f"{agency.name}（{agency.full_name}）在{len(docs)}份文件的{n}条条款中列为责任单位。"
        return Answer(
            query=q.raw,
            mode=mode,
            intent=q.intent,
            answerable=bool(cites),
            answer=text,
            message="" if cites else ("No clause lists this agency." if q.english else "文件中没有列出该部门负责的条款。"),
            agencies=(AgencyEvidence(agency.name, agency, tuple(c.clause.clause_id for c in cites), float(n), lead=True),),
            citations=cites,
            notice=notice,
            reverse_agency=agency,
            reverse_documents=docs,
            confidence=1.0 if cites else 0.0,
            agencies_source="listed_clauses",
            question=q,
        )


def _interleave(lists: list[tuple[Citation, ...]], n: int) -> tuple[Citation, ...]:
    """The first of each list, then the second of each…, each clause once, at most ``n``."""
    out: dict[str, Citation] = {}
    for rank in range(max((len(x) for x in lists), default=0)):
        for x in lists:
            if rank < len(x):
                out.setdefault(x[rank].clause.clause_id, x[rank])
    return tuple(out.values())[:n]


def _asks_document_dates(q: AnalysedQuestion) -> bool:
    """When one document named was issued, takes effect or expires: its record answers."""
    return len(q.documents) == 1 and q.about_document_date and ("date" in q.asks or bool(_VALIDITY.search(q.text)))
