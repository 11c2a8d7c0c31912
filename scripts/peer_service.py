#!/usr/bin/env python
"""The load benchmark's reference point: a plain FastAPI + jieba + rank_bm25 search service over the
same seed documents, written the way a small team would write it first (no policyqa code on the
request path, no clause parsing, no answer composition).

    .venv/bin/python scripts/peer_service.py --port 8100
    curl -s localhost:8100/search -H 'content-type: application/json' -d '{"query": "养老服务补贴", "top_k": 3}'

Each document is split into paragraphs at blank lines; every paragraph is one BM25Okapi document over
its jieba tokens (``jieba.lcut``, whitespace dropped). ``POST /search {query, top_k}`` scores every
paragraph (rank_bm25 is a linear scan) and returns the top ``top_k`` with a positive score.
``scripts/bench_load.py --matrix`` starts it with uvicorn in its own process and divides our QPS by its QPS.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import jieba
import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel, Field
from rank_bm25 import BM25Okapi

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=1000)
    top_k: int = Field(10, ge=1, le=100)


class Hit(BaseModel):
    doc: str
    paragraph: int
    score: float
    text: str


class SearchResponse(BaseModel):
    results: list[Hit]


def tokenize(text: str) -> list[str]:
    return [t for t in jieba.lcut(text) if t.strip()]


def load_paragraphs(corpus_dir: Path) -> list[tuple[str, int, str]]:
    """(document file stem, paragraph number, text) for every non-empty paragraph of every *.txt file."""
    out: list[tuple[str, int, str]] = []
    for path in sorted(corpus_dir.glob("*.txt")):
        paras = [p.strip() for p in PARAGRAPH_BREAK.split(path.read_text(encoding="utf-8")) if p.strip()]
        out.extend((path.stem, i, p) for i, p in enumerate(paras))
    if not out:
        raise SystemExit(f"no paragraph in {corpus_dir}/*.txt")
    return out


def create_app(corpus_dir: Path | None = None) -> FastAPI:
    if corpus_dir is None:
        from policyqa.corpus import default_corpus_dir  # only to find the same five files

        corpus_dir = default_corpus_dir()
    paragraphs = load_paragraphs(corpus_dir)
    bm25 = BM25Okapi([tokenize(text) for _, _, text in paragraphs])
    app = FastAPI(title="peer: FastAPI + jieba + rank_bm25")

    @app.post("/search", response_model=SearchResponse)
    def search(req: SearchRequest) -> SearchResponse:
        scores = bm25.get_scores(tokenize(req.query))
        top = np.argsort(-scores)[: req.top_k]
        return SearchResponse(results=[
            Hit(doc=paragraphs[i][0], paragraph=paragraphs[i][1], score=float(scores[i]), text=paragraphs[i][2])
            for i in top if scores[i] > 0
        ])

    @app.get("/readyz")
    def readyz() -> dict[str, int]:
        return {"paragraphs": len(paragraphs)}

    return app


def main() -> None:
    import uvicorn

    p = argparse.ArgumentParser(description="plain FastAPI + jieba + rank_bm25 search over the seed documents")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8100)
    p.add_argument("--corpus", type=Path, default=None, help="folder of *.txt documents (default: policyqa's seed corpus)")
    args = p.parse_args()
    jieba.setLogLevel(60)
    uvicorn.run(create_app(args.corpus), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
