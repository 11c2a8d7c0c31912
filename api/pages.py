"""The HTML pages the service serves itself (no CDN): the staff page, the widget and its demos, the API
documentation (Swagger UI 5 and ReDoc, vendored under static/vendor/) and the clause page.

Every page keeps its scripts and styles in static files (no inline script or style) so that a
Content-Security-Policy of ``script-src 'self'; style-src 'self'`` holds. Retrieved text reaches the
clause page only through Jinja2 with autoescaping on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .errors import IndexNotReady, UnknownClause

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
templates.filters["urlpart"] = lambda v: quote(str(v), safe="")

router = APIRouter(include_in_schema=False)

LABELS = {
    "zh": {
        "lang": "zh-CN", "home": "返回检索", "doc": "文件", "number": "文号", "status": "效力状态", "as_of": "截至",
        "section": "所在章节", "clause": "条款原文", "agencies": "责任部门", "agency_view": "查看该部门负责的全部条款",
        "citation": "引用", "copy": "复制引用", "copied": "已复制引用。", "copy_failed": "无法自动复制，请手动选择引用文字。",
        "official": "官方发布原文", "no_official": "登记中没有该文件的官方发布地址；引用可与源文件核对：",
        "previous": "上一条", "next": "下一条", "neighbours": "相邻条款", "none": "无", "print": "打印",
        "marked": "标记部分为与问题最相关的句子。", "authoritative": "以上为政策原文，具有权威性。",
        "not_found_title": "未找到该条款", "not_found": "没有编号为 {id} 的条款。它可能已随文件一起被移除，或链接有误。",
        "not_ready_title": "服务正在启动", "not_ready": "索引仍在加载，请稍后刷新本页。", "other_lang": "English",
    },
    "en": {
        "lang": "en", "home": "Back to search", "doc": "Document", "number": "Document number (文号)", "status": "Status",
        "as_of": "as of", "section": "Section", "clause": "Clause (authoritative Chinese text)", "agencies": "Responsible agencies",
        "agency_view": "All clauses of this agency", "citation": "Citation", "copy": "Copy citation",
        "copied": "Citation copied.", "copy_failed": "Could not copy automatically; select the citation text instead.",
        "official": "Official publication", "no_official": "The registry holds no official address for this document; the citation can be checked against the source file:",
        "previous": "Previous clause", "next": "Next clause", "neighbours": "Neighbouring clauses", "none": "none",
        "print": "Print", "marked": "The marked sentence is the one that best matches the question.",
        "authoritative": "The Chinese text above is the authoritative text; no translation is given.",
        "not_found_title": "Clause not found", "not_found": "There is no clause with the id {id}. It may have been removed with its document, or the link is wrong.",
        "not_ready_title": "The service is starting", "not_ready": "The index is still loading; reload this page shortly.", "other_lang": "中文",
    },
}


def _html(name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(templates.get_template(name).render(**context), status_code=status)


def _file(name: str, media_type: str = "text/html"):
    async def serve() -> FileResponse:
        return FileResponse(STATIC / name, media_type=media_type)

    return serve


for _path, _name, _type in (
    ("/", "index.html", "text/html"),
    ("/widget.js", "widget.js", "text/javascript"),
    ("/widget-demo", "widget-demo.html", "text/html"),
    ("/widget-demo-en", "widget-demo-en.html", "text/html"),
    ("/docs", "docs.html", "text/html"),
    ("/redoc", "redoc.html", "text/html"),
):
    router.add_api_route(_path, _file(_name, _type), methods=["GET"])


@router.get("/clauses/{clause_id:path}")
async def clause_page(
    request: Request,
    clause_id: str,
    hl: str | None = Query(None, max_length=1000, description="a quoted sentence to mark"),
    q: str | None = Query(None, max_length=500, description="a question: its best-matching sentence is marked"),
    lang: str = Query("zh", pattern="^(zh|en)$"),
) -> HTMLResponse:
    """A readable view of one clause (the JSON stays at /v1/clauses/{id}); unknown id → a 404 page."""
    t = SimpleNamespace(**LABELS[lang])  # attributes, not a dict: t.copy must not be dict.copy
    service = request.app.state.service
    try:
        view = await run_in_threadpool(service.clause_page, clause_id, hl=hl, q=q)
    except UnknownClause:
        return _html("not_found.html", 404, t=t, lang=lang, clause_id=clause_id)
    except IndexNotReady:
        return _html("not_ready.html", 503, t=t, lang=lang)
    hit = view["hit"]
    text = hit["text"]
    mark = view["mark"]
    parts = [text] if mark is None else [text[: mark[0]], text[mark[0] : mark[1]], text[mark[1] :]]
    other = "en" if lang == "zh" else "zh"
    qs = urlencode({k: v for k, v in (("hl", hl), ("q", q)) if v})
    return _html(
        "clause.html",
        t=t,
        lang=lang,
        hit=hit,
        doc=view["document"],
        parts=parts,
        agencies=view["agencies"],
        previous=view["previous"],
        next=view["next"],
        official_url=view["official_url"],
        today=dt.date.today().isoformat(),
        other_lang=other,
        query_string=qs,
    )


def install(app: FastAPI) -> None:
    """Mount the static files and add the page routes."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
