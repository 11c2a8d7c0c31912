"""Answers: the clauses that answer a question, their agencies, support measures with their status,
checkable citations — or an honest "not in these documents"."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from policyqa.corpus import Clause, Corpus
from policyqa.index.tokenize import JiebaTokenizer, Tokenizer, normalize_for_search, user_dictionary

from .agencies import Agency, AgencyDirectory
from .citation import Highlight, best_sentence, citation_string
from .intent import asks_what_agency_does, classify_intent
from .scope import (
    PlaceNames,
    city_matter,
    missing_amount,
    missing_date,
    missing_number,
    missing_procedure,
    other_document,
    personal_procedure,
)
from .search import Hit, Searcher
from .status import DocStatus, document_status
from .translate import Translation

_SUPPORT_WORDS = re.compile(r"支持|补贴|补助|奖励|奖补|扶持|资助|资金|贷款|贴息|融资|减免|免征|优惠|券|基金|平台|便利|审批|给予|予以")
_HAS_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

@dataclass(frozen=True)
class AnswerConfig:
    """Calibrated on the dev half of the question set (see README)."""

    min_coverage: float = 0.15  # IDF-weighted share of the question's terms found in the best clause
    min_coverage_en: float = 0.12  # the same for an English question, over its translated words (dev)
    agency_sources: int = 1  # top clauses (with a 责任单位 list) whose agencies make up the answer
    agency_votes: int = 3  # top clauses whose lists order those agencies and add their clause ids
    citations: int = 5


# Why a question is not answered → (English, Chinese) message; {detail} is the place, title or term.
_NOT_FOUND = (
    "Sorry, these service-industry policy documents do not answer this question. The Shanghai 12345 citizen "
    "hotline can direct you to the right office.",
    "抱歉，这几份服务业政策文件中没有找到能回答这个问题的条款。建议咨询12345市民服务热线或相关部门。",
)
REFUSALS: dict[str, tuple[str, str]] = {
    "no_match": _NOT_FOUND,
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
    "figure_not_stated": (
        "The documents mention this (the closest clauses are below) but do not give the figure asked for.",
        "文件提到了相关内容（见下方最接近的条款），但没有给出所问的具体数字。",
    ),
    "procedure_not_stated": (
        "The documents set the policy (the closest clauses are below) but do not describe how or where to "
        "apply; the responsible agency or the Shanghai 12345 hotline can tell you.",
        "文件规定了相关政策（见下方最接近的条款），但没有写明申请条件和办理流程，请咨询主管部门或12345市民服务热线。",
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
    clause_ids: tuple[str, ...]
    evidence: float


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


class Answerer:
    def __init__(
        self,
        corpus: Corpus,
        directory: AgencyDirectory,
        config: AnswerConfig | None = None,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        self.corpus = corpus
        self.directory = directory
        self.config = config or AnswerConfig()
        # the keyword leg's tokenizer (same corpus dictionary), so coverage sees the words search saw
        self._tok = tokenizer or JiebaTokenizer(user_dictionary(corpus.clauses))
        self._clause_tokens: dict[str, set[str]] = {}
        df: Counter[str] = Counter()
        for c in corpus.clauses:
            toks = set(self._tok.tokenize("\n".join([*c.section_path, c.heading or "", c.text])))
            self._clause_tokens[c.clause_id] = toks
            df.update(toks)
        n = len(self._clause_tokens)
        self._idf = {t: math.log(1 + n / d) for t, d in df.items()}
        self._idf_unknown = math.log(1 + n)
        # citation strings never change for a corpus: computed once, not on every request
        self._citations = {c.clause_id: citation_string(c, corpus.document(c.doc_id), corpus) for c in corpus.clauses}
        self._renderings: dict[str, list[str]] = {}
        all_text = "\n".join(normalize_for_search("\n".join([*c.section_path, c.text])) for c in corpus.clauses)
        self._titles = [d.document.title for d in corpus.documents]
        self._places = PlaceNames(all_text, self._tok.jieba() if isinstance(self._tok, JiebaTokenizer) else None)

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every token the keyword tokenizer finds in the corpus."""
        return frozenset(self._idf)

    # --- evidence ----------------------------------------------------------------------------

    def coverage(self, query: str, clause: Clause, tokens: set[str] | None = None) -> float:
        """IDF-weighted share of the question's content words that the clause (with its headings) contains.

        Words the corpus never uses weigh most, so a question about passports cannot be 'covered'.
        """
        toks = tokens if tokens is not None else set(self._tok.tokenize(query))
        if not toks:
            return 0.0
        have = self._clause_tokens.get(clause.clause_id, set())
        text = clause.text
        total = got = 0.0
        for t in toks:
            w = self._idf.get(t, self._idf_unknown)
            total += w
            if t in have:
                got += w
            elif t not in self._idf and _HAS_CJK.search(t):
                # a word the corpus never uses (餐厅 for 餐饮): half credit for the characters it shares
                got += 0.5 * w * sum(ch in text for ch in t) / len(t)
        return got / total

    def coverage_translated(self, translation: Translation, clause: Clause) -> float:
        """Coverage of an English question: each English word counts once, found when any of its Chinese
        renderings is in the clause, weighted by the IDF of the rendering found (else of the rarest)."""
        have = self._clause_tokens.get(clause.clause_id, set())
        total = got = 0.0
        for _, renderings in translation.terms:
            best_w, found = 0.0, False
            for zh in renderings:
                toks = self._rendering_tokens(zh)
                w = max(self._idf.get(t, self._idf_unknown) for t in toks)
                if all(t in have for t in toks):
                    if not found or w > best_w:
                        best_w, found = w, True
                elif not found:
                    best_w = max(best_w, w)
            total += best_w
            got += best_w if found else 0.0
        return got / total if total else 0.0

    def _rendering_tokens(self, zh: str) -> list[str]:
        """A translated term's tokens; renderings are words of the corpus, so the cache stays bounded."""
        toks = self._renderings.get(zh)
        if toks is None:
            toks = self._renderings[zh] = self._tok.tokenize(zh) or [zh]
        return toks

    def refusal_reason(
        self, query: str, tokens: set[str], hits: list[Hit], cov: float, floor: float, english: bool
    ) -> Refusal | None:
        """Why the clauses found do not answer the question (its tokens given), or None when they do."""
        if not hits:
            return Refusal("no_match")
        if term := personal_procedure(query, hits[0].clause.text, tokens):
            return Refusal("personal_procedure", term)
        if term := city_matter(query, hits[0].clause.text, tokens):
            return Refusal("city_matter", term)
        places = self._places.foreign_en(query) if english else self._places.foreign(normalize_for_search(query))
        if places:
            return Refusal("other_place", places[0])
        if title := other_document(query, self._titles):
            return Refusal("other_document", title)
        found = [h.clause.text for h in hits[:3]]
        if missing_amount(query, found):
            return Refusal("amount_not_stated")
        if missing_date(query, found):
            return Refusal("date_not_stated")
        if missing_number(query, found):
            return Refusal("figure_not_stated")
        if missing_procedure(query, found):
            return Refusal("procedure_not_stated")
        if cov < floor:
            return Refusal("no_match")
        return None

    def cite(self, clause: Clause, query: str | None, as_of: dt.date, score: float | None = None) -> Citation:
        """A clause as evidence: its citation, the sentence best matching the query, its document's status."""
        return Citation(
            clause=clause,
            score=score,
            citation=self._citations[clause.clause_id],
            highlight=best_sentence(clause, query) if query else None,
            status=document_status(self.corpus.document(clause.doc_id), as_of),
        )

    def rank_agencies(self, hits: list[Hit]) -> list[AgencyEvidence]:
        """The agencies of the best clause, ordered by their evidence across the top clauses: clause rank,
        how many clauses name them, and being listed first (the first unit of a list usually leads)."""
        with_list = [h for h in hits if h.clause.agencies]
        answer_keys: set[str] = set()
        evidence: dict[str, float] = {}
        clauses: dict[str, list[str]] = {}
        agency_of: dict[str, Agency | None] = {}
        for rank, h in enumerate(with_list[: max(self.config.agency_votes, self.config.agency_sources)], 1):
            for pos, printed in enumerate(h.clause.agencies):
                a = self.directory.resolve(printed)
                key = a.name if a else printed
                agency_of[key] = a
                if rank <= self.config.agency_sources:
                    answer_keys.add(key)
                # the best clause dominates (1/rank²); its first-listed unit leads (1.0 vs 0.6)
                evidence[key] = evidence.get(key, 0.0) + (1.0 / rank**2) * (1.0 if pos == 0 else 0.6)
                clauses.setdefault(key, []).append(h.clause.clause_id)
        ranked = sorted(answer_keys, key=lambda k: (-evidence[k], k))
        return [AgencyEvidence(k, agency_of[k], tuple(dict.fromkeys(clauses[k])), round(evidence[k], 4)) for k in ranked]

    # --- the answer --------------------------------------------------------------------------

    def ask(self, searcher: Searcher, query: str, *, as_of: dt.date | None = None, top_k: int = 10) -> Answer:
        as_of = as_of or dt.date.today()
        intent = classify_intent(query)
        result = searcher.search(query, top_k=top_k)
        hits = list(result.hits)
        english = not _HAS_CJK.search(query)

        reverse = self._reverse(query, as_of) if intent == "agency" and asks_what_agency_does(query) else None
        if reverse is not None:
            agency, groups = reverse
            n = sum(len(c) for _, c in groups)
            cites = tuple(c for _, cs in groups for c in cs)
            return Answer(
                query=query,
                mode=result.mode,
                intent=intent,
                answerable=bool(cites),
                answer=f"{agency.name}（{agency.full_name}）在{len(groups)}份文件的{n}条条款中列为责任单位。",
                message="" if cites else "文件中没有列出该部门负责的条款。",
                agencies=(AgencyEvidence(agency.name, agency, tuple(c.clause.clause_id for c in cites), float(n)),),
                citations=cites,
                notice=result.notice,
                reverse_agency=agency,
                reverse_documents=groups,
            )

        tr = result.translation
        matched = result.matched
        if english and result.mode == "lexical" and not tr:
            closest = tuple(self.cite(h.clause, matched, as_of, h.score) for h in hits[:3])
            reason = Refusal("language")
            return Answer(
                query, result.mode, intent, False, "", reason.message(english),
                (), (), closest, 0.0, result.notice, tr, refusal=reason,
            )
        tokens = set(self._tok.tokenize(query))
        if hits:
            cov = self.coverage_translated(tr, hits[0].clause) if tr else self.coverage(query, hits[0].clause, tokens)
        else:
            cov = 0.0
        floor = self.config.min_coverage_en if tr else self.config.min_coverage
        reason = self.refusal_reason(query, tokens, hits, cov, floor, english)
        if reason is not None:
            closest = tuple(self.cite(h.clause, matched, as_of, h.score) for h in hits[:3])
            return Answer(
                query, result.mode, intent, False, "", reason.message(english),
                (), (), closest, cov, result.notice, tr, refusal=reason,
            )
        selected = hits
        if intent == "support":
            # measures that offer something first; the rest of the ranking keeps its order
            offers = [h for h in hits if _SUPPORT_WORDS.search(h.clause.text)]
            selected = offers + [h for h in hits if h not in offers]
        citations = tuple(self.cite(h.clause, matched, as_of, h.score) for h in selected[: self.config.citations])
        agencies = tuple(self.rank_agencies(hits)) if intent == "agency" else ()
        return Answer(
            query=query,
            mode=result.mode,
            intent=intent,
            answerable=True,
            answer=self._compose(intent, citations, agencies, english),
            message="",
            agencies=agencies,
            citations=citations,
            coverage=round(cov, 4),
            notice=result.notice,
            translation=tr,
        )

    def _compose(
        self, intent: str, citations: tuple[Citation, ...], agencies: tuple[AgencyEvidence, ...], english: bool = False
    ) -> str:
        """A short extractive answer: the cited sentences, the agencies as printed, the status — no new prose.
        An English question gets English labels and agency names; the quotes stay as printed."""
        best = citations[0]
        quote = best.highlight.text if best.highlight else best.clause.text[:120]

        def flag(c: Citation) -> str:
            if c.status.current:
                return ""
            return f" (note: {c.status.label_en})" if english else f"（注意：{c.status.label}）"

        if intent == "agency" and agencies:
            if english:
                names = "; ".join(f"{a.agency.english_name} ({a.name})" if a.agency else a.name for a in agencies)
                return f"Responsible: {names}. Source: {best.citation}{flag(best)}: “{quote}”"
            names = "、".join(a.name for a in agencies)
            return f"责任单位：{names}。依据{best.citation}：“{quote}”"
        if intent == "support":
            lines = []
            for c in citations[:3]:
                q = c.highlight.text if c.highlight else c.clause.text[:80]
                lines.append(f"{c.citation}{flag(c)}{': ' if english else '：'}“{q}”")
            return "\n".join(lines)
        return f"{best.citation}{flag(best)}{': ' if english else '：'}“{quote}”"

    def _reverse(self, query: str, as_of: dt.date):
        found = self.directory.find_in(query)
        if not found:
            return None
        agency = found[0]
        names = set(agency.names)
        groups: dict[str, list[Citation]] = {}
        for c in self.corpus.clauses:
            if names & set(c.agencies):
                groups.setdefault(c.doc_id, []).append(self.cite(c, query, as_of, 1.0))
        return agency, tuple((doc, tuple(cs)) for doc, cs in groups.items())
