"""What kind of information a question asks for, and whether a clause states it: small, general rules.

These are question words and the forms in which Chinese policy text prints figures — not topics. They
feed the answerability judge (`qa/judge.py`) as evidence: a question after a sum of money whose best
clauses print no sum is less likely to be answered by them. They never refuse a question on their own.

Two rules do decide alone, because a reviewer can accept them without seeing any question: a question
that names a place these (Shanghai) documents never mention, or a 《document》 that is not one of them.
Both are detected in `qa/analysis.py`; `other_document` below is the title comparison.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

# --- what a question asks for ---------------------------------------------------------------------
# Interrogatives only: 多少钱 asks for a sum, 收费 or 费用 alone names a topic and asks for nothing.

ASKS = {
    "amount": re.compile(
        r"多少钱|多少元|(?:多少|几)(?:万|千|百)元?|金额(?:是|有)?多(?:少|大)|额度(?:是|有)?多(?:少|大)"
        r"|(?:奖励|补贴|补助|资助|奖补)(?:最多|最高|一般)?(?:能|可以)?(?:有|拿|给|发|是)?多少"
        r"|(?:能|可以|最多|最高)(?:拿|领|给|补|奖)多少"
        r"|\bhow much (?:money|funding|subsidy|is the (?:subsidy|reward|grant|voucher)|does it pay|can (?:i|we) get)\b"
        r"|\bwhat (?:is the )?amount\b|\bhow much is\b",
        re.I,
    ),
    "share": re.compile(
        r"(?:比例|比重|占比|份额)\S{0,4}(?:多少|多大|几)|多大(?:的)?比例|百分之几|几成"
        r"|\bwhat (?:percentage|share|proportion)\b|\bwhat per ?cent\b",
        re.I,
    ),
    "count": re.compile(
        r"(?:多少|(?<![哪])几)[个家项所名位条批座只场处次天年]|\bhow many\b",
        re.I,
    ),
    "date": re.compile(r"什么时候|何时|哪天|哪一天|几号|几月|哪一年|哪年|\bwhen\b|\bwhat (?:date|day|year)\b|\bdates?\b", re.I),
    "procedure": re.compile(
        r"(?:什么|哪些)条件|申报条件|申请条件|(?:哪些|什么)材料|(?:申请|申报|办理)(?:流程|程序|手续)"
        r"|(?:怎么|怎样|如何)(?:申请|申报|办理|报名|领取|备案)|[去在到]哪(?:里|儿)?(?:申请|申报|办理|报名)"
        r"|\bhow (?:do|can|should) (?:i|we) (?:apply|register|claim)\b|\bwhere (?:do|can|should) (?:i|we) (?:apply|register)\b"
        r"|\bapplication (?:procedure|process)\b|\beligibility\b|\bwhat documents\b",
        re.I,
    ),
}

# A date question about a document itself (issued, in force, expiring): every citation carries the
# document's dates, so such a question is answered from the document record, not from a clause.
ABOUT_DOCUMENT_DATE = re.compile(
    r"发布|印发|发的|出台|施行|实施|生效|有效期|失效|到期|文号"
    r"|\btake effect|\bin force\b|\bissued\b|\bpublished\b|\bvalid\b|\bexpire",
    re.I,
)


def asked_kinds(text: str) -> frozenset[str]:
    """The kinds of information a question asks for: amount, share, count, date, procedure."""
    kinds = {k for k, rx in ASKS.items() if rx.search(text)}
    if "share" in kinds:
        kinds.discard("count")  # 占比多少个百分点 asks for a share
    return frozenset(kinds)


# --- what a clause states ---------------------------------------------------------------------------

_NUMERAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CN_COUNT = re.compile(r"[一二两三四五六七八九十百千万]+[个家项年天次所名位条批座只场处]")
STATES = {
    "amount": re.compile(r"[0-9][0-9,.]*\s*[万亿]?元|[一二三四五六七八九十百千两]+[万亿]?元"),
    "share": re.compile(r"%|百分之|[一二三四五六七八九]成|百分点"),
    "date": re.compile(r"[0-9一二三四五六七八九十]+\s*月|[0-9]+\s*日|年底|年初|上半年|下半年|之日起|起施行|起实施"),
    "year": re.compile(r"(?:19|20)[0-9]{2}\s*年|十[一二三四五六七八九]五"),
    "procedure": re.compile(r"申报指南|申请条件|申报条件|办理流程|受理|所需材料|窗口|网址|登录|热线|一网通办"),
}


def states_count(text: str) -> bool:
    """A number that counts something: 10个, 300项, 45%, 三批 — a bare year (2025年) does not count."""
    for m in _NUMERAL.finditer(text):
        digits = m.group(0)
        if not (len(digits) == 4 and text[m.end() : m.end() + 1] == "年"):
            return True
    return bool(_CN_COUNT.search(text))


def states(kind: str, text: str, question: str = "") -> bool:
    """Whether a clause's text (NFKC-normalised) prints the kind of information asked for."""
    if kind == "count":
        return states_count(text)
    if kind == "date":
        # a question after a year is answered by a year; after a day, only by a month or a day
        if re.search(r"哪一?年|\bwhat year\b", question, re.I) and STATES["year"].search(text):
            return True
        return bool(STATES["date"].search(text))
    return bool(STATES[kind].search(text))


def missing_kinds(asked: frozenset[str], clause_texts: list[str], question: str = "") -> list[str]:
    """The kinds asked for that none of the clauses states, in a fixed order."""
    order = ("amount", "share", "count", "date", "procedure")
    return [k for k in order if k in asked and not any(states(k, t, question) for t in clause_texts)]


# --- documents ------------------------------------------------------------------------------------

_TITLE = re.compile(r"《([^》]{4,60})》")
DOC_NUMBER = re.compile(r"([\u4e00-\u9fff]{1,6}?)[〔\[(（【]?((?:19|20)[0-9]{2})[〕\])）】]?\s*([0-9]{1,4})\s*号")


def titles_named(text: str) -> list[str]:
    return _TITLE.findall(text)


def other_document(query: str, titles: list[str]) -> str | None:
    """A document the question names by its 《title》 that is not one of these: its contents are not here
    even when one of these documents cites it."""
    for t in titles_named(query):
        if not any(_similar(t, title) for title in titles):
            return t
    return None


def doc_number_key(text: str) -> tuple[str, str, str] | None:
    """沪府办发〔2025〕5号 / 沪府办发[2025]5号 → ('沪府办发', '2025', '5'); the prefix may carry words
    before it (是沪府办发), so compare prefixes with endswith (see `same_doc_number`)."""
    m = DOC_NUMBER.search(text)
    return (m.group(1), m.group(2), m.group(3).lstrip("0")) if m else None


def same_doc_number(asked: tuple[str, str, str], printed: tuple[str, str, str]) -> bool:
    return asked[1:] == printed[1:] and asked[0].endswith(printed[0])


def _similar(a: str, b: str) -> bool:
    return a in b or b in a or SequenceMatcher(None, a, b).ratio() >= 0.8
