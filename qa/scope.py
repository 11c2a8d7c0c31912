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
import tomllib
from difflib import SequenceMatcher
from pathlib import Path

from .intent import CUES

# --- what a question asks for, and whether a clause states it ------------------------------------
# The forms live in qa/data/asks.toml, each kind with the reason it exists. Interrogatives only: 多少钱 asks
# for a sum, 收费 or 费用 alone names a topic and asks for nothing.

ASKS_PATH = Path(__file__).resolve().parent / "data" / "asks.toml"
KINDS = ("amount", "share", "count", "date", "procedure", "contact")  # the order missing kinds are reported in
# "agency" (who is responsible) is asked in the words of intent.CUES["agency"] and stated by a clause's printed
# agency list, a record field, so the judge checks it on the clauses themselves (`qa/judge.py`).


def _load_kinds(path: Path = ASKS_PATH) -> tuple[dict[str, re.Pattern], dict[str, re.Pattern]]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    asks = {k: re.compile("|".join(f"(?:{p})" for p in raw[k]["asks"]), re.I) for k in KINDS}
    states = {k: re.compile("|".join(f"(?:{p})" for p in raw[k]["states"]), re.I) for k in KINDS if raw[k]["states"]}
    return asks, states


ASKS, STATES = _load_kinds()
STATES["year"] = re.compile(r"(?:19|20)[0-9]{2}\s*年|十[一二三四五六七八九]五")

# A date question about a document itself (issued, in force, expiring): every citation carries the
# document's dates, so such a question is answered from the document record, not from a clause.
ABOUT_DOCUMENT_DATE = re.compile(
    r"发布|印发|发的|出台|施行|实施|生效|有效期|失效|到期|文号"
    r"|\btake effect|\bin force\b|\bissued\b|\bpublished\b|\bvalid\b|\bexpire",
    re.I,
)


# 几 asks "how many" only in the part of a question that asks: the part ending in a question mark or ending the
# question, with no other question word (几份文件里怎么说的 'how do the several documents put it', 引进了几家企业，
# 有奖励吗 'I brought in several firms; is there a reward') — elsewhere it is the indefinite 'several'.
_SEGMENT = re.compile(r"[^，,；;。！!？?\n]+[？?]?")
_OTHER_QUESTION_WORD = re.compile(r"怎么|怎样|如何|咋|什么|为什么|是否|吗|呢|哪|有没有|能不能|可不可以|是不是")


def _without_indefinite_ji(text: str) -> str:
    segments = [m.group(0) for m in _SEGMENT.finditer(text) if m.group(0).strip()]
    out = []
    for i, seg in enumerate(segments):
        asking = seg.endswith(("？", "?")) or i == len(segments) - 1
        if "几" in seg and (not asking or _OTHER_QUESTION_WORD.search(seg.replace("哪几", ""))):
            seg = seg.replace("几", "若")  # 若 ('some'): the indefinite reading, which no pattern asks with
        out.append(seg)
    return "，".join(out)


def asked_kinds(text: str) -> frozenset[str]:
    """The kinds of information a question asks for: amount, share, count, date, procedure, contact, agency."""
    plain = _without_indefinite_ji(text) if "几" in text else text
    kinds = {k for k, rx in ASKS.items() if rx.search(plain)}
    if CUES["agency"].search(text):
        kinds.add("agency")
    if kinds & {"share", "amount"}:
        kinds.discard("count")  # 占比多少, 补贴多少: the 多少 asks for the share or the sum
    return frozenset(kinds)


_NUMERAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CN_COUNT = re.compile(r"[一二两三四五六七八九十百千万]+[个家项年天次所名位条批座只场处张人户间套台辆]")


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
        if re.search(r"哪一?年|几年|\bwhat year\b|\bby what year\b", question, re.I) and STATES["year"].search(text):
            return True
        return bool(STATES["date"].search(text))
    return bool(STATES[kind].search(text))


def missing_kinds(asked: frozenset[str], clause_texts: list[str], question: str = "") -> list[str]:
    """The kinds asked for that none of the clauses states, in a fixed order."""
    return [k for k in KINDS if k in asked and not any(states(k, t, question) for t in clause_texts)]


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
