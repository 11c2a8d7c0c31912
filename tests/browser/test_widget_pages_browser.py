"""The widget as a government site embeds it: zh and en at 360 px and at 200 % zoom, keyboard only; on a
refusal it points to the citizen hotline; a large-text toggle; a "was this helpful?" vote that is stored.
axe-core on every state, screenshots to artifacts/screenshots/."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)

from playwright.sync_api import Page, expect

from .conftest import axe_violations, shot

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

REFUSED_ZH = "北京市的人才落户政策是什么？"
ENGLISH_Q = "Which department is responsible for home care services for the elderly in the community?"


def _focused(page: Page):
    return page.evaluate(
        """() => { const h = document.querySelector('policy-qa-widget');
                   const a = h && document.activeElement === h ? h.shadowRoot.activeElement : null;
                   return a ? (a.getAttribute('data-qa') || a.className) : null; }"""
    )


def _tab_to(page: Page, target: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page) == target:
            return
    raise AssertionError(f"{target} never got focus by Tab")


def _open_and_ask(page: Page, path: str, question: str) -> None:
    page.goto(path)
    expect(page.locator("[data-qa=launcher]")).to_be_visible()
    _tab_to(page, "launcher")
    page.keyboard.press("Enter")
    assert _focused(page) == "input"
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    expect(page.locator("[data-qa=answer], [data-qa=no-answer]").first).to_be_visible()
    expect(page.locator("[data-qa=loading]")).to_have_count(0)


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    box = page.locator("policy-qa-widget [role=dialog]").bounding_box()
    width = page.evaluate("() => window.innerWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, box


def _metric(live_server: str, name: str) -> float:
    text = urllib.request.urlopen(live_server + "/metrics").read().decode()
    m = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(m.group(1)) if m else 0.0


def test_zh_refusal_points_to_the_hotline_and_takes_a_vote_by_keyboard(page: Page, live_server):
    page.set_viewport_size({"width": 360, "height": 740})
    _open_and_ask(page, "/widget-demo", REFUSED_ZH)
    expect(page.locator("[data-qa=no-answer]")).to_be_visible()
    contact = page.locator("[data-qa=contact]")
    expect(contact).to_contain_text("12345")
    expect(contact.locator("a")).to_have_attribute("href", "tel:12345")
    _no_horizontal_scroll(page)
    bad = axe_violations(page)
    assert not bad, bad
    shot(page, "widget-zh-360-refusal")
    before = _metric(live_server, 'qa_feedback_stored{helpful="false"}')
    _tab_to(page, "helpful-no")
    page.keyboard.press("Enter")
    expect(page.locator("[data-qa=feedback]")).to_contain_text("谢谢")
    assert _metric(live_server, 'qa_feedback_stored{helpful="false"}') == before + 1
    assert not page.js_errors


def test_en_answer_in_english_with_the_chinese_quote_at_360(page: Page):
    page.set_viewport_size({"width": 360, "height": 740})
    _open_and_ask(page, "/widget-demo-en", ENGLISH_Q)
    en = page.locator("[data-qa=answer-en]").last
    expect(en).to_be_visible()
    expect(en.locator("[data-qa=answer]")).to_contain_text("Shanghai Municipal Civil Affairs Bureau")
    quote = en.locator("[data-qa=quote-zh]").first
    expect(quote).to_have_attribute("lang", "zh-CN")
    expect(en).to_contain_text("authoritative")
    _no_horizontal_scroll(page)
    bad = axe_violations(page)
    assert not bad, bad
    shot(page, "widget-en-360-answer")
    # the citation opens the clause page in English labels, never JSON
    href = page.locator("[data-qa=citation]").first.get_attribute("href")
    assert "/clauses/" in href and "lang=en" in href


@pytest.mark.parametrize("lang, path", [("zh", "/widget-demo"), ("en", "/widget-demo-en")])
def test_widget_at_200_percent_zoom_with_large_text(chromium_browser, live_server, lang, path):
    # 200 % zoom of a 1280 × 800 window: half the CSS pixels, each drawn twice as large
    context = chromium_browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=2, base_url=live_server)
    context.set_default_timeout(10_000)
    context.route(lambda url: not url.startswith(live_server + "/"), lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(path)
        expect(page.locator("[data-qa=launcher]")).to_be_visible()
        _tab_to(page, "launcher")
        page.keyboard.press("Enter")
        size = page.locator("[data-qa=input]").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        _tab_to(page, "large-text")
        page.keyboard.press("Enter")
        expect(page.locator("[data-qa=large-text]")).to_have_attribute("aria-pressed", "true")
        larger = page.locator("[data-qa=input]").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert larger >= size * 1.2, (size, larger)
        page.locator("[data-qa=input]").focus()
        page.keyboard.type(REFUSED_ZH if lang == "zh" else ENGLISH_Q)
        page.keyboard.press("Enter")
        expect(page.locator("[data-qa=answer], [data-qa=no-answer]").first).to_be_visible()
        _no_horizontal_scroll(page)
        bad = axe_violations(page)
        assert not bad, bad
        shot(page, f"widget-{lang}-200pct-large-text")
        # the choice is remembered on reload
        page.reload()
        _tab_to(page, "launcher")
        page.keyboard.press("Enter")
        expect(page.locator("[data-qa=large-text]")).to_have_attribute("aria-pressed", "true")
    finally:
        context.close()
