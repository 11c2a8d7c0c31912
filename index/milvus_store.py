"""The index legs held in Milvus (pymilvus): Milvus Lite (a local file) for tests and one node, Milvus
standalone or a cluster (an ``http://`` URI) in production, with the same code.

Each leg is one collection, named after the build (``policyqa_<stamp>_<random>_<leg>``); every row is one
passage (or sentence) at its position in the index, with the passage's ``doc_id`` and ``agencies`` as
scalar fields, so document and agency filters are Milvus boolean expressions evaluated inside the engine.

- **Keyword legs** are sparse vectors that we compute: the per-(passage, token) BM25 weights bm25s builds
  (IDF included) become the passage's sparse vector, a question becomes ``{token id: count}``, and Milvus's
  inner product then equals bm25s's score exactly. Milvus's own full-text search (a BM25 function over an
  analysed text field) was not used: Lite offers only its ``standard`` and ``jieba`` analyzers, so the
  bigram leg could not be expressed, and its jieba has neither our corpus dictionary nor our stop words —
  results would differ from the embedded backend and between Lite and a server (README, "Milvus").
- **The dense leg** keeps passage vectors and, when built with them, sentence vectors; it is a
  ``DenseBackend`` whose FAISS indexes and vector arrays are views of Milvus collections, so the
  passage/sentence combination and the fusion in ``qa/search.py`` are the embedded backend's own code.

The index version folder keeps what is small and read locally: the manifest, the token vocabulary of
each keyword leg (question tokens → ids) and the sentence offsets; ``backend.json`` names the URI and
collection. Filters: ``search(query, k, where=PassageFilter(...))``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .backends import DenseBackend, KeywordBackend, _empty
from .embedding import Encoder
from .tokenize import Tokenizer, question_tokens

ENGINE = "milvus"
DEFAULT_PREFIX = "policyqa"
MAX_TOP_K = 16384  # Milvus refuses a larger limit
_INSERT_BATCH = 2000
_MAX_AGENCIES = 256  # per passage (the ARRAY field's capacity); more is refused with the passage named
_MAX_CHARS = 512  # doc_id and agency names (VARCHAR length)


class MilvusUnavailable(RuntimeError):
    """Milvus cannot be reached (or Milvus Lite cannot start); the message says where and why."""


# --- connections ---------------------------------------------------------------------------------

_clients: dict[str, object] = {}
_tokens: dict[str, str] = {}
_clients_lock = threading.Lock()


def normalise_uri(uri: str | Path) -> str:
    """A server URI as given; a Milvus Lite file as an absolute path, so the index names one file
    whatever the working directory of the process that loads it."""
    text = str(uri)
    if "://" in text:
        return text
    return str(Path(text).expanduser().resolve())


def configure(uri: str | Path, token: str | None = None) -> str:
    """Register the credentials for ``uri`` (a server with authentication); returns the normalised URI.
    Called by the engine from the settings, so library code loading an index needs only the URI."""
    uri = normalise_uri(uri)
    with _clients_lock:
        if token:
            _tokens[uri] = token
    return uri


def connect(uri: str | Path):
    """One client per URI and process (Milvus Lite holds a lock on its file: one process per file)."""
    uri = normalise_uri(uri)
    with _clients_lock:
        client = _clients.get(uri)
        if client is not None:
            return client
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise MilvusUnavailable(f"pymilvus is not installed ({exc}); pip install 'pymilvus' 'milvus-lite'") from None
        if "://" not in uri:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            client = MilvusClient(uri=uri, token=_tokens.get(uri, ""))
        except Exception as exc:
            raise MilvusUnavailable(f"cannot open Milvus at {uri}: {type(exc).__name__}: {exc}") from exc
        _clients[uri] = client
        return client


def disconnect(uri: str | Path) -> None:
    """Close the client for ``uri`` (Milvus Lite then releases its file)."""
    uri = normalise_uri(uri)
    with _clients_lock:
        client = _clients.pop(uri, None)
    if client is not None:
        client.close()
    if "://" not in uri:  # stop the Lite server thread now (not at exit), which releases the file's lock
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


def new_collection_base(prefix: str = DEFAULT_PREFIX) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}_{stamp}_{time.time_ns() % 10**9:09d}"


# --- filters -------------------------------------------------------------------------------------


def _literal(value: str) -> str:
    """A Milvus string literal: quotes and backslashes escaped, so a filter value can never change the
    expression it is put in."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


@dataclass(frozen=True)
class PassageFilter:
    """Passages of any of ``doc_ids`` (empty: all) listing any of ``agencies`` (empty: all)."""

    doc_ids: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.agencies)

    def expression(self) -> str:
        parts = []
        if self.doc_ids:
            parts.append(f"doc_id in [{', '.join(_literal(d) for d in sorted(set(self.doc_ids)))}]")
        if self.agencies:
            parts.append(f"array_contains_any(agencies, [{', '.join(_literal(a) for a in sorted(set(self.agencies)))}])")
        return " and ".join(parts)


# --- collections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassageMeta:
    """The scalar fields every row carries, by passage position."""

    doc_ids: Sequence[str]
    agencies: Sequence[Sequence[str]]

    @classmethod
    def of(cls, passages: Iterable) -> "PassageMeta":
        doc_ids, agencies = [], []
        for p in passages:
            doc_ids.append(p.doc_id)
            agencies.append(tuple(p.agencies))
        return cls(doc_ids, agencies)

    def check(self) -> None:
        for i, (d, ags) in enumerate(zip(self.doc_ids, self.agencies)):
            if len(d) > _MAX_CHARS or len(ags) > _MAX_AGENCIES or any(len(a) > _MAX_CHARS for a in ags):
                raise ValueError(
                    f"passage {i} of {d[:80]!r}: a document id or agency name over {_MAX_CHARS} characters, "
                    f"or over {_MAX_AGENCIES} agencies, cannot be stored in Milvus"
                )


def _create(client, name: str, vector_field, index: tuple[str, str, dict], *, server: bool) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=_MAX_CHARS)
    schema.add_field(
        "agencies", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=_MAX_AGENCIES, max_length=_MAX_CHARS
    )
    vector_field(schema)
    params = client.prepare_index_params()
    kind, metric, extra = index
    params.add_index("vector", index_type=kind, metric_type=metric, params=extra)
    params.add_index("doc_id", index_type="INVERTED")
    if server:  # a server indexes ARRAY fields; Milvus Lite refuses, and scans the agencies instead
        params.add_index("agencies", index_type="INVERTED")
    if client.has_collection(name):
        client.drop_collection(name)
    client.create_collection(name, schema=schema, index_params=params)


def _insert(client, name: str, rows: Iterable[dict], progress: Callable[[str], None] | None = None, total: int = 0) -> None:
    batch: list[dict] = []
    done = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= _INSERT_BATCH:
            client.insert(name, batch)
            done += len(batch)
            batch = []
            if progress and total:
                progress(f"Milvus {name}: {done}/{total} rows")
    if batch:
        client.insert(name, batch)
    client.flush(name)
    client.load_collection(name)


def _hits(result) -> tuple[np.ndarray, np.ndarray]:
    """Milvus hits → (positions, scores), best first, ties by position (as the embedded backend orders them)."""
    rows = result[0] if result else []
    if not rows:
        return _empty()
    idx = np.fromiter((h["id"] for h in rows), dtype=np.int64, count=len(rows))
    scores = np.fromiter((h["distance"] for h in rows), dtype=np.float32, count=len(rows))
    order = np.lexsort((idx, -scores))
    return idx[order], scores[order]


def _filter_arg(where: PassageFilter | None) -> str:
    return where.expression() if where else ""


# --- the keyword legs ----------------------------------------------------------------------------


def _bm25_rows(bm25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """bm25s keeps its precomputed BM25 weights by token (CSC: per token, the passages and weights);
    regrouped by passage: (row starts, token ids, weights)."""
    s = bm25.scores
    indptr = np.asarray(s["indptr"], dtype=np.int64)
    passages = np.asarray(s["indices"], dtype=np.int64)
    weights = np.asarray(s["data"], dtype=np.float32)
    tokens = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    order = np.argsort(passages, kind="stable")
    starts = np.zeros(int(s["num_docs"]) + 1, dtype=np.int64)
    np.cumsum(np.bincount(passages, minlength=int(s["num_docs"])), out=starts[1:])
    return starts, tokens[order], weights[order]


class MilvusKeywordBackend:
    """BM25 over one tokenizer's tokens, as sparse vectors in a Milvus collection (scores equal bm25s's)."""

    filters_in_index = True

    def __init__(self, tokenizer: Tokenizer, uri: str, collection: str, vocab: dict[str, int], size: int) -> None:
        self.tokenizer = tokenizer
        self.name = f"bm25-{tokenizer.name}"
        self.uri = uri
        self.collection = collection
        self.vocab = vocab
        self._size = size
        self._client = connect(uri)

    @classmethod
    def from_keyword(
        cls, backend: KeywordBackend, meta: PassageMeta, uri: str, collection: str, progress=None
    ) -> "MilvusKeywordBackend":
        """The passages' BM25 weights of an embedded keyword leg, written into Milvus."""
        from pymilvus import DataType

        meta.check()
        uri = normalise_uri(uri)
        client = connect(uri)
        starts, tokens, weights = _bm25_rows(backend._bm25)
        if len(starts) - 1 != len(backend):
            raise ValueError(f"{backend.name}: {len(starts) - 1} weighted passages for an index of {len(backend)}")
        _create(
            client, collection,
            lambda schema: schema.add_field("vector", DataType.SPARSE_FLOAT_VECTOR),
            ("SPARSE_INVERTED_INDEX", "IP", {}), server="://" in uri,
        )

        def rows():
            for i in range(len(backend)):
                a, b = starts[i], starts[i + 1]
                yield {
                    "id": i,
                    "doc_id": meta.doc_ids[i],
                    "agencies": list(meta.agencies[i]),
                    # a passage without any token (none is indexed today) still needs a non-empty vector
                    "vector": dict(zip(tokens[a:b].tolist(), weights[a:b].tolist())) or {0: 0.0},
                }

        _insert(client, collection, rows(), progress, len(backend))
        return cls(backend.tokenizer, uri, collection, dict(backend._bm25.vocab_dict), len(backend))

    @classmethod
    def build(
        cls, texts: list[str], tokenizer: Tokenizer, meta: PassageMeta, uri: str, collection: str, *, k1=1.2, b=0.75
    ) -> "MilvusKeywordBackend":
        return cls.from_keyword(KeywordBackend.build(texts, tokenizer, k1=k1, b=b), meta, uri, collection)

    def __len__(self) -> int:
        return self._size

    def query_tokens(self, query: str) -> list[str]:
        return question_tokens(self.tokenizer, query)

    def query_vector(self, query: str) -> dict[int, float]:
        """Each known token counts as often as it occurs (bm25s sums a repeated query token again)."""
        counts = Counter(self.vocab[t] for t in self.query_tokens(query) if t in self.vocab)
        return {int(t): float(c) for t, c in counts.items()}

    def search(self, query: str, k: int, where: PassageFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        vec = self.query_vector(query)
        k = min(k, self._size, MAX_TOP_K)
        if not vec or k <= 0:
            return _empty()
        result = self._client.search(
            self.collection, data=[vec], anns_field="vector", limit=k, filter=_filter_arg(where),
            output_fields=["doc_id"], search_params={"metric_type": "IP"},
        )
        idx, scores = _hits(result)
        keep = scores > 0
        return idx[keep], scores[keep]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        meta = {"engine": ENGINE, "uri": self.uri, "collection": self.collection, "size": self._size,
                "tokenizer": self.tokenizer.name}
        (folder / "backend.json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer) -> "MilvusKeywordBackend":
        meta = json.loads((folder / "backend.json").read_text())
        if meta["tokenizer"] != tokenizer.name:
            raise ValueError(f"{folder} was built with tokenizer {meta['tokenizer']!r}, not {tokenizer.name!r}")
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        backend = cls(tokenizer, meta["uri"], meta["collection"], vocab, meta["size"])
        backend._check_rows()
        return backend

    def _check_rows(self) -> None:
        _check_rows(self._client, self.collection, self._size)


def _check_rows(client, collection: str, size: int) -> None:
    """A collection dropped or changed behind the index's back: the index must be rebuilt."""
    from .store import IndexMismatch

    if not client.has_collection(collection):
        raise IndexMismatch(f"Milvus collection {collection!r} of this index is missing; run `qa index` to rebuild it")
    client.load_collection(collection)
    rows = int(client.get_collection_stats(collection)["row_count"])
    if rows != size:
        raise IndexMismatch(
            f"Milvus collection {collection!r} holds {rows} rows, the index {size}; run `qa index` to rebuild it"
        )


# --- the dense leg -------------------------------------------------------------------------------


def _dense_index(kind: str, n: int) -> tuple[tuple[str, str, dict], dict]:
    """(index type, metric, build params) and search params, as the FAISS kinds of the embedded backend."""
    if kind == "flat":
        return ("FLAT", "IP", {}), {}
    if kind == "hnsw":
        return ("HNSW", "IP", {"M": 32, "efConstruction": 80}), {"ef": 64}
    if kind == "ivf":
        nlist = max(1, min(4096, int(4 * np.sqrt(max(n, 1)))))
        return ("IVF_FLAT", "IP", {"nlist": nlist}), {"nprobe": max(1, min(nlist, 16))}
    raise ValueError(f"unknown dense index kind {kind!r}; choose one of flat, hnsw, ivf")


class _Collection:
    """A collection seen as a FAISS index (``ntotal``, ``d``, ``search``) and as an array of its vectors
    by position (``len``, ``shape``, ``[positions]``), fetched on demand and kept in a bounded LRU."""

    def __init__(self, client, name: str, n: int, dim: int, search_params: dict, cache_rows: int = 16384) -> None:
        self.client = client
        self.name = name
        self.ntotal = n
        self.d = dim
        self.shape = (n, dim)
        self.search_params = search_params
        self.where: PassageFilter | None = None  # set on a per-search view (see MilvusDenseBackend)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_rows = cache_rows
        self._lock = threading.Lock()

    def view(self, where: PassageFilter | None) -> "_Collection":
        """The same collection searched with a filter; shares the vector cache."""
        if not where:
            return self
        other = object.__new__(_Collection)
        other.__dict__.update(self.__dict__)
        other.where = where
        return other

    def __len__(self) -> int:
        return self.ntotal

    def search(self, q: np.ndarray, k: int):
        k = min(k, MAX_TOP_K)
        ef = {"ef": max(self.search_params["ef"], k)} if "ef" in self.search_params else {}
        result = self.client.search(
            self.name, data=[np.asarray(q, dtype=np.float32).reshape(-1).tolist()], anns_field="vector", limit=k,
            filter=_filter_arg(self.where), output_fields=["doc_id"],
            search_params={"metric_type": "IP", "params": {**self.search_params, **ef}},
        )
        idx, scores = _hits(result)
        out_i = np.full((1, k), -1, dtype=np.int64)
        out_s = np.zeros((1, k), dtype=np.float32)
        out_i[0, : len(idx)] = idx
        out_s[0, : len(idx)] = scores
        return out_s, out_i

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, slice):
            positions = np.arange(*key.indices(self.ntotal))
        else:
            positions = np.asarray(key, dtype=np.int64).reshape(-1)
        with self._lock:
            missing = [int(i) for i in dict.fromkeys(positions.tolist()) if i not in self._cache]
        if missing:
            got = self.client.get(self.name, ids=missing, output_fields=["vector"])
            fetched = {int(r["id"]): np.asarray(r["vector"], dtype=np.float32) for r in got}
            if len(fetched) != len(missing):
                raise ValueError(f"Milvus collection {self.name!r} lacks rows {sorted(set(missing) - set(fetched))[:5]}")
            with self._lock:
                self._cache.update(fetched)
                while len(self._cache) > self._cache_rows:
                    self._cache.popitem(last=False)
        else:
            fetched = {}
        with self._lock:
            rows = [fetched.get(i) if i in fetched else self._cache.get(i) for i in positions.tolist()]
        # a row evicted between the two locks by a concurrent search is fetched again
        for j, i in enumerate(positions.tolist()):
            if rows[j] is None:
                rows[j] = np.asarray(self.client.get(self.name, ids=[i], output_fields=["vector"])[0]["vector"], dtype=np.float32)
        if not rows:
            return np.empty((0, self.d), dtype=np.float32)
        return np.stack(rows)


class MilvusDenseBackend(DenseBackend):
    """The embedded dense backend's logic over Milvus collections (passages, and sentences if built)."""

    filters_in_index = True

    def __init__(self, encoder: Encoder, uri: str, base: str, kind: str, size: int, dim: int,
                 sentence_starts: np.ndarray | None = None) -> None:
        self.uri = uri
        self.base = base
        client = connect(uri)
        _, search_params = _dense_index(kind, size)
        passages = _Collection(client, f"{base}_dense", size, dim, search_params)
        sentences = None
        if sentence_starts is not None:
            n_sent = int(sentence_starts[-1])
            sentences = _Collection(client, f"{base}_sentences", n_sent, dim, _dense_index(kind, n_sent)[1])
        super().__init__(encoder, passages, kind, passages, sentences, sentences, sentence_starts)
        self.name = f"milvus-{kind}"

    @classmethod
    def from_dense(cls, dense: DenseBackend, meta: PassageMeta, uri: str, base: str, progress=None) -> "MilvusDenseBackend":
        """The vectors of an embedded dense leg (no re-embedding), written into Milvus."""
        from pymilvus import DataType

        meta.check()
        uri = normalise_uri(uri)
        client = connect(uri)
        vectors = np.asarray(dense.vectors, dtype=np.float32)
        n, dim = vectors.shape
        index, _ = _dense_index(dense.kind, n)
        _create(client, f"{base}_dense", lambda s: s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim), index, server="://" in uri)
        _insert(
            client, f"{base}_dense",
            ({"id": i, "doc_id": meta.doc_ids[i], "agencies": list(meta.agencies[i]), "vector": vectors[i].tolist()}
             for i in range(n)),
            progress, n,
        )
        starts = None
        if dense.has_sentences:
            starts = np.asarray(dense.sentence_starts, dtype=np.int64)
            svecs = np.asarray(dense.sentence_vectors, dtype=np.float32)
            owner = np.repeat(np.arange(n), np.diff(starts))
            sindex, _ = _dense_index(dense.kind, len(svecs))
            _create(
                client, f"{base}_sentences", lambda s: s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim), sindex,
                server="://" in uri,
            )
            _insert(
                client, f"{base}_sentences",
                ({"id": j, "doc_id": meta.doc_ids[owner[j]], "agencies": list(meta.agencies[owner[j]]),
                  "vector": svecs[j].tolist()} for j in range(len(svecs))),
                progress, len(svecs),
            )
        return cls(dense.encoder, uri, base, dense.kind, n, dim, starts)

    def search_vector(self, qvec: np.ndarray, k: int, where: PassageFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        if not where:
            return super().search_vector(qvec, k)
        # the same search over filtered views of the two collections
        view = object.__new__(MilvusDenseBackend)
        view.__dict__.update(self.__dict__)
        view.index = self.index.view(where)
        view.sentence_index = self.sentence_index.view(where) if self.sentence_index is not None else None
        return DenseBackend.search_vector(view, qvec, k)

    def search(self, query: str, k: int, where: PassageFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        if not query.strip():
            return _empty()
        return self.search_vector(self.encode_query(query), k, where)

    def sentence_similarities(self, qvec: np.ndarray, positions: np.ndarray, passage_sims: np.ndarray | None = None) -> np.ndarray:
        """As the embedded backend's, with all the passages' sentence vectors fetched in one request."""
        out = (self.similarities(qvec, positions) if passage_sims is None else passage_sims).copy()
        if not self.has_sentences or len(positions) == 0:
            return out
        starts = self.sentence_starts
        ranges = [np.arange(starts[i], starts[i + 1]) for i in positions]
        wanted = np.concatenate(ranges) if ranges else np.empty(0, dtype=np.int64)
        if len(wanted) == 0:
            return out
        sims = self.sentence_vectors[wanted] @ qvec
        at = 0
        for j, r in enumerate(ranges):
            if len(r):
                out[j] = float(sims[at : at + len(r)].max())
            at += len(r)
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"engine": ENGINE, "uri": self.uri, "collection": self.base, "kind": self.kind, "size": len(self),
                "dimension": self.dimension, "sentences": 0}
        if self.has_sentences:
            np.save(folder / "sentence-starts.npy", np.asarray(self.sentence_starts, dtype=np.int64))
            meta["sentences"] = int(self.sentence_index.ntotal)
        (folder / "backend.json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path, encoder: Encoder) -> "MilvusDenseBackend":
        meta = json.loads((folder / "backend.json").read_text())
        starts = np.load(folder / "sentence-starts.npy") if meta.get("sentences") else None
        if starts is not None and (len(starts) != meta["size"] + 1 or starts[-1] != meta["sentences"]):
            raise ValueError(f"{folder}: the sentence offsets do not match the index")
        backend = cls(encoder, meta["uri"], meta["collection"], meta["kind"], meta["size"], meta["dimension"], starts)
        _check_rows(backend.index.client, backend.index.name, meta["size"])
        if starts is not None:
            _check_rows(backend.index.client, backend.sentence_index.name, meta["sentences"])
        return backend


# --- whole indexes -------------------------------------------------------------------------------


def to_milvus(bundle, uri: str | Path, *, prefix: str = DEFAULT_PREFIX, progress: Callable[[str], None] | None = None):
    """The same index (same passages, BM25 weights and vectors: nothing is re-embedded) with its legs in
    Milvus; ``save_index`` then writes the small local part as a new version."""
    say = progress or (lambda _msg: None)
    uri = normalise_uri(uri)
    base = new_collection_base(prefix)
    meta = PassageMeta.of(bundle.passages)
    keyword = {}
    for t, backend in bundle.keyword.items():
        if isinstance(backend, MilvusKeywordBackend):
            raise ValueError("the index is in Milvus already")
        say(f"Milvus: keyword leg {t}")
        keyword[t] = MilvusKeywordBackend.from_keyword(backend, meta, uri, f"{base}_bm25_{t}", say)
    dense = None
    if bundle.dense is not None:
        say("Milvus: dense vectors")
        dense = MilvusDenseBackend.from_dense(bundle.dense, meta, uri, base, say)
    manifest = {**bundle.manifest, "engine": {"kind": ENGINE, "uri": uri, "collections": base}}
    if manifest.get("dense"):
        manifest["dense"] = {**manifest["dense"], "engine": ENGINE}
    # everything else of the bundle (clause tokens, derived facts) is kept as it is, locally
    return dataclasses.replace(bundle, keyword=keyword, dense=dense, manifest=manifest, path=None, fallback=None)


def engine_of(manifest: dict) -> tuple[str, str | None]:
    """(``embedded`` | ``milvus``, the Milvus URI) an index was built into."""
    engine = manifest.get("engine") or {}
    return engine.get("kind", "embedded"), engine.get("uri")


def referenced_collections(root: Path) -> set[str]:
    """Collection name prefixes used by the index versions on disk under ``root``."""
    used = set()
    for manifest in root.glob("v*/manifest.json"):
        try:
            engine = json.loads(manifest.read_text(encoding="utf-8")).get("engine") or {}
        except (OSError, ValueError):
            continue
        if engine.get("collections"):
            used.add(engine["collections"])
    return used


def drop_unused_collections(uri: str | Path, root: Path, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Drop this deployment's collections (``prefix``) that no version on disk uses any more (pruned
    versions, crashed builds); returns their names."""
    client = connect(uri)
    used = referenced_collections(root)
    dropped = []
    for name in client.list_collections():
        if not name.startswith(f"{prefix}_"):
            continue
        if any(name.startswith(f"{base}_") for base in used):
            continue
        client.drop_collection(name)
        dropped.append(name)
    return dropped


def migrate(root: Path, corpus, *, embedder: Encoder | None, uri: str | Path, prefix: str = DEFAULT_PREFIX,
            progress: Callable[[str], None] | None = None) -> Path:
    """Copy the current embedded index under ``root`` into Milvus as a new version (``current`` then points
    at it): its BM25 weights and vectors are copied, nothing is tokenised or embedded again. The embedded
    version stays on disk until pruned, so switching back is ``QA_INDEX_BACKEND=embedded`` and a rebuild."""
    from .store import load_index, read_manifest, save_index

    manifest = read_manifest(root)
    if engine_of(manifest)[0] == ENGINE:
        raise ValueError(f"the index at {root} is in Milvus already ({engine_of(manifest)[1]})")
    if manifest.get("dense") and embedder is None:
        raise ValueError("the index has dense vectors: configure the model it was built with to migrate them")
    bundle = load_index(root, corpus, embedder=embedder, require_dense=bool(manifest.get("dense")))
    uri = normalise_uri(uri)
    path = save_index(to_milvus(bundle, uri, prefix=prefix, progress=progress), root)
    drop_unused_collections(uri, root, prefix)
    return path
