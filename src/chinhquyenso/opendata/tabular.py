"""What a publisher's file is, and its table when it has one.

`detect_format` recognizes an uploaded resource by its bytes, never by its name: a PDF, an XLSX (a
ZIP whose [Content_Types].xml declares a workbook, its directory checked for a "zip bomb" first),
GeoJSON or JSON (parsed with core.params.loads: finite numbers, bounded depth), or else text that
reads as CSV. Executables, HTML, images, other archives and Excel 97–2003 files are refused with a
Vietnamese message naming "file".

`read_table` turns a CSV or XLSX into a `Table`: a header of unique, non-empty column names and the
rows as lists of text, each as wide as the header. CSV text may be UTF-8 (with or without BOM),
UTF-16 (BOM) or Windows-1258, the legacy Vietnamese code page — whose tone marks are combining
characters, so the text is NFC-normalized after decoding. A file that is none of these is refused
rather than loaded as mojibake. The rows are checked as they are read (width, cell length, control
characters), each error naming its line and column; opendata.datastore.load reads every row before
it writes anything, so a bad row deep in the file leaves nothing half-loaded.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.params import loads
from chinhquyenso.core.spreadsheets import check_xlsx_archive
from chinhquyenso.core.text import format_number, nfc, unstorable_field
from chinhquyenso.opendata.models import ResourceFormat

# One cell: a table's values are figures, names and short descriptions; a longer "cell" is a document
# pasted into a spreadsheet, or a file built to bloat the database.
MAX_CELL_CHARS = 32_768
# Columns: PostgreSQL's tables hold at most 1600, and the DataStore keeps a folded copy of each text
# column beside it (opendata.datastore), so 500 published columns always fit.
MAX_COLUMNS = 500
MAX_COLUMN_NAME = 200
# An XLSX as uploaded is at most OPENDATA_UPLOAD_MAX_BYTES (50 MB); decompressed, a real workbook of that
# size stays well under a gigabyte, and no part of it inflates more than a hundred times.
XLSX_MAX_UNPACKED_BYTES = 1 << 30
XLSX_MAX_RATIO = 100

WORKBOOK_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_WORKBOOK_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}
)
DELIMITERS = ",;\t|"
ENCODING_LABELS = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf-16": "UTF-16", "cp1258": "Windows-1258"}

# What Vietnamese text in Windows-1258 holds beyond ASCII once NFC-normalized: the letters with their
# tone marks and typographic punctuation. Text in another legacy encoding (TCVN3, VNI) decoded as
# Windows-1258 gives other Latin-1 letters and symbols, and is refused instead.
VIETNAMESE_TEXT = (
    frozenset(
        unicodedata.normalize("NFC", vowel + tone)
        for vowel in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
        for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    )
    # Only the punctuation Windows keyboards type: the other Latin-1 symbols (µ © ® § ± ¼…) are the
    # bytes TCVN3 uses for its letters ("Hà Nội" in TCVN3 reads "Hµ Néi"), so they mark a wrong guess.
    | frozenset("đĐ“”‘’–—…°€\xa0")
) - frozenset("aeiouyAEIOUY")  # the ASCII vowels are not what shows the text is Vietnamese

CONTROL_OR_NONCHARACTER = (
    "có ký tự điều khiển hoặc ký tự không hợp lệ (thường do tệp bị hỏng hoặc xuất sai bảng mã); "
    "hãy xóa ký tự đó rồi tải lên lại."
)


@dataclass
class Table:
    """A tabular file read: column names, the rows (lists of text as wide as the header; "" for an
    empty cell), and the encoding it was read in ("UTF-8", "UTF-16", "Windows-1258", "XLSX")."""

    header: list[str]
    rows: Iterator[list[str]]
    encoding: str


# ---------------------------------------------------------------- the format


def detect_format(data: bytes, filename: str = "") -> str:
    """The ResourceFormat value of `data`, read from its content; DomainError naming "file" for what the
    portal does not publish. `filename` only makes a refusal clearer (an .xls named as such)."""
    if not data:
        raise DomainError("Tệp rỗng.", "file")
    head = data[:8]
    if data.startswith(b"%PDF-"):
        return ResourceFormat.PDF
    if data.startswith(b"PK\x03\x04"):
        _check_workbook(data)
        return ResourceFormat.XLSX
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DomainError(
            "Tệp Excel 97–2003 (.xls) chưa được nhận: hãy lưu lại thành .xlsx hoặc CSV rồi tải lên.", "file"
        )
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")):
        raise DomainError("Tệp chương trình (tệp chạy được) không phải dữ liệu mở và không được nhận.", "file")
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")) or (
        data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"AVI ", b"WAVE")
    ):
        raise DomainError(
            "Tệp ảnh hoặc âm thanh không phải dữ liệu dạng bảng: hãy tải lên CSV, XLSX, JSON, GeoJSON hoặc PDF.",
            "file",
        )
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh", b"\xfd7zXZ")):
        raise DomainError("Tệp nén không được nhận: hãy giải nén và tải lên từng tệp dữ liệu.", "file")
    text = _decode(data, field="file")[1]  # refuses bytes that are not text in a supported encoding
    start = text.lstrip()[:200].lower()
    if start.startswith(("<!doctype", "<html", "<?xml", "<svg", "<head", "<body", "<script")):
        raise DomainError(
            "Tệp HTML/XML không phải dữ liệu mở được nhận: hãy tải lên CSV, XLSX, JSON, GeoJSON hoặc PDF.", "file"
        )
    if start.startswith(("{", "[")):
        return _json_format(text)
    if "\x00" in text:
        raise DomainError(f"Tệp không phải CSV, XLSX, JSON, GeoJSON hoặc PDF{_named(filename)} (có byte 0).", "file")
    return ResourceFormat.CSV


def _named(filename: str) -> str:
    return f" (“{nfc(filename)[:100]}”)" if filename else ""


def _check_workbook(data: bytes) -> None:
    """An XLSX, not any ZIP: the archive's directory first (no zip bomb is ever inflated), then its
    declared content types."""
    check_xlsx_archive(io.BytesIO(data), max_unpacked=XLSX_MAX_UNPACKED_BYTES, max_ratio=XLSX_MAX_RATIO)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            try:
                member = archive.getinfo("[Content_Types].xml")
            except KeyError:
                member = None
            types = archive.read(member) if member is not None and member.file_size < 1 << 20 else b""
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DomainError("Tệp XLSX bị hỏng, không mở được.", "file") from None
    if MACRO_WORKBOOK_TYPE in types:
        raise DomainError("Sổ tính có macro (.xlsm) không được nhận: hãy lưu lại thành .xlsx không có macro.", "file")
    if WORKBOOK_TYPE not in types:
        raise DomainError(
            "Tệp nén (ZIP, DOCX…) không phải sổ tính XLSX: hãy tải lên CSV, XLSX, JSON, GeoJSON hoặc PDF.", "file"
        )


def _json_format(text: str) -> str:
    value = loads(text, "file")
    if isinstance(value, dict) and value.get("type") in ({"FeatureCollection", "Feature"} | GEOMETRY_TYPES):
        _check_geojson(value)
        return ResourceFormat.GEOJSON
    return ResourceFormat.JSON


def _check_geojson(value: dict) -> None:
    """A value that says it is GeoJSON must be GeoJSON (RFC 7946's structure, not its coordinates'
    arithmetic): a map built from it would otherwise fail for every visitor instead of once here."""
    kind = value["type"]
    if kind == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list):
            raise DomainError("GeoJSON không hợp lệ: FeatureCollection phải có danh sách “features”.", "file")
        for number, feature in enumerate(features, 1):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise DomainError(
                    f"GeoJSON không hợp lệ: phần tử thứ {number} của “features” không phải Feature.", "file"
                )
            _check_geometry(feature.get("geometry"), f"Feature thứ {number}")
    elif kind == "Feature":
        _check_geometry(value.get("geometry"), "Feature")
    else:
        _check_geometry(value, "đối tượng")


def _check_geometry(geometry, where: str) -> None:
    if geometry is None:  # a Feature without a location is allowed (RFC 7946, 3.2)
        return
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        raise DomainError(f"GeoJSON không hợp lệ: {where} có “geometry” không đúng kiểu hình học.", "file")
    if geometry["type"] == "GeometryCollection":
        if not isinstance(geometry.get("geometries"), list):
            raise DomainError(f"GeoJSON không hợp lệ: {where} thiếu danh sách “geometries”.", "file")
    elif not isinstance(geometry.get("coordinates"), list):
        raise DomainError(f"GeoJSON không hợp lệ: {where} thiếu danh sách tọa độ “coordinates”.", "file")


# ---------------------------------------------------------------- text and its encoding


def detect_encoding(data: bytes) -> str:
    """The codec that reads `data`: by its BOM, else strict UTF-8, else Windows-1258 when the text reads
    as Vietnamese; DomainError naming "file" otherwise."""
    return _decode(data, field="file")[0]


def _decode(data: bytes, *, field: str) -> tuple[str, str]:
    """(codec, text) of `data`, as detect_encoding explains."""
    if data.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            codec, first_bad_line = "cp1258", data.count(b"\n", 0, error.start) + 1
        else:
            return "utf-8", text
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        if codec == "cp1258":
            raise DomainError(
                "Tệp không phải văn bản UTF-8 và cũng không phải tiếng Việt mã Windows-1258 (có byte không thuộc "
                "bảng mã nào): hãy lưu lại tệp dưới dạng CSV UTF-8 rồi tải lên.",
                field,
            ) from None
        raise DomainError("Tệp có BOM UTF-16 nhưng nội dung không phải UTF-16 hợp lệ: tệp bị hỏng.", field) from None
    if codec == "cp1258":
        # Windows-1258 writes tone marks as combining characters after the vowel: NFC joins them.
        text = unicodedata.normalize("NFC", text)
        if not _plausibly_vietnamese(text):
            raise DomainError(
                f"Tệp không phải văn bản UTF-8 (dòng {first_bad_line} có byte không hợp lệ), và đọc theo bảng mã "
                "Windows-1258 cũng không ra tiếng Việt (có thể là bảng mã TCVN3/VNI, tệp trộn nhiều bảng mã hoặc "
                "tệp nhị phân): hãy lưu lại tệp dưới dạng CSV UTF-8 rồi tải lên.",
                field,
            )
    else:
        text = text.removeprefix("\ufeff")
    return codec, text


def _plausibly_vietnamese(text: str) -> bool:
    """Every non-ASCII character is a Vietnamese letter or a usual symbol, and there is at least one."""
    seen = False
    for character in text:
        if character >= "\x80":
            if character not in VIETNAMESE_TEXT:
                return False
            seen = True
    return seen


# ---------------------------------------------------------------- tables


def read_table(data: bytes, format: str) -> Table:
    """The table held by a CSV or XLSX file (`format` as detect_format says); DomainError naming "file"
    for a header or row that cannot be a table's, with its line (and column) number."""
    if format == ResourceFormat.CSV:
        return _read_csv(data)
    if format == ResourceFormat.XLSX:
        return _read_xlsx(data)
    raise DomainError(f"Định dạng {format} không đọc được thành bảng dữ liệu (chỉ CSV và XLSX).", "format")


def clean_header(names: list) -> list[str]:
    """Column names as published: NFC, trimmed, non-empty, unique, not starting with "_" (the DataStore's
    own columns, such as _id) and without double quotes (CKAN's field ids never hold one)."""
    if not names:
        raise DomainError("Tệp không có dòng tiêu đề cột: dòng đầu phải ghi tên các cột.", "file")
    if len(names) > MAX_COLUMNS:
        raise DomainError(
            f"Bảng có {format_number(len(names))} cột, vượt giới hạn {format_number(MAX_COLUMNS)} cột.", "file"
        )
    header: list[str] = []
    seen: set[str] = set()
    for number, raw in enumerate(names, 1):
        name = nfc(_as_text(raw))
        if not name:
            raise DomainError(f"Cột thứ {number} của dòng tiêu đề không có tên: mỗi cột phải có tên.", "file")
        if len(name) > MAX_COLUMN_NAME:
            raise DomainError(f"Tên cột thứ {number} dài quá {MAX_COLUMN_NAME} ký tự.", "file")
        if name.startswith("_"):
            raise DomainError(
                f"Tên cột “{name}” không được bắt đầu bằng dấu gạch dưới (dành cho cột hệ thống như _id).", "file"
            )
        if '"' in name:
            raise DomainError(f'Tên cột “{name}” không được chứa dấu ngoặc kép (").', "file")
        if name in seen:
            raise DomainError(f"Tên cột “{name}” bị trùng trong dòng tiêu đề: mỗi cột phải có tên riêng.", "file")
        seen.add(name)
        header.append(name)
    return header


def check_row(cells: list[str], width: int, line: int) -> None:
    """A row's width, its cells' length and characters; DomainError naming "file" and the line."""
    if len(cells) != width:
        raise DomainError(f"Dòng {line} có {len(cells)} cột, dòng tiêu đề có {width}.", "file")
    joined = "".join(cells)
    # isprintable() (in C) is true for nearly every row and rules out every unstorable character;
    # only a row holding a tab, a line break or another non-printing character is looked at closely.
    if not joined.isprintable() and unstorable_field(joined) is not None:
        column = int(unstorable_field(cells)) + 1
        raise DomainError(f"Dòng {line}, cột {column}: ô {CONTROL_OR_NONCHARACTER}", "file")
    for column, cell in enumerate(cells, 1):
        if len(cell) > MAX_CELL_CHARS:
            raise DomainError(f"Dòng {line}, cột {column}: ô dài quá {format_number(MAX_CELL_CHARS)} ký tự.", "file")


def _read_csv(data: bytes) -> Table:
    codec, text = _decode(data, field="file")
    delimiter = _sniff_delimiter(text)
    # The whole text is in memory already (an upload is at most 50 MB): csv reads it line by line.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        first = next(reader, None)
    except csv.Error:
        raise DomainError('Dòng 1 (dòng tiêu đề) đặt dấu ngoặc kép (") sai chỗ.', "file") from None
    if first is None or not any(cell.strip() for cell in first):
        raise DomainError("Tệp không có dòng tiêu đề cột: dòng đầu phải ghi tên các cột.", "file")
    header = clean_header(first)

    def rows() -> Iterator[list[str]]:
        width = len(header)
        line = reader.line_num + 1  # the line the next record starts on
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                reason = "ô dài quá giới hạn" if "field larger" in str(error) else 'dấu ngoặc kép (") đặt sai chỗ'
                raise DomainError(f"Dòng {line}: {reason}.", "file") from None
            if cells:  # a blank line separates nothing and is not a row
                cells = [_clean_cell(cell) for cell in cells]
                check_row(cells, width, line)
                yield cells
            line = reader.line_num + 1

    return Table(header, rows(), ENCODING_LABELS[codec])


def _sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the one among , ; tab | it holds most often (a header of one
    column holds none, and reads the same with any)."""
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def _clean_cell(cell: str) -> str:
    cell = cell.strip()
    return cell if cell.isascii() else unicodedata.normalize("NFC", cell)


def _read_xlsx(data: bytes) -> Table:
    _check_workbook(data)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        iterator = sheet.iter_rows(values_only=True)
        first = list(next(iterator, None) or ())
    except DomainError:
        raise
    except Exception:  # a damaged workbook gives a message, not a traceback
        raise DomainError("Tệp XLSX bị hỏng, không mở được.", "file") from None
    while first and (first[-1] is None or _as_text(first[-1]) == ""):
        first.pop()
    if not first:
        workbook.close()
        raise DomainError("Dòng đầu của trang tính thứ nhất phải là dòng tiêu đề cột.", "file")
    header = clean_header(first)

    def rows() -> Iterator[list[str]]:
        width = len(header)
        try:
            for line, values in enumerate(iterator, 2):
                cells = [_clean_cell(_as_text(value)) for value in values]
                # A sheet's rows run to its widest used column; cells past the header's must be empty.
                while len(cells) > width and cells[-1] == "":
                    cells.pop()
                if not any(cells):  # empty rows (often trailing ones) are not data
                    continue
                cells.extend([""] * (width - len(cells)))
                check_row(cells, width, line)
                yield cells
        except DomainError:
            raise
        except Exception:
            raise DomainError("Tệp XLSX bị hỏng, không đọc hết được.", "file") from None
        finally:
            workbook.close()

    return Table(header, rows(), "XLSX")


def _as_text(value) -> str:
    """A spreadsheet's value as the text a person reads in the cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        # Shortest text that reads back as the same float, written without an exponent.
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)
