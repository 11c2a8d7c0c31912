"""Whatever a user uploads, the parser answers with records or a ParseError — never a crash."""

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policyqa.corpus import ParseError, parse_text

PIECES = [
    "一、", "（一）", "1.", "（1）", "①", "第一章", "第一条", "第二条", "第一部分", "专栏1：", "专栏一", "附件", "附件1", "附件：",
    "关于", "印发", "的通知", "实施意见", "管理办法", "国发〔2019〕3号", "2024年1月2日", "二〇一九年一月十二日", "各区人民政府：",
    "（责任单位：市商务委、市财政局）", "（海关总署负责，排在第一位的部门为牵头部门，下同）", "（A牵头，B参与）", "责任单位：市科委",
    "序号\t任务\t牵头单位\t配合单位", "1\t建设\t市科委\t各区政府", "\t\t市财政局", "加强统筹。", "推进", "。", "，", "：", "\n", "\n\n",
    "\u2003\u2003", "\u00a0", "—1—", "- 3 -", "**", "# ", "扫一扫在手机打开当前页", "【原文下载】x.pdf", "有效期5年", "自印发之日起施行",
    "11.121人才", "1.1耕地机械", "1.1.1犁", "（", "）", "(", ")", "　",
]


# a printed page number (—1—, - 3 -) is dropped by the parser like markup: a file of nothing else is empty
PAGE_NUMBER = re.compile(r"[—-]\s*[0-9]+\s*[—-]")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=0, max_size=60), st.booleans())
@example(["**", "—1—"], False)  # found by CI: markup and a page number only
def test_parser_never_crashes(pieces, paragraph_lines):
    text = "".join(pieces)
    try:
        pd = parse_text(text, "fuzz.txt", paragraph_lines=paragraph_lines)
    except ParseError:
        assert not any(ch.isalnum() for ch in PAGE_NUMBER.sub("", text)), text  # only markup, whitespace, page numbers
        return
    assert pd.document.doc_id
    for c in pd.clauses:
        assert len(c.offsets) == len(c.text)
        for ch, off in zip(c.text, c.offsets):
            assert ch == "\n" or text[off] == ch
