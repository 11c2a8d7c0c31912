"""A start-up rebuilds the passages from the ranges the build persisted, without splitting any clause; the
records are the ones the build indexed, a version written before the ranges existed still loads, and
ranges that do not fit the corpus are refused."""

import json

import numpy as np
import pytest

from policyqa.corpus import PassageTable
from policyqa.index import store
from policyqa.index.store import IndexMismatch, load_index, save_index


def test_loaded_passages_are_the_built_ones(lexical_bundle, corpus, tmp_path, monkeypatch):
    save_index(lexical_bundle, tmp_path)

    def no_split(*_a, **_k):
        raise AssertionError("a start-up split the clauses again")

    monkeypatch.setattr(store, "indexable", no_split)
    loaded = load_index(tmp_path, corpus)
    assert isinstance(loaded.passages, PassageTable)
    assert len(loaded.passages) == len(lexical_bundle.passages)
    assert list(loaded.passages) == list(lexical_bundle.passages)  # every field, spans included
    assert loaded.passages[-1] == lexical_bundle.passages[-1]
    assert loaded.passages[3:5] == lexical_bundle.passages[3:5]
    assert loaded.passages.clause_ids == [p.clause_id for p in lexical_bundle.passages]


def test_saved_again_the_ranges_round_trip(lexical_bundle, corpus, tmp_path):
    save_index(lexical_bundle, tmp_path / "a")
    once = load_index(tmp_path / "a", corpus)
    save_index(once, tmp_path / "b")  # a loaded version written again (e.g. with a document added)
    assert list(load_index(tmp_path / "b", corpus).passages) == list(lexical_bundle.passages)


def _rewrite(version, change_files) -> None:
    """Change files of a version and list them again in its manifest, as a consistent writer would."""
    change_files(version)
    m = json.loads((version / "manifest.json").read_text())
    m["files"] = {
        f.relative_to(version).as_posix(): {"sha256": store._sha256(f), "bytes": f.stat().st_size}
        for f in store._data_files(version)
    }
    m[store._SELF_HASH] = store._manifest_hash(m)
    (version / "manifest.json").write_text(json.dumps(m, ensure_ascii=False))


def test_a_version_without_ranges_splits_as_before(lexical_bundle, corpus, tmp_path):
    version = save_index(lexical_bundle, tmp_path)

    def drop(v):
        for f in (v / store.PASSAGES).iterdir():
            f.unlink()
        (v / store.PASSAGES).rmdir()

    _rewrite(version, drop)
    loaded = load_index(tmp_path, corpus)
    assert not isinstance(loaded.passages, PassageTable)
    assert list(loaded.passages) == list(lexical_bundle.passages)


def test_ranges_outside_their_clause_are_refused(lexical_bundle, corpus, tmp_path):
    version = save_index(lexical_bundle, tmp_path)

    def stretch(v):
        end = np.load(v / store.PASSAGES / "end.npy")
        end[0] += 10_000
        np.save(v / store.PASSAGES / "end.npy", end)

    _rewrite(version, stretch)
    with pytest.raises(IndexMismatch, match="outside its clause"):
        load_index(tmp_path, corpus)


def test_a_passage_of_an_unknown_clause_is_refused(corpus):
    with pytest.raises(ValueError, match="names no clause"):
        PassageTable.of(corpus.clause, ["nowhere:1#0"], np.array([0]), np.array([1]))
