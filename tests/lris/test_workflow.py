"""End to end in the browser (Django test client): the province defines a
form in the admin and assigns it; an officer fills it in, meets every kind of
validation error with nothing saved, sends; the province returns it, the
officer corrects and sends again, the province approves and the values reach
indicators.ReportedValue; the history keeps every step."""

import datetime as dt
from decimal import Decimal

import pytest

from chinhquyenso.indicators.models import Indicator, ReportedValue
from chinhquyenso.lris.models import (
    FormAssignment,
    FormItem,
    ReportForm,
    Status,
    Submission,
    SubmittedValue,
    ValueChange,
)
from tests.lris.conftest import VALID_POST, signed_in

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def nothing_saved():
    return (Submission.objects.count(), SubmittedValue.objects.count(), ValueChange.objects.count()) == (0, 0, 0)


def test_province_defines_a_form_in_the_admin_and_assigns_it_to_many_agencies(forms, province, officers, admin_user):
    admin = signed_in(admin_user)
    ids = {code: Indicator.objects.get(code=code).pk for code in ("it_staff", "it_staff_dedicated", "trainings_held")}
    data = {
        "code": "nhan-luc-cntt",
        "name": "Nhân lực công nghệ thông tin",
        "description": "",
        "period_kind": "quarter",
        "agency_kinds": "[]",
        "is_active": "on",
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for n, (_code, pk) in enumerate(ids.items()):
        data |= {
            f"items-{n}-order": str(n + 1),
            f"items-{n}-indicator": str(pk),
            f"items-{n}-required": "on",
            f"items-{n}-instructions": "",
        }
    data["items-2-maximum"] = "20"  # this form allows at most 20 trainings a quarter
    response = admin.post("/quan-tri/lris/reportform/add/", data)
    assert response.status_code == 302, html(response)
    form = ReportForm.objects.get(code="nhan-luc-cntt")
    assert list(form.items.values_list("indicator__code", flat=True)) == list(ids)
    assert FormItem.objects.get(form=form, indicator__code="trainings_held").maximum == 20

    page = admin.get("/can-bo/bao-cao-so-lieu/giao/", {"form": form.code})
    assert "quý" in html(page) and "UBND xã Kiến An" in html(page)
    response = admin.post(
        "/can-bo/bao-cao-so-lieu/giao/",
        {
            "form": form.code,
            "period": "2025-Q1",
            "deadline": "2025-04-10",
            "kind": "commune_committee",
            "agency": str(province["tu_phap"].pk),
        },
    )
    assert response.status_code == 302
    assigned = FormAssignment.objects.filter(form=form)
    assert sorted(a.agency.code for a in assigned) == ["so-tu-phap", "xa-kien-an", "xa-kien-thanh"]
    assert {(a.period_start, a.period_end, a.deadline) for a in assigned} == {
        (dt.date(2025, 1, 1), dt.date(2025, 3, 31), dt.date(2025, 4, 10))
    }
    follow = admin.get(response["Location"])
    assert "0,0% (0/3)" in html(follow) and "UBND xã Kiến An" in html(follow)
    # Assigning again leaves the three as they are.
    again = admin.post(
        "/can-bo/bao-cao-so-lieu/giao/",
        {"form": form.code, "period": "2025-Q1", "deadline": "2025-04-10", "kind": "commune_committee"},
        follow=True,
    )
    assert assigned.count() == 3 and "đã được giao từ trước" in html(again)
    # The wrong kind of period is refused, naming it.
    wrong = admin.post(
        "/can-bo/bao-cao-so-lieu/giao/",
        {"form": form.code, "period": "2025-M01", "deadline": "2025-02-10", "kind": "department"},
    )
    assert "không phù hợp" in html(wrong) and assigned.count() == 3
    # An officer cannot assign.
    assert signed_in(officers["tu_phap"]["leader"]).get("/can-bo/bao-cao-so-lieu/giao/").status_code == 403


def test_every_kind_of_error_is_shown_at_once_and_nothing_is_saved(assignment, officer):
    client = signed_in(officer)
    url = f"/can-bo/bao-cao-so-lieu/{assignment.pk}/"
    page = client.get(url)
    assert "Văn bản gửi dưới dạng điện tử" in html(page) and 'name="v-has_signature_certificate"' in html(page)

    bad = {
        "n-doc_exchange_electronic_rate": "12",
        "d-doc_exchange_electronic_rate": "0",  # zero denominator
        "v-it_staff": "5",
        "v-it_staff_dedicated": "7",  # part greater than whole
        "v-trainings_held": "3,5",  # not a whole number
        "v-has_signature_certificate": "",
        "action": "submit",
    }  # required item missing
    text = html(client.post(url, bad))
    assert "Có 4 lỗi, chưa lưu số liệu nào" in text
    assert (
        "doc_exchange_electronic_rate — Tỷ lệ văn bản trao đổi giữa các cơ quan nhà nước dưới dạng điện tử (trừ văn "
        "bản mật): mẫu số (văn bản gửi đi) phải lớn hơn 0"
    ) in text
    assert (
        "it_staff_dedicated — Trong đó: số công chức chuyên trách công nghệ thông tin: 7 lớn hơn it_staff — Số công chức "
        "làm nhiệm vụ công nghệ thông tin (chuyên trách và kiêm nhiệm) (5)"
    ) in text
    assert (
        "trainings_held — Số lớp đào tạo, tập huấn về chuyển đổi số đã tổ chức trong kỳ: phải là số nguyên (đã nhập «3,5»)"
        in text
    )
    assert "has_signature_certificate — Cơ quan có chứng thư chữ ký số: chưa nhập (chỉ tiêu bắt buộc)" in text
    assert 'value="3,5"' in text  # what was typed is kept
    assert nothing_saved()

    text = html(
        client.post(
            url,
            {
                "n-doc_exchange_electronic_rate": "1.300",
                "d-doc_exchange_electronic_rate": "1.280",
                "v-trainings_held": "600",
                "v-it_staff": "mười",
                "action": "save",
            },
        )
    )
    assert "Có 3 lỗi" in text
    assert "tử số (văn bản gửi dưới dạng điện tử: 1.300) không được lớn hơn mẫu số (văn bản gửi đi: 1.280)" in text
    assert (
        "trainings_held — Số lớp đào tạo, tập huấn về chuyển đổi số đã tổ chức trong kỳ: 600 lớp vượt mức tối đa 500 lớp"
        in text
    )
    assert (
        "it_staff — Số công chức làm nhiệm vụ công nghệ thông tin (chuyên trách và kiêm nhiệm): phải là số nguyên, ví dụ 2.164.505 (đã nhập «mười»)"
        in text
    )
    assert nothing_saved()

    # Half of a ratio is an error even in a draft.
    text = html(client.post(url, {"n-doc_exchange_electronic_rate": "5", "action": "save"}))
    assert "cần nhập cả tử số" in text and nothing_saved()


def test_draft_keeps_partial_values_and_submitting_needs_every_required_item(assignment, officer):
    client = signed_in(officer)
    url = f"/can-bo/bao-cao-so-lieu/{assignment.pk}/"
    response = client.post(url, {"v-it_staff": "12", "v-it_staff_dedicated": "3", "action": "save"})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.status == Status.DRAFT and submission.first_submitted_at is None
    assert {v.indicator.code: v.value for v in submission.values.all()} == {"it_staff": 12, "it_staff_dedicated": 3}
    page = html(client.get(url))
    assert 'value="12"' in page and "Đã lưu nháp" in page
    # The same numbers typed another way are not a change.
    client.post(url, {"v-it_staff": "12,0", "v-it_staff_dedicated": "3", "action": "save"})
    assert ValueChange.objects.filter(indicator__code="it_staff").count() == 1
    text = html(client.post(url, {"v-it_staff": "12", "v-it_staff_dedicated": "3", "action": "submit"}))
    assert "Có 3 lỗi" in text and Submission.objects.get().status == Status.DRAFT


def test_return_resubmit_approve_and_history(assignment, officer, admin_user, officers):
    client, admin = signed_in(officer), signed_in(admin_user)
    url = f"/can-bo/bao-cao-so-lieu/{assignment.pk}/"
    assert client.post(url, {**VALID_POST, "action": "submit"}).status_code == 302
    submission = Submission.objects.get()
    assert submission.status == Status.SUBMITTED and submission.submitted_by == officer

    # While it waits for the province it cannot be changed.
    blocked = client.post(url, {**VALID_POST, "v-it_staff": "13", "action": "save"}, follow=True)
    assert "đang chờ duyệt" in html(blocked) and SubmittedValue.objects.get(indicator__code="it_staff").value == 12
    # Only the province reviews.
    assert client.post(f"{url}duyet/", {"action": "approve"}).status_code == 403

    queue = html(admin.get("/can-bo/bao-cao-so-lieu/cho-duyet/"))
    assert "Sở Tư pháp" in queue and "tháng 3 năm 2025" in queue
    empty_reason = admin.post(f"{url}duyet/", {"action": "return", "reason": "  "}, follow=True)
    assert "Hãy ghi lý do" in html(empty_reason)
    admin.post(f"{url}duyet/", {"action": "return", "reason": "Số văn bản điện tử chưa khớp sổ đăng ký văn bản đi."})
    submission.refresh_from_db()
    assert submission.status == Status.RETURNED and submission.reviewed_by == admin_user
    listing = html(client.get("/can-bo/bao-cao-so-lieu/"))
    assert (
        "Bị trả lại, cần sửa (1)" in listing and "Lý do: Số văn bản điện tử chưa khớp sổ đăng ký văn bản đi." in listing
    )
    assert "Tỉnh đã trả lại báo cáo. Lý do: Số văn bản điện tử chưa khớp" in html(client.get(url))

    corrected = {**VALID_POST, "n-doc_exchange_electronic_rate": "1.262"}
    assert client.post(url, {**corrected, "action": "submit"}).status_code == 302
    submission.refresh_from_db()
    assert submission.status == Status.RESUBMITTED

    admin.post(f"{url}duyet/", {"action": "approve"})
    submission.refresh_from_db()
    assert submission.status == Status.APPROVED
    values = {r.indicator.code: r for r in ReportedValue.objects.filter(agency=assignment.agency)}
    assert set(values) == {
        "doc_exchange_electronic_rate",
        "has_signature_certificate",
        "it_staff",
        "it_staff_dedicated",
        "trainings_held",
    }
    doc = values["doc_exchange_electronic_rate"]
    assert (doc.numerator, doc.denominator) == (Decimal(1262), Decimal(1280))
    assert round(doc.value, 2) == Decimal("98.59")
    assert doc.source == "LRIS chinh-quyen-dien-tu 2025-M03" and doc.approved_by == admin_user
    assert (doc.period_start, doc.period_end) == (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert values["has_signature_certificate"].value == 1 and values["it_staff"].value == 12

    # Frozen: a change after approval is refused and changes nothing.
    refused = client.post(url, {**corrected, "v-it_staff": "20", "action": "save"}, follow=True)
    assert "đã được duyệt" in html(refused) and SubmittedValue.objects.get(indicator__code="it_staff").value == 12

    page = html(client.get(url))
    for step in ("Nhập trên trang", "Gửi báo cáo", "Trả lại để sửa", "Gửi lại báo cáo", "Duyệt"):
        assert step in page
    assert "doc_exchange_electronic_rate: 1.250 / 1.280 (97,7%) → 1.262 / 1.280 (98,6%)" in page
    changes = ValueChange.objects.filter(indicator__code="doc_exchange_electronic_rate").order_by("at", "id")
    assert [c.why for c in changes] == ["entered", "returned", "entered", "approved"]

    # Reopening keeps the approved figures until the corrected report is approved again.
    admin.post(f"{url}duyet/", {"action": "reopen", "reason": "Sở Tư pháp đề nghị sửa số cán bộ CNTT."})
    submission.refresh_from_db()
    assert submission.status == Status.RETURNED
    assert ReportedValue.objects.get(agency=assignment.agency, indicator__code="it_staff").value == 12
    client.post(url, {**corrected, "v-it_staff": "14", "action": "submit"})
    admin.post(f"{url}duyet/", {"action": "approve"})
    assert ReportedValue.objects.get(agency=assignment.agency, indicator__code="it_staff").value == 14
    assert ReportedValue.objects.filter(agency=assignment.agency).count() == 5
    assert "Mở lại báo cáo đã duyệt" in html(client.get(url))


def test_officers_of_another_agency_neither_see_nor_touch(assignment, officers, auditor):
    url = f"/can-bo/bao-cao-so-lieu/{assignment.pk}/"
    for role, foreign in officers["xa_b"].items():
        client = signed_in(foreign)
        assert client.get(url).status_code == 404, role
        assert client.post(url, {**VALID_POST, "action": "submit"}).status_code == 404
        assert client.get(f"{url}mau-excel.xlsx").status_code == 404
        assert client.post(f"{url}tai-len/", {}).status_code == 404
        assert client.post(f"{url}duyet/", {"action": "approve"}).status_code == 404
        assert "Sở Tư pháp" not in html(client.get("/can-bo/bao-cao-so-lieu/"))
        assert client.get("/can-bo/bao-cao-so-lieu/tinh-hinh-nop/").status_code == 403
    # Every role of the agency itself may fill it in.
    for role, own in officers["tu_phap"].items():
        assert signed_in(own).get(url).status_code == 200, role
    # Auditors read but do not write.
    reader = signed_in(auditor)
    assert reader.get(url).status_code == 200
    assert reader.post(url, {**VALID_POST, "action": "submit"}).status_code == 403
    assert reader.get("/can-bo/bao-cao-so-lieu/tinh-hinh-nop/").status_code == 200
    assert nothing_saved()


def test_citizen_and_anonymous_are_kept_out(assignment, citizen):
    assert signed_in(citizen).get("/can-bo/bao-cao-so-lieu/").status_code == 403
    assert signed_in(citizen).get(f"/can-bo/bao-cao-so-lieu/{assignment.pk}/").status_code == 403
    from django.test import Client

    assert Client().get("/can-bo/bao-cao-so-lieu/")["Location"].startswith("/dang-nhap/")
