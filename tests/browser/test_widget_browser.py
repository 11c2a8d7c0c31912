"""The embeddable widget in a real headless Chromium, against the real app served by uvicorn.

Runs only where Debian's chromium is installed at /usr/bin/chromium (CI installs it); elsewhere the whole
module is skipped. Playwright's CSS locators pierce the widget's open shadow root, so `[data-qa=...]`
selectors reach the elements inside <policy-qa-widget>.
"""

from __future__ import annotations

from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

WAIT_MS = 5_000
expect.set_options(timeout=WAIT_MS)

QUESTION = "哪个部门负责社区养老上门服务？"
XSS_QUESTION = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">护照怎么办？'

# Which element inside the widget's shadow root has focus: its data-qa hook, else its class, else null.
SHADOW_FOCUS_JS = """() => {
  const host = document.querySelector('policy-qa-widget');
  if (!host || document.activeElement !== host) { return null; }
  const a = host.shadowRoot.activeElement;
  return a ? (a.getAttribute('data-qa') || a.className || a.tagName) : null;
}"""


def _shadow_focus(page: Page):
    return page.evaluate(SHADOW_FOCUS_JS)


def _tab_to_launcher(page: Page, max_tabs: int = 40) -> int:
    """Press Tab until the launcher has focus; returns how many presses it took."""
    for n in range(1, max_tabs + 1):
        page.keyboard.press("Tab")
        if _shadow_focus(page) == "launcher":
            return n
    raise AssertionError(f"the launcher never received focus after {max_tabs} Tab presses")


def _open_demo(page: Page, path: str = "/widget-demo") -> None:
    page.goto(path)
    # The script tag is async: wait until the widget has mounted its launcher.
    expect(page.locator("[data-qa=launcher]")).to_be_visible()


def _ask_and_wait(page: Page, question: str) -> str:
    """Type the question into the open panel, submit with Enter and wait for the reply. Returns its kind."""
    inp = page.locator("[data-qa=input]")
    expect(inp).to_be_focused()
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    expect(page.locator("[data-qa=user-message]").last).to_be_visible()
    reply = page.locator("[data-qa=answer], [data-qa=no-answer], policy-qa-widget [role=alert]")
    expect(reply.first).to_be_visible()
    expect(page.locator("[data-qa=loading]")).to_have_count(0)
    alerts = page.locator("policy-qa-widget [role=alert]")
    if alerts.count():
        raise AssertionError(f"the widget showed an error instead of a reply: {alerts.first.text_content()!r}")
    return "answer" if page.locator("[data-qa=answer]").count() else "no-answer"


def test_keyboard_open_answer_with_citations(page: Page, live_server, screenshots_dir):
    _open_demo(page)
    launcher = page.locator("[data-qa=launcher]")
    panel = page.locator("policy-qa-widget [role=dialog]")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()

    # Keyboard only: Tab through the host page to the launcher, Enter opens it.
    _tab_to_launcher(page)
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(panel).to_be_visible()
    assert _shadow_focus(page) == "input", "opening the panel should move focus into the question input"

    # The message list announces new messages to screen readers.
    log = page.locator("policy-qa-widget [role=log]")
    expect(log).to_have_attribute("aria-live", "polite")

    assert _ask_and_wait(page, QUESTION) == "answer", "the community elderly-care question should be answerable"
    expect(page.locator("[data-qa=user-message]").last).to_have_text(QUESTION)

    answer = page.locator("[data-qa=answer]").last
    expect(answer).to_be_visible()
    assert (answer.text_content() or "").strip(), "the answer bubble is empty"

    cards = page.locator("[data-qa=clause-card]")
    assert cards.count() >= 1, "no clause cards rendered"
    expect(cards.first).to_be_visible()

    citations = page.locator("[data-qa=citation]")
    assert citations.count() >= 1, "no citation links rendered"
    hrefs = [citations.nth(i).get_attribute("href") or "" for i in range(citations.count())]
    assert all(h.startswith(live_server + "/clauses/") for h in hrefs), hrefs
    # The first citation opens the readable clause page (HTML, never raw JSON).
    resp = page.request.get(hrefs[0])
    assert resp.status == 200, (hrefs[0], resp.status)
    assert resp.headers["content-type"].startswith("text/html") and "<mark>" in resp.text()
    expect(citations.first).to_have_attribute("target", "_blank")
    assert "noopener" in (citations.first.get_attribute("rel") or "")

    # Focus stays in the input after sending, so the next question can be typed straight away.
    assert _shadow_focus(page) == "input"
    page.screenshot(path=str(screenshots_dir / "widget-answer.png"), full_page=True)

    # Escape closes the panel and hands focus back to the launcher.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_be_focused()
    assert _shadow_focus(page) == "launcher"

    assert page.js_errors == [], page.js_errors


def test_xss_payload_renders_as_text(page: Page, live_server, screenshots_dir):
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    _open_demo(page)
    page.locator("[data-qa=launcher]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("policy-qa-widget [role=dialog]")).to_be_visible()

    _ask_and_wait(page, XSS_QUESTION)

    bubble = page.locator("[data-qa=user-message]").last
    text = bubble.text_content() or ""
    assert "<script>" in text and "<img src=x" in text, text
    assert text == XSS_QUESTION
    # Escaped when serialised again: the markup never became elements.
    inner = bubble.inner_html()
    assert "&lt;script&gt;" in inner and "<script" not in inner and "<img" not in inner, inner
    assert bubble.evaluate("el => el.children.length") == 0

    # Give a would-be onerror handler a moment to run before looking for its effect.
    page.wait_for_timeout(300)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    counts = page.evaluate(
        """() => {
          const root = document.querySelector('policy-qa-widget').shadowRoot;
          return {
            shadowImg: root.querySelectorAll('img').length,
            shadowScript: root.querySelectorAll('script').length,
            docImg: document.querySelectorAll('img').length,
          };
        }"""
    )
    assert counts == {"shadowImg": 0, "shadowScript": 0, "docImg": 0}, counts
    assert not [u for u in requested if u.rstrip("/").endswith("/x")], requested

    page.screenshot(path=str(screenshots_dir / "widget-xss.png"), full_page=True)
    assert page.js_errors == [], page.js_errors


def test_narrow_screen_has_no_horizontal_scroll(page: Page, screenshots_dir):
    width, height = 360, 740
    page.set_viewport_size({"width": width, "height": height})
    _open_demo(page)

    def assert_fits(stage: str) -> None:
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{stage}: horizontal scroll, scrollWidth={scroll_width} > {width}"
        box = page.locator("policy-qa-widget [role=dialog]").bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, f"{stage}: panel {box} exceeds {width}px"
        assert box["y"] >= 0 and box["y"] + box["height"] <= height + 0.5, f"{stage}: panel {box} exceeds {height}px"
        # Nothing inside the log is wider than the log itself.
        overflow = page.evaluate(
            """() => {
              const log = document.querySelector('policy-qa-widget').shadowRoot.querySelector('[role=log]');
              return log.scrollWidth - log.clientWidth;
            }"""
        )
        assert overflow <= 0, f"{stage}: message list overflows horizontally by {overflow}px"

    page.locator("[data-qa=launcher]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("policy-qa-widget [role=dialog]")).to_be_visible()
    assert_fits("opened")

    # Long clause cards and the answer must wrap too.
    _ask_and_wait(page, QUESTION)
    assert_fits("after an answer")
    send = page.locator("[data-qa=send]").bounding_box()
    assert send is not None and send["x"] + send["width"] <= width, f"send button cut off: {send}"

    # What the phone shows (a full-page capture would stretch the page under the fixed 85vh sheet).
    page.screenshot(path=str(screenshots_dir / "widget-360.png"))
    assert page.js_errors == [], page.js_errors


def test_english_interface(page: Page):
    _open_demo(page, "/widget-demo-en")
    launcher = page.locator("[data-qa=launcher]")
    expect(launcher).to_have_text("Policy Q&A")
    expect(page.locator("policy-qa-widget")).to_have_attribute("lang", "en")

    launcher.focus()
    page.keyboard.press("Enter")
    panel = page.locator("policy-qa-widget [role=dialog]")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("aria-label", "Shanghai Policy Q&A")
    expect(panel.locator("h2")).to_have_text("Shanghai Policy Q&A")
    expect(page.locator("[data-qa=send]")).to_have_text("Send")
    expect(page.locator("[data-qa=input]")).to_have_attribute(
        "placeholder", "e.g. Which agency is responsible for attracting companies?"
    )
    expect(page.locator("policy-qa-widget [role=log]")).to_have_attribute("aria-label", "Conversation")
    # No Chinese interface string leaked into the English build.
    assert "政策问答" not in (page.locator("policy-qa-widget .root").text_content() or "")
    assert page.js_errors == [], page.js_errors


def test_english_question_shows_agencies_and_what_was_searched(page: Page, screenshots_dir):
    _open_demo(page, "/widget-demo-en")
    page.locator("[data-qa=launcher]").click()
    assert _ask_and_wait(page, "Which department handles home care for older people, such as family care beds?") == "answer"
    # the agency is given by its English name, the printed Chinese name beside it
    agencies = page.locator("policy-qa-widget .agency")
    expect(agencies.first).to_contain_text("Civil Affairs")
    expect(agencies.first).to_contain_text("市民政局")
    note = page.locator("[data-qa=translation]").last
    expect(note).to_contain_text("Searched in the Chinese documents as:")
    expect(note).to_contain_text("床位")
    page.screenshot(path=str(screenshots_dir / "widget-english-answer.png"))
    assert page.js_errors == [], page.js_errors
