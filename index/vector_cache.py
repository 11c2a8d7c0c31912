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

    def encode(
        self,
        namespace: str,
        texts: Sequence[str],
        encode: Callable[[list[str]], np.ndarray],
        dim: int,
    ) -> tuple[np.ndarray, CacheStats]:
        """Vectors for ``texts``: cached ones read back, the rest encoded (once per distinct text) and stored."""
        keys = [text_key(t) for t in texts]
        out = np.empty((len(texts), dim), dtype=np.float32)
        found: dict[str, np.ndarray] = {}
        now = time.time()
        with self._lock, self._connect() as con:
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in con.execute(
                    f"SELECT key, vec FROM vectors WHERE namespace = ? AND key IN ({marks})", (namespace, *chunk)
                ):
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape == (dim,):  # a stored vector of another shape is ignored, then replaced
                        found[key] = vec
            missing = [k for k in unique if k not in found]
            if missing:
                first_text = {}
                for k, t in zip(keys, texts):
                    first_text.setdefault(k, t)
                fresh = encode([first_text[k] for k in missing])
                for k, vec in zip(missing, fresh):
                    found[k] = np.asarray(vec, dtype=np.float32)
                con.executemany(
                    "INSERT OR REPLACE INTO vectors (namespace, key, vec, used) VALUES (?, ?, ?, ?)",
                    [(namespace, k, found[k].tobytes(), now) for k in missing],
                )
            con.executemany(
                "UPDATE vectors SET used = ? WHERE namespace = ? AND key = ?",
                [(now, namespace, k) for k in unique if k not in missing],
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
