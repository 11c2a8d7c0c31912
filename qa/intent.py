"""What kind of question is asked: agency, support, fact, or general. Small, explicit rules."""

from __future__ import annotations

import re

INTENTS = ("agency", "support", "fact", "general")

_AGENCY = re.compile(
    r"哪(?:个|些|几个|几家|家)(?:部门|单位|机构|局|委|办)|什么部门|哪家单位|哪家管|"
    r"谁负责|谁来|谁管|谁在|由谁|是谁|归哪|找谁|找哪|牵头|责任单位|主管部门|负责部门|在管|在抓|"
    r"(?:局|委|办|部门|单位|政府)(?:还是[^？?]*)?负责[？?]?$|负责哪些|管哪些|管什么|职责|"
    r"\bwhich (?:agency|agencies|department|departments|bureau|bureaus|body|bodies|office|offices|authority|authorities|government)\b|"
    r"\bwho (?:is|are) (?:responsible|in charge)|\bwho (?:handles|leads|runs|oversees|manages|is behind)\b|\bresponsible for\b|\bin charge of\b",
    re.I,
)
# strong cues of a question about a number or a date win over support words (融资额占比 is a figure)
_FACT_STRONG = re.compile(
    r"多少|几个|几家|几项|几条|多大|比重|比例|占比|份额|什么时候|何时|哪一年|哪年|哪天|哪一天|几月|日期|有效期|到期|截止|"
    r"\bhow (?:many|much|long)\b|\bwhen\b|\bwhat year\b|\bwhat date\b|\bpercent\w*|\buntil\b|\bexpire\w*",
    re.I,
)
_SUPPORT = re.compile(
    r"支持|补贴|补助|奖励|奖补|扶持|资助|申请|贷款|贷|贴息|融资|减免|免征|抵扣|优惠|税费|资金|券|能不能享受|享受|有没有政策|政策红利|便利|方便|"
    r"\b(?:subsid\w*|grants?|support\w*|funding|fund|loans?|borrow\w*|incentives?|rewards?|vouchers?|tax (?:relief|break|exemption)s?|"
    r"financ\w*|apply|eligible|benefits?|help)\b",
    re.I,
)
_FACT = re.compile(r"目标|指标|达到|规模|数量|\btargets?\b|\bshare\b|\bvalid\b|\bdate\b|\bgoals?\b", re.I)


def classify_intent(question: str) -> str:
    """Agency, then figures and dates, then support, then other facts; anything else is general."""
    if _AGENCY.search(question):
        return "agency"
    if _FACT_STRONG.search(question):
        return "fact"
    if _SUPPORT.search(question):
        return "support"
    if _FACT.search(question):
        return "fact"
    return "general"


_REVERSE = re.compile(r"负责哪些|负责什么|管哪些|管什么|有哪些职责|职责|\bwhat (?:is|are|does)\b.*\b(?:responsible for|in charge of|do)\b", re.I)


def asks_what_agency_does(question: str) -> bool:
    """'市民政局负责哪些事?' — the reverse of an agency question."""
    return bool(_REVERSE.search(question))
