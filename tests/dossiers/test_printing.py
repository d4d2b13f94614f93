"""The one-stop forms (Mẫu 01–06, Thông tư 01/2018/TT-VPCP) rendered to PDF
from real dossiers, read back with pypdf.

Set CQS_PRINT_SAMPLES=/some/dir to keep the rendered PDFs for a visual check."""

import datetime as dt
import io
import os
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from chinhquyenso.core.errors import DomainError
from chinhquyenso.dossiers import printing, services
from tests.conftest import make_procedure, vn

pytestmark = pytest.mark.django_db

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]
APPLICANT = {
    "identity_number": "089111222333",
    "full_name": "Trần Thị Ngọc Hoà",
    "phone": "0912345678",
    "address": "Ấp Long Hòa, xã Kiến An, huyện Chợ Mới",
}
A5 = (419.5, 595.3)
A4_LANDSCAPE = (841.9, 595.3)


def _rename(user, full_name):
    user.full_name = full_name
    user.save(update_fields=["full_name"])
    return user


@pytest.fixture
def ctx(birth_procedure, officers, province, citizen):
    xa = officers["xa_a"]
    return {
        "counter": _rename(xa["counter_officer"], "Lê Thị Thu Hà"),
        "specialist": _rename(xa["specialist"], "Võ Minh Trí"),
        "leader": _rename(xa["leader"], "Phạm Văn Đức"),
        "citizen": citizen,
        "province": province,
        "officers": officers,
    }


def at_counter(
    ctx,
    at=vn(2025, 1, 20, 9, 30),
    components=PAPER,
    procedure_code="1.001193",
    agency_code="xa-kien-an",
    actor=None,
    **applicant,
):
    return services.submit(
        actor=actor or ctx["counter"],
        procedure_code=procedure_code,
        channel="counter",
        agency_code=agency_code,
        applicant={**APPLICANT, **applicant},
        components=components,
        at=at,
        verify_identity=False,
    )


# ---------------------------------------------------------------- reading the PDF


def render(dossier, form) -> bytes:
    dossier.refresh_from_db()
    data = printing.form_pdf(dossier, form)
    _keep(f"mau-{form}.pdf", data)
    return data


def _keep(name, data):
    folder = os.environ.get("CQS_PRINT_SAMPLES")
    if folder:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{test}-{name}").write_bytes(data)


def text_of(data: bytes) -> str:
    """All pages' text, NFC, whitespace collapsed (pypdf's spacing follows the layout)."""
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def fonts_of(data: bytes) -> dict[str, bool]:
    """Base font name (subset prefix removed) → whether the font program is embedded, for every page."""
    fonts = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            name = str(font["/BaseFont"]).lstrip("/").split("+")[-1]
            descriptor_owner = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descriptor_owner["/FontDescriptor"].get_object()
            fonts[name] = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    return fonts


def assert_official_pdf(data: bytes, size: tuple[float, float]):
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        box = page.mediabox
        assert float(box.width) == pytest.approx(size[0], abs=1) and float(box.height) == pytest.approx(size[1], abs=1)
    fonts = fonts_of(data)
    assert fonts, "no font in the PDF"
    for name, embedded in fonts.items():
        assert name.replace("-", "").startswith("LiberationSerif"), f"unexpected font {name}"
        assert embedded, f"font {name} is not embedded"


def assert_national_header(text: str, agency_line: str):
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert agency_line in text


# ---------------------------------------------------------------- formatting


def test_dates_follow_the_official_style():
    assert printing.place_date(vn(2025, 1, 20, 9)) == "An Giang, ngày 20 tháng 01 năm 2025"
    assert printing.place_date(dt.date(2025, 3, 5)) == "An Giang, ngày 05 tháng 3 năm 2025"
    assert printing.place_date(vn(2025, 12, 31, 23, 30)) == "An Giang, ngày 31 tháng 12 năm 2025"  # local, not UTC
    assert printing.time_text(vn(2025, 1, 20, 9, 5)) == "09 giờ 05 phút, ngày 20/01/2025"
    assert printing.date_text(vn(2025, 3, 1, 0, 30)) == "01/03/2025"


def test_place_uses_the_configured_province(settings):
    settings.CQS = {**settings.CQS, "PROVINCE_NAME": "Đồng Tháp"}
    assert printing.place_date(dt.date(2025, 2, 3)) == "Đồng Tháp, ngày 03 tháng 02 năm 2025"


# ---------------------------------------------------------------- Mẫu 01


def test_receipt_at_the_counter(ctx):
    dossier = at_counter(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 1, 20, 9, 30))  # Monday, 3 working days
    assert printing.available_forms(dossier) == ["01", "05"]
    data = render(dossier, "01")
    assert_official_pdf(data, A5)
    text = text_of(data)
    assert_national_header(text, "UBND XÃ KIẾN AN")
    assert "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ" in text
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert "An Giang, ngày 20 tháng 01 năm 2025" in text
    assert f"Mã hồ sơ: {dossier.code}" in text
    for value in (
        "Trần Thị Ngọc Hoà",
        "089111222333",
        "0912345678",
        "Ấp Long Hòa, xã Kiến An, huyện Chợ Mới",
        "Đăng ký khai sinh",
        "Tờ khai đăng ký khai sinh",
        "Giấy chứng sinh",
        "3 ngày làm việc",
    ):
        assert value in text, value
    assert "Giấy tờ tùy thân của người đi đăng ký" not in text  # optional, not handed in
    assert "Thời gian nhận hồ sơ: 09 giờ 30 phút, ngày 20/01/2025" in text
    assert "Thời gian trả kết quả giải quyết hồ sơ: 17 giờ 00 phút, ngày 23/01/2025" in text
    assert "dự kiến" not in text
    assert "8.000 đồng" in text  # Vietnamese thousands separator
    assert "NGƯỜI NỘP HỒ SƠ" in text and "NGƯỜI TIẾP NHẬN HỒ SƠ" in text
    assert "Lê Thị Thu Hà" in text
    assert "Hồ sơ nộp trực tuyến" not in text


def test_online_receipt_before_acceptance_shows_an_estimate(ctx, monkeypatch):
    from django.utils import timezone

    dossier = services.submit(
        actor=ctx["citizen"],
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 1, 20, 9, 30),
        verify_identity=False,
    )
    monkeypatch.setattr(timezone, "now", lambda: vn(2025, 1, 20, 10))
    assert printing.available_forms(dossier) == ["01"]
    data = render(dossier, "01")
    assert_official_pdf(data, A5)
    text = text_of(data)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert "Nguyễn Thị Hoà" in text and "089012345678" in text
    assert "17 giờ 00 phút, ngày 23/01/2025 (dự kiến, tính từ khi hồ sơ được tiếp nhận)" in text
    assert "Hồ sơ nộp trực tuyến" in text
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" not in text
    assert "4.000 đồng" in text  # 50% online discount


# ---------------------------------------------------------------- Mẫu 02


def test_supplement_request_lists_the_latest_requests_items(ctx):
    dossier = at_counter(ctx, components=[])
    services.request_supplement(
        dossier,
        actor=ctx["counter"],
        items=["Ghi rõ quê quán của mẹ"],
        reason="Hồ sơ chưa đủ thành phần theo quy định",
        at=vn(2025, 1, 20, 9, 45),
    )
    assert printing.available_forms(dossier) == ["01", "02"]
    data = render(dossier, "02")
    assert_official_pdf(data, A5)
    text = text_of(data)
    assert_national_header(text, "UBND XÃ KIẾN AN")
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    assert dossier.code in text and "Trần Thị Ngọc Hoà" in text and "Đăng ký khai sinh" in text
    for item in ("1. Tờ khai đăng ký khai sinh", "2. Giấy chứng sinh", "3. Ghi rõ quê quán của mẹ"):
        assert item in text, item
    assert "Lý do: Hồ sơ chưa đủ thành phần theo quy định" in text
    assert "An Giang, ngày 20 tháng 01 năm 2025" in text
    assert "NGƯỜI HƯỚNG DẪN" in text and "Lê Thị Thu Hà" in text

    services.supplement(dossier, actor=ctx["counter"], components=PAPER, at=vn(2025, 1, 21, 8))
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 1, 21, 8, 30))
    services.request_supplement(
        dossier, actor=ctx["specialist"], items=["Bản sao giấy chứng nhận kết hôn của cha mẹ"], at=vn(2025, 1, 23, 14)
    )
    text = text_of(render(dossier, "02"))
    assert "Bản sao giấy chứng nhận kết hôn của cha mẹ" in text
    assert "Ghi rõ quê quán của mẹ" not in text  # only the latest request
    assert "Võ Minh Trí" in text and "An Giang, ngày 23 tháng 01 năm 2025" in text


# ---------------------------------------------------------------- Mẫu 03


def test_refusal_prints_the_reason(ctx):
    dossier = at_counter(ctx)
    reason = "Việc đăng ký khai sinh cho người nước ngoài thuộc thẩm quyền của UBND huyện Chợ Mới"
    services.refuse(dossier, actor=ctx["counter"], reason=reason, at=vn(2025, 3, 5, 10, 5))
    assert printing.available_forms(dossier) == ["01", "03"]
    data = render(dossier, "03")
    assert_official_pdf(data, A5)
    text = text_of(data)
    assert_national_header(text, "UBND XÃ KIẾN AN")
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert reason in text
    assert "An Giang, ngày 05 tháng 3 năm 2025" in text
    assert dossier.code in text and "Trần Thị Ngọc Hoà" in text and "Đăng ký khai sinh" in text
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in text and "Lê Thị Thu Hà" in text
    receipt = text_of(render(dossier, "01"))  # never accepted: no appointment, not even an estimate
    assert "không hẹn trả (từ chối tiếp nhận)" in receipt and "dự kiến" not in receipt


# ---------------------------------------------------------------- Mẫu 04


def test_apology_prints_old_and_new_appointment(ctx):
    dossier = at_counter(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 1, 20, 9, 30))  # due 23/01
    reason = "Cần xác minh nơi sinh tại UBND xã Kiến Thành"
    services.reschedule(
        dossier, actor=ctx["leader"], new_due_date=dt.date(2025, 1, 24), reason=reason, at=vn(2025, 1, 23, 9)
    )
    assert printing.available_forms(dossier) == ["01", "04", "05"]
    data = render(dossier, "04")
    assert_official_pdf(data, A5)
    text = text_of(data)
    assert_national_header(text, "UBND XÃ KIẾN AN")
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text
    assert "Kính gửi: Ông/Bà Trần Thị Ngọc Hoà" in text
    assert dossier.code in text and "Đăng ký khai sinh" in text
    assert "ngày hẹn trả kết quả: 23/01/2025" in text
    assert "vào ngày 24/01/2025" in text
    assert f"Lý do: {reason}" in text
    assert "An Giang, ngày 23 tháng 01 năm 2025" in text
    assert "Phạm Văn Đức" in text
    # Mẫu 01 printed afterwards shows the appointment in force.
    assert "17 giờ 00 phút, ngày 24/01/2025" in text_of(render(dossier, "01"))


# ---------------------------------------------------------------- Mẫu 05


def test_control_slip_has_one_row_per_event(ctx, admin_user):
    province, officers = ctx["province"], ctx["officers"]
    make_procedure(
        admin_user,
        [province["xa_a"]],
        code="2.000001",
        name="Đăng ký kết hôn có yếu tố nước ngoài",
        steps=[
            {"name": "Thụ lý tại xã", "role": "specialist"},
            {"name": "Phê duyệt tại huyện", "role": "leader", "agency": "ubnd-cho-moi"},
        ],
    )
    district_leader = _rename(officers["huyen"]["leader"], "Đặng Thị Lan")
    dossier = at_counter(ctx, procedure_code="2.000001", agency_code=None)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 1, 20, 9, 30))
    services.forward(dossier, actor=ctx["specialist"], at=vn(2025, 1, 21, 10, 15))
    services.forward(dossier, actor=district_leader, at=vn(2025, 1, 22, 14, 40))
    data = render(dossier, "05")
    assert_official_pdf(data, A5)
    text = text_of(data)
    assert_national_header(text, "UBND XÃ KIẾN AN")
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text
    assert dossier.code in text and "Trần Thị Ngọc Hoà" in text and "Đăng ký kết hôn có yếu tố nước ngoài" in text
    assert "Tên cơ quan" in text and "Thời gian giao, nhận hồ sơ" in text and "Kết quả giải quyết hồ sơ" in text
    assert text.count("Người thực hiện:") == dossier.events.count() == 4
    for moment in (
        "09 giờ 30 phút, ngày 20/01/2025",
        "10 giờ 15 phút, ngày 21/01/2025",
        "14 giờ 40 phút, ngày 22/01/2025",
    ):
        assert moment in text, moment
    for name in ("Lê Thị Thu Hà", "Võ Minh Trí", "Đặng Thị Lan"):
        assert name in text, name
    assert "1. Giao: UBND xã Kiến An 2. Nhận: UBND huyện Chợ Mới" in text
    assert "1. Giao: UBND huyện Chợ Mới 2. Nhận: UBND xã Kiến An" in text
    assert "Phê duyệt, có kết quả Trước hạn" in text  # finished 22/01, due 23/01


# ---------------------------------------------------------------- Mẫu 06


def test_register_lists_an_agencys_dossiers_in_local_dates(ctx, django_assert_max_num_queries):
    first = at_counter(ctx, at=vn(2025, 1, 20, 9, 30))
    services.accept(first, actor=ctx["counter"], at=vn(2025, 1, 20, 9, 30))
    second = at_counter(
        ctx, at=vn(2025, 1, 21, 23, 30), full_name="Huỳnh Văn Đạt", identity_number="089111222444", phone="0987654321"
    )  # late evening of the last day
    refused = at_counter(ctx, at=vn(2025, 1, 21, 8), identity_number="089111222555", full_name="Lâm Thị Ửng")
    services.refuse(refused, actor=ctx["counter"], reason="Không thuộc thẩm quyền", at=vn(2025, 1, 21, 8, 10))
    before = at_counter(ctx, at=vn(2025, 1, 19, 23, 59))
    after = at_counter(ctx, at=vn(2025, 1, 22, 0, 30))  # 21/01 in UTC, 22/01 in Vietnam
    elsewhere = at_counter(
        ctx, at=vn(2025, 1, 20, 10), agency_code="xa-kien-thanh", actor=ctx["officers"]["xa_b"]["counter_officer"]
    )
    with django_assert_max_num_queries(5):  # count, dossiers, events, supplement requests: not one per row
        data = printing.register_pdf(
            agency=ctx["province"]["xa_a"], start=dt.date(2025, 1, 20), end=dt.date(2025, 1, 21)
        )
    _keep("mau-06.pdf", data)
    assert_official_pdf(data, A4_LANDSCAPE)
    text = text_of(data)
    assert_national_header(text, "UBND XÃ KIẾN AN")
    assert "SỔ THEO DÕI HỒ SƠ" in text
    assert "từ ngày 20/01/2025 đến ngày 21/01/2025" in text
    for header in (
        "STT",
        "Mã hồ sơ",
        "Tên TTHC",
        "Số lượng hồ sơ",
        "Tên cá nhân, tổ chức",
        "Địa chỉ, số điện thoại",
        "Cơ quan chủ trì giải quyết",
        "Hẹn trả kết quả",
        "Chuyển hồ sơ đến cơ quan giải quyết",
        "Trả kết quả cho cá nhân, tổ chức",
        "Ký nhận",
        "Ghi chú",
    ):
        assert header in text, header
    positions = [text.find(d.code) for d in (first, refused, second)]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)  # by submission time
    for excluded in (before, after, elsewhere):
        assert excluded.code not in text
    assert "Huỳnh Văn Đạt" in text and "Lâm Thị Ửng" in text and "0987654321" in text
    assert "23/01/2025" in text  # the first dossier's appointment
    assert "Từ chối tiếp nhận" in text
    assert "Tổng số: 3 hồ sơ" in text


def test_register_of_a_long_period_uses_vietnamese_numbers(ctx, settings, monkeypatch):
    monkeypatch.setattr(printing, "REGISTER_MAX_ROWS", 1)
    at_counter(ctx, at=vn(2025, 1, 20, 9))
    at_counter(ctx, at=vn(2025, 1, 20, 10))
    with pytest.raises(DomainError) as error:
        printing.register_pdf(agency=ctx["province"]["xa_a"], start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31))
    assert error.value.field == "end" and "2 hồ sơ" in error.value.message
    with pytest.raises(DomainError) as error:
        printing.register_pdf(agency=ctx["province"]["xa_a"], start=dt.date(2025, 2, 1), end=dt.date(2025, 1, 1))
    assert error.value.field == "start"


def test_empty_register_still_prints(ctx):
    data = printing.register_pdf(agency=ctx["province"]["xa_b"], start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31))
    assert_official_pdf(data, A4_LANDSCAPE)
    assert "Tổng số: 0 hồ sơ" in text_of(data)


# ---------------------------------------------------------------- refusals


def test_form_pdf_refuses_a_form_that_does_not_apply(ctx):
    dossier = at_counter(ctx)
    for form in ("02", "03", "04", "05"):
        with pytest.raises(DomainError) as error:
            printing.form_pdf(dossier, form)
        assert error.value.field == "form" and "không áp dụng" in error.value.message
    for form in ("06", "07", "", "1"):
        with pytest.raises(DomainError) as error:
            printing.form_pdf(dossier, form)
        assert error.value.field == "form"
    assert set(printing.FORMS) == {"01", "02", "03", "04", "05", "06"}


def test_missing_pdf_engine_gives_an_install_hint(ctx, monkeypatch):
    import sys

    dossier = at_counter(ctx)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as without pango
    with pytest.raises(DomainError) as error:
        printing.form_pdf(dossier, "01")
    assert error.value.field == "form"
    assert "libpango-1.0-0" in error.value.message and "fonts-liberation2" in error.value.message
