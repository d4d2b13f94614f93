"""The Excel template: download, fill in, upload back; errors name the row
and column; the upload is checked by its content."""

import io

import pytest
from openpyxl import load_workbook

from chinhquyenso.lris.models import Status, Submission, SubmittedValue, ValueChange
from tests.lris.conftest import signed_in

pytestmark = pytest.mark.django_db


def download(client, assignment):
    response = client.get(f"/can-bo/bao-cao-so-lieu/{assignment.pk}/mau-excel.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="bao-cao-chinh-quyen-dien-tu-2025-M03-so-tu-phap.xlsx"' in response["Content-Disposition"]
    return load_workbook(io.BytesIO(response.content))


def rows_by_code(sheet) -> dict[str, int]:
    return {
        sheet.cell(row=r, column=1).value: r for r in range(1, sheet.max_row + 1) if sheet.cell(row=r, column=1).value
    }


def to_bytes(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, assignment, data: bytes, submit=False):
    file = io.BytesIO(data)
    file.name = "bao-cao.xlsx"
    body = {"file": file}
    if submit:
        body["submit"] = "1"
    return client.post(f"/can-bo/bao-cao-so-lieu/{assignment.pk}/tai-len/", body)


def test_template_has_one_row_per_item_with_instructions(assignment, officer):
    sheet = download(signed_in(officer), assignment)["Báo cáo"]
    assert sheet["B3"].value == f"LRIS-{assignment.pk}"
    assert [c.value for c in sheet[6]] == [
        "Mã chỉ tiêu",
        "Tên chỉ tiêu",
        "Đơn vị tính",
        "Giá trị",
        "Tử số",
        "Mẫu số",
        "Bắt buộc",
        "Hướng dẫn",
    ]
    rows = rows_by_code(sheet)
    assert [code for code in rows if code not in ("Báo cáo", "Mã chỉ tiêu", "Mã báo cáo được giao")][-5:] == [
        "doc_exchange_electronic_rate",
        "has_signature_certificate",
        "it_staff",
        "it_staff_dedicated",
        "trainings_held",
    ]
    ratio = rows["doc_exchange_electronic_rate"]
    assert "Tử số (cột E): văn bản gửi dưới dạng điện tử" in sheet.cell(row=ratio, column=8).value
    assert "Có hoặc Không" in sheet.cell(row=rows["has_signature_certificate"], column=8).value
    assert "Không lớn hơn it_staff" in sheet.cell(row=rows["it_staff_dedicated"], column=8).value
    assert "tối đa" not in sheet.cell(row=rows["trainings_held"], column=8).value
    assert "từ 0 đến 500" in sheet.cell(row=rows["trainings_held"], column=8).value


def test_upload_with_errors_names_rows_and_columns_and_saves_nothing(assignment, officer):
    client = signed_in(officer)
    client.post(f"/can-bo/bao-cao-so-lieu/{assignment.pk}/", {"v-it_staff": "9", "action": "save"})  # a draft value
    before = list(SubmittedValue.objects.values_list("indicator__code", "value"))
    book = download(client, assignment)
    sheet = book["Báo cáo"]
    rows = rows_by_code(sheet)
    assert sheet.cell(row=rows["it_staff"], column=4).value == 9  # the saved value is filled in
    sheet.cell(row=rows["doc_exchange_electronic_rate"], column=5, value=1250)
    sheet.cell(row=rows["doc_exchange_electronic_rate"], column=6, value=0)
    sheet.cell(row=rows["trainings_held"], column=4, value="hai")
    sheet.cell(row=rows["has_signature_certificate"], column=4, value="Chưa")
    sheet.cell(row=rows["it_staff"], column=4, value=4)
    sheet.cell(row=rows["it_staff_dedicated"], column=4, value=6)
    extra = sheet.max_row + 1
    sheet.cell(row=extra, column=1, value="bts_positions")
    sheet.cell(row=extra, column=4, value=12)
    text = upload(client, assignment, to_bytes(book)).content.decode()
    r = rows
    assert (
        f"Dòng {r['doc_exchange_electronic_rate']}, cột F (Mẫu số): doc_exchange_electronic_rate — Tỷ lệ văn bản "
        f"trao đổi giữa các cơ quan nhà nước dưới dạng điện tử (trừ văn bản mật): mẫu số (văn bản gửi đi) phải lớn "
        f"hơn 0 (đã nhập «0»)"
    ) in text
    assert (
        f"Dòng {r['trainings_held']}, cột D (Giá trị): trainings_held — Số lớp đào tạo, tập huấn về chuyển đổi số đã "
        f"tổ chức trong kỳ: phải là số nguyên, ví dụ 2.164.505 (đã nhập «hai»)"
    ) in text
    assert f"Dòng {r['has_signature_certificate']}, cột D (Giá trị): has_signature_certificate" in text
    assert "chỉ nhận Có hoặc Không (đã nhập «Chưa»)" in text
    assert (
        f"Dòng {r['it_staff_dedicated']}, cột D (Giá trị): it_staff_dedicated" in text and "6 lớn hơn it_staff" in text
    )
    assert (
        f"Dòng {extra}, cột A (Mã chỉ tiêu): bts_positions: mã chỉ tiêu không có trong biểu mẫu chinh-quyen-dien-tu"
        in text
    )
    assert list(SubmittedValue.objects.values_list("indicator__code", "value")) == before
    assert not ValueChange.objects.filter(why="uploaded").exists()


def test_fixed_upload_saves_and_sends(assignment, officer):
    client = signed_in(officer)
    book = download(client, assignment)
    sheet = book["Báo cáo"]
    rows = rows_by_code(sheet)
    for code, column, value in [
        ("doc_exchange_electronic_rate", 5, "1.250"),
        ("doc_exchange_electronic_rate", 6, 1280),
        ("has_signature_certificate", 4, "Có"),
        ("it_staff", 4, 12),
        ("it_staff_dedicated", 4, "3"),
        ("trainings_held", 4, 2.0),
    ]:
        sheet.cell(row=rows[code], column=column, value=value)
    response = upload(client, assignment, to_bytes(book), submit=True)
    assert response.status_code == 302, response.content.decode()
    submission = Submission.objects.get()
    assert submission.status == Status.SUBMITTED
    values = {v.indicator.code: v for v in submission.values.all()}
    assert values["doc_exchange_electronic_rate"].numerator == 1250 and values["trainings_held"].value == 2
    assert values["doc_exchange_electronic_rate"].raw == "1.250 / 1280"
    assert ValueChange.objects.filter(why="uploaded").count() == 5


def test_upload_is_checked_by_content(assignment, officer, assignments):
    client = signed_in(officer)
    pdf = upload(client, assignment, b"%PDF-1.4 not a workbook").content.decode()
    assert "không phải bảng tính Excel (.xlsx)" in pdf
    fake_zip = upload(client, assignment, b"PK\x03\x04" + b"\x00" * 40).content.decode()
    assert "không phải bảng tính Excel" in fake_zip
    # Another assignment's template is refused.
    other = assignments["ubnd-cho-moi"]
    from chinhquyenso.lris import selectors, xlsx

    data = xlsx.template(other, selectors.items_with_values(other))
    text = upload(client, assignment, data).content.decode()
    assert f"LRIS-{other.pk}" in text and "báo cáo được giao khác" in text
    assert not Submission.objects.exists()
    assert "Hãy chọn tệp" in client.post(f"/can-bo/bao-cao-so-lieu/{assignment.pk}/tai-len/", {}).content.decode()
