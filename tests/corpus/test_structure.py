"""Structure found from the document itself, on small synthetic documents — one shape each."""

import pytest

from policyqa.corpus import parse_text


def ids(pd):
    return [c.clause_id.split(":", 1)[1] for c in pd.clauses]


def test_emsp_and_nbsp_indentation_does_not_hide_markers():
    text = "关于测试的实施意见\n\u2003\u2003一、总体要求\n\u00a0\u00a0（一）加强统筹。推动落实。\n\u3000\u3000二、保障措施\n\u2003\u20031.加强领导。压实责任。\n"
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    assert ids(pd) == ["1", "1.1", "2", "2.1"]


def test_chapters_and_articles():
    text = (
        "某某市某某管理办法\n第一章 总则\n第一条 为了规范管理，制定本办法。\n第二条 本办法适用于本市。\n本办法所称单位，是指机关。\n"
        "第二章 管理\n第三条 有下列情形之一的，不予支持：\n（一）弄虚作假的；\n（二）违法违规的。\n第四条 本办法自2025年1月1日起施行，有效期至2027年12月31日。\n"
    )
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    assert ids(pd) == ["ch1", "ch1.a1", "ch1.a2", "ch2", "ch2.a3", "ch2.a3.1", "ch2.a3.2", "ch2.a4"]
    a2 = pd.clauses[2]
    assert a2.number == "第二条" and "本办法所称单位" in a2.text  # the article's further paragraph is the article
    assert pd.clauses[5].section_path == ("第二章管理", "第三条")
    d = pd.document
    assert d.title == "某某市某某管理办法" and (d.valid_from.isoformat(), d.valid_until.isoformat()) == ("2025-01-01", "2027-12-31")


@pytest.mark.parametrize("kind", ["细则", "规定", "纲要", "计划", "行动方案（2025-2027年）", "指引"])
def test_title_of_any_kind(kind):
    pd = parse_text(f"某某区关于推进某事的实施{kind}\n一、总体要求\n（一）加强统筹。\n", "x.txt")
    assert pd.document.title == f"某某区关于推进某事的实施{kind}"


def test_opinion_issued_directly_with_wrapped_title_number_after_it_and_signature():
    text = (
        "国务院关于促进某某\n高质量发展的若干意见\n国发〔2030〕9号\n各省、自治区、直辖市人民政府，国务院各部委、各直属机构：\n"
        "为推动发展，现提出以下意见：\n一、总体要求\n（一）加强统筹。推动落实。（财政部、商务部负责）\n"
        "国务院\n2030年1月2日\n（此件公开发布）\n扫一扫在手机打开当前页\n【原文下载】关于某某的意见.pdf\n"
    )
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    d = pd.document
    assert (d.title, d.doc_number, d.issuer, d.issued.isoformat()) == ("国务院关于促进某某高质量发展的若干意见", "国发〔2030〕9号", "国务院", "2030-01-02")
    assert pd.warnings == ()
    assert all(c.text not in ("国务院", "2030年1月2日") and "扫一扫" not in c.text and ".pdf" not in c.text for c in pd.clauses)
    kinds = {b.kind for b in pd.boilerplate}
    assert {"title", "letterhead", "addressee", "issuers", "date", "publication_note", "web"} <= kinds
    assert pd.clauses[0].text.startswith("为推动发展")  # the preamble is kept, not dropped


def test_missing_front_matter_is_a_warning():
    pd = parse_text("一、总体要求\n（一）加强统筹。\n", "无标题.txt")
    assert pd.clauses and pd.document.doc_id.startswith("doc-")
    assert {"no document title found", "no 文号 found", "no signing date found"} <= set(pd.warnings)


def test_several_agency_lists_under_one_item_are_all_kept():
    text = (
        "关于测试的若干措施\n一、总体要求\n（一）加强统筹\n推进甲事项。（责任单位：市商务委）\n推进乙事项。（责任单位：市财政局、市科委）\n"
        "（二）强化保障。推进丙事项。（市发展改革委牵头，各区政府配合）\n"
    )
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    with_agencies = [(c.clause_id.split(":")[1], c.agency_roles) for c in pd.clauses if c.agencies]
    assert with_agencies == [
        ("1.1.p1", (("市商务委", "responsible"),)),
        ("1.1.p2", (("市财政局", "responsible"), ("市科委", "responsible"))),
        ("1.2", (("市发展改革委", "lead"), ("各区政府", "support"))),
    ]


def test_a_number_like_start_does_not_demote_the_items_that_follow():
    items = "\n".join(f"{k}.第{k}项措施。内容。" for k in range(1, 11))
    text = f"关于测试的若干措施\n一、主要任务\n{items}\n11.121人才梯队项目每年支持一批。\n" + "\n".join(
        f"{k}.第{k}项措施。内容。" for k in range(12, 16)
    ) + "\n"
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    numbers = [c.number for c in pd.clauses if c.number and c.number[0].isdigit()]
    assert numbers == [f"{k}." for k in range(1, 11)] + [f"{k}." for k in range(12, 16)]


def test_attachments_are_their_own_sections_with_fresh_numbering():
    text = (
        "关于印发测试办法的通知\n各区人民政府：\n现将《测试办法》印发给你们。\n某某办公室\n2030年1月2日\n测试办法\n一、总则\n（一）内容。\n"
        "附件1\n测试项目清单\n一、第一类\n（一）甲项目。\n附件2：测试申请表\n一、基本信息\n"
    )
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    assert ids(pd) == ["notice", "1", "1.1", "att1", "att1.1", "att1.1.1", "att2", "att2.1"]
    att = pd.clauses[3]
    assert (att.kind, att.number, att.heading) == ("section", "附件1", "测试项目清单")
    assert pd.clauses[5].section_path == ("附件1 测试项目清单", "一、第一类")


def test_an_unbracketed_list_on_its_own_line_closes_the_clause_above():
    text = "关于测试的若干措施\n一、主要任务\n（一）推进甲事项。加快建设。\n责任单位：市商务委、市财政局\n（二）推进乙事项。（由市科委负责）\n"
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    got = {c.clause_id.split(":")[1]: c.agencies for c in pd.clauses}
    assert got["1.1"] == ("市商务委", "市财政局") and got["1.2"] == ("市科委",)
    assert ids(pd) == ["1", "1.1", "1.2"]


def test_table_header_saying_the_first_unit_leads():
    text = "关于测试的分工方案\n一、重点任务\n序号\t任务\t责任单位（列首位者为牵头单位）\t完成时限\n1\t建设平台\t市科委、市财政局\t2026年底\n"
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    row = next(c for c in pd.clauses if c.clause_id.endswith(".r1"))
    assert row.agency_roles == (("市科委", "lead"), ("市财政局", "responsible"))


def test_parts_and_boxes_numbered_in_chinese():
    text = (
        "某某市服务业发展规划纲要\n第一部分 发展基础\n一、主要成就\n（一）规模扩大。总量提升。\n"
        "第二部分 主要任务\n一、做强现代服务业\n（一）发展数字服务。加快发展。\n专栏一 数字服务重点工程\n建设一批平台。\n"
    )
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    assert ids(pd) == ["pt1", "pt1.1", "pt1.1.1", "pt2", "pt2.1", "pt2.1.1", "pt2.1.1.box1", "pt2.1.1.box1.p1"]
    assert pd.document.title == "某某市服务业发展规划纲要"


def test_number_and_date_in_brackets_under_the_title():
    text = "上海市某某管理办法\n（沪府令〔2025〕12号）\n（2025年3月12日）\n第一条 为了规范管理，制定本办法。\n第二条 本办法自2025年5月1日起施行。\n"
    pd = parse_text(text, "x.txt", paragraph_lines=True)
    d = pd.document
    assert (d.title, d.doc_number, d.issued.isoformat(), d.valid_from.isoformat()) == ("上海市某某管理办法", "沪府令〔2025〕12号", "2025-03-12", "2025-05-01")
    assert ids(pd) == ["a1", "a2"]


PAGE_MARKERS = ["—１—", "－1－", "- 1 -", "–1–", "―２―", "— 12 —", "第1页", "第 2 页 共 9 页"]


@pytest.mark.parametrize("marker", PAGE_MARKERS)
def test_a_page_marker_is_page_furniture_never_an_issuer(marker):
    cases = {
        # the signature stands above a page break, its date below it
        "tail": f"关于推进某事的通知\n各区：\n现将有关事项通知如下。\n一、总体要求\n（一）加强统筹。\n上海市某某委员会\n{marker}\n2030年1月2日\n",
        # the notice's signature, a page break, then the date
        "notice": f"关于印发某办法的通知\n各区人民政府：\n现将《某办法》印发给你们，请认真执行。\n上海市某某委员会\n{marker}\n2030年1月2日\n某办法\n一、总体要求\n（一）加强统筹。\n",
        # a page marker first, then the letterhead
        "head": f"{marker}\n上海市某某委员会文件\n沪某发〔2030〕1号\n关于推进某事的通知\n各区：\n现将有关事项通知如下。\n一、总体要求\n（一）加强统筹。\n上海市某某委员会\n2030年1月2日\n",
    }
    for name, text in cases.items():
        pd = parse_text(text, "x.txt")
        d = pd.document
        assert d.issuer == "上海市某某委员会" and d.issuers == ("上海市某某委员会",), (name, d.issuer, d.issuers)
        assert d.issued.isoformat() == "2030-01-02", name
        assert all(marker.strip() not in c.text for c in pd.clauses), name
        assert any(b.kind == "page_number" for b in pd.boilerplate), name


def test_a_lone_page_marker_in_the_tail_gives_no_issuer():
    d = parse_text("关于推进某事的通知\n一、总体要求\n（一）加强统筹。\n—１—\n2030年1月2日\n", "x.txt").document
    assert d.issuer == "" and d.issuers == ()
