"""Digitizing an old birth register in a real browser: the commune's civil
registrar (công chức tư pháp – hộ tịch) uploads a typed list, watches the
import, downloads the error workbook, fixes the rejected row in it and
imports it again (no duplicates), reviews the record with an impossible date
and prints its extract copy. The worker's step runs in the test's process
(the live server shares the database). Every page goes through `check_page`
(axe-core WCAG 2.1 AA, weight, no sideways scrolling) and leaves a screenshot
in artifacts/screenshots/ho-tich/."""

import importlib.util
import re

import pytest
from openpyxl import load_workbook

from chinhquyenso.civil_records import importer
from chinhquyenso.civil_records.models import CivilRecord, FieldReview, ImportBatch, ReviewState
from tests.browser.support import check_page, check_reflow, sign_in

PASSWORD = "Mat-khau-2025"
JOURNEY = "ho-tich"
BIRTHS = (
    "Quyển số,Số đăng ký,Năm đăng ký,Họ và tên,Giới tính,Ngày sinh,Họ và tên cha,Họ và tên mẹ\n"
    "01,1,1967,Nguyễn Văn Hòa,Nam,12/05/1967,Nguyễn Văn Ba,Trần Thị Tư\n"
    "01,2,1967,Lê Thị Hoa,Nữ,29/02/1967,Lê Văn Năm,Phạm Thị Sáu\n"
    "01,,1967,,Nam,01/06/1967,Phạm Văn Hai,Đỗ Thị Ba\n"
    "01,4,1967,Trần Văn Bảy,Nam,03/07/1967,Trần Văn Tám,Võ Thị Chín\n"
)


def run_worker_step() -> ImportBatch:
    """What `cqs worker` does with the newest queued batch."""
    batch = ImportBatch.objects.latest("pk")
    assert batch.status == ImportBatch.Status.QUEUED
    return importer.run_batch(batch, batch.file.path)


def facts(page) -> str:
    return " ".join(page.get_by_role("main").inner_text().split())


def test_a_birth_register_from_upload_to_extract_copy(desktop_page, new_browser_page, officers, tmp_path):
    page = desktop_page
    source = tmp_path / "so-khai-sinh-1967.csv"
    source.write_text(BIRTHS, encoding="utf-8")

    # The registrar of xã Kiến An finds the registers in the menu and opens the import form.
    sign_in(page, "xa_a.specialist", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Chính").get_by_role("link", name="Hộ tịch", exact=True).click()
    assert page.url.endswith("/can-bo/ho-tich/")
    check_page(page, "tra-cuu", journey=JOURNEY)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Hộ tịch").get_by_role("link", name="Nhập sổ").click()
    check_page(page, "nhap-so", journey=JOURNEY)
    page.get_by_label("Loại sổ").select_option(label="Khai sinh")
    assert page.get_by_label(re.compile(r"^Nơi đăng ký")).input_value() == str(
        officers["xa_a"]["specialist"].memberships.get().agency_id
    )
    page.get_by_label(re.compile(r"^Tệp danh sách")).set_input_files(source)
    with page.expect_navigation():
        page.get_by_role("button", name="Tải lên và nhập").click()

    # Queued: the page reloads itself until the worker is done; the officer may stop that.
    assert re.search(r"/can-bo/ho-tich/lo/\d+/$", page.url)
    batch_url = page.url
    assert "Đang chờ" in facts(page)
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    with page.expect_navigation():
        page.get_by_role("link", name="Dừng tự cập nhật").click()
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    check_page(page, "lo-dang-cho", journey=JOURNEY)

    batch = run_worker_step()
    assert (batch.imported, batch.flagged, batch.rejected) == (3, 1, 1)
    page.goto(batch_url)
    text = facts(page)
    assert "Hoàn tất" in text and "Đã nhập 3" in text and "Bị từ chối 1" in text and "Đã có, bỏ qua 0" in text
    assert page.locator("progress").get_attribute("value") == "1000"
    rejected = page.get_by_role("row").filter(has_text="Không dùng được")
    assert rejected.get_by_role("cell").first.inner_text() == "4"
    assert "29/02/1967" in page.get_by_role("row").filter(has_text="năm 1967 không phải năm nhuận").inner_text()
    check_page(page, "lo-hoan-tat", journey=JOURNEY)

    # The error workbook: the rejected row as typed, with what to fix; fixed in the spreadsheet program.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Tải sổ tính lỗi (.xlsx)").click()
    download = download_info.value
    assert download.failure() is None and download.suggested_filename == "loi-so-khai-sinh-1967.xlsx"
    errors_path = tmp_path / download.suggested_filename
    download.save_as(errors_path)
    book = load_workbook(errors_path)
    sheet = book["Cần sửa"]
    headers = [cell.value for cell in sheet[1]]
    assert sheet.max_row == 2 and sheet.cell(2, headers.index("Dòng gốc") + 1).value == 4
    assert "Không dùng được" in sheet.cell(2, headers.index("Thông báo") + 1).value
    sheet.cell(2, headers.index("Số đăng ký") + 1).value = "3"
    sheet.cell(2, headers.index("Họ và tên") + 1).value = "Phạm Văn Út"
    corrected = tmp_path / "loi-so-khai-sinh-1967-da-sua.xlsx"
    book.save(corrected)

    # Imported again from the batch page's link: type and commune already chosen.
    with page.expect_navigation():
        page.get_by_role("link", name="Nhập tệp đã sửa").click()
    assert page.get_by_label("Loại sổ").input_value() == "birth"
    page.get_by_label(re.compile(r"^Tệp danh sách")).set_input_files(corrected)
    with page.expect_navigation():
        page.get_by_role("button", name="Tải lên và nhập").click()
    run_worker_step()
    # The queued page refreshes itself every 2 s: a reload racing that refresh is aborted, so
    # open it again with the refresh off (a finished batch's page does not refresh anyway).
    page.goto(page.url.split("?")[0] + "?tu_dong=0")
    text = facts(page)
    assert "Hoàn tất" in text and "Đã nhập 1" in text and "Bị từ chối 0" in text and "Đã có, bỏ qua 0" in text
    assert CivilRecord.objects.count() == 4 and CivilRecord.objects.get(number="3").subject_name == "Phạm Văn Út"
    check_page(page, "lo-da-sua", journey=JOURNEY)

    # Search finds the names without diacritics, and with the old tone placement.
    page.goto("/can-bo/ho-tich/")
    page.get_by_label(re.compile(r"^Họ và tên")).fill("nguyen van hoà")
    with page.expect_navigation():
        page.get_by_role("button", name="Tìm").click()
    results = page.get_by_role("row").filter(has_text="Nguyễn Văn Hòa")
    assert results.count() == 1 and "12/05/1967" in results.inner_text()
    check_page(page, "ket-qua-tra-cuu", journey=JOURNEY)

    # The review queue, then the record with the impossible date.
    with page.expect_navigation():
        page.get_by_role("navigation", name="Hộ tịch").get_by_role("link", name="Rà soát").click()
    row = page.get_by_role("row").filter(has_text="Lê Thị Hoa")
    assert "Ngày không có thật" in row.inner_text()
    check_page(page, "ra-soat", journey=JOURNEY)
    with page.expect_navigation():
        row.get_by_role("link").click()
    record = CivilRecord.objects.get(number="2")
    assert page.url.endswith(f"/can-bo/ho-tich/{record.pk}/")
    date_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Ngày sinh"))
    assert "29/02/1967" in date_row.inner_text() and "02/1967" in date_row.inner_text()
    check_page(page, "ban-ghi", journey=JOURNEY)
    check_reflow(page)
    review = page.get_by_role("region", name="Ngày sinh")
    review.get_by_label(re.compile(r"^Giá trị đúng")).fill("28/02/1967")
    review.get_by_label("Ghi chú sửa").fill("Theo sổ gốc: sinh ngày 28/02/1967")
    with page.expect_navigation():
        review.get_by_role("button", name="Sửa").click()
    assert "Ngày sinh: đã sửa giá trị chuẩn hóa." in page.get_by_role("status").inner_text()
    history = page.get_by_role("row").filter(has_text="Theo sổ gốc: sinh ngày 28/02/1967").inner_text()
    assert "02/1967 → 28/02/1967" in history and "Cán bộ xa_a specialist" in history
    record.refresh_from_db()
    assert record.review_state == ReviewState.REVIEWED and record.verbatim["Ngày sinh"] == "29/02/1967"
    assert FieldReview.objects.get().new_value == "1967-02-28"
    check_page(page, "ban-ghi-da-ra-soat", journey=JOURNEY)

    # On a phone: the record page, too.
    phone = new_browser_page()
    sign_in(phone, "xa_a.counter_officer", PASSWORD)
    phone.goto(f"/can-bo/ho-tich/{record.pk}/")
    assert phone.get_by_role("button", name="Xác nhận đúng như sổ").count() == 0
    check_page(phone, "ban-ghi-dien-thoai", journey=JOURNEY)

    # The extract copy, signed by the registrar named in the form.
    if importlib.util.find_spec("chinhquyenso.civil_records.printing") is None:
        pytest.skip("civil_records.printing is not there yet")
    assert page.get_by_label("Người ký").input_value() == "Cán bộ xa_a specialist"
    response = page.request.get(
        f"/can-bo/ho-tich/{record.pk}/trich-luc.pdf",
        params={"nguoi_ky": "Trần Thị Lan", "chuc_danh": "Công chức tư pháp - hộ tịch"},
    )
    assert response.status == 200, response.text()[:500]
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
