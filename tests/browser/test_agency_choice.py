"""Choosing the receiving agency in a real browser, on a phone: type-to-filter with
JavaScript, the same filter by its button without JavaScript, the choice shown on the
review step with its "Sửa" link back. Every page passes check_page (axe-core, weight)."""

from __future__ import annotations

import pytest

from tests.browser.support import check_page, new_context, new_page, sign_in
from tests.conftest import make_procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CITIZEN_ID, CITIZEN_PASSWORD = "089012345678", "Cong-dan-2025"
JOURNEY = "agency-choice"


@pytest.fixture
def procedure(province, admin_user):
    return make_procedure(
        admin_user, [province["tu_phap"], province["xa_a"], province["xa_b"]], levels=["province", "commune"]
    )


def shown_options(page) -> list[str]:
    return page.eval_on_selector(
        "#agency_code",
        "s => Array.from(s.querySelectorAll('optgroup:not([hidden]) option')).map(o => o.textContent)",
    )


def test_filter_as_you_type_and_review_shows_the_agency(page, procedure, citizen):
    sign_in(page, CITIZEN_ID, CITIZEN_PASSWORD)
    page.goto(f"/thu-tuc/{procedure.code}/nop-truc-tuyen/")
    assert "/nguoi-nop/" in page.url
    check_page(page, "1-nguoi-nop", JOURNEY)
    assert shown_options(page) == ["Sở Tư pháp", "UBND xã Kiến An", "UBND xã Kiến Thành"]
    page.get_by_label("Tìm xã, phường hoặc sở, ngành theo tên").fill("kien th")
    assert shown_options(page) == ["UBND xã Kiến Thành"]
    assert page.get_by_label("Cơ quan nhận hồ sơ").input_value() == "xa-kien-thanh"
    page.get_by_label("Địa chỉ liên hệ").fill("Ấp Long Hòa, xã Kiến Thành")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu và tiếp tục").click()
    assert page.url.endswith("/giay-to/")
    page.goto(page.url.replace("/giay-to/", "/xem-lai/"))
    check_page(page, "3-xem-lai", JOURNEY)
    assert "UBND xã Kiến Thành" in page.locator("dl.facts").inner_text()
    page.get_by_role("link", name="Sửa cơ quan nhận hồ sơ").click()
    page.wait_for_url("**/nguoi-nop/#agency-choice")
    assert page.get_by_label("Cơ quan nhận hồ sơ").input_value() == "xa-kien-thanh"


def test_the_filter_button_works_without_javascript(browser, live_server, procedure, citizen):
    context = new_context(browser, live_server.url, java_script_enabled=False)
    try:
        page = new_page(context)
        sign_in(page, CITIZEN_ID, CITIZEN_PASSWORD)
        page.goto(f"/thu-tuc/{procedure.code}/nop-truc-tuyen/")
        page.get_by_label("Số điện thoại").fill("0912345678")
        page.get_by_label("Tìm xã, phường hoặc sở, ngành theo tên").fill("so tu")
        with page.expect_navigation():
            page.get_by_role("button", name="Lọc danh sách").click()
        # (check_page needs JavaScript for axe-core; the same template is checked above.)
        assert page.locator("#agency_code optgroup option").all_text_contents() == ["Sở Tư pháp"]
        assert page.get_by_label("Cơ quan nhận hồ sơ").input_value() == "so-tu-phap"
        assert page.get_by_label("Số điện thoại").input_value() == "0912345678"
        page.get_by_label("Địa chỉ liên hệ").fill("Tổ 1, phường Mỹ Bình")
        with page.expect_navigation():
            page.get_by_role("button", name="Lưu và tiếp tục").click()
        assert page.url.endswith("/giay-to/")
    finally:
        context.close()
