"""Typed domain errors and their HTTP mapping — the one place status codes are decided."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}


class NotFound(DomainError):
    status, code = 404, "not_found"


class UnknownClause(NotFound):
    code = "unknown_clause"


class UnknownAgency(NotFound):
    code = "unknown_agency"


class UnknownAgencyFilter(DomainError):
    """A search filter naming an agency the documents do not know: the request is wrong, not the result empty."""

    status, code = 422, "unknown_agency"


class IndexNotReady(DomainError):
    status, code = 503, "index_not_ready"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class AdminDisabled(DomainError):
    status, code = 403, "admin_disabled"


class Conflict(DomainError):
    status, code = 409, "conflict"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"


class BodyTooLarge(DomainError):
    status, code = 413, "body_too_large"


class RequestTimeout(DomainError, StarletteHTTPException):
    """A request body that stalls. Also an HTTPException: FastAPI passes those through while it parses a
    body (anything else raised there becomes a 400), so the client learns what happened."""

    status, code = 408, "request_timeout"

    def __init__(self, message: str, **kw) -> None:
        DomainError.__init__(self, message, **kw)
        self.status_code, self.detail = self.status, message


class UriTooLong(DomainError):
    status, code = 414, "uri_too_long"


class HeadersTooLarge(DomainError):
    status, code = 431, "headers_too_large"


class UnreadableDocument(DomainError):
    status, code = 422, "unreadable_document"


class ReindexFailed(DomainError):
    status, code = 500, "reindex_failed"


def error_body(code: str, message: str, field: str | None = None) -> dict:
    err = {"code": code, "message": message}
    if field:
        err["field"] = field
    return {"error": err}


def _field_of(loc: tuple) -> str:
    # FastAPI prefixes where the value came from (body, query, path, header); the field follows
    parts = [str(p) for p in (loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)]
    return ".".join(parts) or (str(loc[0]) if loc else "body")


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _field_of(tuple(first.get("loc", ("body",))))
        msg = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
        if first.get("type") == "json_invalid":
            field, msg = "body", "request body is not valid JSON"
        return JSONResponse(
            {**error_body("invalid_request", f"{field}: {msg}", field), "details": [
                {"field": _field_of(tuple(e.get("loc", ()))), "message": str(e.get("msg", "")).removeprefix("Value error, ")}
                for e in errors
            ]},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - last resort
        import logging

        logging.getLogger("policyqa.api").exception("unhandled error")
        return JSONResponse(error_body("internal_error", "internal error"), status_code=500)


class FeedbackUnavailable(DomainError):
    status, code = 503, "feedback_unavailable"
