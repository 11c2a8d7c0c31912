"""Sentence-transformers embeddings: one table of model conventions, lazy loading, thread-safe encoding."""

from __future__ import annotations

import fnmatch
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Convention:
    query_prefix: str = ""
    passage_prefix: str = ""
    note: str = ""


# Each model family's own query/passage convention, in one place. Matched against the model name, or
# for a local path against its folder name. First match wins.
MODEL_CONVENTIONS: tuple[tuple[str, Convention], ...] = (
    ("*multilingual-e5*instruct*", Convention("Instruct: Given a question, retrieve policy clauses that answer it\nQuery: ", "", "e5 instruct")),
    ("*e5*", Convention("query: ", "passage: ", "e5: query:/passage: prefixes")),
    ("*bge-m3*", Convention("", "", "bge-m3: no prefixes")),
    ("*bge*zh*", Convention("为这个句子生成表示以用于检索相关文章：", "", "bge-zh: query instruction")),
    ("*gte*", Convention("", "", "gte: no prefixes")),
    ("*paraphrase-multilingual*", Convention("", "", "symmetric model")),
    ("*", Convention("", "", "no known convention: plain text")),
)


def convention_for(model: str) -> Convention:
    name = model.rstrip("/").lower()
    candidates = {name, Path(name).name}
    for pattern, conv in MODEL_CONVENTIONS:
        if any(fnmatch.fnmatch(c, pattern) for c in candidates):
            return conv
    return Convention()


class EmbedderUnavailable(RuntimeError):
    """The configured model could not be loaded (not downloaded, no hub access, broken files)."""


class Embedder:
    """Loads the model on first use, once; encodes normalised float32 vectors.

    ``model`` is a hub name or a local folder. The service must start without network access, so a
    failed load raises EmbedderUnavailable with the reason instead of retrying.
    """

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32, allow_download: bool = False) -> None:
        self.model_name = model
        # Off by default: start-up must never wait on a hub. A hub name then loads only from the local cache.
        self.allow_download = allow_download
        self.convention = convention_for(model)
        self.device = device
        self.batch_size = batch_size
        self._model = None
        self._error: str | None = None
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            if self._error is not None:
                raise EmbedderUnavailable(self._error)
            try:
                from sentence_transformers import SentenceTransformer

                local_only = not self.allow_download and not Path(self.model_name).exists()
                self._model = SentenceTransformer(self.model_name, device=self.device, local_files_only=local_only)
            except Exception as exc:  # any failure to load means: no dense leg
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

    def _encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        self.warm_up()
        # torch modules are not guaranteed re-entrant across threads; one encode at a time
        with self._encode_lock:
            vecs = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_queries(self, queries: list[str]) -> np.ndarray:
        return self._encode([self.convention.query_prefix + q for q in queries])

    def encode_passages(self, passages: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode([self.convention.passage_prefix + p for p in passages], show_progress)
