"""What these documents cannot answer: small pure rules, each a reason to say "not in these documents".

Retrieval always finds *something*; these rules catch the questions whose best clause is on topic but
cannot be the answer.
"""

from __future__ import annotations

import functools
import re
import threading

# Personal administrative procedures — what residents most often ask a city hotline — are outside these
# service-industry policy documents. A question about one is refused unless the best clause names it too
# (003 does speak of 人才落户, so that is answered).
PERSONAL_PROCEDURES = (
    "护照", "签证", "港澳通行证", "身份证", "户口", "户籍", "迁户", "结婚", "离婚", "婚姻登记", "出生证", "驾照", "驾驶证",
    "车牌", "违章", "公积金", "社保卡", "医保卡", "养老金", "退休金", "退休手续", "失业保险金", "失业金", "个人所得税", "个税",
    "房产证", "不动产登记", "居住证", "入学", "转学", "学籍", "中考", "高考", "低保", "生育津贴", "产假", "病假", "工伤认定",
    "passport", "visa", "id card", "hukou", "household registration", "marriage", "divorce", "driving licence",
    "driving license", "driver's licence", "driver's license", "provident fund", "pension", "income tax",
    "social security card", "residence permit", "school enrolment", "school enrollment", "birth certificate",
)

# Everyday city matters residents raise with the 12345 hotline — complaints, utilities, traffic, pets,
# neighbourhood order — that service-industry policies do not govern. Refused like personal procedures:
# only when the best clause does not mention the matter itself.
CITY_MATTERS = (
    "噪音", "噪声", "扰民", "夜间施工", "垃圾分类", "垃圾清运", "养犬", "遛狗", "犬只", "狗证", "电动自行车", "电瓶车",
    "交通卡", "公交卡", "地铁卡", "闯红灯", "违章停车", "违停", "停车罚", "罚单", "交通违法", "空气质量", "雾霾", "台风",
    "暴雨", "水费", "电费", "燃气费", "停水", "停电", "物业费", "群租", "房租纠纷", "异地就医", "医保报销", "挂号",
    "疫苗接种", "违章搭建", "违建",
    "noise", "noisy", "construction site", "garbage", "rubbish", "waste sorting", "dog", "e-bike", "electric bike",
    "electric scooter", "transport card", "metro card", "red light", "parking ticket", "parking fine", "traffic fine",
    "traffic violation", "air quality", "smog", "typhoon", "water bill", "electricity bill", "gas bill", "power cut",
    "property fee", "landlord", "medical reimbursement", "vaccination", "illegal construction",
)

# A question after how to apply, where to go, which conditions or papers: the documents set policy and
# name agencies, they never give application procedures.
ASKS_PROCEDURE = re.compile(
    r"满足哪些条件|什么条件|申报条件|申请条件|(?:需要|要带|准备)(?:哪些|什么)材料|[去在到]哪(?:里|儿)?(?:申请|申报|办理|办|报名|退|备案)"
    r"|怎么(?:申请|申报|办理|报名|备案)|如何(?:申请|申报|办理|报名)|(?:申请|申报|办理)流程"
    r"|\bhow (?:do|can|should) (?:i|we) (?:apply|register)|\bwhere (?:do|can|should) (?:i|we) (?:apply|register|go)"
    r"|application (?:procedure|process)|eligibility criteria|what documents",
    re.I,
)
STATES_PROCEDURE = re.compile(r"申报指南|申请条件|申报条件|办理流程|受理|所需材料|窗口|网址|登录|热线")

# A question after a count or a share, asked at the end of a sentence (几家？ 多大比例？), not 几个商标，…
ASKS_COUNT = re.compile(
    r"(?:多少|(?<!哪)几)[个家项年天次所名位条批]?[^，。,？?！!]{0,4}[？?]|\bhow many\b|\bhow long\b", re.I
)
ASKS_SHARE = re.compile(
    r"(?:比例|比重|占比|百分之?几|几成)[^，。,？?！!]{0,8}[？?]|\bwhat (?:percentage|share|proportion)\b|\bhow much of\b",
    re.I,
)
_NUMERAL = re.compile(r"[0-9０-９]+(?:[.．][0-9０-９]+)?")
_CN_COUNT = re.compile(r"[一二两三四五六七八九十百千万]+[个家项年天次所名位条批座只]")
STATES_SHARE = re.compile(r"[%％]|百分之|[一二三四五六七八九]成")

# A question after a sum of money: a price, a fee, how much a subsidy or reward pays.
ASKS_AMOUNT = re.compile(
    r"多少钱|多少元|多少万元?|价格|价钱|收费|费用|金额|额度|[费价]\S{0,2}多少|赔多少"
    r"|(?:奖励|补贴|补助|资助|奖补|扶持)(?:能|可以|最多|最高|一般)?(?:有|拿|给|发|是)?多少"
    r"|(?:能|可以|最多|最高)(?:拿|领|给|补|奖|申请)多少"
    r"|how much (?:money|does|do|can|will|is|are|would)|\bworth\b|\bcosts?\b|\bprices?\b|\bfees?\b"
    r"|\b(?:subsidy|interest|tax) rate\b|\bpremiums?\b",
    re.I,
)
# A question after a day: when something opens, starts, is held or ends.
ASKS_DATE = re.compile(r"什么时候|何时|哪天|几号|几月|日期|\bwhen\b|what date|\bdates?\b", re.I)
# A day as the documents print it (a year alone does not say when in the year).
STATES_DATE = re.compile(r"[0-9０-９一二三四五六七八九十]+\s*月|[0-9０-９]+\s*日|年底|年初|上半年|下半年|之日起|起施行|起实施")
# A sum of money as the documents print it: ２８３０７．５４亿元, 500万元, 三千元.
STATES_AMOUNT = re.compile(r"[0-9０-９][0-9０-９,.，．]*\s*[万亿]?元|[一二三四五六七八九十百千两]+[万亿]?元")


def personal_procedure(query: str, clause_text: str, tokens: set[str] | None = None) -> str | None:
    """The personal procedure a question is about, when the clause found does not mention it.

    With the question's tokens given, a two-character term must be a whole word of the question, so
    转学 does not fire inside 转学分 (two characters are too often part of another word)."""
    return _listed_term(PERSONAL_PROCEDURES, query, clause_text, tokens)


def _listed_term(terms: tuple[str, ...], query: str, clause_text: str, tokens: set[str] | None) -> str | None:
    q, text = query.lower(), clause_text.lower()
    for term in terms:
        if term not in q or term in text:
            continue
        if tokens is not None and len(term) == 2 and term not in tokens:
            continue
        if term.isascii() and not re.search(rf"\b{re.escape(term)}(?:s|es)?\b", q):
            continue  # whole English words (a plural allowed): "dog" is not in "dogma"
        return term
    return None


def city_matter(query: str, clause_text: str, tokens: set[str] | None = None) -> str | None:
    """An everyday city matter the question is about, when the clause found does not mention it."""
    return _listed_term(CITY_MATTERS, query, clause_text, tokens)


def missing_procedure(query: str, clause_texts: list[str]) -> bool:
    """The question asks how or where to apply (or what it takes) and none of the clauses found says."""
    return bool(ASKS_PROCEDURE.search(query)) and not any(STATES_PROCEDURE.search(t) for t in clause_texts)


def states_count(text: str) -> bool:
    """A number that counts something: 10个, 300项, 45%, 三批 — a bare year (2025年) does not count."""
    for m in _NUMERAL.finditer(text):
        digits = m.group(0)
        if not (len(digits) == 4 and text[m.end() : m.end() + 1] == "年"):
            return True
    return bool(_CN_COUNT.search(text))


def missing_number(query: str, clause_texts: list[str]) -> bool:
    """The question asks how many or what share, and none of the clauses found states such a figure."""
    if ASKS_SHARE.search(query):
        return not any(STATES_SHARE.search(t) for t in clause_texts)
    if ASKS_COUNT.search(query):
        return not any(states_count(t) for t in clause_texts)
    return False


def missing_amount(query: str, clause_texts: list[str]) -> bool:
    """The question asks how much money, and none of the clauses found states a sum: the measure may
    exist, but the documents do not say what it pays (that is in application guidelines)."""
    return bool(ASKS_AMOUNT.search(query)) and not any(STATES_AMOUNT.search(t) for t in clause_texts)


# When a document was issued or takes effect is known for every document (its date and validity are
# part of every citation), so such a question is never refused for want of a date in the clauses.
ABOUT_DOCUMENT_DATE = re.compile(
    r"发布|印发|发的|出台|施行|实施|生效|有效期|失效|到期|\btake effect|\bin force\b|\bissued\b|\bpublished\b|\bvalid\b|\bexpire",
    re.I,
)


def missing_date(query: str, clause_texts: list[str]) -> bool:
    """The question asks when (not when a document was issued or runs out), and none of the clauses
    found names a month or day."""
    return (
        bool(ASKS_DATE.search(query))
        and not ABOUT_DOCUMENT_DATE.search(query)
        and not any(STATES_DATE.search(t) for t in clause_texts)
    )


_TITLE = re.compile(r"《([^》]{4,60})》")


def other_document(query: str, titles: list[str]) -> str | None:
    """A document the question names by its 《title》 that is not one of these: its contents are not here
    even when one of these documents cites it."""
    for t in _TITLE.findall(query):
        if not any(_similar(t, title) for title in titles):
            return t
    return None


def _similar(a: str, b: str) -> bool:
    from difflib import SequenceMatcher

    return a in b or b in a or SequenceMatcher(None, a, b).ratio() >= 0.8


_PLACE_GLOSS = re.compile(r"([A-Z][a-z]+(?: [A-Z][a-z]+)?)\b")
_PLACE_KIND = re.compile(r"\b(?:city|province|county|district|capital|prefecture|municipality|region|town)\b")


@functools.lru_cache(maxsize=1)
def _cedict_places() -> tuple[dict[str, set[str]], frozenset[str]]:
    """English place name → its Chinese spellings (CC-CEDICT entries glossed as a city, province…), and
    the English words CEDICT also writes in lower case (ordinary words, not names). Once per process."""
    from .translate import cedict_entries

    named: dict[str, set[str]] = {}
    common: set[str] = set()
    for head, defs in cedict_entries():
        common.update(re.findall(r"\b[a-z]+\b", defs))
        m = _PLACE_GLOSS.match(defs)
        if m and _PLACE_KIND.search(defs):
            named.setdefault(m.group(1).lower(), set()).add(head)
    return named, frozenset(common)


class PlaceNames:
    """Chinese place names in a question (jieba's part-of-speech tag ns) that the corpus never mentions:
    these documents are Shanghai's, so a question about 深圳's subsidies is not theirs to answer."""

    def __init__(self, corpus_text: str, tokenizer=None) -> None:
        self._text = corpus_text
        self._tokenizer = tokenizer  # a jieba.Tokenizer with the corpus dictionary, or jieba's default
        self._pos = None
        self._en: dict[str, str] | None = None
        self._en_known: set[str] = set()
        self._common: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def _posseg(self):
        with self._lock:
            if self._pos is None:
                import jieba.posseg

                self._pos = jieba.posseg.POSTokenizer(self._tokenizer) if self._tokenizer else jieba.posseg.dt
            return self._pos

    def _english_places(self) -> dict[str, str]:
        """English place names (CC-CEDICT entries glossed as a city, province, district…) whose Chinese
        name the corpus never mentions: 'beijing' → 北京."""
        with self._lock:
            if self._en is None:
                named, common = _cedict_places()
                # a name is foreign when none of its Chinese spellings appears in the documents
                en = {
                    name: sorted(heads)[0]
                    for name, heads in named.items()
                    if not (set(name.split()) & common) and not any(h in self._text for h in heads)
                }
                self._en = en
                self._en_known = set(named)
                self._common = common
            return self._en

    def foreign_en(self, query: str) -> list[str]:
        places = self._english_places()
        words = re.findall(r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?", query)
        out = []
        for w in words:
            # a two-word name known as a whole (Hong Kong) is judged as a whole, not by its parts
            cands = (w,) if w.lower() in self._en_known else (w, *w.replace("-", " ").split(" "))
            for cand in cands:
                if cand.lower() in places:
                    # name the place as written: "Hong Kong", not its part "Hong"; but "Beijing", not "Does Beijing"
                    rest = [p for p in w.replace("-", " ").split(" ") if p != cand]
                    out.append(w if cand != w and rest and not (set(map(str.lower, rest)) & self._common) else cand)
                    break
        return out

    def foreign(self, query: str) -> list[str]:
        return [
            p.word for p in self._posseg().lcut(query)
            if p.flag == "ns" and len(p.word) >= 2 and p.word not in self._text
        ]
