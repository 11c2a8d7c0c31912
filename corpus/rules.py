"""Small pure functions for the textual rules of Shanghai policy documents.

Nothing here reads files or keeps state, so each rule can be tested on its own.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

# --- normalisation --------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Fold full-width digits, letters and punctuation to their ASCII forms (NFKC) for matching."""
    return unicodedata.normalize("NFKC", text)


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def line_width(line: str) -> float:
    """Printed width of a line in full-width character cells.

    The published PDFs set punctuation full-width even where the conversion turned it into ASCII,
    so only ASCII letters, digits and spaces count as half cells.
    """
    return sum(0.5 if (ch.isascii() and (ch.isalnum() or ch == " ")) else 1.0 for ch in line)


# --- numbers --------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_to_int(numeral: str) -> int:
    """Chinese numeral (一 … 九十九) to int: 十 → 10, 十二 → 12, 二十一 → 21."""
    if not numeral:
        raise ValueError("empty numeral")
    if "十" not in numeral:
        if len(numeral) != 1 or numeral not in _CN_DIGITS:
            raise ValueError(f"not a Chinese numeral: {numeral!r}")
        return _CN_DIGITS[numeral]
    tens, _, units = numeral.partition("十")
    if (tens and tens not in _CN_DIGITS) or (units and units not in _CN_DIGITS) or len(tens) > 1 or len(units) > 1:
        raise ValueError(f"not a Chinese numeral: {numeral!r}")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def to_int(digits: str) -> int:
    """Arabic digits, full- or half-width, or a Chinese numeral, to int."""
    folded = normalize(digits).strip()
    if folded.isdigit():
        return int(folded)
    return cn_to_int(folded)


# --- numbering ------------------------------------------------------------------------------

_CN = "一二三四五六七八九十"
_DIG = "0-9０-９"

# Level comes from the numbering style, never from Markdown '#' depth.
NUMBERING_PATTERNS: tuple[tuple[int, str, re.Pattern[str]], ...] = (
    (1, "一、", re.compile(rf"^([{_CN}]+)、")),
    (2, "（一）", re.compile(rf"^[（(]([{_CN}]+)[)）]")),
    (3, "1.", re.compile(rf"^([{_DIG}]{{1,2}})\s*[.．、](?![{_DIG}])")),
    (4, "(1)", re.compile(rf"^[（(]([{_DIG}]{{1,2}})[)）]")),
)
BOX_PATTERN = re.compile(rf"^专栏\s*([{_DIG}]+)\s*[:：]")
BOX_LEVEL = 3.5  # a boxed 专栏 sits inside the numbered item it illustrates


@dataclass(frozen=True, slots=True)
class Numbering:
    level: float
    value: int
    marker: str  # the marker as printed, e.g. "（三）" or "６．"


def match_numbering(line: str) -> Numbering | None:
    """The numbering marker at the start of ``line`` (already stripped of markup), if any."""
    for level, _style, pattern in NUMBERING_PATTERNS:
        m = pattern.match(line)
        if m:
            try:
                return Numbering(level, to_int(m.group(1)), m.group(0))
            except ValueError:
                return None
    m = BOX_PATTERN.match(line)
    if m:
        return Numbering(BOX_LEVEL, to_int(m.group(1)), m.group(0))
    return None


# --- paragraphs -----------------------------------------------------------------------------

TERMINAL = "。.；;：:！!？?)）"
MARKUP_RE = re.compile(r"^#+\s*|\*\*")
PAGE_NUMBER_RE = re.compile(r"^\s*[—－-]\s*[0-9０-９]+\s*[—－-]\s*$")


def strip_markup(line: str) -> str:
    """Remove Markdown heading marks and bold markers the conversion left behind."""
    return MARKUP_RE.sub("", line).strip(" \u3000\t")


def ends_sentence(line: str) -> bool:
    return bool(line) and line[-1] in TERMINAL


# --- agencies -------------------------------------------------------------------------------

_OPEN, _CLOSE = "(（", ")）"
AGENCY_LIST_RE = re.compile(r"[(（]\s*责\s*任\s*单\s*位\s*[:：]")


def find_agency_list(text: str) -> tuple[int, int, str] | None:
    """Locate a trailing ``(责任单位:…)`` in joined clause text.

    Returns (start, end, inner) where ``text[start:end]`` is the bracketed list and ``inner`` the part
    after the colon. Brackets may be full- or half-width and nest (``浦东新区政府(上海自贸试验区管委会)``).
    Only a list that closes the clause counts: anything but whitespace after it means it is not the
    clause's own list.
    """
    matches = list(AGENCY_LIST_RE.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    depth = 0
    for i in range(m.start(), len(text)):
        ch = text[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth == 0:
                if text[i + 1 :].strip():
                    return None
                return m.start(), i + 1, text[m.end() : i]
    return None


def split_agencies(inner: str) -> tuple[str, ...]:
    """Split an agency list on top-level 、 (not inside brackets), keep printed order, drop repeats."""
    names: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in inner:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        if ch == "、" and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
    names.append("".join(current))
    out: list[str] = []
    for name in names:
        name = re.sub(r"\s+", "", name)
        if name and name not in out:
            out.append(name)
    return tuple(out)


# --- headings -------------------------------------------------------------------------------

HEADING_MAX_CHARS = 26
_SENTENCE_END_RE = re.compile(r"[。.！!？?]")


def split_heading(body: str, *, max_chars: int = HEADING_MAX_CHARS) -> tuple[str | None, bool]:
    """Split off a clause's own title: the leading sentence when it is short.

    Returns (heading, heading_only). ``heading_only`` is true when the whole body is a title with no
    sentence-final punctuation (e.g. ``提升金融服务资源配置能力``).
    """
    body = body.strip()
    if not body:
        return None, True
    m = _SENTENCE_END_RE.search(body)
    if m is None:
        return (body, True) if len(body) <= 60 and "\n" not in body else (None, False)
    head = body[: m.start()]
    if 0 < len(head) <= max_chars and m.end() < len(body):
        return head, False
    return None, False


# --- document metadata ----------------------------------------------------------------------

DOC_NUMBER_RE = re.compile(rf"沪府(?:办)?发\s*〔\s*([{_DIG}]{{4}})\s*〕\s*([{_DIG}]+)\s*号")
DATE_RE = re.compile(rf"([{_DIG}]{{4}})\s*年\s*([{_DIG}]{{1,2}})\s*月\s*([{_DIG}]{{1,2}})\s*日")
VALIDITY_RE = re.compile(
    rf"自\s*(?P<from>[{_DIG}]{{4}}\s*年\s*[{_DIG}]{{1,2}}\s*月\s*[{_DIG}]{{1,2}}\s*日)\s*起(?:施行|实施)"
    rf"[^。.]*?有效期至\s*(?P<until>[{_DIG}]{{4}}\s*年\s*[{_DIG}]{{1,2}}\s*月\s*[{_DIG}]{{1,2}}\s*日)"
)
TITLE_SUFFIXES = ("意见", "措施", "方案", "规划", "办法", "通知", "决定")
PLAN_RE = re.compile(r"“?十([一二三四五六七八九])五”?规划")


def parse_doc_number(text: str) -> str | None:
    """文号 in canonical form, e.g. ``沪府办发〔2025〕5号`` (full-width digits and spaces folded)."""
    m = DOC_NUMBER_RE.search(text)
    if not m:
        return None
    prefix = re.sub(r"\s+", "", m.group(0).split("〔")[0])
    return f"{prefix}〔{to_int(m.group(1))}〕{to_int(m.group(2))}号"


def parse_date(text: str) -> dt.date | None:
    m = DATE_RE.search(text)
    return dt.date(to_int(m.group(1)), to_int(m.group(2)), to_int(m.group(3))) if m else None


def parse_validity(text: str) -> tuple[dt.date, dt.date] | None:
    """``自…起实施，有效期至…`` → (valid_from, valid_until)."""
    m = VALIDITY_RE.search(text)
    if not m:
        return None
    start, until = parse_date(m.group("from")), parse_date(m.group("until"))
    assert start and until
    return start, until


def five_year_plan_period(title: str) -> tuple[int, int] | None:
    """The years a ``“十N五”规划`` covers: the 3rd plan began in 1966 and each lasts five years."""
    m = PLAN_RE.search(title)
    if not m:
        return None
    n = 10 + cn_to_int(m.group(1))
    start = 1966 + 5 * (n - 3)
    return start, start + 4


def clean_inline(text: str) -> str:
    """Drop the spaces a conversion put between CJK characters (``上海市人民政府关于 推进…``)."""
    text = re.sub(r"(?<=[\u4e00-\u9fff“”《》«»])\s+(?=[\u4e00-\u9fff“”《》«»])", "", text)
    return text.strip(" \u3000")


# 文号 prefix → short id prefix (pinyin initials), so ids read like the 文号 they come from.
DOC_ID_PREFIXES = {"沪府发": "hff", "沪府办发": "hfbf"}


def derive_doc_id(doc_number: str | None, stem: str) -> str:
    """Short stable id: ``沪府办发〔2025〕5号`` → ``hfbf2025-5``; without a 文号, the file stem."""
    if doc_number:
        m = re.fullmatch(r"(.+?)〔(\d{4})〕(\d+)号", doc_number)
        if m and m.group(1) in DOC_ID_PREFIXES:
            return f"{DOC_ID_PREFIXES[m.group(1)]}{m.group(2)}-{m.group(3)}"
    return re.sub(r"[^0-9A-Za-z_-]+", "-", stem).strip("-").lower()
