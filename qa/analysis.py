"""A question, analysed once: language, normalised text, tokens, intent, translation, what it names.

`Analyser.analyse` is the only place in `qa/` that tokenises a question, translates it or looks for
the agencies, places and documents it names. Search, the answerability judge and the composition of the
answer read the frozen record it returns; none of them re-derives any of it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from policyqa.corpus import Corpus
from policyqa.corpus.rules import normalize
from policyqa.index.tokenize import JiebaTokenizer, Tokenizer, normalize_for_search, question_tokens

from .agencies import Agency, AgencyDirectory
from .intent import CUES, IntentModel, asks_what_agency_does
from .scope import (
    ABOUT_DOCUMENT_DATE,
    asked_kinds,
    doc_number_key,
    document_years,
    documents_by_title_part,
    documents_by_year_and_kind,
    other_document,
    same_doc_number,
    signed_kinds,
    titles_named,
    without_form_words,
)
from .translate import (
    EN_STOPWORDS,
    QueryTranslator,
    Translation,
    _stemmer,
    cedict_entries,
    content_words,
    is_english,
)

_HAS_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

# Question scaffolding the judge leaves out of a question's topic (search still uses every token). Both are
# grammar, not topics:
# - asking who, with the verb of running the matter that follows the department word or 谁 (是哪些单位负责的,
#   哪几个局在管, 归谁管, 由哪个部门牵头): the verb belongs to the question word, as the department word does;
# - a demonstrative with a measure or place word (这块, 这边, 这件事, 那个): it points back at the topic the
#   question has already named.
_WHO_ASKED = re.compile(
    rf"(?:归|由|是|分别是|分别由)?(?:{CUES['agency'].pattern})(?:在|来)?(?:负责|牵头|主管|分管|管|抓|推进|推动)?的?",
    re.I,
)
_DEICTIC = re.compile(r"^[这那](?:[个些块边件种样里次位家儿]|事儿?|件事)$")


def _topic_only(tokens: Iterable[str]) -> tuple[str, ...]:
    return tuple(t for t in tokens if not _DEICTIC.match(t))


@functools.lru_cache(maxsize=1)
def _opencc():
    from opencc import OpenCC

    return OpenCC("t2s")


@dataclass(frozen=True)
class _T2STables:
    phrase: np.ndarray  # per code point: whether a key of several characters holds it (e.g. 頭髮; ~350)
    alone: np.ndarray  # per code point: what it becomes converted alone (itself for most)
    odd: dict[int, str]  # characters that become other than one character alone (none in OpenCC 0.1.7's t2s)


@functools.lru_cache(maxsize=1)
def _t2s_tables() -> _T2STables:
    """What OpenCC t2s does to each character its dictionaries hold (~4,300, nearly all traditional forms);
    code points above the highest of them are left as they are."""
    tables = [table for _max, _min, table in _opencc().dict_cache.values()]
    chars = {ch for table in tables for key in table for ch in key}
    top = max(map(ord, chars)) + 1
    phrase = np.zeros(top, dtype=bool)
    phrase[[ord(ch) for table in tables for key in table if len(key) > 1 for ch in key]] = True
    alone = np.arange(top, dtype=np.uint32)
    odd = {}
    for ch in chars:
        out = _opencc().convert(ch)
        if len(out) == 1:
            alone[ord(ch)] = ord(out)
        else:
            odd[ord(ch)] = out
    return _T2STables(phrase, alone, odd)


@functools.lru_cache(maxsize=16384)
def _convert_phrase_run(run: str) -> str:
    return _opencc().convert(run)


def _t2s(text: str) -> str:
    """Exactly OpenCC t2s of ``text``, whose own pure-Python search costs several µs a character and grows
    faster than the length. The converter picks its matches within the stretch of text they lie in (longest
    first, then leftmost), so a character no phrase holds splits the text into parts it converts
    independently: such a character becomes what it becomes alone (a table lookup), and only the runs of
    two or more phrase characters — few and short, even in a long question — are left to the converter."""
    t = _t2s_tables()
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    known = points < len(t.alone)
    mapped = points.copy()
    mapped[known] = t.alone[points[known]]
    alone = mapped.tobytes().decode("utf-32-le", "surrogatepass")
    # phrase characters as 1 between two 0s: a run starts where the difference is 1 and ends where it is -1
    in_phrase = np.zeros(len(points) + 2, dtype=np.int8)
    in_phrase[1:-1][known] = t.phrase[points[known]]
    edges = in_phrase[1:] - in_phrase[:-1]
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    runs = ends - starts >= 2  # a lone phrase character is no phrase: it converts alone
    out, done = [], 0
    for a, b in zip(starts[runs].tolist(), ends[runs].tolist()):
        out += (alone[done:a].translate(t.odd) if t.odd else alone[done:a], _convert_phrase_run(text[a:b]))
        done = b
    out.append(alone[done:].translate(t.odd) if t.odd else alone[done:])
    return "".join(out)


# 那 typed for 哪 (both "na" in pinyin input, the commonest slip in a question): before a department word, in a
# question with no other interrogative (科技创新券由那个部门负责), it can only be the question word — "that
# department" needs a question word elsewhere to make a question.
_NA_DEPARTMENT = re.compile(r"那(?=(?:个|些|几个|几家|家)?(?:政府|市级|相关|主管|职能|具体)?(?:部门|单位|机构|局|委|办))")
_INTERROGATIVE = re.compile(r"哪|谁|什么|啥|吗|呢|怎|如何|多少|几|是否|有没有|能否|可否|是不是")


def _na_for_which(text: str) -> str:
    if "那" in text and _NA_DEPARTMENT.search(text) and not _INTERROGATIVE.search(text):
        return _NA_DEPARTMENT.sub("哪", text)
    return text


@functools.lru_cache(maxsize=4096)  # widgets ask the same questions again and again
def normalise(text: str) -> str:
    """Traditional → simplified characters (OpenCC t2s), full-width → half-width (NFKC), spaces trimmed."""
    text = normalize(text).strip()
    if _HAS_CJK.search(text):
        text = _t2s(text)
    return text


@dataclass(frozen=True)
class QueryEncoder:
    """The dense leg's question encoder as the analysis sees it (its vectors are cached, so the search that
    follows reuses the one computed here)."""

    model: str  # "backend|model", as the index manifest records it
    dim: int
    encode: Callable[[str], object]  # text → a normalised vector (numpy)


@dataclass(frozen=True)
class AnalysedQuestion:
    raw: str  # as asked
    text: str  # normalised (simplified, half-width); what search and highlighting read
    lang: str  # "zh" | "en" (an English question has Latin words and no Chinese characters)
    tokens: tuple[str, ...]  # keyword-leg (jieba, corpus dictionary) tokens of the text
    english_words: tuple[str, ...]  # stemmed English content words (English questions)
    # the same without the words that ask who is responsible (哪些部门牵头, which bureau is in charge of): a
    # clause answers that with its printed agency list, a record field, not with those words, so the judge
    # measures how well a clause covers the question on what the question is about
    topic_tokens: tuple[str, ...]
    topic_words: tuple[str, ...]
    intent: str  # agency | support | fact | general
    intent_scores: tuple[tuple[str, float], ...]
    translation: Translation | None  # the Chinese terms an English question is searched as (keyword legs)
    rendering_tokens: tuple[tuple[str, tuple[str, ...]], ...]  # each Chinese rendering → its keyword tokens
    agencies: tuple[Agency, ...]  # agencies it names (longest names first)
    places: tuple[str, ...]  # places it names that the documents never mention
    other_documents: tuple[str, ...]  # 《titles》 it names that are not among these documents
    documents: tuple[str, ...]  # doc_ids of these documents it names (title or 文号)
    asks: frozenset[str]  # kinds of information asked for: amount, share, count, date, procedure
    about_document_date: bool  # asks when a document was issued, takes effect or expires
    reverse_agency: bool  # "市民政局负责哪些事" — what an agency it names is responsible for
    # years that name one of these documents ('the 2025 measures', 2026年的意见), not a figure's year
    document_years: frozenset[str] = frozenset()
    # the questions asked together in it (邮轮目标是多少？又是哪些部门负责？), each answered on its own; () for one
    parts: tuple[str, ...] = ()

    @property
    def english(self) -> bool:
        return self.lang == "en"

    @property
    def keyword_text(self) -> str:
        """What the keyword legs search and sentences are matched against."""
        return self.translation.text if self.translation else self.text


class Analyser:
    """Built once per corpus; thread-safe."""

    def __init__(
        self,
        corpus: Corpus,
        directory: AgencyDirectory,
        tokenizer: Tokenizer,
        intent_model: IntentModel | None = None,
        places_present: Iterable[str] | None = None,
        text: str | None = None,
    ) -> None:
        """``text``: ``analysis_text(corpus)`` as the index build persisted it (else computed here)."""
        self.corpus = corpus
        self.directory = directory
        self.tokenizer = tokenizer
        self.intent_model = intent_model or IntentModel.load()
        docs = [d.document for d in corpus.documents]
        self._titles = [(d.doc_id, d.title) for d in docs]
        self._issued = [(d.doc_id, d.title, d.issued) for d in docs]
        self._signed = signed_kinds(self._issued)  # (year, kind) of each document, for document_years
        self._numbers = [(d.doc_id, k) for d in docs if d.doc_number and (k := doc_number_key(normalize(d.doc_number)))]
        self._text = analysis_text(corpus) if text is None else text
        self._places = PlaceNames(
            self._text, tokenizer.jieba() if isinstance(tokenizer, JiebaTokenizer) else None, present=places_present
        )

    def analyse(
        self, query: str, translator: QueryTranslator | None = None, encoder: "QueryEncoder | None" = None
    ) -> AnalysedQuestion:
        """`encoder`, when the dense leg serves: the question's embedding (cached, so search reuses it) is
        evidence for the intent."""
        text = _na_for_which(normalise(query))
        english = is_english(text)
        if english and translator is not None:
            text = spelled(text, translator.renders)
        asks = asked_kinds(text)
        # an English question's words that only name the kind of figure asked ('what share of GDP') are its
        # form: neither translated for the keyword legs nor part of its topic
        plain = without_form_words(text, asks) if english else text
        translation = translator.translate(plain) if translator and english else None
        tokens = tuple(question_tokens(self.tokenizer, text))  # bounded cost on long input (index/tokenize.py)
        words = tuple(content_words(plain, _stemmer())) if english else ()
        topic_tokens, topic_words = _topic_only(tokens), words
        doc_years, doc_spans = document_years(text, self._signed)
        about = plain
        if doc_spans and not english:
            # a phrase naming one of the documents (2025年的措施) is not part of what the question is about
            for a, b in sorted(doc_spans, reverse=True):
                about = about[:a] + "，" + about[b:]
        if CUES["agency"].search(about):
            topic = _WHO_ASKED.sub("，", about)
            topic_tokens = _topic_only(question_tokens(self.tokenizer, topic))
            topic_words = tuple(content_words(topic, _stemmer())) if english else ()
        elif about is not plain:
            topic_tokens = _topic_only(question_tokens(self.tokenizer, about))
        vector = None
        if encoder is not None and self.intent_model.uses_vector(encoder.model, encoder.dim) and text.strip():
            vector = encoder.encode(text)
        intent, scores = self.intent_model.classify(text, vector, encoder.model if encoder else None, asks)
        titles = titles_named(text)
        others = tuple(t for t in titles if other_document(f"《{t}》", [t2 for _, t2 in self._titles]))
        named = [doc for doc, title in self._titles if any(t in title or title in t for t in titles) or title in text]
        if key := doc_number_key(text):
            named += [doc for doc, k in self._numbers if same_doc_number(key, k)]
        about_date = bool(ABOUT_DOCUMENT_DATE.search(text)) or bool(named)
        # named by its year and kind ('the 2024 plan') or a distinctive part of its title: looked for only in a
        # question about a document's dates, and never when it names another 《document》 (国务院《关于推进服务业
        # 扩能提质的意见》 is not the city's 实施意见)
        if about_date and not named and not others:
            named = documents_by_year_and_kind(text, self._issued) or documents_by_title_part(text, self._titles)
        places = self._places.foreign_en(text) if english else self._places.foreign(normalize_for_search(text), tokens)
        if english and translator is not None:
            # a place the documents print is never another place: in pinyin too (Baoshan is 宝山, whose district
            # government the documents name, though the dictionary knows only Yunnan's 保山)
            places = [p for p in places if not translator.spells_printed(p.split()[0])]
        if places and self._places.names_home(text, english):
            # where the asker comes from, in a question about the documents' own city (我在成都开了三家店，想来上海
            # 开首店; 'we're a Shenzhen firm moving to Shanghai'), is not what is asked about: judged on the
            # evidence, not refused for naming it. A place that is itself the subject (苏州有没有类似上海的补贴)
            # still decides alone.
            places = [p for p in places if not asker_origin(text, p)]
        agencies = tuple(self.directory.find_in(text))
        return AnalysedQuestion(
            raw=query,
            text=text,
            lang="en" if english else "zh",
            tokens=tokens,
            english_words=words,
            topic_tokens=topic_tokens,
            topic_words=topic_words,
            intent=intent,
            intent_scores=scores,
            translation=translation,
            rendering_tokens=tuple(
                (zh, tuple(self.tokenizer.tokenize(zh)) or (zh,)) for zh in (translation.chinese if translation else ())
            ),
            agencies=agencies,
            places=tuple(dict.fromkeys(places)),
            other_documents=others,
            documents=tuple(dict.fromkeys(named)),
            asks=asks,
            about_document_date=about_date,
            reverse_agency=bool(agencies) and intent == "agency" and asks_what_agency_does(text),
            document_years=doc_years,
            parts=question_parts(text),
        )


# --- spelling (English) -------------------------------------------------------------------------------

# An English word the dictionary cannot render is evidence that the question is off the documents' subject
# (the judge's `unknown` share), so a typed *suport* or *langauge* made answerable questions look off-topic.
# Such a word is replaced by the spelling checker's one-edit correction (pyspellchecker's English word
# frequencies; transpositions count as one edit) only when the correction is a word the dictionary renders or
# a function word — never a word the checker knows, a Latin word the documents use (REITs), or a capitalised
# name inside the sentence (Lingang would become linsang).
MAX_SPELLED = 8  # corrections tried per question: each costs up to a few ms, so hostile input stays bounded
# five letters or more (a four-letter word has many one-edit neighbours: tech → teach), not part of a
# hyphenated compound (sci-tech is meant)
_LATIN_WORD = re.compile(r"(?<![A-Za-z'-])([A-Za-z][a-z]{4,19})(?![A-Za-z'-])")


@functools.lru_cache(maxsize=1)
def _spell_checker():
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


def spelled(text: str, renders: Callable[[str], bool], checker=None) -> str:
    """The question with misspelt English words corrected (see above); unchanged when nothing applies."""
    tried = 0
    out, done = [], 0
    for m in _LATIN_WORD.finditer(text):
        w = m.group(1)
        if w[0].isupper() and m.start() > 0 and not re.fullmatch(r"[\s\W]*", text[: m.start()].rsplit(".", 1)[-1]):
            continue  # a capitalised word inside a sentence: a name
        low = w.lower()
        if low in EN_STOPWORDS or renders(low):
            continue
        checker = checker or _spell_checker()
        if low in checker:
            continue
        tried += 1
        if tried > MAX_SPELLED:
            break
        fix = checker.correction(low)
        if fix and fix != low and (fix in EN_STOPWORDS or renders(fix)):
            out += [text[done : m.start()], fix]
            done = m.end()
    return "".join(out) + text[done:] if out else text


# --- places -------------------------------------------------------------------------------------------

# the asker's self-description before a place: 我在成都…, 我是从广州过来的, 我们是一家新加坡的…品牌; "I'm from",
# "we are based in", "moving from", "a Shenzhen company" after I/we/our
_ORIGIN_ZH = r"(?:我|我们|咱们|本人|我司|我家)(?:公司|企业)?(?:是|原来|之前|目前|现在)?(?:一家)?(?:在|从|来自|是)?(?:一家)?$"
_ORIGIN_EN = r"(?:\b(?:i|we)(?:'m|'re| am| are)? (?:(?:originally|currently) )?(?:from|based in|located in|in)|\bmoving (?:\w+ )?from|\brelocating (?:\w+ )?from|\b(?:we are|we're|i am|i'm|our) (?:a|an)? ?)\s*$"


def asker_origin(text: str, place: str) -> bool:
    """Whether ``place`` is named as where the asker is or comes from: the words just before it describe
    the asker (我在成都, 我是从广州过来的, 我们是一家新加坡的, "I'm from Chengdu", "we're a Shenzhen firm")."""
    english = not _ALL_CJK.search(place)
    for m in re.finditer(re.escape(place), text, re.I if english else 0):
        before = text[max(0, m.start() - 24) : m.start()]
        if re.search(_ORIGIN_EN if english else _ORIGIN_ZH, before.lower() if english else before):
            return True
    return False

_PLACE_GLOSS = re.compile(r"([A-Z][a-z]+(?: [A-Z][a-z]+)?)\b")
_PLACE_KIND = re.compile(r"\b(?:city|province|county|district|capital|prefecture|municipality|region|town)\b")
_PROPER = re.compile(r"^(?:the )?[A-Z]")


@functools.lru_cache(maxsize=1)
def _cedict_places() -> tuple[dict[str, set[str]], frozenset[str], frozenset[str], frozenset[str]]:
    """From CC-CEDICT, once per process: English place name → its Chinese spellings (entries glossed as a
    city, province…); the English words CEDICT also writes in lower case (ordinary words, not names); the
    Chinese headwords whose first gloss is a proper name (香港 'Hong Kong', not 治安 'law and order'); and
    the headwords of places in Shanghai (长宁 'Changning District of Shanghai'), never foreign here."""
    named: dict[str, set[str]] = {}
    common: set[str] = set()
    proper: set[str] = set()
    local: set[str] = set()
    for head, defs in cedict_entries():
        common.update(re.findall(r"\b[a-z]+\b", defs))
        if _PROPER.match(defs):
            proper.add(head)
        if "Shanghai" in defs:
            local.add(head)
        m = _PLACE_GLOSS.match(defs)
        if m and _PLACE_KIND.search(defs):
            named.setdefault(m.group(1).lower(), set()).add(head)
    return named, frozenset(common), frozenset(proper), frozenset(local)


_ALL_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def places_state(corpus_text: str) -> list[str]:
    """The place headwords (CC-CEDICT) that ``corpus_text`` prints: JSON-able, persisted by the build."""
    from .translate import occurrences

    named, _, _, _ = _cedict_places()
    return sorted(occurrences(corpus_text, {h for heads in named.values() for h in heads}))


def analysis_text(corpus: Corpus) -> str:
    """The text questions are checked against (places, titles): every clause with its section path."""
    return "\n".join(normalize_for_search("\n".join([*c.section_path, c.text])) for c in corpus.clauses)


class PlaceNames:
    """Places a question names that the corpus never mentions: these documents are Shanghai's, so a
    question about 深圳's subsidies is not theirs to answer.

    Chinese: a word jieba's dictionary tags as a place (ns) that CC-CEDICT glosses as a proper name — so
    治安, which jieba sometimes tags ns, is not a place. English: a capitalised word CC-CEDICT glosses as a city,
    province, district… whose Chinese spellings the documents never print."""

    def __init__(self, corpus_text: str, tokenizer=None, present: Iterable[str] | None = None) -> None:
        """``present``: the place headwords ``corpus_text`` contains (``places_state``), as persisted by
        the index build — without it, each place name is looked for in the whole text once."""
        self._text = corpus_text
        self._present = frozenset(present) if present is not None else None
        self._tokenizer = tokenizer  # a jieba.Tokenizer with the corpus dictionary, or jieba's default
        self._pos = None
        self._tagged: tuple[frozenset[str], dict[str, tuple[int, ...]]] | None = None  # _may_tag_place
        self._en: dict[str, str] | None = None
        self._en_known: set[str] = set()
        self._zh: set[str] = set()
        self._common: frozenset[str] = frozenset()
        self._home: tuple[frozenset[str], frozenset[str]] | None = None  # names_home
        self._lock = threading.Lock()

    def _posseg(self):
        with self._lock:
            if self._pos is None:
                from policyqa.index.tokenize import pos_tagger

                self._pos = pos_tagger(self._tokenizer)
            return self._pos

    def _may_tag_place(self, query: str) -> bool:
        """Whether any word the tagger could report as a place occurs in ``query`` at all.

        The tagger's flag for a word is a dictionary look-up (HMM off), so the words `foreign` can keep
        from it are known in advance: tagged ns, two characters or more, a proper name in CC-CEDICT, not in
        Shanghai. Most questions contain none of them, and then tagging (a dictionary walk and a route over
        the question) cannot find a place and is skipped: the same answer for less work."""
        pos = self._posseg()
        with self._lock:
            if self._tagged is None or pos.tokenizer.user_word_tag_tab:  # tags added since: merged, then re-read
                pos.makesure_userdict_loaded()
                _, _, proper, local = _cedict_places()
                words = {w for w, flag in pos.word_tag_tab.items()
                         if flag == "ns" and len(w) >= 2 and w in proper and w not in local}
                starts: dict[str, set[int]] = {}
                for w in words:
                    starts.setdefault(w[0], set()).add(len(w))
                self._tagged = (frozenset(words), {c: tuple(sorted(n)) for c, n in starts.items()})
            words, starts = self._tagged
        # every word the tagger yields is a slice of the question: candidates looked up where they could start
        return any(query[i : i + n] in words for i, c in enumerate(query) for n in starts.get(c, ()))

    def _english_places(self) -> dict[str, str]:
        with self._lock:
            if self._en is None:
                named, common, _, local = _cedict_places()
                self._en = {
                    name: sorted(heads)[0]
                    for name, heads in named.items()
                    # a name one of whose places is in Shanghai (Changning, Jinshan) is read as that one
                    if not (set(name.split()) & common) and not any(self._printed(h) or h in local for h in heads)
                }
                self._zh = {h for heads in named.values() for h in heads if len(h) >= 2} - local
                self._en_known = set(named)
                self._common = common
            return self._en

    def names_home(self, query: str, english: bool) -> bool:
        """Whether the question names the documents' own city or a place in it (上海, 浦东, 'Shanghai')."""
        with self._lock:
            if self._home is None:
                named, _, _, local = _cedict_places()
                zh = frozenset(h for heads in named.values() for h in heads if len(h) >= 2 and h in local)
                self._home = (zh, frozenset(name for name, heads in named.items() if heads & zh))
            zh, en = self._home
        if english:
            words = re.findall(r"[a-z]+", query.lower())
            return any(w in en for w in words) or any(f"{a} {b}" in en for a, b in zip(words, words[1:]))
        return any(h in query for h in zh)

    def _printed(self, head: str) -> bool:
        if self._present is not None and _ALL_CJK.fullmatch(head):
            return head in self._present
        return head in self._text

    def foreign_en(self, query: str) -> list[str]:
        places = self._english_places()
        words = re.findall(r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?", query)
        out = []
        for w in words:
            # a two-word name known as a whole (Hong Kong) is judged as a whole, not by its parts
            cands = (w,) if w.lower() in self._en_known else (w, *w.replace("-", " ").split(" "))
            for cand in cands:
                if cand.lower() in places:
                    rest = [p for p in w.replace("-", " ").split(" ") if p != cand]
                    out.append(w if cand != w and rest and not (set(map(str.lower, rest)) & self._common) else cand)
                    break
        return out

    def foreign(self, query: str, tokens: tuple[str, ...] = ()) -> list[str]:
        """Chinese: a word jieba tags as a place that the dictionary glosses as a proper name, or a token
        that begins with a city, province or county the dictionary names (苏州 in 苏州工业园区); never a
        place in Shanghai, never one the documents print."""
        _, _, proper, local = _cedict_places()
        self._english_places()
        # Dictionary tags only (HMM=False): jieba's HMM tagger runs a Viterbi over ~250 part-of-speech
        # states for every character it does not know — seconds of CPU for a 500-character string of
        # random characters, and on the evaluation questions it found no place the dictionary missed.
        # Without it the step is one dictionary walk, linear in the length of the question.
        found = [
            p.word for p in self._posseg().lcut(query, HMM=False)
            if p.flag == "ns" and len(p.word) >= 2 and p.word in proper and p.word not in local
        ] if self._may_tag_place(query) else []
        for t in tokens:
            found += [t[:n] for n in (2, 3, 4) if len(t) >= n and t[:n] in self._zh]
        return [w for w in dict.fromkeys(found) if w not in self._text]


# --- questions asked together ---------------------------------------------------------------------------

# Users often ask two things at once (邮轮旅客目标是多少？邮轮消费又是哪些部门负责？; 'what's the 2027 target for
# green restaurants, and which departments run the programme?'). Judged as one question, each part dilutes the
# other's evidence and the whole is refused although each part is answered by its own clause. The parts are
# found by the grammar of asking only: a question mark with more question after it, or a conjunction that opens
# a new question (', and which…', '，另外…吗'). A part that is not itself a question (a preamble, 谢谢), too
# short to be searched alone, or opening by pointing back at the one before stays with its neighbour.
MAX_PARTS = 3  # each part costs one more search: bounded for hostile input
# nor is a longer text split at all: the longest question asking several things among the 3,164 labelled ones is
# 179 characters, and 500 characters of hostile text in three parts cost 2.7 times the CPU of one (hybrid)
MAX_PARTS_CHARS = 240
_PART_BOUNDARY = re.compile(
    r"(?<=\?)\s*|"
    r"[,;]\s*(?=(?:and|also|plus)\s+(?:what|which|who|when|where|how|is|are|does|do|can|will)\b)|"
    r"[,;]\s*(?=(?:另外|还有|顺便问(?:一?下)?|再问一?下|以及|同时)[^,;。]*?(?:哪|谁|什么|啥|吗|呢|怎|如何|多少|几|是否|有没有))",
    re.I,
)
_ASKS_EN = re.compile(
    r"^\s*(?:and |also |plus |then |so )?(?:what|what's|whats|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|"
    r"did|can|could|will|would|should|has|have|any)\b|\?\s*$",
    re.I,
)
_ASKS_ZH = re.compile(_INTERROGATIVE.pattern + r"|多久|多大|何时|\?\s*$")


def _is_question(part: str) -> bool:
    return bool((_ASKS_ZH if _HAS_CJK.search(part) else _ASKS_EN).search(part))


def _searchable(part: str) -> bool:
    """Enough words to be searched alone: four Chinese characters, or three English words."""
    n = len(_HAS_CJK.findall(part))
    return n >= 4 if n else len(re.findall(r"[A-Za-z]+", part)) >= 3



def question_parts(text: str) -> tuple[str, ...]:
    """The questions asked together in ``text`` (normalised), or () when it asks one thing."""
    if len(text) > MAX_PARTS_CHARS:
        return ()
    parts: list[str] = []
    for seg in (s.strip() for s in _PART_BOUNDARY.split(text)):
        if not seg:
            continue
        dependent = bool(_ANAPHOR.match(_OPENING.sub("", seg)))
        if parts and (dependent or not (_searchable(seg) and _is_question(seg)) or not _searchable(parts[-1])):
            parts[-1] = f"{parts[-1]} {seg}"
        else:
            parts.append(seg)
    if len(parts) > MAX_PARTS:
        parts = [*parts[: MAX_PARTS - 1], " ".join(parts[MAX_PARTS - 1 :])]
    # the conjunction that opened a part is not part of what it asks
    return tuple(_OPENING.sub("", p) or p for p in parts) if len(parts) > 1 else ()


# a part that opens by pointing back (具体在哪些区? 那要交什么材料?) or whose English names its topic only by a
# pronoun (When does it expire?) asks about the part before it, not a topic of its own: it stays with that part
_ANAPHOR = re.compile(r"^(?:具体|那|这|其|它|该)|^(?:that|this|those|these)\b|^.*\b(?:it|its|they|them|their)\b", re.I)
_OPENING = re.compile(r"^(?:(?:and|also|plus)\s+|(?:另外|还有|顺便问(?:一?下)?|再问一?下|以及|同时),?\s*)", re.I)
