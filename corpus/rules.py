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
    """Chinese numeral (一 … 九百九十九) to int: 十 → 10, 十二 → 12, 二十一 → 21, 一百零二 → 102."""
    if not numeral:
        raise ValueError("empty numeral")
    if any(ch not in _CN_DIGITS and ch not in "十百" for ch in numeral):
        raise ValueError(f"not a Chinese numeral: {numeral!r}")
    if "百" in numeral:
        hundreds, _, rest = numeral.partition("百")
        if len(hundreds) != 1 or hundreds not in _CN_DIGITS or "百" in rest:
            raise ValueError(f"not a Chinese numeral: {numeral!r}")
        rest = rest.lstrip("零〇")
        if rest and "十" not in rest and len(rest) > 1:
            raise ValueError(f"not a Chinese numeral: {numeral!r}")
        low = 0 if not rest else (cn_to_int("一" + rest) if rest.startswith("十") and not numeral.endswith("百" + rest) else cn_to_int(rest))
        return _CN_DIGITS[hundreds] * 100 + low
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
_CNX = "一二三四五六七八九十百零〇两"
# Levels: articles (第X章 > 第X节 > 第X条) sit above the list numbering (一、 > （一） > 1. > (1) > ①), so items
# inside an article nest under it.
PART_LEVEL, CHAPTER_LEVEL, SECTION_LEVEL, ARTICLE_LEVEL = 0.15, 0.2, 0.4, 0.6
NUMBERING_PATTERNS: tuple[tuple[float, str, re.Pattern[str]], ...] = (
    (PART_LEVEL, "第一部分", re.compile(rf"^第([{_CNX}]+|[{_DIG}]{{1,2}})(?:部分|编)(?=\s|$|[\u4e00-\u9fff])")),
    (CHAPTER_LEVEL, "第一章", re.compile(rf"^第([{_CNX}]+|[{_DIG}]{{1,3}})章(?![程节])")),
    (SECTION_LEVEL, "第一节", re.compile(rf"^第([{_CNX}]+|[{_DIG}]{{1,3}})节")),
    (ARTICLE_LEVEL, "第一条", re.compile(rf"^第([{_CNX}]+|[{_DIG}]{{1,3}})条(?![例款件规])")),
    (1, "一、", re.compile(rf"^([{_CN}]+)、")),
    (2, "（一）", re.compile(rf"^[（(]([{_CN}]+)[)）]")),
    # decimal numbering of catalogues and standards (1.1 / 1.1.1): the level follows the number of parts
    (3.6, "1.1.1", re.compile(rf"^(?:[{_DIG}]{{1,2}}[.．]){{2}}([{_DIG}]{{1,2}})(?![{_DIG}.．])(?=\s*[\u4e00-\u9fff（(])(?![万亿元%倍个年月日])")),
    (3.3, "1.1", re.compile(rf"^[{_DIG}]{{1,2}}[.．]([{_DIG}]{{1,2}})(?![{_DIG}.．])(?=\s*[\u4e00-\u9fff（(])(?![万亿元%倍个年月日])")),
    (3, "1.", re.compile(rf"^([{_DIG}]{{1,2}})\s*[.．、](?![{_DIG}])")),
    (4, "(1)", re.compile(rf"^[（(]([{_DIG}]{{1,2}})[)）]")),
    (4, "1)", re.compile(rf"^([{_DIG}]{{1,2}})[)）]")),
    (5, "①", re.compile(r"^([\u2460-\u2473])")),
)
BOX_PATTERN = re.compile(rf"^专栏\s*(?:([{_DIG}]+)\s*[:：]|([一二三四五六七八九十]+)(?:\s*[:：]|\s+|(?=[\u4e00-\u9fff])))")
BOX_LEVEL = 3.5  # a boxed 专栏 sits inside the numbered item it illustrates


@dataclass(frozen=True, slots=True)
class Numbering:
    level: float
    value: int
    marker: str  # the marker as printed, e.g. "（三）" or "６．"
    style: str = ""  # "第一章", "一、", "（一）", "1." …


def match_numbering(line: str) -> Numbering | None:
    """The numbering marker at the start of ``line`` (already stripped of markup), if any."""
    for level, style, pattern in NUMBERING_PATTERNS:
        m = pattern.match(line)
        if m:
            g = m.group(1)
            try:
                value = ord(g) - 0x2460 + 1 if style == "①" else to_int(g)
            except ValueError:
                return None
            marker = m.group(0)
            if level < 1:  # 第X条 is followed by a space or not at all; the space is not part of the marker
                pass
            return Numbering(level, value, marker, style)
    m = BOX_PATTERN.match(line)
    if m:
        return Numbering(BOX_LEVEL, to_int(m.group(1) or m.group(2)), m.group(0), "专栏")
    return None


# --- paragraphs -----------------------------------------------------------------------------

TERMINAL = "。.；;：:！!？?)）"
MARKUP_RE = re.compile(r"^#+\s*|\*\*")
# A line that is only a page marker is page furniture, never text, a title or an issuer: —１— －1－ - 1 -
# (any dash a converter or typesetter uses), 第1页 / 第 2 页 共 9 页.
PAGE_DASHES = "—－\\-–―‒‐‑﹣~～"
PAGE_NUMBER_RE = re.compile(
    rf"^\s*(?:[{PAGE_DASHES}]\s*[0-9０-９]+\s*[{PAGE_DASHES}]|第\s*[0-9０-９]+\s*页(?:\s*[，,/]?\s*共\s*[0-9０-９]+\s*页)?)\s*$"
)


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


# --- agency notes with roles ------------------------------------------------------------------
#
# The forms documents use to say who does a task, each closing the sentence or paragraph it belongs to:
#   （责任单位：A、B）  （责任部门：…）  （牵头单位：A；配合单位：B、C）  （牵头部门：…）  （负责部门：…）
#   （A、B等负责）  （A、B按职责分工负责）  （A牵头，B、C参与）  （A指导，B负责落实）
#   （A、B负责。列第一位者为牵头单位，下同）  — and the explanation may make the first unit the lead from then on.

LEAD, RESPONSIBLE, SUPPORT = "lead", "responsible", "support"
_ROLE_LABEL_RE = re.compile(
    r"^(?P<label>(?:责任|牵头|负责|主责|主办|配合|协办|协助|参与|实施|责任主体|指导|监管)(?:单位|部门|处室|机构|主体)?"
    r"|责任主体)\s*[:：]\s*"
)
_LEAD_FIRST_RE = re.compile(r"(?:列|排|排列)在?(?:第一位|首位)的?(?:者|部门|单位)?为牵头|第一个为牵头|首位为牵头|首位.{0,4}牵头")
_VERB_RE = re.compile(r"(?:等|按职责分工|按职责|分别|共同|依职责)?(?:牵头|负责(?!人)|参与|配合|指导|会同|协助|协同|落实)")
AGENCY_SUFFIXES = (
    "部", "委", "局", "厅", "办", "院", "署", "行", "会", "府", "处", "室", "所", "站", "中心", "部门", "单位", "政府",
    "支队", "大队", "总队", "集团", "公司", "街道", "镇", "乡", "组", "团", "联", "协", "社", "馆", "台", "队", "司", "网",
    "银行", "机构", "各地", "地区", "地方", "市", "区", "县", "省", "平台", "学校", "高校", "企业", "协会", "管委会",
    "办公室", "海关", "税务", "法院", "检察院", "小组", "科", "股", "所",
)
_NAME_RE = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9（）()“”]{2,40}$")


@dataclass(frozen=True, slots=True)
class AgencyNote:
    """One printed agency note: where it is in the text and the units it names, each with a role."""

    start: int
    end: int
    entries: tuple[tuple[str, str], ...]  # (name as printed, role)
    lead_first: bool = False  # the note itself says the first listed unit leads

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.entries)


def looks_like_agency(name: str) -> bool:
    name = re.sub(r"\s+", "", name)
    if not _NAME_RE.match(name) or name.startswith(("以下", "简称", "含", "包括", "不含", "其中")):
        return False
    core = re.sub(r"[（(][^（）()]*[)）]$", "", name)  # 浦东新区政府（上海自贸试验区管委会）
    return core.endswith(AGENCY_SUFFIXES)


def _split_top(inner: str, seps: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in inner:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        if ch in seps and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _role_for(word: str) -> str:
    if "牵头" in word or "主办" in word or "主责" in word:
        return LEAD
    if any(w in word for w in ("配合", "参与", "协办", "协助", "协同")):
        return SUPPORT
    return RESPONSIBLE


def _names(chunk: str) -> list[str] | None:
    names = [re.sub(r"\s+", "", n) for n in _split_top(chunk, "、，,")]
    names = [re.sub(r"^(?:由|请|均由)", "", n).removesuffix("等") for n in names if n]
    if not names or not all(looks_like_agency(n) for n in names):
        return None
    return names


def parse_agency_note(inner: str) -> tuple[tuple[tuple[str, str], ...], bool] | None:
    """The units a bracketed note names, with roles, and whether it makes the first unit the lead;
    None when the bracket is not an agency note (an explanation, an abbreviation, a reference).

    The first part must name units; later parts that do not (``以下均需试点城市政府落实，不再列出``) are the
    note's own explanation and are skipped."""
    entries: list[tuple[str, str]] = []
    lead_first = False
    for part in _split_top(inner, "；;。"):
        m = _ROLE_LABEL_RE.match(part)
        if m:  # a labelled list names units by definition: take them as printed
            label_role = _role_for(m.group("label"))
            got = False
            for chunk in _split_top(part[m.end() :], "，,"):
                v = _VERB_RE.search(chunk)
                role = label_role
                if v is not None and v.start() > 0 and v.end() == len(chunk):  # 责任单位：A牵头，B、C配合
                    role, chunk = _role_for(v.group(0)), chunk[: v.start()]
                names = [n for n in (re.sub(r"\s+", "", x).removesuffix("等") for x in _split_top(chunk, "、")) if n]
                entries += [(n, role) for n in names]
                got = got or bool(names)
            if not got:
                return None
            continue
        pending: list[str] = []  # units listed before the verb they share (A、B，C按职责分工负责)
        ok = True
        found_any = False
        for chunk in _split_top(part, "，,"):
            if _LEAD_FIRST_RE.search(chunk):
                lead_first = True
                continue
            if chunk in ("下同", "以下同"):
                continue
            v = _VERB_RE.search(chunk)
            if v is None:
                names = _names(chunk)
                if names is not None and not found_any:
                    pending += names
                    continue
                if found_any:
                    break  # trailing words of the last unit's duty (…负责落实，加强督导)
                ok = False
                break
            if v.start() == 0:
                if found_any or pending:
                    if pending:
                        entries += [(n, _role_for(v.group(0))) for n in pending]
                        pending = []
                        found_any = True
                    continue
                ok = False
                break
            head = chunk[: v.start()]
            other = None
            if "会同" in v.group(0):  # A会同B负责
                rest = chunk[v.end() :]
                v2 = _VERB_RE.search(rest)
                if v2 and v2.start() > 0:
                    other = rest[: v2.start()]
            names = _names(head)
            if names is None:
                if found_any:
                    break
                ok = False
                break
            role = _role_for(v.group(0))
            entries += [(n, role) for n in pending + names]
            pending = []
            if other:
                more = _names(other)
                if more:
                    entries += [(n, SUPPORT) for n in more]
            found_any = True
        if not ok or (not found_any and not lead_first):
            if entries:
                continue  # an explanation after the units
            return None
    if not entries:
        return None
    return tuple(entries), lead_first


def find_agency_notes(text: str) -> list[AgencyNote]:
    """Every bracketed agency note in ``text`` (full- or half-width brackets, nesting allowed)."""
    notes: list[AgencyNote] = []
    depth, start = 0, -1
    for i, ch in enumerate(text):
        if ch in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif ch in _CLOSE and depth > 0:
            depth -= 1
            if depth == 0 and start >= 0:
                inner = text[start + 1 : i]
                parsed = parse_agency_note(inner) if 2 <= len(inner) <= 400 else None
                if parsed:
                    notes.append(AgencyNote(start, i + 1, parsed[0], parsed[1]))
    return notes


_BARE_LIST_RE = re.compile(
    r"(?:^|(?<=[。；;\n]))[ \u3000]*((?:责任|牵头|配合|负责|主责|协办|参与)(?:单位|部门)[:：][^。\n()（）]{2,300}?)[。；;]?[ \u3000]*(?=$|\n)"
)


def find_bare_agency_lists(text: str) -> list[AgencyNote]:
    """Labelled lists printed without brackets at the end of a line: ``责任单位：市商务委、市财政局``, possibly
    several on one line (``牵头单位：A；配合单位：B``)."""
    out: list[AgencyNote] = []
    for m in _BARE_LIST_RE.finditer(text):
        parsed = parse_agency_note(m.group(1))
        if parsed:
            out.append(AgencyNote(m.start(1), m.end(1), parsed[0], parsed[1]))
    return out


def role_entries(notes: list[AgencyNote], lead_first: bool = False) -> tuple[tuple[str, str], ...]:
    """All units of a clause's notes in printed order, each once; the first becomes the lead when the
    document says the first listed leads and no one is marked lead explicitly."""
    out: list[tuple[str, str]] = []
    for note in notes:
        entries = list(note.entries)
        if (lead_first or note.lead_first) and entries and not any(r == LEAD for _, r in entries):
            entries[0] = (entries[0][0], LEAD)
        for name, role in entries:
            if name not in [n for n, _ in out]:
                out.append((name, role))
    return tuple(out)


# --- general 文号 and titles ------------------------------------------------------------------

ANY_DOC_NUMBER_RE = re.compile(
    rf"(?P<prefix>[\u4e00-\u9fff]{{1,14}}?)\s*[〔\[［【(（]\s*(?P<year>[{_DIG}]{{4}})\s*[〕\]］】)）]\s*第?\s*(?P<no>[{_DIG}]{{1,5}})\s*号"
)
GENERAL_TITLE_SUFFIXES = (
    "意见", "措施", "方案", "规划", "办法", "通知", "决定", "细则", "规定", "计划", "纲要", "条例", "规则", "指引", "指南",
    "清单", "公告", "通告", "批复", "要点", "制度", "机制", "目录", "标准", "守则", "章程", "函", "通报", "决议", "政策",
    "布局图", "示意图", "路线图", "行动", "工程", "报告",
)
_TITLE_TAIL_RE = re.compile(r"[（(][^（）()]{2,20}[)）]$|[》”\"]$")


def title_core(line: str) -> str:
    """A title without its trailing period/version bracket (…行动方案（2025-2030年）, …（试行）)."""
    core = line
    for _ in range(2):
        core = _TITLE_TAIL_RE.sub("", core).strip()
    return core


def looks_like_title(line: str) -> bool:
    return (
        4 <= len(line) <= 90
        and not ends_sentence(line.rstrip(")）"))
        and title_core(line).endswith(GENERAL_TITLE_SUFFIXES)
        and match_numbering(line) is None
        and not line.startswith(("附件", "抄送", "（", "("))
    )


def parse_any_doc_number(text: str) -> str | None:
    """The first 文号 of any issuer (``国办发〔2018〕126号``, ``穗天科工信规字〔2023〕1号``) in canonical form."""
    for m in ANY_DOC_NUMBER_RE.finditer(text):
        prefix = re.sub(r"\s+", "", m.group("prefix"))
        prefix = re.sub(r"^.*?(?:关于|印发|根据|依据|按照|的|和|及|《[^》]*》)", "", prefix) or prefix
        if not prefix:
            continue
        return f"{prefix}〔{to_int(m.group('year'))}〕{to_int(m.group('no'))}号"
    return None


_CN_DATE_RE = re.compile(r"([一二三四五六七八九〇○零]{4})\s*年\s*([十一二三四五六七八九]{1,3})\s*月\s*([十一二三四五六七八九]{1,3})\s*日")


def parse_cn_date(text: str) -> dt.date | None:
    """二〇一九年一月十二日 → 2019-01-12."""
    m = _CN_DATE_RE.search(text)
    if not m:
        return None
    try:
        year = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
        return dt.date(year, cn_to_int(m.group(2)), cn_to_int(m.group(3)))
    except (ValueError, KeyError):
        return None


def derive_general_doc_id(doc_number: str | None, title: str | None, content: str) -> str:
    """A stable, never-empty id: from the 文号 (pinyin-free: prefix hash + year-no), else the title, else the content."""
    if doc_number:
        m = re.fullmatch(r"(.+?)〔(\d{4})〕(\d+)号", doc_number)
        if m:
            if m.group(1) in DOC_ID_PREFIXES:
                return f"{DOC_ID_PREFIXES[m.group(1)]}{m.group(2)}-{m.group(3)}"
            ascii_part = re.sub(r"[^0-9A-Za-z]+", "", normalize(m.group(1))).lower()
            tag = ascii_part or "wh" + _short_hash(m.group(1))
            return f"{tag}{m.group(2)}-{m.group(3)}"
    if title:
        return "doc-" + _short_hash(re.sub(r"\s+", "", title))
    return "doc-" + _short_hash(content)


def _short_hash(s: str) -> str:
    import hashlib

    return hashlib.sha256(s.encode("utf-8")).hexdigest()[:8]


_PERIOD_IN_TITLE_RE = re.compile(r"[（(]\s*([0-9]{4})\s*[—–－\-~～至到]+\s*([0-9]{4})\s*年?\s*[)）]")


def plan_period_in_title(title: str) -> tuple[int, int] | None:
    """``…行动计划（2023—2025年）`` → (2023, 2025)."""
    m = _PERIOD_IN_TITLE_RE.search(normalize(title).replace("—", "-"))
    if not m:
        m = _PERIOD_IN_TITLE_RE.search(title)
    if not m:
        return None
    a, b = int(m.group(1)), int(m.group(2))
    return (a, b) if a <= b else None


_FROM_RE = re.compile(rf"自\s*(?P<from>[{_DIG}]{{4}}\s*年\s*[{_DIG}]{{1,2}}\s*月\s*[{_DIG}]{{1,2}}\s*日|印发之日|发布之日|公布之日)\s*起(?:施行|实施|执行|生效)")
_UNTIL_RE = re.compile(rf"有效期至\s*(?P<until>[{_DIG}]{{4}}\s*年\s*[{_DIG}]{{1,2}}\s*月\s*[{_DIG}]{{1,2}}\s*日)")
_YEARS_RE = re.compile(r"有效期\s*(?:为)?\s*([0-9一二三四五六七八九十]{1,2})\s*年")


def parse_validity_loose(text: str, signed: dt.date | None, printed: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """``自…起施行`` / ``自印发之日起施行`` and ``有效期至…`` / ``有效期N年``, each on its own."""
    start: dt.date | None = None
    m = _FROM_RE.search(text)
    if m:
        start = parse_date(m.group("from")) if m.group("from")[0].isdigit() or m.group("from")[0] in "０１２３４５６７８９" else (printed or signed)
    until: dt.date | None = None
    u = _UNTIL_RE.search(text)
    if u:
        until = parse_date(u.group("until"))
    elif m:
        # 有效期N年 in the sentence that says when it takes effect (not a certificate's validity elsewhere)
        end = text.find("。", m.end())
        y = _YEARS_RE.search(text[m.start() : end if end >= 0 else len(text)])
        if y and start:
            try:
                years = to_int(y.group(1))
                until = dt.date(start.year + years, start.month, start.day) - dt.timedelta(days=1)
            except ValueError:
                until = None
    return start, until
