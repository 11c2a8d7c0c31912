"""The FastAPI application: thin routes over QAService, plus the cross-cutting parts of a public API."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections import deque
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, File, Header, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from policyqa.qa.engine import Engine
from policyqa.qa.settings import Settings

from . import errors, feedback, pages
from .errors import AdminDisabled, BodyTooLarge, RateLimited, Unauthorized, error_body
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

access_log = logging.getLogger("policyqa.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)), "level": record.levelname, "logger": record.name}
        if isinstance(record.msg, dict):
            payload.update(record.msg)
        else:
            payload["message"] = record.getMessage()
        return json.dumps(payload, ensure_ascii=False)


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


class RateLimiter:
    """Sliding one-minute window per client, in this process.

    Several workers each keep their own window; for a shared limit put the workers behind a proxy
    that limits (README: nginx limit_req), and set QA_RATE_LIMIT=0 here.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(client, deque())
            while q and q[0] <= now - 60:
                q.popleft()
            if len(q) >= self.per_minute:
                retry = max(1, math.ceil(60 - (now - q[0])))
                raise RateLimited(f"more than {self.per_minute} requests a minute; retry in {retry} s", headers={"Retry-After": str(retry)})
            q.append(now)
            if len(self._hits) > 100_000:  # forget idle clients rather than grow without bound
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - 60]:
                    del self._hits[key]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("qa_requests_total", "HTTP requests", ["path", "method", "status"], registry=self.registry)
        self.latency = Histogram(
            "qa_request_seconds", "request latency", ["path"], registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.mode = Counter("qa_search_mode_total", "searches by retrieval mode used", ["endpoint", "mode"], registry=self.registry)
        self.answerable = Counter("qa_ask_answerable_total", "ask results by answerable", ["answerable"], registry=self.registry)


def _client_key(scope, headers: dict[str, str], trust_proxy: bool) -> str:
    if trust_proxy and (fwd := headers.get("x-forwarded-for")):
        return fwd.split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else "unknown"


class Guard:
    """Pure ASGI middleware (cheaper per request than BaseHTTPMiddleware): refuses oversized bodies,
    applies the rate limit, and records metrics and a JSON access log line for every request."""

    def __init__(self, app, *, settings: Settings, limiter: RateLimiter, metrics: Metrics) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}

        async def send_recording(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            receive = await self._check(scope, headers, receive)
            await self.app(scope, receive, send_recording)
        except errors.DomainError as exc:
            response = JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status, headers=exc.headers)
            await response(scope, receive, send_recording)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    async def _check(self, scope, headers: dict[str, str], receive):
        cap = self.settings.max_upload_bytes if scope["path"] == "/v1/admin/documents" else self.settings.max_body_bytes
        if scope["method"] == "POST":
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > cap):
                raise BodyTooLarge(f"request body over {cap} bytes", field="body")
            if length is None:  # chunked: read it here, never keeping more than the cap
                body, more = b"", True
                while more:
                    message = await receive()
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                    if len(body) > cap:
                        raise BodyTooLarge(f"request body over {cap} bytes", field="body")
                replayed = False

                async def replay():
                    nonlocal replayed
                    if not replayed:
                        replayed = True
                        return {"type": "http.request", "body": body, "more_body": False}
                    return await receive()

                receive = replay
        if scope["path"].startswith("/v1/") and scope["method"] != "OPTIONS":
            self.limiter.check(_client_key(scope, headers, self.settings.trust_proxy))
        return receive

    def _record(self, scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        label = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(label, scope["method"], str(status)).inc()
        self.metrics.latency.labels(label).observe(elapsed)
        entry = {"method": scope["method"], "path": label, "status": status, "ms": round(elapsed * 1000, 2)}
        state = scope.get("state") or {}
        if (q := state.get("query")) is not None:
            entry["query_sha256"] = hashlib.sha256(q.encode()).hexdigest()[:16]
            entry["query_len"] = len(q)
            if self.settings.log_queries:
                entry["query"] = q
        if (m := state.get("mode")) is not None:
            entry["mode"] = m
        access_log.info(entry)


def create_app(settings: Settings | None = None, *, service: QAService | None = None) -> FastAPI:
    settings = settings or Settings()
    if service is None:
        engine = Engine(settings.engine_config())
        service = QAService(engine, watch_seconds=settings.index_watch_seconds)
    limiter = RateLimiter(settings.rate_limit)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(service.warm_up)  # builds the index on first start
        service.start_watch()  # versions built by other workers sharing the index folder
        try:
            yield
        finally:
            service.stop_watch()

    app = FastAPI(
        title="policyqa",
        version="0.1.0",
        description="Extractive answers with citations from Shanghai service-industry policy documents.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.limiter = limiter
    app.state.metrics = metrics
    errors.install(app)
    # Guard inside, CORS outside: even a 413 or a 429 carries the CORS headers a widget needs to read it
    app.add_middleware(Guard, settings=settings, limiter=limiter, metrics=metrics)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "X-API-Key"],
        expose_headers=["Retry-After"],
        max_age=600,
    )

    def require_admin(x_api_key: str | None = Header(None)) -> None:
        if not settings.admin_api_key:
            raise AdminDisabled("admin endpoints are disabled: set QA_ADMIN_API_KEY to enable them")
        if x_api_key is None or not _same(x_api_key, settings.admin_api_key):
            raise Unauthorized("missing or wrong X-API-Key", field="X-API-Key")

    # --- API -----------------------------------------------------------------------------------

    async def answered(endpoint: str, call, req, request: Request) -> dict:
        """Run a query endpoint off the event loop and record its query and mode for logs and metrics."""
        request.state.query = req.query
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


def fast_json(data: dict) -> JSONResponse:
    """The hot endpoints build plain dicts already shaped like their response model; returning them
    directly skips a second validation pass (the schema tests check the shape instead)."""
    return JSONResponse(data)


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())
