"""Convert a published file to one normalised text the parser reads, with a map back to the original.

Formats: plain text in any common encoding (UTF-8/16/32 with or without BOM, GB18030/GBK/GB2312, Big5…),
Markdown (front matter, markup and HTML entities removed, char offsets kept), HTML (charset declared or
detected; the main text only; tables as rows of tab-separated cells), PDF with a text layer (page numbers
and running heads dropped), scanned PDF through Tesseract OCR, DOCX (paragraphs and tables in order),
DOC/WPS/RTF/ODT through headless LibreOffice, OFD (text objects by position). Failures raise :class:`IngestError` naming the file and why.

``Converted.text`` is what the parser reads. For plain text it *is* the decoded original, so spans index
the original file; for Markdown ``source_map`` gives, for each character, its offset in the decoded original;
for the other formats spans index the converted text, which is stored beside the original.
"""

from __future__ import annotations

import codecs
import html
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

TEXT_SUFFIXES = (".txt", ".text")
MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")
PDF_SUFFIXES = (".pdf",)
DOCX_SUFFIXES = (".docx",)
OFFICE_SUFFIXES = (".doc", ".wps", ".rtf", ".odt", ".wpt", ".dot")
OFD_SUFFIXES = (".ofd",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + MARKDOWN_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES + DOCX_SUFFIXES + OFFICE_SUFFIXES + OFD_SUFFIXES

# Keys of the metadata tables / front matter publishers print around a document → our field names.
_HINT_KEYS = {
    "标题": "title",
    "名称": "title",
    "文号": "doc_number",
    "发文字号": "doc_number",
    "发文机关": "issuer",
    "发布机构": "issuer",
    "发布单位": "issuer",
    "发文单位": "issuer",
    "成文日期": "signed",
    "发布日期": "published",
    "公布日期": "published",
    # where the document is officially published: the clause page links to it
    "原文链接": "url",
    "原文地址": "url",
    "网址": "url",
    "链接": "url",
    "url": "url",
    "source_url": "url",
}


class IngestError(ValueError):
    """A file that cannot be converted; the message names the file and the reason."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Converted:
    text: str
    fmt: str  # text | markdown | html | pdf | pdf-ocr | docx | doc
    name: str  # the original file's name
    encoding: str | None = None
    source_map: tuple[int, ...] | None = None  # per character of text: offset in the decoded original
    text_is_source: bool = False  # text equals the decoded original file (spans index the original)
    hints: dict[str, str] = field(default_factory=dict)  # metadata printed around the body (meta tables, front matter)
    warnings: tuple[str, ...] = ()
    pages: tuple[int, ...] = ()  # offsets in text where each PDF page begins


# --- text -------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _looks_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: every other byte is mostly NUL (ASCII) or the text decodes to CJK."""
    if len(data) < 4 or len(data) % 2:
        return None
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            s = data.decode(enc)
        except UnicodeDecodeError:
            continue
        good = sum(ch.isprintable() or ch in "\n\r\t" for ch in s)
        if good / max(len(s), 1) > 0.97:
            return enc
    return None


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode text bytes in any common encoding → (text, encoding). Raises IngestError."""
    if not data.strip():
        raise IngestError(name, "empty file")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise IngestError(name, f"not valid {enc} despite its byte-order mark ({exc.reason})") from None
    if b"\x00" in data:
        enc = _looks_utf16(data)
        if enc:
            return data.decode(enc), enc
        raise IngestError(name, "binary file (contains NUL bytes), not text in any known encoding")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    pua = re.compile(r"[\ue000-\uf8ff]")  # private-use characters: the sign of a wrong Chinese codec
    try:
        gb = data.decode("gb18030")  # a superset of GBK and GB2312
    except UnicodeDecodeError:
        gb = None
    if gb is not None and not pua.search(gb):
        return gb, "gb18030"
    try:
        big5 = data.decode("big5")  # traditional-character text (Hong Kong, Macao, Taiwan)
        if not pua.search(big5):
            return big5, "big5"
    except UnicodeDecodeError:
        pass
    if gb is not None:
        return gb, "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise IngestError(name, "not text in any known encoding (tried UTF-8, UTF-16, GB18030 and detection)")
    return str(best), best.encoding


# --- markdown ---------------------------------------------------------------------------------

_FRONT_MATTER_RE = re.compile(r"\A(?:\ufeff)?---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_MD_LINK_RE = re.compile(r"!?\[([^\]\n]*)\]\(([^)\n]*)\)")
_MD_AUTOLINK_RE = re.compile(r"<(https?://[^>\s]+)>")


def _md_line(line: str, base: int) -> tuple[list[str], list[int]]:
    """One Markdown line → its characters without markup, each with its offset in the original."""
    keep = [True] * len(line)
    repl: dict[int, str] = {}

    def drop(a: int, b: int) -> None:
        for i in range(a, b):
            keep[i] = False

    m = re.match(r"^[ \t]{0,3}(?:>[ \t]?)+", line)  # block quote marks
    if m:
        drop(m.start(), m.end())
    m = re.match(r"^(\s*(?:>\s*)*)(#{1,6})[ \t]+", line)  # heading marks
    if m:
        drop(m.start(2), m.end())
        t = re.search(r"[ \t]+#+[ \t]*$", line)
        if t:
            drop(t.start(), t.end())
    m = re.match(r"^\s*[-*+][ \t]+(?=\S)", line)  # bullet
    if m and not re.match(r"^\s*[-*_](\s*[-*_]){2,}\s*$", line):
        drop(m.start(), m.end())
    for m in _MD_LINK_RE.finditer(line):  # [text](url) → text; images vanish
        drop(m.start(), m.start(1) + (0 if not m.group(0).startswith("!") else 0))
        if m.group(0).startswith("!"):
            drop(m.start(), m.end())
        else:
            drop(m.start(), m.start(1))
            drop(m.end(1), m.end())
    for m in _MD_AUTOLINK_RE.finditer(line):
        drop(m.start(), m.start(1))
        drop(m.end(1), m.end())
    for m in re.finditer(r"\*\*|__|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])", line):  # emphasis
        drop(m.start(), m.end())
    for m in _ENTITY_RE.finditer(line):
        ch = html.unescape(m.group(0))
        if ch != m.group(0):
            repl[m.start()] = ch
            drop(m.start() + 1, m.end())
    for m in re.finditer(r"\\([\\`*_{}\[\]()#+\-.!|>])", line):  # backslash escapes
        keep[m.start()] = False
    if re.match(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", line) and "|" in line:
        drop(0, len(line))  # table separator row
    elif line.strip().startswith("|") and line.strip().endswith("|") and line.count("|") >= 3:
        s = line.index("|")
        e = line.rindex("|")
        drop(s, s + 1)
        drop(e, e + 1)
        for i in range(s + 1, e):
            if line[i] == "|" and keep[i]:
                repl[i] = "\t"
        for i in range(s, e + 1):  # cell padding
            if line[i] == "|":
                j = i - 1
                while j > s and line[j] == " ":
                    keep[j] = False
                    j -= 1
                j = i + 1
                while j < e and line[j] == " ":
                    keep[j] = False
                    j += 1
    if re.match(r"^\s*([-*_])(\s*\1){2,}\s*$", line):
        drop(0, len(line))  # a horizontal rule
    chars: list[str] = []
    offs: list[int] = []
    for i, ch in enumerate(line):
        if i in repl:
            chars.append(repl[i])
            offs.append(base + i)
        elif keep[i]:
            chars.append(ch)
            offs.append(base + i)
    return chars, offs


def _parse_front_matter(block: str) -> dict[str, str]:
    hints: dict[str, str] = {}
    for line in block.splitlines():
        m = re.match(r"^\s*([^:：#]{1,12})\s*[:：]\s*(.+?)\s*$", line)
        if m:
            key = re.sub(r"\s+", "", m.group(1))
            if key in _HINT_KEYS or key.lower() in _HINT_KEYS:
                hints.setdefault(_HINT_KEYS.get(key) or _HINT_KEYS[key.lower()], m.group(2).strip("'\""))
    if "url" in hints and not re.match(r"^https?://\S+$", hints["url"]):
        del hints["url"]
    return hints


def convert_markdown(original: str, name: str) -> tuple[str, tuple[int, ...], dict[str, str]]:
    hints: dict[str, str] = {}
    start = 0
    m = _FRONT_MATTER_RE.match(original)
    if m:
        hints = _parse_front_matter(m.group(1))
        start = m.end()
    chars: list[str] = []
    offs: list[int] = []
    pos = start
    in_fence = False
    for line in original[start:].split("\n"):
        if line.strip().startswith("```"):
            in_fence = not in_fence
            lc, lo = [], []
        elif re.match(r"^\s*<!--.*-->\s*$", line):
            lc, lo = [], []
        else:
            lc, lo = _md_line(line, pos) if not in_fence else (list(line), list(range(pos, pos + len(line))))
        chars += lc
        offs += lo
        chars.append("\n")
        offs.append(pos + len(line))
        pos += len(line) + 1
    if chars and offs[-1] >= len(original):
        chars.pop()
        offs.pop()
    return "".join(chars), tuple(offs), hints


# --- HTML -------------------------------------------------------------------------------------

_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt",
    "dd", "blockquote", "pre", "table", "tr", "center", "header", "footer", "form", "address", "figure", "figcaption",
    "font",
}
_SKIP_TAGS = {"script", "style", "noscript", "iframe", "svg", "canvas", "template", "head", "select", "button", "nav", "object"}
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def _decode_html(data: bytes, name: str) -> tuple[str, str]:
    m = _CHARSET_RE.search(data[:4096])
    if m:
        enc = m.group(1).decode("ascii").lower()
        if enc in ("gb2312", "gbk", "x-gbk"):
            enc = "gb18030"  # pages declaring GB2312 routinely use GBK characters
        try:
            return data.decode(enc), enc
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration: detect instead
    return decode_text(data, name)


def _cjk_len(s: str) -> int:
    return len(_CJK_RE.findall(s))


def _own_text(node) -> str:
    """Text of ``node`` outside its block-level descendants (and outside links)."""
    parts: list[str] = []
    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            parts.append(child.text_content or "")
        elif tag in _SKIP_TAGS or tag in _BLOCK_TAGS or tag == "a":
            pass
        elif tag not in ("-comment",):
            parts.append(_own_text(child))
        child = child.next
    return "".join(parts)


def _main_node(tree):
    """The element holding the main text: paragraphs credit their parent fully and grandparent by half
    (the Readability heuristic), link text counts for nothing. On a tie the first wins."""
    scores: dict[int, float] = {}
    nodes: dict[int, object] = {}
    body = tree.body or tree.root
    for node in body.traverse(include_text=False):
        if node.tag in _SKIP_TAGS:
            continue
        if node.tag not in ("p", "div", "td", "li", "span", "font", "h1", "h2", "h3", "h4", "center", "section", "pre"):
            continue
        n = _cjk_len(_own_text(node))
        if n < 4:
            continue
        parent = node.parent
        weight = 1.0
        for _ in range(2):
            if parent is None:
                break
            key = parent.mem_id
            nodes[key] = parent
            scores[key] = scores.get(key, 0.0) + n * weight
            parent = parent.parent
            weight /= 2
    if not scores:
        return body
    best = max(scores, key=lambda k: scores[k])
    node = nodes[best]
    return node


def _inside(n, root) -> bool:
    p = n.parent
    while p is not None:
        if p.mem_id == root.mem_id:
            return True
        p = p.parent
    return False


def _visible_text(node) -> str:
    out: list[str] = []
    for n in node.traverse(include_text=True):
        if n.tag == "-text" and _inside(n, node):
            p = n.parent
            skip = False
            while p is not None and p.mem_id != node.mem_id:
                if p.tag in _SKIP_TAGS or p.tag == "a":
                    skip = True
                    break
                p = p.parent
            if not skip:
                out.append(n.text_content or "")
    return "".join(out)


class _HtmlWriter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cur: list[str] = []

    def text(self, s: str) -> None:
        s = re.sub(r"[\r\n\t]+", " ", s)
        if not self.cur:
            s = s.lstrip(" ")
        self.cur.append(s)

    def newline(self) -> None:
        line = "".join(self.cur).rstrip(" ")
        if line.strip(" \u3000\u00a0\u2002\u2003"):
            self.lines.append(line)
        self.cur = []


def _cell_text(cell) -> str:
    w = _HtmlWriter()
    _walk(cell, w, in_cell=True)
    w.newline()
    return " ".join(x.strip(" \u3000\u00a0\u2002\u2003") for x in w.lines).strip()


def _table(node, w: _HtmlWriter) -> None:
    # (selectolax's traverse() runs on into the following siblings: css() keeps to the subtree)
    rows = [r for r in node.css("tr") if _closest_table(r).mem_id == node.mem_id]
    cells_per_row = [[c for c in r.iter(include_text=False) if c.tag in ("td", "th")] for r in rows]
    nested = bool(node.css("table table")) or any(t.mem_id != node.mem_id for t in node.css("table"))
    layout = nested or all(sum(1 for c in cells if _cjk_len(c.text(deep=True)) or c.text(deep=True).strip()) <= 1 for cells in cells_per_row)
    if layout:  # a layout table: its cells are just blocks
        for cells in cells_per_row:
            for c in cells:
                w.newline()
                _walk(c, w)
                w.newline()
        return
    w.newline()
    # lay the cells on a grid so every column keeps its meaning: a cell spanning rows (rowspan) leaves an empty
    # cell in the rows below, one spanning columns (colspan) empty cells to its right
    carry: dict[int, int] = {}  # column → rows still covered by a cell from above
    for cells in cells_per_row:
        texts: list[str] = []
        col = 0
        for c in cells:
            while carry.get(col, 0) > 0:
                texts.append("")
                carry[col] -= 1
                col += 1
            t = _cell_text(c).replace("\t", " ")
            cs = _span(c, "colspan")
            rs = _span(c, "rowspan")
            for k in range(cs):
                texts.append(t if k == 0 else "")
                if rs > 1:
                    carry[col] = rs - 1
                col += 1
        while any(carry.get(k, 0) > 0 for k in range(col, col + 50)):
            if carry.get(col, 0) > 0:
                carry[col] -= 1
            texts.append("")
            col += 1
        filled = [t for t in texts if t]
        if filled:
            w.lines.append("\t".join(texts).rstrip("\t") if len(filled) > 1 else filled[0])
    w.newline()


def _span(cell, attr: str) -> int:
    v = str(cell.attributes.get(attr) or "1").strip()
    return max(1, min(int(v), 100)) if v.isdigit() else 1


def _closest_table(node):
    p = node.parent
    while p is not None and p.tag != "table":
        p = p.parent
    return p


def _walk(node, w: _HtmlWriter, in_cell: bool = False) -> None:
    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            w.text(child.text_content or "")
        elif tag == "-comment" or tag in _SKIP_TAGS:
            pass
        elif tag == "br":
            w.newline()
        elif tag == "table" and not in_cell:
            _table(child, w)
        elif tag in _BLOCK_TAGS or tag in ("td", "th"):
            w.newline()
            _walk(child, w, in_cell)
            w.newline()
        elif tag == "img":
            pass
        else:
            _walk(child, w, in_cell)
        child = child.next


def _html_hints(tree) -> dict[str, str]:
    """Key/value metadata publishers print around the body (索引号/发文字号/成文日期 tables, <meta> tags)."""
    hints: dict[str, str] = {}
    for cell in tree.css("td, th, span, li, div, p"):
        key = re.sub(r"[\s\u3000\u00a0:：]+", "", cell.text(deep=True, separator=""))
        if key in _HINT_KEYS and len(key) <= 6:
            nxt = cell.next
            while nxt is not None and (nxt.tag == "-text" and not (nxt.text_content or "").strip()):
                nxt = nxt.next
            if nxt is not None:
                val = re.sub(r"\s+", " ", nxt.text(deep=True) if nxt.tag != "-text" else (nxt.text_content or "")).strip()
                if val and len(val) < 200:
                    hints.setdefault(_HINT_KEYS[key], val)
    for meta in tree.css("meta[name]"):
        n = (meta.attributes.get("name") or "").lower()
        v = (meta.attributes.get("content") or "").strip()
        if v and n in ("articletitle", "arttitle"):
            hints.setdefault("title", v)
    # the page's own address, as it declares it: the official publication a clause page links to
    canonical = tree.css_first('link[rel="canonical"]')
    og = tree.css_first('meta[property="og:url"]')
    for v in ((canonical.attributes.get("href") if canonical else None), (og.attributes.get("content") if og else None)):
        if v and re.match(r"^https?://\S+$", v.strip()):
            hints.setdefault("url", v.strip())
    if "url" in hints and not re.match(r"^https?://\S+$", hints["url"]):
        del hints["url"]  # a 网址/链接 cell that is not an address
    return hints


def convert_html(data: bytes, name: str) -> tuple[str, str, dict[str, str]]:
    from selectolax.parser import HTMLParser

    raw, enc = _decode_html(data, name)
    tree = HTMLParser(raw)
    if tree.body is None and tree.root is None:
        raise IngestError(name, "HTML without any content")
    hints = _html_hints(tree)
    main = _main_node(tree)
    w = _HtmlWriter()
    if main.tag == "table":
        _table(main, w)
    else:
        _walk(main, w)
    w.newline()
    text = "\n".join(w.lines)
    if _cjk_len(text) < 20:
        raise IngestError(name, "no Chinese body text found in the HTML page")
    return text, enc, hints


# --- PDF --------------------------------------------------------------------------------------

_PAGE_NO_RE = re.compile(r"^\s*[—–－\-－~～]*\s*(?:第\s*)?[0-9０-９]{1,4}\s*(?:页|/\s*[0-9０-９]{1,4})?\s*[—–－\-－~～]*\s*$")


def _norm_head(line: str) -> str:
    return re.sub(r"[0-9０-９\s]+", "#", line.strip())


def _clean_pages(pages: list[str]) -> tuple[str, tuple[int, ...]]:
    """Drop page numbers and running heads/feet (a first or last line repeated on most pages)."""
    split = [[ln.rstrip() for ln in p.replace("\r", "").split("\n")] for p in pages]
    edges: dict[str, int] = {}
    for lines in split:
        content = [ln for ln in lines if ln.strip() and not _PAGE_NO_RE.match(ln)]
        for ln in {*content[:1], *content[-1:]}:
            if not ln.rstrip().endswith(("。", "；", "！", "？", ".", ";")):  # a running head is not a sentence
                edges[_norm_head(ln)] = edges.get(_norm_head(ln), 0) + 1
    running = {k for k, n in edges.items() if len(split) >= 3 and n >= max(3, 0.5 * len(split)) and len(k) <= 40}
    out: list[str] = []
    starts: list[int] = []
    pos = 0
    for lines in split:
        content_idx = [i for i, ln in enumerate(lines) if ln.strip()]
        drop: set[int] = set()
        for i in content_idx[:2] + content_idx[-2:]:
            if _PAGE_NO_RE.match(lines[i]) or (_norm_head(lines[i]) in running and not lines[i].rstrip().endswith(("。", "；"))):
                drop.add(i)
        # page numbers printed mid-stream (—3— inside a sentence wrap) are dropped wherever they stand
        for i in content_idx:
            if re.match(r"^\s*[—–－\-]\s*[0-9０-９]{1,4}\s*[—–－\-]\s*$", lines[i]):
                drop.add(i)
        kept = [ln for i, ln in enumerate(lines) if i not in drop]
        page = "\n".join(kept).strip("\n")
        starts.append(pos)
        out.append(page)
        pos += len(page) + 1
    return "\n".join(out), tuple(starts)


def _ocr_available() -> str | None:
    exe = shutil.which("tesseract")
    if not exe:
        return None
    try:
        langs = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return exe if "chi_sim" in langs.split() else None


def _ocr_pdf(reader, name: str) -> list[str]:
    exe = _ocr_available()
    if exe is None:
        raise IngestError(
            name,
            "scanned PDF without a text layer: OCR needs Tesseract with Chinese (Debian: apt-get install "
            "tesseract-ocr tesseract-ocr-chi-sim), which is not installed",
        )
    pages: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, page in enumerate(reader.pages):
            images = list(page.images)
            if not images:
                pages.append("")
                continue
            img = max(images, key=lambda im: len(im.data))
            path = Path(tmp) / f"p{k}.png"
            img.image.convert("L").save(path)
            try:
                res = subprocess.run(
                    [exe, str(path), "stdout", "-l", "chi_sim", "--psm", "6"],
                    capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_THREAD_LIMIT": "1"},
                )
            except subprocess.TimeoutExpired:
                raise IngestError(name, f"OCR of page {k + 1} timed out") from None
            if res.returncode != 0:
                raise IngestError(name, f"OCR failed on page {k + 1}: {res.stderr.strip()[:200]}")
            pages.append(_clean_ocr(res.stdout))
    return pages


def _clean_ocr(s: str) -> str:
    """Tesseract puts spaces between CJK characters; drop them (keep spaces between Latin words)."""
    cjk = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef“”‘’、。，：；！？（）《》〔〕【】—…]"
    s = re.sub(rf"(?<={cjk})[ \t]+(?={cjk})", "", s)
    s = re.sub(rf"(?<={cjk})[ \t]+(?=[0-9])|(?<=[0-9])[ \t]+(?={cjk})", "", s)
    # OCR reads the enumeration comma of a heading (一、) as a comma or a full stop
    s = re.sub(r"(?m)^([一二三四五六七八九十]{1,3})\s*[,，.．]\s*(?=[\u4e00-\u9fff])", r"\1、", s)
    return s


def convert_pdf(data: bytes, name: str) -> tuple[str, str, tuple[int, ...], list[str]]:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warnings: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                raise IngestError(name, "encrypted PDF") from None
        raw_pages = [(p.extract_text() or "") for p in reader.pages]
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(name, f"not a readable PDF ({exc})") from None
    if not raw_pages:
        raise IngestError(name, "PDF without pages")
    chars = sum(len(re.sub(r"\s", "", p)) for p in raw_pages)
    fmt = "pdf"
    if chars / len(raw_pages) < 15:  # no real text layer (at most a scanner's watermark): a scan
        raw_pages = _ocr_pdf(reader, name)
        fmt = "pdf-ocr"
        warnings.append("text recognised by OCR from a scan: check quotes against the original")
    text, starts = _clean_pages(raw_pages)
    if not text.strip():
        raise IngestError(name, "PDF without any text")
    return text, fmt, starts, warnings


# --- Word -------------------------------------------------------------------------------------


def convert_docx(data: bytes, name: str) -> str:
    import io
    import zipfile

    try:
        from docx import Document as Docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError:  # pragma: no cover
        raise IngestError(name, "python-docx is not installed") from None
    try:
        doc = Docx(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError(name, f"not a readable DOCX file ({exc})") from None
    except Exception as exc:  # python-docx raises assorted errors on broken packages
        raise IngestError(name, f"not a readable DOCX file ({type(exc).__name__}: {exc})") from None
    lines: list[str] = []

    def para_text(p) -> str:
        return p.text.replace("\t", " ")

    def table_rows(t) -> None:
        for row in t.rows:
            seen: list[int] = []
            cells: list[str] = []
            for c in row.cells:
                if id(c._tc) in seen:  # a merged cell is returned once per grid column
                    continue
                seen.append(id(c._tc))
                cells.append(" ".join(para_text(p).strip() for p in c.paragraphs if p.text.strip()))
            filled = [c for c in cells if c]
            if len(filled) > 1:
                lines.append("\t".join(cells))
            elif filled:
                lines.append(filled[0])

    body = doc.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(para_text(Paragraph(child, doc)))
        elif tag == "tbl":
            table_rows(Table(child, doc))
    text = "\n".join(lines)
    if not text.strip():
        raise IngestError(name, "DOCX without any text")
    return text


def convert_office(path: Path, name: str) -> str:
    exe = shutil.which("libreoffice") or shutil.which("soffice")
    if not exe:
        raise IngestError(
            name,
            f"{path.suffix.lstrip('.').upper()} files are converted with LibreOffice (Debian: apt-get install "
            "libreoffice-writer-nogui), which is not installed; or save the file as DOCX",
        )
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"in{path.suffix.lower()}"
        shutil.copyfile(path, src)
        profile = Path(tmp) / "profile"
        try:
            res = subprocess.run(
                [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                 "--convert-to", "docx:MS Word 2007 XML", "--outdir", tmp, str(src)],
                capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": tmp},
            )
        except subprocess.TimeoutExpired:
            raise IngestError(name, "LibreOffice conversion timed out") from None
        out = Path(tmp) / "in.docx"
        if res.returncode != 0 or not out.exists():
            raise IngestError(name, f"LibreOffice could not convert it: {(res.stderr or res.stdout).strip()[:200]}")
        return convert_docx(out.read_bytes(), name)


# --- OFD (GB/T 33190, China's fixed-layout format) ---------------------------------------------


def _ofd_local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ofd_floats(v: str | None) -> list[float]:
    try:
        return [float(x) for x in (v or "").split()]
    except ValueError:
        return []


def convert_ofd(data: bytes, name: str) -> tuple[str, tuple[int, ...]]:
    """Text of an OFD package: each page's TextObjects placed by their boundary, grouped into lines by their
    vertical position and read left to right; page numbers and running heads dropped as for PDF."""
    import io
    import posixpath
    import xml.etree.ElementTree as ET
    import zipfile

    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        root = ET.fromstring(z.read("OFD.xml"))
        doc_root = next((el.text or "").strip() for el in root.iter() if _ofd_local(el.tag) == "DocRoot")
        doc_root = doc_root.lstrip("/")
        doc = ET.fromstring(z.read(doc_root))
    except (zipfile.BadZipFile, KeyError, StopIteration, ET.ParseError) as exc:
        raise IngestError(name, f"not a readable OFD file ({type(exc).__name__}: {exc})") from None
    base = posixpath.dirname(doc_root)
    page_locs = [el.get("BaseLoc") for el in doc.iter() if _ofd_local(el.tag) == "Page" and el.get("BaseLoc")]
    pages: list[str] = []
    for loc in page_locs:
        path = loc.lstrip("/") if loc.startswith("/") else posixpath.normpath(posixpath.join(base, loc))
        try:
            page = ET.fromstring(z.read(path))
        except (KeyError, ET.ParseError) as exc:
            raise IngestError(name, f"OFD page {path} unreadable ({exc})") from None
        items: list[tuple[float, float, str]] = []
        for obj in page.iter():
            if _ofd_local(obj.tag) != "TextObject":
                continue
            bx, by = (_ofd_floats(obj.get("Boundary")) + [0.0, 0.0])[:2]
            size = (_ofd_floats(obj.get("Size")) or [3.5])[0]
            for code in obj:
                if _ofd_local(code.tag) != "TextCode" or not (code.text or "").strip():
                    continue
                x = bx + (_ofd_floats(code.get("X")) or [0.0])[0]
                y = by + (_ofd_floats(code.get("Y")) or [0.0])[0]
                items.append((round(y / max(size * 0.6, 1.0)), x, code.text))
        items.sort()
        lines: list[str] = []
        current_y = None
        for y, _x, t in items:
            if current_y is None or y != current_y:
                lines.append("")
                current_y = y
            lines[-1] += t
        pages.append("\n".join(lines))
    text, starts = _clean_pages(pages)
    if not text.strip():
        raise IngestError(name, "OFD without any text (a scan inside an OFD is not read)")
    return text, starts


# --- entry points -----------------------------------------------------------------------------


def _sniff(data: bytes, suffix: str) -> str:
    """The format from the content where it is unambiguous, else from the suffix."""
    head = data[:2048].lstrip()
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04") and suffix in OFD_SUFFIXES:
        return "ofd"
    if data.startswith(b"PK\x03\x04") and suffix in DOCX_SUFFIXES + OFFICE_SUFFIXES:
        return "docx" if suffix in DOCX_SUFFIXES else "office"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "office"
    if data.startswith(b"{\\rtf"):
        return "office"
    if suffix in HTML_SUFFIXES or (suffix in TEXT_SUFFIXES and re.match(rb"(?i)<(!doctype html|html|head|body|div|meta)", head)):
        return "html"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in PDF_SUFFIXES:
        return "pdf"
    if suffix in DOCX_SUFFIXES:
        return "docx"
    if suffix in OFFICE_SUFFIXES:
        return "office"
    if suffix in OFD_SUFFIXES:
        return "ofd"
    return "text"


def convert_bytes(data: bytes, name: str, path: Path | None = None) -> Converted:
    """Convert the bytes of a file called ``name`` (``path`` is needed for DOC/WPS only)."""
    suffix = Path(name).suffix.lower()
    if not data.strip():
        raise IngestError(name, "empty file")
    kind = _sniff(data, suffix)
    if kind == "text":
        if suffix and suffix not in TEXT_SUFFIXES:
            raise IngestError(name, f"unsupported file type {suffix!r} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
        text, enc = decode_text(data, name)
        return Converted(text, "text", name, encoding=enc, text_is_source=True)
    if kind == "markdown":
        original, enc = decode_text(data, name)
        text, offs, hints = convert_markdown(original, name)
        return Converted(text, "markdown", name, encoding=enc, source_map=offs, hints=hints)
    if kind == "html":
        text, enc, hints = convert_html(data, name)
        return Converted(text, "html", name, encoding=enc, hints=hints)
    if kind == "pdf":
        if suffix not in PDF_SUFFIXES and not data.startswith(b"%PDF"):
            raise IngestError(name, "not a PDF file")
        text, fmt, starts, warnings = convert_pdf(data, name)
        return Converted(text, fmt, name, pages=starts, warnings=tuple(warnings))
    if kind == "ofd":
        text, starts = convert_ofd(data, name)
        return Converted(text, "ofd", name, pages=starts)
    if kind == "docx":
        if not data.startswith(b"PK"):
            raise IngestError(name, "not a DOCX file (no ZIP signature)")
        return Converted(convert_docx(data, name), "docx", name)
    if kind == "office":
        if path is None:
            with tempfile.TemporaryDirectory() as tmp:
                p = Path(tmp) / f"file{suffix or '.doc'}"
                p.write_bytes(data)
                return Converted(convert_office(p, name), "doc", name)
        return Converted(convert_office(path, name), "doc", name)
    raise IngestError(name, f"unsupported file type {suffix!r}")


def convert_file(path: Path, name: str | None = None) -> Converted:
    """Read and convert one file; raises IngestError naming the file and the reason."""
    name = name or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(name, f"cannot read: {exc.strerror}") from None
    return convert_bytes(data, name, path)
