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
    shot(page, "docs-swagger", full_page=True)
    bad = axe_violations(page)
    assert not bad, bad


def test_redoc_lists_every_operation(page: Page, live_server):
    ops = _operations(live_server)
    page.goto("/redoc")
    expect(page.locator("h1").first).to_contain_text("policyqa")
    # ReDoc renders one section per operation, its method and path in the endpoint box
    for _method, path, op_id in ops:
        section = page.locator(f"[data-section-id='operation/{op_id}']")
        expect(section).to_be_attached()
        expect(section).to_contain_text(path)
    assert not page.js_errors
    shot(page, "docs-redoc")
    bad = axe_violations(page)
    assert not bad, bad


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
    shot(page, "clause-page", full_page=True)
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


AGENCY_Q = "哪个部门负责社区养老上门服务？"
SUPPORT_Q = "我们是做广告的小公司，研发投入大，有什么奖励？"


def _staff_ask(page: Page, question: str) -> None:
    page.goto("/")
    page.locator("#q").fill(question)
    page.keyboard.press("Enter")
    expect(page.locator("[data-qa=answer-panel]")).to_be_visible()
    expect(page.locator("[data-qa=clause-card]").first).to_be_visible()


def test_staff_page_answers_an_agency_question(page: Page, screenshots_dir):
    _staff_ask(page, AGENCY_Q)
    panel = page.locator("[data-qa=answer-panel]")
    expect(panel.locator("[data-qa=intent]")).to_contain_text("哪个部门")
    expect(panel.locator("[data-qa=answer-agency]").first).to_contain_text("上海市民政局")
    expect(panel.locator("[data-qa=as-of]")).to_be_visible()
    # the answer sits above the clause cards, and no jargon is shown
    panel_box = panel.bounding_box()
    card_box = page.locator("[data-qa=clause-card]").first.bounding_box()
    assert panel_box["y"] < card_box["y"]
    body = page.locator("main").inner_text()
    for jargon in ("检索模式", "lexical", "hybrid", "相关度", "score"):
        assert jargon not in body, jargon
    bad = axe_violations(page)
    assert not bad, bad
    shot(page, "staff-agency-answer")
    # the lead agency opens the agency view (checked too)
    panel.locator("[data-qa=answer-agency] .agency-link").first.click()
    expect(page.locator("#agency-detail h2")).to_contain_text("上海市民政局")
    bad = axe_violations(page)
    assert not bad, bad
    shot(page, "staff-agency-view")
    page.goto("/")
    _staff_ask(page, AGENCY_Q)
    # its citation opens the readable clause page in the same tab, never raw JSON
    panel.locator("[data-qa=citation]").first.click()
    page.wait_for_load_state()
    assert "/clauses/" in page.url
    expect(page.locator("[data-qa=clause-text]")).to_be_visible()
    expect(page.locator("[data-qa=clause-text] mark")).to_be_visible()
    assert not page.js_errors


def test_staff_page_answers_a_support_question(page: Page, screenshots_dir):
    _staff_ask(page, SUPPORT_Q)
    panel = page.locator("[data-qa=answer-panel]")
    expect(panel.locator("[data-qa=intent]")).to_contain_text("支持措施")
    measures = panel.locator("[data-qa=measure]")
    expect(measures.first).to_be_visible()
    # every measure shows its document's status
    for i in range(measures.count()):
        expect(measures.nth(i).locator(".badge")).to_be_visible()
    shot(page, "staff-support-answer")
    # a new question clears the old answer while it loads
    page.route("**/v1/ask", lambda route: (page.wait_for_timeout(800), route.continue_()))
    page.locator("#q").fill(AGENCY_Q)
    page.keyboard.press("Enter")
    expect(page.locator("[data-qa=measure]")).to_have_count(0)
    expect(panel.locator("[data-qa=answer-agency]").first).to_be_visible()


def test_staff_page_refusal_and_narrow_screen(page: Page, screenshots_dir):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/")
    expect(page.locator("#filters-box")).not_to_have_attribute("open", "")
    page.locator("#q").fill("北京市的人才落户政策是什么？")
    page.keyboard.press("Enter")
    panel = page.locator("[data-qa=answer-panel]")
    expect(panel.locator("[data-qa=refusal]")).to_be_visible()
    expect(panel.locator("[data-qa=refusal]")).to_contain_text("原因")
    assert panel.bounding_box()["y"] < 740, "the answer is pushed below the fold"
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    bad = axe_violations(page)
    assert not bad, bad
    shot(page, "staff-refusal-360")


def test_staff_upload_form_reports_a_missing_key(page: Page):
    page.goto("/#add")
    expect(page.locator("#upload-form")).to_be_visible()
    page.locator("#admin-files").set_input_files(files=[{"name": "a.txt", "mimeType": "text/plain", "buffer": "第一条 测试。".encode()}])
    page.locator("#admin-key").fill("wrong")
    page.locator("#upload-form button[type=submit]").click()
    expect(page.locator("#upload-error")).to_contain_text("未添加任何文件")
    bad = axe_violations(page)
    assert not bad, bad
