"""One contract every index backend keeps (keyword and dense alike), embedded (bm25s, FAISS) and in
Milvus (Milvus Lite here; index/milvus_store.py)."""

import numpy as np
import pytest

from policyqa.index.backends import DenseBackend, KeywordBackend, make_faiss_index
from policyqa.index.store import indexable, passage_index_text
from policyqa.index.tokenize import make_tokenizer, user_dictionary

EMBEDDED = ["bm25-jieba", "bm25-bigram", "faiss-flat", "faiss-hnsw", "faiss-ivf"]
MILVUS = ["milvus-bm25-jieba", "milvus-bm25-bigram", "milvus-flat", "milvus-hnsw", "milvus-ivf"]
EXACT = {"bm25-jieba", "bm25-bigram", "faiss-flat", "milvus-bm25-jieba", "milvus-bm25-bigram", "milvus-flat"}


@pytest.fixture(scope="module")
def passages(corpus):
    return indexable(corpus, 400)


@pytest.fixture(scope="module")
def texts(passages):
    return [passage_index_text(p) for p in passages]


@pytest.fixture(scope="module")
def vectors(embedder, texts):
    return embedder.encode_passages(texts)


def _embedded(name, corpus, texts, embedder, vectors):
    if name.startswith("bm25-"):
        return KeywordBackend.build(texts, make_tokenizer(name.removeprefix("bm25-"), user_dictionary(corpus.clauses)))
    return DenseBackend.build(texts, embedder, name.removeprefix("faiss-"), vectors=vectors)


@pytest.fixture(scope="module", params=EMBEDDED + MILVUS)
def backend(request, corpus, passages, texts, embedder, vectors):
    name = request.param
    if not name.startswith("milvus-"):
        return _embedded(name, corpus, texts, embedder, vectors)
    from policyqa.index.milvus_store import MilvusDenseBackend, MilvusKeywordBackend, PassageMeta, new_collection_base

    uri = request.getfixturevalue("milvus_uri")
    meta = PassageMeta.of(passages)
    base = new_collection_base()
    name = name.removeprefix("milvus-")
    if name.startswith("bm25-"):
        return MilvusKeywordBackend.from_keyword(_embedded(name, corpus, texts, embedder, vectors), meta, uri, f"{base}_kw")
    return MilvusDenseBackend.from_dense(_embedded(f"faiss-{name}", corpus, texts, embedder, vectors), meta, uri, base)


def _name(backend):
    """The contract's name for a backend (keyword legs keep their leg name whatever holds them)."""
    milvus = type(backend).__name__.startswith("Milvus")
    return f"milvus-{backend.name.removeprefix('milvus-')}" if milvus else backend.name


def test_results_are_ranked_unique_and_in_range(backend, texts):
    idx, scores = backend.search("社区养老服务机构上门照护", 10)
    assert 0 < len(idx) <= 10
    assert len(set(idx.tolist())) == len(idx)
    assert all(0 <= i < len(texts) for i in idx)
    assert np.all(np.diff(scores) <= 1e-6)


def test_a_passage_finds_itself(backend, texts):
    sample = [i for i, t in enumerate(texts) if len(t) > 120][::7][:25]
    found = 0
    for i in sample:
        idx, _ = backend.search(texts[i], 5)
        found += i in idx.tolist()
    # approximate indexes may miss a few; exact ones never do
    assert found == len(sample) if _name(backend) in EXACT else found >= 0.8 * len(sample)


def test_k_larger_than_the_index(backend, texts):
    idx, _ = backend.search("服务业", len(texts) + 50)
    assert len(idx) <= len(texts) == len(backend)


def test_empty_query_finds_nothing(backend):
    idx, scores = backend.search("   ", 5)
    assert len(idx) == len(scores) == 0


def test_save_and_load_give_the_same_results(backend, tmp_path, corpus, embedder):
    backend.save(tmp_path / "b")
    if hasattr(backend, "tokenizer"):
        again = KeywordBackend.load(tmp_path / "b", backend.tokenizer)
    else:
        again = DenseBackend.load(tmp_path / "b", embedder)
    assert type(again) is type(backend)
    for q in ("中试服务券", "邮轮旅客年接待量", "市民政局"):
        a, sa = backend.search(q, 10)
        b, sb = again.search(q, 10)
        assert a.tolist() == b.tolist()
        assert np.allclose(sa, sb, atol=1e-5)


@pytest.mark.parametrize("name", ["bm25-jieba", "bm25-bigram", "faiss-flat"])
def test_exact_legs_agree_across_engines(name, milvus_uri, corpus, passages, texts, embedder, vectors):
    """An exact leg in Milvus ranks and scores as the same leg embedded."""
    from policyqa.index.milvus_store import MilvusDenseBackend, MilvusKeywordBackend, PassageMeta, new_collection_base

    twin = _embedded(name, corpus, texts, embedder, vectors)
    meta, base = PassageMeta.of(passages), new_collection_base()
    if name.startswith("bm25-"):
        backend = MilvusKeywordBackend.from_keyword(twin, meta, milvus_uri, f"{base}_kw")
    else:
        backend = MilvusDenseBackend.from_dense(twin, meta, milvus_uri, base)
    for q in ("社区养老服务机构上门照护", "首店经济", "市商务委 会展", "算力券"):
        a, sa = twin.search(q, 20)
        b, sb = backend.search(q, 20)
        assert len(a) == len(b) > 0 and np.allclose(sa, sb, atol=1e-4)
        mine, theirs = dict(zip(a.tolist(), sa)), dict(zip(b.tolist(), sb))
        assert all(abs(mine[i] - theirs[i]) < 1e-4 for i in mine.keys() & theirs.keys())
        # float sums in another order may swap near-equal scores; above the cut-off both return the same
        cut = sa[-1] + 1e-4
        assert {i for i, s in mine.items() if s > cut} == {i for i, s in theirs.items() if s > cut}


def test_unknown_faiss_kind_lists_choices():
    with pytest.raises(ValueError, match="flat, hnsw, ivf"):
        make_faiss_index("annoy", 8, 10)


def test_unknown_tokenizer_lists_choices():
    with pytest.raises(ValueError, match="jieba, bigram"):
        make_tokenizer("whitespace")


def test_a_mask_allows_only_its_positions(backend, texts):
    """Filters run inside the index: with a mask, the k results are the best k allowed positions (exact
    backends: the unmasked ranking with the others left out). Milvus backends take filters as an
    expression instead (``where``, index/milvus_store.py) and are tested there."""
    if getattr(backend, "filters_in_index", False):
        pytest.skip("filters as a Milvus expression (where=), not a mask")
    query = "社区养老服务机构上门照护"
    mask = np.random.default_rng(7).random(len(texts)) < 0.3
    idx, scores = backend.search(query, 10, mask=mask)
    assert 0 < len(idx) <= 10 and mask[idx].all()
    assert np.all(np.diff(scores) <= 1e-6)
    if _name(backend) in EXACT:
        full, _ = backend.search(query, len(texts))
        assert idx.tolist() == [i for i in full.tolist() if mask[i]][:10]
    nothing = np.zeros(len(texts), dtype=bool)
    assert len(backend.search(query, 10, mask=nothing)[0]) == 0
