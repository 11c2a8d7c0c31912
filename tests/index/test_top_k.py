"""The keyword legs' selection of the best k scores (index/backends._top_k) against a plain sort."""

import numpy as np
import pytest

from policyqa.index.backends import _top_k


def plain(scores: np.ndarray, k: int) -> list[int]:
    """Positive scores, best first, the lower position first among equals."""
    order = sorted((i for i in range(len(scores)) if scores[i] > 0), key=lambda i: (-scores[i], i))
    return order[: max(k, 0)]


@pytest.mark.parametrize("n, share, k", [(50_000, 0.3, 30), (50_000, 0.0005, 30), (2_000, 1.0, 10), (40, 0.5, 30), (10, 1.0, 0)])
def test_top_k_equals_a_plain_sort(n, share, k):
    rng = np.random.default_rng(n + k)
    # few distinct values: many ties, at the k-th place too
    scores = np.where(rng.random(n) < share, rng.integers(1, 40, n) / np.float32(4), 0).astype(np.float32)
    idx, got = _top_k(scores, k)
    assert idx.tolist() == plain(scores, k)
    assert np.array_equal(got, scores[idx])


def test_top_k_when_the_sample_misses_the_best_passages():
    """Every high score off the sampled positions: the floor from the sample is lower, never higher, than the
    true k-th best, so nothing above it is lost."""
    scores = np.zeros(100_000, dtype=np.float32)
    scores[::16] = 1.0  # the sampled positions score low
    scores[7::1000] = 5.0  # the best ones are all between them
    idx, got = _top_k(scores, 30)
    assert idx.tolist() == plain(scores, 30)
    assert (got == 5.0).all()


def test_top_k_of_nothing():
    for scores in (np.zeros(0, dtype=np.float32), np.zeros(100, dtype=np.float32)):
        idx, got = _top_k(scores, 10)
        assert len(idx) == len(got) == 0
