"""The request guard: one pure ASGI middleware (cheaper per request than BaseHTTPMiddleware) that bounds
what a request may cost before any route runs, adds the security headers, answers HEAD on GET routes,
and records metrics and a JSON access-log line for every request."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from policyqa.qa.settings import Settings

from . import errors
from .errors import (
    BodyTooLarge,
    HeadersTooLarge,
    RequestTimeout,
    UriTooLong,
    error_body,
)
from .limits import Limits, client_key, parse_networks
from .privacy import QueryHasher

access_log = logging.getLogger("policyqa.access")

UPLOAD_PATH = "/v1/admin/documents"


# Pages whose library writes its styles into the document at run time (ReDoc, through styled-components)
# and runs its search index in a worker made from a blob: inline styles and blob: workers are allowed
# there, never inline scripts. The page shows only this service's own schema.
LIBRARY_PAGES = frozenset({"/redoc"})


def content_security_policy(frame_ancestors: list[str], *, library_page: bool = False) -> str:
    """The pages load scripts, styles and data from this origin only (none inline); who may frame them is
    a setting."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'" if library_page else "style-src 'self'",
        "worker-src 'self' blob:" if library_page else "worker-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {' '.join(frame_ancestors) or chr(39) + 'none' + chr(39)}",
    ])


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("qa_requests_total", "HTTP requests", ["path", "method", "status"], registry=self.registry)
        self.latency = Histogram(
            "qa_request_seconds", "request latency", ["path"], registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.mode = Counter("qa_search_mode_total", "searches by retrieval mode used", ["endpoint", "mode"], registry=self.registry)
        self.answerable = Counter("qa_ask_answerable_total", "ask results by answerable", ["answerable"], registry=self.registry)
        self._children: dict[tuple[str, str, int], tuple] = {}

    def count(self, path: str, method: str, status: int, seconds: float) -> None:
        """One request. The labelled series are looked up once per (route, method, status), not on each
        request: `labels()` validates and joins its labels every time. Routes are the app's templates, so
        the keys are few."""
        key = (path, method, status)
        series = self._children.get(key)
        if series is None:
            series = self._children[key] = (self.requests.labels(path, method, str(status)), self.latency.labels(path))
        series[0].inc()
        series[1].observe(seconds)


class Guard:
    def __init__(self, app, *, settings: Settings, limits: Limits, metrics: Metrics, hasher: QueryHasher) -> None:
        self.app = app
        self.settings = settings
        self.limits = limits
        self.metrics = metrics
        self.hasher = hasher
        self.trusted = parse_networks(settings.trusted_proxies)
        self.csp = content_security_policy(settings.frame_ancestors).encode()
        self.csp_library_page = content_security_policy(settings.frame_ancestors, library_page=True).encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        head = scope["method"] == "HEAD"
        if head:  # every GET route answers HEAD: the same status and headers, no body
            scope = {**scope, "method": "GET"}

        async def send_guarded(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": self._security_headers(message.get("headers", []), scope["path"])}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            receive = await self._check(scope, receive)
            await self.app(scope, receive, send_guarded)
        except errors.DomainError as exc:
            response = JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status, headers=exc.headers)
            await response(scope, receive, send_guarded)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _security_headers(self, headers, path: str) -> list:
        headers = list(headers)
        names = {k.lower() for k, _ in headers}
        headers.append((b"x-content-type-options", b"nosniff"))
        html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
        if html:
            if b"content-security-policy" not in names:  # a page may bring a stricter one of its own
                headers.append((b"content-security-policy", self.csp_library_page if path in LIBRARY_PAGES else self.csp))
            headers.append((b"referrer-policy", b"same-origin"))
        return headers

    async def _check(self, scope, receive):
        s = self.settings
        if len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b"")) > s.max_url_bytes:
            raise UriTooLong(f"request target over {s.max_url_bytes} bytes", field="url")
        raw_headers = scope.get("headers", [])
        if sum(len(k) + len(v) + 4 for k, v in raw_headers) > s.max_header_bytes:
            raise HeadersTooLarge(f"request headers over {s.max_header_bytes} bytes", field="headers")
        length: str | None = None
        forwarded: list[str] = []
        for k, v in raw_headers:
            if k == b"content-length":
                length = v.decode("latin-1")
            elif k == b"x-forwarded-for":
                forwarded.append(v.decode("latin-1"))
        client = scope.get("client")
        key = client_key(client[0] if client else None, forwarded, self.trusted)
        scope.setdefault("state", {})["client_key"] = key
        if scope["path"].startswith("/v1/") and scope["method"] != "OPTIONS":
            if self.limits.shared:  # a network store: keep the event loop free while it answers
                await run_in_threadpool(self.limits.check_request, key)
            else:
                self.limits.check_request(key)
        if scope["method"] in ("POST", "PUT", "PATCH"):
            receive = await self._bounded_body(scope, receive, length)
        return receive

    async def _bounded_body(self, scope, receive, length: str | None):
        """Bodies over the cap are refused before they are read; a body that stalls gets 408."""
        cap = self.settings.max_upload_bytes if scope["path"] == UPLOAD_PATH else self.settings.max_body_bytes
        timeout = self.settings.body_timeout
        if length and (not length.isdigit() or int(length) > cap):
            raise BodyTooLarge(f"request body over {cap} bytes", field="body")

        async def next_message():
            try:
                async with asyncio.timeout(timeout):  # a timer handle, no extra task per read
                    return await receive()
            except TimeoutError:
                raise RequestTimeout(
                    f"the request body stalled for {timeout:g} s", field="body", headers={"Connection": "close"}
                ) from None

        if length and scope["path"] == UPLOAD_PATH:  # large: streamed to the parser, each read bounded
            done = False

            async def bounded():
                nonlocal done
                if done:
                    return await receive()  # after the body only a disconnect can come: no deadline
                message = await next_message()
                done = message["type"] != "http.request" or not message.get("more_body", False)
                return message

            return bounded
        if length == "0":
            return receive
        # small bodies (and chunked ones of any path) are read here, never keeping more than the cap
        chunks, size, more = [], 0, True
        while more:
            message = await next_message()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > cap:
                raise BodyTooLarge(f"request body over {cap} bytes", field="body")
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    def _record(self, scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        label = getattr(route, "path", None) or "unmatched"
        self.metrics.count(label, scope["method"], status, elapsed)
        entry = {"method": scope["method"], "path": label, "status": status, "ms": round(elapsed * 1000, 2)}
        state = scope.get("state") or {}
        if (q := state.get("query")) is not None:
            entry["query_hash"] = self.hasher(q)  # HMAC under the deployment's salt, never a plain digest
            entry["query_len"] = len(q)
            if self.settings.log_queries:
                entry["query"] = q
        if (m := state.get("mode")) is not None:
            entry["mode"] = m
        access_log.info(entry)
