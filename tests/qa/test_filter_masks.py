"""Filter masks (qa/search.py `Searcher.mask`): built from each document's runs of passages and each agency's
positions, and kept per filter; always exactly the passage-by-passage computation."""

import dataclasses
import datetime as dt
import itertools
import random

import numpy as np
import pytest

from policyqa.qa import search
from policyqa.qa.search import Searcher, SearchFilters
from policyqa.qa.status import document_status


def reference_mask(s: Searcher, filters: SearchFilters) -> np.ndarray:
    """The mask as it was computed before (one pass over every passage's document number)."""
    allowed = np.ones(len(s.bundle.passages), dtype=bool)
    if filters.doc_ids or filters.in_force_on is not None:
        docs = range(len(s._documents))
        if filters.doc_ids:
            docs = [s._doc_number[d] for d in dict.fromkeys(filters.doc_ids) if d in s._doc_number]
        if filters.in_force_on is not None:
            docs = [i for i in docs if document_status(s._documents[i], filters.in_force_on).current]
        ok = np.zeros(len(s._documents) + 1, dtype=bool)
        ok[list(docs)] = True
        allowed &= ok[s._passage_doc]
    if filters.agencies:
        by_agency = np.zeros(len(allowed), dtype=bool)
        for a in filters.agencies:
            positions = s._agency_positions.get(a)
            if positions is not None:
                by_agency[positions] = True
        allowed &= by_agency
    return allowed


def all_filters(corpus, s: Searcher) -> list[SearchFilters]:
    docs = [pd.document.doc_id for pd in corpus.documents]
    agencies = sorted(s._agency_positions)
    dates = [dt.date(2020, 1, 1), dt.date(2026, 6, 1), dt.date(2029, 1, 1), dt.date(2040, 1, 1)]
    out = [SearchFilters(doc_ids=(d,)) for d in [*docs, "no-such-doc"]]
    out += [SearchFilters(doc_ids=pair) for pair in itertools.combinations(docs, 2)]
    out += [SearchFilters(agencies=(a,)) for a in [*agencies, "无此单位"]]
    out += [SearchFilters(in_force_on=d) for d in dates]
    rng = random.Random(12)
    for _ in range(150):
        out.append(SearchFilters(
            doc_ids=tuple(rng.sample([*docs, "no-such-doc"], rng.randint(0, 3))),
            agencies=tuple(rng.sample(agencies, rng.randint(0, 3))),
            in_force_on=rng.choice([None, *dates]),
        ))
    return [f for f in out if f]


@pytest.fixture(scope="module")
def shuffled_bundle(lexical_bundle):
    """The same passages in another order: a document's passages are then several runs, not one."""
    order = list(range(len(lexical_bundle.passages)))
    random.Random(3).shuffle(order)
    return dataclasses.replace(lexical_bundle, passages=[lexical_bundle.passages[i] for i in order])


def test_a_built_index_holds_each_document_as_one_run(corpus, lexical_bundle):
    s = Searcher(corpus, lexical_bundle)
    assert np.diff(s._doc_runs).tolist() == [1] * len(corpus.documents)
    for i in range(len(corpus.documents)):
        lo, hi = s._run_lo[i], s._run_hi[i]
        assert (s._passage_doc[lo:hi] == i).all() and (s._passage_doc == i).sum() == hi - lo


@pytest.mark.parametrize("order", ["built", "shuffled"])
@pytest.mark.parametrize("passages_per_slice", [0, 10**9], ids=["runs-as-slices", "one-pass"])
def test_masks_equal_the_passage_by_passage_computation(
    corpus, lexical_bundle, shuffled_bundle, monkeypatch, order, passages_per_slice
):
    monkeypatch.setattr(search, "_PASSAGES_PER_SLICE", passages_per_slice)  # each way of marking documents
    s = Searcher(corpus, lexical_bundle if order == "built" else shuffled_bundle)
    if order == "shuffled":
        assert len(s._run_lo) > len(corpus.documents)
    filters = all_filters(corpus, s)
    assert len(filters) > 100
    for f in filters:
        expected = reference_mask(s, f)
        assert np.array_equal(s.mask(f), expected), f
        assert np.array_equal(s.mask(f), expected), f  # and as kept
    assert any(reference_mask(s, f).any() for f in filters) and any(not reference_mask(s, f).any() for f in filters)


def test_masks_are_kept_per_filter_and_read_only(corpus, lexical_bundle):
    s = Searcher(corpus, lexical_bundle)
    docs = [pd.document.doc_id for pd in corpus.documents]
    first = s.mask(SearchFilters(doc_ids=(docs[0], docs[1]), in_force_on=dt.date(2026, 6, 1)))
    assert s.mask(SearchFilters(doc_ids=(docs[1], docs[0], docs[0]), in_force_on=dt.date(2026, 6, 1))) is first
    assert s.mask(SearchFilters(doc_ids=(docs[0], docs[1]), in_force_on=dt.date(2026, 6, 2))) is not first
    with pytest.raises(ValueError):
        first[0] = not first[0]
    assert s.mask(SearchFilters()) is None
    # another index gets another searcher, which keeps its own masks
    assert Searcher(corpus, lexical_bundle).mask(SearchFilters(doc_ids=(docs[0], docs[1]), in_force_on=dt.date(2026, 6, 1))) is not first


def test_the_least_recently_used_mask_goes_first(corpus, lexical_bundle):
    s = Searcher(corpus, lexical_bundle)
    s._masks_kept = 2
    docs = [pd.document.doc_id for pd in corpus.documents]
    a, b, c = (SearchFilters(doc_ids=(d,)) for d in docs[:3])
    ma = s.mask(a)
    s.mask(b)
    assert s.mask(a) is ma  # a used again: b is now the oldest
    s.mask(c)
    assert s.mask(a) is ma
    assert len(s._masks) == 2 and (frozenset(b.doc_ids), frozenset(), None) not in s._masks


def test_a_staged_add_keeps_each_document_one_run_and_masks_exact(corpus):
    from policyqa.corpus import Corpus
    from policyqa.index.store import build_index

    docs = corpus.documents
    before = Corpus(docs[:1] + docs[2:])
    serving = build_index(before)
    added = Corpus(docs[:1] + docs[2:] + docs[1:2])  # the new document after the others
    s = Searcher(added, build_index(added, staged_from=(before, serving)))
    assert np.diff(s._doc_runs).tolist() == [1] * len(docs)
    for f in all_filters(added, s):
        assert np.array_equal(s.mask(f), reference_mask(s, f)), f


def test_a_document_id_printed_twice_is_two_runs_and_masks_exact(corpus, monkeypatch):
    """Two files of one document number: their passages are two runs of one document."""
    from policyqa.corpus import Corpus
    from policyqa.index.store import build_index

    monkeypatch.setattr(search, "_PASSAGES_PER_SLICE", 0)
    twice = Corpus(corpus.documents + corpus.documents[:1])
    s = Searcher(twice, build_index(twice))
    assert len(s._run_lo) == len(corpus.documents) + 1
    for f in all_filters(twice, s):
        assert np.array_equal(s.mask(f), reference_mask(s, f)), f
