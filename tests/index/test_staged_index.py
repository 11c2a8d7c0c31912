"""The index side of a staged add: a dense leg with pending passages, and tokens kept for reuse."""

import numpy as np

from policyqa.index.backends import DenseBackend, KeywordBackend, split_sentences
from policyqa.index.store import build_index, load_index, passage_index_text, save_index
from policyqa.index.tokenize import make_tokenizer
from policyqa.index.vector_cache import Cancelled, VectorCache


def _partial(embedder, texts, known):
    """A dense leg whose lookup finds only the passages (and their sentences) of texts in ``known``."""
    sentences = {s for t in known for s in split_sentences(t)}

    def lookup(batch):
        ok = np.array([t in known or t in sentences for t in batch], dtype=bool)
        vecs = np.zeros((len(batch), embedder.dimension), dtype=np.float32)
        if ok.any():
            vecs[ok] = embedder.encode_passages([t for t, o in zip(batch, ok) if o])
        return vecs, ok

    return DenseBackend.build_available(texts, embedder, "flat", lookup, sentences=True)


def test_pending_passages_are_never_returned_by_the_dense_leg(corpus, embedder, tmp_path):
    texts = [passage_index_text(p) for p in build_index(corpus).passages]
    half = set(texts[: len(texts) // 2])
    dense = _partial(embedder, texts, half)
    pending = np.array([t not in half for t in texts])
    assert dense.pending_count == int(pending.sum()) > 0
    for query in ["服务业", "养老服务", texts[-1][:30]]:  # the last one quotes a pending passage
        idx, _ = dense.search(query, k=len(texts))
        assert len(idx) and not pending[idx].any()
        idx, _ = dense.search(query, k=len(texts), mask=np.ones(len(texts), dtype=bool))
        assert len(idx) and not pending[idx].any()
    assert list(dense.with_vectors(np.arange(len(texts)))) == list(np.flatnonzero(~pending))
    # a pending passage owns no sentence vector: none can bring it back as a candidate
    starts = dense.sentence_starts
    assert all(starts[i + 1] == starts[i] for i in np.flatnonzero(pending))
    # persisted and loaded with its mask
    dense.save(tmp_path / "dense")
    again = DenseBackend.load(tmp_path / "dense", embedder)
    assert again.pending_count == dense.pending_count and (again.pending == dense.pending).all()
    idx, _ = again.search(texts[-1][:30], k=len(texts))
    assert not pending[idx].any()


def test_keyword_tokens_are_kept_and_reused(corpus, tmp_path):
    texts = [passage_index_text(p) for p in build_index(corpus).passages][:40]
    tok = make_tokenizer("jieba")
    kw = KeywordBackend.build(texts, tok)
    kw.save(tmp_path / "kw")
    loaded = KeywordBackend.load(tmp_path / "kw", tok)
    assert loaded.doc_tokens == kw.doc_tokens == [tuple(tok.tokenize(t)) for t in texts]

    class Counting:
        name = "jieba"
        calls = 0

        def tokenize(self, text):
            Counting.calls += 1
            return tok.tokenize(text)

    reused = KeywordBackend.build([*texts, "新增的居家社区养老服务条款"], Counting(), reuse=dict(zip(texts, loaded.doc_tokens)))
    assert Counting.calls == 1  # only the new text was tokenised
    assert reused.search("居家社区养老服务", 1)[0].tolist() == [len(texts)]


def test_staged_build_encodes_nothing_and_marks_what_the_cache_lacks(corpus, embedder, tmp_path):
    cache = VectorCache(tmp_path / "vectors.sqlite")
    full = build_index(corpus, embedder=embedder, vector_cache=cache)
    assert full.dense.pending is None
    # a cache that lost some entries stands for passages no build has embedded yet
    import sqlite3

    con = sqlite3.connect(cache.path)
    total = con.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    keys = [r[0] for r in con.execute("SELECT key FROM vectors ORDER BY key LIMIT 5")]
    con.executemany("DELETE FROM vectors WHERE key = ?", [(k,) for k in keys])
    con.commit()
    con.close()

    calls = []
    real = embedder.encode_passages

    class Spy:
        def __getattr__(self, name):
            return getattr(embedder, name)

        def encode_passages(self, texts):
            calls.append(len(texts))
            return real(texts)

    staged = build_index(corpus, embedder=Spy(), vector_cache=cache, staged_from=(corpus, full))
    assert calls == []
    from policyqa.index.vector_cache import text_key

    gone = set(keys)
    expected = [
        text_key(t) in gone or any(text_key(x) in gone for x in split_sentences(t))
        for t in (passage_index_text(p) for p in staged.passages)
    ]
    assert 0 < staged.dense.pending_count < total
    assert staged.dense.pending.tolist() == expected
    assert staged.manifest["dense"]["pending"] == staged.dense.pending_count
    path = save_index(staged, tmp_path / "index")
    back = load_index(tmp_path / "index", corpus, embedder=embedder)
    assert back.version == path.name and back.dense.pending_count == staged.dense.pending_count
    # the keyword legs of a staged build match a full one (same corpus, same dictionary)
    for name, leg in staged.keyword.items():
        assert leg.doc_tokens == full.keyword[name].doc_tokens


def test_a_cancelled_encoding_keeps_the_chunks_it_finished(tmp_path, embedder):
    cache = VectorCache(tmp_path / "v.sqlite")
    texts = [f"第{i}条 文本内容" for i in range(10)]
    done = []

    def encode(batch):
        done.append(len(batch))
        return embedder.encode_passages(batch)

    try:
        cache.encode("ns", texts, encode, embedder.dimension, chunk=4, cancelled=lambda: len(done) >= 1)
        raise AssertionError("not cancelled")
    except Cancelled:
        pass
    _, found = cache.lookup("ns", texts, embedder.dimension)
    assert done == [4] and found.sum() == 4
