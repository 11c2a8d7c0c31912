"""Corpus facts the index build persists for start-up (translator headwords, place names) are exactly what
start-up computed from the whole text before."""

import random

import numpy as np
import pytest

from policyqa.qa.analysis import PlaceNames, analysis_text, places_state
from policyqa.qa.translate import (
    MIN_HEADWORD,
    QueryTranslator,
    _substrings,
    cedict_entries,
    corpus_text,
    occurrences,
    translator_state,
)


def test_occurrences_count_like_str_count():
    text = "哈哈哈哈哈 abc 服务业服务，服务业\n哈哈"
    cands = {"哈哈", "哈哈哈", "服务", "服务业", "业服", "没有", "ab"}
    expected = {c: text.count(c) for c in cands if text.count(c) and c != "ab"}
    assert occurrences(text, cands) == expected


@pytest.mark.parametrize("base, chunk", [(None, None), (0, 5), (1, 7)])
def test_occurrences_with_colliding_hashes_and_small_chunks(monkeypatch, base, chunk):
    """Windows are found by hash: with a base of 0 or 1 nearly every window collides with some candidate
    (and candidates with each other), and chunks of a few characters cut occurrences across chunks —
    the counts are still str.count's, in order of first occurrence."""
    from policyqa.qa import translate

    if base is not None:
        monkeypatch.setattr(translate, "_HASH_BASE", np.uint64(base))
        monkeypatch.setattr(translate, "_CHUNK_CHARS", chunk)
    rnd = random.Random(7)
    chars = "哈服务业没有"
    for _ in range(500):
        text = "".join(rnd.choice(chars + " a，") for _ in range(rnd.randint(0, 50)))
        cands = {"".join(rnd.choice(chars) for _ in range(rnd.randint(1, 5))) for _ in range(10)}
        got = occurrences(text, cands)
        assert got == {c: text.count(c) for c in cands if text.count(c)}
        assert list(got) == sorted(got, key=lambda c: (text.index(c), len(c)))


def test_translator_state_matches_the_substring_scan(corpus, lexical_bundle):
    text = corpus_text(corpus.clauses)
    vocab = set(lexical_bundle.clause_tokens.vocab)
    present = {w for w in _substrings(text, max_len=8) if w in vocab or len(w) >= 4}
    heads = {h for h, _ in cedict_entries() if len(h) >= MIN_HEADWORD and h in present}
    state = translator_state(text, vocab)
    assert state["terms"] == {h: text.count(h) for h in heads}
    fresh = QueryTranslator(text, vocabulary=vocab)
    persisted = QueryTranslator(text, vocabulary=vocab, state=state)
    for q in ("Which department handles home care for older people?", "computing power voucher subsidy", "first store economy AI"):
        assert fresh.translate(q) == persisted.translate(q)


def test_places_state_gives_the_same_places(corpus):
    text = analysis_text(corpus)
    fresh = PlaceNames(text)
    persisted = PlaceNames(text, present=places_state(text))
    assert persisted._english_places() == fresh._english_places()
    for q in ("Can a company in Shenzhen or Hong Kong apply?", "Changning district elderly care"):
        assert persisted.foreign_en(q) == fresh.foreign_en(q)
