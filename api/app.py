"""The FastAPI application: thin routes over QAService, plus the cross-cutting parts of a public API."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import time
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
import orjson
from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from policyqa.qa.engine import Engine
from policyqa.qa.settings import Settings

from . import errors, feedback, pages
from .limits import Limits, admin_dependency
from .middleware import Guard, Metrics
from .privacy import QueryHasher
from .schemas import (
    AgenciesResponse,
    AgencyResponse,
    AskRequest,
    AskResponse,
    DocumentsResponse,
    Hit,
    ReadyResponse,
    ReindexResponse,
    SearchRequest,
    SearchResponse,
)
from .service import QAService

# FastAPI ≥ 0.16x asks OpenTelemetry on every request whether a tracer, meter or logger provider is set up
# (~45 µs, measured); this service reports through Prometheus and its own access log, so it says no once.
NO_OPENTELEMETRY = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {}
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)), "level": record.levelname, "logger": record.name}
        if isinstance(record.msg, dict):
            payload.update(record.msg)
        else:
            payload["message"] = record.getMessage()
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        # orjson: one access-log line per request, ~4× cheaper than json.dumps; anything else is logged as text
        return orjson.dumps(payload, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("bm25s", "jieba", "httpx", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = name != "uvicorn.access"  # our own access log replaces uvicorn's


def create_app(settings: Settings | None = None, *, service: QAService | None = None) -> FastAPI:
    settings = settings or Settings()
    if service is None:
        engine = Engine(settings.engine_config())
        service = QAService(engine, watch_seconds=settings.index_watch_seconds)
    limits = Limits(
        settings.rate_limit_storage,
        per_minute=settings.rate_limit,
        admin_failures=settings.admin_max_failures,
        admin_window_seconds=settings.admin_failure_window,
    )
    metrics = Metrics()
    hasher = QueryHasher(settings.log_salt, settings.data_dir, settings.log_retention_days)

    def apply_retention() -> None:
        """Stored votes keep their question (text or hash) for QA_LOG_RETENTION_DAYS, then lose it."""
        registry = service.registry()
        if registry is None:
            return
        before = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.log_retention_days)
        if forgotten := registry.forget_feedback_questions(before):
            logging.getLogger("policyqa.privacy").info({"event": "retention", "feedback_questions_forgotten": forgotten})

    async def retention_pass() -> None:
        try:
            await run_in_threadpool(apply_retention)
        except Exception:  # a failed pruning is retried tomorrow; serving goes on
            logging.getLogger("policyqa.privacy").exception("retention pruning failed")

    async def retention_daily() -> None:
        while True:
            await asyncio.sleep(86400)
            await retention_pass()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(service.warm_up)  # builds the index on first start
        # at start (before any request, which could open the registry at the same moment), then daily
        await retention_pass()
        service.start_watch()  # versions built by other workers sharing the index folder
        retention = asyncio.create_task(retention_daily())
        try:
            yield
        finally:
            retention.cancel()
            service.stop_watch()

    app = FastAPI(
        title="policyqa",
        version="0.1.0",
        description="Extractive answers with citations from Shanghai service-industry policy documents.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        **NO_OPENTELEMETRY,
    )
    app.state.service = service
    app.state.limits = limits
    app.state.metrics = metrics
    app.state.query_hasher = hasher
    errors.install(app)
    # Guard inside, CORS outside: even a 413 or a 429 carries the CORS headers a widget needs to read it
    app.add_middleware(Guard, settings=settings, limits=limits, metrics=metrics, hasher=hasher)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "X-API-Key"],
        expose_headers=["Retry-After"],
        max_age=600,
    )

    require_admin = admin_dependency(settings.admin_api_key, limits)

    # --- API -----------------------------------------------------------------------------------

    def lexical() -> bool:
        """Whether questions are answered by the keyword legs alone (no encoding): so while loading too."""
        loaded = service.engine.loaded
        return loaded is None or loaded.searcher.resolve_mode()[0] == "lexical"

    long_lane: list[anyio.CapacityLimiter] = []  # made on first use, inside the running event loop

    async def answered(endpoint: str, call, req, request: Request) -> dict:
        """Run a query endpoint and record its query and mode for logs and metrics.

        A question of at most INLINE_MAX_CHARS in lexical mode is answered on the event loop: a few ms of
        pure Python that a worker thread would run under the same GIL anyway, while the hop cost CPU and,
        under concurrency, latency (threads convoying on the GIL). Longer questions, and any the dense leg
        encodes (native code that releases the GIL), go to the thread pool: the loop is never held longer
        than a short question holds it. Longer questions take it LONG_QUESTIONS_AT_ONCE at a time (module
        note there)."""
        request.state.query = req.query
        if len(req.query) <= INLINE_MAX_CHARS and lexical():
            out = call(req)
        elif len(req.query) > INLINE_MAX_CHARS:
            if not long_lane:
                long_lane.append(anyio.CapacityLimiter(LONG_QUESTIONS_AT_ONCE))
            out = await anyio.to_thread.run_sync(call, req, limiter=long_lane[0])
        else:
            out = await run_in_threadpool(call, req)
        request.state.mode = out["mode"]
        metrics.mode.labels(endpoint, out["mode"]).inc()
        return out

    @app.post("/v1/search", response_model=SearchResponse, tags=["search"])
    async def search(req: SearchRequest, request: Request):
        return fast_json(await answered("search", service.search, req, request))

    @app.post("/v1/ask", response_model=AskResponse, tags=["search"])
    async def ask(req: AskRequest, request: Request):
        out = await answered("ask", service.ask, req, request)
        metrics.answerable.labels(str(out["answerable"]).lower()).inc()
        return fast_json(out)

    @app.get("/v1/clauses/{clause_id:path}", response_model=Hit, tags=["browse"])
    async def clause(clause_id: str):
        return service.clause(clause_id)

    @app.get("/v1/documents", response_model=DocumentsResponse, tags=["browse"])
    async def documents():
        return service.documents()

    @app.get("/v1/agencies", response_model=AgenciesResponse, tags=["browse"])
    async def agencies():
        return service.agencies()

    @app.get("/v1/agencies/{name}", response_model=AgencyResponse, tags=["browse"])
    async def agency(name: str):
        return service.agency(name)

    @app.post("/v1/admin/reindex", response_model=ReindexResponse, tags=["admin"], dependencies=[Depends(require_admin)])
    async def reindex():
        return await run_in_threadpool(service.reindex)

    @app.post("/v1/admin/documents", tags=["admin"], dependencies=[Depends(require_admin)])
    async def add_documents(files: list[UploadFile] = File(..., description="policy documents: HTML, PDF, DOCX, DOC/WPS, Markdown, text")):
        """Add documents to the running service: parsed, stored with their report, the index rebuilt and swapped in.
        A file that cannot be read is refused with 422 naming it and the reason; then nothing is added."""
        payload = [(f.filename or "document", await f.read()) for f in files]
        return await run_in_threadpool(service.add_documents, payload)

    @app.delete("/v1/admin/documents/{doc_id}", tags=["admin"], dependencies=[Depends(require_admin)])
    async def remove_document(doc_id: str):
        """Remove an added document; the package's own documents cannot be removed."""
        return await run_in_threadpool(service.remove_document, doc_id)

    @app.get("/healthz", tags=["ops"])
    async def healthz():
        return {"status": "alive"}

    @app.get("/readyz", tags=["ops"], response_model=ReadyResponse, response_model_by_alias=True)
    async def readyz():
        return await run_in_threadpool(service.ready)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus():
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    feedback.install(app, settings)  # /v1/config and the widget's votes (api/feedback.py)
    pages.install(app)  # staff page, widget, clause page, /docs and /redoc (api/pages.py)
    return app


def create_worker_app() -> FastAPI:
    """The app of one of several worker processes (``qa serve --workers N``): settings from the environment."""
    configure_logging()
    return create_app()


# Questions up to this many characters are answered on the event loop in lexical mode (see `answered`).
# Measured under load (2 cores, load average 7): /v1/ask costs 5 ms CPU for 100 random Chinese characters,
# 5 ms (median) for the eval's Chinese questions (the longest has 46 characters) and 8 ms for its English
# ones; 30 ms for 500 random characters, which is why longer questions take the thread pool. Since then
# (scripts/bench_cpu.py, load average 3): 2.2 ms for a question asked before, 15–17 ms for 500 random characters.
# The bound was 100 until the keyword leg's work was capped (64 query terms, no HMM over 200 characters): at
# 100, a third of real English questions (four or five letters a word, up to 144 characters in the labelled
# set) went to the thread pool and convoyed on the GIL — on an idle machine, 2 workers, 16 connections
# (scripts/bench_wrk.py), English-only p99 98 ms against Chinese-only 34 ms; at 300, 39 ms. 500-character
# questions (the hostile benchmark's) still take the pool.
INLINE_MAX_CHARS = 300

# Long questions (over INLINE_MAX_CHARS: the most a client can make one request cost) computed at the same time.
# One process serves everyone and its Python runs under one GIL: each thread busy with a long question takes an
# equal share of it from the event loop that answers everyone else's short questions, so n long questions at
# once leave the others 1/(n + 1) of the process. One at a time, the others keep at least half of it whatever
# arrives at once; a long question waits behind the long ones before it, never behind a short one.
LONG_QUESTIONS_AT_ONCE = 1


class FastJSONResponse(JSONResponse):
    """JSON encoded by orjson: a search's ten hits in ~30 µs against ~470 µs for the standard library
    (measured on this corpus). Same bytes on the wire for what the endpoints return (UTF-8, compact)."""

    def render(self, content) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


def fast_json(data: dict) -> JSONResponse:
    """The hot endpoints build plain dicts already shaped like their response model; returning them
    directly skips a validation pass on every request (~170 µs for a search's ten hits): the API tests
    validate every /v1/search and /v1/ask response they get against the models instead."""
    return FastJSONResponse(data)
