"""Importing a health-records export: every kind of bad row, encodings and XLSX, re-import,
chunks written in their own transactions, access and the audit trail (persons.importer)."""

import csv
import datetime as dt
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from chinhquyenso.core.errors import PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.persons import importer
from chinhquyenso.persons.models import ImportBatch, ImportProblem, Source, SourceRecord
from tests.civil_records.test_import import windows_1258_form

pytestmark = pytest.mark.django_db

HEADERS = [label for _, label in importer.HEADERS]
FACILITY = "Bệnh viện Đa khoa Trung tâm An Giang"


def record(**changes):
    """A good row (template order); keys are the importer's field keys."""
    values = {
        "record_id": "HS-1",
        "facility": FACILITY,
        "facility_code": "89001",
        "full_name": "Nguyễn Thị Thuý",
        "sex": "Nữ",
        "birth": "05/03/1990",
        "id_number": "089190012345",
        "insurance_number": "GD4898912345678",
        "phone": "0912345678",
        "address": "Ấp Long Hòa, xã Kiến An, An Giang",
        "recorded_on": "12/06/2024",
    }
    values.update(changes)
    return [values[key] for key, _ in importer.HEADERS]


def write_csv(path, rows, *, headers=HEADERS, encoding="utf-8", delimiter=","):
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    content = text.getvalue()
    if encoding == "cp1258":  # no precomposed "ễ", "ọ": tone marks as combining characters
        content = windows_1258_form(content)
    path.write_bytes(content.encode(encoding))
    return path


def grant(user, *codenames):
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="persons", codename=codename))
    return type(user).objects.get(pk=user.pk)  # a fresh instance: no cached permissions


def problems(batch):
    return [(p.row, p.column, p.message) for p in ImportProblem.objects.filter(batch=batch)]


def test_a_file_with_every_kind_of_bad_row_imports_the_good_ones_and_names_each_problem(tmp_path, province):
    path = write_csv(
        tmp_path / "hssk.csv",
        [
            record(),  # row 2: good
            record(record_id="HS-2", full_name=""),  # 3: missing required name → rejected
            record(record_id="", full_name="Trần Văn An"),  # 4: missing record id → rejected
            record(record_id="HS-5", facility="", facility_code=""),  # 5: no facility → rejected
            record(record_id="HS-6", full_name="Lê Văn Bình", birth="31/02/1990"),  # 6: impossible date → kept
            record(record_id="HS-7", full_name="Lê Thị Cúc", id_number="12345"),  # 7: bad ID length → kept
            record(record_id="HS-8", full_name="Phạm Văn Dũng", phone="12ab"),  # 8: bad phone → kept
            record(record_id="HS-9", full_name="Võ Thị\x07 Em\x00"),  # 9: control characters → dropped, kept
            record(),  # 10: same facility + record id as row 2 → skipped
            record(record_id="HS-11", full_name="Đỗ Văn Giang", sex="x"),  # 11: bad sex → kept
            record(record_id="HS-12", full_name="Hồ Văn Hải", insurance_number="ABC"),  # 12: bad card → kept
            record(record_id="HS-13", full_name="Ngô Văn Ích", recorded_on="01/01/2999"),  # 13: future visit → kept
            ["", "", "", "", "", "", "", "", "", "", ""],  # blank row: ignored
        ],
    )
    batch = importer.import_health(path, actor=None)
    assert batch.status == ImportBatch.Status.DONE
    assert (batch.rows_read, batch.imported, batch.rejected, batch.skipped_existing) == (12, 8, 3, 1)
    by_row = {}
    for row, column, message in problems(batch):
        by_row.setdefault(row, []).append((column, message))
    assert by_row[3] == [("Họ và tên", "Cột “Họ và tên” bắt buộc phải có giá trị; dòng không được nhập.")]
    assert by_row[4][0][0] == "Mã hồ sơ" and "bắt buộc" in by_row[4][0][1]
    assert by_row[5][0][0] == "Cơ sở khám chữa bệnh"
    assert by_row[6][0][0] == "Ngày sinh" and "không có thật" in by_row[6][0][1]
    assert by_row[6][0][1].endswith("Trường này để trống khi nhập.")
    assert by_row[7][0][0] == "Số CMND/CCCD" and "9 chữ số" in by_row[7][0][1]
    assert by_row[8][0][0] == "Điện thoại"
    assert by_row[9] == [
        ("Họ và tên", "Cột “Họ và tên” có ký tự điều khiển hoặc ký tự không hợp lệ; các ký tự này đã được bỏ đi.")
    ]
    assert by_row[10][0][1].startswith("Trùng với dòng 2 của tệp")
    assert by_row[11][0][0] == "Giới tính"
    assert by_row[12][0][0] == "Số thẻ BHYT"
    assert by_row[13][0][0] == "Ngày khám gần nhất" and "chưa tới" in by_row[13][0][1]
    assert 2 not in by_row

    records = {r.source_id: r for r in SourceRecord.objects.filter(source=Source.HEALTH)}
    assert set(records) == {f"89001/HS-{n}" for n in (1, 6, 7, 8, 9, 11, 12, 13)}
    good = records["89001/HS-1"]
    assert (good.full_name, good.sex, good.birth_year, good.birth_month, good.birth_day) == (
        "Nguyễn Thị Thuý",
        "nu",
        1990,
        3,
        5,
    )
    assert (good.id_number, good.insurance_number, good.phone) == ("089190012345", "GD4898912345678", "0912345678")
    assert good.commune_id == province["xa_a"].pk  # "xã Kiến An" in the address
    assert good.recorded_on == dt.date(2024, 6, 12) and good.verified is False
    assert (good.batch_id, good.source_row, good.facility) == (batch.pk, 2, FACILITY)
    assert good.data["Họ và tên"] == "Nguyễn Thị Thuý"
    # A bad optional value leaves its field blank and the rest of the row.
    assert records["89001/HS-6"].birth_year is None and records["89001/HS-6"].birth_text == ""
    assert records["89001/HS-7"].id_number == "" and records["89001/HS-7"].phone == "0912345678"
    assert records["89001/HS-8"].phone == ""
    assert records["89001/HS-9"].full_name == "Võ Thị Em"
    assert records["89001/HS-11"].sex == ""
    assert records["89001/HS-12"].insurance_number == ""
    assert records["89001/HS-13"].recorded_on == dt.date.today()
    # One audit record for the batch, counts only: no name, no ID number.
    [entry] = AuditRecord.objects.filter(action="persons.import")
    assert entry.after == {"status": "done", "rows": 12, "imported": 8, "rejected": 3, "skipped_existing": 1}
    assert entry.actor_label == importer.CLI_ACTOR
    assert "Nguyễn" not in json.dumps(entry.after, ensure_ascii=False)


def test_normalization_old_phone_partial_birth_and_an_id_that_disagrees(tmp_path, province):
    path = write_csv(
        tmp_path / "hssk.csv",
        [
            record(phone="+84 1663 123 456", birth="1985", id_number="089 190 012 345", sex="Nam"),
            record(
                record_id="HS-2", full_name="Trần Văn An", birth="03/1970", facility_code="", phone="", id_number=""
            ),
        ],
    )
    batch = importer.import_health(path, actor=None)
    assert batch.imported == 2
    first = SourceRecord.objects.get(source_id="89001/HS-1")
    assert first.phone == "0363123456"  # the 2018 prefix change: 0166 → 036
    assert (first.birth_year, first.birth_month, first.birth_day, first.birth_text) == (1985, None, None, "1985")
    assert first.id_number == "089190012345"
    # The ID says a woman born in 1990: both kept, the disagreement said.
    [(row, column, message)] = problems(batch)
    assert (row, column) == (2, "Số CMND/CCCD") and "không khớp" in message
    # Without a facility code, the facility's folded name identifies the record.
    second = SourceRecord.objects.get(full_name="Trần Văn An")
    assert second.source_id == "benh vien da khoa trung tam an giang/HS-2"
    assert (second.birth_year, second.birth_month) == (1970, 3)


def test_importing_again_skips_what_is_stored_and_says_when_it_differs(tmp_path, province):
    rows = [record(), record(record_id="HS-2", full_name="Trần Văn An")]
    first = importer.import_health(write_csv(tmp_path / "a.csv", rows), actor=None)
    assert first.imported == 2
    changed = [record(phone="0987654321"), record(record_id="HS-2", full_name="Trần Văn An"), record(record_id="HS-3")]
    again = importer.import_health(write_csv(tmp_path / "b.csv", changed), actor=None)
    assert (again.imported, again.skipped_existing, again.rejected) == (1, 2, 0)
    [(row, column, message)] = problems(again)
    assert row == 2 and f"lượt nhập số {first.pk}" in message and "không ghi đè" in message
    assert SourceRecord.objects.get(source_id="89001/HS-1").phone == "0912345678"  # never overwritten
    assert SourceRecord.objects.count() == 3


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ","), ("utf-16", "\t"), ("cp1258", ";"), ("utf-8", ";")],
)
def test_csv_encodings_and_delimiters(tmp_path, province, encoding, delimiter):
    name = "Nguyễn Thị Ngọc Thuý"
    path = write_csv(tmp_path / "hssk.csv", [record(full_name=name)], encoding=encoding, delimiter=delimiter)
    batch = importer.import_health(path, actor=None)
    assert (batch.status, batch.imported) == (ImportBatch.Status.DONE, 1), batch.message
    assert SourceRecord.objects.get().full_name == name  # NFC, whatever the encoding wrote


def test_xlsx_with_dates_and_numbers_that_lost_their_leading_zero(tmp_path, province):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(
        [
            12345,
            FACILITY,
            89001,
            "Nguyễn Thị Thuý",
            "Nữ",
            dt.datetime(1990, 3, 5),
            89190012345,  # 089190012345 typed as a number
            "GD4898912345678",
            912345678,  # 0912345678 typed as a number
            "xã Kiến Thành",
            dt.date(2024, 6, 12),
        ]
    )
    book.save(tmp_path / "hssk.xlsx")
    batch = importer.import_health(tmp_path / "hssk.xlsx", actor=None)
    assert (batch.status, batch.imported) == (ImportBatch.Status.DONE, 1), (batch.message, problems(batch))
    stored = SourceRecord.objects.get()
    assert stored.source_id == "89001/12345"
    assert (stored.birth_year, stored.birth_month, stored.birth_day) == (1990, 3, 5)
    assert (stored.id_number, stored.phone) == ("089190012345", "0912345678")
    assert stored.recorded_on == dt.date(2024, 6, 12)
    assert stored.commune_id == province["xa_b"].pk


def test_headers_by_other_spellings_and_unknown_columns_kept_verbatim(tmp_path, province):
    headers = ["MA BENH AN", "Cơ sở y tế", "Họ tên", "SĐT", "CCCD", "Nhóm máu"]
    path = write_csv(
        tmp_path / "hssk.csv",
        [["BA-1", FACILITY, "Lê Văn Bình", "0912 345 678", "089090012345", "O"]],
        headers=headers,
    )
    batch = importer.import_health(path, actor=None)
    assert batch.imported == 1
    stored = SourceRecord.objects.get()
    assert (stored.full_name, stored.phone, stored.id_number) == ("Lê Văn Bình", "0912345678", "089090012345")
    assert stored.data["Nhóm máu"] == "O"
    [(row, column, message)] = problems(batch)
    assert (row, column) == (1, "Nhóm máu") and "không thuộc mẫu" in message


def test_a_file_without_the_required_columns_or_not_a_list_fails_with_the_reason(tmp_path, province):
    path = write_csv(tmp_path / "a.csv", [["Lê Văn Bình", "0912345678"]], headers=["Họ và tên", "Điện thoại"])
    batch = importer.import_health(path, actor=None)
    assert batch.status == ImportBatch.Status.FAILED
    assert "“Mã hồ sơ”" in batch.message and "“Cơ sở khám chữa bệnh”" in batch.message
    pdf = tmp_path / "b.csv"
    pdf.write_bytes(b"%PDF-1.7 not a list")
    batch = importer.import_health(pdf, actor=None)
    assert batch.status == ImportBatch.Status.FAILED and "CSV hoặc XLSX" in batch.message
    assert AuditRecord.objects.filter(action="persons.import").count() == 2
    assert SourceRecord.objects.count() == 0


def test_a_failure_mid_file_keeps_the_chunks_written_and_importing_again_resumes(tmp_path, province, monkeypatch):
    rows = [record(record_id=f"HS-{n}", full_name=f"Người Số {n}") for n in range(1, 8)]
    path = write_csv(tmp_path / "hssk.csv", rows)
    manager = SourceRecord.objects
    real = manager.bulk_create
    calls = []

    def failing_second_chunk(records, **kwargs):
        calls.append(len(records))
        stored = real(records, **kwargs)  # written, then rolled back with its chunk
        if len(calls) == 2:
            raise RuntimeError("ổ đĩa đầy")
        return stored

    monkeypatch.setattr(manager, "bulk_create", failing_second_chunk)
    batch = importer.import_health(path, actor=None, chunk_size=3)
    assert batch.status == ImportBatch.Status.FAILED
    assert "RuntimeError" in batch.message and "3 dòng đầu đã xử lý xong" in batch.message
    assert "ổ đĩa" not in batch.message  # the error's text is not shown (it could quote a row)
    assert set(SourceRecord.objects.values_list("source_id", flat=True)) == {"89001/HS-1", "89001/HS-2", "89001/HS-3"}
    monkeypatch.setattr(manager, "bulk_create", real)
    again = importer.import_health(path, actor=None, chunk_size=3)
    assert (again.status, again.imported, again.skipped_existing) == (ImportBatch.Status.DONE, 4, 3)
    assert SourceRecord.objects.count() == 7


def test_officers_need_the_grant_and_an_upload_is_read_like_a_file(tmp_path, province, officers):
    content = write_csv(tmp_path / "a.csv", [record()]).read_bytes()
    plain = officers["xa_a"]["specialist"]
    with pytest.raises(PermissionDenied):
        importer.import_health(SimpleUploadedFile("hssk.csv", content), actor=plain)
    viewer = grant(officers["xa_a"]["leader"], "view_health_data")
    with pytest.raises(PermissionDenied):
        importer.import_health(SimpleUploadedFile("hssk.csv", content), actor=viewer)
    assert ImportBatch.objects.count() == 0
    reviewer = grant(officers["xa_a"]["specialist"], "view_health_data", "review_links")
    batch = importer.import_health(SimpleUploadedFile("hssk.csv", content), actor=reviewer)
    assert (batch.status, batch.imported, batch.file_name, batch.created_by) == ("done", 1, "hssk.csv", reviewer)
    assert AuditRecord.objects.get(action="persons.import").actor == reviewer


def test_the_template_file_imports_cleanly(province):
    from pathlib import Path

    template = Path(importer.__file__).parent / "templates" / "persons" / "import_template.csv"
    batch = importer.import_health(template, actor=None)
    assert (batch.status, batch.rejected, batch.problems.count()) == ("done", 0, 0), problems(batch)
    assert batch.imported >= 2
    with open(template, encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == HEADERS
