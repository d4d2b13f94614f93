"""The IOC page at a glance, in a real browser: a provincial leader on a
1366×768 screen sees the overdue count without scrolling; the wall mode
fits a 1920×1080 screen without scrolling. Both pages go through
`check_page` (axe-core, weight < 150 KB) and leave screenshots in
artifacts/screenshots/ioc/."""

import pytest

from chinhquyenso.accounts.models import GlobalRole, Role
from chinhquyenso.accounts.services import create_officer
from chinhquyenso.feedback.models import AreaPoint
from tests.browser.support import check_page, sign_in
from tests.dashboard.conftest import dataset  # noqa: F401 (fixture)

PASSWORD = "Mat-khau-2025"
JOURNEY = "ioc"


@pytest.fixture
def provincial_leader(province):
    AreaPoint.objects.create(agency=province["xa_a"], latitude="10.3865", longitude="105.4352")
    AreaPoint.objects.create(agency=province["xa_b"], latitude="10.4500", longitude="105.5100")
    return create_officer(
        actor=None,
        username="ubnd.lanhdao",
        password=PASSWORD,
        full_name="Lãnh đạo UBND tỉnh",
        memberships=[(province["ubnd"], Role.LEADER)],
        global_role=GlobalRole.AUDITOR,
    )


def test_leader_sees_the_overdue_count_without_scrolling(desktop_page, dataset, provincial_leader):  # noqa: F811
    page = desktop_page
    assert page.viewport_size == {"width": 1366, "height": 768}
    sign_in(page, "ubnd.lanhdao", PASSWORD)
    page.goto("/dieu-hanh/?ky=2025-Q1")
    assert page.evaluate("window.scrollY") == 0
    count = page.locator("#so-qua-han")
    assert "1 hồ sơ đang quá hạn" in count.inner_text()
    box = count.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] < 768, box
    assert page.locator("#so-sap-den-han").bounding_box()["y"] < 768
    check_page(page, "dieu-hanh-1366", journey=JOURNEY)
    # Drillable: the count opens the province's overdue list.
    with page.expect_navigation():
        count.get_by_role("link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Hồ sơ đang quá hạn: Toàn tỉnh"
    assert dataset["D3"].code in page.get_by_role("region", name="Danh sách hồ sơ đang quá hạn").inner_text()
    check_page(page, "qua-han-toan-tinh", journey=JOURNEY)


def test_wall_mode_fits_a_1920_by_1080_screen(desktop_page, dataset, provincial_leader):  # noqa: F811
    page = desktop_page
    sign_in(page, "ubnd.lanhdao", PASSWORD)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto("/dieu-hanh/trinh-chieu/?ky=2025-Q1")
    size = page.evaluate("({h: document.documentElement.scrollHeight, w: document.documentElement.scrollWidth})")
    assert size["h"] <= 1080 and size["w"] <= 1920, size
    for selector in ("#so-qua-han", "#so-sap-den-han", "svg.choropleth", "#o-on_time_rate", "#o-received"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 1080, (selector, box)
    assert page.locator("#so-qua-han").inner_text().startswith("1")
    check_page(page, "trinh-chieu-1920", journey=JOURNEY)
