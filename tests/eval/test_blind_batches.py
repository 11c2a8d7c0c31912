"""Blind batches (written without sight of the system, run once at the end) are well-formed eval data."""

from pathlib import Path

import pytest

from policyqa.eval.dataset import load_questions

BATCHES = sorted((Path(__file__).resolve().parents[2] / "eval" / "blind").glob("*.jsonl"))


@pytest.mark.parametrize("path", BATCHES, ids=[p.name for p in BATCHES])
def test_blind_batch_loads_and_points_at_real_clauses(path, corpus):
    qs = load_questions(path, split="blind")
    assert qs and len({q.id for q in qs}) == len(qs)
    for q in qs:
        for cid in q.gold:
            assert corpus.clause(cid) is not None, (q.id, cid)
        assert q.answerable or not q.gold
