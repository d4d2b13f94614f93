"""Four journeys in a real browser, end to end, through the real login page and
with accessible locators (labels, roles), so the tests also prove the labels
exist. Every distinct page visited goes through `check_page` (axe-core WCAG 2.1
AA, page weight, no sideways scrolling, lang/title) and leaves a screenshot in
artifacts/screenshots/<journey>/.

1. A citizen on a phone finds "Đăng ký khai sinh" without diacritics, submits
   online through the wizard (upload + reuse from the e-data store), survives a
   lost connection, double-clicks "Nộp hồ sơ", gets the receipt (PDF), tracks.
2. A counter officer receives a walk-in dossier with the keyboard alone:
   supplement request (Mẫu 02), supplement recorded, accepted (Mẫu 01).
3. Specialist → leader → counter → citizen on an online dossier: comment,
   forward, electronic result, fee, online return, citizen downloads it.
4. Isolation: another commune's officer gets 404, a citizen gets 403.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier, EDataItem, Status
from chinhquyenso.dossiers.printing import date_text
from tests.browser.support import check_page, check_reflow, focused, minimal_pdf, pdf_text, sign_in, tab_to, tiny_png

PASSWORD = "Mat-khau-2025"
CITIZEN_ID, CITIZEN_PASSWORD, CITIZEN_NAME = "089012345678", "Cong-dan-2025", "Nguyễn Thị Hoà"
PROCEDURE = "1.001193"
CODE_RE = re.compile(r"/(?:ho-so|can-bo/ho-so)/([^/]+)/")


def dossier_code(url: str) -> str:
    match = CODE_RE.search(url)
    assert match, f"no dossier code in {url}"
    return match.group(1)


def fetch_pdf(page, href: str) -> bytes:
    """GET a PDF with the page's cookies (the signed-in user's session)."""
    response = page.request.get(href)
    assert response.status == 200, f"GET {href} answered {response.status}"
    assert response.headers["content-type"].startswith("application/pdf"), response.headers["content-type"]
    return response.body()


@pytest.fixture
def edata_birth_certificate(citizen):
    """An electronic birth certificate ("Giấy chứng sinh") already in the citizen's e-data store."""
    stored = store_upload(minimal_pdf("Giay chung sinh dien tu"), original_name="giay-chung-sinh.pdf")
    return EDataItem.objects.create(
        owner=citizen,
        result_type="giay-chung-sinh",
        title="Giấy chứng sinh (điện tử)",
        file=stored,
        issued_at=timezone.now() - dt.timedelta(days=30),
    )


# ---------------------------------------------------------------- 1. citizen, online


def test_journey_1_citizen_submits_online(
    page, new_browser_page, birth_procedure, citizen, edata_birth_certificate, tmp_path
):
    journey = "1-cong-dan-nop-truc-tuyen"
    pdf_path = tmp_path / "to-khai-khai-sinh.pdf"
    pdf_path.write_bytes(minimal_pdf("To khai dang ky khai sinh"))
    png_path = tmp_path / "cccd.png"
    png_path.write_bytes(tiny_png())

    # Home → search without diacritics → procedure.
    response = page.goto("/")
    assert response.status == 200
    check_page(page, "trang-chu", journey=journey)
    check_reflow(page)
    search = page.get_by_role("searchbox", name="Tìm thủ tục hành chính")
    search.fill("dang ky khai sinh")
    with page.expect_navigation():
        search.press("Enter")
    check_page(page, "ket-qua-tim-kiem", journey=journey)
    page.get_by_role("link", name="Đăng ký khai sinh").click()
    page.wait_for_url(f"**/thu-tuc/{PROCEDURE}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Đăng ký khai sinh"
    check_page(page, "thu-tuc", journey=journey)

    # "Nộp hồ sơ trực tuyến" needs an account: the login page, then back to the wizard.
    page.get_by_role("link", name="Nộp hồ sơ trực tuyến").click()
    page.wait_for_url(re.compile(r"/dang-nhap/\?next="))
    check_page(page, "dang-nhap", journey=journey)
    sign_in(page, CITIZEN_ID, CITIZEN_PASSWORD, open_page=False)
    page.wait_for_url("**/nop-ho-so/*/nguoi-nop/")
    step1_url = page.url

    # Step 1: applicant prefilled from the population database; agency, phone, address.
    main = page.get_by_role("main")
    assert "Cơ sở dữ liệu quốc gia về dân cư" in main.inner_text()
    assert CITIZEN_NAME in main.inner_text() and CITIZEN_ID in main.inner_text()
    check_page(page, "buoc-1-nguoi-nop", journey=journey)
    check_reflow(page)
    page.get_by_label("Cơ quan nhận hồ sơ").select_option(label="UBND xã Kiến An")
    page.get_by_label("Số điện thoại").fill("0912345678")
    address = "Ấp Long Hòa, xã Kiến An, số nhà 12"
    page.get_by_label("Địa chỉ liên hệ").fill(address)
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.wait_for_url("**/nop-ho-so/*/giay-to/")

    # Lost connection after step 1: a brand-new browser session finds the draft on /ca-nhan/.
    other = new_browser_page()
    sign_in(other, CITIZEN_ID, CITIZEN_PASSWORD)
    other.wait_for_url("**/ca-nhan/")
    drafts = other.get_by_role("heading", name="Đang soạn")
    assert drafts.is_visible()
    check_page(other, "ca-nhan-ban-nhap", journey=journey)
    other.get_by_role("link", name="Đăng ký khai sinh").click()
    other.wait_for_url("**/nop-ho-so/*/nguoi-nop/")
    assert other.url == step1_url, "the resumed draft is not the one started on the first device"
    assert other.get_by_label("Địa chỉ liên hệ").input_value() == address
    assert other.get_by_label("Số điện thoại").input_value() == "0912345678"
    other.context.close()

    # Step 2: upload the form, reuse the e-data birth certificate, a PNG for the optional ID.
    check_page(page, "buoc-2-giay-to", journey=journey)
    check_reflow(page)
    form_group = page.get_by_role("group", name="Tờ khai đăng ký khai sinh", exact=True)
    form_group.get_by_label("Tải lên tệp").set_input_files(pdf_path)
    birth_group = page.get_by_role("group", name="Giấy chứng sinh", exact=True)
    birth_group.get_by_label("Hoặc chọn từ kho dữ liệu").select_option(label="Giấy chứng sinh (điện tử)")
    id_group = page.get_by_role("group", name=re.compile(r"^Giấy tờ tùy thân"))
    id_group.get_by_label("Tải lên tệp").set_input_files(png_path)
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.wait_for_url("**/nop-ho-so/*/xem-lai/")

    # Step 3: review, pledge, double-click "Nộp hồ sơ": one dossier only.
    review = page.get_by_role("main").inner_text()
    assert "to-khai-khai-sinh.pdf" in review and "dùng lại từ kho dữ liệu" in review and "4.000 đồng" in review
    check_page(page, "buoc-3-xem-lai", journey=journey)
    page.get_by_label("Tôi cam đoan thông tin khai trên là đúng sự thật.").check()
    page.get_by_role("button", name="Nộp hồ sơ").dblclick()
    page.wait_for_url("**/ho-so/*/bien-nhan/")
    page.wait_for_load_state("networkidle")
    assert Dossier.objects.count() == 1, "a double click on “Nộp hồ sơ” created more than one dossier"
    dossier = Dossier.objects.get()
    assert dossier.channel == "online" and dossier.receiving_agency.code == "xa-kien-an"
    assert dossier.applicant_address == address
    assert dossier.components.get(required__order=2).reused_from_id == edata_birth_certificate.pk

    # Receipt: code, estimated date, PDF (Mẫu 01) with the code.
    code = dossier_code(page.url)
    assert code == dossier.code
    receipt = page.get_by_role("main").inner_text()
    assert code in receipt and "dự kiến" in receipt
    check_page(page, "bien-nhan", journey=journey)
    href = page.get_by_role("link", name="Tải biên nhận (PDF)").get_attribute("href")
    text = pdf_text(fetch_pdf(page, href))
    assert code in text, f"the receipt PDF does not name the dossier {code}: {text[:300]!r}"

    # Track by code: the owner sees the history.
    page.get_by_role("navigation", name="Chính").get_by_role("link", name="Tra cứu hồ sơ").click()
    page.wait_for_url("**/tra-cuu/")
    page.get_by_label("Mã hồ sơ").fill(code)
    page.get_by_role("button", name="Tra cứu").click()
    page.wait_for_url(re.compile(r"/tra-cuu/\?ma="))
    assert page.get_by_role("heading", name="Quá trình xử lý").is_visible()
    assert "Chờ tiếp nhận" in page.get_by_role("main").inner_text()
    check_page(page, "tra-cuu-chu-ho-so", journey=journey)

    # Anyone else: the status, not the applicant's name.
    stranger = new_browser_page()
    stranger.goto("/tra-cuu/")
    stranger.get_by_label("Mã hồ sơ").fill(code)
    stranger.get_by_role("button", name="Tra cứu").click()
    stranger.wait_for_url(re.compile(r"/tra-cuu/\?ma="))
    public = stranger.get_by_role("main").inner_text()
    assert "Chờ tiếp nhận" in public and "Đăng ký khai sinh" in public
    assert CITIZEN_NAME not in stranger.content() and CITIZEN_ID not in stranger.content()
    assert stranger.get_by_role("heading", name="Quá trình xử lý").count() == 0
    check_page(stranger, "tra-cuu-an-danh", journey=journey)

    # The e-data store shows where the birth certificate was reused.
    page.get_by_role("navigation", name="Chính").get_by_role("link", name="Kho dữ liệu").click()
    page.wait_for_url("**/ca-nhan/kho-du-lieu/")
    item = page.get_by_role("listitem").filter(has_text="Giấy chứng sinh (điện tử)")
    assert "Đã dùng lại trong" in item.inner_text() and code in item.inner_text()
    check_page(page, "kho-du-lieu", journey=journey)


# ---------------------------------------------------------------- 2. counter, keyboard only


def test_journey_2_counter_officer_keyboard_only(desktop_page, birth_procedure, officers):
    journey = "2-mot-cua-tiep-nhan"
    page = desktop_page
    page.goto("/dang-nhap/")
    check_page(page, "dang-nhap", journey=journey)
    sign_in(page, "xa_a.counter_officer", PASSWORD, open_page=False)
    page.wait_for_url("**/can-bo/")
    check_page(page, "hop-ho-so", journey=journey)

    # From here on: the keyboard only.
    tab_to(page, 'nav a[href="/can-bo/tiep-nhan/"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # autofocus is applied once the page has loaded, which a busy machine may not have reached yet.
    page.wait_for_load_state("load")
    assert focused(page, "#q"), "the procedure search box does not have focus on /can-bo/tiep-nhan/"
    check_page(page, "chon-thu-tuc", journey=journey)
    page.keyboard.type("khai sinh")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, f'main a[href*="thu_tuc={PROCEDURE}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert focused(page, "#identity_number"), "the citizen ID field does not have focus on the counter form"
    check_page(page, "form-tiep-nhan", journey=journey)
    page.keyboard.type("089201001234")
    page.keyboard.press("Tab")
    assert focused(page, 'button[value="lookup"]'), "Tab from the ID does not reach “Tra cứu CSDL dân cư”"
    assert page.evaluate("() => document.activeElement.innerText.trim()") == "Tra cứu CSDL dân cư"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Đã điền họ tên và địa chỉ từ CSDL quốc gia về dân cư" in page.get_by_role("status").inner_text()
    looked_up_name = page.get_by_label("Họ và tên").input_value()
    assert looked_up_name.strip(), "the lookup did not fill the name"
    assert page.get_by_label("Số định danh cá nhân (CCCD)").input_value() == "089201001234"
    check_page(page, "form-sau-tra-cuu", journey=journey)

    tab_to(page, "#phone")
    page.keyboard.type("0912345678")
    tab_to(page, "#received-1")
    page.keyboard.press("Space")
    assert page.get_by_label("Tờ khai đăng ký khai sinh").is_checked()
    tab_to(page, "#items")
    page.keyboard.type("Bản sao giấy đăng ký kết hôn của cha mẹ")
    tab_to(page, 'button[value="request_supplement"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/can-bo/ho-so/*/")
    assert not page.get_by_label("Giấy chứng sinh", exact=True).is_checked()

    code = dossier_code(page.url)
    dossier = Dossier.objects.get(code=code)
    assert dossier.status == Status.SUPPLEMENT_REQUESTED and dossier.channel == "counter"
    assert dossier.applicant_name == looked_up_name
    facts = page.get_by_role("main").inner_text()
    assert "Yêu cầu bổ sung hồ sơ" in facts
    check_page(page, "ho-so-yeu-cau-bo-sung", journey=journey)

    # Mẫu 02 lists what is missing.
    form_02 = pdf_text(fetch_pdf(page, page.get_by_role("link", name="In Mẫu 02").get_attribute("href")))
    assert "Giấy chứng sinh" in form_02, f"Mẫu 02 does not list the missing component: {form_02[:400]!r}"
    assert "Bản sao giấy đăng ký kết hôn của cha mẹ" in form_02

    # The citizen brings the rest: record it (keyboard), then accept.
    page.get_by_label("Giấy chứng sinh", exact=True).focus()
    page.keyboard.press("Space")
    assert page.get_by_label("Giấy chứng sinh", exact=True).is_checked()
    page.get_by_role("button", name="Ghi nhận đã bổ sung").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert Dossier.objects.get(code=code).status == Status.SUBMITTED
    page.get_by_role("button", name="Tiếp nhận", exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Đang giải quyết" in page.get_by_role("main").inner_text()
    dossier = Dossier.objects.get(code=code)
    assert dossier.status == Status.IN_PROCESS and dossier.due_at
    check_page(page, "ho-so-dang-giai-quyet", journey=journey)

    form_01 = pdf_text(fetch_pdf(page, page.get_by_role("link", name="In Mẫu 01").get_attribute("href")))
    due = date_text(dossier.due_at)
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", due)
    assert due in form_01, f"Mẫu 01 does not give the appointment date {due}: {form_01[:600]!r}"
    assert code in form_01


# ---------------------------------------------------------------- 3. processing and return


@pytest.fixture
def online_dossier(birth_procedure, citizen, officers):
    """Submitted online by the citizen (a PDF and a PNG), accepted by the counter."""
    form = store_upload(minimal_pdf("To khai"), original_name="to-khai.pdf", user=citizen)
    certificate = store_upload(tiny_png(), original_name="giay-chung-sinh.png", user=citizen)
    dossier = services.submit(
        actor=citizen,
        procedure_code=PROCEDURE,
        channel="online",
        agency_code="xa-kien-an",
        applicant={"phone": "0912345678", "address": "Ấp Long Hòa"},
        components=[{"order": 1, "file_id": form.sha256}, {"order": 2, "file_id": certificate.sha256}],
    )
    services.accept(dossier, actor=officers["xa_a"]["counter_officer"])
    return dossier


def test_journey_3_processing_and_online_return(desktop_page, new_browser_page, online_dossier, tmp_path):
    journey = "3-xu-ly-tra-ket-qua"
    code = online_dossier.code
    result_path = tmp_path / "giay-khai-sinh-12-GKS.pdf"
    result_path.write_bytes(minimal_pdf("Giay khai sinh so 12/GKS"))

    # Specialist: inbox "Việc của tôi", colour badge, comment, forward.
    specialist = desktop_page
    sign_in(specialist, "xa_a.specialist", PASSWORD)
    specialist.wait_for_url("**/can-bo/")
    mine = specialist.get_by_role("link", name=re.compile(r"^Việc của tôi \(1\)"))
    assert mine.get_attribute("aria-current") == "page", "the inbox does not open on “Việc của tôi”"
    row = specialist.get_by_role("row").filter(has=specialist.get_by_role("link", name=code))
    assert row.count() == 1, f"{code} is not in the specialist's “Việc của tôi”"
    badge = row.locator(".badge")
    assert badge.get_attribute("class").split()[-1] in {"in_time", "due_soon", "overdue"}
    colour = badge.evaluate("(e) => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), f"the badge has no colour ({colour})"
    assert badge.inner_text().strip()
    check_page(specialist, "hop-ho-so-chuyen-vien", journey=journey)
    check_reflow(specialist)
    specialist.get_by_role("link", name=code).click()
    specialist.wait_for_url(f"**/can-bo/ho-so/{code}/")
    check_page(specialist, "ho-so-chuyen-vien", journey=journey)
    specialist.get_by_label("Thêm ý kiến (chỉ cán bộ thấy)").fill("Đã đối chiếu giấy chứng sinh, hợp lệ.")
    with specialist.expect_navigation():
        specialist.get_by_role("button", name="Gửi ý kiến").click()
    assert "Đã đối chiếu giấy chứng sinh, hợp lệ." in specialist.get_by_role("main").inner_text()
    specialist.get_by_label("Ý kiến xử lý").fill("Đủ điều kiện, trình phê duyệt.")
    with specialist.expect_navigation():
        specialist.get_by_role("button", name="Chuyển bước “Phê duyệt”").click()
    assert Dossier.objects.get(code=code).current_step == 2

    # Leader: electronic result, approval.
    leader = new_browser_page(desktop=True)
    sign_in(leader, "xa_a.leader", PASSWORD)
    leader.wait_for_url("**/can-bo/")
    leader.get_by_role("link", name=code).click()
    leader.wait_for_url(f"**/can-bo/ho-so/{code}/")
    check_page(leader, "ho-so-lanh-dao", journey=journey)
    leader.get_by_label("Số, ký hiệu kết quả").fill("12/GKS")
    leader.get_by_label("Tệp kết quả điện tử đã ký số (PDF)").set_input_files(result_path)
    with leader.expect_navigation():
        leader.get_by_role("button", name="Đính kèm kết quả điện tử").click()
    assert "số 12/GKS" in leader.get_by_role("main").inner_text()
    with leader.expect_navigation():
        leader.get_by_role("button", name="Phê duyệt, có kết quả").click()
    assert Dossier.objects.get(code=code).status == Status.RESULT_READY
    assert "Đã có kết quả, chờ trả" in leader.get_by_role("main").inner_text()
    check_page(leader, "ho-so-da-co-ket-qua", journey=journey)

    # Counter: fee, online return.
    counter = new_browser_page(desktop=True)
    sign_in(counter, "xa_a.counter_officer", PASSWORD)
    counter.goto(f"/can-bo/ho-so/{code}/")
    assert counter.get_by_label("Số tiền thu (đồng)").input_value() == "4000"
    with counter.expect_navigation():
        counter.get_by_role("button", name="Thu phí, lệ phí").click()
    assert Dossier.objects.get(code=code).fee_paid == 4000
    counter.get_by_label(re.compile(r"^Tôi xác nhận trả kết quả")).check()  # returning is confirmed
    with counter.expect_navigation():
        counter.get_by_role("button", name="Trả kết quả (phát hành kết quả điện tử)").click()
    dossier = Dossier.objects.get(code=code)
    assert dossier.status == Status.RETURNED and dossier.delivery == "online"
    history = counter.get_by_role("table").filter(has_text="Người thực hiện").inner_text()
    assert "Cán bộ xa_a specialist" in history and "Cán bộ xa_a leader" in history, history
    assert "Cán bộ xa_a counter_officer" in history
    check_page(counter, "ho-so-da-tra", journey=journey)

    # Citizen: tracks and downloads the electronic result.
    citizen = new_browser_page()
    sign_in(citizen, CITIZEN_ID, CITIZEN_PASSWORD)
    citizen.goto("/tra-cuu/")
    citizen.get_by_label("Mã hồ sơ").fill(code)
    citizen.get_by_role("button", name="Tra cứu").click()
    citizen.wait_for_url(re.compile(r"/tra-cuu/\?ma="))
    assert "Đã trả kết quả" in citizen.get_by_role("main").inner_text()
    check_page(citizen, "cong-dan-tra-cuu-ket-qua", journey=journey)
    with citizen.expect_download() as download_info:
        citizen.get_by_role("link", name="Tải kết quả điện tử").click()
    download = download_info.value
    assert download.failure() is None
    with open(download.path(), "rb") as handle:
        assert handle.read().startswith(b"%PDF")


# ---------------------------------------------------------------- 4. isolation


def test_journey_4_citizen_gets_403_on_back_office(page, citizen, officers):
    journey = "4-co-quan-khac"
    sign_in(page, CITIZEN_ID, CITIZEN_PASSWORD)
    response = page.goto("/can-bo/")
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Không có quyền truy cập"
    check_page(page, "cong-dan-403", journey=journey, expect_status=403)


def test_journey_4_other_commune_officer_gets_404(desktop_page, online_dossier):
    journey = "4-co-quan-khac"
    page = desktop_page
    code = online_dossier.code
    sign_in(page, "xa_b.counter_officer", PASSWORD)
    page.wait_for_url("**/can-bo/")
    for tab in ("viec-cua-toi", "cho-tiep-nhan", "dang-giai-quyet"):
        page.goto(f"/can-bo/?tab={tab}")
        assert code not in page.content(), f"{code} (xa Kiến An) is listed in xa Kiến Thành's inbox, tab {tab}"
    check_page(page, "hop-ho-so-xa-khac", journey=journey)

    response = page.goto(f"/can-bo/ho-so/{code}/")
    assert response.status == 404
    assert code not in page.content()
    problems = []
    body = page.locator("body").inner_text()
    if "Không tìm thấy" not in body:
        problems.append(f"the 404 page does not say “Không tìm thấy” (not the site's Vietnamese page): {body[:200]!r}")
    try:
        check_page(page, "ho-so-xa-khac-404", journey=journey, expect_status=404)
    except AssertionError as failure:
        problems.append(str(failure))
    assert not problems, "\n".join(problems)
