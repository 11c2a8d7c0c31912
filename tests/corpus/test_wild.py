"""Golden tests on real documents the parser was not written around (tests/fixtures/wild, see its README).

What is pinned here was checked by eye against the files: clause counts, the clauses named below with their
section paths and agencies (with roles), every 第X条 article as a clause, every printed agency note landing in the
clause that prints it, no junk clause, no body character lost.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from policyqa.corpus import BOILERPLATE_KINDS, parse_converted
from policyqa.ingest import convert_file

WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"
GOLDEN = Path(__file__).parent / "golden" / "wild.json"
SLOW_OR_EXTERNAL = {
    "gov_nongyebu-youji-youbu-yijian_scan.pdf",  # OCR: tests/ingest covers it (about 35 s)
    "hi_nongji-butie-shishi-fangan-2024-2026.doc",  # needs LibreOffice
}
FILES = sorted(p.name for p in WILD.iterdir() if p.name != "README.md" and p.name not in SLOW_OR_EXTERNAL)
if shutil.which("libreoffice") or shutil.which("soffice"):
    FILES.append("hi_nongji-butie-shishi-fangan-2024-2026.doc")

# an agency note as printed, found independently of the parser: a bracket naming a role
PRINTED_NOTE_RE = re.compile(
    r"[（(][^（）()\n]{0,160}?(?:责任单位|责任部门|牵头单位|牵头部门|配合单位|配合部门|负责部门|负责单位|负责(?!人)|牵头)[^（）()\n]{0,160}?[）)]"
)
ARTICLE_LINE_RE = re.compile(r"(?m)^[\s\u3000\u00a0\u2003*#]*(第[一二三四五六七八九十百零〇]+条)")
JUNK_RE = re.compile(
    r"^(?:[0-9０-９]{4}\s*年\s*[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日|[（(]此件.*[)）]|扫一扫.*|【.*】.*|.*\.(?:pdf|docx?)|"
    r"(?:公开方式|发布日期|发文机关|索引号|来源)[:：].*|.*当前位置.*|分享到.*|打印本页|关闭窗口)$"
)


@pytest.fixture(scope="module")
def wild():
    return {name: parse_converted(convert_file(WILD / name), name) for name in FILES}


def test_every_document_loads_with_a_distinct_nonempty_id(wild):
    ids = [pd.document.doc_id for pd in wild.values()]
    assert all(ids) and len(set(ids)) == len(ids)
    assert all(pd.clauses for pd in wild.values())


def test_clause_counts(wild):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))["counts"]
    got = {name: dict(sorted(Counter(c.kind for c in pd.clauses).items())) for name, pd in wild.items()}
    assert got == {k: v for k, v in golden.items() if k in got}


@pytest.mark.parametrize("name", FILES)
def test_every_article_is_a_clause(wild, name):
    pd = wild[name]
    printed = ARTICLE_LINE_RE.findall(pd.text)
    parsed = [c.number for c in pd.clauses if c.number and re.fullmatch(r"第.+条", c.number)]
    assert parsed == printed


@pytest.mark.parametrize("name", FILES)
def test_every_printed_agency_note_lands_in_its_clause(wild, name):
    pd = wild[name]
    owner = {}
    for c in pd.clauses:
        for off in c.offsets:
            owner[off] = c
    for m in PRINTED_NOTE_RE.finditer(pd.text):
        c = owner.get(m.start())
        assert c is not None and c.agencies, f"{name}: note {m.group(0)!r} is in no clause with agencies"
        names = [n for n, _ in c.agency_roles]
        assert any(n in m.group(0) for n in names)


@pytest.mark.parametrize("name", FILES)
def test_no_body_character_lost_and_no_junk_clause(wild, name):
    pd = wild[name]
    text = pd.text
    cover = [0] * len(text)
    for c in pd.clauses:
        for i in range(c.span.start, c.span.end):
            cover[i] += 1
        assert not JUNK_RE.match(c.text.strip()), f"{name}: junk clause {c.clause_id} {c.text[:40]!r}"
        for ch, off in zip(c.text, c.offsets):
            assert ch == "\n" or text[off] == ch
    boiler = [False] * len(text)
    for b in pd.boilerplate:
        assert b.kind in BOILERPLATE_KINDS
        for i in range(b.span.start, b.span.end):
            boiler[i] = True
    assert [i for i, n in enumerate(cover) if n > 1] == []
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not cover[i] and not boiler[i]]
    assert lost == [], "".join(text[i] for i in lost[:40])


# --- hand-checked clauses --------------------------------------------------------------------

CHECKED = [
    # 意见 issued directly; （…负责，排在第一位的部门为牵头部门，下同）: the first unit leads from there on
    ("gov_guofa2019-3_zonghe-baoshuiqu-yijian.html", "4.1.1", "1.", ["四、主要任务", "（一）统筹两个市场，打造加工制造中心。"],
     [("税务总局", "lead"), ("财政部", "responsible"), ("海关总署", "responsible")]),
    ("gov_guofa2019-3_zonghe-baoshuiqu-yijian.html", "4.2.6", "6.", ["四、主要任务", "（二）推动创新创业，打造研发设计中心。"],
     [("海关总署", "lead"), ("商务部等有关部门", "responsible")]),
    # （…负责。列第一位者为牵头单位，下同）
    ("gov_guofa2018-39_cujin-jiuye-yijian.html", "1.1", "（一）", ["一、支持企业稳定发展"],
     [("人力资源社会保障部", "lead"), ("财政部", "responsible")]),
    # （…牵头，…参与）
    ("gov_guobanfa2018-128_wufei-chengshi-fangan.html", "2.1", "（一）", ["二、主要任务"],
     [("生态环境部", "lead"), ("国家发展改革委", "support"), ("工业和信息化部", "support"), ("住房城乡建设部", "support"),
      ("农业农村部", "support"), ("国家统计局", "support")]),
    # 第一章…第九章 / 第一条…第三十二条
    ("gov_guofa2018-41_geshui-kouchu-banfa.html", "ch1.a1", "第一条", ["第一章总则"], []),
    ("gov_guofa2018-41_geshui-kouchu-banfa.html", "ch9.a32", "第三十二条", ["第九章附则"], []),
    # task-division table: 牵头单位 / 配合单位 / 内牵头处室 / 内配合处室 columns; merged cells carried down
    ("gz_suiweihan2023-1930_jiating-yisheng.html", "att2.table1.r1", "1", ["附件2 关于推进广州市家庭医生签约服务高质量发展工作的任务分工表"],
     [("各区政府", "lead"), ("市卫生健康委", "support"), ("基层处", "lead"), ("医政处", "support")]),
    ("gz_suiweihan2023-1930_jiating-yisheng.html", "att2.table1.r6-3", "6", ["附件2 关于推进广州市家庭医生签约服务高质量发展工作的任务分工表"],
     [("市医保局", "lead"), ("市卫生健康委", "lead"), ("各区政府", "lead"), ("医政处", "lead"), ("基层处", "support")]),
    # 附件 推广清单: a table split by its section rows keeps the 指导部门 column
    ("gov_guobanfa2018-126_tuiguang-qingdan.html", "att1.1.table1.r1", "1", ["附件 第二批支持创新相关改革举措推广清单", "一、知识产权保护方面（共 5 项）"],
     [("最高人民法院", "responsible"), ("最高人民检察院", "responsible"), ("国家知识产权局", "responsible")]),
    # （责任部门：…）
    ("sh_huke2025-5_naoji-jiekou-xingdong-fangan.md", "2.1", "1.", ["二、加速脑机接口产品化"],
     [("市科委", "responsible"), ("市经济信息化委", "responsible"), ("市发展改革委", "responsible"), ("市卫生健康委", "responsible"),
      ("市药品监管局", "responsible")]),
    # 第X条 without chapters, district-level joint document; items inside an article nest under it
    ("gz-tianhe_suitiankegongxingui2023-1_gangao-qingnian.html", "a5.1", "（一）", ["第五条 企业培育"], []),
    # agency-led items in a district document (the unit is the item's title, not a note)
    ("sh-hongkou_hongfubanfa2014-30_fengmao-fangzai-yijian.md", "4.1", "（一）", ["四、各单位按以下职能分工牵头定期组织开展防灾及风险排查工作，原则上每年不少于2次："], []),
]


@pytest.mark.parametrize("name,seg,number,path,roles", CHECKED, ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None)
def test_hand_checked_clause(wild, name, seg, number, path, roles):
    pd = wild[name]
    c = next((c for c in pd.clauses if c.clause_id == f"{pd.document.doc_id}:{seg}"), None)
    assert c is not None, [c.clause_id for c in pd.clauses][:50]
    assert c.number == number
    assert list(c.section_path) == path
    assert [tuple(r) for r in c.agency_roles] == roles
    assert c.agencies == tuple(n for n, _ in roles)


DOCUMENTS = [
    # file, title, 文号, issuer, issued, valid_from, valid_until, number of issuers
    ("gov_guofa2019-3_zonghe-baoshuiqu-yijian.html", "国务院关于促进综合保税区高水平开放高质量发展的若干意见", "国发〔2019〕3号", "国务院", "2019-01-12", None, None, 1),
    ("gov_guofa2018-41_geshui-kouchu-banfa.html", "个人所得税专项附加扣除暂行办法", "国发〔2018〕41号", "国务院", "2018-12-13", "2019-01-01", None, 1),
    ("gz_suifubangui2022-13_jujia-yanglao.html", "广州市居家社区养老服务管理办法", "穗府办规〔2022〕13号", "广州市人民政府办公厅", "2022-09-06", "2022-09-13", "2027-09-12", 1),
    ("gov_guoxinbanfawen2025-1_zhilian-weixing-guiding.md", "终端设备直连卫星服务管理规定", "国信办发文〔2025〕1号", "国家互联网信息办公室", "2025-04-23", "2025-06-01", None, 7),
    ("gz_suiweihan2023-1930_jiating-yisheng.html", "关于推进广州市家庭医生签约服务高质量发展实施方案", "穗卫函〔2023〕1930号", "广州市卫生健康委员会", "2023-10-19", None, None, 4),
    ("gz-tianhe_suitiankegongxingui2023-1_gangao-qingnian.html", "关于印发广州市天河区深化支持港澳青年创新创业高质量发展实施办法的通知", "穗天科工信规字〔2023〕1号",
     "广州市天河区科技工业和信息化局", "2023-08-09", "2023-09-08", "2026-09-07", 3),
    # a scraper's header (发布日期/来源/政策全文) is furniture, not the issuer; the plan period is read from the title
    ("sh_hufubanfa2023-19_shangye-hangtian-xingdong-jihua.md", "上海市促进商业航天发展打造空间信息产业高地行动计划（2023-2025年）", "沪府办发〔2023〕19号",
     "上海市人民政府办公厅", "2023-10-24", None, None, 1),
    # a title printed with its 文号 in brackets; two ministries sign; 二○一○年十一月三日
    ("gov_anjianzongguansan2010-186_weihua-shishi-yijian.docx", "国家安全监管总局工业和信息化部关于危险化学品企业贯彻落实《国务院关于进一步加强企业安全生产工作的通知》的实施意见",
     "安监总管三〔2010〕186号", "国家安全生产监督管理总局", "2010-11-03", None, None, 2),
    # 特急 notice whose attachment list is part of the notice, not its issuers; the 办法 is the title
    ("gov_yinfa2019-41_qiye-zhanghu-xuke.txt", None, "银发〔2019〕41号", None, None, None, None, None),
]


@pytest.mark.parametrize("name,title,number,issuer,issued,valid_from,valid_until,n_issuers", DOCUMENTS, ids=lambda v: v if isinstance(v, str) and v.endswith(("html", "md", "docx", "txt")) else None)
def test_front_matter(wild, name, title, number, issuer, issued, valid_from, valid_until, n_issuers):
    d = wild[name].document
    assert d.doc_number == number
    if title is None:
        assert all(not x.startswith("附件") for x in d.issuers)
        return
    assert (d.title, d.issuer) == (title, issuer)
    assert d.issued.isoformat() == issued
    assert (d.valid_from.isoformat() if d.valid_from else None) == valid_from
    assert (d.valid_until.isoformat() if d.valid_until else None) == valid_until
    assert len(d.issuers) == n_issuers


def test_missing_front_matter_is_reported_not_fatal(wild):
    pd = wild["gov_renmin-yinhang2023_cunkuan-zhanghu-banfa.txt"]  # the attached 办法 only
    assert pd.document.title == "中央银行存款账户管理办法"
    assert any("文号" in w for w in pd.warnings) and any("date" in w for w in pd.warnings)
    caption = wild["sh-yangpu_hukehe2025-7_kongjian-buju-tu.pdf"]  # an attachment that is one map image
    assert [c.text for c in caption.clauses] == ["附件：杨“数”浦新质秀带创新区空间布局图"]
