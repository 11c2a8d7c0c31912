"""Every format → one normalised text; failures name the file and the reason."""

import io
import shutil
from pathlib import Path

import pytest

from policyqa.corpus import parse_converted
from policyqa.ingest import IngestError, convert_bytes, convert_file, decode_text
from policyqa.ingest.convert import _clean_pages, _ocr_available

WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"
DOC = "一、总体要求\n（一）加强统筹。各部门要加强协调。（责任单位：市发展改革委、市财政局）\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "utf-16", "utf-16-le", "utf-16-be", "big5"])
def test_text_in_any_common_encoding(encoding):
    text = "关于加强统筹的通知\n" + DOC
    if encoding == "big5":
        text = "關於加強統籌的通知\n一、總體要求\n"
    data = text.encode(encoding)
    got, enc = decode_text(data, "x.txt")
    assert got.lstrip("\ufeff") == text
    conv = convert_bytes(data, "x.txt")
    assert conv.text_is_source and conv.fmt == "text"


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n", "empty file"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR\x00\x01", "binary"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj <<>> garbage", "not a readable PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip at all", "not a readable DOCX"),
        ("notes.xlsx", b"just,some,cells\n", "unsupported file type"),
        ("page.html", b"<html><body><nav>Home</nav></body></html>", "no Chinese body text"),
    ],
)
def test_malformed_file_names_file_and_reason(name, data, reason):
    with pytest.raises(IngestError) as exc:
        convert_bytes(data, name)
    assert name in str(exc.value) and reason in str(exc.value)


def test_markdown_markup_front_matter_and_entities_with_a_map_to_the_original():
    md = (
        "---\n标题: 关于测试的通知\n文号: 沪科〔2025〕9号\n---\n\n> 本文正文由脚本提取\n\n# 关于测试的通知\n\n"
        "**一、总体要求**\n\n提升&ldquo;四个能力&rdquo;，见[官方链接](http://x.cn)。\n\n| 序号 | 单位 |\n|---|---|\n| 1 | 市科委 |\n"
    )
    conv = convert_bytes(md.encode(), "x.md")
    assert conv.hints == {"title": "关于测试的通知", "doc_number": "沪科〔2025〕9号"}
    assert "---" not in conv.text and "**" not in conv.text and "#" not in conv.text and "](" not in conv.text
    assert "提升“四个能力”，见官方链接。" in conv.text
    assert "1\t市科委" in conv.text
    assert len(conv.source_map) == len(conv.text)
    for ch, off in zip(conv.text, conv.source_map):
        if ch not in "“”\n\t":
            assert md[off] == ch  # every character traces back to the original
    i = conv.text.index("“")
    assert md[conv.source_map[i] : conv.source_map[i] + 7] == "&ldquo;"


def test_html_main_text_only_charset_declared_tables_as_rows():
    page = (
        '<html><head><meta charset="gb2312"><title>t</title></head><body>'
        "<nav><a href='/'>首页</a><a href='/x'>政务公开</a></nav><div class='side'><p>相关链接很多很多</p></div>"
        "<div id='content'><p>关于印发测试办法的通知</p><p>&emsp;&emsp;一、总体要求</p>"
        "<p>&nbsp;&nbsp;（一）加强统筹。各部门要加强协调，形成工作合力，推动政策落地见效。（责任单位：市发展改革委、市财政局）</p>"
        "<table><tr><td>序号</td><td>任务</td><td>牵头单位</td><td>配合单位</td></tr>"
        "<tr><td rowspan='2'>1</td><td rowspan='2'>完善机制</td><td>市科委</td><td>市财政局</td></tr>"
        "<tr><td>市经济信息化委</td><td>各区政府</td></tr></table></div>"
        "<footer><p>网站标识码 主办单位：某某办公室 版权所有</p></footer></body></html>"
    )
    conv = convert_bytes(page.encode("gbk"), "x.html")
    assert conv.encoding == "gb18030"
    assert "首页" not in conv.text and "版权所有" not in conv.text and "相关链接" not in conv.text
    lines = conv.text.split("\n")
    assert "\u2003\u2003一、总体要求" in lines  # &emsp; indentation kept as U+2003 …
    assert lines[-3:] == ["序号\t任务\t牵头单位\t配合单位", "1\t完善机制\t市科委\t市财政局", "\t\t市经济信息化委\t各区政府"]
    pd = parse_converted(conv, "x.html")
    ids = {c.clause_id.split(":")[1]: c for c in pd.clauses}
    assert "1" in ids and "1.1" in ids  # … and does not hide the numbering markers
    assert ids["1.1"].agencies == ("市发展改革委", "市财政局")
    rows = [c for c in pd.clauses if c.clause_id.split(".")[-1].startswith("r")]
    assert [r.agency_roles for r in rows] == [
        (("市科委", "lead"), ("市财政局", "support")),
        (("市经济信息化委", "lead"), ("各区政府", "support")),
    ]
    assert rows[1].number == "1" and rows[1].heading == "完善机制"  # the merged cells carry the task down


def test_html_without_charset_is_detected():
    page = "<div><p>关于测试的通知</p><p>一、总体要求</p><p>（一）加强统筹。推动政策落地见效。</p></div>"
    conv = convert_bytes(page.encode("gb18030"), "frag.html")
    assert "一、总体要求" in conv.text


def test_pdf_page_numbers_and_running_heads_dropped():
    pages = [f"某某市人民政府公报\n第{k}段正文内容。\n— {k} —" for k in range(1, 5)]
    text, starts = _clean_pages(pages)
    assert "公报" not in text and "—" not in text
    assert text.split("\n") == [f"第{k}段正文内容。" for k in range(1, 5)]
    assert len(starts) == 4


def test_pdf_with_a_text_layer():
    conv = convert_file(WILD / "sh-yangpu_hukehe2025-7_kongjian-buju-tu.pdf")
    assert conv.fmt == "pdf"
    assert "空间布局图" in conv.text


def _docx_bytes() -> bytes:
    from docx import Document

    d = Document()
    d.add_paragraph("关于测试的实施意见")
    d.add_paragraph("一、总体要求")
    d.add_paragraph("（一）加强统筹。推动政策落地见效。")
    t = d.add_table(rows=2, cols=3)
    for i, v in enumerate(["序号", "任务", "责任单位"]):
        t.cell(0, i).text = v
    for i, v in enumerate(["1", "完善机制", "市科委、市财政局"]):
        t.cell(1, i).text = v
    d.add_paragraph("二、保障措施")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_and_tables_in_order():
    conv = convert_bytes(_docx_bytes(), "x.docx")
    assert conv.text.split("\n") == [
        "关于测试的实施意见", "一、总体要求", "（一）加强统筹。推动政策落地见效。", "序号\t任务\t责任单位", "1\t完善机制\t市科委、市财政局", "二、保障措施",
    ]
    pd = parse_converted(conv, "x.docx")
    row = next(c for c in pd.clauses if c.clause_id.endswith(".r1"))
    assert row.agencies == ("市科委", "市财政局")


@pytest.mark.skipif(not (shutil.which("libreoffice") or shutil.which("soffice")), reason="LibreOffice not installed (Debian: libreoffice-writer-nogui)")
def test_doc_through_libreoffice():
    conv = convert_file(WILD / "hi_nongji-butie-shishi-fangan-2024-2026.doc")
    assert conv.fmt == "doc"
    assert "一、总体要求" in conv.text.replace("\u3000", "") or "一、" in conv.text


def test_doc_without_libreoffice_says_so(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(IngestError) as exc:
        convert_file(WILD / "hi_nongji-butie-shishi-fangan-2024-2026.doc")
    assert "hi_nongji" in str(exc.value) and "LibreOffice" in str(exc.value)


def test_scan_without_tesseract_says_so(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(IngestError) as exc:
        convert_file(WILD / "gov_nongyebu-youji-youbu-yijian_scan.pdf")
    assert "_scan.pdf" in str(exc.value) and "tesseract" in str(exc.value).lower()


@pytest.mark.skipif(_ocr_available() is None, reason="Tesseract with chi_sim not installed (Debian: tesseract-ocr tesseract-ocr-chi-sim)")
def test_scanned_pdf_through_ocr():
    conv = convert_file(WILD / "gov_nongyebu-youji-youbu-yijian_scan.pdf")
    assert conv.fmt == "pdf-ocr" and conv.warnings
    pd = parse_converted(conv, "scan.pdf")
    assert pd.document.title.endswith("的意见")
    tops = [c.number for c in pd.clauses if c.number and c.number.endswith("、")]
    assert tops[:1] == ["一、"]  # OCR's 一, is read as 一、
    items = [c.number for c in pd.clauses if c.number and c.number.startswith(("(", "（"))]
    assert len(items) >= 5
    assert "扫描全能王" not in "".join(c.text for c in pd.clauses)


def _ofd_bytes(pages: list[list[tuple[float, float, str]]]) -> bytes:
    import zipfile

    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml", f'<ofd:OFD {ns} Version="1.0"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
        page_refs = "".join(f'<ofd:Page ID="{k}" BaseLoc="Pages/Page_{k}/Content.xml"/>' for k in range(len(pages)))
        z.writestr("Doc_0/Document.xml", f"<ofd:Document {ns}><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>")
        for k, objs in enumerate(pages):
            body = "".join(
                f'<ofd:TextObject ID="{i}" Boundary="{x} {y} 150 6" Size="4"><ofd:TextCode X="0" Y="4">{t}</ofd:TextCode></ofd:TextObject>'
                for i, (x, y, t) in enumerate(objs)
            )
            z.writestr(f"Doc_0/Pages/Page_{k}/Content.xml", f"<ofd:Page {ns}><ofd:Content><ofd:Layer>{body}</ofd:Layer></ofd:Content></ofd:Page>")
    return buf.getvalue()


def test_ofd_text_by_position():
    data = _ofd_bytes([
        [(20, 30, "关于测试的"), (60, 30, "实施意见"), (20, 40, "一、总体要求"), (20, 50, "（一）加强统筹。推动落实。"), (90, 280, "— 1 —")],
        [(20, 30, "二、保障措施"), (20, 40, "（二）加强领导。（责任单位：市科委）"), (90, 280, "— 2 —")],
    ])
    conv = convert_bytes(data, "x.ofd")
    assert conv.fmt == "ofd" and len(conv.pages) == 2
    assert conv.text.split("\n") == ["关于测试的实施意见", "一、总体要求", "（一）加强统筹。推动落实。", "二、保障措施", "（二）加强领导。（责任单位：市科委）"]
    pd = parse_converted(conv, "x.ofd")
    assert pd.document.title == "关于测试的实施意见" and pd.clauses[-1].agencies == ("市科委",)
    with pytest.raises(IngestError) as exc:
        convert_bytes(b"PK\x03\x04junk", "bad.ofd")
    assert "bad.ofd" in str(exc.value) and "OFD" in str(exc.value)
