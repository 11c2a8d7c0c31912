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
