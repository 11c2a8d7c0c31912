"""One contract every index backend keeps (keyword and dense alike)."""

import numpy as np
import pytest

from policyqa.index.backends import DenseBackend, KeywordBackend, make_faiss_index
from policyqa.index.store import indexable, passage_index_text
from policyqa.index.tokenize import make_tokenizer, user_dictionary

BACKENDS = ["bm25-jieba", "bm25-bigram", "faiss-flat", "faiss-hnsw", "faiss-ivf"]
EXACT = {"bm25-jieba", "bm25-bigram", "faiss-flat"}


@pytest.fixture(scope="module")
def texts(corpus):
    return [passage_index_text(p) for p in indexable(corpus, 400)]


@pytest.fixture(scope="module")
def vectors(embedder, texts):
    return embedder.encode_passages(texts)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, corpus, texts, embedder, vectors):
    name = request.param
    if name.startswith("bm25-"):
        return KeywordBackend.build(texts, make_tokenizer(name.removeprefix("bm25-"), user_dictionary(corpus.clauses)))
    return DenseBackend.build(texts, embedder, name.removeprefix("faiss-"), vectors=vectors)


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
    assert found == len(sample) if backend.name in EXACT else found >= 0.8 * len(sample)


def test_k_larger_than_the_index(backend, texts):
    idx, _ = backend.search("服务业", len(texts) + 50)
    assert len(idx) <= len(texts) == len(backend)


def test_empty_query_finds_nothing(backend):
    idx, scores = backend.search("   ", 5)
    assert len(idx) == len(scores) == 0


def test_save_and_load_give_the_same_results(backend, tmp_path, corpus, embedder):
    backend.save(tmp_path / "b")
    if isinstance(backend, KeywordBackend):
        again = KeywordBackend.load(tmp_path / "b", backend.tokenizer)
    else:
        again = DenseBackend.load(tmp_path / "b", embedder)
    for q in ("中试服务券", "邮轮旅客年接待量", "市民政局"):
        a, sa = backend.search(q, 10)
        b, sb = again.search(q, 10)
        assert a.tolist() == b.tolist()
        assert np.allclose(sa, sb, atol=1e-5)


def test_unknown_faiss_kind_lists_choices():
    with pytest.raises(ValueError, match="flat, hnsw, ivf"):
        make_faiss_index("annoy", 8, 10)


def test_unknown_tokenizer_lists_choices():
    with pytest.raises(ValueError, match="jieba, bigram"):
        make_tokenizer("whitespace")
