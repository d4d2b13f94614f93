"""Hostile register lists (issue 16, finding 10): a line or cell far over any register's size, a
stray quote, an XLSX "zip bomb" or one with millions of rows, text that a spreadsheet would run
as a formula, control characters, a UTF-8 header over Windows-1258 rows, and an unexpected error.
Each costs its own rows (or is refused with a Vietnamese reason) in bounded memory; the batch
always ends, and nothing of a row's content reaches the log."""

import csv
import io
import logging
import tracemalloc
import zipfile

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from chinhquyenso.civil_records import importer, workbook
from chinhquyenso.civil_records.models import CivilRecord, ImportBatch
from chinhquyenso.civil_records.reading import open_source
from chinhquyenso.procedures import catalog_io
from tests.civil_records.test_import import HEADERS, problems, row, run, windows_1258_form, write_csv
from tests.procedures.test_catalog_io import good_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def commune(province):
    return province["xa_a"]


def numbered(count, **changes):
    return [row(Số_đăng_ký=str(n), **changes) for n in range(1, count + 1)]


def csv_line(cells):
    return ",".join(cells)


def peak_while(function):
    """(result, peak bytes Python allocated while `function` ran)."""
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------- CSV lines, cells, quotes


def test_a_line_far_over_the_limit_costs_its_row_only_in_bounded_memory(tmp_path, commune, monkeypatch):
    """A 200 MB line, scaled down: a 20 MB line against a 64 KB limit is skipped in pieces, never held."""
    monkeypatch.setitem(settings.CQS, "CIVIL_CSV_MAX_LINE_BYTES", 64 * 1024)
    path = tmp_path / "so.csv"
    with path.open("wb") as out:
        out.write((csv_line(HEADERS) + "\n" + csv_line(row(Số_đăng_ký="1")) + "\n").encode())
        out.write(b"01,2,1968," + b"A" * (20 * 1024 * 1024) + b"\n")
        out.write((csv_line(row(Số_đăng_ký="3")) + "\n").encode())

    def read_all():
        source = open_source(path)
        try:
            return list(source.rows)
        finally:
            source.close()

    rows, peak = peak_while(read_all)
    assert peak < 2 * 1024 * 1024, peak
    assert [number for number, _ in rows] == [2, 3, 4]
    batch = run(path, commune, workers=0)  # validation processes would not see the lowered limit
    assert (batch.status, batch.imported, batch.rejected) == ("done", 2, 1)
    [(number, column, value, code)] = problems(batch, severity="error")
    assert (number, code, value) == (3, "line_too_long", "")
    assert "Dòng dài quá 64 KB" in batch.problems.get(code="line_too_long").message


def test_a_cell_over_the_limit_rejects_its_row(tmp_path, commune, monkeypatch):
    monkeypatch.setitem(settings.CQS, "CIVIL_CSV_MAX_FIELD_BYTES", 1024)
    path = write_csv(tmp_path / "so.csv", [*numbered(2), row(Số_đăng_ký="3", Nơi_sinh="x" * 5000)])
    batch = run(path, commune)
    assert (batch.status, batch.imported, batch.rejected) == ("done", 2, 1)
    assert [(r[0], r[3]) for r in problems(batch, severity="error")] == [(4, "cell_too_long")]


def test_a_stray_quote_in_5000_rows_costs_one_row_not_the_rest_of_the_file(tmp_path, commune):
    rows = numbered(5000)
    rows[99][4] = '"Nguyễn Văn Tèo'  # opens a quote nobody closes: the rest of the file would be one cell
    path = tmp_path / "so.csv"
    path.write_text("\r\n".join(csv_line(r) for r in [HEADERS, *rows]) + "\r\n", encoding="utf-8")
    batch = run(path, commune)
    assert (batch.status, batch.rows_read, batch.imported, batch.rejected) == ("done", 5000, 4999, 1)
    [(number, _, value, code)] = problems(batch, severity="error")
    assert (number, code) == (101, "open_quote") and value.startswith("01,100,1968")
    message = batch.problems.get(code="open_quote").message
    assert "Dấu ngoặc kép" in message and "các dòng sau vẫn được đọc" in message
    assert CivilRecord.objects.filter(number="5000").exists()


def test_a_quote_closed_in_the_wrong_place_and_a_swallowed_row_are_refused_by_row(tmp_path, commune):
    rows = numbered(6)
    rows[1][4] = '"Lê" Thị Thủy'  # a quote closed inside the cell (csv strict)
    rows[3][7] = '"xã Kiến An'  # opens a quote that the next row's last cell closes: the row between is swallowed
    rows[5][9] = 'Trần Thị Cúc"'
    path = tmp_path / "so.csv"
    path.write_text("\n".join(csv_line(r) for r in [HEADERS, *rows]) + "\n", encoding="utf-8")
    batch = run(path, commune)
    assert batch.status == "done"
    assert [(r[0], r[3]) for r in problems(batch, severity="error")] == [(3, "open_quote"), (5, "open_quote")]
    stored = set(CivilRecord.objects.values_list("number", flat=True))
    assert stored == {"1", "3", "5", "6"}


def test_a_genuine_multi_line_cell_is_still_one_row(tmp_path, commune):
    rows = numbered(3)
    rows[1][7] = '"xã Kiến An\nấp Long Hòa, quận 1"'
    path = tmp_path / "so.csv"
    path.write_text("\n".join(csv_line(r) for r in [HEADERS, *rows]) + "\n", encoding="utf-8")
    batch = run(path, commune)
    assert (batch.status, batch.imported, batch.rejected) == ("done", 3, 0)
    assert CivilRecord.objects.get(number="2").verbatim["Nơi sinh"] == "xã Kiến An\nấp Long Hòa, quận 1"


def test_rows_past_the_limit_stop_the_batch_with_a_reason(tmp_path, commune, monkeypatch):
    monkeypatch.setitem(settings.CQS, "CIVIL_IMPORT_MAX_ROWS", 10)
    batch = run(write_csv(tmp_path / "so.csv", numbered(15)), commune, chunk_size=4)
    assert batch.status == "failed" and batch.finished_at is not None
    assert "hơn 10 dòng" in batch.message
    assert batch.imported == CivilRecord.objects.count() <= 10


# ---------------------------------------------------------------- XLSX bombs


def xlsx_archive(path, sheet_rows: bytes, repeat: int = 1):
    """A minimal XLSX whose sheet holds `sheet_rows` repeated `repeat` times (streamed: never in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<sheetData><row><c t="inlineStr"><is><t>H\xe1\xbb\x8d v\xc3\xa0 t\xc3\xaan</t></is></c></row>'
            )
            for _ in range(repeat):
                sheet.write(sheet_rows)
            sheet.write(b"</sheetData></worksheet>")
    return path


def test_an_xlsx_bomb_is_refused_before_anything_is_decompressed(tmp_path, commune):
    """About 1 MB on disk, 400 MB of rows once decompressed (millions of rows to report as problems)."""
    chunk = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000
    path = xlsx_archive(tmp_path / "bom.xlsx", chunk, repeat=400)
    assert path.stat().st_size < 2 * 1024 * 1024
    batch, peak = peak_while(lambda: run(path, commune))
    assert batch.status == "failed" and "nén bất thường" in batch.message and "không được mở" in batch.message
    assert peak < 8 * 1024 * 1024, peak
    assert CivilRecord.objects.count() == 0 and not batch.problems.exists()


def test_an_xlsx_too_large_once_decompressed_is_refused(tmp_path, commune, monkeypatch):
    monkeypatch.setitem(settings.CQS, "CIVIL_XLSX_MAX_UNPACKED_BYTES", 4096)
    book = Workbook()
    book.active.append(HEADERS)
    for r in numbered(100):
        book.active.append(r)
    book.save(tmp_path / "so.xlsx")
    batch = run(tmp_path / "so.xlsx", commune)
    assert batch.status == "failed" and "vượt giới hạn" in batch.message and "MB" in batch.message


def test_xlsx_cells_and_rows_over_the_limits(tmp_path, commune, monkeypatch):
    monkeypatch.setitem(settings.CQS, "CIVIL_CSV_MAX_FIELD_BYTES", 1000)
    monkeypatch.setitem(settings.CQS, "CIVIL_IMPORT_MAX_ROWS", 5)
    book = Workbook()
    book.active.append(HEADERS)
    rows = numbered(8)
    rows[1][7] = "x" * 2000
    for r in rows:
        book.active.append(r)
    book.save(tmp_path / "so.xlsx")
    batch = run(tmp_path / "so.xlsx", commune, chunk_size=2)
    assert batch.status == "failed" and "hơn 5 dòng" in batch.message
    assert [(r[0], r[3]) for r in problems(batch, severity="error")] == [(3, "cell_too_long")]
    assert batch.imported == CivilRecord.objects.count() == 3  # rows 2, 4, 5: the chunks written before row 7


# ---------------------------------------------------------------- the error workbook

FORMULAS = ['=HYPERLINK("http://x.example/","Bấm vào đây")', "+84 912 345 678", "-1", "@SUM(A1)", "\t=1+1"]


def test_the_error_workbook_keeps_formula_like_text_as_text(tmp_path, commune):
    rejected = [row(Số_đăng_ký="", Họ_và_tên="", Nơi_sinh=text) for text in FORMULAS]
    path = tmp_path / "so.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([HEADERS, *numbered(1), *rejected])
    batch = run(path, commune)
    assert batch.rejected == len(FORMULAS)
    workbook.write(batch, path, tmp_path / "loi.xlsx")
    sheet = load_workbook(tmp_path / "loi.xlsx")[workbook.FIX_SHEET]
    place = HEADERS.index("Nơi sinh")
    cells = [r[place] for r in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == FORMULAS  # exactly as imported: the workbook is imported again
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_control_characters_never_break_the_error_workbook(tmp_path, commune):
    rejected = row(Số_đăng_ký="", Họ_và_tên="", Nơi_sinh="xã\x01 Kiến\x1b An\x7f")
    path = write_csv(tmp_path / "so.csv", [*numbered(1), rejected])
    batch = run(path, commune)
    out = tmp_path / "cli.xlsx"
    call_command("import_civil", str(path), "--type", "birth", "--commune", commune.code, "--errors", str(out))
    assert load_workbook(out)[workbook.FIX_SHEET].max_row == 2
    workbook.write(batch, path, tmp_path / "loi.xlsx")
    sheet = load_workbook(tmp_path / "loi.xlsx")[workbook.FIX_SHEET]
    assert sheet.cell(2, HEADERS.index("Nơi sinh") + 1).value == "xã Kiến An"


def test_the_catalog_export_keeps_formula_like_text_as_text():
    """The other workbook the platform writes goes through the same cells (core.spreadsheets)."""
    entry = good_entry()
    entry["name"] = '=HYPERLINK("http://x.example/","Bấm")\x01'
    entry["components"] = [{**c, "reusable_result_type": "", "mandatory": False} for c in entry["components"]]
    entry["steps"] = [{**s, "agency": ""} for s in entry["steps"]]
    book = load_workbook(io.BytesIO(catalog_io.render_catalog([entry], "xlsx")))
    [cell] = [c for r in book.worksheets[0].iter_rows(min_row=2) for c in r if c.value and "HYPERLINK" in str(c.value)]
    assert cell.data_type == "s" and cell.quotePrefix and cell.value == '=HYPERLINK("http://x.example/","Bấm")'


# ---------------------------------------------------------------- encodings


def test_a_utf8_header_over_windows_1258_rows_is_read_row_by_row(tmp_path, commune):
    names = ["Nguyễn Văn Hòa", "Lê Thị Thủy", "Đặng Hữu Phước"]
    utf8 = [row(Số_đăng_ký="1", Họ_và_tên=names[0])]
    legacy = [row(Số_đăng_ký=str(n), Họ_và_tên=name) for n, name in enumerate(names[1:], 2)]
    path = tmp_path / "so.csv"
    path.write_bytes(
        b"".join(
            [(csv_line(r) + "\r\n").encode() for r in [HEADERS, *utf8]]
            + [(windows_1258_form(csv_line(r)) + "\r\n").encode("cp1258") for r in legacy]
        )
    )
    batch = run(path, commune)
    assert (batch.status, batch.imported, batch.rejected, batch.flagged) == ("done", 3, 0, 0), batch.message
    assert list(CivilRecord.objects.order_by("number").values_list("subject_name", flat=True)) == names
    assert batch.encoding == "UTF-8 + Windows-1258"
    assert batch.problems.get(code="legacy_encoding").message.startswith("2 dòng không lưu theo UTF-8")


# ---------------------------------------------------------------- unexpected errors


def test_an_unexpected_error_fails_the_batch_and_logs_no_row_content(tmp_path, commune, monkeypatch, caplog):
    def broken(self, rows):
        raise ValueError(f"không xử lý được “{rows[0][1][4]}”")  # an error quoting a row

    monkeypatch.setattr(importer.RowValidator, "validate", broken)
    path = write_csv(tmp_path / "so.csv", numbered(3))
    with caplog.at_level(logging.ERROR):
        batch = run(path, commune)
    assert batch.status == ImportBatch.Status.FAILED and "lỗi hệ thống (ValueError" in batch.message
    assert "ValueError" in caplog.text and "Nguyễn" not in caplog.text
    with pytest.raises(SystemExit) as exit_code:
        call_command("import_civil", str(path), "--type", "birth", "--commune", commune.code)
    assert exit_code.value.code == 2


def test_an_unexpected_error_while_writing_the_error_workbook_is_said_in_vietnamese(
    tmp_path, commune, monkeypatch, caplog
):
    path = write_csv(tmp_path / "so.csv", [row(Số_đăng_ký="", Họ_và_tên="")])

    name = "Nguyễn Văn Hòa"

    def broken(*args, **kwargs):
        raise ValueError(name)  # an error quoting a person (the traceback shows this line, not the value)

    monkeypatch.setattr(workbook, "_problems_by_row", broken)
    with caplog.at_level(logging.ERROR), pytest.raises(CommandError, match="không tạo được sổ tính lỗi .*lỗi hệ thống"):
        call_command(
            "import_civil",
            str(path),
            "--type",
            "birth",
            "--commune",
            commune.code,
            "--errors",
            str(tmp_path / "l.xlsx"),
        )
    assert "ValueError" in caplog.text and "Nguyễn" not in caplog.text
