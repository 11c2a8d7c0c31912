"""Passage vectors cached across index builds, so a reindex embeds only what changed.

One SQLite file beside the index versions. A vector is keyed by the encoder's backend, model and
dimension (the namespace) and the SHA-256 of the exact text embedded: a changed passage gets a new key,
an unchanged one is read back instead of re-encoded, whichever document or position it sits in.
SQLite gives atomic writes and safe concurrent readers for free; entries no build has used for
``max_age_days`` are pruned so the file does not grow for ever.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    vec BLOB NOT NULL,
    used REAL NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID
"""


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    reused: int
    embedded: int


class Cancelled(RuntimeError):
    """A cancellable encoding was told to stop; what it had encoded is stored."""


class VectorCache:
    def __init__(self, path: Path, *, max_age_days: float = 30.0) -> None:
        self.path = path
        self.max_age_days = max_age_days
        self._lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per call, committed on success and always closed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(_SCHEMA)
            with con:
                yield con
        finally:
            con.close()

    def lookup(self, namespace: str, texts: Sequence[str], dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Cached vectors of ``texts`` without encoding anything: (vectors, found), rows not found are zero.
        What an index build reads when it must not wait for the model (a staged add, index/store.py)."""
        keys = [text_key(t) for t in texts]
        found = self._read(namespace, list(dict.fromkeys(keys)), dim)
        out = np.zeros((len(texts), dim), dtype=np.float32)
        ok = np.zeros(len(texts), dtype=bool)
        for i, k in enumerate(keys):
            if k in found:
                out[i], ok[i] = found[k], True
        return out, ok

    def _read(self, namespace: str, unique: list[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._connect() as con:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in con.execute(
                    f"SELECT key, vec FROM vectors WHERE namespace = ? AND key IN ({marks})", (namespace, *chunk)
                ):
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape == (dim,):  # a stored vector of another shape is ignored, then replaced
                        found[key] = vec
        return found

    def encode(
        self,
        namespace: str,
        texts: Sequence[str],
        encode: Callable[[list[str]], np.ndarray],
        dim: int,
        *,
        chunk: int = 64,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[np.ndarray, CacheStats]:
        """Vectors for ``texts``: cached ones read back, the rest encoded (once per distinct text) and stored.
        New vectors are encoded and committed ``chunk`` texts at a time, so work is kept even when
        ``cancelled()`` turns true between chunks (then ``Cancelled`` is raised): a superseded background
        embedding leaves what it finished for the build that supersedes it. No transaction stays open
        while the model runs."""
        keys = [text_key(t) for t in texts]
        out = np.empty((len(texts), dim), dtype=np.float32)
        now = time.time()
        unique = list(dict.fromkeys(keys))
        with self._lock:
            found = self._read(namespace, unique, dim)
        missing = [k for k in unique if k not in found]
        first_text: dict[str, str] = {}
        for k, t in zip(keys, texts):
            first_text.setdefault(k, t)
        for start in range(0, len(missing), max(chunk, 1)):
            if cancelled is not None and cancelled():
                raise Cancelled(f"stopped after {start} of {len(missing)} new texts")
            part = missing[start : start + max(chunk, 1)]
            fresh = encode([first_text[k] for k in part])
            for k, vec in zip(part, fresh):
                found[k] = np.asarray(vec, dtype=np.float32)
            with self._lock, self._connect() as con:
                con.executemany(
                    "INSERT OR REPLACE INTO vectors (namespace, key, vec, used) VALUES (?, ?, ?, ?)",
                    [(namespace, k, found[k].tobytes(), now) for k in part],
                )
        with self._lock, self._connect() as con:
            done = set(missing)
            con.executemany(
                "UPDATE vectors SET used = ? WHERE namespace = ? AND key = ?",
                [(now, namespace, k) for k in unique if k not in done],
            )
            con.execute("DELETE FROM vectors WHERE used < ?", (now - self.max_age_days * 86400,))
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out, CacheStats(reused=len(unique) - len(missing), embedded=len(missing))

    def count(self, namespace: str | None = None) -> int:
        with self._lock, self._connect() as con:
            if namespace is None:
                return int(con.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
            return int(con.execute("SELECT COUNT(*) FROM vectors WHERE namespace = ?", (namespace,)).fetchone()[0])
