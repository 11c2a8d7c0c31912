import datetime as dt

import pytest

from policyqa.corpus import rules


@pytest.mark.parametrize("numeral,value", [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十一", 21), ("九十九", 99)])
def test_cn_to_int(numeral, value):
    assert rules.cn_to_int(numeral) == value


@pytest.mark.parametrize("bad", ["", "百", "十十", "一二"])
def test_cn_to_int_rejects(bad):
    with pytest.raises(ValueError):
        rules.cn_to_int(bad)


@pytest.mark.parametrize(
    "line,level,value,marker",
    [
        ("一、工作目标", 1, 1, "一、"),
        ("二十一、其他", 1, 21, "二十一、"),
        ("（十七）市区协同", 2, 17, "（十七）"),
        ("(三)强化创新支持", 2, 3, "(三)"),
        ("１．引进优质企业.", 3, 1, "１．"),
        ("１０．支持发展", 3, 10, "１０．"),
        ("16. 丰富消费型保险", 3, 16, "16."),
        ("3、推进", 3, 3, "3、"),
        ("(1)第一项", 4, 1, "(1)"),
        ("（２）第二项", 4, 2, "（２）"),
        ("专栏１:提升金融服务能级", 3.5, 1, "专栏１:"),
        ("专栏10：行动", 3.5, 10, "专栏10："),
    ],
)
def test_match_numbering(line, level, value, marker):
    n = rules.match_numbering(line)
    assert n is not None and (n.level, n.value, n.marker) == (level, value, marker)


@pytest.mark.parametrize("line", ["３．２％左右,金融市场", "２０２０年,全市服务", "(GFCI)排名", "(此件公开发布)", "Web３．０创新"])
def test_number_like_text_is_not_numbering(line):
    assert rules.match_numbering(line) is None


def test_agency_list_nested_brackets_and_widths():
    text = "推动实施.(责任单位:市商务委、浦东新区政府(上海自贸试验区管委会)、临港新片区管委会)"
    start, end, inner = rules.find_agency_list(text)
    assert text[start:end].startswith("(责任单位") and end == len(text)
    assert rules.split_agencies(inner) == ("市商务委", "浦东新区政府(上海自贸试验区管委会)", "临港新片区管委会")
    _, _, inner = rules.find_agency_list("加强监管。（责任单位：市发展改革委、各有关部门和单位）")
    assert rules.split_agencies(inner) == ("市发展改革委", "各有关部门和单位")


def test_agency_list_must_close_the_clause():
    assert rules.find_agency_list("(责任单位:市科委)之后还有正文。") is None
    assert rules.find_agency_list("没有责任单位的条款。") is None


def test_split_agencies_drops_repeats_and_spaces():
    assert rules.split_agencies("市商务委、市科委、 市商务委、市 教委") == ("市商务委", "市科委", "市教委")


def test_doc_number_dates_and_validity():
    assert rules.parse_doc_number("沪府办发 〔２０２５〕５号") == "沪府办发〔2025〕5号"
    assert rules.parse_doc_number("沪府发〔2026〕1号") == "沪府发〔2026〕1号"
    assert rules.parse_doc_number("没有文号") is None
    assert rules.parse_date("2025 年 12 月 25 日") == dt.date(2025, 12, 25)
    assert rules.parse_validity("本措施自２０２５年３月２０日起实施,有效期至２０２８年３月１９日.") == (
        dt.date(2025, 3, 20),
        dt.date(2028, 3, 19),
    )


@pytest.mark.parametrize("title,period", [("上海市服务业发展“十四五”规划", (2021, 2025)), ("“十五五”规划", (2026, 2030)), ("若干措施", None)])
def test_five_year_plan_period(title, period):
    assert rules.five_year_plan_period(title) == period


def test_split_heading():
    assert rules.split_heading("鼓励加大研发力度.对重点攻关项目予以支持.") == ("鼓励加大研发力度", False)
    assert rules.split_heading("提升金融服务资源配置能力") == ("提升金融服务资源配置能力", True)
    long_first = "以习近平新时代中国特色社会主义思想为指导,深入贯彻党的二十大精神。其后。"
    assert rules.split_heading(long_first) == (None, False)


def test_derive_doc_id():
    assert rules.derive_doc_id("沪府办发〔2025〕5号", "x") == "hfbf2025-5"
    assert rules.derive_doc_id("沪府发〔2026〕1号", "x") == "hff2026-1"
    assert rules.derive_doc_id(None, "004_ABC def") == "004_abc-def"


def test_line_width_counts_ascii_as_half():
    assert rules.line_width("服务业AB") == 4.0


# --- agency notes with roles (issue 11) -------------------------------------------------------

from policyqa.corpus.rules import find_agency_notes, find_bare_agency_lists, parse_any_doc_number, role_entries  # noqa: E402


@pytest.mark.parametrize(
    "note,entries,lead_first",
    [
        ("（责任单位：市商务委、市发展改革委）", [("市商务委", "responsible"), ("市发展改革委", "responsible")], False),
        ("（责任部门：市科委、市经济信息化委）", [("市科委", "responsible"), ("市经济信息化委", "responsible")], False),
        ("（牵头单位：市卫健委；配合单位：市财政局、各区政府）", [("市卫健委", "lead"), ("市财政局", "support"), ("各区政府", "support")], False),
        ("（责任单位：市商务委牵头，市财政局、各区政府配合）", [("市商务委", "lead"), ("市财政局", "support"), ("各区政府", "support")], False),
        ("（海关总署、财政部、商务部等负责）", [("海关总署", "responsible"), ("财政部", "responsible"), ("商务部", "responsible")], False),
        ("（人力资源社会保障部、财政部负责。列第一位者为牵头单位，下同）", [("人力资源社会保障部", "responsible"), ("财政部", "responsible")], True),
        ("（税务总局、财政部负责，排在第一位的部门为牵头部门，下同）", [("税务总局", "responsible"), ("财政部", "responsible")], True),
        ("（住房城乡建设部牵头，生态环境部、发展改革委参与）", [("住房城乡建设部", "lead"), ("生态环境部", "support"), ("发展改革委", "support")], False),
        ("（生态环境部指导，试点城市政府负责落实。以下均需试点城市政府落实，不再列出）", [("生态环境部", "responsible"), ("试点城市政府", "responsible")], False),
        ("（科技部、财政部，各省级人民政府按职责分工负责）", [("科技部", "responsible"), ("财政部", "responsible"), ("各省级人民政府", "responsible")], False),
        ("（责任单位：浦东新区政府（上海自贸试验区管委会）、市商务委）", [("浦东新区政府（上海自贸试验区管委会）", "responsible"), ("市商务委", "responsible")], False),
    ],
)
def test_agency_note_forms(note, entries, lead_first):
    notes = find_agency_notes("加强统筹。" + note)
    assert len(notes) == 1
    assert list(notes[0].entries) == entries and notes[0].lead_first == lead_first


@pytest.mark.parametrize("text", ["（以下简称综保区）", "（单位主要负责人）", "（2025-2030年）", "（含中医类别）", "（见附件1）", "（试行）"])
def test_brackets_that_are_not_agency_notes(text):
    assert find_agency_notes(text) == []


def test_lead_first_marks_the_first_unit_unless_one_leads_already():
    notes = find_agency_notes("（A局、B委负责。列第一位者为牵头单位，下同）")
    assert role_entries(notes) == (("A局", "lead"), ("B委", "responsible"))
    later = find_agency_notes("（C办、D厅负责）")
    assert role_entries(later, lead_first=True) == (("C办", "lead"), ("D厅", "responsible"))


def test_bare_labelled_lists_at_a_line_end():
    notes = find_bare_agency_lists("推进工作。\n牵头单位：市发展改革委；配合单位：市财政局、市商务委")
    assert [n.entries for n in notes] == [(("市发展改革委", "lead"), ("市财政局", "support"), ("市商务委", "support"))]


@pytest.mark.parametrize(
    "text,number",
    [
        ("国发〔2019〕3号", "国发〔2019〕3号"),
        ("穗天科工信规字〔2023〕1号", "穗天科工信规字〔2023〕1号"),
        ("国信办发文［2025］1号", "国信办发文〔2025〕1号"),
        ("沪府办发〔２０２５〕５号", "沪府办发〔2025〕5号"),
        ("银发〔2019〕第41号", "银发〔2019〕41号"),
    ],
)
def test_any_issuers_doc_number(text, number):
    assert parse_any_doc_number(text) == number
