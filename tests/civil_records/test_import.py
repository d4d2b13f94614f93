"""Importing register lists: encodings, formats, flags, rejections, the error
workbook and re-import, resuming, progress and the `cqs import-civil` command."""

import codecs
import datetime as dt
import io
import json
import unicodedata

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from chinhquyenso.civil_records import importer, services, workbook
from chinhquyenso.civil_records.models import CivilRecord, ImportBatch, ImportProblem, ReviewState
from chinhquyenso.core.models import AuditRecord

HEADERS = [
    "Quyển số",
    "Số đăng ký",
    "Năm đăng ký",
    "Ngày đăng ký",
    "Họ và tên",
    "Giới tính",
    "Ngày sinh",
    "Nơi sinh",
    "Họ và tên cha",
    "Họ và tên mẹ",
]
GOOD = [
    "01",
    "1",
    "1968",
    "15/05/1968",
    "Nguyễn Văn Hòa",
    "Nam",
    "12/05/1968",
    "xã Kiến An",
    "Nguyễn Văn Bình",
    "Trần Thị Cúc",
]


def row(**changes):
    values = dict(zip(HEADERS, GOOD))
    values.update({key.replace("_", " "): value for key, value in changes.items()})
    return [values[h] for h in HEADERS]


TONES = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258_form(text):
    """Text as Windows-1258 writes Vietnamese: â ê ô ă ơ ư đ precomposed, tone marks as combining characters."""
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        out.append(
            unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
            + "".join(c for c in parts if c in TONES)
        )
    return "".join(out)


def write_csv(path, rows, *, encoding="utf-8", delimiter=",", headers=HEADERS):
    lines = [delimiter.join(f'"{c}"' if delimiter in c else c for c in r) for r in [headers, *rows]]
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes((windows_1258_form(text) if encoding == "cp1258" else text).encode(encoding))
    return path


def run(path, commune, record_type="birth", **options):
    batch = services.create_batch(record_type=record_type, commune=commune, file_name=path.name)
    return importer.run_batch(batch, path, **options)


def problems(batch, **filters):
    return list(batch.problems.filter(**filters).values_list("row", "column", "value", "code"))


@pytest.fixture
def commune(province):
    return province["xa_a"]


# ---------------------------------------------------------------- encodings and formats

NAMES = ["Nguyễn Văn Hòa", "Lê Thị Thủy", "Đặng Hữu Phước"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1258"])
def test_every_encoding_gives_the_same_nfc_records(tmp_path, commune, encoding):
    rows = [row(Số_đăng_ký=str(n), Họ_và_tên=name) for n, name in enumerate(NAMES, 1)]
    path = write_csv(tmp_path / "so.csv", rows, encoding=encoding)
    batch = run(path, commune)
    assert (batch.status, batch.imported, batch.rejected) == ("done", 3, 0)
    stored = list(CivilRecord.objects.order_by("number").values_list("subject_name", flat=True))
    assert stored == NAMES
    assert all(unicodedata.is_normalized("NFC", name) for name in stored)
    # Windows-1258 writes tone marks as combining characters: NFC joins them on the way in.
    assert batch.encoding == {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (có BOM)", "cp1258": "Windows-1258"}.get(
        encoding, "UTF-16"
    )


def test_semicolon_and_tab_separated_files(tmp_path, commune):
    for n, delimiter in enumerate([";", "\t"]):
        path = write_csv(
            tmp_path / f"so{n}.csv", [row(Số_đăng_ký=str(n + 1), Nơi_sinh="Kiến An; Chợ Mới")], delimiter=delimiter
        )
        assert run(path, commune).imported == 1
    assert CivilRecord.objects.filter(data__birth_place="Kiến An; Chợ Mới").count() == 2


def test_bytes_that_do_not_decode_are_flagged_on_their_row(tmp_path, commune):
    good = "\r\n".join(",".join(r) for r in [HEADERS] + [row(Số_đăng_ký=str(n)) for n in range(1, 3000)]).encode()
    # Past the sniffed start of a UTF-8 file, one row was saved in another code page.
    bad = ",".join(row(Số_đăng_ký="3000", Họ_và_tên="Tr@n")).encode().replace(b"@", b"\xff")
    path = tmp_path / "so.csv"
    path.write_bytes(good + b"\r\n" + bad + b"\r\n")
    batch = run(path, commune)
    assert batch.imported == 3000
    assert problems(batch, code="unreadable_characters") == [(3001, "Họ và tên", "Tr\ufffdn", "unreadable_characters")]


def test_xlsx_with_date_cells_serials_and_text_dates(tmp_path, commune):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(row(Số_đăng_ký="1")[:6] + [dt.datetime(1968, 5, 12)] + row()[7:])
    sheet.append(row(Số_đăng_ký="2")[:6] + [24970] + row()[7:])
    sheet.append(row(Số_đăng_ký="3", Ngày_sinh="tháng 5/1968"))
    sheet.append(["01", 4, 1968.0] + row()[3:])  # numbers typed as numbers
    path = tmp_path / "so.xlsx"
    book.save(path)
    batch = run(path, commune)
    assert (batch.file_format, batch.imported, batch.rows_total) == ("xlsx", 4, 4)
    born = dict(CivilRecord.objects.values_list("number", "data__born_on"))
    assert born == {"1": "1968-05-12", "2": "1968-05-12", "3": "1968-05", "4": "1968-05-12"}
    record = CivilRecord.objects.get(number="1")
    assert record.verbatim["Ngày sinh"] == "12/05/1968"
    assert CivilRecord.objects.get(number="4").year == 1968


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "rỗng"),
        (b"%PDF-1.4 not a list", "không phải danh sách"),
        (b"\xd0\xcf\x11\xe0old excel", ".xls"),
        (b"PK\x03\x04broken", "XLSX"),
    ],
)
def test_files_that_are_not_lists_fail_the_batch_with_a_reason(tmp_path, commune, content, message):
    path = tmp_path / "so.csv"
    path.write_bytes(content)
    batch = run(path, commune)
    assert batch.status == ImportBatch.Status.FAILED and message in batch.message
    assert not CivilRecord.objects.exists()


def test_a_file_without_name_or_number_columns_fails_naming_them(tmp_path, commune):
    path = write_csv(tmp_path / "so.csv", [["a", "b"]], headers=["Cột A", "Cột B"])
    batch = run(path, commune)
    assert batch.status == ImportBatch.Status.FAILED
    assert "Họ và tên" in batch.message and "Số đăng ký" in batch.message


def test_headers_are_matched_without_diacritics_and_unknown_columns_kept_verbatim(tmp_path, commune):
    headers = ["QUYEN SO", "so", "nam", "Ho ten", "Ngay, thang, nam sinh (*)", "Ghi chép riêng"]
    path = write_csv(
        tmp_path / "so.csv", [["02", "7", "1970", "Võ Văn Tám", "01/01/1970", "sổ rách góc"]], headers=headers
    )
    batch = run(path, commune)
    record = CivilRecord.objects.get()
    assert (record.book, record.number, record.year, record.subject_name, record.data["born_on"]) == (
        "02",
        "7",
        1970,
        "Võ Văn Tám",
        "1970-01-01",
    )
    assert record.verbatim["Ghi chép riêng"] == "sổ rách góc"
    assert problems(batch, code="unknown_column") == [(1, "Ghi chép riêng", "Ghi chép riêng", "unknown_column")]


# ---------------------------------------------------------------- flags and rejections


def flags_of(number):
    return {(field, code) for field, code, _ in CivilRecord.objects.get(number=number).flags}


def test_every_historical_oddity_is_stored_with_a_flag_and_the_verbatim_value(tmp_path, commune):
    rows = [
        row(Số_đăng_ký="1", Ngày_sinh="29/02/1967"),
        row(Số_đăng_ký="2", Ngày_sinh="31/04/1968"),
        row(Số_đăng_ký="3", Ngày_sinh="năm 1968"),
        row(Số_đăng_ký="4", Ngày_sinh="tháng 5/1968"),
        row(Số_đăng_ký="5", Ngày_sinh="12/3/1968 âm lịch"),
        # Without the register's year "68" may be 1868 or 1968 (tests/civil_records/test_import_details.py).
        row(Số_đăng_ký="6", Năm_đăng_ký="", Ngày_đăng_ký="", Ngày_sinh="2/5/68"),
        row(Số_đăng_ký="7", Họ_và_tên_cha="", Họ_và_tên_mẹ="không có"),
        row(Số_đăng_ký="8", Họ_và_tên="Nguyễn Văn ?", Nơi_sinh="không rõ", Họ_và_tên_mẹ="?"),
        row(Số_đăng_ký="9", Nơi_sinh="xã Kiến An, quận Chợ Mới, tỉnh Long Xuyên"),
        row(Số_đăng_ký="10", Ngày_đăng_ký="01/05/1968"),  # registered before the birth
        row(Số_đăng_ký="11", Giới_tính="Khác"),
        row(Số_đăng_ký="", Họ_và_tên="Trần Văn Không Số"),
        row(Số_đăng_ký="12", Năm_đăng_ký="", Ngày_đăng_ký=""),
        row(Số_đăng_ký="13", Nơi_sinh="Kiến Phong"),
    ]
    batch = run(write_csv(tmp_path / "so.csv", rows), commune)
    assert (batch.imported, batch.flagged, batch.rejected) == (14, 14, 0)
    assert flags_of("1") == {("born_on", "impossible_date")}
    assert flags_of("2") == {("born_on", "impossible_date")}
    assert flags_of("3") == {("born_on", "partial_date")}
    assert flags_of("4") == {("born_on", "partial_date")}
    assert flags_of("5") == {("born_on", "lunar_date")}
    assert flags_of("6") == {("born_on", "two_digit_year"), ("year", "missing_year")}
    assert flags_of("7") == {("father_name", "missing_parent"), ("mother_name", "missing_parent")}
    assert flags_of("8") == {("name", "illegible"), ("birth_place", "illegible"), ("mother_name", "illegible")}
    assert flags_of("9") == {("birth_place", "historical_place")}
    assert flags_of("10") == {("born_on", "inconsistent_date")}
    assert flags_of("11") == {("sex", "invalid_value")}
    assert flags_of("") == {("number", "missing_number")}
    assert flags_of("12") == {("year", "missing_year")}
    assert flags_of("13") == {("birth_place", "historical_place")}
    first = CivilRecord.objects.get(number="1")
    assert first.verbatim["Ngày sinh"] == "29/02/1967" and first.data["born_on"] == "1967-02"
    assert first.review_state == ReviewState.FLAGGED
    assert "không phải năm nhuận" in first.flags[0][2]
    lunar = CivilRecord.objects.get(number="5")
    assert lunar.verbatim["Ngày sinh"] == "12/3/1968 âm lịch" and lunar.data["born_on"] == "1968-04-09"
    old_place = CivilRecord.objects.get(number="9")
    assert "nay là tỉnh An Giang" in old_place.flags[0][2]
    assert old_place.data["birth_place"] == "xã Kiến An, quận Chợ Mới, tỉnh Long Xuyên"


def test_only_rows_identifying_nobody_are_rejected(tmp_path, commune):
    rows = [
        row(Số_đăng_ký="", Họ_và_tên=""),  # neither name nor number
        row(Số_đăng_ký="", Họ_và_tên="không rõ"),  # an illegible name is no name
        row(Số_đăng_ký="5", Họ_và_tên=""),  # a number alone identifies the entry
        row(Số_đăng_ký="", Họ_và_tên="Lê Văn Tư"),  # a name alone too
    ]
    batch = run(write_csv(tmp_path / "so.csv", rows), commune)
    assert (batch.imported, batch.rejected) == (2, 2)
    rejected = batch.problems.filter(severity=ImportProblem.Severity.ERROR)
    assert [(p.row, p.column, p.code) for p in rejected] == [(2, "Họ và tên", "unusable"), (3, "Họ và tên", "unusable")]
    assert "không có họ tên" in rejected[0].message and "số đăng ký" in rejected[0].message


def test_blank_rows_are_ignored_and_row_numbers_match_the_spreadsheet(tmp_path, commune):
    rows = [row(Số_đăng_ký="1"), [""] * len(HEADERS), row(Số_đăng_ký="2", Ngày_sinh="31/04/1968")]
    batch = run(write_csv(tmp_path / "so.csv", rows), commune)
    assert batch.rows_read == 2 and batch.imported == 2
    assert problems(batch) == [(4, "Ngày sinh", "31/04/1968", "impossible_date")]


def test_control_characters_are_dropped_and_values_stay_storable(tmp_path, commune):
    path = write_csv(tmp_path / "so.csv", [row(Họ_và_tên="Nguyễn\x00 Văn\x07 Hòa")])
    run(path, commune)
    record = CivilRecord.objects.get()
    assert record.subject_name == "Nguyễn Văn Hòa" and "\x00" not in record.verbatim["Họ và tên"]


def test_marriage_and_death_registers(tmp_path, commune):
    marriage = write_csv(
        tmp_path / "kh.csv",
        [["03", "9", "1972", "20/10/1972", "Phạm Văn Lực", "1950", "Đỗ Thị Lành", "?"]],
        headers=[
            "Quyển số",
            "Số",
            "Năm",
            "Ngày đăng ký",
            "Họ và tên chồng",
            "Ngày sinh chồng",
            "Họ và tên vợ",
            "Ngày sinh vợ",
        ],
    )
    batch = run(marriage, commune, "marriage")
    record = CivilRecord.objects.get(record_type="marriage")
    assert (record.subject_name, record.spouse_name, record.event_from) == (
        "Phạm Văn Lực",
        "Đỗ Thị Lành",
        dt.date(1972, 10, 20),
    )
    assert {(f, c) for f, c, _ in record.flags} == {("husband_born", "partial_date"), ("wife_born", "illegible")}
    death = write_csv(
        tmp_path / "kt.csv",
        [["01", "4", "1975", "Trần Văn Hai", "08/04/1975", "tỉnh Châu Đốc"]],
        headers=["Quyển số", "Số", "Năm", "Họ và tên người chết", "Ngày chết", "Nơi chết"],
    )
    run(death, commune, "death")
    record = CivilRecord.objects.get(record_type="death")
    assert record.event_from == dt.date(1975, 4, 8) and record.flags[0][1] == "historical_place"
    assert batch.imported == 1


# ---------------------------------------------------------------- identity, error workbook, re-import


def test_reimporting_the_same_file_duplicates_nothing(tmp_path, commune):
    path = write_csv(tmp_path / "so.csv", [row(Số_đăng_ký=str(n)) for n in range(1, 6)])
    assert run(path, commune).imported == 5
    again = run(path, commune)
    assert (again.imported, again.skipped_existing) == (0, 5)
    assert CivilRecord.objects.count() == 5


def test_identity_is_commune_type_book_number_and_year(tmp_path, province, commune):
    rows = [
        row(Số_đăng_ký="1"),
        row(Số_đăng_ký="1", Quyển_số="02"),
        row(Số_đăng_ký="1", Năm_đăng_ký="1969", Ngày_đăng_ký="02/01/1969"),
    ]
    path = write_csv(tmp_path / "so.csv", rows)
    assert run(path, commune).imported == 3
    assert run(path, province["xa_b"]).imported == 3  # another commune's register
    assert run(path, commune, "death").imported == 3  # another register of the same commune


def test_a_stated_key_or_the_row_content_identifies_rows_without_book_numbers(tmp_path, commune):
    keyed = write_csv(
        tmp_path / "k.csv",
        [["KA-1968-001", "Ngô Văn Một"], ["KA-1968-002", "Ngô Văn Hai"]],
        headers=["Mã bản ghi", "Họ và tên"],
    )
    assert run(keyed, commune).imported == 2
    assert run(keyed, commune).skipped_existing == 2
    unnumbered = write_csv(tmp_path / "u.csv", [row(Số_đăng_ký="", Họ_và_tên="Lý Thị Ba")])
    assert run(unnumbered, commune).imported == 1
    assert run(unnumbered, commune).skipped_existing == 1


def test_duplicates_inside_one_file_are_reported_against_the_first_row(tmp_path, commune):
    rows = [row(Số_đăng_ký="1"), row(Số_đăng_ký="2"), row(Số_đăng_ký="1", Họ_và_tên="Nguyễn Văn Khác")]
    batch = run(write_csv(tmp_path / "so.csv", rows), commune, chunk_size=2)  # the duplicate falls in the next chunk
    assert (batch.imported, batch.skipped_existing) == (2, 1)
    notice = batch.problems.get(code="duplicate_in_file")
    assert notice.row == 4 and "dòng 2" in notice.message


def test_an_existing_record_with_other_content_is_not_overwritten(tmp_path, commune):
    run(write_csv(tmp_path / "a.csv", [row()]), commune)
    batch = run(write_csv(tmp_path / "b.csv", [row(Họ_và_tên="Nguyễn Văn Hoà Sửa")]), commune)
    assert batch.skipped_existing == 1
    assert CivilRecord.objects.get().subject_name == "Nguyễn Văn Hòa"
    assert "nội dung khác" in batch.problems.get(code="existing_differs").message


def fills(sheet):
    return {
        (cell.row, sheet.cell(1, cell.column).value): cell.fill.start_color.rgb
        for line in sheet.iter_rows(min_row=2)
        for cell in line
        if cell.fill.fill_type == "solid"
    }


def test_error_workbook_mirrors_problem_rows_highlights_cells_and_reimports_without_duplicates(tmp_path, commune):
    rows = [
        row(Số_đăng_ký="1"),
        row(Số_đăng_ký="", Họ_và_tên=""),
        row(Số_đăng_ký="3", Ngày_sinh="31/04/1968"),
        row(Số_đăng_ký="4"),
    ]
    source = write_csv(tmp_path / "so.csv", rows)
    batch = run(source, commune)
    assert (batch.imported, batch.flagged, batch.rejected) == (3, 1, 1)
    out = tmp_path / "loi.xlsx"
    assert workbook.write(batch, source, out) == {"Cần sửa": 1, "Cần rà soát": 1}
    book = load_workbook(out)
    fix, review = book["Cần sửa"], book["Cần rà soát"]
    assert [c.value for c in fix[1]] == HEADERS + ["Dòng gốc", "Thông báo"]
    rejected = [c.value for c in fix[2]]
    assert rejected[: len(HEADERS)] == [v or None for v in rows[1]]
    assert rejected[len(HEADERS)] == 3 and "Họ và tên, Số đăng ký: Không dùng được" in rejected[-1]
    # Both cells the message names are filled (issue 17).
    assert fills(fix) == {(2, "Họ và tên"): "00FFC7CE", (2, "Số đăng ký"): "00FFC7CE"}
    flagged = [c.value for c in review[2]]
    assert flagged[len(HEADERS) : len(HEADERS) + 2] == [4, "Đã nhập, cần rà soát"]
    assert "Ngày sinh: Ngày 31/4/1968 không có thật" in flagged[-1]
    assert fills(review) == {(2, "Ngày sinh"): "00FFEB9C"}
    # The officer fills in the rejected row and imports the workbook as it is.
    fix.cell(2, HEADERS.index("Họ và tên") + 1, "Châu Văn Hai")
    fix.cell(2, HEADERS.index("Số đăng ký") + 1, "2")
    book.save(out)
    second = run(out, commune)
    assert (second.imported, second.rejected, second.skipped_existing) == (1, 0, 0)
    assert not second.problems.filter(code="unknown_column").exists()  # its own columns are not register columns
    assert sorted(CivilRecord.objects.values_list("number", flat=True)) == ["1", "2", "3", "4"]
    # Importing the original file again completes nothing twice either.
    assert run(source, commune).skipped_existing == 3


def test_error_workbook_of_an_xlsx_keeps_cell_values(tmp_path, commune):
    book = Workbook()
    book.active.append(HEADERS)
    book.active.append(["01", "", 1968, dt.datetime(1968, 5, 15), "", "Nam", dt.datetime(1968, 5, 12)])
    source = tmp_path / "so.xlsx"
    book.save(source)
    batch = run(source, commune)
    out = tmp_path / "loi.xlsx"
    workbook.write(batch, source, out)
    cells = [c.value for c in load_workbook(out)["Cần sửa"][2]]
    assert cells[2] == 1968 and cells[3] == dt.datetime(1968, 5, 15)


# ---------------------------------------------------------------- streaming, resuming, progress


def test_progress_is_reported_per_chunk_and_ends_at_the_whole_file(tmp_path, commune):
    path = write_csv(tmp_path / "so.csv", [row(Số_đăng_ký=str(n)) for n in range(1, 26)])
    seen = []
    batch = run(path, commune, chunk_size=10, on_progress=lambda b: seen.append((b.rows_read, b.progress_permille)))
    assert [rows for rows, _ in seen] == [10, 20, 25, 25]
    permille = [p for _, p in seen]
    assert permille == sorted(permille) and permille[-1] == 1000
    assert batch.checkpoint_row == 26
    # One audit record per chunk, with counts and row numbers but no names.
    audits = AuditRecord.objects.filter(action="civil.import")
    assert audits.count() == 3
    assert "Nguyễn" not in json.dumps([a.after for a in audits], ensure_ascii=False)


def test_an_interrupted_batch_resumes_after_its_checkpoint(tmp_path, commune):
    path = write_csv(tmp_path / "so.csv", [row(Số_đăng_ký=str(n)) for n in range(1, 11)])
    batch = services.create_batch(record_type="birth", commune=commune, file_name=path.name)
    short = write_csv(tmp_path / "first-half.csv", [row(Số_đăng_ký=str(n)) for n in range(1, 6)])
    importer.run_batch(batch, short)  # as if the worker stopped after row 6
    batch.status = ImportBatch.Status.RUNNING
    batch.save()
    batch = importer.run_batch(batch, path)
    assert (batch.imported, batch.skipped_existing, batch.rows_read) == (10, 0, 10)


def test_validation_processes_give_the_same_result(tmp_path, province):
    rows = [row(Số_đăng_ký=str(n), Ngày_sinh="29/02/1967" if n % 7 == 0 else "12/05/1968") for n in range(1, 40)]
    rows.append(row(Số_đăng_ký="", Họ_và_tên=""))
    path = write_csv(tmp_path / "so.csv", rows)
    inline = run(path, province["xa_a"], chunk_size=8, workers=0)
    pooled = run(path, province["xa_b"], chunk_size=8, workers=2)
    assert (
        inline.counts()
        == pooled.counts()
        == {"rows": 40, "imported": 39, "flagged": 5, "rejected": 1, "skipped_existing": 0}
    )
    assert problems(inline) == problems(pooled)


def test_a_full_cache_changes_no_result(tmp_path, province, monkeypatch):
    """Each column remembers what it worked out for a text (validation.Cell); when the
    cache is full it starts again. Rows validated with a cache of two texts per column
    are stored exactly as with the default cache."""
    from chinhquyenso.civil_records.validation import RowValidator

    dates = ["12/05/1968", "29/02/1967", "năm 1968", "tháng 5/1968", "?/5/1968", "ngày 3 tháng 4 năm 1968 âm lịch"]
    rows = [
        row(
            Số_đăng_ký=str(n),
            Ngày_sinh=dates[n % len(dates)],
            Họ_và_tên_cha="" if n % 4 else "không rõ",
            Nơi_sinh="xã Kiến An, tỉnh Long Xuyên" if n % 5 == 0 else "xã Kiến An",
        )
        for n in range(1, 61)
    ]
    path = write_csv(tmp_path / "so.csv", rows)
    roomy = run(path, province["xa_a"], chunk_size=7)
    monkeypatch.setattr(RowValidator, "CACHE_LIMIT", 2)
    cramped = run(path, province["xa_b"], chunk_size=7)

    def stored(batch):
        return list(
            batch.records.order_by("source_row").values_list(
                "source_row", "identity_key", "registered_on", "event_from", "event_to", "verbatim", "data", "flags"
            )
        )

    assert roomy.counts() == cramped.counts()
    assert stored(roomy) == stored(cramped)
    assert problems(roomy) == problems(cramped)


def test_a_two_digit_year_is_read_against_each_rows_own_year(tmp_path, commune):
    """The same text '12/5/67' means 1967 in a book of 1968 and 1867 in a book of 1890:
    such cells depend on their row and are never taken from the column's cache."""
    path = write_csv(
        tmp_path / "so.csv",
        [
            row(Số_đăng_ký="1", Năm_đăng_ký="1968", Ngày_đăng_ký="15/05/1968", Ngày_sinh="12/5/67"),
            row(Số_đăng_ký="2", Năm_đăng_ký="1890", Ngày_đăng_ký="15/05/1890", Ngày_sinh="12/5/67"),
            row(Số_đăng_ký="3", Năm_đăng_ký="1968", Ngày_đăng_ký="15/05/1968", Ngày_sinh="12/5/67"),
        ],
    )
    run(path, commune)
    born = dict(CivilRecord.objects.values_list("number", "data__born_on"))
    assert born == {"1": "1967-05-12", "2": "1867-05-12", "3": "1967-05-12"}


def test_two_columns_of_the_same_title_keep_both_texts(tmp_path, commune):
    headers = [*HEADERS, "Ghi chú", "Ghi chú"]
    path = write_csv(tmp_path / "so.csv", [[*GOOD, "Bổ sung năm 1970", "Đã cấp bản sao"]], headers=headers)
    batch = run(path, commune)
    record = CivilRecord.objects.get()
    assert record.verbatim["Ghi chú"] == "Bổ sung năm 1970"
    assert record.verbatim["Ghi chú (cột 12)"] == "Đã cấp bản sao"
    assert record.data["notes"] == "Bổ sung năm 1970"
    assert "duplicate_column" in {code for *_, code in problems(batch)}


def test_a_failing_validation_process_stops_the_import_with_its_reason(tmp_path, commune):
    """A validation process that fails is reported, not waited for for ever."""
    path = write_csv(tmp_path / "so.csv", [row()])
    batch = services.create_batch(record_type="birth", commune=commune, file_name=path.name)
    source = importer.open_source(path)
    validator = importer.RowValidator(importer.KINDS["birth"], source.headers)
    with pytest.raises(RuntimeError, match="Tiến trình kiểm tra dữ liệu gặp lỗi"):
        list(importer._validated_chunks(source, tmp_path / "da-xoa.csv", validator, batch, 8, 1))
    source.close()


def test_postgresql_statistics_follow_a_growing_import(tmp_path, commune, monkeypatch):
    """Without statistics PostgreSQL checks a chunk's identities by scanning all the
    commune's records; the import analyzes the table as it grows."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    monkeypatch.setattr(importer, "ANALYZE_FIRST", 4)
    path = write_csv(tmp_path / "so.csv", [row(Số_đăng_ký=str(n)) for n in range(1, 21)])
    run(path, commune, chunk_size=5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [CivilRecord._meta.db_table])
        assert cursor.fetchone()[0] >= 16  # analyzed after 16 records (4 × 4), not left at -1 (never analyzed)


# ---------------------------------------------------------------- the command


def test_cli_json_summary_and_error_workbook(tmp_path, commune):
    path = write_csv(
        tmp_path / "so.csv", [row(), row(Số_đăng_ký="", Họ_và_tên=""), row(Số_đăng_ký="2", Ngày_sinh="năm 1968")]
    )
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_civil",
        str(path),
        "--type",
        "birth",
        "--commune",
        commune.code,
        "--errors",
        str(tmp_path / "loi.xlsx"),
        "--json",
        stdout=out,
        stderr=err,
    )
    summary = json.loads(out.getvalue())
    assert {k: summary[k] for k in ("imported", "flagged", "rejected", "skipped_existing")} == {
        "imported": 2,
        "flagged": 1,
        "rejected": 1,
        "skipped_existing": 0,
    }
    assert summary["errors_workbook"] == str(tmp_path / "loi.xlsx")
    assert load_workbook(tmp_path / "loi.xlsx")["Cần sửa"].max_row == 2
    again = io.StringIO()
    call_command(
        "import_civil", str(path), "--type", "birth", "--commune", commune.electronic_code, "--json", stdout=again
    )
    assert json.loads(again.getvalue())["skipped_existing"] == 2


def test_cli_progress_bar_and_vietnamese_report(tmp_path, commune, monkeypatch):
    monkeypatch.setattr(importer.run_batch, "__kwdefaults__", {**importer.run_batch.__kwdefaults__, "chunk_size": 100})
    # Progress is the share of the file's bytes read: a file of several read buffers.
    path = write_csv(
        tmp_path / "so.csv", [row(Số_đăng_ký=str(n)) for n in range(1, 2001)] + [row(Số_đăng_ký="", Họ_và_tên="")]
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("import_civil", str(path), "--type", "birth", "--commune", commune.code, stdout=out, stderr=err)
    bars = [line for line in err.getvalue().splitlines() if line.startswith("[")]
    assert len(bars) >= 3 and bars[-1].startswith("[" + "#" * 30 + "] 100%")
    assert "Đã nhập: 2.000" in out.getvalue() and "bị từ chối: 1" in out.getvalue()
    assert "Dòng 2002, cột Họ và tên, Số đăng ký: Không dùng được" in err.getvalue()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--commune", "khong-co"], "Không tìm thấy xã"),
        (["--commune", "so-tu-phap"], "không phải UBND cấp xã"),
    ],
)
def test_cli_refuses_unknown_or_non_commune_agencies(tmp_path, province, args, message):
    path = write_csv(tmp_path / "so.csv", [row()])
    with pytest.raises(CommandError, match=message):
        call_command("import_civil", str(path), "--type", "birth", *args)
    assert not ImportBatch.objects.exists()


def test_cli_missing_file(province):
    with pytest.raises(CommandError, match="Không tìm thấy tệp"):
        call_command("import_civil", "/nope.csv", "--type", "birth", "--commune", "xa-kien-an")


def test_utf16_without_bom_is_detected():
    from chinhquyenso.civil_records.reading import detect_encoding

    assert detect_encoding("Họ và tên".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding("Họ và tên".encode("utf-16-be")) == "utf-16-be"
    assert detect_encoding(codecs.BOM_UTF8 + b"x") == "utf-8-sig"
    assert detect_encoding(windows_1258_form("Thủy").encode("cp1258")) == "cp1258"
    assert detect_encoding("Thủ".encode()[:-1]) == "utf-8"  # a character cut by the sample's end


def test_correcting_the_number_of_an_unnumbered_entry_makes_it_its_identity(tmp_path, commune, officers):
    registrar = officers["xa_a"]["specialist"]
    run(write_csv(tmp_path / "a.csv", [row(Số_đăng_ký="1"), row(Số_đăng_ký="", Họ_và_tên="Lý Thị Ba")]), commune)
    unnumbered = CivilRecord.objects.get(number="")
    with pytest.raises(services.DomainError, match="cùng quyển số"):
        services.review_field(actor=registrar, record=unnumbered, field="number", action="corrected", value="1")
    record = services.review_field(actor=registrar, record=unnumbered, field="number", action="corrected", value="2")
    assert (record.number, record.identity_key, record.review_state) == ("2", "s:01|2|1968", ReviewState.REVIEWED)
    assert record.verbatim.get("Số đăng ký") is None  # what the register said (nothing) is kept
    # The corrected list imported later matches the reviewed record instead of adding a second one.
    again = run(write_csv(tmp_path / "b.csv", [row(Số_đăng_ký="2", Họ_và_tên="Lý Thị Ba")]), commune)
    assert (again.imported, again.skipped_existing) == (0, 1)


def test_scanned_pages_named_in_the_list_are_attached_from_the_images_folder(tmp_path, commune):
    images = tmp_path / "anh"
    images.mkdir()
    (images / "q01-so1-a.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"trang 1")
    (images / "q01-so1-b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"trang 2")
    (images / "q01-so2.jpg").write_bytes(b"not an image")  # named like a JPEG, it is not one
    path = write_csv(
        tmp_path / "so.csv",
        [
            row(Số_đăng_ký="1") + ["q01-so1-a.jpg; q01-so1-b.png"],
            row(Số_đăng_ký="2") + ["q01-so2.jpg"],
            row(Số_đăng_ký="3") + ["khong-co.jpg"],
        ],
        headers=HEADERS + ["Ảnh trang sổ"],
    )
    batch = run(path, commune, images_dir=images)
    first = CivilRecord.objects.get(number="1")
    assert [(s.page, s.file.content_type) for s in first.scans.all()] == [(1, "image/jpeg"), (2, "image/png")]
    assert not CivilRecord.objects.get(number="2").scans.exists()
    assert "Tệp ảnh q01-so2.jpg" in batch.problems.get(code="bad_scan").message
    assert flags_of("3") == {("scans", "missing_scan")}
