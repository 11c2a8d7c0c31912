"""The clause tokens the build persists are exactly what the judge would compute at start-up."""

from policyqa.index.store import load_index, save_index
from policyqa.qa.judge import Judge


def test_persisted_clause_tokens_give_the_judge_the_same_evidence(lexical_bundle, corpus, tmp_path):
    save_index(lexical_bundle, tmp_path)
    loaded = load_index(tmp_path, corpus)
    assert loaded.clause_tokens is not None and len(loaded.clause_tokens) == len({c.clause_id for c in corpus.clauses})
    tok = loaded.keyword["jieba"].tokenizer
    computed = Judge(corpus, tok)
    persisted = Judge(corpus, tok, clause_tokens=loaded.clause_tokens)
    assert persisted._idf == computed._idf and persisted._idf_unknown == computed._idf_unknown
    for c in corpus.clauses:
        assert persisted._clause_tokens.get(c.clause_id) == computed._clause_tokens[c.clause_id]
    assert persisted._clause_tokens.get("no-such-clause") == frozenset()
