"""The service's own pages in a real headless Chromium: API docs, the clause page, the staff page.

Every page is checked with axe-core (no serious or critical violation) and screenshotted to
artifacts/screenshots/ (CI keeps them as artefacts).
"""

from __future__ import annotations

from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)

from playwright.sync_api import Page, expect

from .conftest import axe_violations, shot

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def _operations(live_server) -> list[tuple[str, str]]:
    import json
    import urllib.request

    with urllib.request.urlopen(live_server + "/openapi.json") as r:
        spec = json.load(r)
    return [(m.upper(), p, op["operationId"]) for p, item in spec["paths"].items() for m, op in item.items()]


def test_swagger_ui_lists_every_operation(page: Page, live_server):
    ops = _operations(live_server)
    assert len(ops) >= 10
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("policyqa")
    assert page.locator("text=Unable to render this definition").count() == 0
    blocks = page.locator(".opblock")
    expect(blocks).to_have_count(len(ops))
    for method, path, _ in ops:
        block = page.locator(f".opblock-{method.lower()} [data-path='{path}']")
        expect(block).to_have_count(1)
    assert not page.js_errors
    shot(page, "docs-swagger")
    bad = axe_violations(page)
    assert not bad, bad


def test_redoc_lists_every_operation(page: Page, live_server):
    ops = _operations(live_server)
    page.goto("/redoc")
    expect(page.locator("h1").first).to_contain_text("policyqa")
    # ReDoc renders one section per operation, its method and path in the endpoint box
    for method, path, op_id in ops:
        section = page.locator(f"[data-section-id='operation/{op_id}']")
        expect(section).to_be_attached()
        expect(section).to_contain_text(path)
    assert not page.js_errors
    shot(page, "docs-redoc")


def test_clause_page(page: Page, screenshots_dir):
    page.goto("/clauses/hfbf2025-5:2.3.6?q=" + "广告公司研发投入奖励")
    expect(page.locator("h1")).to_contain_text("上海市促进服务业创新发展若干措施")
    expect(page.locator("[data-qa=clause-text] mark")).to_be_visible()
    expect(page.locator("[data-qa=status]")).to_be_visible()
    expect(page.locator("[data-qa=agencies] a").first).to_have_attribute("href", "/#agency=" + "%E5%B8%82%E7%A7%91%E5%A7%94")
    # the copy button, by keyboard
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#copy-btn").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#copy-status")).not_to_be_empty()
    bad = axe_violations(page)
    assert not bad, bad
    shot(page, "clause-page")
    page.set_viewport_size({"width": 360, "height": 740})
    shot(page, "clause-page-360")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    # the neighbour link goes to the next clause's page
    page.locator("[data-qa=next]").click()
    page.wait_for_load_state()
    assert "/clauses/" in page.url and "2.3.6" not in page.url
    assert not page.js_errors


def test_clause_page_unknown_id(page: Page):
    resp = page.goto("/clauses/no-such:1")
    assert resp.status == 404
    expect(page.locator("[data-qa=not-found]")).to_contain_text("no-such:1")
    bad = axe_violations(page)
    assert not bad, bad
