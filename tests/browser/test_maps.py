"""The maps in a real browser (Leaflet from core/static/vendor/leaflet, cqs/map.js), offline as
every test is (no tile server: the communes' points are the base layer):

- a citizen on a phone drops a feedback pin by tapping the map, drags it, sees the nearest
  commune chosen, and files the report: the hidden fields carried the point;
- the public map clusters nearby reports, a keyboard opens a cluster and a pin;
- the officer sees the report's point on a small map with a directions link.

Every page goes through check_page (axe-core, 150 KB — the vendored Leaflet goes out gzipped as
in production, see conftest._static_files_as_in_production — no CSP refusal); screenshots in
artifacts/screenshots/ban-do/."""

import re

import pytest

from chinhquyenso.feedback import services
from chinhquyenso.feedback.models import AreaPoint, Feedback
from tests.browser.support import check_page, sign_in
from tests.conftest import vn
from tests.feedback.conftest import file_report

JOURNEY = "ban-do"
CITIZEN_ID, CITIZEN_PASSWORD = "089012345678", "Cong-dan-2025"


@pytest.fixture
def feedback_setup(province, admin_user):
    services.load_categories(actor=admin_user)
    AreaPoint.objects.create(agency=province["xa_a"], latitude="10.480000", longitude="105.480000")
    AreaPoint.objects.create(agency=province["xa_b"], latitude="10.430000", longitude="105.520000")


def hidden(page, name: str) -> str:
    return page.locator(f"input[type=hidden][name={name}]").input_value()


def no_tile_requests(page) -> None:
    images = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert not [u for u in images if "tile" in u], images


def test_a_citizen_drops_a_feedback_pin_on_the_map(page, feedback_setup, citizen):
    sign_in(page, CITIZEN_ID, CITIZEN_PASSWORD)
    page.goto("/phan-anh/gui/")
    check_page(page, "mau-phan-anh-ban-do", journey=JOURNEY)
    # No raw coordinate boxes: the map is the way to give a point.
    assert page.get_by_label("Vĩ độ").count() == 0
    map_ = page.get_by_role("group", name="Bản đồ chọn nơi xảy ra")
    map_.wait_for()
    assert page.locator(".cqs-map--offline .cqs-place").count() == 2  # the offline base: the communes' points
    no_tile_requests(page)

    assert page.get_by_role("button", name="Dùng vị trí của tôi").is_visible()
    assert not page.get_by_role("button", name="Bỏ ghim").is_visible()  # no pin yet
    page.get_by_role("radio", name=re.compile(r"^Môi trường")).check()
    page.get_by_label("Nội dung phản ánh").fill("Rác thải đổ bừa bãi ven kênh, gần cầu.")
    # Tap the map near Kiến Thành's point: the pin drops there, the fields get the point.
    map_.scroll_into_view_if_needed()
    box = map_.bounding_box()
    place = page.locator(".cqs-place").nth(1).bounding_box()  # sorted by name: Kiến An, Kiến Thành
    map_.click(position={"x": place["x"] - box["x"] + 6, "y": place["y"] - box["y"] + 12})
    pin = page.get_by_role("button", name=re.compile("Ghim nơi xảy ra"))
    pin.wait_for()
    # The first tap zooms the map in on the pin, to place it exactly.
    page.wait_for_function("() => document.getElementById('ban-do-chon-vi-tri')._cqsMap.getZoom() >= 15")
    lat, lon = float(hidden(page, "latitude")), float(hidden(page, "longitude"))
    assert 10.2 < lat < 10.95 and 104.8 < lon < 105.6
    status = page.locator("#vi-tri-trang-thai")
    assert "Đã đặt ghim" in status.inner_text() and "Gần xã Kiến Thành" in status.inner_text()
    assert page.get_by_label("Xã, phường, thị trấn").input_value() == "xa-kien-thanh"

    # Drag the pin a little: the fields follow.
    assert page.get_by_role("button", name="Bỏ ghim").is_visible()
    pin.scroll_into_view_if_needed()
    start = pin.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 15, y + 25, steps=5)
    page.mouse.up()
    page.wait_for_function("(lat) => document.getElementById('latitude').value !== lat", arg=f"{lat:.6f}")
    dragged = float(hidden(page, "latitude")), float(hidden(page, "longitude"))
    assert dragged[0] < lat and dragged[1] < lon  # down and to the left: south and west
    assert "Đã chuyển ghim" in status.inner_text()
    # The pin is a keyboard target too: an arrow key moves it.
    pin.focus()
    page.keyboard.press("ArrowUp")
    assert float(hidden(page, "latitude")) > dragged[0]
    final = hidden(page, "latitude"), hidden(page, "longitude")
    assert box["width"] > 300  # the map spans the phone's width

    with page.expect_navigation():
        page.get_by_role("button", name="Gửi phản ánh").click()
    feedback = Feedback.objects.get()
    assert (f"{feedback.latitude:.6f}", f"{feedback.longitude:.6f}") == final
    assert feedback.area.code == "xa-kien-thanh"


def test_the_public_map_clusters_points_and_opens_them_by_keyboard(desktop_page, feedback_setup, citizen):
    codes = []
    for i in range(12):
        report = file_report(
            category_code="moi-truong",
            description=f"Rác thải ven kênh, điểm số {i}.",
            latitude=f"10.48{i:02d}00",
            longitude="105.480000",
            reporter=citizen,
            channel="web",
            at=vn(2025, 3, 3, 9, i),
        )
        codes.append(report.code)
    page = desktop_page
    page.goto("/phan-anh/ban-do/")
    page.get_by_role("group", name="Bản đồ phản ánh, kiến nghị").wait_for()
    clusters = page.locator(".cqs-cluster")
    clusters.first.wait_for()
    assert "12" in clusters.first.inner_text() or clusters.count() > 1
    no_tile_requests(page)
    check_page(page, "ban-do-cong-khai", journey=JOURNEY)
    # Keyboard: a cluster is a button; Enter zooms in until single pins show, Enter on a pin opens it.
    for _ in range(8):
        if page.locator(".cqs-pin").count():
            break
        page.locator(".cqs-cluster").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_timeout(400)  # the zoom animation
    pin = page.locator(".cqs-pin").first
    pin.focus()
    page.keyboard.press("Enter")
    link = page.locator(".cqs-map-popup a")
    link.wait_for()
    assert re.fullmatch(r"/phan-anh/PA-\d{4}-\d{6}/", link.get_attribute("href"))
    assert page.evaluate("() => document.activeElement.closest('.cqs-map-popup') !== null")
    assert all(size >= 24 for size in (pin.bounding_box()["width"], pin.bounding_box()["height"]))


def test_the_officer_sees_the_point_and_a_directions_link(desktop_page, feedback_setup, officers):
    report = file_report(
        category_code="moi-truong",
        description="Rác thải ven kênh.",
        latitude="10.481234",
        longitude="105.481234",
        name="Trần Văn Bảo",
        phone="0987654321",
        reporter=None,
        channel="open311",
        at=vn(2025, 3, 3, 9),
    )
    page = desktop_page
    sign_in(page, "xa_a.specialist", "Mat-khau-2025")
    page.goto(f"/can-bo/phan-anh/{report.code}/")
    page.get_by_role("group", name="Bản đồ nơi xảy ra phản ánh").wait_for()
    assert page.locator(".cqs-pin").count() == 1
    link = page.get_by_role("link", name=re.compile("^Chỉ đường đến nơi xảy ra"))
    assert link.get_attribute("href").endswith("destination=10.481234,105.481234")
    check_page(page, "can-bo-ban-do", journey=JOURNEY)


def test_without_javascript_the_form_asks_for_commune_and_address(new_browser_page, feedback_setup, citizen):
    page = new_browser_page(java_script_enabled=False)
    sign_in(page, CITIZEN_ID, CITIZEN_PASSWORD)
    page.goto("/phan-anh/gui/")
    assert not page.get_by_role("group", name="Bản đồ chọn nơi xảy ra").is_visible()
    assert not page.get_by_role("button", name="Dùng vị trí của tôi").is_visible()
    assert page.get_by_label("Vĩ độ").count() == 0  # no raw coordinate boxes either
    page.get_by_role("radio", name=re.compile(r"^Môi trường")).check()
    page.get_by_label("Nội dung phản ánh").fill("Rác thải đổ bừa bãi ven kênh, gần cầu.")
    page.get_by_label("Xã, phường, thị trấn").select_option(label="xã Kiến Thành")
    page.get_by_label("Địa chỉ, mô tả nơi xảy ra").fill("Chân cầu Kiến Thành")
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi phản ánh").click()
    feedback = Feedback.objects.get()
    assert feedback.area.code == "xa-kien-thanh" and feedback.latitude is None
