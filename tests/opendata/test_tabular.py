"""Recognizing a publisher's file by its bytes and reading its table: encodings (UTF-8, UTF-16,
Windows-1258 with its combining tone marks), delimiters, headers, row widths and hostile content."""

from __future__ import annotations

import datetime as dt
import io
import json
import unicodedata
import zipfile

import pytest
from openpyxl import Workbook

from chinhquyenso.core.errors import DomainError
from chinhquyenso.opendata.models import ResourceFormat
from chinhquyenso.opendata.tabular import detect_format, read_table

VIETNAMESE = "Xã Mỹ Hòa Hưng,Đông Xuyên\n"


def rows_of(data: bytes, format: str = ResourceFormat.CSV):
    table = read_table(data, format)
    return table.header, list(table.rows), table.encoding


def xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refused(callable_, *args) -> DomainError:
    with pytest.raises(DomainError) as caught:
        callable_(*args)
    assert caught.value.field in ("file", "format")
    return caught.value


# ---------------------------------------------------------------- formats


def test_formats_are_recognized_by_content_not_name():
    assert detect_format(b"%PDF-1.7\n...", "bang.csv") == ResourceFormat.PDF
    assert detect_format(xlsx([["a"], [1]]), "bang.pdf") == ResourceFormat.XLSX
    assert detect_format(b"ma,ten\n1,A\n", "bang.json") == ResourceFormat.CSV
    assert detect_format(b'[{"a": 1}]') == ResourceFormat.JSON
    assert detect_format(b'{"type": "Topic", "x": [1, 2]}') == ResourceFormat.JSON
    collection = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None, "properties": {}}]}
    assert detect_format(json.dumps(collection).encode()) == ResourceFormat.GEOJSON
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.1, 10.4]}, "properties": {}}
    assert detect_format(json.dumps(point).encode()) == ResourceFormat.GEOJSON


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows executable
        b"\x7fELF\x02\x01\x01\x00",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"GIF89a\x01\x00",
        b"<!DOCTYPE html><html><body>x</body></html>",
        b"  <html><script>alert(1)</script></html>",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # Excel 97-2003
        b"\x1f\x8b\x08\x00",  # gzip
        b"",
        b"a,b\n\x00\x00\x00\x00",
        b'{"type": "FeatureCollection", "features": 3}',
        b'{"type": "Feature", "geometry": {"type": "Circle"}}',
        b'{"a": NaN}',
        b"[" * 100 + b"]" * 100,  # deeper than core.params allows
    ],
)
def test_what_is_not_open_data_is_refused(data):
    refused(detect_format, data)


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            "<Types><Override ContentType='application/vnd.openxmlformats-"
            "officedocument.wordprocessingml.document.main+xml'/></Types>",
        )
        archive.writestr("word/document.xml", "<w/>")
    error = refused(detect_format, buffer.getvalue())
    assert "XLSX" in error.message


def test_a_zip_bomb_is_refused_before_inflating():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "spreadsheetml.sheet.main+xml")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (8 << 20))
    error = refused(detect_format, buffer.getvalue())
    assert "nén bất thường" in error.message


# ---------------------------------------------------------------- encodings


def test_utf8_with_and_without_bom():
    header, rows, encoding = rows_of(("tên,xã\n" + VIETNAMESE).encode())
    assert header == ["tên", "xã"] and rows == [["Xã Mỹ Hòa Hưng", "Đông Xuyên"]] and encoding == "UTF-8"
    header, rows, _ = rows_of(("tên,xã\n" + VIETNAMESE).encode("utf-8-sig"))
    assert header == ["tên", "xã"] and rows == [["Xã Mỹ Hòa Hưng", "Đông Xuyên"]]


def test_utf16_with_bom():
    data = ("tên\txã\r\n" + VIETNAMESE.replace(",", "\t")).encode("utf-16")
    header, rows, encoding = rows_of(data)
    assert encoding == "UTF-16" and header == ["tên", "xã"] and rows == [["Xã Mỹ Hòa Hưng", "Đông Xuyên"]]
    assert detect_format(data) == ResourceFormat.CSV


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258(text: str) -> bytes:
    """`text` as a Vietnamese Windows program writes it: the code page's precomposed letters where it
    has them (ê, ư, đ…), and the tone marks combining after them ("ố" is "ô" + U+0301)."""
    out = b""
    for character in text:
        try:
            out += character.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", character)
            tones = "".join(mark for mark in decomposed if mark in TONE_MARKS)
            letter = unicodedata.normalize("NFC", "".join(mark for mark in decomposed if mark not in TONE_MARKS))
            out += (letter + tones).encode("cp1258")
    return out


def test_windows_1258_is_decoded_and_joined_into_nfc():
    legacy = windows_1258("tên;xã\nXã Mỹ Hòa Hưng;Đông Xuyên;Tiếng Việt\n".replace(";Tiếng Việt", ""))
    assert b"a\xde" in legacy  # "ã": a + combining tilde (0xDE in Windows-1258)
    assert detect_format(legacy) == ResourceFormat.CSV
    header, rows, encoding = rows_of(legacy)
    assert encoding == "Windows-1258"
    assert header == ["tên", "xã"] and rows == [["Xã Mỹ Hòa Hưng", "Đông Xuyên"]]


def test_bytes_that_are_neither_utf8_nor_vietnamese_are_refused():
    # TCVN3 ("ABC") text read as Windows-1258 gives Latin-1 letters Vietnamese never uses.
    error = refused(read_table, b"ten,xa\nH\xb5 N\xe9i,x\n", "CSV")
    assert "Windows-1258" in error.message and "dòng 2" in error.message
    # A UTF-8 file with one line saved by a legacy program mixes encodings: refused, not mojibake.
    mixed = "tên,xã\nMỹ Hòa Hưng,1\n".encode() + windows_1258("Châu Đốc,2\n")
    assert "dòng 3" in refused(read_table, mixed, "CSV").message
    refused(read_table, b"a,b\n\x81\x8d\x8f,x\n", "CSV")  # undefined in Windows-1258 too


# ---------------------------------------------------------------- tables


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["mã", "tên", "dân số"]) + "\n" + delimiter.join(["1", "An Phú, cũ", "12"]) + "\n"
    if delimiter == ",":
        text = text.replace("An Phú, cũ", '"An Phú, cũ"')
    header, rows, _ = rows_of(text.encode())
    assert header == ["mã", "tên", "dân số"] and rows == [["1", "An Phú, cũ", "12"]]


def test_quoted_cells_may_span_lines_and_blank_lines_are_skipped():
    header, rows, _ = rows_of(b'a,b\n1,"hai\ndong"\n\n3,4\n')
    assert rows == [["1", "hai\ndong"], ["3", "4"]]


def test_a_row_of_the_wrong_width_names_its_line():
    data = ("a,b,c,d\n" + "1,2,3,4\n" * 15 + "1,2,3,4,5\n").encode()
    table = read_table(data, "CSV")
    with pytest.raises(DomainError) as caught:
        list(table.rows)
    assert caught.value.message == "Dòng 17 có 5 cột, dòng tiêu đề có 4." and caught.value.field == "file"


def test_line_numbers_count_the_lines_of_multi_line_cells():
    table = read_table(b'a,b\n1,"x\ny\nz"\n2\n', "CSV")
    with pytest.raises(DomainError, match="Dòng 5 có 1 cột"):
        list(table.rows)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b"a,,c", "Cột thứ 2"),
        (b"a,b,a", "“a” bị trùng"),
        (b"a,_id", "dấu gạch dưới"),
        (b"\n", "dòng tiêu đề"),
        (b'a,"b""c"', "ngoặc kép"),
    ],
)
def test_the_header_must_name_every_column_once(header, reason):
    error = refused(read_table, header + b"\n1,2,3\n", "CSV")
    assert reason in error.message


def test_header_names_are_nfc_and_trimmed():
    decomposed = "  Ho\u0300a  ,  xa\u0303 \n1,2\n".encode()
    header, _, _ = rows_of(decomposed)
    assert header == ["Hòa", "xã"]


def test_control_characters_are_refused_naming_line_and_column():
    table = read_table(b"a,b\n1,2\n3,x\x07y\n", "CSV")
    with pytest.raises(DomainError, match="Dòng 3, cột 2"):
        list(table.rows)
    table = read_table("a,b\n1,\ufffe\n".encode(), "CSV")
    with pytest.raises(DomainError, match="Dòng 2, cột 2"):
        list(table.rows)


def test_a_cell_too_long_is_refused():
    table = read_table(b"a\n" + b"x" * 40_000 + b"\n", "CSV")
    with pytest.raises(DomainError, match="Dòng 2, cột 1: ô dài quá"):
        list(table.rows)


def test_a_stray_quote_is_refused_with_its_line():
    table = read_table(b'a,b\n1,2\n3,"4"x\n', "CSV")
    with pytest.raises(DomainError, match="Dòng 3"):
        list(table.rows)


def test_xlsx_first_sheet_values_as_text():
    data = xlsx(
        [
            ["Mã", "Tên", "Dân số", "Tỉ lệ", "Ngày", "Có", None],
            [1, "An Phú", 12000, 0.25, dt.datetime(2025, 3, 1), True, None],
            [None, None, None, None, None, None, None],
            [2, '=HYPERLINK("x")', 3.0, 1e-5, dt.datetime(2025, 3, 1, 8, 30), False, None],
        ]
    )
    header, rows, encoding = rows_of(data, ResourceFormat.XLSX)
    assert encoding == "XLSX" and header == ["Mã", "Tên", "Dân số", "Tỉ lệ", "Ngày", "Có"]
    assert rows == [
        ["1", "An Phú", "12000", "0.25", "2025-03-01", "TRUE"],
        # A formula is read as the value Excel computed and cached, never as its text (openpyxl caches none).
        ["2", "", "3", "0.00001", "2025-03-01 08:30:00", "FALSE"],
    ]


def test_xlsx_rows_wider_than_the_header_are_refused():
    data = xlsx([["a", "b"], [1, 2], [1, 2, 3]])
    table = read_table(data, ResourceFormat.XLSX)
    with pytest.raises(DomainError, match="Dòng 3 có 3 cột, dòng tiêu đề có 2"):
        list(table.rows)


def test_formats_without_a_table_are_refused():
    with pytest.raises(DomainError) as caught:
        read_table(b"%PDF-1.7", ResourceFormat.PDF)
    assert caught.value.field == "format"
