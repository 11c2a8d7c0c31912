"""Fixtures for the real-browser tests: a live uvicorn server on 127.0.0.1 and a headless Debian Chromium.

Playwright is imported lazily (inside fixtures) so that, on a machine without /usr/bin/chromium, the test
module's clean skip happens before anything needs the playwright package.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser_index_dir(tmp_path_factory, lexical_bundle):
    from policyqa.index.store import save_index

    d = tmp_path_factory.mktemp("browser-index")
    save_index(lexical_bundle, d)
    return d


@pytest.fixture(scope="session")
def live_server(browser_index_dir, tmp_path_factory):
    """Base URL of the real app served by uvicorn in a background thread (127.0.0.1 only)."""
    import uvicorn

    from policyqa.api.app import create_app
    from policyqa.qa.settings import Settings

    settings = Settings(
        index_dir=browser_index_dir, mode="lexical", rate_limit=0, cors_origins=["*"], admin_api_key=None,
        data_dir=tmp_path_factory.mktemp("browser-data"),  # feedback votes land here, never in the checkout
    )
    app = create_app(settings)

    # Bind the socket ourselves and hand it to uvicorn: no window between "find a free port" and "listen".
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-browser-tests", daemon=True)
    thread.start()

    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    last_error: object = None
    while True:
        if not thread.is_alive():
            sock.close()
            pytest.fail(f"uvicorn exited before becoming ready (last error: {last_error!r})")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as resp:
                if resp.status == 200:
                    break
                last_error = resp.status
        except (urllib.error.URLError, OSError) as exc:
            last_error = exc
        if time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=5)
            sock.close()
            pytest.fail(f"/readyz did not answer 200 within 30 s (last error: {last_error!r})")
        time.sleep(0.05)

    yield base

    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def chromium_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=20_000)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium_browser, live_server):
    """A fresh browser context per test, desktop 1280x800 (tests may call page.set_viewport_size before goto)."""
    context = chromium_browser.new_context(
        viewport={"width": 1280, "height": 800},
        base_url=live_server,
        locale="zh-CN",
        reduced_motion="reduce",
    )
    context.set_default_timeout(5_000)
    context.set_default_navigation_timeout(10_000)
    # Only the live server may be reached: any other request is a test bug or a widget leak.
    context.route(
        lambda url: not url.startswith(live_server + "/"),
        lambda route: route.abort(),
    )
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"  # npm axe-core, vendored (see vendor/README.md)


def axe_violations(page, *, impacts=("serious", "critical"), include: str | None = None) -> list[dict]:
    """Run axe-core in the page (through the devtools protocol, so a strict CSP does not stop it) and return the
    violations of the given impact, each as {id, impact, help, targets}."""
    if not page.evaluate("() => !!window.axe"):
        page.evaluate("(src) => { (0, eval)(src); }", AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async (include) => {
            const r = await window.axe.run(include ? { include: [include] } : document,
                                           { resultTypes: ['violations'] });
            return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                            targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }));
        }""",
        include,
    )
    return [v for v in result if v["impact"] in impacts]


def shot(page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot to artifacts/screenshots/ (the viewport by default: what a person sees first)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
