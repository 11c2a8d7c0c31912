import json
import os

import pytest

from policyqa.corpus import load_corpus
from policyqa.index import store
from policyqa.index.embedding import Embedder, EmbedderUnavailable, convention_for
from policyqa.index.store import IndexMismatch, IndexMissing, build_index, load_index, read_manifest, save_index


def test_manifest_describes_the_index(hybrid_bundle, corpus, tmp_path):
    save_index(hybrid_bundle, tmp_path)
    m = read_manifest(tmp_path)
    assert m["corpus_hash"] == corpus.content_hash
    assert m["passage_ids"] == [p.passage_id for p in hybrid_bundle.passages]
    assert m["dense"]["dimension"] == 32 and m["dense"]["faiss_index"] == "flat"
    assert m["dense"]["model"].endswith("tiny-st")
    assert {"faiss-cpu", "sentence-transformers", "bm25s", "jieba"} <= set(m["versions"])
    assert (tmp_path / "current").is_symlink()


def test_round_trip_searches_alike(hybrid_bundle, corpus, embedder, tmp_path):
    save_index(hybrid_bundle, tmp_path)
    loaded = load_index(tmp_path, corpus, embedder=embedder)
    assert [p.passage_id for p in loaded.passages] == [p.passage_id for p in hybrid_bundle.passages]
    for leg in ("jieba", "bigram"):
        assert loaded.keyword[leg].search("家政", 5)[0].tolist() == hybrid_bundle.keyword[leg].search("家政", 5)[0].tolist()
    assert loaded.dense.search("家政", 5)[0].tolist() == hybrid_bundle.dense.search("家政", 5)[0].tolist()


def test_missing_index(tmp_path, corpus):
    with pytest.raises(IndexMissing, match="qa index"):
        load_index(tmp_path / "nothing", corpus)


def test_refuses_another_corpus(lexical_bundle, tmp_path):
    save_index(lexical_bundle, tmp_path / "idx")
    other_dir = tmp_path / "corpus"
    other_dir.mkdir()
    src = load_corpus().documents[1].document.source_path
    (other_dir / "one.txt").write_bytes((store.Path(__file__).resolve().parents[2] / src).read_bytes())
    with pytest.raises(IndexMismatch, match="different corpus.*qa index"):
        load_index(tmp_path / "idx", load_corpus(other_dir))


def test_refuses_another_model(hybrid_bundle, corpus, tmp_path, tiny_model):
    save_index(hybrid_bundle, tmp_path)
    other = Embedder(str(tiny_model) + "/")  # same files, but not the configured name
    with pytest.raises(IndexMismatch, match="configured model"):
        load_index(tmp_path, corpus, embedder=other)


def test_lexical_index_cannot_serve_dense(lexical_bundle, corpus, embedder, tmp_path):
    save_index(lexical_bundle, tmp_path)
    assert load_index(tmp_path, corpus, embedder=embedder).dense is None
    with pytest.raises(IndexMismatch, match="no dense vectors"):
        load_index(tmp_path, corpus, embedder=embedder, require_dense=True)


def test_a_crash_while_writing_leaves_the_old_index(lexical_bundle, corpus, tmp_path, monkeypatch):
    first = save_index(lexical_bundle, tmp_path)

    def boom(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr(store.KeywordBackend, "save", boom)
    with pytest.raises(OSError):
        save_index(lexical_bundle, tmp_path)
    assert os.path.realpath(tmp_path / "current") == str(first)
    assert not list(tmp_path.glob(".tmp-*"))
    assert load_index(tmp_path, corpus).manifest["corpus_hash"] == corpus.content_hash


def test_old_versions_are_pruned(lexical_bundle, tmp_path):
    for _ in range(4):
        save_index(lexical_bundle, tmp_path)
    assert len([p for p in tmp_path.glob("v*") if p.is_dir()]) == store.KEEP_VERSIONS


def test_unloadable_model_is_reported_not_raised_at_build(corpus, tmp_path):
    e = Embedder(str(tmp_path / "no-such-model"))
    assert not e.available
    assert "cannot load embedding model" in e.error
    with pytest.raises(EmbedderUnavailable):
        e.encode_queries(["x"])
    bundle = build_index(corpus, embedder=e)
    assert bundle.dense is None and "cannot load" in bundle.manifest["dense_unavailable_reason"]


def test_model_conventions_table():
    assert convention_for("intfloat/multilingual-e5-small").query_prefix == "query: "
    assert convention_for("/models/multilingual-e5-base").passage_prefix == "passage: "
    assert convention_for("BAAI/bge-m3").query_prefix == ""
    assert convention_for("some/unknown").query_prefix == ""


def test_manifest_is_json_with_passage_order(lexical_bundle, tmp_path):
    save_index(lexical_bundle, tmp_path)
    m = json.loads((tmp_path / "current" / "manifest.json").read_text())
    assert m["dense"] is None and len(m["passage_ids"]) == len(lexical_bundle.passages)
