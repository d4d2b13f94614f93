"""Citizen feedback in a real browser, end to end: a citizen on a phone
reports a broken street light ("đèn đường hỏng") with a photo, anyone reads
the public page and the map (no personal data), the officer of the agency
responsible for public lighting resolves it, the citizen rates the answer,
and the IOC dashboard shows the period's resolution and late rates. Every
page goes through `check_page` (axe-core WCAG 2.1 AA, weight, no sideways
scrolling) and leaves a screenshot in artifacts/screenshots/phan-anh/."""

import io
import re

import pytest
from PIL import Image

from chinhquyenso.accounts.models import Role
from chinhquyenso.accounts.services import create_officer
from chinhquyenso.dashboard.selectors import today
from chinhquyenso.feedback import services
from chinhquyenso.feedback.models import AreaPoint, Feedback, Status
from chinhquyenso.indicators.periods import quarter
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from tests.browser.support import check_page, check_reflow, sign_in
from tests.feedback.conftest import jpeg

PASSWORD = "Mat-khau-2025"
CITIZEN_ID, CITIZEN_PASSWORD, CITIZEN_NAME = "089012345678", "Cong-dan-2025", "Nguyễn Thị Hoà"
PHONE = "0912345678"
JOURNEY = "phan-anh"
LIGHT = "Đèn đường hỏng trước chợ Kiến An, buổi tối tối om, dễ xảy ra tai nạn."


@pytest.fixture
def lighting_officer(province, admin_user, registry):
    """Sở Công Thương handles public lighting (category "Điện – nước"); the
    communes have their map points; the indicator registry feeds the dashboard."""
    agency = org.create_agency(
        actor=admin_user,
        name="Sở Công Thương",
        kind=AgencyKind.DEPARTMENT,
        parent=province["ubnd"],
        electronic_code="000.00.20.H01",
        code="so-cong-thuong",
    )
    services.load_categories(actor=admin_user)
    AreaPoint.objects.create(agency=province["xa_a"], latitude="10.480000", longitude="105.480000")
    AreaPoint.objects.create(agency=province["xa_b"], latitude="10.430000", longitude="105.520000")
    return create_officer(
        actor=admin_user,
        username="sct.chuyenvien",
        password=PASSWORD,
        full_name="Chuyên viên Sở Công Thương",
        memberships=[(agency, Role.SPECIALIST)],
    )


def test_a_broken_street_light_from_report_to_rating(new_browser_page, lighting_officer, citizen, admin_user, tmp_path):
    photo = tmp_path / "den-duong.jpg"
    photo.write_bytes(jpeg(gps=True, size=(64, 48)))

    # The citizen, on a phone standing in front of the market, finds the feedback pages in the menu.
    page = new_browser_page(
        geolocation={"latitude": 10.481234, "longitude": 105.481234, "accuracy": 8}, permissions=["geolocation"]
    )
    sign_in(page, CITIZEN_ID, CITIZEN_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Chính").get_by_role("link", name="Phản ánh, kiến nghị").click()
    assert page.url.endswith("/phan-anh/")
    check_page(page, "danh-sach", journey=JOURNEY)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Phản ánh, kiến nghị").get_by_role("link", name="Gửi phản ánh").click()
    check_page(page, "mau-phan-anh", journey=JOURNEY)
    check_reflow(page)

    # The category's extra question appears once the category is chosen.
    service = page.get_by_label("Dịch vụ")
    assert not service.is_visible()
    page.get_by_role("radio", name=re.compile(r"^Điện – nước")).check()
    assert service.is_visible()
    service.select_option(label="Chiếu sáng công cộng")
    page.get_by_label("Nội dung phản ánh").fill(LIGHT)
    # The place: the phone's position drops the map's pin (cqs/map.js; tests/browser/test_maps.py).
    page.get_by_role("button", name="Dùng vị trí của tôi").click()
    page.get_by_role("status").filter(has_text="Đã đặt ghim ở vị trí của bạn").wait_for()
    assert page.locator("input[type=hidden][name=latitude]").input_value() == "10.481234"
    assert page.locator("input[type=hidden][name=longitude]").input_value() == "105.481234"
    page.get_by_label("Địa chỉ, mô tả nơi xảy ra").fill("Trước cổng chợ Kiến An")
    page.get_by_label(re.compile(r"^Chọn hoặc chụp tối đa 5 ảnh")).set_input_files(photo)
    assert not page.get_by_label("Giữ vị trí trong ảnh").is_checked()
    assert page.get_by_label("Họ và tên").input_value() == CITIZEN_NAME
    page.get_by_label("Số điện thoại").fill(PHONE)
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi phản ánh").click()

    feedback = Feedback.objects.get()
    assert feedback.agency.code == "so-cong-thuong" and feedback.area.code == "xa-kien-an"
    assert feedback.attribute_values == {"dich_vu": "chieu-sang"}
    stored = feedback.photos.get().file.file.read()
    assert 0x8825 not in Image.open(io.BytesIO(stored)).getexif(), "the photo kept its GPS position"
    assert re.search(rf"/phan-anh/theo-doi/{re.escape(feedback.token)}/", page.url)
    status = page.get_by_role("status").filter(has_text="Mã phản ánh").first.inner_text()
    assert f"Mã phản ánh: {feedback.code}" in status
    follow_url = page.url.split("?")[0]
    check_page(page, "da-gui", journey=JOURNEY)

    # Anyone: the public page and the map, without the reporter's name or phone.
    stranger = new_browser_page()
    stranger.goto(f"/phan-anh/{feedback.code}/")
    main = stranger.get_by_role("main").inner_text()
    assert LIGHT in main and "Sở Công Thương" in main and "xã Kiến An" in main
    for private in (CITIZEN_NAME, PHONE, "10.481234", "10,481234", feedback.token):
        assert private not in stranger.content(), private
    assert stranger.get_by_role("img", name=f"Ảnh 1 của phản ánh {feedback.code}").is_visible()
    check_page(stranger, "trang-cong-khai", journey=JOURNEY)
    stranger.goto("/phan-anh/ban-do/")
    assert stranger.get_by_role("group", name=re.compile("Bản đồ phản ánh")).is_visible()
    assert (
        stranger.get_by_role("region", name=re.compile("Danh sách các điểm"))
        .get_by_role("link", name=feedback.code)
        .is_visible()
    )
    check_page(stranger, "ban-do", journey=JOURNEY)
    # Without an account, the form starts by verifying the phone.
    stranger.goto("/phan-anh/gui/")
    assert stranger.get_by_role("heading", name="Bước 1: Xác minh số điện thoại").is_visible()
    assert stranger.get_by_role("button", name="Gửi phản ánh").count() == 0
    check_page(stranger, "xac-minh-so-dien-thoai", journey=JOURNEY)

    # The officer of Sở Công Thương: queue → report (with the contact details) → start → resolve.
    officer = new_browser_page(desktop=True)
    sign_in(officer, "sct.chuyenvien", PASSWORD)
    with officer.expect_navigation():
        officer.get_by_role("navigation", name="Chính").get_by_role("link", name="Phản ánh", exact=True).click()
    row = officer.get_by_role("row").filter(has_text=feedback.code)
    assert re.search(r"Còn 1[4-6] ngày làm việc", row.inner_text()), row.inner_text()  # 15 working days to handle it
    check_page(officer, "can-bo-danh-sach", journey=JOURNEY)
    with officer.expect_navigation():
        row.get_by_role("link", name=feedback.code).click()
    assert CITIZEN_NAME in officer.get_by_role("main").inner_text() and PHONE in officer.content()
    check_page(officer, "can-bo-phan-anh", journey=JOURNEY)
    with officer.expect_navigation():
        officer.get_by_role("button", name="Bắt đầu xử lý").click()
    officer.get_by_label("Trả lời công khai (kết quả xử lý)").fill("Đã thay bóng đèn LED mới ngày hôm nay.")
    with officer.expect_navigation():
        officer.get_by_role("button", name="Hoàn thành, gửi trả lời").click()
    assert "Đã xử lý xong" in officer.get_by_role("main").inner_text()
    check_page(officer, "can-bo-da-xu-ly", journey=JOURNEY)

    # The citizen, back on the private follow link, reads the answer and rates it.
    page.goto(follow_url)
    assert "Đã thay bóng đèn LED mới ngày hôm nay." in page.get_by_role("main").inner_text()
    check_page(page, "danh-gia", journey=JOURNEY)
    page.get_by_label("5 sao — rất hài lòng").check()
    page.get_by_label(re.compile(r"^Nhận xét")).fill("Sửa rất nhanh, cảm ơn.")
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi đánh giá").click()
    feedback.refresh_from_db()
    assert feedback.status == Status.CLOSED and feedback.rating == 5 and feedback.on_time
    assert "5/5 sao: Sửa rất nhanh, cảm ơn." in page.get_by_role("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="Phản ánh của tôi").click()
    assert "Đã đóng" in page.get_by_role("row").filter(has_text=feedback.code).inner_text()
    check_page(page, "phan-anh-cua-toi", journey=JOURNEY)

    # The IOC dashboard: this quarter, one report received and resolved, none late.
    leader = new_browser_page()
    sign_in(leader, "qt.tinh", PASSWORD)
    now = today()
    leader.goto(f"/dieu-hanh/?ky={quarter(now.year, (now.month - 1) // 3 + 1).code}")  # this quarter, unfinished
    resolved = leader.locator("#o-feedback_resolution_rate").inner_text()
    late = leader.locator("#o-feedback_late_rate").inner_text()
    assert "100,0%" in resolved and "1/1 phản ánh" in resolved, resolved
    assert "0,0%" in late and "0/1 phản ánh" in late, late
    check_page(leader, "dieu-hanh", journey=JOURNEY)
