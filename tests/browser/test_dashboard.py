"""The IOC dashboard in a real browser, on a 360 px phone: a provincial
leader signs in, opens "Điều hành (IOC)", reads the tiles and the charts, and
drills down province → district → commune → procedure → overdue dossiers →
the dossier in the back office. Every dashboard page goes through
`check_page` (axe-core WCAG 2.1 AA, weight < 150 KB, no sideways scrolling)
and leaves a screenshot in artifacts/screenshots/dashboard/."""

import pytest

from chinhquyenso.accounts.models import GlobalRole, Role
from chinhquyenso.accounts.services import create_officer
from tests.browser.support import check_page, check_reflow, sign_in
from tests.dashboard.conftest import dataset  # noqa: F401 (fixture)

PASSWORD = "Mat-khau-2025"
JOURNEY = "dashboard"


@pytest.fixture(autouse=True)
def small_province_ranks(settings):
    """Two or three dossiers per commune here: rank from 2 (the default minimum is 10)."""
    settings.CQS = {**settings.CQS, "DASHBOARD_RANKING_MIN_DOSSIERS": 2}


@pytest.fixture
def provincial_leader(province):
    """A leader of UBND tỉnh, with province-wide read access (kiểm tra, giám sát)."""
    return create_officer(
        actor=None,
        username="ubnd.lanhdao",
        password=PASSWORD,
        full_name="Lãnh đạo UBND tỉnh",
        memberships=[(province["ubnd"], Role.LEADER)],
        global_role=GlobalRole.AUDITOR,
    )


def test_leader_reads_the_dashboard_and_drills_down(page, dataset, provincial_leader):  # noqa: F811
    page.goto("/dang-nhap/")
    sign_in(page, "ubnd.lanhdao", PASSWORD, open_page=False)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Chính").get_by_role("link", name="Điều hành (IOC)").click()
    assert page.url.endswith("/dieu-hanh/")

    # Quarter I/2025 from the period chooser (a plain GET form: no script needed).
    page.get_by_label("Kỳ số liệu", exact=True).select_option("2025-Q1")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem", exact=True).click()
    main = page.get_by_role("main")
    assert "Số liệu quý I năm 2025; so sánh với quý IV năm 2024" in main.inner_text()
    online = page.locator("#o-online_rate_all")
    assert online.get_by_role("heading", name="Nộp trực tuyến").is_visible()
    assert "60,0%" in online.inner_text() and "▲ tăng 10,0 điểm phần trăm — tốt hơn" in online.inner_text()
    for name in (
        "Hồ sơ tiếp nhận theo tháng, theo hình thức nộp",
        "Tỷ lệ nộp trực tuyến và tỷ lệ giải quyết đúng hạn theo tháng",
    ):
        chart = page.get_by_role("img", name=name)
        assert chart.is_visible() and chart.bounding_box()["width"] <= 360
    check_page(page, "toan-tinh", journey=JOURNEY)
    check_reflow(page)

    # Province → district.
    with page.expect_navigation():
        page.get_by_role("region", name="Theo cơ quan").get_by_role(
            "link", name="UBND huyện Chợ Mới", exact=True
        ).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Điều hành: UBND huyện Chợ Mới"
    check_page(page, "huyen", journey=JOURNEY)

    # District → commune.
    with page.expect_navigation():
        page.get_by_role("region", name="Theo cơ quan").get_by_role("link", name="UBND xã Kiến An", exact=True).click()
    assert "3 hồ sơ" in page.locator("#o-received").inner_text()
    check_page(page, "xa", journey=JOURNEY)

    # Commune → procedure, with its overdue dossier.
    with page.expect_navigation():
        page.get_by_role("region", name="Theo thủ tục").get_by_role("link", name="Đăng ký khai sinh").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Đăng ký khai sinh"
    assert page.get_by_role("heading", name="Hồ sơ đang quá hạn (1)").is_visible()
    code = dataset["D3"].code
    check_page(page, "thu-tuc", journey=JOURNEY)

    # Back to the commune by the breadcrumb, then every overdue dossier of the commune.
    with page.expect_navigation():
        page.get_by_role("navigation", name="Vị trí trong cây cơ quan").get_by_role(
            "link", name="UBND xã Kiến An"
        ).click()
    with page.expect_navigation():
        page.get_by_role("link", name="xem danh sách hồ sơ đang quá hạn").click()
    rows = page.get_by_role("region", name="Danh sách hồ sơ đang quá hạn").get_by_role("row")
    assert rows.count() == 2 and code in rows.nth(1).inner_text()
    check_page(page, "ho-so-qua-han", journey=JOURNEY)

    # The dossier itself, in the back office.
    with page.expect_navigation():
        page.get_by_role("link", name=code).click()
    assert page.url.endswith(f"/can-bo/ho-so/{code}/")
    assert code in page.get_by_role("heading", level=1).inner_text()


def test_commune_leader_lands_on_their_commune(page, dataset, officers):  # noqa: F811
    page.goto("/dang-nhap/")
    sign_in(page, "xa_a.leader", PASSWORD, open_page=False)
    page.goto("/dieu-hanh/?ky=2025-Q1")
    assert page.get_by_role("heading", level=1).inner_text() == "Điều hành: UBND xã Kiến An"
    assert "xếp thứ 1/2 trong các UBND cấp xã" in page.get_by_role("main").inner_text()
    check_page(page, "lanh-dao-xa", journey=JOURNEY)
    response = page.goto("/dieu-hanh/co-quan/xa-kien-thanh/?ky=2025-Q1")
    assert response.status == 403
    assert "chỉ xem được số liệu của cơ quan mình" in page.get_by_role("main").inner_text()
    check_page(page, "co-quan-khac-403", journey=JOURNEY, expect_status=403)
