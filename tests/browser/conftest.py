"""Real-browser tests: Playwright drives Debian's chromium (never a downloaded
browser) against pytest-django's live server, which also serves the static
files (django.contrib.staticfiles is installed, so it uses StaticFilesHandler,
straight from the apps' static/ folders: no collectstatic).

    CQS_CHROMIUM=/path/to/chromium   another chromium binary (default /usr/bin/chromium)
    CQS_REQUIRE_TOOLS=1              fail, not skip, when chromium or axe-core is missing (.ci/run sets it)
    pytest -m "not browser"          run everything else

Without chromium or node_modules/axe-core (`npm ci`) these tests are skipped,
with the reason in the summary (`-rs` is in addopts): a newcomer's first run
ends in a clear skip, not in errors. CI exports CQS_REQUIRE_TOOLS=1, which
turns that skip into a failure, so a build can never pass without them — the
rule every test needing an outside program follows (tests/external_tools.py).

Every test here is marked `browser` and uses `live_server`, hence
`transactional_db`: data made by fixtures is committed, so the server thread
sees it, and the tables are emptied after each test (SQLite in memory, shared
with the server thread, or PostgreSQL with DATABASE_URL).
"""

import os
from pathlib import Path

import pytest

from tests.browser.support import AXE_PATH, new_context, new_page
from tests.external_tools import decide, require

HERE = Path(__file__).resolve().parent


def chromium_path(environ=os.environ) -> str:
    return environ.get("CQS_CHROMIUM", "/usr/bin/chromium")


def missing_requirement(environ=os.environ, axe_path: Path = AXE_PATH) -> str | None:
    """Why the browser tests cannot run here (chromium or axe-core missing), or None."""
    chromium = chromium_path(environ)
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        return (
            f"chromium not found at {chromium}: the browser tests need Debian's chromium "
            "(apt-get install -y chromium), or CQS_CHROMIUM=/path/to/chromium"
        )
    if not axe_path.is_file():
        return f"axe-core not found at {axe_path}: run `npm ci` at the repository root"
    return None


def browser_decision(environ=os.environ, axe_path: Path = AXE_PATH) -> tuple[str, str | None]:
    """("run", None), or ("skip" | "fail", reason): tests/external_tools.decide for the browser."""
    return decide(missing_requirement(environ, axe_path), environ)


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


@pytest.fixture(scope="package", autouse=True)
def _static_files_as_in_production():
    """Static files reach the browser as in production: through WhiteNoise, which sends the
    gzip copy of a file where there is one (collectstatic writes them, CompressedStaticFilesStorage;
    the vendored Leaflet has its own: core/static/vendor/leaflet/*.gz). pytest-django's live server
    would otherwise answer /static/ itself (StaticFilesHandler, uncompressed) before any middleware,
    and check_page would weigh bytes no citizen downloads."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(StaticFilesHandler, "_should_handle", lambda self, path: False)
        yield


@pytest.fixture(scope="package")
def browser(_orm_beside_playwright):
    """Headless chromium, one for all the tests of this package. Package scope,
    not session scope: see _orm_beside_playwright."""
    require(missing_requirement())
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=chromium_path())
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
