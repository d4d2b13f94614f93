"""The officers' civil-records pages: import with progress and the error
workbook, search, review (field by field and by book), scanned pages, the
extract copy — always inside the officer's communes."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from chinhquyenso.accounts.services import create_citizen
from chinhquyenso.civil_records import importer, tasks
from chinhquyenso.civil_records.models import CivilRecord, FieldReview, ImportBatch, ReviewState
from chinhquyenso.core.models import AuditRecord
from tests.browser.support import minimal_pdf, tiny_png

pytestmark = pytest.mark.django_db

BASE = "/can-bo/ho-tich/"
HEADER = "Quyển số,Số đăng ký,Năm đăng ký,Họ và tên,Giới tính,Ngày sinh,Họ và tên cha,Họ và tên mẹ\n"
BIRTHS = HEADER + (
    "01,1,1967,Nguyễn Văn Hòa,Nam,12/05/1967,Nguyễn Văn Ba,Trần Thị Tư\n"
    "01,2,1967,Lê Thị Hoa,Nữ,29/02/1967,Lê Văn Năm,Phạm Thị Sáu\n"
    "01,,1967,,Nam,01/06/1967,,\n"
    "01,4,1967,Trần Văn Bảy,Nam,03/07/1967,Trần Văn Tám,Võ Thị Chín\n"
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_file(text: str = BIRTHS, name: str = "so-khai-sinh-1967.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def upload(client, commune, *, text: str = BIRTHS, name: str = "so-khai-sinh-1967.csv", record_type: str = "birth"):
    return client.post(f"{BASE}nhap/", {"loai": record_type, "xa": commune.pk, "tep": csv_file(text, name)})


@pytest.fixture
def specialist(officers):
    return officers["xa_a"]["specialist"]


@pytest.fixture
def imported(province, specialist):
    """The births list imported into xa_a by its specialist, through the page and the task."""
    response = upload(signed_in(specialist), province["xa_a"])
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{BASE}lo/{batch.pk}/"
    tasks.run_import.call(batch.pk)  # what the worker does
    batch.refresh_from_db()
    return batch


def flagged_record() -> CivilRecord:
    return CivilRecord.objects.get(number="2")


# ---------------------------------------------------------------- import


def test_upload_creates_a_queued_batch_run_by_the_worker(province, specialist, django_capture_on_commit_callbacks):
    client = signed_in(specialist)
    form = client.get(f"{BASE}nhap/").content.decode()
    assert 'accept=".csv,.xlsx' in form and "UBND xã Kiến An" in form and "UBND xã Kiến Thành" not in form
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(client, province["xa_a"])
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{BASE}lo/{batch.pk}/"
    assert batch.status == ImportBatch.Status.QUEUED and batch.file_name == "so-khai-sinh-1967.csv"
    assert batch.created_by == specialist and batch.commune == province["xa_a"] and len(callbacks) == 1
    # While queued the page reloads itself (unless the officer stops it) and says so.
    page = client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page and "Đang chờ" in page and "<progress" in page
    stopped = client.get(response["Location"], {"tu_dong": "0"}).content.decode()
    assert 'http-equiv="refresh"' not in stopped and "Đã dừng tự cập nhật" in stopped


def test_batch_page_shows_counts_and_problems(imported, specialist):
    assert (imported.status, imported.imported, imported.flagged, imported.rejected) == ("done", 3, 1, 1)
    client = signed_in(specialist)
    page = client.get(f"{BASE}lo/{imported.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and 'http-equiv="refresh"' not in html
    assert 'value="1000"' in html and "Hoàn tất" in html
    for label, count in (
        ("Đã nhập", 3),
        ("Trong đó cần rà soát", 1),
        ("Bị từ chối", 1),
        ("Đã có, bỏ qua", 0),
        ("Số dòng đã đọc", 4),
    ):
        assert f"<dt>{label}</dt><dd>{count}" in html, label
    # The rejected row: row, column, value, message, severity.
    assert (
        '<td>4</td><td class="break">Họ và tên, Số đăng ký</td>' in html
        and "Không dùng được" in html
        and "Bị từ chối" in html
    )
    # The flagged date, as written.
    assert "29/02/1967" in html and "năm 1967 không phải năm nhuận" in html
    assert "Tải sổ tính lỗi (.xlsx)" in html
    only_errors = client.get(f"{BASE}lo/{imported.pk}/", {"muc": "error"}).content.decode()
    assert "Không dùng được" in only_errors and "29/02/1967" not in only_errors


def test_progress_json(imported, specialist):
    response = signed_in(specialist).get(f"{BASE}lo/{imported.pk}/tien-do.json")
    data = json.loads(response.content)
    assert response["Content-Type"] == "application/json" and response["Cache-Control"] == "private, no-store"
    assert data == {
        "batch": imported.pk,
        "status": "done",
        "status_label": "Hoàn tất",
        "finished": True,
        "progress_permille": 1000,
        "rows_read": 4,
        "rows_total": None,
        "imported": 3,
        "flagged": 1,
        "rejected": 1,
        "skipped_existing": 0,
        "message": "",
    }


def test_error_workbook_has_the_rejected_row_and_its_message(imported, specialist):
    response = signed_in(specialist).get(f"{BASE}lo/{imported.pk}/loi.xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert 'attachment; filename="loi-so-khai-sinh-1967.xlsx"' == response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    fix = list(book["Cần sửa"].iter_rows(values_only=True))
    assert fix[0][-2:] == ("Dòng gốc", "Thông báo")
    assert len(fix) == 2 and fix[1][:3] == ("01", None, "1967") and fix[1][-2] == 4
    assert "Không dùng được" in fix[1][-1]
    review = list(book["Cần rà soát"].iter_rows(values_only=True))
    assert any(row[5] == "29/02/1967" for row in review[1:])


def test_error_workbook_without_the_kept_upload_says_so(imported, specialist):
    import os

    os.remove(imported.file.path)
    client = signed_in(specialist)
    response = client.get(f"{BASE}lo/{imported.pk}/loi.xlsx")
    assert response.status_code == 302 and response["Location"] == f"{BASE}lo/{imported.pk}/"
    assert "tệp gốc của lượt nhập không còn đọc được" in client.get(response["Location"]).content.decode()


def test_corrected_error_workbook_imports_only_the_fixed_row(imported, province, specialist):
    client = signed_in(specialist)
    data = b"".join(client.get(f"{BASE}lo/{imported.pk}/loi.xlsx").streaming_content)
    book = load_workbook(io.BytesIO(data))
    sheet = book["Cần sửa"]
    sheet["B2"], sheet["D2"] = "3", "Phạm Văn Út"
    out = io.BytesIO()
    book.save(out)
    response = client.post(
        f"{BASE}nhap/",
        {
            "loai": "birth",
            "xa": province["xa_a"].pk,
            "tep": SimpleUploadedFile("loi-so-khai-sinh-1967.xlsx", out.getvalue()),
        },
    )
    batch = ImportBatch.objects.latest("pk")
    assert response["Location"] == f"{BASE}lo/{batch.pk}/"
    importer.run_batch(batch, batch.file.path)
    batch.refresh_from_db()
    assert (batch.imported, batch.rejected, batch.skipped_existing) == (1, 0, 0)
    assert CivilRecord.objects.get(number="3").subject_name == "Phạm Văn Út"


def test_bad_import_input_is_shown_next_to_the_field_and_nothing_is_created(province, specialist, settings):
    client = signed_in(specialist)
    response = client.post(f"{BASE}nhap/", {"loai": "", "xa": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="loai-err"' in html and 'id="xa-err"' in html and 'id="tep-err"' in html
    assert "Hãy chọn loại sổ" in html and "Hãy chọn xã, phường đăng ký" in html
    # Another commune than the officer's.
    html = upload(client, province["xa_b"]).content.decode()
    assert 'id="xa-err"' in html
    # Content decides, not the name: a PNG called .csv.
    response = client.post(
        f"{BASE}nhap/", {"loai": "birth", "xa": province["xa_a"].pk, "tep": SimpleUploadedFile("so.csv", tiny_png())}
    )
    assert response.status_code == 400 and "không phải danh sách CSV hoặc XLSX" in response.content.decode()
    response = client.post(
        f"{BASE}nhap/",
        {"loai": "birth", "xa": province["xa_a"].pk, "tep": SimpleUploadedFile("so.xls", b"\xd0\xcf\x11\xe0")},
    )
    assert response.status_code == 400 and ".xlsx" in response.content.decode()
    settings.CQS = {**settings.CQS, "CIVIL_UPLOAD_MAX_BYTES": 50}
    html = upload(client, province["xa_a"]).content.decode()
    assert "vượt quá dung lượng" in html
    assert not ImportBatch.objects.exists()


def test_failed_batch_shows_why(province, specialist):
    client = signed_in(specialist)
    upload(client, province["xa_a"], text="Cột A,Cột B\n1,2\n")
    batch = ImportBatch.objects.get()
    importer.run_batch(batch, batch.file.path)
    html = client.get(f"{BASE}lo/{batch.pk}/").content.decode()
    assert "Không đọc được tệp" in html and "không nhận ra được bản ghi nào" in html
    assert "Tải sổ tính lỗi" not in html
    assert client.get(f"{BASE}lo/{batch.pk}/loi.xlsx").status_code == 404


# ---------------------------------------------------------------- search


@pytest.mark.parametrize("q", ["Nguyễn Văn Hòa", "nguyen van hoa", "NGUYỄN VĂN HOÀ", "van hoà"])
def test_search_by_name_with_or_without_diacritics(imported, specialist, q):
    html = signed_in(specialist).post(BASE, {"q": q}, follow=True).content.decode()
    record = CivilRecord.objects.get(number="1")
    assert f'href="{BASE}{record.pk}/"' in html and "Nguyễn Văn Hòa" in html and "12/05/1967" in html
    assert "Lê Thị Hoa" not in html


def test_search_filters_and_date_range(imported, province, specialist):
    client = signed_in(specialist)
    html = client.post(
        BASE,
        {
            "loai": "birth",
            "xa": province["xa_a"].pk,
            "quyen": "01",
            "nam": "1967",
            "tu": "01/02/1967",
            "den": "28/02/1967",
        },
        follow=True,
    ).content.decode()
    # 29/02/1967 does not exist: the record covers February 1967 and is found by that month.
    assert "Lê Thị Hoa" in html and "Nguyễn Văn Hòa" not in html and "29/02/1967" in html and "Cần rà soát" in html
    html = client.post(BASE, {"so": "4"}, follow=True).content.decode()
    assert "Trần Văn Bảy" in html and "Lê Thị Hoa" not in html
    # An empty form lists nothing; bad input is explained next to its field.
    assert "Nhập họ tên hoặc chọn ít nhất một điều kiện" in client.get(BASE).content.decode()
    response = client.post(BASE, {"tu": "31/02/1967", "nam": "67"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 400 and 'id="tu-err"' in html and 'id="nam-err"' in html
    assert "Kết quả" not in html


def test_search_pages_by_fifty(province, specialist):
    rows = "".join(f"02,{n},1970,Nguyễn Thị Mai {n},Nữ,01/01/1970,Nguyễn Văn A,Trần Thị B\n" for n in range(1, 56))
    client = signed_in(specialist)
    upload(client, province["xa_a"], text=HEADER + rows)
    batch = ImportBatch.objects.get()
    importer.run_batch(batch, batch.file.path)
    response = client.post(BASE, {"q": "mai"}, follow=True)  # the terms stay out of the URL (core.privacy)
    first = response.content.decode()
    assert first.count(f'href="{BASE}') >= 50 and "trang=2" in first and "Trang sau" in first
    second = client.get(response.redirect_chain[-1][0] + "&trang=2").content.decode()
    assert second.count("Nguyễn Thị Mai") == 5 and "Trang trước" in second


# ---------------------------------------------------------------- review


def test_record_page_shows_verbatim_normalized_and_flags(imported, specialist):
    record = flagged_record()
    html = signed_in(specialist).get(f"{BASE}{record.pk}/").content.decode()
    assert "Khai sinh: Lê Thị Hoa" in html and "UBND xã Kiến An" in html
    assert '<th scope="row">Ngày sinh</th><td class="break">29/02/1967</td><td class="break">02/1967</td>' in html
    assert "Ngày không có thật" in html and "Xác nhận đúng như sổ" in html and 'name="value"' in html
    assert 'value="Công chức tư pháp - hộ tịch"' in html and f'value="{specialist.display_name}"' in html


def test_review_confirm_and_correct_through_the_page(imported, specialist):
    client = signed_in(specialist)
    record = flagged_record()
    # A wrong date is refused next to the field; nothing changes.
    response = client.post(
        f"{BASE}{record.pk}/ra-soat/", {"field": "born_on", "action": "corrected", "value": "30/02/1967"}
    )
    html = response.content.decode()
    assert response.status_code == 400 and 'id="rs-born_on-err"' in html and 'value="30/02/1967"' in html
    assert not FieldReview.objects.exists()
    response = client.post(
        f"{BASE}{record.pk}/ra-soat/",
        {"field": "born_on", "action": "corrected", "value": "28/02/1967", "note": "Theo sổ gốc trang 3"},
    )
    assert response.status_code == 302 and response["Location"] == f"{BASE}{record.pk}/"
    record.refresh_from_db()
    assert record.data["born_on"] == "1967-02-28" and record.review_state == ReviewState.REVIEWED
    assert record.verbatim["Ngày sinh"] == "29/02/1967"
    html = client.get(f"{BASE}{record.pk}/").content.decode()
    assert "Ngày sinh: đã sửa giá trị chuẩn hóa." in html
    assert "Sửa giá trị chuẩn hóa" in html and "02/1967 → 28/02/1967" in html and "Theo sổ gốc trang 3" in html
    assert specialist.display_name in html and "Đã rà soát" in html


def test_review_confirm_as_written(province, specialist):
    client = signed_in(specialist)
    upload(client, province["xa_a"], text=HEADER + "05,9,1968,Đặng Văn Lực,Nam,1968,,Đặng Thị Mơ\n")
    batch = ImportBatch.objects.get()
    importer.run_batch(batch, batch.file.path)
    record = CivilRecord.objects.get()
    assert [f[:2] for f in record.flags] == [["born_on", "partial_date"], ["father_name", "missing_parent"]]
    client.post(
        f"{BASE}{record.pk}/ra-soat/", {"field": "father_name", "action": "confirmed", "note": "Sổ gốc bỏ trống"}
    )
    record.refresh_from_db()
    assert [f[0] for f in record.flags] == ["born_on"] and record.review_state == ReviewState.FLAGGED
    html = client.get(f"{BASE}{record.pk}/").content.decode()
    assert "Xác nhận đúng như sổ" in html and "Sổ gốc bỏ trống" in html and "Họ và tên cha" in html


def test_review_queue_and_book_confirmation(province, specialist):
    client = signed_in(specialist)
    rows = "".join(
        f"07,{n},1968,Huỳnh Văn {name},Nam,0{n}/03/1968,,Huỳnh Thị Nga\n"
        for n, name in enumerate(("Một", "Hai", "Ba"), 1)
    )
    upload(client, province["xa_a"], text=HEADER + rows + "08,1,1969,Lý Văn Sơn,Nam,1969,Lý Văn Hải,Lý Thị Hà\n")
    batch = ImportBatch.objects.get()
    importer.run_batch(batch, batch.file.path)
    html = client.get(f"{BASE}ra-soat/").content.decode()
    # Default commune: the first one the officer manages.
    assert f'<option value="{province["xa_a"].pk}" selected>' in html
    assert html.count("Không có thông tin cha, mẹ") >= 3 and "Huỳnh Văn Một" in html and "Lý Văn Sơn" in html
    assert "Khai sinh — quyển 07, năm 1968" in html and "Xác nhận cả quyển" in html
    only = client.get(f"{BASE}ra-soat/", {"xa": province["xa_a"].pk, "diem": "partial_date"}).content.decode()
    assert "Lý Văn Sơn" in only and "Huỳnh Văn Một" not in only
    # A book form without a flag kind: the message is next to that book's select.
    response = client.post(
        f"{BASE}ra-soat/ca-quyen/",
        {"xa": province["xa_a"].pk, "loai": "birth", "quyen": "07", "nam": "1968", "diem": ""},
    )
    assert response.status_code == 400 and "Chọn loại điểm cần xác nhận." in response.content.decode()
    response = client.post(
        f"{BASE}ra-soat/ca-quyen/",
        {
            "xa": province["xa_a"].pk,
            "loai": "birth",
            "quyen": "07",
            "nam": "1968",
            "diem": "missing_parent",
            "ghi_chu": "Cả quyển không ghi tên cha",
            "tiep": f"{BASE}ra-soat/?loai=birth",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{BASE}ra-soat/?loai=birth"
    assert CivilRecord.objects.filter(book="07", review_state=ReviewState.REVIEWED).count() == 3
    assert FieldReview.objects.filter(note="Cả quyển không ghi tên cha").count() == 3
    html = client.get(f"{BASE}ra-soat/").content.decode()
    assert "Huỳnh Văn Một" not in html and "Lý Văn Sơn" in html
    assert "Đã xác nhận “Không có thông tin cha, mẹ” cho 3 bản ghi của quyển 07 năm 1968." in html


# ---------------------------------------------------------------- scans and the extract copy


def test_scanned_page_upload_and_view(imported, province, specialist, officers):
    client = signed_in(specialist)
    record = flagged_record()
    response = client.post(f"{BASE}{record.pk}/anh/", {"anh": SimpleUploadedFile("trang-3.png", tiny_png())})
    assert response.status_code == 302
    scan = record.scans.get()
    html = client.get(f"{BASE}{record.pk}/").content.decode()
    assert f'href="{BASE}{record.pk}/anh/{scan.pk}/"' in html and "Trang 1" in html
    served = client.get(f"{BASE}{record.pk}/anh/{scan.pk}/")
    assert served["Content-Type"] == "image/png" and served["X-Content-Type-Options"] == "nosniff"
    # Not an image: refused next to the field.
    response = client.post(f"{BASE}{record.pk}/anh/", {"anh": SimpleUploadedFile("trang.png", b"not an image")})
    assert response.status_code == 400 and 'id="anh-err"' in response.content.decode()
    # Another commune's officer does not see it.
    assert signed_in(officers["xa_b"]["specialist"]).get(f"{BASE}{record.pk}/anh/{scan.pk}/").status_code == 404
    # The counter officer sees it but may not add pages.
    counter = signed_in(officers["xa_a"]["counter_officer"])
    assert counter.get(f"{BASE}{record.pk}/anh/{scan.pk}/").status_code == 200
    assert (
        counter.post(f"{BASE}{record.pk}/anh/", {"anh": SimpleUploadedFile("t.pdf", minimal_pdf())}).status_code == 403
    )


def test_extract_copy_pdf(imported, specialist):
    record = CivilRecord.objects.get(number="1")
    response = signed_in(specialist).get(
        f"{BASE}{record.pk}/trich-luc.pdf", {"nguoi_ky": "Trần Thị Lan", "chuc_danh": "Công chức tư pháp - hộ tịch"}
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("inline;")
    assert response.content.startswith(b"%PDF")
    # Issuing an extract is audited: who, which entry — not the person's name.
    issued = AuditRecord.objects.get(action="civil.extract_issued")
    assert issued.actor == specialist and issued.object_id == str(record.pk)
    assert record.subject_name not in str(issued.after)


def test_extract_copy_needs_a_signer(imported, specialist):
    record = CivilRecord.objects.get(number="1")
    response = signed_in(specialist).get(f"{BASE}{record.pk}/trich-luc.pdf", {"nguoi_ky": " ", "chuc_danh": "x"})
    assert response.status_code == 400 and 'id="nguoi_ky-err"' in response.content.decode()


# ---------------------------------------------------------------- who may do what


def test_another_communes_officer_gets_404(imported, officers):
    client = signed_in(officers["xa_b"]["specialist"])
    record = flagged_record()
    for url in (
        f"{BASE}{record.pk}/",
        f"{BASE}lo/{imported.pk}/",
        f"{BASE}lo/{imported.pk}/tien-do.json",
        f"{BASE}lo/{imported.pk}/loi.xlsx",
        f"{BASE}{record.pk}/trich-luc.pdf?nguoi_ky=A&chuc_danh=B",
    ):
        assert client.get(url).status_code == 404, url
    # Posting on it reveals nothing either, and changes nothing.
    response = client.post(f"{BASE}{record.pk}/ra-soat/", {"field": "born_on", "action": "confirmed"})
    assert response.status_code == 404
    response = client.post(
        f"{BASE}ra-soat/ca-quyen/",
        {"xa": record.commune_id, "loai": "birth", "quyen": "01", "nam": "1967", "diem": "impossible_date"},
    )
    assert response.status_code == 404
    assert client.post(f"{BASE}{record.pk}/anh/", {"anh": SimpleUploadedFile("t.png", tiny_png())}).status_code == 404
    assert "Lê Thị Hoa" not in client.post(BASE, {"q": "hoa"}, follow=True).content.decode()
    assert "Lê Thị Hoa" not in client.get(f"{BASE}ra-soat/", {"xa": ""}).content.decode()
    record.refresh_from_db()
    assert record.review_state == ReviewState.FLAGGED and not record.scans.exists()


def test_counter_officer_searches_but_does_not_import_or_review(imported, province, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    record = flagged_record()
    found = client.post(BASE, {"q": "le thi hoa"}, follow=True).content.decode()
    assert "Lê Thị Hoa" in found and f'href="{BASE}nhap/"' not in found  # no "Nhập sổ" in the menu
    page = client.get(f"{BASE}{record.pk}/").content.decode()
    assert "In bản trích lục (PDF)" in page and "Xác nhận đúng như sổ" not in page and 'name="anh"' not in page
    response = client.get(f"{BASE}nhap/")
    assert response.status_code == 403 and "Bạn không có quyền nhập sổ hộ tịch" in response.content.decode()
    assert upload(client, province["xa_a"]).status_code == 403
    response = client.post(f"{BASE}{record.pk}/ra-soat/", {"field": "born_on", "action": "confirmed"})
    assert response.status_code == 403 and "không có quyền" in response.content.decode()
    response = client.post(
        f"{BASE}ra-soat/ca-quyen/",
        {"xa": province["xa_a"].pk, "loai": "birth", "quyen": "01", "nam": "1967", "diem": "impossible_date"},
    )
    assert response.status_code == 403
    assert ImportBatch.objects.count() == 1 and not FieldReview.objects.exists()


def test_province_admin_sees_every_commune(imported, admin_user):
    client = signed_in(admin_user)
    assert "Lê Thị Hoa" in client.post(BASE, {"q": "hoa"}, follow=True).content.decode()
    assert client.get(f"{BASE}lo/{imported.pk}/").status_code == 200


def test_citizens_department_officers_and_visitors_are_kept_out(imported, officers):
    citizen = create_citizen(identity_number="089099887766", full_name="Ngô Văn Dân", password="Cong-dan-2025")
    record = flagged_record()
    for user in (citizen, officers["cong_an"]["specialist"]):
        client = signed_in(user)
        for url in (BASE, f"{BASE}nhap/", f"{BASE}ra-soat/", f"{BASE}{record.pk}/", f"{BASE}lo/{imported.pk}/"):
            assert client.get(url).status_code == 403, (user, url)
    response = Client().get(f"{BASE}{record.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/dang-nhap/")


def test_posts_need_the_csrf_token(imported, specialist):
    client = Client(enforce_csrf_checks=True)
    client.force_login(specialist)
    record = flagged_record()
    assert client.post(f"{BASE}{record.pk}/ra-soat/", {"field": "born_on", "action": "confirmed"}).status_code == 403
    record.refresh_from_db()
    assert record.review_state == ReviewState.FLAGGED


def test_nav_link_for_officers(imported, specialist):
    html = signed_in(specialist).get("/can-bo/").content.decode()
    assert f'<a href="{BASE}">Hộ tịch</a>' in html
    assert f'href="{BASE}nhap/"' in signed_in(specialist).get(BASE).content.decode()
