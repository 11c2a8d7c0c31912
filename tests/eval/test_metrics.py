import math

import pytest

from policyqa.eval.dataset import load_questions
from policyqa.eval.metrics import hit_at, mrr_at, ndcg_at, recall_at


def test_metrics_on_a_known_ranking():
    ranked = ["a", "b", "c", "d"]
    assert hit_at(ranked, ["c"], 2) == 0.0 and hit_at(ranked, ["c"], 3) == 1.0
    assert mrr_at(ranked, ["c", "d"]) == pytest.approx(1 / 3)
    assert recall_at(ranked, ["b", "z"]) == 0.5
    assert ndcg_at(ranked, ["a"]) == 1.0
    assert ndcg_at(ranked, ["b"]) == pytest.approx(1 / math.log2(3))
    assert mrr_at([], ["a"]) == 0.0


def _folded_blind(q) -> bool:
    """Questions from a blind batch, folded into dev after its one run, are kept exactly as their writer gave
    them: a few quote a programme's name, a `multi` may need two clauses of one document, and a question about
    a document itself (its date) has no gold clause."""
    return "[blind batch" in q.note and "folded into dev" in q.note


def test_question_set_is_well_formed(corpus):
    qs = load_questions()
    assert len(qs) >= 150
    assert len({q.id for q in qs}) == len(qs)
    for q in qs:
        for cid in q.gold:
            assert corpus.clause(cid) is not None, (q.id, cid)
        if q.type == "agency":
            # each agency once, in printed order (a note may print one twice: the clause lists it once)
            assert list(dict.fromkeys(q.gold_agencies)) == list(corpus.clause(q.gold[0]).agencies), q.id
        assert q.answerable == bool(q.gold) or (_folded_blind(q) and q.answerable)
    assert {q.split for q in qs} == {"dev", "test"}
    assert sum(q.lang == "en" for q in qs) >= 20
    assert sum(q.type == "unanswerable" for q in qs) >= 15
    multi = [q for q in qs if q.type == "multi"]
    assert multi and all(len({corpus.clause(c).doc_id for c in q.gold}) >= 2 for q in multi if not _folded_blind(q))
    # a folded blind question's two quotes may fall in one clause of ours (f141: one clause, two sentences)
    assert all(len(q.gold) >= (1 if _folded_blind(q) else 2) for q in multi)


def test_questions_do_not_copy_clause_wording(corpus):
    """Paraphrased questions: no 12-character run of a gold clause appears in its question."""
    for q in load_questions():
        if _folded_blind(q):
            continue
        for cid in q.gold:
            text = corpus.clause(cid).text
            runs = {text[i : i + 12] for i in range(len(text) - 11)}
            assert not any(r in q.question for r in runs), (q.id, cid)


def test_unknown_split():
    with pytest.raises(ValueError, match="dev, test, blind, all"):
        load_questions(split="train")
