"""Corpus facts the index build persists for start-up (translator headwords, place names) are exactly what
start-up computed from the whole text before."""

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
