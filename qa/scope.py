"""What kind of information a question asks for, and whether a clause states it: small, general rules.

These are question words and the forms in which Chinese policy text prints figures — not topics. They
feed the answerability judge (`qa/judge.py`) as evidence: a question after a sum of money whose best
clauses print no sum is less likely to be answered by them. They never refuse a question on their own.

Two rules do decide alone, because a reviewer can accept them without seeing any question: a question
that names a place these (Shanghai) documents never mention, or a 《document》 that is not one of them.
Both are detected in `qa/analysis.py`; `other_document` below is the title comparison.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from difflib import SequenceMatcher
from pathlib import Path

from .intent import CUES

# --- what a question asks for, and whether a clause states it ------------------------------------
# The forms live in qa/data/asks.toml, each kind with the reason it exists. Interrogatives only: 多少钱 asks
# for a sum, 收费 or 费用 alone names a topic and asks for nothing.

ASKS_PATH = Path(__file__).resolve().parent / "data" / "asks.toml"
KINDS = ("amount", "share", "count", "date", "procedure", "contact", "names", "places", "outcome")  # the order missing kinds are reported in
# "agency" (who is responsible) is asked in the words of intent.CUES["agency"] and stated by a clause's printed
# agency list, a record field, so the judge checks it on the clauses themselves (`qa/judge.py`).


def _load_kinds(
    path: Path = ASKS_PATH,
) -> tuple[dict[str, re.Pattern], dict[str, re.Pattern], dict[str, re.Pattern]]:
    """(asks, states, form_words) of every kind, from one read of the data file."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    asks = {k: re.compile("|".join(f"(?:{p})" for p in raw[k]["asks"]), re.I) for k in KINDS}
    states = {k: re.compile("|".join(f"(?:{p})" for p in raw[k]["states"]), re.I) for k in KINDS if raw[k]["states"]}
    form_words = {
        k: re.compile(r"\b(?:" + "|".join(map(re.escape, raw[k]["form_words"])) + r")\b", re.I)
        for k in KINDS if raw[k].get("form_words")
    }
    return asks, states, form_words


ASKS, STATES, FORM_WORDS = _load_kinds()
STATES["year"] = re.compile(r"(?:19|20)[0-9]{2}\s*年|十[一二三四五六七八九]五")


def without_form_words(text: str, asks: frozenset[str]) -> str:
    """An English question without the nouns that only name the kind of figure it asks for (asks.toml
    `form_words`: 'what share of GDP', 'the number of zones'): the question's form, not its topic, so neither
    translated for the keyword legs nor counted in its coverage."""
    for kind in asks:
        rx = FORM_WORDS.get(kind)
        if rx is not None:
            text = rx.sub(" ", text)
    return text

# A date question about a document itself (issued, in force, expiring): every citation carries the
# document's dates, so such a question is answered from the document record, not from a clause.
ABOUT_DOCUMENT_DATE = re.compile(
    r"发布|印发|发的|出台|施行|实施|开始执行|生效|有效期|失效|到期|文号|签发|签署"
    r"|\btake effect|\bin force\b|\bissued\b|\bpublished\b|\bvalid\b|\bexpire|\bsigned\b|\bpromulgated\b",
    re.I,
)


# 几 asks "how many" only in the part of a question that asks: the part ending in a question mark or ending the
# question, with no other question word (几份文件里怎么说的 'how do the several documents put it', 引进了几家企业，
# 有奖励吗 'I brought in several firms; is there a reward') — elsewhere it is the indefinite 'several'.
_SEGMENT = re.compile(r"[^，,；;。！!？?\n]+[？?]?")
_OTHER_QUESTION_WORD = re.compile(r"怎么|怎样|如何|咋|什么|为什么|是否|吗|呢|哪|有没有|能不能|可不可以|是不是")


def _without_indefinite_ji(text: str) -> str:
    segments = [m.group(0) for m in _SEGMENT.finditer(text) if m.group(0).strip()]
    out = []
    for i, seg in enumerate(segments):
        asking = seg.endswith(("？", "?")) or i == len(segments) - 1
        if "几" in seg and (not asking or _OTHER_QUESTION_WORD.search(seg.replace("哪几", ""))):
            seg = seg.replace("几", "若")  # 若 ('some'): the indefinite reading, which no pattern asks with
        out.append(seg)
    return "，".join(out)


# English contractions are grammar: "what's the website" asks as "what is the website" does
# "what's", and "whats" as chat users type it (not "its": a possessive)
_CONTRACTION = re.compile(r"\b(?:(what|who|where|when|how|which|it|there|that)['’]s|(what|where|when|how|there|that)s)\b", re.I)

# An English question that opens with its own question word (who decides…, which agency…) and later has an
# interrogative as the object of a preposition ("the cap on how many tickets", "rules of how much is charged",
# "limits to when shops open") holds an indirect question: what it names is the topic, and the opening word is
# what is asked. 'about' is left out: "about how much" also means "roughly how much". The embedded wh-word is
# replaced by a neutral word, so no kind pattern reads it. The question may follow a sentence saying who asks
# ("We run cruise lines. Is there a reward based on…"), and the interrogative may be the second of two objects
# of the preposition ("based on the number of voyages or how long ships stay").
_OPENING_QUESTION = re.compile(r"(?:^|[.!?]\s+)\W*(?:who|whom|whose|which|what|where|when|why|how|is|are|does|do|can|could|will)\b", re.I)
_EMBEDDED_QUESTION = re.compile(r"\b(?:on|of|over|regarding|concerning|to|for)\s+(how\s+(?:many|much|long|often|far)|when|where)\b", re.I)
# the second object: subject before verb (how long ships stay), not a question of its own (… and how long is it)
_EMBEDDED_SECOND = re.compile(
    r"\b(?:on|of|over|regarding|concerning)\s+(?:[\w'-]+\s+){1,6}?(?:or|and)\s+(how\s+(?:many|much|long|often|far)|when|where)\b"
    r"(?!\s+(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have|had)\b)", re.I)


def _without_embedded_questions(text: str) -> str:
    if not _OPENING_QUESTION.search(text):
        return text
    for rx in (_EMBEDDED_QUESTION, _EMBEDDED_SECOND):
        text = rx.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + "the", text)
    return text


# a sentence's end: ? ! 。 anywhere; a full stop only before a space and a capital or a Chinese character (not in
# 28307.54, 'No. 5' or 'e.g.')
_SENTENCE_END = re.compile(r"(?<=[?？!！。])|(?<=\.)(?=\s+[A-Z\u4e00-\u9fff])")


def asking_sentences(text: str) -> str:
    """The sentences of a question that ask, when others only tell (我们是做广告的。'I read the city would relax how
    many tickets can be sold. Which departments are behind that?'): a kind named in a statement — how many
    tickets — is what the asker read or did, not what they ask for. A statement ends with a full stop or an
    exclamation mark; this applies only when some other sentence ends with a question mark."""
    sents = [x.strip() for x in _SENTENCE_END.split(text) if x.strip()]
    asking = [x for x in sents if not x.endswith((".", "。", "!", "！"))]
    if len(asking) < len(sents) and any(x.endswith(("?", "？")) for x in asking):
        return " ".join(asking)
    return text


def asked_kinds(text: str) -> frozenset[str]:
    """The kinds of information a question asks for: amount, share, count, date, procedure, contact, names,
    places, outcome, agency — read in the sentences that ask."""
    text = asking_sentences(text)
    plain = _without_indefinite_ji(text) if "几" in text else text
    plain = _CONTRACTION.sub(lambda m: f"{m.group(1) or m.group(2)} is", plain)
    plain = _without_embedded_questions(plain)
    kinds = {k for k, rx in ASKS.items() if rx.search(plain)}
    if CUES["agency"].search(text):
        kinds.add("agency")
        kinds.discard("names")  # 名录是哪个单位负责: the question word asks who, the list is the topic
    if kinds & {"share", "amount"}:
        kinds.discard("count")  # 占比多少, 补贴多少: the 多少 asks for the share or the sum
    return frozenset(kinds)


_NUMERAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CN_COUNT = re.compile(r"[一二两三四五六七八九十百千万]+[个家项年天次所名位条批座只场处张人户间套台辆]")
# 一批 ('a batch of', 建设一批零碳园区) is the indefinite quantifier of policy prose, like 若干 and 一些: it says
# some will be built, not how many — unlike 三批 or 十一批, which count batches
_INDEFINITE_BATCH = re.compile(r"(?<![一二两三四五六七八九十百千万])一批")


def states_count(text: str) -> bool:
    """A number that counts something: 10个, 300项, 45%, 三批 — a bare year (2025年) and the indefinite 一批
    do not count."""
    for m in _NUMERAL.finditer(text):
        digits = m.group(0)
        if not (len(digits) == 4 and text[m.end() : m.end() + 1] == "年"):
            return True
    return bool(_CN_COUNT.search(_INDEFINITE_BATCH.sub("若干", text)))


# a year written in digits (shared with the judge)
YEAR = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")
# one sentence (normalised text ends sentences with '.', which decimals also use)
_IN_SENTENCE = r"(?:[^。.;；]|(?<=[0-9])\.(?=[0-9]))"
# a sentence whose subject is the document itself, about when it applies (本措施自…起实施，有效期至…; 本措施涉及的
# 具体政策有明确执行期限的，从其规定)
_OWN_PERIOD = re.compile(
    rf"(?:^|(?<=[。.;；\n]))\s*本(?:措施|方案|意见|实施意见|实施方案|规划|办法|细则|通知|规定|决定|政策){_IN_SENTENCE}*?"
    rf"(?:起(?:实施|施行|执行|生效)|有效期|期限){_IN_SENTENCE}*[。.;；]?"
)


def states_outcome(text: str, question: str = "") -> bool:
    """Whether a clause reports what was achieved — for the year the question names, when it names one: a
    report of 2020 (2020年全市…达到…, 累计认定…家) does not say what was reached by 2025, and a plan's
    到2025年…达到 is a target, not a result."""
    if not STATES["outcome"].search(text):
        return False
    years = set(YEAR.findall(question))
    if not years:
        return True
    return any(
        re.search(rf"(?<![到至]){y}\s*年(?:底|末)?,?[^。;；]{{0,30}}?(?:已|累计|达到|实现|完成|突破|超过|建成|认定)", text)
        or re.search(rf"截至{y}\s*年", text)
        for y in years
    )


def states(kind: str, text: str, question: str = "") -> bool:
    """Whether a clause's text (NFKC-normalised) prints the kind of information asked for."""
    if kind == "outcome":
        return states_outcome(text, question)
    if kind == "count":
        return states_count(text)
    if kind == "date":
        # the document's own period (本措施自…起实施，有效期至…) dates the document — its record answers that —
        # not a deadline or an event of anything it provides for ('the deadline to apply for the vouchers')
        text = _OWN_PERIOD.sub("", text)
        # a question after a year is answered by a year; after a day, only by a month or a day
        if re.search(r"哪一?年|几年|\bwhat year\b|\bby what year\b", question, re.I) and STATES["year"].search(text):
            return True
        return bool(STATES["date"].search(text))
    return bool(STATES[kind].search(text))


def missing_kinds(asked: frozenset[str], clause_texts: list[str], question: str = "") -> list[str]:
    """The kinds asked for that none of the clauses states, in a fixed order."""
    return [k for k in KINDS if k in asked and not any(states(k, t, question) for t in clause_texts)]


# --- documents ------------------------------------------------------------------------------------

_TITLE = re.compile(r"《([^》]{4,60})》")
DOC_NUMBER = re.compile(r"([\u4e00-\u9fff]{1,6}?)[〔\[(（【]?((?:19|20)[0-9]{2})[〕\])）】]?\s*([0-9]{1,4})\s*号")


def titles_named(text: str) -> list[str]:
    return _TITLE.findall(text)


def other_document(query: str, titles: list[str]) -> str | None:
    """A document the question names by its 《title》 that is not one of these: its contents are not here
    even when one of these documents cites it."""
    for t in titles_named(query):
        if not any(_similar(t, title) for title in titles):
            return t
    return None


def doc_number_key(text: str) -> tuple[str, str, str] | None:
    """沪府办发〔2025〕5号 / 沪府办发[2025]5号 → ('沪府办发', '2025', '5'); the prefix may carry words
    before it (是沪府办发), so compare prefixes with endswith (see `same_doc_number`)."""
    m = DOC_NUMBER.search(text)
    return (m.group(1), m.group(2), m.group(3).lstrip("0")) if m else None


def same_doc_number(asked: tuple[str, str, str], printed: tuple[str, str, str]) -> bool:
    return asked[1:] == printed[1:] and asked[0].endswith(printed[0])


# What kind of document a title names, and the English words for it: people name a document by its year and
# kind ("the 2026 implementation opinions", 2024年的实施方案, "the December 2025 measures") as often as by title.
DOC_KINDS = {
    "意见": ("opinion", "opinions"),
    "措施": ("measure", "measures"),
    "方案": ("plan", "programme", "program", "scheme"),
    "规划": ("plan", "five-year plan"),
    "办法": ("measures", "rules"),
    "通知": ("notice", "circular"),
}
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_YEAR_MONTH = re.compile(r"((?:19|20)[0-9]{2})\s*年\s*([0-9]{1,2})\s*月|((?:19|20)[0-9]{2})")
_EN_MONTH_YEAR = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+((?:19|20)[0-9]{2})\b", re.I)


def title_kinds(title: str) -> set[str]:
    """The kinds a document's title names (实施意见 → 意见); the last one is what the document is."""
    found = [(title.rfind(k), k) for k in DOC_KINDS if k in title]
    return {max(found)[1]} if found else set()


def _asked_kinds_of_document(text: str) -> set[str]:
    low = text.lower()
    return {k for k, words in DOC_KINDS.items() if k in text or any(re.search(rf"\b{w}\b", low) for w in words)}


def documents_by_year_and_kind(text: str, docs: list[tuple[str, str, "object"]]) -> list[str]:
    """The one document whose signing year (and month, when the question names one) and kind the question
    names; none when it names no year or kind, or when several documents fit. ``docs``: (doc_id, title,
    issued date or None)."""
    kinds = _asked_kinds_of_document(text)
    if not kinds:
        return []
    wanted: list[tuple[int, int | None]] = []
    dated = []  # a year that comes with its month is not also read as the year alone
    for m in _EN_MONTH_YEAR.finditer(text):
        wanted.append((int(m.group(2)), _MONTHS.index(m.group(1).lower()) + 1))
        dated.append(m.span(2))
    for m in _YEAR_MONTH.finditer(text):
        if m.group(1):
            wanted.append((int(m.group(1)), int(m.group(2))))
        elif m.span(3) not in dated:
            wanted.append((int(m.group(3)), None))
    if not wanted:
        return []
    fits = [
        doc for doc, title, issued in docs
        if issued is not None and title_kinds(title) & kinds
        and any(issued.year == y and (mo is None or issued.month == mo) for y, mo in wanted)
    ]
    return fits if len(fits) == 1 else []


# the words between the year and the kind make a noun phrase: no locative or preposition (2024年目标在方案里: the
# year is the target's), no goal word
_DOC_YEAR_ZH = re.compile(r"((?:19|20)[0-9]{2})\s*年?(?:版|的|那份|这份|那个|这个)?(?:(?!目标|在|要|达到|到)[\u4e00-\u9fff]){0,10}?(" + "|".join(DOC_KINDS) + ")(?:里面?|里头)?")
_DOC_YEAR_EN = re.compile(
    r"\b((?:19|20)[0-9]{2})(?:'s)?\s+(?:(?!(?:in|of|for|by|from|under|to|target|goal)\b)[\w-]+\s+){0,4}?("
    + "|".join(sorted({w for ws in DOC_KINDS.values() for w in ws}, key=len, reverse=True))
    + r")\b",
    re.I,
)


def signed_kinds(docs: list[tuple[str, str, dt.date | None]]) -> frozenset[tuple[str, str]]:
    """(signing year, kind) of every dated document: what `document_years` matches a question against, computed
    once per corpus. ``docs``: (doc_id, title, issued date or None)."""
    return frozenset((str(issued.year), kind) for _, title, issued in docs if issued is not None for kind in title_kinds(title))


def document_years(text: str, signed: frozenset[tuple[str, str]]) -> tuple[frozenset[str], tuple[tuple[int, int], ...]]:
    """Years the question uses to name a document ('the 2025 measures', 2026年的意见, 2024年消费方案): a year
    followed, within a short noun phrase, by a document kind, when one of these documents of that kind was
    signed that year. Such a year says which document, not which year a figure is for, so the judge does
    not look for it among the clauses' numbers, and the phrase is not part of what the question is about.
    Returns the years and the spans of the naming phrases. ``signed``: `signed_kinds` of the documents."""
    years: set[str] = set()
    spans: list[tuple[int, int]] = []
    for m in _DOC_YEAR_ZH.finditer(text):
        if (m.group(1), m.group(2)) in signed:
            years.add(m.group(1))
            spans.append(m.span())
    for m in _DOC_YEAR_EN.finditer(text):
        word = m.group(2).lower()
        if any((m.group(1), k) in signed for k, ws in DOC_KINDS.items() if word in ws):
            years.add(m.group(1))
            spans.append(m.span())
    return frozenset(years), tuple(spans)


def documents_by_title_part(text: str, titles: list[tuple[str, str]], min_chars: int = 6) -> list[str]:
    """The one document a question names by a distinctive part of its title and its kind (服务业创新发展那份
    若干措施): the longest run of characters shared with a title, at least ``min_chars`` long and in no other
    title, with the title's kind word in the question."""
    kinds = _asked_kinds_of_document(text)
    fits = []
    for doc, title in titles:
        if not (title_kinds(title) & kinds):
            continue
        m = SequenceMatcher(None, text, title, autojunk=False).find_longest_match(0, len(text), 0, len(title))
        part = title[m.b : m.b + m.size]
        if m.size >= min_chars and _HAS_CJK_RUN.fullmatch(part) and not any(part in t for d, t in titles if d != doc):
            fits.append(doc)
    return fits if len(fits) == 1 else []


_HAS_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def _similar(a: str, b: str) -> bool:
    return a in b or b in a or SequenceMatcher(None, a, b).ratio() >= 0.8
