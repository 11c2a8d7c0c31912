"""Index backends behind one small interface, so one contract test covers them all.

A backend maps a query to ``(passage positions, scores)``, best first, and persists to a folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import numpy as np

from .embedding import Encoder
from .tokenize import Tokenizer

FAISS_KINDS = ("flat", "hnsw", "ivf")


class Backend(Protocol):
    name: str

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, folder: Path) -> None: ...

    def __len__(self) -> int: ...


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best k positive scores, best first. Most documents share no term with a query, so selecting
    among the non-zero scores first is several times cheaper than partitioning all of them."""
    nz = np.flatnonzero(scores > 0)
    if k <= 0 or len(nz) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    if len(nz) > k:
        nz = nz[np.argpartition(-scores[nz], k - 1)[:k]]
    idx = nz[np.argsort(-scores[nz], kind="stable")]
    return idx.astype(np.int64), scores[idx].astype(np.float32)


class KeywordBackend:
    """BM25 (bm25s) over tokens of one tokenizer."""

    def __init__(self, tokenizer: Tokenizer, bm25=None, size: int = 0) -> None:
        self.tokenizer = tokenizer
        self.name = f"bm25-{tokenizer.name}"
        self._bm25 = bm25
        self._size = size

    @classmethod
    def build(cls, texts: list[str], tokenizer: Tokenizer, *, k1: float = 1.2, b: float = 0.75) -> "KeywordBackend":
        import bm25s

        bm25 = bm25s.BM25(k1=k1, b=b)
        bm25.index([tokenizer.tokenize(t) for t in texts], show_progress=False)
        return cls(tokenizer, bm25, len(texts))

    def __len__(self) -> int:
        return self._size

    def query_tokens(self, query: str) -> list[str]:
        return self.tokenizer.tokenize(query)

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        tokens = self.query_tokens(query)
        if not tokens or self._size == 0:
            return _top_k(np.zeros(0, dtype=np.float32), 0)
        return _top_k(np.asarray(self._bm25.get_scores(tokens), dtype=np.float32), k)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder), show_progress=False)
        (folder / "backend.json").write_text(json.dumps({"size": self._size, "tokenizer": self.tokenizer.name}))

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer) -> "KeywordBackend":
        import bm25s

        meta = json.loads((folder / "backend.json").read_text())
        if meta["tokenizer"] != tokenizer.name:
            raise ValueError(f"{folder} was built with tokenizer {meta['tokenizer']!r}, not {tokenizer.name!r}")
        bm25 = bm25s.BM25.load(str(folder), show_progress=False)
        return cls(tokenizer, bm25, meta["size"])


def make_faiss_index(kind: str, dim: int, n: int):
    """Exact inner product for small corpora; HNSW or IVF when the corpus is large."""
    import faiss

    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
        return index
    if kind == "ivf":
        nlist = max(1, min(4096, int(4 * np.sqrt(max(n, 1)))))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = max(1, min(nlist, 16))
        return index
    raise ValueError(f"unknown FAISS index kind {kind!r}; choose one of {', '.join(FAISS_KINDS)}")


class DenseBackend:
    """FAISS over L2-normalised passage vectors (inner product = cosine).

    The vectors themselves are kept too (memory-mapped when loaded): they give the exact cosine of a
    question to any passage — evidence for the answer layer — without asking FAISS to reconstruct.
    """

    def __init__(self, encoder: Encoder, index, kind: str, vectors: np.ndarray) -> None:
        self.encoder = encoder
        self.index = index
        self.kind = kind
        self.vectors = vectors
        self.name = f"faiss-{kind}"

    @classmethod
    def build(cls, texts: list[str], encoder: Encoder, kind: str = "flat", vectors: np.ndarray | None = None) -> "DenseBackend":
        if vectors is None:
            vectors = encoder.encode_passages(texts)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = make_faiss_index(kind, vectors.shape[1], len(vectors))
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
        return cls(encoder, index, kind, vectors)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def encode_query(self, query: str) -> np.ndarray:
        return self.encoder.encode_query(query)

    def search_vector(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        scores, idx = self.index.search(np.ascontiguousarray(qvec, dtype=np.float32).reshape(1, -1), k)
        keep = idx[0] >= 0
        return idx[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def similarities(self, qvec: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Exact cosine of the question to the passages at ``positions``."""
        if len(positions) == 0:
            return np.empty(0, dtype=np.float32)
        return (self.vectors[positions] @ qvec).astype(np.float32)

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        if not query.strip():
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        return self.search_vector(self.encode_query(query), k)

    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / "faiss.index"))
        np.save(folder / "vectors.npy", np.asarray(self.vectors, dtype=np.float32))
        (folder / "backend.json").write_text(json.dumps({"kind": self.kind, "size": len(self), "dimension": self.dimension}))

    @classmethod
    def load(cls, folder: Path, encoder: Encoder) -> "DenseBackend":
        import faiss

        meta = json.loads((folder / "backend.json").read_text())
        index = faiss.read_index(str(folder / "faiss.index"))
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        if vectors.shape != (index.ntotal, index.d):
            raise ValueError(f"{folder}: {vectors.shape} vectors for a FAISS index of {index.ntotal} × {index.d}")
        return cls(encoder, index, meta["kind"], vectors)
