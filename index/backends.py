"""Index backends behind one small interface, so one contract test covers them all.

A backend maps a query to ``(passage positions, scores)``, best first, and persists to a folder. An
optional ``mask`` (a boolean array over passage positions) restricts the search to the positions it allows
— filters are applied inside the index, so the k results are the best k allowed ones.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .embedding import Encoder
from .tokenize import Tokenizer, question_tokens

FAISS_KINDS = ("flat", "hnsw", "ivf")


class Backend(Protocol):
    name: str

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, folder: Path) -> None: ...

    def __len__(self) -> int: ...


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best k positive scores, best first; among equal scores the lower position first, at the k-th place
    too (so the result never depends on how a partition breaks ties).

    Most passages share no term with a query and of those that do most score low, so the k-th best score
    of every 16th passage (a strided view, no copy) is a floor the true k-th best cannot be under: only the
    passages at or above it are candidates — one comparison over the corpus and a selection among a few,
    instead of a selection among every non-zero score (at 1M passages: 3.6 → 2.6 ms p50, 11 → 4 ms p99)."""
    if k <= 0 or not len(scores):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    sample = scores[::_TOP_K_STRIDE]
    floor = np.partition(sample, len(sample) - k)[len(sample) - k] if len(sample) > k else 0
    candidates = np.flatnonzero(scores >= floor) if floor > 0 else np.flatnonzero(scores > 0)
    if len(candidates) > k:
        values = scores[candidates]
        kth = np.partition(values, len(values) - k)[len(values) - k]
        above = candidates[values > kth]
        candidates = np.concatenate((above, candidates[values == kth][: k - len(above)]))
    idx = np.sort(candidates)
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return idx.astype(np.int64), scores[idx].astype(np.float32)


_TOP_K_STRIDE = 16


# Distinct query terms the keyword leg scores at most: every question of the evaluation set has fewer (its
# longest, 46 characters, makes 45 character bigrams), so they are scored exactly as before; a long or
# hostile input costs at most this many posting-list passes (tests/index/test_query_bounds.py).
MAX_QUERY_TERMS = 64


class TokenTable:
    """Each text's tokens as numbers into one vocabulary, numbered in order of first appearance (CSR: text
    i owns ``ids[indptr[i]:indptr[i + 1]]``). Four bytes a token where a tuple of strings costs about 90 (a
    fresh str object per token): what lets a build hold a keyword leg's tokens at 1M passages. It is also
    the persisted form (``tokens-*`` beside the BM25 matrix)."""

    def __init__(self, vocab: list[str], indptr: np.ndarray, ids: np.ndarray) -> None:
        self.vocab, self.indptr, self.ids = vocab, indptr, ids

    @classmethod
    def of(
        cls, texts: Sequence[str], tokenize: Callable[[str], Sequence[str]], reuse: dict[str, tuple[str, ...]] | None = None
    ) -> "TokenTable":
        """Tokenise each distinct text once (``reuse``: text → tokens taken as they are), numbering tokens
        as they come."""
        number: dict[str, int] = {}
        ids = array("i")  # C int: int32 on the platforms numpy and faiss support
        bounds = array("q", [0])
        first: dict[str, int] = {}  # text → its first row: a repeated text copies that row's ids
        for text in texts:
            row = first.get(text)
            if row is None:
                first[text] = len(bounds) - 1
                got = reuse.get(text) if reuse else None
                ids.extend([number.setdefault(t, len(number)) for t in (got if got is not None else tokenize(text))])
            else:
                ids.extend(ids[bounds[row] : bounds[row + 1]])
            bounds.append(len(ids))
        return cls(list(number), np.frombuffer(bounds, dtype=np.int64), np.frombuffer(ids, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def rows(self) -> Iterator[list[int]]:
        """Each text's token numbers as a list of ints, made one at a time."""
        ids, bounds = self.ids, self.indptr.tolist()
        for a, b in zip(bounds, bounds[1:]):
            yield ids[a:b].tolist()

    def tuples(self) -> list[tuple[str, ...]]:
        words = [self.vocab[i] for i in self.ids.tolist()]
        bounds = self.indptr.tolist()
        return [tuple(words[a:b]) for a, b in zip(bounds, bounds[1:])]

    def save(self, folder: Path) -> None:
        (folder / "tokens-vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "tokens-indptr.npy", np.asarray(self.indptr, dtype=np.int64))
        np.save(folder / "tokens-ids.npy", np.asarray(self.ids, dtype=np.int32))

    @classmethod
    def load(cls, folder: Path) -> "TokenTable":
        vocab = json.loads((folder / "tokens-vocab.json").read_text(encoding="utf-8"))
        return cls(vocab, np.load(folder / "tokens-indptr.npy"), np.load(folder / "tokens-ids.npy"))


class _Numbered:
    """A corpus as bm25s takes it already numbered (its ``ids`` and ``vocab``): the rows are made as bm25s
    iterates them (three passes), never all at once."""

    def __init__(self, table: TokenTable) -> None:
        self._table = table
        self.vocab = {t: i for i, t in enumerate(table.vocab)}
        self.ids = self

    def __len__(self) -> int:
        return len(self._table)

    def __iter__(self) -> Iterator[list[int]]:
        return self._table.rows()


class KeywordBackend:
    """BM25 (bm25s) over tokens of one tokenizer."""

    def __init__(
        self, tokenizer: Tokenizer, bm25=None, size: int = 0, tokens: TokenTable | None = None,
        tokens_folder: Path | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.name = f"bm25-{tokenizer.name}"
        self._bm25 = bm25
        self._size = size
        # each passage's tokens in passage order, persisted beside the BM25 matrix (read on first use), so a
        # staged build (index/store.py) reuses those of unchanged passages instead of tokenising them again
        self._tokens = tokens
        self._tokens_folder = tokens_folder

    @property
    def tokens(self) -> TokenTable | None:
        """Each passage's tokens, numbered (None: an index saved without them)."""
        if self._tokens is None and self._tokens_folder is not None and (self._tokens_folder / "tokens-ids.npy").exists():
            self._tokens = TokenTable.load(self._tokens_folder)
        return self._tokens

    @property
    def doc_tokens(self) -> list[tuple[str, ...]] | None:
        """Each passage's tokens as strings (what a staged build reuses)."""
        table = self.tokens
        return table.tuples() if table is not None else None

    @classmethod
    def build(
        cls,
        texts: list[str],
        tokenizer: Tokenizer,
        *,
        k1: float = 1.2,
        b: float = 0.75,
        reuse: dict[str, tuple[str, ...]] | None = None,
    ) -> "KeywordBackend":
        """``reuse``: text → tokens an earlier build found for it, taken as they are instead of tokenising
        again — possibly cut with a dictionary that lacked the newest user words (a staged add accepts that
        until its second stage rebuilds every leg exactly)."""
        import bm25s

        # numbered as they are cut, and handed to bm25s numbered: bm25s given strings would hold every
        # passage's tokens as Python objects twice over (2.7 GB at 100k passages with both legs); given
        # numbers, it computes the same score for every (term, passage), only its vocabulary is numbered
        # in order of appearance instead of a set's order
        table = TokenTable.of(texts, tokenizer.tokenize, reuse)
        bm25 = bm25s.BM25(k1=k1, b=b)
        bm25.index(_Numbered(table), show_progress=False)
        return cls(tokenizer, bm25, len(texts), table)

    def __len__(self) -> int:
        return self._size

    def query_tokens(self, query: str) -> list[str]:
        return question_tokens(self.tokenizer, query)

    def query_ids(self, query: str) -> list[int]:
        """The question's token ids in the index's vocabulary, in order, repeats kept (bm25s adds a repeated
        term's scores again). Over MAX_QUERY_TERMS distinct terms, only the MAX_QUERY_TERMS most informative
        are kept — those fewest passages contain (highest IDF; the first occurring among equals): scoring
        costs a pass over each term's postings, and a common term in a long question moves no ranking."""
        ids = self._bm25.get_tokens_ids(self.query_tokens(query))
        distinct = dict.fromkeys(ids)
        if len(distinct) <= MAX_QUERY_TERMS:
            return ids
        indptr = self._bm25.scores["indptr"]  # term t's postings: indptr[t]:indptr[t + 1]
        order = np.asarray(list(distinct), dtype=np.int64)
        postings = indptr[order + 1] - indptr[order]
        keep = set(order[np.argsort(postings, kind="stable")[:MAX_QUERY_TERMS]].tolist())
        return [t for t in ids if t in keep]

    def _scores(self, ids: list[int], mask: np.ndarray | None = None) -> np.ndarray:
        """Every passage's BM25 score for these term ids: bm25s's sum of precomputed per-(term, passage)
        scores — the same float32 additions in the same order as bm25s, so the same scores — one
        ``np.add.at`` per term on views of its postings (nothing copied: numpy's add.at is a fast unbuffered
        loop for a float32 target, and faster here than ``np.bincount``, which sums in float64 and needs its
        inputs converted). With ``mask``, the passages it does not allow are then set to 0: one pass over the
        scores, cheaper than looking up every posting's passage in the mask (at 1M passages and a 20 %
        filter: 21 → 10 ms p50, 123 → 29 ms p99 a leg)."""
        bm25 = self._bm25
        if getattr(bm25, "nonoccurrence_array", None) is not None:  # BM25L/BM25+: bm25s adds a term constant
            scores = np.asarray(bm25.get_scores_from_ids(ids), dtype=np.float32)
        else:
            table = bm25.scores
            indptr, indices, data = table["indptr"], table["indices"], table["data"]
            scores = np.zeros(table["num_docs"], dtype=data.dtype)  # bm25s's dtype (float32 by default)
            for t in ids:
                s, e = indptr[t], indptr[t + 1]
                np.add.at(scores, indices[s:e], data[s:e])
            scores = scores.astype(np.float32, copy=False)
        if mask is not None:
            scores *= mask
        return scores

    def _scores_in_range(self, ids: list[int], lo: int, hi: int) -> np.ndarray:
        """The BM25 scores of passages lo … hi − 1 only: each term's postings are sorted by passage, so the
        ones inside the range are found by binary search and nothing outside it is read — a filter to one
        document (its passages are contiguous) costs its own postings, not the corpus's. The same float32
        additions in the same order as `_scores`, so the same scores."""
        table = self._bm25.scores
        indptr, indices, data = table["indptr"], table["indices"], table["data"]
        scores = np.zeros(hi - lo, dtype=data.dtype)
        for t in ids:
            s, e = int(indptr[t]), int(indptr[t + 1])
            postings = indices[s:e]
            first, last = s + int(np.searchsorted(postings, lo)), s + int(np.searchsorted(postings, hi))
            np.add.at(scores, indices[first:last] - lo, data[first:last])
        return scores.astype(np.float32, copy=False)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        ids = self.query_ids(query) if self._size else []
        if not ids:
            return _top_k(np.zeros(0, dtype=np.float32), 0)
        if mask is not None and getattr(self._bm25, "nonoccurrence_array", None) is None:
            # the first and last allowed positions (a boolean argmax stops at the first True), not every
            # allowed position listed: that list costs 4 ms at 1M passages and a 20 % filter
            lo = int(np.argmax(mask))
            if not mask[lo]:
                return _top_k(np.zeros(0, dtype=np.float32), 0)
            hi = len(mask) - int(np.argmax(mask[::-1]))
            if mask[lo:hi].all():  # one run: a document's passages
                idx, scores = _top_k(self._scores_in_range(ids, lo, hi), k)
                return idx + lo, scores
        return _top_k(self._scores(ids, mask), k)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder), show_progress=False)
        (folder / "backend.json").write_text(json.dumps({"size": self._size, "tokenizer": self.tokenizer.name}))
        if self.tokens is not None:
            self.tokens.save(folder)

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer) -> "KeywordBackend":
        import bm25s

        meta = json.loads((folder / "backend.json").read_text())
        if meta.get("engine") == "milvus":  # the leg lives in Milvus (index/milvus_store.py)
            from .milvus_store import MilvusKeywordBackend

            return MilvusKeywordBackend.load(folder, tokenizer)
        if meta["tokenizer"] != tokenizer.name:
            raise ValueError(f"{folder} was built with tokenizer {meta['tokenizer']!r}, not {tokenizer.name!r}")
        bm25 = bm25s.BM25.load(str(folder), show_progress=False)
        return cls(tokenizer, bm25, meta["size"], tokens_folder=folder)


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


def _search_params(index, mask: np.ndarray):
    """FAISS search parameters that allow only the positions ``mask`` sets (a bitmap selector), of the
    index's own kind so HNSW keeps its efSearch and IVF its nprobe."""
    import faiss

    bits = np.packbits(np.asarray(mask, dtype=bool), bitorder="little")
    sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
    if isinstance(index, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW(sel=sel, efSearch=index.hnsw.efSearch)
    elif isinstance(index, faiss.IndexIVF):
        params = faiss.SearchParametersIVF(sel=sel, nprobe=index.nprobe)
    else:
        params = faiss.SearchParameters(sel=sel)
    params._keep = (bits, sel)  # the selector reads this buffer: keep both alive while the search runs
    return params


# Clause text is normalised to half-width, so a full stop is "." — but not the one in 3.5 or in "1." markers
_SENTENCE_END = re.compile(r"(?<=[。；！？;!?])|(?<=[^\d\s.]\.)(?=\D)|\n")
MIN_SENTENCE_CHARS = 6


def split_sentences(text: str) -> list[str]:
    """A passage's sentences (。；！？ or a line break ends one); fragments too short to mean anything
    on their own are dropped — the passage vector still covers them."""
    return [x for x in (part.strip() for part in _SENTENCE_END.split(text)) if len(x) >= MIN_SENTENCE_CHARS]


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)


class DenseBackend:
    """FAISS over L2-normalised passage vectors (inner product = cosine), optionally with a second FAISS
    index over the passages' sentences.

    With sentences, a passage scores the mean of its own cosine and its best sentence's: a long passage
    vector blurs the one sentence a question is about, a sentence alone loses its context (measured on
    the dev half: scripts/tune_fusion.py and README). Passages found by either index are candidates.

    The vectors themselves are kept too (memory-mapped when loaded): they give the exact cosine of a
    question to any passage or sentence — evidence for the answer layer — without asking FAISS.
    """

    def __init__(
        self,
        encoder: Encoder,
        index,
        kind: str,
        vectors: np.ndarray,
        sentence_index=None,
        sentence_vectors: np.ndarray | None = None,
        sentence_starts: np.ndarray | None = None,
        pending: np.ndarray | None = None,
    ) -> None:
        self.encoder = encoder
        self.index = index
        self.kind = kind
        self.vectors = vectors
        self.sentence_index = sentence_index
        self.sentence_vectors = sentence_vectors
        # passage i owns sentences sentence_starts[i]:sentence_starts[i+1] (len = passages + 1)
        self.sentence_starts = sentence_starts
        self.name = f"faiss-{kind}"
        # passages whose vectors are not computed yet (a staged add, index/store.py): True = no vector. Their
        # rows hold zeros and they own no sentences; every search excludes them (a mask inside FAISS), so
        # they are never scored — a cosine of 0 would rank them as "unrelated", which nobody measured.
        # None: every passage has its vector.
        self.pending = pending if pending is not None and pending.any() else None
        if sentence_starts is not None:
            self._owner = np.repeat(np.arange(len(vectors)), np.diff(sentence_starts))

    @property
    def has_sentences(self) -> bool:
        return self.sentence_index is not None

    @property
    def pending_count(self) -> int:
        return 0 if self.pending is None else int(self.pending.sum())

    def with_vectors(self, positions: np.ndarray) -> np.ndarray:
        """Those of ``positions`` that have a vector."""
        return positions if self.pending is None else positions[~self.pending[positions]]

    @staticmethod
    def _faiss(kind: str, vectors: np.ndarray):
        index = make_faiss_index(kind, vectors.shape[1], len(vectors))
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
        return index

    @classmethod
    def build(
        cls,
        texts: list[str],
        encoder: Encoder,
        kind: str = "flat",
        vectors: np.ndarray | None = None,
        *,
        sentences: bool = False,
        encode=None,
    ) -> "DenseBackend":
        """``encode`` (texts → vectors) defaults to the encoder's passage encoding; the index build passes
        one that reads and fills the vector cache."""
        encode = encode or encoder.encode_passages
        if vectors is None:
            vectors = encode(texts)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not sentences:
            return cls(encoder, cls._faiss(kind, vectors), kind, vectors)
        per_passage = [split_sentences(t) for t in texts]
        starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in per_passage], out=starts[1:])
        flat = [x for xs in per_passage for x in xs]
        svecs = np.ascontiguousarray(encode(flat) if flat else np.empty((0, vectors.shape[1])), dtype=np.float32)
        sindex = cls._faiss(kind, svecs) if len(svecs) else None
        return cls(encoder, cls._faiss(kind, vectors), kind, vectors, sindex, svecs, starts)

    @classmethod
    def build_available(cls, texts: list[str], encoder: Encoder, kind: str, lookup, *, sentences: bool = False) -> "DenseBackend":
        """A dense leg from vectors already computed, without running the model: ``lookup(texts)`` gives
        (vectors, found). A passage whose own vector or any of whose sentences' vectors is not found is
        pending (see ``pending``)."""
        vectors, ok = lookup(texts)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not sentences:
            vectors[~ok] = 0
            return cls(encoder, cls._faiss(kind, vectors), kind, vectors, pending=~ok)
        per_passage = [split_sentences(t) for t in texts]
        flat = [x for xs in per_passage for x in xs]
        svecs, sok = lookup(flat) if flat else (np.empty((0, vectors.shape[1])), np.empty(0, dtype=bool))
        owner = np.repeat(np.arange(len(texts)), [len(x) for x in per_passage])
        missing_sentence = np.zeros(len(texts), dtype=bool)
        missing_sentence[owner[~sok]] = True
        ok = ok & ~missing_sentence
        vectors[~ok] = 0
        keep = ok[owner]  # a pending passage's sentences are left out with it
        counts = np.array([len(x) if ok[i] else 0 for i, x in enumerate(per_passage)], dtype=np.int64)
        starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        svecs = np.ascontiguousarray(np.asarray(svecs, dtype=np.float32)[keep] if len(flat) else svecs, dtype=np.float32)
        sindex = cls._faiss(kind, svecs) if len(svecs) else None
        return cls(encoder, cls._faiss(kind, vectors), kind, vectors, sindex, svecs, starts, pending=~ok)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def encode_query(self, query: str) -> np.ndarray:
        return self.encoder.encode_query(query)

    @staticmethod
    def _faiss_search(index, qvec: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, int(index.ntotal) if mask is None else int(np.count_nonzero(mask)))
        if k <= 0:
            return _empty()
        x = np.ascontiguousarray(qvec, dtype=np.float32).reshape(1, -1)
        if mask is None:
            scores, idx = index.search(x, k)
        else:
            scores, idx = index.search(x, k, params=_search_params(index, mask))
        keep = idx[0] >= 0
        return idx[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def sentence_similarities(self, qvec: np.ndarray, positions: np.ndarray, passage_sims: np.ndarray | None = None) -> np.ndarray:
        """Cosine of the question to the best sentence of each passage (its own cosine if it has none).
        ``passage_sims``: those passages' own cosines, when the caller has them already."""
        out = (self.similarities(qvec, positions) if passage_sims is None else passage_sims).copy()
        if not self.has_sentences:
            return out
        for j, i in enumerate(positions):
            a, b = self.sentence_starts[i], self.sentence_starts[i + 1]
            if b > a:
                out[j] = float((self.sentence_vectors[a:b] @ qvec).max())
        return out

    def search_vector(self, qvec: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if self.pending is not None:
            mask = ~self.pending if mask is None else mask & ~self.pending
        idx, scores = self._faiss_search(self.index, qvec, k, mask)
        if not self.has_sentences or len(idx) == 0:
            return idx, scores
        sidx, _ = self._faiss_search(self.sentence_index, qvec, k, None if mask is None else mask[self._owner])
        candidates = np.unique(np.concatenate([idx, self._owner[sidx]]))
        own = self.similarities(qvec, candidates)
        combined = (own + self.sentence_similarities(qvec, candidates, own)) / 2
        order = np.argsort(-combined, kind="stable")[:k]
        return candidates[order].astype(np.int64), combined[order].astype(np.float32)

    def similarities(self, qvec: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Exact cosine of the question to the passages at ``positions``."""
        if len(positions) == 0:
            return np.empty(0, dtype=np.float32)
        return (self.vectors[positions] @ qvec).astype(np.float32)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if not query.strip():
            return _empty()
        return self.search_vector(self.encode_query(query), k, mask)

    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / "faiss.index"))
        np.save(folder / "vectors.npy", np.asarray(self.vectors, dtype=np.float32))
        meta = {"kind": self.kind, "size": len(self), "dimension": self.dimension, "sentences": 0, "pending": self.pending_count}
        if self.pending is not None:
            np.save(folder / "pending.npy", self.pending)
        if self.has_sentences:
            faiss.write_index(self.sentence_index, str(folder / "sentences.faiss"))
            np.save(folder / "sentence-vectors.npy", np.asarray(self.sentence_vectors, dtype=np.float32))
            np.save(folder / "sentence-starts.npy", np.asarray(self.sentence_starts, dtype=np.int64))
            meta["sentences"] = int(self.sentence_index.ntotal)
        (folder / "backend.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, encoder: Encoder) -> "DenseBackend":
        import faiss

        meta = json.loads((folder / "backend.json").read_text())
        if meta.get("engine") == "milvus":  # the leg lives in Milvus (index/milvus_store.py)
            from .milvus_store import MilvusDenseBackend

            return MilvusDenseBackend.load(folder, encoder)
        index = faiss.read_index(str(folder / "faiss.index"))
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        if vectors.shape != (index.ntotal, index.d):
            raise ValueError(f"{folder}: {vectors.shape} vectors for a FAISS index of {index.ntotal} × {index.d}")
        pending = None
        if meta.get("pending"):
            pending = np.load(folder / "pending.npy")
            if pending.shape != (index.ntotal,) or int(pending.sum()) != meta["pending"]:
                raise ValueError(f"{folder}: the pending-vector mask does not match its index")
        if not meta.get("sentences"):
            return cls(encoder, index, meta["kind"], vectors, pending=pending)
        sindex = faiss.read_index(str(folder / "sentences.faiss"))
        svecs = np.load(folder / "sentence-vectors.npy", mmap_mode="r")
        starts = np.load(folder / "sentence-starts.npy")
        if svecs.shape != (sindex.ntotal, index.d) or len(starts) != len(vectors) + 1 or starts[-1] != len(svecs):
            raise ValueError(f"{folder}: the sentence vectors do not match their index")
        return cls(encoder, index, meta["kind"], vectors, sindex, svecs, starts, pending)
