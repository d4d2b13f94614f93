"""A citizen fills the birth-registration e-form (tờ khai điện tử) on a 360-px phone: prefilled
fields, a Vietnamese error naming the field, then the form stands in for the uploaded declaration.
Every page goes through `check_page` (axe-core, page weight, no sideways scrolling)."""

from __future__ import annotations

import re

from chinhquyenso.portal import services as portal
from chinhquyenso.procedures import services as procedures
from tests.browser.support import check_page, check_reflow, sign_in

CITIZEN_ID, CITIZEN_PASSWORD = "089012345678", "Cong-dan-2025"


def label(text: str) -> re.Pattern:
    """A field's label, with or without the required mark."""
    return re.compile(rf"^{re.escape(text)}( \*)?$")


def test_citizen_fills_the_birth_registration_form_on_a_phone(page, birth_procedure, citizen, admin_user):
    journey = "to-khai-dien-tu"
    procedures.load_forms(actor=admin_user, codes=["1.001193"])
    # The applicant step (covered by the submission journey) is saved through the service.
    draft = portal.open_draft(owner=citizen, procedure=birth_procedure)
    portal.save_applicant(
        draft, phone="0912345678", address="Ấp Long Hòa, xã Kiến An", note="", agency_code="xa-kien-an"
    )

    sign_in(page, CITIZEN_ID, CITIZEN_PASSWORD)
    page.goto(f"/nop-ho-so/{draft.pk}/to-khai/")
    assert page.get_by_role("heading", level=1).inner_text() == "Tờ khai đăng ký khai sinh"
    main = page.get_by_role("main")
    assert "điền sẵn từ tài khoản" in main.inner_text()
    assert page.get_by_label(label("Họ, chữ đệm, tên người yêu cầu")).input_value() == "Nguyễn Thị Hoà"
    assert page.get_by_label(label("Họ, chữ đệm, tên người mẹ")).input_value() == "Nguyễn Thị Hoà"
    check_page(page, "to-khai", journey=journey)
    check_reflow(page)

    # A first try with the child's name left empty and an impossible date.
    page.get_by_label(label("Quan hệ với người được khai")).select_option("Mẹ")
    page.get_by_label(label("Ngày, tháng, năm sinh")).fill("31/02/2026")
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.wait_for_url(f"**/nop-ho-so/{draft.pk}/to-khai/")
    summary = page.get_by_role("alert")
    assert "Hãy nhập “Họ, chữ đệm, tên”." in summary.inner_text()
    name_box = page.get_by_label(label("Họ, chữ đệm, tên"))
    assert name_box.get_attribute("aria-invalid") == "true"
    assert "f-ho_ten-err" in name_box.get_attribute("aria-describedby")
    assert page.get_by_label(label("Ngày, tháng, năm sinh")).input_value() == "31/02/2026"  # kept as typed
    check_page(page, "to-khai-loi", journey=journey)

    # Corrected and completed: on to the documents, where the form stands in for the upload.
    name_box.fill("Nguyễn Văn An")
    page.get_by_label(label("Ngày, tháng, năm sinh")).fill("01/02/2026")
    page.get_by_role("radio", name="Nam").check()
    page.get_by_label(label("Dân tộc")).fill("Kinh")
    page.get_by_label(label("Quốc tịch")).fill("Việt Nam")
    page.get_by_label(label("Nơi sinh")).fill("Bệnh viện Đa khoa khu vực tỉnh An Giang")
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.wait_for_url(f"**/nop-ho-so/{draft.pk}/giay-to/")
    assert "Tờ khai điện tử (đã khai trực tuyến)" in page.get_by_role("main").inner_text()
    draft.refresh_from_db()
    assert draft.form_values["ho_ten"] == "Nguyễn Văn An" and draft.form_values["ngay_sinh"] == "2026-02-01"
