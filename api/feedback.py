"""The widget's deployment settings (/v1/config) and its "was this helpful?" votes (/v1/feedback).

Votes go to the registry database (ingest/registry.py) and are counted in /metrics. The question text is
stored only when the operator switched query logging on (QA_LOG_QUERIES); otherwise a salted hash when
QA_FEEDBACK_SALT is set (so repeats can be counted), else nothing. Administrators export the votes from
GET /v1/admin/feedback (JSON or CSV) or with `qa feedback`.
"""

from __future__ import annotations

import csv
import hashlib
import io

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import Counter, Gauge

from policyqa.qa.settings import Settings

from .errors import FeedbackUnavailable
from .limits import admin_dependency
from .schemas import ClientConfig, FeedbackExport, FeedbackRequest, FeedbackResponse

CONTACT_SCHEMES = ("tel:", "mailto:", "https://", "http://")


def question_trace(question: str, settings: Settings) -> tuple[str | None, str | None, str]:
    """(question, salted hash, what was kept) under the operator's query-logging choice."""
    if settings.log_queries:
        return question, None, "text"
    if settings.feedback_salt:
        digest = hashlib.sha256((settings.feedback_salt + "\n" + question).encode("utf-8")).hexdigest()
        return None, digest, "salted_hash"
    return None, None, "nothing"


def export_rows(votes: list[dict]) -> str:
    """CSV of the votes (one line each; clause ids joined by spaces)."""
    out = io.StringIO()
    fields = ["id", "created_at", "helpful", "lang", "intent", "answerable", "clause_ids", "question", "question_sha256"]
    w = csv.DictWriter(out, fieldnames=fields)
    w.writeheader()
    for v in votes:
        w.writerow({**{k: v.get(k) for k in fields}, "clause_ids": " ".join(v.get("clause_ids") or [])})
    return out.getvalue()


def install(app: FastAPI, settings: Settings) -> None:
    service = app.state.service
    registry = app.state.metrics.registry
    votes = Counter("qa_feedback_total", "was-this-helpful votes received by this process", ["helpful"], registry=registry)

    class Stored:
        """Votes stored in the registry (all processes), read when /metrics is scraped."""

        def __init__(self, helpful: bool) -> None:
            self.helpful = helpful

        def __call__(self) -> float:
            reg = service.registry()
            return float(reg.feedback_counts()[self.helpful]) if reg else 0.0

    stored = Gauge("qa_feedback_stored", "was-this-helpful votes stored in the registry", ["helpful"], registry=registry)
    for flag in (True, False):
        stored.labels(str(flag).lower()).set_function(Stored(flag))

    router = APIRouter()

    require_admin = admin_dependency(settings.admin_api_key, app.state.limits)  # wrong keys counted like any admin call

    def registry_or_fail():
        reg = service.registry()
        if reg is None:
            raise FeedbackUnavailable("feedback cannot be stored: no data directory or registry is configured")
        return reg

    @router.get("/v1/config", response_model=ClientConfig, tags=["pages"])
    async def client_config():
        """Who to contact when the documents do not answer, and whether votes are stored."""
        url = settings.contact_url if settings.contact_url.startswith(CONTACT_SCHEMES) else None
        return {
            "contact": {"text": settings.contact_text, "text_en": settings.contact_text_en, "url": url},
            "feedback": service.registry() is not None,
        }

    @router.post("/v1/feedback", response_model=FeedbackResponse, status_code=201, tags=["pages"])
    async def give_feedback(req: FeedbackRequest, request: Request):
        """Store a "was this helpful?" vote."""
        request.state.query = req.query  # the access log treats it like any query (hash unless logging is on)
        reg = registry_or_fail()
        question, digest, kept = question_trace(req.query, settings)
        vote_id = await run_in_threadpool(
            reg.add_feedback, helpful=req.helpful, lang=req.lang, intent=req.intent, answerable=req.answerable,
            clause_ids=req.clause_ids, question=question, question_sha256=digest,
        )
        votes.labels(str(req.helpful).lower()).inc()
        return {"stored": True, "id": vote_id, "question_kept": kept}

    @router.get("/v1/admin/feedback", response_model=FeedbackExport, tags=["admin"], dependencies=[Depends(require_admin)])
    async def export_feedback(format: str = Query("json", pattern="^(json|csv)$")):
        """Every vote: JSON, or CSV with ?format=csv. The question appears only if it was stored."""
        reg = registry_or_fail()
        rows = await run_in_threadpool(reg.feedback)
        if format == "csv":
            return Response(export_rows(rows), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="feedback.csv"'})
        return {"helpful": sum(r["helpful"] for r in rows), "not_helpful": sum(not r["helpful"] for r in rows), "votes": rows}

    app.include_router(router)
