"""Chinese tokenizers for the keyword leg: jieba with a corpus user dictionary, or character bigrams."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from typing import Protocol

from policyqa.corpus import Clause
from policyqa.corpus.rules import normalize

TOKENIZERS = ("jieba", "bigram")

# Function words and question scaffolding that say nothing about the topic asked about.
STOPWORDS = frozenset(
    """
    的 了 和 与 及 或 等 在 是 为 对 把 被 将 从 向 以 于 之 其 该 这 那 这个 那个 一个 一些 有 有没有 没有 吗 呢 吧 啊 呀 么
    什么 哪些 哪个 哪家 哪里 哪 怎么 怎样 如何 多少 几 谁 是否 能否 能不能 可不可以 可以 请问 我 我们 我家 你 你们 他们 它 想 想要
    要 需要 应该 会 能 该 找 问 一下 现在 目前 上海 上海市 本市 市里 政府 相关 方面 情况 事情 事 问题 这种 这样 那么 还 也 都 就
    """.split()
)

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_TOKEN_OK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffa-z0-9]")


def normalize_for_search(text: str) -> str:
    """Full-width → ASCII (NFKC) and lower case, so ２０２５ matches 2025 and AI matches ai."""
    return normalize(text).lower()


class Tokenizer(Protocol):
    name: str

    def tokenize(self, text: str) -> list[str]: ...


# A question longer than this is cut by jieba's dictionary alone. The HMM that guesses words the dictionary
# lacks costs ~30 µs per unknown character (most of a 500-character string of random characters' cost);
# the questions people ask are shorter (of the 1,084 labelled ones, blind batches included, the longest
# text the keyword legs search is 144 characters: an English question's Chinese translation), so for
# them nothing changes. Documents are always cut with it: their tokens are the index's vocabulary.
QUESTION_HMM_MAX_CHARS = 200


def question_tokens(tokenizer: Tokenizer, text: str) -> list[str]:
    """A question's tokens: ``tokenize_query`` where the tokenizer has one (bounded cost on long input),
    else ``tokenize``."""
    query = getattr(tokenizer, "tokenize_query", None)
    return query(text) if query is not None else tokenizer.tokenize(text)


class BigramTokenizer:
    """Overlapping character bigrams of every CJK run (a lone character stays a unigram) plus ASCII words."""

    name = "bigram"

    def tokenize(self, text: str) -> list[str]:
        text = normalize_for_search(text)
        out: list[str] = []
        for m in _CJK_RUN.finditer(text):
            run = m.group(0)
            if len(run) == 1:
                if run not in STOPWORDS:
                    out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
        out.extend(_WORD.findall(text))
        return out

    def tokenize_query(self, text: str) -> list[str]:
        return self.tokenize(text)  # linear in the text already


_JIEBA_CACHE: dict[tuple[str, ...], object] = {}
_JIEBA_LOCK = threading.Lock()
_JIEBA_KEEP = 2  # dictionaries kept: the serving index's and the one a reindex is building
_JIEBA_BASE: list = []  # jieba's own dictionary, loaded once, never given user words: what each copy starts from
_POSSEG_TAGS: dict[str, dict[str, str]] = {}  # part-of-speech table per dictionary file, read once


def _jieba_base():
    if not _JIEBA_BASE:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        tk.initialize()
        _JIEBA_BASE.append(tk)
    return _JIEBA_BASE[0]


def _jieba_with(words: tuple[str, ...]):
    """One loaded jieba dictionary per word list, shared by every tokenizer in the process: a reindex of
    the same corpus needs the same words. A new word list (a document was added) starts from a copy of
    jieba's own dictionary loaded once (a dict copy, ~0.1 s) instead of loading it again (1.5–3 s)."""
    with _JIEBA_LOCK:
        tk = _JIEBA_CACHE.get(words)
        if tk is None:
            import jieba

            base = _jieba_base()
            tk = jieba.Tokenizer(base.dictionary)
            tk.FREQ, tk.total, tk.initialized = dict(base.FREQ), base.total, True
            for w in words:
                tk.add_word(normalize_for_search(w), freq=2000)
            while len(_JIEBA_CACHE) >= _JIEBA_KEEP:
                _JIEBA_CACHE.pop(next(iter(_JIEBA_CACHE)))
            _JIEBA_CACHE[words] = tk
        return tk


def pos_tagger(tk=None):
    """A jieba part-of-speech tagger over ``tk`` (None: jieba's default). Its tag table is read from the
    dictionary file once per process and shared (read-only): building a POSTokenizer reads it again,
    1–3 s for each new index version otherwise. User words are added without tags, so they do not
    change the table."""
    import jieba.posseg

    if tk is None:
        return jieba.posseg.dt
    key = str(tk.dictionary)  # None: jieba's bundled dictionary
    with _JIEBA_LOCK:
        tags = _POSSEG_TAGS.get(key)
        if tags is None:
            tags = jieba.posseg.POSTokenizer(tk).word_tag_tab
            _POSSEG_TAGS[key] = tags
    pos = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
    pos.tokenizer, pos.word_tag_tab = tk, tags
    return pos


class JiebaTokenizer:
    """jieba in search mode (long words also yield their parts), with the corpus's own terms added."""

    name = "jieba"

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self.user_words = tuple(sorted(set(user_words)))
        self._tk = None

    def _tokenizer(self):
        if self._tk is None:
            self._tk = _jieba_with(self.user_words)
        return self._tk

    def jieba(self):
        """The underlying jieba.Tokenizer (shared, loaded on first use), e.g. for part-of-speech tagging."""
        return self._tokenizer()

    def tokenize(self, text: str) -> list[str]:
        return list(self._tokens(text, True))

    def tokenize_query(self, text: str) -> list[str]:
        """A question's tokens: as ``tokenize`` up to QUESTION_HMM_MAX_CHARS characters, the dictionary
        alone beyond. A question is tokenised by the analysis and again by the keyword leg: the second
        time is a cache hit."""
        return list(self._tokens(text, len(text) <= QUESTION_HMM_MAX_CHARS))

    def pieces(self, text: str) -> set[str]:
        """What jieba cuts independently of the rest of ``text``: each run of the characters its block
        pattern matches (CJK, ASCII letters and digits, a few symbols), and every other character on its
        own. ``tokenize`` cuts each piece alone, so two texts with the same pieces have the same token set
        (the index build derives a clause's tokens from its passages' by this)."""
        import jieba

        out: set[str] = set()
        for i, part in enumerate(jieba.re_han_default.split(normalize_for_search(text))):
            if i % 2:  # split on a capturing group: the blocks are at odd positions
                out.add(part)
            else:
                out.update(part)
        return out

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one tokenizer per index, kept for the process's life
    def _tokens(self, text: str, hmm: bool) -> tuple[str, ...]:
        text = normalize_for_search(text)
        return tuple(
            t
            for t in (tok.strip() for tok in self._tokenizer().lcut_for_search(text, HMM=hmm))
            if t and t not in STOPWORDS and _TOKEN_OK.search(t)
        )


def make_tokenizer(name: str, user_words: Iterable[str] = ()) -> Tokenizer:
    if name == "jieba":
        return JiebaTokenizer(user_words)
    if name == "bigram":
        return BigramTokenizer()
    raise ValueError(f"unknown tokenizer {name!r}; choose one of {', '.join(TOKENIZERS)}")


_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,12})[”\"」』]")


def user_dictionary(clauses: Iterable[Clause]) -> list[str]:
    """Terms jieba should keep whole: agency names, quoted terms (五五购物节), short headings."""
    words: set[str] = set()
    for c in clauses:
        words.update(a for a in c.agencies if len(a) <= 20)
        words.update(_QUOTED.findall(c.text))
        if c.heading and len(c.heading) <= 10:
            words.add(c.heading)
    return sorted(w for w in words if _CJK_RUN.search(w))
