"""The usual baseline: fixed-size chunks of the raw files, plain BM25, no structure.

Chunks come from langchain's RecursiveCharacterTextSplitter over each whole file; a chunk is credited
with every clause whose span it overlaps, so its ranking can be scored against clause-id gold.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from policyqa.corpus import Corpus
from policyqa.index.backends import KeywordBackend
from policyqa.index.tokenize import JiebaTokenizer


@dataclass
class ChunkBaseline:
    chunk_clauses: list[list[str]]
    backend: KeywordBackend

    @classmethod
    def build(cls, corpus: Corpus, chunk_size: int = 400, chunk_overlap: int = 50) -> "ChunkBaseline":
        splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True)
        texts, owners = [], []
        for pd in corpus.documents:
            for chunk in splitter.create_documents([pd.text]):
                start = chunk.metadata["start_index"]
                end = start + len(chunk.page_content)
                texts.append(chunk.page_content)
                owners.append([c.clause_id for c in pd.clauses if c.span.start < end and start < c.span.end])
        # plain jieba: no corpus dictionary, no headings or section paths
        return cls(owners, KeywordBackend.build(texts, JiebaTokenizer()))

    def search(self, query: str, k: int = 10) -> list[str]:
        idx, _ = self.backend.search(query, 100)
        ranked: list[str] = []
        for i in idx:
            for cid in self.chunk_clauses[i]:
                if cid not in ranked:
                    ranked.append(cid)
        return ranked[:k]
