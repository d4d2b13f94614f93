"""Helpers for the real-browser tests: contexts sized like a low-end phone or a
desktop, and `check_page`, the checks every page of a journey must pass.

    page.goto("/")                                   # the `page` fixture has base_url = live server
    check_page(page, "tra-cuu", journey="cong-dan-nop-ho-so")
    check_reflow(page)                               # 200 % zoom on a 1280 px screen

`check_page` measures the most recent main-frame navigation of `page`: pages
must come from `new_page` (the `page` / `desktop_page` fixtures use it), which
records every network request per navigation with the HTTP cache disabled, so
each page is weighed as on a first visit.
"""

from __future__ import annotations

import os
import shutil
import weakref
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# CQS_AXE_CORE: another copy (.ci/run gives the PostgreSQL pass its own, as `npm ci` may rewrite node_modules).
AXE_PATH = Path(os.environ.get("CQS_AXE_CORE") or REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js")
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"

PHONE = {"width": 360, "height": 740}  # a low-end Android phone
DESKTOP = {"width": 1366, "height": 768}  # the most common office screen
PAGE_BUDGET_BYTES = 150 * 1024  # document + CSS + JS + images, per page load
UPLOADS_PREFIX = "/tep/"  # user uploads: not part of the page's own weight
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_BLOCKING = {"serious", "critical"}


# --- contexts and pages ------------------------------------------------------


def new_context(browser, base_url: str | None = None, *, desktop: bool = False, **options):
    """A fresh browser context (own cookies and storage): 360×740 phone by
    default, 1366×768 with desktop=True; Vietnamese locale, Vietnam time."""
    settings = {
        "viewport": DESKTOP if desktop else PHONE,
        "locale": "vi-VN",
        "timezone_id": "Asia/Ho_Chi_Minh",
        "base_url": base_url,
    }
    if not desktop:
        settings.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    settings.update(options)
    return browser.new_context(**settings)


def new_page(context):
    """A page of `context` whose navigations `check_page` can weigh."""
    page = context.new_page()
    recorder = _Recorder(page)
    # Weigh every page as on a first visit: with the HTTP cache on, a page after
    # the first would look lighter than it is for a citizen arriving from a link.
    recorder.cdp = context.new_cdp_session(page)
    recorder.cdp.send("Network.enable")
    recorder.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    return page


class _Recorder:
    """The requests of the most recent main-frame navigation of a page."""

    _of = weakref.WeakKeyDictionary()

    def __init__(self, page):
        self.page = page
        self.requests = []
        self.failed = []
        self.csp_violations = []
        self.started = set()  # the requests of the current page load
        page.on("request", self._on_request)
        page.on("console", self._on_console)
        page.on("requestfinished", self._on_finished)
        page.on("requestfailed", self._on_failed)
        self._of[page] = self

    @classmethod
    def of(cls, page) -> _Recorder:
        try:
            return cls._of[page]
        except KeyError:
            raise AssertionError(
                "check_page needs a page made by tests/browser/support.new_page "
                "(the `page` and `desktop_page` fixtures are)"
            ) from None

    def _on_request(self, request):
        # A new document in the main frame starts a new page load (a redirect's
        # target too: what is weighed is the page finally shown).
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.requests = []
            self.failed = []
            self.csp_violations = []
            self.started = set()
        self.started.add(request)

    def _on_console(self, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def _on_finished(self, request):
        if request in self.started and not _browser_own(request):
            self.requests.append(request)

    def _on_failed(self, request):
        # A request of the page before (a preview still loading when the test moved on) is cancelled
        # after the next load began: it is not this page's failure.
        if request in self.started and not _browser_own(request):
            self.failed.append(request)

    def weigh(self) -> tuple[int, list[tuple[int, str, str]]]:
        """Bytes transferred (response headers + body as sent) for the last page
        load, and (bytes, resource type, url) per request, heaviest first."""
        rows = []
        for request in self.requests:
            if request.url.startswith("data:") or _path(request.url).startswith(UPLOADS_PREFIX):
                continue
            sizes = request.sizes()
            size = max(sizes["responseBodySize"], 0) + max(sizes["responseHeadersSize"], 0)
            rows.append((size, request.resource_type, request.url))
        rows.sort(reverse=True)
        return sum(r[0] for r in rows), rows


def _browser_own(request) -> bool:
    """chromium's own pages (its PDF viewer in a preview frame loads chrome-extension:// and chrome://
    files, some aborted when the frame goes): not the page's requests, neither its weight nor its errors."""
    return request.url.startswith(("chrome-extension://", "chrome://"))


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


# --- the checks --------------------------------------------------------------

_shot_numbers: dict[str, int] = defaultdict(int)


def screenshot(page, name: str, journey: str) -> Path:
    """Full-page screenshot to artifacts/screenshots/<journey>/<NN>-<name>.png,
    NN counting the screenshots of that journey in this test run (the journey's
    folder is emptied at its first screenshot, so no stale pictures remain)."""
    folder = SCREENSHOTS / journey
    if _shot_numbers[journey] == 0 and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _shot_numbers[journey] += 1
    path = folder / f"{_shot_numbers[journey]:02d}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, impacts=AXE_BLOCKING) -> list[dict]:
    """axe-core (node_modules/axe-core, `npm ci`) on the loaded page, WCAG 2.1
    A and AA rules; the violations whose impact is in `impacts`."""
    if not AXE_PATH.exists():
        raise AssertionError(f"{AXE_PATH} is missing: run `npm ci` at the repository root")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the debugging protocol, which the page's Content-Security-Policy does not
        # govern: a <script> tag with axe's text inline would be refused, as it should be.
        page.evaluate(AXE_PATH.read_text())
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [v for v in result["violations"] if v.get("impact") in impacts]


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"][:3]]
        more = f" (+{len(v['nodes']) - 3} more)" if len(v["nodes"]) > 3 else ""
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} — {', '.join(targets)}{more}\n      {v['helpUrl']}")
    return "\n".join(lines)


def horizontal_overflow(page) -> tuple[int, int] | None:
    """(scrollWidth, viewport width) when the page scrolls sideways, else None.

    Compared with documentElement.clientWidth, not window.innerWidth: in a
    mobile context (is_mobile, as phones do) Chromium widens the layout
    viewport to fit content that overflows, so innerWidth grows with the
    overflow (608 for a 600 px box at 360 px) and would hide it."""
    scroll, width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    return (scroll, width) if scroll > width + 1 else None


def check_page(
    page, name: str, journey: str, *, budget: int = PAGE_BUDGET_BYTES, expect_status: int | None = None
) -> Path:
    """The checks every page of a journey must pass, on the page now loaded:

    - axe-core, WCAG 2.0/2.1 A and AA: no violation of impact serious or critical;
    - at most `budget` bytes (150 KB) transferred for the most recent page load
      (document, CSS, JS, images, fonts; not uploads under /tep/), cold cache;
    - no request of that page load failed, and nothing on it was refused by the
      Content-Security-Policy (an inline script or style attribute);
    - no horizontal scrolling at the current viewport (360 px with `page`);
    - <html lang="vi"> and a non-empty <title>.

    expect_status (e.g. 403, 404) is for error pages: the page's own document
    must answer with that status, which is then not reported as a failure.

    The full-page screenshot (returned) is taken first, so a failing page has
    one too; all failures are reported together.
    """
    recorder = _Recorder.of(page)
    page.wait_for_load_state("networkidle")
    shot = screenshot(page, name, journey)
    problems = []

    violations = axe_violations(page)
    if violations:
        problems.append(
            f"axe-core: {len(violations)} serious/critical WCAG 2.1 AA violation(s):\n" + format_violations(violations)
        )

    total, rows = recorder.weigh()
    if total > budget:
        heaviest = "\n".join(f"  {size:>8} B  {kind:<10} {url}" for size, kind, url in rows[:10])
        problems.append(f"page weight: {total} B transferred > budget {budget} B:\n{heaviest}")
    if recorder.csp_violations:
        problems.append("Content-Security-Policy refused: " + "\n  ".join(recorder.csp_violations))
    # A request chromium gave up because the same address loaded meanwhile (the dossier page's
    # lazy thumbnail and the open preview show one file) is not a missing resource.
    delivered = {r.url for r in recorder.requests}
    failed = [r for r in recorder.failed if not (r.failure == "net::ERR_ABORTED" and r.url in delivered)]
    if failed:
        problems.append("failed requests: " + ", ".join(f"{r.url} ({r.failure})" for r in failed))
    document_status = _document_status(recorder)
    if expect_status is not None and document_status != expect_status:
        problems.append(f"the page answered HTTP {document_status}, expected {expect_status}")
    for request, status in _error_statuses(recorder):
        if expect_status is not None and status == expect_status and _is_document(recorder, request):
            continue
        problems.append(f"HTTP {status} for {request.url}")

    overflow = horizontal_overflow(page)
    if overflow:
        problems.append(
            f"horizontal scrolling: scrollWidth {overflow[0]} px > viewport {overflow[1]} px{_widest_elements(page)}"
        )

    lang = page.evaluate("() => document.documentElement.getAttribute('lang')")
    if lang != "vi":
        problems.append(f'<html lang> is {lang!r}, expected "vi"')
    if not page.title().strip():
        problems.append("<title> is empty")

    if problems:
        raise AssertionError(
            f"page {name!r} of journey {journey!r} ({page.url}, screenshot {shot}):\n" + "\n".join(problems)
        )
    return shot


def _error_statuses(recorder):
    for request in recorder.requests:
        response = request.response()
        if response is not None and response.status >= 400:
            yield request, response.status


def _is_document(recorder, request) -> bool:
    return request.is_navigation_request() and request.frame == recorder.page.main_frame


def _document_status(recorder) -> int | None:
    """HTTP status of the page's own document (the last main-frame navigation)."""
    for request in reversed(recorder.requests):
        if _is_document(recorder, request):
            response = request.response()
            return response.status if response is not None else None
    return None


def _widest_elements(page) -> str:
    found = page.evaluate("""() => {
        const w = document.documentElement.clientWidth, out = [];
        for (const el of document.body.querySelectorAll('*')) {
            const r = el.getBoundingClientRect();
            if (r.right > w + 1) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
                + ' right=' + Math.round(r.right));
            if (out.length >= 5) break;
        }
        return out;
    }""")
    return ("; overflowing: " + ", ".join(found)) if found else ""


def check_reflow(page, width: int = 640, height: int = 512) -> None:
    """WCAG 1.4.4 / 1.4.10: the page at 200 % zoom on a 1280×1024 screen is laid
    out in a 640×512 CSS-pixel viewport. At that size: no horizontal scrolling,
    and <main> is visible and fits the width. The viewport is restored after."""
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": height})
    try:
        problems = []
        overflow = horizontal_overflow(page)
        if overflow:
            problems.append(f"horizontal scrolling at {width} px: scrollWidth {overflow[0]} px{_widest_elements(page)}")
        main = page.locator("main")
        if main.count() != 1:
            problems.append(f"expected one <main>, found {main.count()}")
        elif not main.is_visible():
            problems.append("<main> is not visible")
        else:
            box = main.bounding_box()
            if box["x"] < -1 or box["x"] + box["width"] > width + 1:
                problems.append(f"<main> does not fit {width} px: x={box['x']:.0f}, width={box['width']:.0f}")
        if problems:
            raise AssertionError(f"reflow ({page.url}):\n" + "\n".join(problems))
    finally:
        if before:
            page.set_viewport_size(before)


# --- helpers for journeys ------------------------------------------------------


def sign_in(page, username: str, password: str, *, open_page: bool = True) -> None:
    """Sign in through the real login page (/dang-nhap/), by its labels; waits
    for the page the login redirects to. open_page=False when the login page
    is already shown (after a redirect from a page that needs an account)."""
    if open_page:
        page.goto("/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập", exact=True).click()
    assert "/dang-nhap/" not in page.url, f"sign-in as {username} failed: still on {page.url}"


def focused(page, selector: str) -> bool:
    """Whether document.activeElement matches the CSS selector."""
    return page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector)


def describe_focus(page) -> str:
    return page.evaluate("""() => { const e = document.activeElement; if (!e) return 'nothing';
        return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : '')
            + ' ' + JSON.stringify((e.innerText || e.value || '').trim().slice(0, 40)); }""")


def tab_to(page, selector: str, *, limit: int = 40, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab with backwards=True) until the focused element
    matches `selector`, as a keyboard user would; fails after `limit` presses."""
    trail = []
    for _ in range(limit):
        if focused(page, selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        trail.append(describe_focus(page))
    if not focused(page, selector):
        raise AssertionError(
            f"{selector} not reached with {limit} Tab presses on {page.url}; focus went: " + " → ".join(trail)
        )


def pdf_text(data: bytes) -> str:
    """The text of a PDF (pypdf), pages joined; whitespace runs collapsed."""
    import io
    import re

    from pypdf import PdfReader

    assert data.startswith(b"%PDF"), f"not a PDF: {data[:40]!r}"
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"[ \t]+", " ", text)


def minimal_pdf(text: str = "Chinh quyen so") -> bytes:
    """A small, valid one-page PDF (correct xref table) showing `text` (ASCII)."""
    content = f"BT /F1 12 Tf 20 50 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def tiny_png() -> bytes:
    """A valid 1×1 RGB PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x2e\x7d\x32")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
