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
)

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

    @property
    def width(self) -> float:
        return rules.line_width(self.chars)


def _split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    pos = 0
    for no, raw in enumerate(text.split("\n")):
        markup: list[Span] = []
        keep = [True] * len(raw)
        for m in rules.MARKUP_RE.finditer(raw):
            if m.group(0).startswith("#") and raw[: m.start()].strip(" \u3000\t"):
                continue  # a '#' after text is content, not a heading mark
            for i in range(m.start(), m.end()):
                keep[i] = False
            if m.group(0).strip():
                markup.append(Span(pos + m.start(), pos + m.end()))
        kept = [(i, ch) for i, ch in enumerate(raw) if keep[i]]
        # strip outer whitespace of the kept characters
        while kept and kept[0][1] in " \u3000\t\r\ufeff":
            kept.pop(0)
        while kept and kept[-1][1] in " \u3000\t\r\ufeff":
            kept.pop()
        chars = "".join(ch for _, ch in kept)
        offs = [pos + i for i, _ in kept]
        indented = raw.lstrip(" ").startswith("\u3000\u3000")
        lines.append(_Line(no, pos, raw, chars, offs, indented, markup))
        pos += len(raw) + 1
    return lines


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


def _paragraphs(lines: list[_Line], hard_wrapped: bool) -> list[_Para]:
    paras: list[_Para] = []
    seq = _Sequence()
    current: _Para | None = None
    in_box = False
    for k, line in enumerate(lines):
        if in_box and hard_wrapped and k + 1 < len(lines):
            # two main-width lines in a row cannot be box text (box lines run ~37 wide): the box is over
            if all(SHORT_LINE_MAIN <= ln.width < BOX_LINE_MIN for ln in (line, lines[k + 1])):
                in_box = False
        numbering = rules.match_numbering(line.chars)
        if numbering and not seq.accepts(numbering):
            numbering = None
        if current is None:
            starts = True
        elif numbering or line.chars.startswith("——") or line.indented:
            starts = True
        elif rules.AGENCY_LIST_RE.match(line.chars):
            starts = True
        else:
            prev = current.lines[-1]
            if hard_wrapped and len(current.lines) == 1 and current.kind == "numbered" and _is_heading_line(prev.chars):
                # a numbered title wraps only onto a short unpunctuated tail (…国际竞 / 争力)
                starts = not (
                    prev.width >= SHORT_LINE_MAIN and line.width < VERY_SHORT_LINE and not rules.ends_sentence(line.chars)
                )
            elif hard_wrapped:
                # a short line ends its paragraph; one stopping mid-sentence only when very short, since
                # narrow characters (－, Latin) make some full lines look short
                short = prev.width < (SHORT_LINE_BOX if in_box else SHORT_LINE_MAIN)
                starts = short and (rules.ends_sentence(prev.chars) or prev.width < VERY_SHORT_LINE)
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
            elif rules.AGENCY_LIST_RE.match(line.chars):
                current.kind = "agencies"
        else:
            assert current is not None
            current.lines.append(line)
    if current is not None:
        paras.append(current)
    return _mark_tables(paras)


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
        return rules.find_agency_list("".join(p.chars for p in self.paras)) is not None


def _build_tree(paras: list[_Para], uses_agencies: bool) -> _Node:
    root = _Node(level=0, kind="root")
    stack: list[_Node] = [root]
    last_numbered = max((i for i, p in enumerate(paras) if p.kind == "numbered"), default=-1)
    closing = False
    last_content: _Node | None = None
    for i, p in enumerate(paras):
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
        if top.kind == "box" and not p.is_box_width and p.kind != "table":
            stack.pop()
            top = stack[-1]
        if top.numbering is not None and top.kind != "box" and not top.heading_only:
            if uses_agencies and not top.has_agencies():
                top.paras.append(p)  # the clause goes on after a page break or a paragraph break
                last_content = top
                continue
            stack.pop()
            top = stack[-1]
            if i > last_numbered:
                closing = True
        if closing:
            top = root
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
    ):
        node.paras += [p for c in node.children for p in c.paras]
        node.children = []
        node.heading_only = False
        node.kind = "clause"


def _assign_segments(node: _Node) -> None:
    counters: dict[str, int] = {}
    used: set[str] = set()
    for child in node.children:
        if child.numbering is not None:
            seg = f"box{child.numbering.value}" if child.kind == "box" else str(child.numbering.value)
        else:
            prefix = "table" if child.kind == "table" else "p"
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
    return rules.clean_inline(node.paras[0].chars)


def _node_text(node: _Node) -> tuple[str, list[int]]:
    chars: list[str] = []
    offs: list[int] = []
    for k, p in enumerate(node.paras):
        pc, po = p.chars, p.offs
        if k == 0 and node.numbering is not None:
            cut = len(node.numbering.marker)
            pc, po = pc[cut:], po[cut:]
            while pc and pc[0] in " \u3000":
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


def _emit(
    node: _Node,
    doc_id: str,
    source_path: str,
    path: tuple[str, ...],
    section_path: tuple[str, ...],
    out: list[Clause],
) -> None:
    for child in node.children:
        segs = path + (child.segment,)
        clause_id = f"{doc_id}:{'.'.join(segs)}"
        text, offs = _node_text(child)
        first = child.paras[0].offs[0]
        last = child.paras[-1].offs[-1] + 1
        kind = child.kind
        if kind == "box":
            kind = "section"
        elif kind == "clause" and child.heading_only:
            kind = "section"
        heading: str | None
        if kind == "section":
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
        found = rules.find_agency_list(text)
        agencies = rules.split_agencies(found[2]) if found else ()
        out.append(
            Clause(
                clause_id=clause_id,
                doc_id=doc_id,
                kind=kind,
                number=child.numbering.marker if child.numbering else None,
                section_path=section_path,
                heading=heading or None,
                text=text,
                agencies=agencies,
                source_path=source_path,
                span=Span(first, last),
                order=len(out),
                offsets=tuple(offs),
            )
        )
        if child.children:
            _emit(child, doc_id, source_path, segs, section_path + (_heading_as_written(child),), out)


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


def _is_title(chars: str) -> bool:
    return (
        0 < len(chars) <= 60
        and not rules.ends_sentence(chars)
        and chars.endswith(rules.TITLE_SUFFIXES[:-2])
        and "印发" not in chars
        and "通知" not in chars
        and rules.match_numbering(chars) is None
    )


def _classify_matter(lines: list[_Line], first_heading: int) -> _Matter:
    """Sort the lines before the first heading and after the body into boilerplate kinds."""
    m = _Matter()

    def bp(kind: str, line: _Line) -> None:
        m.boilerplate.append(Boilerplate(kind, _line_span(line)))
        m.skip.add(line.no)

    content = [ln for ln in lines if ln.chars]
    titles = [ln for ln in content if ln.no < first_heading and _is_title(ln.chars)]
    if titles:
        m.title, m.title_line = rules.clean_inline(titles[-1].chars), titles[-1].no
        bp("title", titles[-1])
    in_notice = False  # after the addressee (or the first full sentence) comes the notice text
    for ln in content:
        if ln.no >= first_heading:
            break
        c = ln.chars
        flat = re.sub(r"\s+", "", c)
        if ln.no == m.title_line:
            continue
        if flat.endswith("文件") and len(flat) <= 20:
            m.issuer = flat[: -len("文件")]
            bp("letterhead", ln)
        elif rules.DOC_NUMBER_RE.fullmatch(c.strip()):
            bp("letterhead", ln)
        elif rules.DATE_RE.fullmatch(c.strip()):
            m.signed.append(rules.parse_date(c))
            bp("date", ln)
        elif _PUBLICATION_RE.match(flat):
            bp("publication_note", ln)
        elif _ADDRESSEE_RE.match(flat):
            in_notice = True
            bp("addressee", ln)
        elif m.title_line is not None and ln.no > m.title_line:
            continue  # body before the first heading: the preamble
        elif rules.ends_sentence(c) or (in_notice and (not m.notice or not rules.ends_sentence(m.notice[-1].chars))):
            in_notice = True
            m.notice.append(ln)
            m.skip.add(ln.no)
        elif in_notice:
            m.issuers.append(flat)  # names printed under the notice: the issuing agencies
            bp("issuers", ln)
        else:
            bp("notice_title", ln)
    return m


def _classify_tail(lines: list[_Line], m: _Matter, first_heading: int) -> None:
    in_cc = False
    for ln in lines:
        if ln.no <= first_heading or not ln.chars or ln.raw.strip() in ("---", "***", "___"):
            continue
        c = ln.chars
        flat = re.sub(r"\s+", "", c)
        if flat.startswith("抄送"):
            in_cc = True
        if in_cc:
            if flat.endswith("印发"):
                d = rules.parse_date(c)
                if d:
                    m.printed.append(d)
                m.boilerplate.append(Boilerplate("printing", _line_span(ln)))
            elif flat.startswith("抄送") or not flat.endswith(("办公厅", "人民政府")):
                m.boilerplate.append(Boilerplate("cc", _line_span(ln)))
            else:
                m.boilerplate.append(Boilerplate("printing", _line_span(ln)))
            m.skip.add(ln.no)
        elif rules.DATE_RE.fullmatch(c.strip()):
            m.signed.append(rules.parse_date(c))
            m.boilerplate.append(Boilerplate("date", _line_span(ln)))
            m.skip.add(ln.no)
        elif _PUBLICATION_RE.match(flat):
            m.boilerplate.append(Boilerplate("publication_note", _line_span(ln)))
            m.skip.add(ln.no)


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


def parse_text(
    text: str,
    source_path: str,
    *,
    doc_id: str | None = None,
    notes: str = "",
    sha256: str = "",
) -> ParsedDocument:
    """Parse decoded document text. ``doc_id`` defaults to one derived from the 文号."""
    lines = _split_lines(text)
    page_numbers = {ln.no for ln in lines if rules.PAGE_NUMBER_RE.match(ln.raw)}
    rule_lines = {ln.no for ln in lines if ln.raw.strip() in ("---", "***", "___")}

    first_heading = next(
        (
            ln.no
            for ln in lines
            if ln.no not in page_numbers
            and (n := rules.match_numbering(ln.chars)) is not None
            and n.level == 1
            and n.value == 1
        ),
        None,
    )
    if first_heading is None:
        raise ParseError("no recognisable structure: no top-level numbered heading (一、) found")
    matter = _classify_matter(lines, first_heading)
    if matter.title is None:
        raise ParseError("no recognisable structure: no document title (…意见/措施/方案/规划) before 一、")
    _classify_tail(lines, matter, first_heading)

    boilerplate = list(matter.boilerplate)
    boilerplate += [Boilerplate("page_number", _line_span(ln)) for ln in lines if ln.no in page_numbers]
    boilerplate += [Boilerplate("rule", _line_span(ln)) for ln in lines if ln.no in rule_lines]
    boilerplate += [Boilerplate("markup", s) for ln in lines for s in ln.markup]

    body = [
        ln
        for ln in lines
        if ln.chars
        and ln.no not in matter.skip
        and ln.no not in page_numbers
        and ln.no not in rule_lines
        and (matter.title_line is None or ln.no > matter.title_line)
    ]
    widths = [ln.width for ln in body]
    hard_wrapped = statistics.median(widths) < HARD_WRAP_MAX_MEDIAN_WIDTH if widths else False
    paras = _paragraphs(body, hard_wrapped)
    uses_agencies = any(rules.AGENCY_LIST_RE.search(p.chars) for p in paras)
    root = _build_tree(paras, uses_agencies)
    _merge_single_paragraph_sections(root)
    _assign_segments(root)

    doc_number = rules.parse_doc_number(text[: lines[first_heading].start])
    signed = matter.signed[0] if matter.signed else None
    if signed is None:
        raise ParseError("no signing date (YYYY年M月D日 on a line of its own) found")
    if doc_id is None:
        doc_id = rules.derive_doc_id(doc_number, Path(source_path).stem)

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
    _emit(root, doc_id, source_path, (), (), clauses)
    clauses = [
        c if c.order == i else Clause(**{**{f: getattr(c, f) for f in c.__dataclass_fields__}, "order": i})
        for i, c in enumerate(clauses)
    ]

    full = "\n".join(c.text for c in clauses)
    validity = rules.parse_validity(full)
    document = Document(
        doc_id=doc_id,
        title=matter.title,
        doc_number=doc_number,
        issuer=matter.issuer or (matter.issuers[0] if matter.issuers else ""),
        issued=signed,
        valid_from=validity[0] if validity else None,
        valid_until=validity[1] if validity else None,
        source_path=source_path,
        issuers=tuple(matter.issuers) or ((matter.issuer,) if matter.issuer else ()),
        plan_period=rules.five_year_plan_period(matter.title),
        printed=matter.printed[0] if matter.printed else None,
        notes=notes,
        sha256=sha256,
    )
    return ParsedDocument(document, tuple(clauses), tuple(sorted(boilerplate, key=lambda b: b.span.start)), text)


def parse_file(path: Path, source_path: str, *, doc_id: str | None = None, notes: str = "") -> ParsedDocument:
    """Read, decode and parse one file; raises ParseError naming the reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}") from None
    text = decode(data, source_path)
    return parse_text(text, source_path, doc_id=doc_id, notes=notes, sha256=hashlib.sha256(data).hexdigest())
