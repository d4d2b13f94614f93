"""Real-browser tests: Playwright drives Debian's chromium (never a downloaded
browser) against pytest-django's live server, which also serves the static
files (django.contrib.staticfiles is installed, so it uses StaticFilesHandler,
straight from the apps' static/ folders: no collectstatic).

    CQS_CHROMIUM=/path/to/chromium   another chromium binary (default /usr/bin/chromium)
    CQS_SKIP_BROWSER=1               skip these tests when chromium is missing (else they fail)
    pytest -m "not browser"          run everything else

Every test here is marked `browser` and uses `live_server`, hence
`transactional_db`: data made by fixtures is committed, so the server thread
sees it, and the tables are emptied after each test (SQLite in memory, shared
with the server thread, or PostgreSQL with DATABASE_URL).
"""

import os
from pathlib import Path

import pytest

from tests.browser.support import new_context, new_page

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CQS_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an asyncio event loop marked as running in
    the main thread from sync_playwright().start() until stop(). Django then
    takes every ORM call made in that thread (fixtures creating data, the
    transactional_db flush after each test) for a call from async code and
    raises SynchronousOnlyOperation. Nothing here runs inside that loop — the
    test code is plain synchronous code — so the check is switched off, for
    the tests of this package only: the browser is package-scoped, so the loop
    is gone before any other package's tests run, and the variable is restored."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(_orm_beside_playwright):
    """Headless chromium, one for all the tests of this package. Package scope,
    not session scope: see _orm_beside_playwright."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        message = (
            f"chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
            "(apt-get install -y chromium), or CQS_CHROMIUM=/path/to/chromium. "
            "Set CQS_SKIP_BROWSER=1 to skip them instead."
        )
        if os.environ.get("CQS_SKIP_BROWSER") == "1":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser, live_server):
    """A 360×740 phone page (vi-VN) in a fresh context; page.goto("/") opens the live server."""
    context = new_context(browser, live_server.url)
    yield new_page(context)
    context.close()


@pytest.fixture
def desktop_page(browser, live_server):
    """A 1366×768 desktop page (vi-VN) in a fresh context of its own."""
    context = new_context(browser, live_server.url, desktop=True)
    yield new_page(context)
    context.close()


@pytest.fixture
def new_browser_page(browser, live_server):
    """Factory for more pages, each in its own context (another user, another
    device): new_browser_page(desktop=True, **context_options)."""
    contexts = []

    def make(*, desktop=False, **options):
        context = new_context(browser, live_server.url, desktop=desktop, **options)
        contexts.append(context)
        return new_page(context)

    yield make
    for context in contexts:
        context.close()
