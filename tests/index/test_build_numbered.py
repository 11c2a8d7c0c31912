"""The build holds each keyword leg's tokens numbered (index/backends.TokenTable) and derives clause tokens
from the passages' instead of cutting every clause again: the index it makes scores, and gives the judge,
exactly what tokenising as strings and clause by clause gives."""

import bm25s
import numpy as np
import pytest

from policyqa.index.backends import KeywordBackend, TokenTable
from policyqa.index.clause_tokens import ClauseTokens
from policyqa.index.store import indexable, passage_index_text
from policyqa.index.tokenize import make_tokenizer, user_dictionary


def _columns(bm25) -> dict[str, dict[int, float]]:
    """Term → {passage: precomputed BM25 score}, whatever the vocabulary's numbering."""
    ip, idx, data = bm25.scores["indptr"], bm25.scores["indices"], bm25.scores["data"]
    out = {}
    for term, i in bm25.vocab_dict.items():
        if i < len(ip) - 1:
            out[term] = dict(zip(idx[ip[i] : ip[i + 1]].tolist(), data[ip[i] : ip[i + 1]].tolist()))
    return out


@pytest.mark.parametrize("name", ["jieba", "bigram"])
def test_numbered_build_scores_every_term_and_passage_as_bm25s_on_strings(corpus, name):
    texts = [passage_index_text(p) for p in indexable(corpus, 400)]
    texts += texts[:3]  # repeated texts are cut once and keep their own rows
    tok = make_tokenizer(name, user_dictionary(corpus.clauses))
    built = KeywordBackend.build(texts, tok)
    strings = [tok.tokenize(t) for t in texts]
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index(strings, show_progress=False)
    assert set(built._bm25.vocab_dict) == set(reference.vocab_dict)
    assert _columns(built._bm25) == _columns(reference)
    assert built.doc_tokens == [tuple(s) for s in strings]
    # numbered in order of first appearance: the numbering the persisted tokens always had
    first = list(dict.fromkeys(t for s in strings for t in s))
    assert built.tokens.vocab == first
    for q in ("养老服务补贴", "首店经济", "人工智能算力券"):
        assert built.search(q, 10)[0].tolist() == KeywordBackend(tok, reference, len(texts)).search(q, 10)[0].tolist()


def test_token_table_round_trip(tmp_path):
    table = TokenTable.of(["甲 乙", "乙 丙", "甲 乙", ""], str.split)
    assert table.vocab == ["甲", "乙", "丙"]
    assert table.indptr.tolist() == [0, 2, 4, 6, 6] and table.ids.tolist() == [0, 1, 1, 2, 0, 1]
    table.save(tmp_path)
    back = TokenTable.load(tmp_path)
    assert back.tuples() == table.tuples() == [("甲", "乙"), ("乙", "丙"), ("甲", "乙"), ()]


@pytest.mark.parametrize("max_chars", [400, 50])
def test_clause_tokens_from_passages_equal_cutting_every_clause(corpus, max_chars):
    """At 50 characters many passage boundaries fall inside a run of CJK characters (the splitter's last
    resort): those clauses are cut whole, the rest are the union of their passages."""
    tok = make_tokenizer("jieba", user_dictionary(corpus.clauses))
    passages = indexable(corpus, max_chars)
    texts = [passage_index_text(p) for p in passages]
    leg = KeywordBackend.build(texts, tok)
    derived = ClauseTokens.from_passages(corpus.clauses, passages, texts, leg.tokens, tok)
    cut = ClauseTokens.build(corpus.clauses, tok)
    assert len(derived) == len(cut)
    for c in corpus.clauses:
        assert derived.get(c.clause_id) == cut.get(c.clause_id), c.clause_id
    assert derived.document_frequencies() == cut.document_frequencies()
    rows = [derived.ids[derived.indptr[i] : derived.indptr[i + 1]] for i in range(len(derived.indptr) - 1)]
    assert all((np.diff(r) > 0).all() for r in rows)  # each row sorted, no repeats (the persisted format)
    if max_chars == 50:  # the case the fallback exists for does occur here
        split_inside = sum(
            1 for p, q in zip(passages, passages[1:])
            if p.clause_id == q.clause_id and p.text[-1:].isalnum() and q.text[:1].isalnum()
        )
        assert split_inside > 0


def test_two_builds_write_the_same_bytes_whatever_the_string_hash(tmp_path):
    """Numbering follows the order tokens appear in, not a set's order (which follows the per-process string
    hash): builds in processes with different hash seeds write identical files."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from policyqa.corpus import load_corpus; "
        "from policyqa.index.store import build_index, save_index; "
        "save_index(build_index(load_corpus()), Path(sys.argv[1]))"
    )
    files = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed-{seed}"
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        files.append(json.loads((out / "current" / "manifest.json").read_text(encoding="utf-8"))["files"])
    assert files[0] == files[1]
    assert any(name.startswith("bm25-jieba/vocab") for name in files[0]) and "clause-tokens/vocab.json" in files[0]
