"""The HTML pages served by the service: API docs from vendored assets, the clause page, no inline code."""

import re

import pytest

PAGES = ["/", "/widget-demo", "/widget-demo-en", "/docs", "/redoc", "/clauses/hfbf2025-5:2.3.6", "/clauses/nope:1"]


@pytest.mark.parametrize("path", PAGES)
def test_no_inline_script_or_style(client, path):
    """A CSP of script-src 'self' / style-src 'self' must hold: scripts and styles only from files."""
    html = client.get(path).text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html.lower() and not re.search(r"\sstyle\s*=", html, re.IGNORECASE), "inline style"
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), "inline event handler"
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(src).status_code == 200, src


def test_swagger_ui_reads_openapi_31(client):
    js = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").text
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    # Swagger UI 4 cannot render OpenAPI 3.1 ("Unable to render this definition"); 5 can
    assert re.search(r'version:"5\.\d+\.\d+"|"5\.\d+\.\d+"', js) or "OpenAPI 3.1" in js
    redoc = client.get("/redoc").text
    assert 'spec-url="/openapi.json"' in redoc and "/static/vendor/redoc/redoc.standalone.js" in redoc
    for lic in ("swagger-ui/LICENSE", "redoc/LICENSE"):
        assert client.get(f"/static/vendor/{lic}").status_code == 200


def test_clause_page(client):
    r = client.get("/clauses/hfbf2025-5:2.3.6", params={"q": "首发经济"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    clause = client.get("/v1/clauses/hfbf2025-5:2.3.6").json()
    assert clause["doc_title"] in html and clause["doc_number"] in html
    assert clause["citation"] in html and 'id="copy-btn"' in html
    assert "<mark>" in html and clause["doc_status"]["label"] in html
    for name in clause["agencies"]:
        assert "/#agency=" in html and name in html
    # neighbours link to other clause pages, never to JSON
    assert 'data-qa="prev"' in html and 'data-qa="next"' in html and "/v1/clauses" not in html


def test_clause_page_marks_the_quoted_sentence(client):
    clause = client.get("/v1/clauses/hfbf2025-5:2.3.6").json()
    sentence = clause["text"][3:25]
    html = client.get("/clauses/hfbf2025-5:2.3.6", params={"hl": sentence}).text
    assert f"<mark>{sentence}</mark>" in html


def test_clause_page_escapes_and_404s(client):
    r = client.get("/clauses/<script>alert(1)</script>")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    assert client.get("/v1/clauses/nope:1").status_code == 404  # the JSON route keeps its JSON 404


def test_clause_page_in_english(client):
    html = client.get("/clauses/hfbf2025-5:2.3.6", params={"lang": "en"}).text
    assert 'lang="en"' in html and "authoritative" in html


OFFICIAL_HTML = (
    '<html><head><meta charset="utf-8"><link rel="canonical" href="https://www.example.gov.cn/zwgk/2030/x.html"></head>'
    "<body><h1>某某区促进某某发展的若干措施</h1><p>一、总体要求</p><p>（一）加强统筹。推动某某工作落实。（责任单位：区商务委）</p>"
    "<p>（二）优化服务。提升某某服务水平。（责任单位：区民政局）</p></body></html>"
)


def test_the_registry_keeps_an_uploaded_pages_official_address(tmp_path):
    """An HTML page's canonical address (or og:url, or a 原文链接/url in front matter) is recorded with the document
    in the registry; the clause page links to it. Only http(s) addresses are kept."""
    from types import SimpleNamespace

    from policyqa.api.service import QAService
    from policyqa.ingest.library import Library

    lib = Library(tmp_path / "data")
    result = lib.commit(lib.prepare(OFFICIAL_HTML.encode(), "measures.html"))
    engine = SimpleNamespace(config=SimpleNamespace(data_dir=tmp_path / "data", registry_url=None))
    service = QAService.__new__(QAService)
    service.engine, service._registry = engine, None
    assert service.official_url(result.doc_id) == "https://www.example.gov.cn/zwgk/2030/x.html"
    assert service.official_url("hfbf2025-5") is None  # a seed: no address on record


def test_clause_page_links_the_official_publication(client, monkeypatch):
    from policyqa.api.service import QAService

    monkeypatch.setattr(QAService, "official_url", lambda self, doc_id: "https://www.example.gov.cn/a.html")
    html = client.get("/clauses/hfbf2025-5:2.3.6").text
    assert 'href="https://www.example.gov.cn/a.html"' in html and 'data-qa="official"' in html


def test_the_staff_page_explains_every_refusal_kind():
    """A refusal kind the API can send must have plain words on the staff page (else it shows a bare code)."""
    import pathlib
    import re

    from policyqa.qa.answer import REFUSALS

    js = (pathlib.Path(__file__).resolve().parents[2] / "api" / "static" / "staff.js").read_text(encoding="utf-8")
    labels = set(re.findall(r"^\s+(\w+): '", js.split("REFUSAL_LABELS")[1].split("};")[0], re.M))
    assert set(REFUSALS) <= labels, sorted(set(REFUSALS) - labels)
