"""The service behind the routes: one method per endpoint, typed errors, no HTTP here."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from policyqa.corpus import Clause, Corpus
from policyqa.qa.engine import Engine, Loaded
from policyqa.qa.present import answer_to_dict, citation_to_dict, status_to_dict, translation_to_dict
from policyqa.qa.search import SearchFilters
from policyqa.qa.status import document_status

from .errors import (
    AdminDisabled,
    Conflict,
    IndexNotReady,
    NotFound,
    ReindexFailed,
    UnknownAgency,
    UnknownAgencyFilter,
    UnknownClause,
    UnreadableDocument,
)
from .schemas import AskRequest, SearchRequest

log = logging.getLogger(__name__)


class QAService:
    def __init__(self, engine: Engine, *, watch_seconds: float = 1.0) -> None:
        self.engine = engine
        self._reindex_lock = threading.Lock()
        self._registry = None
        self.watch_seconds = watch_seconds  # how often to look for a version built by another worker; 0: never
        self._stop_watch = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def directory(self):
        """The engine's agency directory: curated entries plus every unit the loaded documents print."""
        return self.engine.directory

    # --- lifecycle ---------------------------------------------------------------------------

    def warm_up(self) -> None:
        self.engine.warm_up(build_if_missing=True, rebuild_on_mismatch=True)
        # a version saved by a staged add whose vectors were never completed (the service stopped): finish it
        self.engine.schedule_vectors()

    def start_watch(self) -> None:
        """Poll the index folder's ``current`` link (one readlink a tick) and switch to a version another
        worker built — a reindex or an added document there is served here within a tick plus the load."""
        if self.watch_seconds <= 0 or self._watcher is not None:
            return
        self._stop_watch.clear()

        def run() -> None:
            while not self._stop_watch.wait(self.watch_seconds):
                if self._reindex_lock.locked():
                    continue  # this worker is building: it swaps its own version in
                try:
                    self.engine.refresh()
                except Exception:  # keep watching; the old version keeps serving
                    log.exception("index version watch failed")

        self._watcher = threading.Thread(target=run, name="index-watch", daemon=True)
        self._watcher.start()

    def stop_watch(self) -> None:
        self._stop_watch.set()
        if self._watcher is not None:
            self._watcher.join(timeout=30)
            self._watcher = None

    def _loaded(self) -> Loaded:
        loaded = self.engine.loaded
        if loaded is None:
            raise IndexNotReady("the index is still loading; try again shortly", headers={"Retry-After": "5"})
        return loaded

    def ready(self) -> dict:
        """200 while serving. ``status`` is ``degraded`` when an earlier index version serves because the
        current one is damaged (or it was rebuilt for that reason: ``index_fallback``), or when documents
        could not be loaded (``documents_failed``, each by file and reason)."""
        loaded = self._loaded()
        result = loaded.searcher.search("服务业", top_k=1)
        if not result.hits:
            raise IndexNotReady("the index answers no query")
        failed = loaded.document_errors
        fallback = loaded.fallback.to_dict() if loaded.fallback else None
        return {
            "status": "degraded" if failed or fallback else "ready",
            "mode": result.mode,
            "index": str(loaded.index_path),
            "version": loaded.version,
            "passages": len(loaded.searcher.bundle.passages),
            "documents": len(loaded.corpus.documents),
            "index_fallback": fallback,
            "documents_failed": failed,
            # passages of documents just added, searchable by keywords, whose dense vectors are being computed
            "passages_awaiting_vectors": loaded.vectors_pending,
            "vectors_error": self.engine.vectors_error if loaded.vectors_pending else None,
        }

    # --- helpers -----------------------------------------------------------------------------

    @staticmethod
    def hit(loaded: Loaded, clause: Clause, *, day: dt.date, score: float | None = None, query: str | None = None) -> dict:
        return citation_to_dict(loaded.answerer.cite(clause, query, day, score), loaded.corpus)

    def _agency_names(self, names: list[str] | None) -> tuple[str, ...]:
        """Any name a user knows (printed, full, English) → every printed variant of that agency. A name the
        directory does not know (it holds every unit the documents print) is a bad filter, not an empty result."""
        out: list[str] = []
        for i, n in enumerate(names or []):
            a = self.directory.resolve(n)
            if a is None:
                raise UnknownAgencyFilter(
                    f"no agency called {n!r} in these documents (use the printed, full or English name; "
                    "GET /v1/agencies lists them)",
                    field=f"filters.agencies.{i}",
                )
            out.extend(a.names)
        return tuple(dict.fromkeys(out))

    # --- endpoints ---------------------------------------------------------------------------

    def search(self, req: SearchRequest) -> dict:
        loaded = self._loaded()
        f = req.filters
        filters = SearchFilters(
            doc_ids=tuple(f.doc_ids or ()) if f else (),
            agencies=self._agency_names(f.agencies) if f else (),
            in_force_on=f.in_force_on if f else None,
        )
        result = loaded.searcher.search(req.query, top_k=req.top_k, filters=filters)
        day = filters.in_force_on or dt.date.today()
        return {
            "query": req.query,
            "mode": result.mode,
            "notice": result.notice,
            "translation": translation_to_dict(result.translation),
            "results": [self.hit(loaded, h.clause, day=day, score=h.score, query=result.matched) for h in result.hits],
        }

    def ask(self, req: AskRequest) -> dict:
        loaded = self._loaded()
        ans = loaded.answerer.ask(loaded.searcher, req.query, as_of=req.as_of or dt.date.today())
        return answer_to_dict(ans, loaded.corpus, self.directory)

    def clause(self, clause_id: str) -> dict:
        loaded = self._loaded()
        c = loaded.corpus.clause(clause_id)
        if c is None:
            raise UnknownClause(f"no clause with id {clause_id!r}", field="clause_id")
        return self.hit(loaded, c, day=dt.date.today())

    def clause_page(self, clause_id: str, *, hl: str | None = None, q: str | None = None) -> dict:
        """Everything the clause page shows: the clause, its document and status today, the sentence to mark
        (``hl``: a quoted sentence, else the one best matching ``q``), its agencies with their directory names,
        the clauses before and after it, and the official publication's address where the registry has one."""
        loaded = self._loaded()
        c = loaded.corpus.clause(clause_id)
        if c is None:
            raise UnknownClause(f"no clause with id {clause_id!r}", field="clause_id")
        today = dt.date.today()
        hit = self.hit(loaded, c, day=today, query=q or None)
        span = None
        if hl and (i := c.text.find(hl.strip())) >= 0 and hl.strip():
            span = (i, i + len(hl.strip()))
        elif hit["highlight"]:
            span = (hit["highlight"]["start"], hit["highlight"]["end"])
        pd = next(p for p in loaded.corpus.documents if p.document.doc_id == c.doc_id)
        ids = [x.clause_id for x in pd.clauses]
        pos = ids.index(c.clause_id)

        def near(i: int) -> dict | None:
            if not 0 <= i < len(ids):
                return None
            other = pd.clauses[i]
            return {"clause_id": other.clause_id, "citation": loaded.answerer.cite(other, None, today).citation, "text": other.text}

        agencies = []
        for printed in c.agencies:
            a = self.directory.resolve(printed)
            agencies.append({
                "printed": printed,
                "name": a.name if a else printed,
                "full_name": a.full_name if a else None,
                "english_name": a.english_name if a else None,
            })
        return {
            "hit": hit,
            "document": pd.document,
            "mark": span,
            "agencies": agencies,
            "previous": near(pos - 1),
            "next": near(pos + 1),
            "official_url": self.official_url(c.doc_id),
        }

    def official_url(self, doc_id: str) -> str | None:
        """The official publication's address, when the registry recorded one for the document (an uploaded
        page's canonical link or its front matter); the package's own documents have none on record."""
        registry = self.registry()
        entry = registry.get(doc_id) if registry else None
        url = (entry.hints or {}).get("url") if entry else None
        return url if url and url.startswith(("https://", "http://")) else None

    def registry(self):
        """The registry database (documents, feedback), opened once; None when no data directory is set."""
        if self._registry is None:
            cfg = self.engine.config
            if getattr(cfg, "data_dir", None) is None and getattr(cfg, "registry_url", None) is None:
                return None
            from policyqa.ingest.registry import Registry

            self._registry = Registry.in_dir(cfg.data_dir, getattr(cfg, "registry_url", None))
        return self._registry

    def documents(self) -> dict:
        loaded = self._loaded()
        today = dt.date.today()
        return {
            "documents": [
                {**pd.document.to_dict(), "status": status_to_dict(document_status(pd.document, today)), "clause_count": len(pd.clauses)}
                for pd in loaded.corpus.documents
            ]
        }

    def _agency_dict(self, agency, corpus: Corpus) -> dict:
        names = set(agency.names)
        return {**agency.to_dict(), "clause_count": sum(1 for c in corpus.clauses if names & set(c.agencies))}

    def agencies(self) -> dict:
        loaded = self._loaded()
        items = [self._agency_dict(a, loaded.corpus) for a in self.directory.agencies]
        items.sort(key=lambda a: (-a["clause_count"], a["name"]))
        return {"agencies": items}

    def agency(self, name: str) -> dict:
        loaded = self._loaded()
        a = self.directory.resolve(name)
        if a is None:
            raise UnknownAgency(f"no agency called {name!r} (try the printed name, the full name or the English name)", field="name")
        names = set(a.names)
        today = dt.date.today()
        docs = []
        for pd in loaded.corpus.documents:
            clauses = [self.hit(loaded, c, day=today) for c in pd.clauses if names & set(c.agencies)]
            if clauses:
                d = pd.document
                docs.append({"doc_id": d.doc_id, "doc_title": d.title, "doc_number": d.doc_number, "clauses": clauses})
        return {"agency": self._agency_dict(a, loaded.corpus), "documents": docs}

    def reindex(self) -> dict:
        if not self._reindex_lock.acquire(blocking=False):
            raise Conflict("a reindex is already running")
        try:
            started = time.perf_counter()
            before = self.engine.loaded
            old_docs = {pd.document.doc_id: pd.document.source_path for pd in before.corpus.documents} if before else {}
            try:
                fresh = self.engine.reindex()
            except Exception as exc:
                raise ReindexFailed(f"reindex failed, the previous index keeps serving: {type(exc).__name__}: {exc}") from None
            new_ids = {pd.document.doc_id for pd in fresh.corpus.documents}
            return {
                "status": "swapped",
                "index_path": str(fresh.index_path),
                "version": fresh.version,
                "passages": len(fresh.searcher.bundle.passages),
                "documents": len(fresh.corpus.documents),
                "mode": fresh.searcher.resolve_mode()[0],
                "seconds": round(time.perf_counter() - started, 3),
                # every document that is not searchable after this reindex is named: those that failed to load,
                # and those served before that are no longer in the corpus (a file removed or renamed)
                "documents_failed": fresh.document_errors,
                "documents_dropped": [
                    {"doc_id": d, "file": path} for d, path in sorted(old_docs.items()) if d not in new_ids
                ],
            }
        finally:
            self._reindex_lock.release()

    # --- documents added on a running service ------------------------------------------------

    def _library(self):
        from policyqa.ingest.library import Library

        cfg = self.engine.config
        if getattr(cfg, "data_dir", None) is None:
            raise AdminDisabled("no data directory configured (QA_DATA_DIR)")
        return Library(cfg.data_dir, seeds_dir=cfg.corpus_dir, registry_url=getattr(cfg, "registry_url", None))

    def add_documents(self, files: list[tuple[str, bytes]]) -> dict:
        """Parse every file first; if any cannot be read nothing is added (422). Then store them and swap in an
        index where they are searchable (stage 1, no text encoded); their dense vectors are computed in the
        background and swapped in when ready (stage 2: ``vectors`` per document says which). A failed stage 1
        removes what was added and the old index keeps serving."""
        if not files:
            raise UnreadableDocument("no file uploaded", field="files")
        if not self._reindex_lock.acquire(blocking=False):
            raise Conflict("a reindex is already running")
        try:
            started = time.perf_counter()
            lib = self._library()
            seeds = self._seed_ids(lib)
            prepared = [lib.prepare(data, name, seed_ids=seeds) for name, data in files]
            bad = [p.result for p in prepared if not p.result.ok]
            if bad:
                raise UnreadableDocument("; ".join(f"{r.file}: {r.error}" for r in bad), field="files")
            fresh_ids = [p.result.doc_id for p in prepared if p.result.status == "added"]
            self.engine.supersede()  # a background completion started before this must not swap in after it
            results = [lib.commit(p) for p in prepared]
            reindexed = any(r.status in ("added", "updated") for r in results)
            if reindexed:
                try:
                    self.engine.stage()
                except Exception as exc:
                    for doc_id in fresh_ids:
                        lib.remove(doc_id)
                    raise ReindexFailed(f"reindex failed, nothing was added and the previous index keeps serving: {type(exc).__name__}: {exc}") from None
            loaded = self._loaded()
            waiting = loaded.pending_documents()
            dense = loaded.searcher.bundle.dense is not None
            docs = [
                {**r.to_dict(), "vectors": ("pending" if r.doc_id in waiting else "ready") if dense else "none"}
                for r in results
            ]
            return {
                "documents": docs, "reindexed": reindexed, "seconds": round(time.perf_counter() - started, 3),
                "version": loaded.version, "passages_awaiting_vectors": loaded.vectors_pending,
            }
        finally:
            self._reindex_lock.release()

    def _seed_ids(self, lib) -> set[str]:
        """The package's doc_ids: those of the corpus serving when it has loaded (the seeds are read-only, so
        they are the ones it holds), else parsed from the seed folder."""
        loaded = self.engine.loaded
        if loaded is None:
            return lib._seed_ids()
        added = {e.doc_id for e in lib.registry.all()}
        return {pd.document.doc_id for pd in loaded.corpus.documents if pd.document.doc_id not in added}

    def remove_document(self, doc_id: str) -> dict:
        from policyqa.ingest.library import LibraryError

        if not self._reindex_lock.acquire(blocking=False):
            raise Conflict("a reindex is already running")
        try:
            started = time.perf_counter()
            lib = self._library()
            if lib.registry.get(doc_id) is None:
                if doc_id in lib._seed_ids():
                    raise Conflict(f"{doc_id!r} is one of the package's documents and cannot be removed", field="doc_id")
                raise NotFound(f"no added document {doc_id!r}", field="doc_id")
            self.engine.supersede()  # a background completion may not swap in a version that still holds it
            try:
                lib.remove(doc_id)
            except LibraryError as exc:
                raise NotFound(str(exc), field="doc_id") from None
            fresh = self.engine.stage()  # every remaining vector is cached: nothing pending unless it was before
            return {"removed": doc_id, "seconds": round(time.perf_counter() - started, 3), "version": fresh.version,
                    "passages_awaiting_vectors": fresh.vectors_pending}
        finally:
            self._reindex_lock.release()

