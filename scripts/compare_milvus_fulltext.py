#!/usr/bin/env python
"""Why the Milvus keyword legs are our BM25 sparse vectors and not Milvus's own full-text search.

    .venv/bin/python scripts/compare_milvus_fulltext.py

One keyword leg alone, on the Chinese answerable questions of eval/questions.jsonl (dev and test: nothing
is tuned here), clause-level hit@5 and MRR@10 (a clause's best passage counts):
- ``bm25s jieba``: the embedded leg (our jieba with the corpus's own terms and stop words) — and, being the
  same weights, the Milvus backend's leg (tests/index/test_backends_contract.py checks they score alike);
- ``Milvus BM25, jieba analyzer``: a Milvus Lite collection with a BM25 function over the passage text
  analysed by its ``jieba`` tokenizer (search mode), searched with the question text;
- the same with our corpus terms given to the analyzer (its ``dict`` option).
Milvus Lite offers no other Chinese analyzer (``standard`` and ``jieba`` only), so the bigram leg has no
full-text counterpart at all.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from policyqa.corpus import load_corpus  # noqa: E402
from policyqa.eval.dataset import load_questions  # noqa: E402
from policyqa.index.backends import KeywordBackend  # noqa: E402
from policyqa.index.store import indexable, passage_index_text  # noqa: E402
from policyqa.index.tokenize import make_tokenizer, user_dictionary  # noqa: E402
from policyqa.qa.analysis import normalise  # noqa: E402


def metrics(ranked_clauses: list[list[str]], gold: list[set[str]]) -> tuple[float, float]:
    hit = sum(bool(set(r[:5]) & g) for r, g in zip(ranked_clauses, gold)) / len(gold)
    mrr = sum(next((1 / (i + 1) for i, c in enumerate(r[:10]) if c in g), 0.0) for r, g in zip(ranked_clauses, gold)) / len(gold)
    return hit, mrr


def clauses_of(positions, passages) -> list[str]:
    out: list[str] = []
    for i in positions:
        c = passages[i].clause_id
        if c not in out:
            out.append(c)
    return out


def main() -> int:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    corpus = load_corpus()
    passages = indexable(corpus, 400)
    texts = [passage_index_text(p) for p in passages]
    words = user_dictionary(corpus.clauses)
    qs = [q for q in load_questions(split="all") if q.lang == "zh" and q.answerable and q.gold]
    gold = [set(q.gold) for q in qs]
    queries = [normalise(q.question) for q in qs]
    rows = []

    bm25 = KeywordBackend.build(texts, make_tokenizer("jieba", words))
    rows.append(("bm25s jieba (embedded; = Milvus backend)", [clauses_of(bm25.search(q, 60)[0], passages) for q in queries]))

    with tempfile.TemporaryDirectory() as tmp:
        client = MilvusClient(str(Path(tmp) / "ft.db"))
        for label, analyzer in (
            ("Milvus BM25, jieba analyzer", {"tokenizer": {"type": "jieba", "mode": "search"}}),
            ("Milvus BM25, jieba analyzer + corpus terms", {"tokenizer": {"type": "jieba", "mode": "search", "dict": words}}),
        ):
            name = f"ft{len(rows)}"
            schema = client.create_schema(auto_id=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("text", DataType.VARCHAR, max_length=8192, enable_analyzer=True, analyzer_params=analyzer)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]))
            params = client.prepare_index_params()
            params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
            client.create_collection(name, schema=schema, index_params=params)
            client.insert(name, [{"id": i, "text": t} for i, t in enumerate(texts)])
            client.load_collection(name)
            ranked = []
            for q in queries:
                res = client.search(name, data=[q], anns_field="sparse", limit=60, output_fields=["id"], search_params={"metric_type": "BM25"})
                ranked.append(clauses_of([h["id"] for h in res[0]], passages))
            rows.append((label, ranked))
        client.close()

    print(f"{len(qs)} Chinese answerable questions (dev + test), one keyword leg alone\n")
    print("| leg | hit@5 | MRR@10 |\n| --- | --- | --- |")
    for label, ranked in rows:
        hit, mrr = metrics(ranked, gold)
        print(f"| {label} | {hit:.3f} | {mrr:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
