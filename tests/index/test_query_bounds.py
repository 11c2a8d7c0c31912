"""A long question costs bounded work in the keyword legs and the highlighter — counted as work done (terms
scored, HMM runs, bigram sets built), never as time: scripts/bench_cpu.py and scripts/bench_hostile.py
measure the time."""

import random

import numpy as np
import pytest

from policyqa.index.backends import MAX_QUERY_TERMS
from policyqa.index.tokenize import QUESTION_HMM_MAX_CHARS, JiebaTokenizer, question_tokens
from policyqa.qa import citation
from policyqa.qa.search import Searcher


def random_chinese(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n))


@pytest.fixture(scope="module")
def legs(lexical_bundle):
    return lexical_bundle.keyword


def scored_ids(backend, monkeypatch, query: str) -> list[int]:
    seen: list[list[int]] = []
    real = backend._scores

    def spy(ids, mask=None):
        seen.append(list(ids))
        return real(ids, mask)

    monkeypatch.setattr(backend, "_scores", spy)
    backend.search(query, 10)
    monkeypatch.undo()
    return seen[0] if seen else []


@pytest.mark.parametrize("leg", ["jieba", "bigram"])
def test_a_long_question_reaches_the_keyword_leg_as_at_most_max_terms_of_the_rarest(corpus, legs, leg, monkeypatch):
    backend = legs[leg]
    # a long question in the documents' own words (random characters are mostly unknown to the index,
    # and unknown terms are never scored anyway)
    query = "".join(c.text for c in corpus.clauses[10:40])[:600]
    every = backend._bm25.get_tokens_ids(backend.query_tokens(query))
    assert len(set(every)) > MAX_QUERY_TERMS  # the input is over the bound: the cap is what keeps it under
    ids = scored_ids(backend, monkeypatch, query)
    kept, dropped = set(ids), set(every) - set(ids)
    assert len(kept) == MAX_QUERY_TERMS
    indptr = backend._bm25.scores["indptr"]
    postings = {t: int(indptr[t + 1] - indptr[t]) for t in set(every)}
    # the most informative terms: none dropped is in fewer passages than one kept
    assert max(postings[t] for t in kept) <= min(postings[t] for t in dropped)
    assert ids == [t for t in every if t in kept]  # order and repeats of the kept terms as asked


@pytest.mark.parametrize("leg", ["jieba", "bigram"])
def test_a_question_under_the_bound_is_scored_on_all_its_terms(legs, leg, monkeypatch):
    backend = legs[leg]
    query = "哪个部门负责社区养老上门服务，补贴标准是多少，怎么申请？"
    every = backend._bm25.get_tokens_ids(backend.query_tokens(query))
    assert scored_ids(backend, monkeypatch, query) == every


def test_jiebas_hmm_runs_on_short_questions_and_documents_never_on_long_questions(monkeypatch):
    import jieba.finalseg

    tok = JiebaTokenizer()
    calls = {"n": 0}
    real = jieba.finalseg.cut

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(jieba.finalseg, "cut", counting)
    long = random_chinese(QUESTION_HMM_MAX_CHARS + 300, 2)
    question_tokens(tok, long)
    assert calls["n"] == 0
    question_tokens(tok, random_chinese(40, 3))  # a short question: new words guessed as before
    assert calls["n"] > 0
    calls["n"] = 0
    tok.tokenize(random_chinese(QUESTION_HMM_MAX_CHARS + 300, 4))  # a document's text: always with the HMM
    assert calls["n"] > 0


def test_the_highlighter_reads_a_question_once_however_many_clauses_it_cites(corpus, monkeypatch):
    clauses = corpus.clauses[:30]
    for c in clauses:
        citation.best_sentence(c, "养老服务补贴")  # each clause's sentences are prepared once, on first use
    calls = {"n": 0}
    real = citation.bigrams

    def counting(text):
        calls["n"] += 1
        return real(text)

    monkeypatch.setattr(citation, "bigrams", counting)
    question = random_chinese(500, 5)
    for c in clauses:
        citation.best_sentence(c, question)
        citation.best_sentences(c, question, 2)
    assert calls["n"] == 1  # per clause only set intersections, bounded by the clause's own sentences


def test_scores_are_bm25s_own(legs):
    """One pass over the terms' postings laid end to end gives bm25s's scores exactly (same additions)."""
    for backend in legs.values():
        ids = backend.query_ids("哪个部门负责社区养老上门服务，服务业服务补贴多少？")
        assert len(ids) > 3
        expected = np.asarray(backend._bm25.get_scores_from_ids(ids), dtype=np.float32)
        assert np.array_equal(backend._scores(ids), expected)
        # and the search ranks by them: bm25s's best 30, the lower position first among equal scores
        order = sorted(np.flatnonzero(expected > 0).tolist(), key=lambda i: (-expected[i], i))[:30]
        idx, scores = backend.search("哪个部门负责社区养老上门服务，服务业服务补贴多少？", 30)
        assert idx.tolist() == order and np.array_equal(scores, expected[order])


def test_a_filter_adds_only_the_allowed_postings_and_scores_them_as_before(legs):
    """A filtered search adds only the postings of allowed passages: their scores are exactly the unfiltered
    ones (the same additions in the same order), every other passage scores 0, and the search ranks the same."""
    rng = np.random.default_rng(3)
    for backend in legs.values():
        ids = backend.query_ids("哪个部门负责社区养老上门服务，服务业服务补贴多少？")
        full = backend._scores(ids)
        for share in (0.02, 0.3):
            mask = rng.random(len(full)) < share
            assert np.array_equal(backend._scores(ids, mask), np.where(mask, full, np.float32(0)))
            idx, scores = backend.search("社区养老上门服务补贴", 10, mask)
            assert mask[idx].all()
            ref = np.where(mask, backend._scores(backend.query_ids("社区养老上门服务补贴")), np.float32(0))
            assert np.array_equal(scores, np.sort(ref[ref > 0])[::-1][: len(scores)])
        nothing = np.zeros(len(full), dtype=bool)
        idx, scores = backend.search("社区养老上门服务补贴", 10, nothing)
        assert len(idx) == len(scores) == 0


def test_a_filter_to_one_run_of_passages_reads_only_its_postings_and_ranks_the_same(legs):
    """A document's passages are one run: the filtered search scores only that range (binary search in each
    term's sorted postings) and returns what masking the full scores returns."""
    for backend in legs.values():
        n = len(backend._scores(backend.query_ids("社区养老")))
        for lo, hi in ((0, n // 3), (n // 3, n // 2), (n - 40, n)):
            mask = np.zeros(n, dtype=bool)
            mask[lo:hi] = True
            for q in ("社区养老上门服务补贴", "跨境电商海外仓", "算力券"):
                ids = backend.query_ids(q)
                full = np.where(mask, backend._scores(ids), np.float32(0))
                assert np.array_equal(backend._scores_in_range(ids, lo, hi), full[lo:hi])
                idx, scores = backend.search(q, 10, mask)
                assert ((idx >= lo) & (idx < hi)).all()
                assert np.array_equal(scores, np.sort(full[full > 0])[::-1][: len(scores)])


def test_fusion_is_reciprocal_rank_fusion_over_each_legs_clauses(corpus, lexical_bundle):
    """The fused ranking equals RRF written plainly: per leg, clauses ranked by their best passage."""
    searcher = Searcher(corpus, lexical_bundle, mode="lexical")
    cfg = searcher.fusion
    for query in ("哪个部门负责社区养老上门服务？", "算力券", "跨境电商海外仓支持", random_chinese(300, 6)):
        text = searcher.search(query).query
        expected: dict[str, float] = {}
        ranks: dict[str, list[tuple[str, int]]] = {}
        for leg in searcher.legs("lexical"):
            idx, _ = searcher._leg_results(leg, text, max(cfg.depth, 30))
            order: list[str] = []
            for i in idx.tolist():
                cid = lexical_bundle.passages[i].clause_id
                if cid not in order:
                    order.append(cid)
            for rank, cid in enumerate(order, 1):
                expected[cid] = expected.get(cid, 0.0) + cfg.weights.get(leg, 1.0) / (cfg.k + rank)
                ranks.setdefault(cid, []).append((leg, rank))
        best = sorted(expected, key=lambda c: (-expected[c], corpus.clause(c).order, c))[:10]
        hits = searcher.search(query, top_k=10).hits
        assert [h.clause.clause_id for h in hits] == best
        for h in hits:
            assert h.score == round(expected[h.clause.clause_id], 6)
            assert list(h.ranks) == ranks[h.clause.clause_id]
