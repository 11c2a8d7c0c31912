"""Parse one policy document (plain text converted from the published file) into clause records.

The conversion is imperfect and the parser copes with it as it is: hard line breaks inside
sentences, page numbers, Markdown headings of random depth, stray ``**``, agency lists that wrap
across lines or pages. Every character of the body ends up in exactly one clause span; what is
left out is named boilerplate (letterhead, titles, dates, 抄送, 印发, page numbers, markup).
"""

from __future__ import annotations

import hashlib
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from . import rules
from .records import Boilerplate, Clause, Document, ParsedDocument, Span


class ParseError(ValueError):
    """A document that cannot be parsed; the message says why."""


BOILERPLATE_KINDS = (
    "letterhead",  # 上海市人民政府文件, 文号
    "notice_title",  # 关于印发《…》的通知
    "title",  # the document's own title line
    "addressee",  # 各区人民政府，市政府各委、办、局：
    "date",  # the signing date on a line of its own
    "publication_note",  # (此件公开发布)
    "issuers",  # the issuing agencies' names printed as a signature block
    "page_number",  # —１—
    "rule",  # --- separators
    "cc",  # 抄送：…
    "printing",  # 上海市人民政府办公厅 2025年3月13日印发
    "markup",  # Markdown '#' and '**'
    "web",  # page furniture and scraper headers: 当前位置, 分享到, 扫一扫, 【原文下载】, 索引号/发布日期 tables, links
    "doc_number",  # a 文号 on a line of its own
    "contact",  # （联系人：…，联系电话：…）
)

_WS = " \u3000\t\r\ufeff\u00a0\u2002\u2003\u2009\u200b\u3164"
_WEB_RE = re.compile(
    r"^(?:【[^】]{1,12}】\s*)+$|^【(?:原文下载|附件下载|下载|打印|关闭|返回)|当前位置|^首页\s*[>›]|分享到|扫一扫|打印本页|关闭窗口|返回顶部|"
    r"^字号|^【?字体|^点击查看|^\s*[-—>|]+\s*$|https?://|^(?:索\s*引\s*号|主题分类|主\s*题\s*词|统一编号|实施日期|失效日期|文件状态|"
    r"信息来源|来源|浏览次数|访问量|检索时间|检索关键词|原文链接|发布机构|发布日期|发文机关|发文字号|成文日期|发布单位|"
    r"标\s*题|文\s*号|公开方式|有效性|效力状态|生效日期|所属类别|分类|层级|状态|类型|发布时间)\s*[:：]|^(?:政策解读|相关解读|"
    r"基本信息|相关附件|相关文件|附件下载|相关链接|分享|打印|关闭|(?:政策)?全文|正文|责任编辑[:：].*|本文正文由.*|依《中华人民共和国著作权法》.*)$"
)
_ATTACHMENT_RE = re.compile(r"^附\s*件\s*([0-9０-９]{1,2}(?![0-9０-９])|[一二三四五六七八九十]{1,3}|)\s*[:：]?\s*(.{0,80})$")
_DOC_NUMBER_LINE_RE = re.compile(r"^[（(]?[\u4e00-\u9fff]{1,14}\s*[〔\[［【(（]\s*[0-9０-９]{4}\s*[〕\]］】)）]\s*第?\s*[0-9０-９]{1,5}\s*号[)）]?(?:\s*签发人[:：].*)?$")
_YEAR_LINE_RE = re.compile(r"^[0-9０-９]{4}\s*年$")

HARD_WRAP_MAX_MEDIAN_WIDTH = 40  # documents whose lines are narrower were hard-wrapped at page width
SHORT_LINE_MAIN = 25.5  # a hard-wrapped line narrower than this ends its paragraph (pages are ~30 wide)
SHORT_LINE_BOX = 32.5  # boxed 专栏 text is set smaller, ~37 wide
BOX_LINE_MIN = 32.5
VERY_SHORT_LINE = 20  # a paragraph with a line at least this wide belongs to a box

_PUBLICATION_RE = re.compile(r"^[(（]此件.{0,6}发布[)）]$")
_ADDRESSEE_RE = re.compile(r"^各.{2,40}[:：]$")
_TABLE_ROW_RE = re.compile(r"^[0-9０-９]{1,2}\s+\S")


# --- lines ----------------------------------------------------------------------------------


@dataclass
class _Line:
    no: int
    start: int  # offset of the raw line in the file
    raw: str
    chars: str  # cleaned content (markup and outer spaces removed)
    offs: list[int]  # file offset of each char of ``chars``
    indented: bool  # opens with a full-width double indent, a paragraph start in 002
    markup: list[Span]
    page_marks: list[Span] = field(default_factory=list)  # page numbers printed at the end of a wrapped line

    @property
    def width(self) -> float:
        return rules.line_width(self.chars)


def _split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    pos = 0
    for no, raw in enumerate(text.split("\n")):
        markup: list[Span] = []
        page_marks: list[Span] = []
        keep = [True] * len(raw)
        for m in rules.MARKUP_RE.finditer(raw):
            if m.group(0).startswith("#") and raw[: m.start()].strip(" \u3000\t"):
                continue  # a '#' after text is content, not a heading mark
            for i in range(m.start(), m.end()):
                keep[i] = False
            if m.group(0).strip():
                markup.append(Span(pos + m.start(), pos + m.end()))
        tail_page = _INLINE_PAGE_RE.search(raw)
        if tail_page and raw[: tail_page.start()].strip(_WS):  # a page number printed at the end of a wrapped line
            for i in range(tail_page.start(), tail_page.end()):
                keep[i] = False
            page_marks.append(Span(pos + tail_page.start(), pos + tail_page.end()))
        kept = [(i, ch) for i, ch in enumerate(raw) if keep[i]]
        # strip outer whitespace of the kept characters (&emsp;, &nbsp; and ideographic spaces included)
        ws = _WS.replace("\t", "") if "\t" in raw.strip(_WS) else _WS  # a table row keeps its empty leading cells
        while kept and kept[0][1] in ws:
            kept.pop(0)
        while kept and kept[-1][1] in ws:
            kept.pop()
        chars = "".join(ch for _, ch in kept)
        offs = [pos + i for i, _ in kept]
        indented = raw.lstrip(" ").startswith(("\u3000\u3000", "\u2003\u2003", "\u00a0\u00a0\u00a0\u00a0"))
        lines.append(_Line(no, pos, raw, chars, offs, indented, markup, page_marks))
        pos += len(raw) + 1
    return lines


_INLINE_PAGE_RE = re.compile(r"[—－–―‒﹣]\s*[0-9０-９]{1,3}\s*[—－–―‒﹣]\s*$")  # no ASCII hyphen: 2021-2025


def _line_span(line: _Line) -> Span:
    return Span(line.offs[0], line.offs[-1] + 1)


# --- paragraphs -----------------------------------------------------------------------------


@dataclass
class _Para:
    lines: list[_Line]
    numbering: rules.Numbering | None = None
    kind: str = "plain"  # plain | numbered | agencies | table

    @property
    def chars(self) -> str:
        return "".join(line.chars for line in self.lines)

    @property
    def offs(self) -> list[int]:
        return [o for line in self.lines for o in line.offs]

    @property
    def is_box_width(self) -> bool:
        return any(line.width >= BOX_LINE_MIN for line in self.lines)


def _is_heading_line(chars: str) -> bool:
    n = rules.match_numbering(chars)
    return n is not None and rules.split_heading(chars[len(n.marker) :])[1]


class _Sequence:
    """Accepts a numbering marker only where it continues the document's numbering.

    Guards against a line that merely starts with something number-like after a hard wrap.
    """

    def __init__(self) -> None:
        self.last: dict[float, int] = {}

    def accepts(self, n: rules.Numbering) -> bool:
        return n.value == 1 or self.last.get(n.level) == n.value - 1

    def take(self, n: rules.Numbering) -> None:
        self.last[n.level] = n.value


def _paragraphs(
    lines: list[_Line],
    hard_wrapped: bool,
    *,
    paragraph_lines: bool = False,
    attachments: dict[int, int] | None = None,
    scale: float = 1.0,
) -> list[_Para]:
    """Lines → paragraphs. ``paragraph_lines``: the converter already gave one paragraph per line (HTML, Word,
    Markdown). ``attachments`` maps the line number of each 附件 marker to how many title lines follow it."""
    paras: list[_Para] = []
    seq = _Sequence()
    current: _Para | None = None
    in_box = False
    attachments = attachments or {}
    absorb = 0  # attachment title lines still to take into the marker's paragraph
    short_main, short_box, box_min, very_short = (
        SHORT_LINE_MAIN * scale, SHORT_LINE_BOX * scale, BOX_LINE_MIN * scale, VERY_SHORT_LINE * scale,
    )
    nums = [rules.match_numbering(ln.chars) for ln in lines]

    def confirmed(k: int, n: rules.Numbering) -> bool:
        """A marker out of sequence is taken when the next marker of its style continues from it and it does
        not go backwards: items lost in conversion must not demote every later item."""
        if n.value <= seq.last.get(n.level, 0):
            return False
        for j in range(k + 1, min(len(lines), k + 80)):
            m = nums[j]
            if m is not None and m.style == n.style:
                return m.value == n.value + 1
        return False

    for k, line in enumerate(lines):
        if absorb and current is not None and current.kind == "attachment":
            current.lines.append(line)
            absorb -= 1
            continue
        absorb = 0
        if line.no in attachments:
            if current is not None:
                paras.append(current)
            current = _Para([line], kind="attachment")
            absorb = attachments[line.no]
            seq = _Sequence()  # an attachment numbers its items afresh
            in_box = False
            continue
        if "\t" in line.raw and paragraph_lines:
            if current is not None and current.kind == "tabrows":
                current.lines.append(line)
            else:
                if current is not None:
                    paras.append(current)
                current = _Para([line], kind="tabrows")
            continue
        if in_box and hard_wrapped and k + 1 < len(lines):
            # two main-width lines in a row cannot be box text (box lines run ~37 wide): the box is over
            if all(short_main <= ln.width < box_min for ln in (line, lines[k + 1])):
                in_box = False
        numbering = nums[k]
        if numbering and not seq.accepts(numbering) and not confirmed(k, numbering):
            numbering = None
        if (
            paragraph_lines and current is not None and current.kind in ("plain", "numbered") and not numbering
            and len(line.chars) <= 3 and not rules.ends_sentence(current.lines[-1].chars)
            and rules.ends_sentence(line.chars.rstrip("。")) is not False
        ):
            starts = False  # a title broken across two paragraphs (…种类范 / 围)
        elif current is None or paragraph_lines or current.kind in ("tabrows", "attachment"):
            starts = True
        elif numbering or line.chars.startswith("——") or line.indented:
            starts = True
        elif rules.AGENCY_LIST_RE.match(line.chars) or _is_agency_note_line(line.chars) or _is_bare_list_line(line.chars):
            starts = True
        else:
            prev = current.lines[-1]
            if hard_wrapped and len(current.lines) == 1 and current.kind == "numbered" and _is_heading_line(prev.chars):
                # a numbered title wraps only onto a short unpunctuated tail (…国际竞 / 争力)
                starts = not (
                    prev.width >= short_main and line.width < very_short and not rules.ends_sentence(line.chars)
                )
            elif hard_wrapped:
                # a short line ends its paragraph; one stopping mid-sentence only when very short, since
                # narrow characters (－, Latin) make some full lines look short
                short = prev.width < (short_box if in_box else short_main)
                starts = short and (rules.ends_sentence(prev.chars) or prev.width < very_short)
            else:
                # soft-wrapped: a line goes on only when it stops mid-sentence, and a heading never does
                starts = (
                    rules.ends_sentence(prev.chars)
                    or bool(prev.markup)
                    or (len(current.lines) == 1 and current.kind == "numbered" and _is_heading_line(prev.chars))
                )
        if starts:
            if current is not None:
                paras.append(current)
            current = _Para([line], numbering)
            if numbering:
                seq.take(numbering)
                current.kind = "numbered"
                in_box = numbering.level == rules.BOX_LEVEL or (in_box and numbering.level > rules.BOX_LEVEL)
            elif rules.AGENCY_LIST_RE.match(line.chars) or _is_agency_note_line(line.chars) or _is_bare_list_line(line.chars):
                current.kind = "agencies"
        else:
            assert current is not None
            current.lines.append(line)
    if current is not None:
        paras.append(current)
    return _mark_tables(paras)


def _is_bare_list_line(chars: str) -> bool:
    """A line that is nothing but an unbracketed labelled list: 责任单位：市商务委、市财政局"""
    notes = rules.find_bare_agency_lists(chars)
    return bool(notes) and notes[0].start == 0 and notes[-1].end >= len(chars.rstrip("。.；;"))


def _is_agency_note_line(chars: str) -> bool:
    """A line that is nothing but an agency note (a list wrapped onto its own line)."""
    if not chars or chars[0] not in "（(":
        return False
    notes = rules.find_agency_notes(chars)
    return bool(notes) and notes[0].start == 0 and notes[-1].end >= len(chars.rstrip("。.；;"))


def _mark_tables(paras: list[_Para]) -> list[_Para]:
    """Merge a table (an unpunctuated title, a ``序号`` header row, numbered rows) into one paragraph."""
    out: list[_Para] = []
    i = 0
    while i < len(paras):
        p = paras[i]
        if p.kind == "plain" and p.chars.startswith("序号"):
            table = _Para(list(p.lines), kind="table")
            if out and out[-1].kind == "plain" and not rules.ends_sentence(out[-1].chars) and len(out[-1].chars) <= 40:
                table.lines = out.pop().lines + table.lines
            j = i + 1
            while j < len(paras) and paras[j].kind == "plain" and _TABLE_ROW_RE.match(paras[j].chars):
                table.lines += paras[j].lines
                j += 1
            out.append(table)
            i = j
            continue
        out.append(p)
        i += 1
    return out


# --- tree -----------------------------------------------------------------------------------


@dataclass
class _Node:
    level: float
    paras: list[_Para] = field(default_factory=list)
    children: list["_Node"] = field(default_factory=list)
    numbering: rules.Numbering | None = None
    kind: str = "paragraph"  # root | section | clause | paragraph | table | box
    heading_only: bool = False
    segment: str = ""

    def body_text(self) -> str:
        chars = self.paras[0].chars
        if self.numbering:
            chars = chars[len(self.numbering.marker) :]
        return chars

    def has_agencies(self) -> bool:
        """The clause is closed by its agency list or note (nothing but punctuation after it)."""
        text = "\n".join(p.chars for p in self.paras)
        if rules.find_agency_list(text.replace("\n", "")) is not None:
            return True
        return _closes_with_note(text)


def _build_tree(paras: list[_Para], uses_agencies: bool, paragraph_lines: bool = False) -> _Node:
    root = _Node(level=0, kind="root")
    stack: list[_Node] = [root]
    last_numbered = max((i for i, p in enumerate(paras) if p.kind == "numbered"), default=-1)
    closing = False
    last_content: _Node | None = None
    for i, p in enumerate(paras):
        if p.kind == "attachment":
            stack = [root]
            node = _Node(level=0.1, paras=[p], kind="attachment", heading_only=True)
            m = _ATTACHMENT_RE.match(p.lines[0].chars)
            node.numbering = rules.Numbering(0.1, rules.to_int(m.group(1)) if m and m.group(1) else 0, "", "附件")
            root.children.append(node)
            stack.append(node)
            last_content = node
            closing = False
            last_numbered = max((j for j, q in enumerate(paras) if q.kind == "numbered" and j > i), default=-1)
            continue
        if p.kind == "tabrows":
            top = stack[-1]
            while top.kind not in ("root", "attachment") and top.numbering is not None and not top.heading_only and len(stack) > 1:
                stack.pop()
                top = stack[-1]
            node = _Node(level=top.level + 0.1, paras=[p], kind="tabrows")
            top.children.append(node)
            last_content = node
            continue
        if p.kind == "numbered":
            assert p.numbering is not None
            n = p.numbering
            while stack[-1].level >= n.level:
                stack.pop()
            is_box = n.level == rules.BOX_LEVEL
            node = _Node(level=n.level, paras=[p], numbering=n, kind="box" if is_box else "clause")
            _, node.heading_only = rules.split_heading(node.body_text())
            if is_box:
                node.heading_only = True
            stack[-1].children.append(node)
            stack.append(node)
            last_content = node
            continue
        if p.kind == "agencies" and last_content is not None:
            last_content.paras.append(p)  # a list that starts on its own line belongs to the clause above
            continue
        top = stack[-1]
        if top.kind == "box" and not paragraph_lines and not p.is_box_width and p.kind != "table":
            stack.pop()
            top = stack[-1]
        if top.numbering is not None and top.numbering.level == rules.ARTICLE_LEVEL and not top.heading_only:
            if not top.children:  # the further paragraphs (款) of an article are the article
                top.paras.append(p)
                last_content = top
                continue
            node = _Node(level=top.level + 0.1, paras=[p], kind="table" if p.kind == "table" else "paragraph")
            top.children.append(node)
            last_content = node
            continue
        if (
            paragraph_lines and top.numbering is not None and top.kind == "clause" and not top.heading_only
            and i <= last_numbered and not (uses_agencies and top.has_agencies())
        ):
            # the converter gave real paragraphs: those after an item's own paragraph are its sub-paragraphs
            node = _Node(level=top.level + 0.1, paras=[p], kind="table" if p.kind == "table" else "paragraph")
            top.children.append(node)
            last_content = node
            continue
        if top.numbering is not None and top.kind != "box" and not top.heading_only and top.kind != "attachment":
            if uses_agencies and not top.has_agencies():
                top.paras.append(p)  # the clause goes on after a page break or a paragraph break
                last_content = top
                continue
            stack.pop()
            top = stack[-1]
            if i > last_numbered:
                closing = True
        if closing:
            top = stack[1] if len(stack) > 1 and stack[1].kind == "attachment" else root
        node = _Node(level=top.level + 0.1, paras=[p], kind="table" if p.kind == "table" else "paragraph")
        top.children.append(node)
        last_content = node
    return root


def _merge_single_paragraph_sections(node: _Node) -> None:
    """A heading-only item followed by one paragraph, or by paragraphs closed by its agency list, is one
    clause: its title and its body."""
    for child in node.children:
        _merge_single_paragraph_sections(child)
    if (
        node.numbering is not None
        and node.kind == "clause"
        and node.heading_only
        and node.children
        and all(c.kind == "paragraph" and not c.children for c in node.children)
        and (len(node.children) == 1 or node.children[-1].has_agencies())
        # paragraphs each closed by their own list are separate clauses, each with its agencies
        and sum(1 for c in node.children if c.has_agencies()) <= 1
    ):
        node.paras += [p for c in node.children for p in c.paras]
        node.children = []
        node.heading_only = False
        node.kind = "clause"


def _assign_segments(node: _Node) -> None:
    counters: dict[str, int] = {}
    used: set[str] = set()
    for child in node.children:
        if child.kind == "attachment":
            seg = f"att{child.numbering.value or 1}" if child.numbering else "att1"
        elif child.numbering is not None:
            style = child.numbering.style
            prefix = {"第一部分": "pt", "第一章": "ch", "第一节": "s", "第一条": "a", "①": "c"}.get(style, "")
            seg = f"box{child.numbering.value}" if child.kind == "box" else f"{prefix}{child.numbering.value}"
        else:
            prefix = "table" if child.kind in ("table", "tabrows") else "p"
            counters[prefix] = counters.get(prefix, 0) + 1
            seg = f"{prefix}{counters[prefix]}"
        base, k = seg, 1
        while seg in used:  # a numbering printed twice under one parent stays addressable
            k += 1
            seg = f"{base}-{k}"
        used.add(seg)
        child.segment = seg
        _assign_segments(child)


# --- records --------------------------------------------------------------------------------


def _heading_as_written(node: _Node) -> str:
    if node.numbering is not None and node.numbering.level == rules.ARTICLE_LEVEL:
        # an article's path label is its number and its title, if it has one (第五条 企业培育), not its text
        title, only = rules.split_heading(node.body_text())
        is_title = title and len(title) <= 20 and not title.endswith(("：", ":", "，", ","))
        return f"{node.numbering.marker}{(' ' + title) if is_title else ''}"
    return rules.clean_inline(node.paras[0].chars)


def _node_text(node: _Node) -> tuple[str, list[int]]:
    chars: list[str] = []
    offs: list[int] = []
    for k, p in enumerate(node.paras):
        pc, po = p.chars, p.offs
        if k == 0 and node.numbering is not None:
            cut = len(node.numbering.marker)
            pc, po = pc[cut:], po[cut:]
            while pc and pc[0] in _WS:
                pc, po = pc[1:], po[1:]
        if k > 0:
            chars.append("\n")
            offs.append(offs[-1] + 1 if offs else po[0] - 1)
        if node.kind == "table":
            # keep one row per line: a table is read row by row
            row_chars, row_offs = [], []
            for line in p.lines:
                if row_chars:
                    row_chars.append("\n")
                    row_offs.append(row_offs[-1] + 1)
                row_chars.extend(line.chars)
                row_offs.extend(line.offs)
            pc, po = "".join(row_chars), row_offs
        chars.extend(pc)
        offs.extend(po)
    return "".join(chars), offs


_AGENCY_COLUMN_RE = re.compile(r"(牵头|配合|责任|负责|主责|主办|协办|参与|指导|实施|主管|承办|监管)(单位|部门|处室|机构|司局|主体)?$")


def _agency_columns(header: list[str]) -> dict[int, str]:
    """Columns of a table that name units, with the role their header gives (牵头 → lead, 配合 → support).
    A header that says its first unit leads (责任单位（列首位者牵头）) gives "lead_first"."""
    cols: dict[int, str] = {}
    for i, h in enumerate(header):
        full = re.sub(r"\s+", "", h)
        h = re.sub(r"[（(][^（）()]*[)）]", "", full)
        if len(h) <= 14 and (h.endswith(("单位", "部门", "处室", "机构", "主体")) or _AGENCY_COLUMN_RE.search(h)) and not h.startswith("序号"):
            if rules._LEAD_FIRST_RE.search(full):
                cols[i] = "lead_first"
            elif re.search(r"牵头|主责|主办", h):
                cols[i] = rules.LEAD
            elif re.search(r"配合|协办|参与|协助", h):
                cols[i] = rules.SUPPORT
            else:
                cols[i] = rules.RESPONSIBLE
    return cols


def _cells(line: _Line) -> list[tuple[str, list[int]]]:
    """A tab-separated row → its cells, each with the offsets of its characters."""
    cells: list[tuple[str, list[int]]] = []
    cur_c: list[str] = []
    cur_o: list[int] = []
    for ch, off in zip(line.chars, line.offs):
        if ch == "\t":
            cells.append(("".join(cur_c), cur_o))
            cur_c, cur_o = [], []
        else:
            cur_c.append(ch)
            cur_o.append(off)
    cells.append(("".join(cur_c), cur_o))
    return cells


class _EmitState:
    def __init__(self) -> None:
        self.lead_first = False  # a note said "列第一位者为牵头单位，下同": it holds from there on
        self.notes = 0
        self.header: list[str] | None = None  # the last table header, for a table split by section rows


def _clause_agencies(text: str, state: _EmitState) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    notes = sorted(rules.find_agency_notes(text) + rules.find_bare_agency_lists(text), key=lambda n: n.start)
    if not notes:
        found = rules.find_agency_list(text)
        names = rules.split_agencies(found[2]) if found else ()
        return names, tuple((n, rules.RESPONSIBLE) for n in names)
    state.notes += len(notes)
    roles = rules.role_entries(notes, lead_first=state.lead_first)
    if any(n.lead_first for n in notes):
        state.lead_first = True
    return tuple(n for n, _ in roles), roles


def _emit_tabrows(child: _Node, doc_id: str, source_path: str, segs: tuple[str, ...], section_path: tuple[str, ...],
                  out: list[Clause], state: _EmitState) -> None:
    lines = [ln for p in child.paras for ln in p.lines]
    header_idx = next((i for i, ln in enumerate(lines) if "\t" in ln.chars), 0)
    header = [c for c, _ in _cells(lines[header_idx])]
    continued = False
    if header and header[0].strip().isdigit() and state.header and len(state.header) == len(header):
        header, header_idx, continued = state.header, -1, True  # rows of a table split by its section rows
    cols = _agency_columns(header)
    if not continued:
        state.header = header

    def make(clause_id, kind, number, spath, heading, text, offs, names=(), roles=()):
        out.append(
            Clause(
                clause_id=clause_id, doc_id=doc_id, kind=kind, number=number, section_path=spath, heading=heading,
                text=text, agencies=tuple(names), source_path=source_path, span=Span(offs[0], offs[-1] + 1),
                order=len(out), offsets=tuple(offs), agency_roles=tuple(roles),
            )
        )

    def joined(ls: list[_Line]) -> tuple[str, list[int]]:
        chars: list[str] = []
        offs: list[int] = []
        for ln in ls:
            if chars:
                chars.append("\n")
                offs.append(offs[-1] + 1)
            chars.extend(ln.chars)
            offs.extend(ln.offs)
        return "".join(chars), offs

    base = f"{doc_id}:{'.'.join(segs)}"
    if not cols:  # an ordinary table: one clause, read row by row
        text, offs = joined(lines)
        make(base, "table", None, section_path, None, text, offs)
        return
    if not continued:
        text, offs = joined(lines[: header_idx + 1])
        make(base, "table", None, section_path, None, text, offs)
    group: str | None = None
    used: set[str] = set()
    last_agency_cells: dict[int, str] = {}
    last_row: list | None = None
    for k, ln in enumerate(lines[header_idx + 1 :], 1):
        cells = _cells(ln)
        filled = [c for c, _ in cells if c.strip()]
        if len(filled) <= 1:  # a section row spanning the table
            group = rules.clean_inline(ln.chars)
            seg = f"g{k}"
            make(f"{base}.{seg}", "section", None, section_path, group, ln.chars, ln.offs)
            continue
        entries: list[tuple[str, str]] = []
        for i, role in cols.items():
            value = cells[i][0] if i < len(cells) else ""
            if not value.strip() and cells[0][0].strip() == "" and i in last_agency_cells:
                value = last_agency_cells[i]  # a merged cell from the row above (the same task continues)
            elif value.strip():
                last_agency_cells[i] = value
            first = True
            for name in re.split(r"[、，,；;\s]+", value):
                    name = name.strip("。.")
                    if name and name not in ("—", "-", "/", "无", "／") and name not in [n for n, _ in entries]:
                        r = role if role != "lead_first" else (rules.LEAD if first else rules.RESPONSIBLE)
                        entries.append((name, r))
                        first = False
        number = cells[0][0].strip() if cells[0][0].strip().isdigit() else None
        heading = next((c for c, _ in cells if c.strip() and not c.strip().isdigit()), None)
        heading = heading if heading and len(heading) <= 40 else None
        if number is None and not cells[0][0].strip() and last_row is not None:
            # a row continuing the task above (its number and title cells merged downwards)
            number, heading = last_row[0], last_row[1]
            last_row[2] += 1
            seg = f"r{number}-{last_row[2]}"
        else:
            seg = f"r{number}" if number else f"r{k}"
            last_row = [number, heading, 1] if number else None
        while seg in used:
            seg += "b"
        used.add(seg)
        if entries:
            state.notes += 1
        make(f"{base}.{seg}", "clause", number, section_path + ((group,) if group else ()), heading, ln.chars, ln.offs,
             [n for n, _ in entries], entries)


def _emit(
    node: _Node,
    doc_id: str,
    source_path: str,
    path: tuple[str, ...],
    section_path: tuple[str, ...],
    out: list[Clause],
    state: _EmitState | None = None,
) -> None:
    state = state or _EmitState()
    for child in node.children:
        segs = path + (child.segment,)
        clause_id = f"{doc_id}:{'.'.join(segs)}"
        if child.kind == "tabrows":
            _emit_tabrows(child, doc_id, source_path, segs, section_path, out, state)
            continue
        text, offs = _node_text(child)
        first = child.paras[0].offs[0]
        last = child.paras[-1].offs[-1] + 1
        kind = child.kind
        if kind in ("box", "attachment"):
            kind = "section"
        elif kind == "clause" and child.heading_only and (child.children or child.numbering.style not in ("1.1", "1.1.1")):
            kind = "section"  # (an entry of a decimal catalogue with nothing under it is content: 1.1.1犁)
        heading: str | None
        number = child.numbering.marker if child.numbering else None
        if child.kind == "attachment":
            lines = text.split("\n")
            m = _ATTACHMENT_RE.match(lines[0])
            number = re.sub(r"[\s:：]+", "", lines[0][: m.start(2)]) if m else lines[0]
            rest = " ".join([m.group(2)] if m and m.group(2) else [] + lines[1:]) if m else ""
            rest = ((m.group(2) if m else "") + "".join(lines[1:])).strip()
            heading = rules.clean_inline(rest) or number
        elif kind == "section":
            heading = rules.clean_inline(text.split("\n")[0])
            if child.kind == "box":
                heading = re.sub(r"^[:：]\s*", "", heading)
        elif kind == "table":
            heading = text.split("\n")[0] if not text.startswith("序号") else None
        else:
            heading, _ = rules.split_heading(text.split("\n")[0].removeprefix("——"))
            if heading is None and child.numbering is not None and len(child.paras) > 1:
                title, only = rules.split_heading(child.body_text())
                heading = title if only else None
        agencies, roles = _clause_agencies(text, state) if kind != "section" else ((), ())
        out.append(
            Clause(
                clause_id=clause_id,
                doc_id=doc_id,
                kind=kind,
                number=number,
                section_path=section_path,
                heading=heading or None,
                text=text,
                agencies=agencies,
                source_path=source_path,
                span=Span(first, last),
                order=len(out),
                offsets=tuple(offs),
                agency_roles=roles,
            )
        )
        if child.children:
            label = f"{number} {heading}" if child.kind == "attachment" else _heading_as_written(child)
            _emit(child, doc_id, source_path, segs, section_path + (label,), out, state)


# --- front and back matter ------------------------------------------------------------------


@dataclass
class _Matter:
    title: str | None = None
    title_line: int | None = None
    issuer: str | None = None
    issuers: list[str] = field(default_factory=list)
    signed: list = field(default_factory=list)
    printed: list = field(default_factory=list)
    boilerplate: list[Boilerplate] = field(default_factory=list)
    notice: list[_Line] = field(default_factory=list)
    skip: set[int] = field(default_factory=set)
    doc_numbers: list[str] = field(default_factory=list)
    tail_issuers: list[str] = field(default_factory=list)


def _is_title(chars: str) -> bool:
    """The document's own title (not the 印发 notice's): any kind of policy document."""
    return rules.looks_like_title(chars) and "印发" not in chars and not rules.title_core(chars).endswith("通知")


def _is_notice_title(chars: str) -> bool:
    return rules.looks_like_title(chars) and ("印发" in chars or rules.title_core(chars).endswith("通知"))


def _is_date_line(chars: str) -> bool:
    c = re.sub(r"\s+", "", chars)
    if c[:1] in "（(" and c[-1:] in ")）":  # （2025年3月12日）printed under a title
        c = c[1:-1]
    return bool(rules.DATE_RE.fullmatch(c) or (rules.parse_cn_date(c) and rules._CN_DATE_RE.fullmatch(c)))


def _date_of(chars: str):
    return rules.parse_date(chars) or rules.parse_cn_date(chars)


_SCRAPER_RE = re.compile(r"^(?:本文正文由|依《中华人民共和国著作权法》|本文(?:转载|来源)自|来源[:：]|原文链接[:：]|本页面由)")


def _is_web(chars: str) -> bool:
    if _SCRAPER_RE.match(chars):
        return True
    if re.search(r"\.(?:pdf|docx?|xlsx?|wps|ofd|zip|rar|et)$", chars, re.I) and len(chars) <= 120 and "。" not in chars:
        return True  # a link to the file itself or an attachment: 【原文下载】…通知.pdf
    return bool(_WEB_RE.search(chars)) and (not rules.ends_sentence(chars.rstrip("）)")) or len(chars) <= 30) or bool(
        re.match(r"^(?:扫一扫|【|当前位置|分享到|打印本页|关闭窗口)", chars)
    )


def _is_signature_line(chars: str) -> bool:
    """A line of a signature block: issuing units, unpunctuated, possibly several separated by spaces."""
    flat = chars.strip()
    if not flat or len(flat) > 60 or rules.ends_sentence(flat) or rules.match_numbering(flat) or "\t" in flat:
        return False
    parts = [x for x in re.split(r"[\s\u3000\u00a0\u2003]+", flat) if x]
    return all(rules.looks_like_agency(x) or x.endswith("文件") for x in parts)


_ISSUER_TAIL_RE = re.compile(r"(?:委员会|人民政府|办公厅|办公室|管理局|总局|部|委|局|厅|办|院|署|行|中心|海关|总部|分行|政府)$")
_CONTACT_RE = re.compile(r"联系人[:：]|联系电话[:：]|联系方式[:：]|传真[:：]|邮编[:：]")


def _unit_names(names) -> list[str]:
    """Names that can be an issuing unit: never page furniture (—１—, 第1页) or text without a letter in it."""
    return [n for n in names if n and not rules.PAGE_NUMBER_RE.match(n) and re.search(r"[^\W\d_]", n)]


def _signature_names(chars: str) -> list[str]:
    """A signature line may print several units side by side, separated by spaces."""
    return [x for x in re.split(r"[\s\u3000\u00a0\u2003]{2,}|[\s\u3000\u00a0\u2003]+(?=\S{4,})", chars.strip()) if x]


def _classify_matter(lines: list[_Line], first_heading: int, hints: dict[str, str]) -> _Matter:
    """Sort the lines before the first heading into boilerplate kinds, the title and the notice."""
    m = _Matter()

    def bp(kind: str, line: _Line) -> None:
        m.boilerplate.append(Boilerplate(kind, _line_span(line)))
        m.skip.add(line.no)

    content = [ln for ln in lines if ln.chars and ln.no < first_heading and not rules.PAGE_NUMBER_RE.match(ln.raw)]
    web = {ln.no for ln in content if _is_web(ln.chars)}
    # a scraper's metadata header repeats the title as "标题：…"; page furniture is never the title
    cands = [ln for ln in content if ln.no not in web]
    titles = [ln for ln in cands if _is_title(ln.chars)]
    if not titles:
        titles = [ln for ln in cands if _is_notice_title(ln.chars)]
    if not titles:  # an attachment-only text: 附件 / its title
        for ln in cands:
            am = _ATTACHMENT_RE.match(ln.chars)
            if am and am.group(2) and rules.looks_like_title(am.group(2)):
                titles = [ln]
    title_lines: list[_Line] = []
    if titles:
        t = titles[-1]
        title_lines = [t]
        # a title wrapped over several lines: unpunctuated lines just above it that are not a unit's name
        k = content.index(t)
        while k > 0 and len(title_lines) < 3:
            prev = content[k - 1]
            pc = prev.chars
            if (
                prev.no in web
                or rules.ends_sentence(pc)
                or len(pc) > 40
                or _is_date_line(pc)
                or _DOC_NUMBER_LINE_RE.match(pc)
                or pc.endswith(("文件", "：", ":"))
                or rules.looks_like_title(pc)
                or _ATTACHMENT_RE.match(pc)
                or (rules.looks_like_agency(re.sub(r"\s+", "", pc)) and "关于" not in pc)
                or ("关于" not in pc and "关于" in t.chars)
            ):
                break
            title_lines.insert(0, prev)
            k -= 1
        raw_title = "".join(ln.chars for ln in title_lines)
        raw_title = re.sub(r"[（(]\s*[\u4e00-\u9fff]{1,14}[〔\[［][0-9０-９]{4}[〕\]］]\s*第?[0-9０-９]{1,5}号\s*[)）]$", "", raw_title)  # …意见（X〔2010〕186号）
        am = _ATTACHMENT_RE.match(raw_title)
        if am and am.group(2):
            raw_title = am.group(2)
        m.title, m.title_line = rules.clean_inline(raw_title), t.no
        for ln in title_lines:
            bp("title", ln)
    title_nos = {ln.no for ln in title_lines}
    in_notice = False  # after the addressee (or the first full sentence) comes the notice text
    for ln in content:
        c = ln.chars
        flat = re.sub(r"\s+", "", c)
        if ln.no in title_nos:
            continue
        if ln.no in web:
            bp("web", ln)
        elif flat.endswith("文件") and len(flat) <= 20:
            m.issuer = flat[: -len("文件")]
            bp("letterhead", ln)
        elif rules.DOC_NUMBER_RE.fullmatch(c.strip()) or _DOC_NUMBER_LINE_RE.match(flat):
            m.doc_numbers.append(flat)
            bp("letterhead", ln)
        elif _is_date_line(c):
            m.signed.append(_date_of(c))
            bp("date", ln)
            # the units printed just above a date sign the notice
            j = content.index(ln) - 1
            while j >= 0 and content[j].no not in m.skip and _is_signature_line(content[j].chars) and content[j].no not in title_nos:
                m.issuers[0:0] = _signature_names(content[j].chars)
                m.notice = [x for x in m.notice if x.no != content[j].no]
                bp("issuers", content[j])
                j -= 1
        elif _PUBLICATION_RE.match(flat):
            bp("publication_note", ln)
        elif _ADDRESSEE_RE.match(flat) or (
            flat.endswith(("：", ":")) and len(flat) <= 80 and not rules.match_numbering(flat)
            and re.search(r"(?:各|有关)|(?:单位|部门|机构|政府|局|委|办|厅|处|街道|镇|公司|银行|分行)[:：]$", flat)
            and not re.search(r"(?:如下|以下|意见|通知|措施|要求|下列|规定)[:：]$", flat)
        ):
            in_notice = True
            bp("addressee", ln)
        elif m.title_line is not None and ln.no > m.title_line:
            continue  # body before the first heading: the preamble
        elif rules.ends_sentence(c) or (in_notice and (not m.notice or not rules.ends_sentence(m.notice[-1].chars))):
            in_notice = True
            m.notice.append(ln)
            m.skip.add(ln.no)
        elif _CONTACT_RE.search(flat):
            bp("contact", ln)
        elif in_notice and _is_notice_title(c):
            bp("notice_title", ln)
        elif in_notice and (_is_signature_line(c) or _ISSUER_TAIL_RE.search(flat)):
            m.issuers += _signature_names(c)  # names printed under the notice: the issuing agencies
            bp("issuers", ln)
        elif in_notice:
            m.notice.append(ln)  # the rest of the notice (an attachment list, a line without a full stop)
            m.skip.add(ln.no)
        elif _is_notice_title(c) or (m.title_line is not None and ln.no < m.title_line):
            bp("notice_title", ln)
        else:
            bp("notice_title", ln)
    return m


def _classify_tail(lines: list[_Line], m: _Matter, first_heading: int) -> None:
    """After the first heading: signatures and dates, 抄送/印发 lines, publication notes, page furniture."""
    in_cc = False
    # page markers are left out, so a signature above a page break still reaches the date below it
    body = [
        ln for ln in lines
        if ln.no > first_heading and ln.chars and ln.raw.strip() not in ("---", "***", "___") and not rules.PAGE_NUMBER_RE.match(ln.raw)
    ]
    for idx, ln in enumerate(body):
        c = ln.chars
        flat = re.sub(r"\s+", "", c)
        if flat.startswith("抄送"):
            in_cc = True
        if in_cc:
            if flat.endswith("印发"):
                d = _date_of(c)
                if d:
                    m.printed.append(d)
                m.boilerplate.append(Boilerplate("printing", _line_span(ln)))
            elif flat.startswith("抄送") or not flat.endswith(("办公厅", "人民政府")):
                m.boilerplate.append(Boilerplate("cc", _line_span(ln)))
            else:
                m.boilerplate.append(Boilerplate("printing", _line_span(ln)))
            m.skip.add(ln.no)
        elif _is_web(c):
            m.boilerplate.append(Boilerplate("web", _line_span(ln)))
            m.skip.add(ln.no)
        elif _is_date_line(c) or _YEAR_LINE_RE.match(flat):
            d = _date_of(c)
            if d:
                m.signed.append(d)
            m.boilerplate.append(Boilerplate("date", _line_span(ln)))
            m.skip.add(ln.no)
            j = idx - 1
            while j >= 0 and idx - j <= 10 and body[j].no not in m.skip and _is_signature_line(body[j].chars):
                m.tail_issuers[0:0] = _signature_names(body[j].chars)
                m.boilerplate.append(Boilerplate("issuers", _line_span(body[j])))
                m.skip.add(body[j].no)
                j -= 1
        elif flat.endswith("印发") and _date_of(c) and len(flat) <= 40:
            m.printed.append(_date_of(c))
            m.boilerplate.append(Boilerplate("printing", _line_span(ln)))
            m.skip.add(ln.no)
        elif _PUBLICATION_RE.match(flat):
            m.boilerplate.append(Boilerplate("publication_note", _line_span(ln)))
            m.skip.add(ln.no)


def _find_attachments(lines: list[_Line], first_heading: int, skip: set[int]) -> dict[int, int]:
    """附件 markers after the body has begun → how many title lines follow each (a list of attachments
    in a notice, ``附件：1. …``, is not one)."""
    out: dict[int, int] = {}
    content = [ln for ln in lines if ln.chars and ln.no > first_heading and ln.no not in skip]
    for k, ln in enumerate(content):
        am = _ATTACHMENT_RE.match(ln.chars)
        if not am or rules.ends_sentence(ln.chars) or re.match(r"^[0-9０-９一二三四五六七八九十]+\s*[.．、]", am.group(2)):
            continue
        n = 0
        if not am.group(2):
            while k + 1 + n < len(content) and n < 3:
                nxt = content[k + 1 + n].chars
                if (
                    rules.ends_sentence(nxt) or len(nxt) > 60 or rules.match_numbering(nxt) or "\t" in content[k + 1 + n].raw
                    or _ATTACHMENT_RE.match(nxt) or nxt.startswith(("序号", "单位"))
                ):
                    break
                n += 1
                if rules.looks_like_title(nxt):
                    break
        out[ln.no] = n
    # a marker followed shortly by another with the same number lists the attachment; the second begins it
    nos = sorted(out)
    for a, b in zip(nos, nos[1:]):
        ma, mb = _ATTACHMENT_RE.match(lines[a].chars), _ATTACHMENT_RE.match(lines[b].chars)
        if ma and mb and (ma.group(1) or "1") == (mb.group(1) or "1"):
            between = [ln for ln in content if a < ln.no < b]
            if len(between) <= 6:
                del out[a]
    return out


# --- entry point ----------------------------------------------------------------------------


def decode(data: bytes, source_path: str) -> str:
    if not data.strip():
        raise ParseError("empty file")
    if b"\x00" in data:
        raise ParseError("binary file (contains NUL bytes), expected UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not valid UTF-8 (byte {exc.start}: {exc.reason})") from None


def _first_heading(lines: list[_Line], page_numbers: set[int]) -> int | None:
    """Where the body begins: the first 第一章/第一节/第一条/一、 (else （一）, else 1.) numbered 1."""
    for max_level in (1, 2, 3):
        for ln in lines:
            if ln.no in page_numbers:
                continue
            n = rules.match_numbering(ln.chars)
            if n is not None and n.level <= max_level and n.value == 1 and n.level != rules.BOX_LEVEL:
                return ln.no
    return None


def _hint_date(value: str | None):
    if not value:
        return None
    d = rules.parse_date(value)
    if d:
        return d
    m = re.match(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value)
    if m:
        import datetime as _dt

        try:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


def parse_text(
    text: str,
    source_path: str,
    *,
    doc_id: str | None = None,
    notes: str = "",
    sha256: str = "",
    paragraph_lines: bool = False,
    hints: dict[str, str] | None = None,
) -> ParsedDocument:
    """Parse decoded document text. ``doc_id`` defaults to one derived from the 文号 (else title/content).

    ``paragraph_lines``: the text came from a converter that knows paragraphs (HTML, Word, Markdown), one per
    line. ``hints``: metadata printed around the body (a page's 发文字号/成文日期 table, front matter), used
    only where the text itself does not say. Nothing missing is fatal: it becomes a warning.
    """
    hints = hints or {}
    warnings: list[str] = []
    lines = _split_lines(text)
    if not any(ln.chars for ln in lines):
        raise ParseError("empty file")
    page_numbers = {ln.no for ln in lines if rules.PAGE_NUMBER_RE.match(ln.raw)}
    rule_lines = {ln.no for ln in lines if ln.raw.strip() in ("---", "***", "___")}

    first_heading = _first_heading(lines, page_numbers)
    if first_heading is None:
        warnings.append("no numbered structure (一、/第一条/…) found: paragraphs kept as they are")
        matter = _classify_matter(lines, len(lines), hints)
        # the body begins after the last piece of front matter that is not the notice
        front = [ln.no for ln in lines if ln.no in matter.skip and ln not in matter.notice]
        start = (matter.title_line if matter.title_line is not None else (max(front) if front else -1))
        first_heading = next((ln.no for ln in lines if ln.no > start and ln.chars and ln.no not in matter.skip), len(lines))
        if matter.notice and all(ln.no > start for ln in matter.notice):
            pass
        matter = _classify_matter(lines, first_heading, hints)
        if first_heading >= len(lines) and matter.title_line is not None:
            # nothing but a title or caption: it is the document's one clause
            first_heading = matter.title_line
            matter.skip -= {matter.title_line}
            matter.boilerplate = [b for b in matter.boilerplate if b.kind != "title"]
    else:
        matter = _classify_matter(lines, first_heading, hints)
    if matter.title is None:
        if hints.get("title"):
            matter.title = rules.clean_inline(hints["title"])
            warnings.append("no title line in the text: title taken from the page's metadata")
        else:
            warnings.append("no document title found")
    _classify_tail(lines, matter, first_heading)

    boilerplate = list(matter.boilerplate)
    boilerplate += [Boilerplate("page_number", _line_span(ln)) for ln in lines if ln.no in page_numbers]
    boilerplate += [Boilerplate("page_number", s) for ln in lines for s in ln.page_marks]
    boilerplate += [Boilerplate("rule", _line_span(ln)) for ln in lines if ln.no in rule_lines]
    boilerplate += [Boilerplate("markup", s) for ln in lines for s in ln.markup]

    body = [
        ln
        for ln in lines
        if ln.chars
        and ln.no not in matter.skip
        and ln.no not in page_numbers
        and ln.no not in rule_lines
        and (matter.title_line is None or ln.no > matter.title_line or ln.no >= first_heading)
    ]
    widths = sorted(ln.width for ln in body if "\t" not in ln.raw)
    # hard-wrapped at page width: most lines, and nearly all long ones, are narrow
    hard_wrapped = (
        statistics.median(widths) < HARD_WRAP_MAX_MEDIAN_WIDTH and widths[int(0.9 * (len(widths) - 1))] < HARD_WRAP_MAX_MEDIAN_WIDTH
        if widths and not paragraph_lines else False
    )
    scale = 1.0
    attachments = _find_attachments(lines, first_heading, matter.skip | page_numbers | rule_lines)
    paras = _paragraphs(body, hard_wrapped, paragraph_lines=paragraph_lines, attachments=attachments, scale=scale)
    uses_agencies = any(rules.AGENCY_LIST_RE.search(p.chars) or _closes_with_note(p.chars) for p in paras)
    root = _build_tree(paras, uses_agencies, paragraph_lines)
    _merge_single_paragraph_sections(root)
    _assign_segments(root)

    head_text = text[: lines[first_heading].start] if first_heading < len(lines) else text
    doc_number = rules.parse_doc_number(head_text)
    if doc_number is None and matter.doc_numbers:
        doc_number = rules.parse_any_doc_number(matter.doc_numbers[0])
    if doc_number is None and hints.get("doc_number"):
        doc_number = rules.parse_any_doc_number(hints["doc_number"])
    if doc_number is None:
        warnings.append("no 文号 found")
    signed = matter.signed[0] if matter.signed else None
    if signed is None:
        signed = _hint_date(hints.get("signed")) or _hint_date(hints.get("published"))
        if signed:
            warnings.append("no signing date in the text: date taken from the page's metadata")
        elif matter.printed:
            signed = matter.printed[0]
            warnings.append("no signing date: the 印发 date is used")
        else:
            warnings.append("no signing date found")

    if doc_id is None:
        doc_id = rules.derive_doc_id(doc_number, Path(source_path).stem) if doc_number and rules.parse_doc_number(doc_number) else None
        if doc_id is None:
            doc_id = rules.derive_general_doc_id(doc_number, matter.title, text)

    clauses: list[Clause] = []
    if matter.notice:
        note_text, note_offs = "".join(ln.chars for ln in matter.notice), [o for ln in matter.notice for o in ln.offs]
        clauses.append(
            Clause(
                clause_id=f"{doc_id}:notice",
                doc_id=doc_id,
                kind="notice",
                number=None,
                section_path=(),
                heading=None,
                text=note_text,
                agencies=(),
                source_path=source_path,
                span=Span(note_offs[0], note_offs[-1] + 1),
                order=0,
                offsets=tuple(note_offs),
            )
        )
    state = _EmitState()
    _emit(root, doc_id, source_path, (), (), clauses, state)
    clauses = [
        c if c.order == i else Clause(**{**{f: getattr(c, f) for f in c.__dataclass_fields__}, "order": i})
        for i, c in enumerate(clauses)
    ]
    if not clauses:
        warnings.append("no clause found")

    full = "\n".join(c.text for c in clauses)
    validity = rules.parse_validity(full)
    valid_from = validity[0] if validity else None
    valid_until = validity[1] if validity else None
    if validity is None:
        vf, vu = rules.parse_validity_loose(full, signed, matter.printed[0] if matter.printed else None)
        valid_from, valid_until = vf, vu
    issuers = tuple(_unit_names(matter.issuers)) or tuple(_unit_names(matter.tail_issuers)) or tuple(_unit_names([matter.issuer or ""]))
    matter.issuer = next(iter(_unit_names([matter.issuer or ""])), None)
    issuer = matter.issuer or (issuers[0] if issuers else "")
    if not issuer and matter.title and "关于" in matter.title:
        issuer = re.sub(r"\s+", "", matter.title.split("关于")[0])
        issuer = issuer if rules.looks_like_agency(issuer) or "部门" in issuer else ""
    if not issuer and hints.get("issuer"):
        issuer = hints["issuer"]
    if not issuer:
        warnings.append("no issuer found")
    document = Document(
        doc_id=doc_id,
        title=matter.title or (clauses[0].text[:40] if clauses else Path(source_path).stem),
        doc_number=doc_number,
        issuer=issuer,
        issued=signed,
        valid_from=valid_from,
        valid_until=valid_until,
        source_path=source_path,
        issuers=issuers,
        plan_period=rules.five_year_plan_period(matter.title or "") or rules.plan_period_in_title(matter.title or ""),
        printed=matter.printed[0] if matter.printed else None,
        notes=notes,
        sha256=sha256,
    )
    return ParsedDocument(
        document,
        tuple(clauses),
        tuple(sorted(boilerplate, key=lambda b: b.span.start)),
        text,
        warnings=tuple(warnings),
        agency_notes=state.notes,
    )


def _closes_with_note(chars: str) -> bool:
    notes = sorted(rules.find_agency_notes(chars) + rules.find_bare_agency_lists(chars), key=lambda n: n.end)
    return bool(notes) and not chars[notes[-1].end :].strip("。.；;，,\n ")


def parse_file(path: Path, source_path: str, *, doc_id: str | None = None, notes: str = "") -> ParsedDocument:
    """Read, convert (any supported format), decode and parse one file; raises ParseError naming the reason."""
    from policyqa.ingest import IngestError, convert_bytes

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}") from None
    try:
        conv = convert_bytes(data, path.name, path)
    except IngestError as exc:
        raise ParseError(exc.reason) from None
    return parse_converted(conv, source_path, doc_id=doc_id, notes=notes, sha256=hashlib.sha256(data).hexdigest())


def parse_converted(conv, source_path: str, *, doc_id: str | None = None, notes: str = "", sha256: str = "") -> ParsedDocument:
    """Parse the output of :func:`policyqa.ingest.convert_bytes`."""
    pd = parse_text(
        conv.text, source_path, doc_id=doc_id, notes=notes, sha256=sha256,
        paragraph_lines=conv.fmt in ("html", "docx", "doc", "markdown"), hints=dict(conv.hints),
    )
    if conv.warnings:
        pd = ParsedDocument(pd.document, pd.clauses, pd.boilerplate, pd.text, pd.warnings + tuple(conv.warnings), pd.agency_notes)
    return pd
