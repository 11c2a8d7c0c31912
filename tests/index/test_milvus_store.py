"""The index in Milvus (Milvus Lite here): a whole index migrated into it searches as the embedded one,
filters are applied inside Milvus, and the engine builds, checks and cleans up through it."""

import datetime as dt

import pytest

from policyqa.index.milvus_store import (
    MilvusKeywordBackend,
    PassageFilter,
    connect,
    drop_unused_collections,
    engine_of,
    to_milvus,
)
from policyqa.index.store import IndexMismatch, load_index, save_index
from policyqa.qa.search import Searcher, SearchFilters

QUERIES = ("哪个部门负责社区养老上门服务？", "首店经济有什么支持", "算力券", "会展活动由哪个部门负责")


@pytest.fixture(scope="module")
def pair(tmp_path_factory, corpus, hybrid_bundle, embedder, milvus_uri):
    """The same index embedded and in Milvus (sentence vectors included), the latter saved and loaded back."""
    root = tmp_path_factory.mktemp("milvus-index")
    save_index(to_milvus(hybrid_bundle, milvus_uri), root)
    return hybrid_bundle, load_index(root, corpus, embedder=embedder), root


def _ids(result):
    return [h.clause.clause_id for h in result.hits]


def test_the_migrated_index_names_its_engine_and_holds_no_local_vectors(pair, milvus_uri):
    _, milvus, root = pair
    assert engine_of(milvus.manifest) == ("milvus", milvus_uri)
    # locally only what is small: the sentence offsets, each keyword leg's vocabulary, the manifest
    assert sorted(p.name for p in (root / "current" / "dense").iterdir()) == ["backend.json", "sentence-starts.npy"]
    assert sorted(p.name for p in (root / "current" / "bm25-jieba").iterdir()) == ["backend.json", "vocab.json"]
    assert type(milvus.keyword["jieba"]).__name__ == "MilvusKeywordBackend"
    assert milvus.dense.has_sentences and len(milvus.dense) == len(milvus.passages)


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_searches_as_the_embedded_index(pair, corpus, mode):
    embedded, milvus, _ = pair
    a, b = Searcher(corpus, embedded, mode=mode), Searcher(corpus, milvus, mode=mode)
    for q in QUERIES:
        ra, rb = a.search(q, 10), b.search(q, 10)
        assert rb.mode == mode
        # fused RRF scores are sums of 1/(k + rank): equal ranks give equal scores; allow a swap of near-ties
        assert len(ra.hits) == len(rb.hits) > 0 and len(set(_ids(ra)[:5]) & set(_ids(rb)[:5])) >= 4, q
        assert [h.dense_sim is None for h in rb.hits] == [mode == "lexical"] * len(rb.hits)
    hit = b.search(QUERIES[0], 3).hits[0]
    if mode == "hybrid":
        twin = next(h for h in a.search(QUERIES[0], 10).hits if h.clause.clause_id == hit.clause.clause_id)
        assert hit.dense_sim == pytest.approx(twin.dense_sim, abs=1e-5)
        assert hit.sentence_sim == pytest.approx(twin.sentence_sim, abs=1e-5)


@pytest.mark.parametrize(
    "filters",
    [
        SearchFilters(doc_ids=("hfbf2025-5",)),
        SearchFilters(agencies=("市商务委",)),
        SearchFilters(in_force_on=dt.date(2026, 11, 22), agencies=("市民政局", "市商务委")),
        SearchFilters(doc_ids=("no-such-document",)),
    ],
)
def test_filters_are_applied_inside_milvus(pair, corpus, filters, monkeypatch):
    embedded, milvus, _ = pair
    a, b = Searcher(corpus, embedded, mode="hybrid"), Searcher(corpus, milvus, mode="hybrid")
    where = b._filter_in_index(filters, b.legs("hybrid"))
    assert isinstance(where, PassageFilter)
    assert a._filter_in_index(filters, a.legs("hybrid")) is None  # the embedded index filters by mask
    seen_depths = []
    leg_results = b._leg_results
    monkeypatch.setattr(b, "_leg_results", lambda *a, **kw: seen_depths.append(a[2]) or leg_results(*a, **kw))
    for q in QUERIES[:3]:
        ra, rb = a.search(q, 10, filters), b.search(q, 10, filters)
        assert all(_allowed(corpus, h.clause, filters) for h in rb.hits)
        assert len(rb.hits) == len(ra.hits)
        if ra.hits:
            assert _ids(rb)[0] in _ids(ra)[:3]
    # Milvus returns the filtered passages: no leg is asked for the whole index
    assert seen_depths and max(seen_depths) < len(milvus.passages)


def _allowed(corpus, clause, filters) -> bool:
    from policyqa.qa.status import document_status

    return (
        (not filters.doc_ids or clause.doc_id in filters.doc_ids)
        and (not filters.agencies or bool(set(filters.agencies) & set(clause.agencies)))
        and (filters.in_force_on is None or document_status(corpus.document(clause.doc_id), filters.in_force_on).current)
    )


def test_a_filter_value_cannot_change_the_expression(pair):
    _, milvus, _ = pair
    leg = milvus.keyword["jieba"]
    hostile = PassageFilter(agencies=('"]) or id >= 0 or array_contains_any(agencies, ["',))
    assert '\\"' in hostile.expression()
    idx, _ = leg.search("服务业", 10, where=hostile)
    assert len(idx) == 0
    idx, _ = leg.search("服务业", 10, where=PassageFilter(doc_ids=('a\\"b\nc',)))
    assert len(idx) == 0


def test_a_missing_collection_asks_for_a_rebuild(tmp_path, corpus, lexical_bundle, milvus_uri):
    root = tmp_path / "ix"
    save_index(to_milvus(lexical_bundle, milvus_uri), root)
    name = load_index(root, corpus).keyword["bigram"].collection
    connect(milvus_uri).drop_collection(name)
    with pytest.raises(IndexMismatch, match="missing; run `qa index`"):
        load_index(root, corpus)


def test_unused_collections_are_dropped_used_ones_kept(tmp_path, corpus, lexical_bundle, milvus_uri):
    client = connect(milvus_uri)
    root = tmp_path / "ix"
    save_index(to_milvus(lexical_bundle, milvus_uri, prefix="droptest"), root)
    kept = load_index(root, corpus).keyword["jieba"].collection
    orphan = to_milvus(lexical_bundle, milvus_uri, prefix="droptest")  # built, never saved (a crashed build)
    orphan_name = orphan.keyword["jieba"].collection
    other = to_milvus(lexical_bundle, milvus_uri, prefix="otherdeployment").keyword["jieba"].collection
    dropped = drop_unused_collections(milvus_uri, root, prefix="droptest")
    names = set(client.list_collections())
    assert orphan_name in dropped and orphan_name not in names
    assert kept in names and other in names


def test_migrating_twice_is_refused(pair, milvus_uri):
    _, milvus, _ = pair
    with pytest.raises(ValueError, match="in Milvus already"):
        to_milvus(milvus, milvus_uri)


def test_keyword_query_vector_counts_repeated_tokens(pair):
    _, milvus, _ = pair
    leg: MilvusKeywordBackend = milvus.keyword["jieba"]
    once, twice = leg.query_vector("养老"), leg.query_vector("养老 养老")
    assert once and all(twice[t] == 2 * once[t] for t in once)
    assert leg.query_vector("zzzzqqqq") == {}
