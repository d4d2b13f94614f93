"""The demo's printed accounts in a real browser: the journey starts from the
text `cqs seed-demo` / `cqs demo` print (demo.services.account_lines), signs in
with every printed account on the login page its pages use (`/quan-tri/` has
its own), and opens every page printed beside it — README item "the province
administrator (`quantri`) at `/quan-tri/`", the IOC operator at `/dieu-hanh/`,
a commune's officers at the civil-status registers. A gate that disagrees with
what the demo prints fails here."""

import datetime as dt
from io import StringIO

from django.core.management import call_command

from chinhquyenso.demo.services import DEMO_PASSWORD, parse_account_lines
from tests.browser.support import screenshot, sign_in

JOURNEY = "tai-khoan-trinh-dien"
# What each page shows to an account allowed in (its heading or the admin's site header).
SIGNED_IN_MARK = {"/quan-tri/": "Quản trị tỉnh"}


def test_every_printed_account_opens_every_page_printed_for_it(new_browser_page):
    out = StringIO()
    call_command("seed_demo", dossiers=40, until=dt.date(2025, 12, 31), stdout=out)
    printed = out.getvalue()
    accounts = parse_account_lines(printed)
    usernames = {a.username for a in accounts}
    # The roles the README and docs name, each printed with the page it is for.
    assert {"quantri", "kiemtra", "dieuphoi"} <= usernames
    pages_of = {a.username: a.pages for a in accounts}
    assert "/quan-tri/" in pages_of["quantri"] and "/dieu-hanh/" in pages_of["dieuphoi"]
    assert any("/can-bo/ho-tich/" in pages for pages in pages_of.values() if pages != pages_of["quantri"])
    assert any(a.pages == ["/ca-nhan/"] for a in accounts)

    refused = []
    for account in accounts:
        page = new_browser_page(desktop=True)
        for path in account.pages:
            if path == "/quan-tri/":
                # The administration signs in on its own page, as the README sends the administrator there.
                page.goto("/quan-tri/")
                page.get_by_label("Tên đăng nhập").fill(account.username)
                page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
                with page.expect_navigation():
                    page.locator("input[type=submit], button[type=submit]").first.click()
                response = page.goto("/quan-tri/")
            else:
                if "/dang-nhap/" in page.url or page.url == "about:blank":
                    sign_in(page, account.username, DEMO_PASSWORD)
                response = page.goto(path)
            landed = page.url.split(page.url.split("/")[2], 1)[1]
            text = page.locator("body").inner_text()
            if response.status != 200 or "dang-nhap" in landed or "login" in landed:
                refused.append(f"{account.username} {path}: {response.status} at {landed}")
            elif path in SIGNED_IN_MARK and SIGNED_IN_MARK[path] not in text:
                refused.append(f"{account.username} {path}: not signed in")
        if account.username in ("quantri", "dieuphoi"):
            screenshot(page, account.username, JOURNEY)
        page.context.close()
    assert not refused, "printed accounts refused on their printed pages:\n" + "\n".join(refused)
