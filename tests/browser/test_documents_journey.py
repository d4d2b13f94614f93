"""An outgoing document from draft to done, in a real browser (1366×768 desktop): a specialist of
the Sở Tư pháp drafts it, its leader approves and signs it (personal key), the clerk issues it with
a number (the agency's key, a time stamp from the test TSA), it arrives in UBND huyện Chợ Mới's
incoming register with its attachment, the district's leader assigns it, the assignee handles it and
reports done; the sender sees each status with its time; anyone checks the signed PDF on the public
page /xac-thuc/ and reads that both signatures are valid. Every page
goes through `check_page` (axe-core WCAG 2.1 AA, page weight, no sideways scrolling) and leaves a
screenshot in artifacts/screenshots/van-ban/."""

from __future__ import annotations

import re

from chinhquyenso.documents.models import Direction, Document
from chinhquyenso.documents.reference import load_reference_data
from tests.browser.support import check_page, check_reflow, sign_in
from tests.documents.incoming_support import pdf_with_text

PASSWORD = "Mat-khau-2025"
JOURNEY = "van-ban"
EXCERPT = "Quyết định công bố thủ tục hành chính mới trong lĩnh vực hộ tịch"


def main_text(page) -> str:
    return " ".join(page.get_by_role("main").inner_text().split())


def open_queue(page, label: str) -> None:
    """From the documents' index, the tab `label (n)`."""
    page.goto("/can-bo/van-ban/")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(rf"^{re.escape(label)} \(1\)")).click()


def test_a_document_from_draft_to_done_and_its_signature_checked(
    desktop_page, new_browser_page, officers, province, signing_keys, pki_services, sample_pdf, tmp_path
):
    # An earlier transactional test's flush may have emptied the document types the migration loaded.
    load_reference_data()
    signing_keys.for_agency(province["tu_phap"])
    signing_keys.for_user(officers["tu_phap"]["leader"], title="Giám đốc")
    draft_file = tmp_path / "du-thao.pdf"
    draft_file.write_bytes(sample_pdf)
    appendix_file = tmp_path / "phu-luc-danh-muc.pdf"
    appendix_file.write_bytes(pdf_with_text("Phụ lục: danh mục thủ tục hành chính"))

    # The specialist finds "Văn bản" in the menu and drafts a decision for the district.
    page = desktop_page
    sign_in(page, "tu_phap.specialist", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Chính").get_by_role("link", name="Văn bản", exact=True).click()
    check_page(page, "viec-cua-toi", journey=JOURNEY)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Văn bản").get_by_role("link", name="Soạn văn bản đi").click()
    check_page(page, "soan-thao", journey=JOURNEY)
    page.get_by_label("Loại văn bản").select_option(label="Quyết định")
    page.get_by_label("Trích yếu nội dung").fill(EXCERPT)
    page.get_by_label("Người ký", exact=True).fill("Trần Văn Bình")
    page.get_by_label("Chức vụ người ký").fill("Giám đốc")
    page.get_by_label(re.compile("^Cơ quan trong tỉnh")).select_option(label="UBND huyện Chợ Mới")
    # The place (địa danh) starts with the province's name.
    assert page.get_by_label(re.compile("^Địa danh")).input_value() == "An Giang"
    page.get_by_label(re.compile("^Tệp dự thảo")).set_input_files(draft_file)
    page.get_by_label(re.compile("^Tệp đính kèm")).set_input_files(appendix_file)
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu dự thảo").click()
    assert re.search(r"/can-bo/van-ban/\d+/$", page.url), page.url
    document_url = page.url
    assert "Đã lưu dự thảo" in main_text(page)
    assert page.get_by_role("link", name="phu-luc-danh-muc.pdf", exact=True).count() == 1
    check_page(page, "du-thao", journey=JOURNEY)
    with page.expect_navigation():
        page.get_by_role("button", name="Trình duyệt").click()
    assert "Đã trình duyệt" in main_text(page)

    # The leader approves it, then signs it with their personal key.
    leader = new_browser_page(desktop=True)
    sign_in(leader, "tu_phap.leader", PASSWORD)
    open_queue(leader, "Chờ tôi duyệt")
    check_page(leader, "cho-toi-duyet", journey=JOURNEY)
    with leader.expect_navigation():
        leader.get_by_role("link", name=EXCERPT).click()
    assert "Chờ: Lãnh đạo — bước 1" in main_text(leader)
    check_page(leader, "trinh-duyet", journey=JOURNEY)
    with leader.expect_navigation():
        leader.get_by_role("button", name="Duyệt văn bản").click()
    assert "Văn bản chờ lãnh đạo ký số" in main_text(leader)
    with leader.expect_navigation():
        leader.get_by_role("button", name="Ký số (chữ ký lãnh đạo)").click()
    assert "Đã ký số văn bản (chữ ký lãnh đạo)" in main_text(leader), main_text(leader)
    check_page(leader, "da-ky", journey=JOURNEY)

    # The clerk issues it: the register's first number, the agency's signature, sent.
    clerk = new_browser_page(desktop=True)
    sign_in(clerk, "tu_phap.clerk", PASSWORD)
    open_queue(clerk, "Chờ văn thư ban hành")
    with clerk.expect_navigation():
        clerk.get_by_role("link", name=EXCERPT).click()
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Cấp số, ký số cơ quan và ban hành").click()
    document = Document.objects.get(direction=Direction.OUTGOING)
    assert document.status == Document.Status.ISSUED and document.signature_count == 2
    assert f"Đã ban hành văn bản số {document.symbol}" in main_text(clerk), main_text(clerk)
    assert document.symbol.startswith("01/QĐ-") and document.place == "An Giang"
    check_page(clerk, "da-ban-hanh", journey=JOURNEY)
    with clerk.expect_download() as downloaded:
        clerk.get_by_role("link", name="Tải về", exact=True).click()
    signed_file = tmp_path / "van-ban-da-ky.pdf"
    downloaded.value.save_as(signed_file)
    assert signed_file.read_bytes().startswith(b"%PDF")
    clerk.goto("/can-bo/van-ban/so-di/")
    assert clerk.get_by_role("link", name=document.symbol).count() == 1
    check_page(clerk, "so-van-ban-di", journey=JOURNEY)

    # It is in the district's incoming register; its leader assigns it with instructions.
    district = new_browser_page(desktop=True)
    sign_in(district, "huyen.leader", PASSWORD)
    district.goto("/can-bo/van-ban/so-den/")
    assert "Sở Tư pháp" in main_text(district)
    check_page(district, "so-van-ban-den", journey=JOURNEY)
    with district.expect_navigation():
        district.get_by_role("link", name="1", exact=True).click()
    assert document.symbol in main_text(district)
    check_page(district, "van-ban-den", journey=JOURNEY)
    # The attachment came with it and opens for the recipient.
    with district.expect_download() as appendix:
        district.get_by_role("link", name="Tải về phu-luc-danh-muc.pdf").click()
    assert appendix.value.path().read_bytes() == appendix_file.read_bytes()
    district.get_by_label("Người chủ trì xử lý").select_option(label="Cán bộ huyen specialist — UBND huyện Chợ Mới")
    district.get_by_label("Ý kiến chỉ đạo (bút phê)").fill("Giao chuyên viên tham mưu triển khai")
    district.get_by_label("Hạn xử lý").fill("2199-01-31")
    with district.expect_navigation():
        district.get_by_role("button", name="Phân công xử lý").click()
    assert "Đã phân công xử lý" in main_text(district)

    # The assignee reports it done.
    assignee = new_browser_page(desktop=True)
    sign_in(assignee, "huyen.specialist", PASSWORD)
    open_queue(assignee, "Được giao xử lý")
    with assignee.expect_navigation():
        assignee.get_by_role("link", name=EXCERPT).click()
    assert "Giao chuyên viên tham mưu triển khai" in main_text(assignee)
    check_page(assignee, "duoc-giao", journey=JOURNEY)
    assignee.get_by_label("Kết quả xử lý").fill("Đã niêm yết thủ tục tại bộ phận một cửa")
    with assignee.expect_navigation():
        assignee.get_by_role("button", name="Báo cáo đã xử lý xong").click()
    assert "Văn bản đã xử lý xong; nơi gửi đã được báo" in main_text(assignee)
    told = main_text(assignee)
    assert "Đã phân công" in told and "Đang xử lý" in told and "Đã xử lý xong" in told

    # The sender sees each status the district reported, in order, with its time.
    page.goto(document_url)
    row = page.get_by_role("row").filter(has_text="Trong tỉnh (trực tiếp)")
    trail = [" ".join(item.split()) for item in row.get_by_role("listitem").all_inner_texts()]
    assert [item.split(":")[0] for item in trail] == [
        "Đã gửi",
        "Đã nhận",
        "Đã phân công",
        "Đang xử lý",
        "Đã xử lý xong",
    ]
    assert all(re.fullmatch(r"[^:]+: \d\d:\d\d \d\d/\d\d/\d{4}", item) for item in trail), trail
    check_page(page, "nguoi-gui-thay-trang-thai", journey=JOURNEY)
    check_reflow(page)
    # The same page and the queues on a phone: no sideways scrolling, nothing inaccessible.
    phone = new_browser_page()
    sign_in(phone, "tu_phap.specialist", PASSWORD)
    phone.goto(document_url)
    check_page(phone, "van-ban-tren-dien-thoai", journey=JOURNEY)
    phone.goto("/can-bo/van-ban/")
    check_page(phone, "viec-cua-toi-tren-dien-thoai", journey=JOURNEY)

    # Anyone checks the signed file on the public page: both signatures valid.
    public = new_browser_page()
    public.goto("/xac-thuc/")
    public.get_by_label(re.compile("^Tệp PDF cần kiểm tra")).set_input_files(signed_file)
    with public.expect_navigation():
        public.get_by_role("button", name="Kiểm tra", exact=True).click()
    # The overall verdict, then each of the two signatures (the leader's, the agency's): all valid.
    verdict = public.get_by_role("region", name="Kết quả kiểm tra").get_by_role("status").inner_text()
    assert "Tất cả 2 chữ ký trong tệp đều hợp lệ" in verdict, verdict
    signatures = public.get_by_role("region", name=re.compile(r"^Chữ ký \d"))
    assert signatures.count() == 2
    for index in range(2):
        text = signatures.nth(index).inner_text()
        assert "Chữ ký hợp lệ" in text and "không hợp lệ" not in text, text
    assert "Sở Tư pháp" in main_text(public)
    check_page(public, "kiem-tra-chu-ky", journey=JOURNEY)
