"""A dataset from draft to a visitor's download, in a real browser: a specialist of the Sở Tư pháp
(desktop) drafts a dataset, uploads a CSV and submits it; the agency's leader approves it; an anonymous
visitor on a phone finds it by the agency's facet, opens it, sees the preview table and the chart,
downloads the CSV (the same bytes); the publishing figures page, which said the Sở Tư pháp had not
published, now says it has. Every page goes through `check_page` (axe-core WCAG 2.1 AA, page weight, no
sideways scrolling) and leaves a screenshot in artifacts/screenshots/du-lieu-mo/."""

from __future__ import annotations

import re

from chinhquyenso.opendata import vocabularies
from chinhquyenso.opendata.models import Dataset, DatasetStatus
from tests.browser.support import check_page, sign_in

PASSWORD = "Mat-khau-2025"
JOURNEY = "du-lieu-mo"
TITLE = "Số hồ sơ hộ tịch tiếp nhận theo tháng"
CSV = "tháng,số hồ sơ,trực tuyến\n2025-01,120,80\n2025-02,135,95\n2025-03,150,110\n2025-04,142,101\n".encode()


def main_text(page) -> str:
    return " ".join(page.get_by_role("main").inner_text().split())


def agency_row(page, name: str) -> str:
    return " ".join(page.get_by_role("row", name=re.compile(re.escape(name))).first.inner_text().split())


def test_a_dataset_from_draft_to_a_visitors_download(desktop_page, new_browser_page, officers, province, tmp_path):
    # An earlier transactional test's flush may have emptied the licences and themes the migration loaded.
    vocabularies.load()
    csv_file = tmp_path / "ho-so-ho-tich-theo-thang.csv"
    csv_file.write_bytes(CSV)

    # Before: the figures page says the Sở Tư pháp has published nothing.
    visitor = new_browser_page()
    visitor.goto("/du-lieu-mo/cong-bo/")
    assert "chưa công bố" in agency_row(visitor, "Sở Tư pháp")
    check_page(visitor, "cong-bo-truoc", journey=JOURNEY)

    # The specialist finds "Dữ liệu mở" in the menu, drafts the dataset, uploads the CSV, submits it.
    page = desktop_page
    sign_in(page, "tu_phap.specialist", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Chính").get_by_role("link", name="Dữ liệu mở", exact=True).click()
    check_page(page, "bo-du-lieu-cua-co-quan", journey=JOURNEY)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Dữ liệu mở").get_by_role("link", name="Tạo bộ dữ liệu").click()
    check_page(page, "tao-moi", journey=JOURNEY)
    page.get_by_label("Tên bộ dữ liệu").fill(TITLE)
    page.get_by_label("Mô tả").fill("Số hồ sơ đăng ký hộ tịch các xã tiếp nhận mỗi tháng, trong đó nộp trực tuyến.")
    page.get_by_label("Hành chính công").check()
    page.get_by_label(re.compile("^Từ khóa")).fill("hộ tịch, thống kê")
    page.get_by_label("Tần suất cập nhật").select_option(label="Hằng tháng")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu bản nháp").click()
    assert re.search(r"/can-bo/du-lieu-mo/\d+/$", page.url), page.url
    assert "Đã lưu bản nháp" in main_text(page)
    check_page(page, "ban-nhap", journey=JOURNEY)
    page.get_by_label(re.compile("^Tệp dữ liệu")).set_input_files(csv_file)
    page.get_by_label(re.compile("^Tên tài nguyên")).fill("Hồ sơ hộ tịch theo tháng")
    with page.expect_navigation():
        page.get_by_role("button", name="Tải lên").click()
    assert "Đã tải lên “Hồ sơ hộ tịch theo tháng” (CSV, 4 dòng dữ liệu)" in main_text(page), main_text(page)
    check_page(page, "da-tai-len", journey=JOURNEY)
    with page.expect_navigation():
        page.get_by_role("button", name="Trình lãnh đạo duyệt").click()
    assert "Đã trình lãnh đạo duyệt" in main_text(page)
    dataset = Dataset.objects.get(title=TITLE)
    assert dataset.status == DatasetStatus.SUBMITTED

    # The leader finds it first in the list, waiting for them, and approves it.
    leader = new_browser_page(desktop=True)
    sign_in(leader, "tu_phap.leader", PASSWORD)
    leader.goto("/can-bo/du-lieu-mo/")
    assert "Chờ bạn duyệt (1)" in main_text(leader)
    check_page(leader, "cho-duyet", journey=JOURNEY)
    with leader.expect_navigation():
        leader.get_by_role("link", name=TITLE).click()
    check_page(leader, "trinh-duyet", journey=JOURNEY)
    with leader.expect_navigation():
        leader.get_by_role("button", name="Duyệt và công bố").click()
    assert "Đã duyệt: bộ dữ liệu được công bố" in main_text(leader)
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PUBLIC

    # A visitor on a phone finds it by the agency's facet, opens it, sees the preview and the chart.
    visitor.goto("/")
    with visitor.expect_navigation():
        visitor.get_by_role("navigation", name="Chính").get_by_role("link", name="Dữ liệu mở", exact=True).click()
    check_page(visitor, "tim-kiem", journey=JOURNEY)
    with visitor.expect_navigation():
        visitor.get_by_role("navigation", name="Lọc kết quả").get_by_role("link", name="Sở Tư pháp").click()
    assert "co_quan=so-tu-phap" in visitor.url
    assert "1 bộ dữ liệu" in main_text(visitor)
    check_page(visitor, "loc-theo-co-quan", journey=JOURNEY)
    with visitor.expect_navigation():
        visitor.get_by_role("link", name=TITLE).click()
    check_page(visitor, "bo-du-lieu", journey=JOURNEY)
    preview = visitor.get_by_role("table", name=re.compile("dòng đầu"))
    assert preview.get_by_role("columnheader", name="số hồ sơ").count() == 1
    assert preview.get_by_role("cell", name="2025-03").count() == 1
    assert visitor.get_by_role("img", name=re.compile("số hồ sơ theo tháng")).count() == 1
    with visitor.expect_download() as downloaded:
        visitor.get_by_role("link", name=re.compile("^Tải về")).click()
    saved = tmp_path / "tai-ve.csv"
    downloaded.value.save_as(saved)
    assert saved.read_bytes() == CSV
    assert downloaded.value.suggested_filename.endswith(".csv")

    # After: the figures page says the Sở Tư pháp publishes.
    visitor.goto("/du-lieu-mo/cong-bo/")
    assert "có công bố" in agency_row(visitor, "Sở Tư pháp")
    check_page(visitor, "cong-bo-sau", journey=JOURNEY)
