"""Stream the rows of an uploaded register list, CSV or XLSX, one at a time.

A file is recognized by its bytes: XLSX is a ZIP holding xl/workbook.xml;
anything else must be text. CSV text may be UTF-8 (with or without BOM),
UTF-16 (with BOM, or detected by its zero bytes) or Windows-1258, the legacy
Vietnamese code page, whose tone marks are combining characters (NFC joins
them). UTF-8 and Windows-1258 files are decoded line by line, so a list
mixing both (a UTF-8 header over Windows-1258 rows) loses nothing; bytes that
decode in neither become U+FFFD, which validation flags on the row instead of
failing the file. The delimiter (comma, semicolon or tab) is read from the
header line.

A hostile file costs bounded memory and its own rows only: lines, cells,
rows and an XLSX archive's decompressed size have limits (LIMITS, set in
settings.CQS); a row that cannot be split into cells (a stray quote, a line
or cell over the limit) is given as a BadRow, which validation rejects with
its row number, and reading goes on with the next row.

A file is a path on this machine (the `cqs import-civil` command) or an upload
kept by a Django storage (`ImportBatch.file`), which is read only through the
storage: in production that is object storage (S3), where files have no path.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import io
import os
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

from chinhquyenso.civil_records.validation.results import BadRow
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.spreadsheets import check_xlsx_archive
from chinhquyenso.core.streams import TOO_LONG, bounded_line
from chinhquyenso.core.text import format_number

SNIFF_BYTES = 1 << 16
ENCODING_LABELS = {
    "utf-8-sig": "UTF-8 (có BOM)",
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1258": "Windows-1258",
}


@dataclass
class Source:
    """An opened file: its header row, a row iterator and how far through it is."""

    format: str  # "csv" or "xlsx"
    encoding: str  # label shown to the user
    headers: list
    rows: Iterator[tuple[int, list]]  # (row number in the file, 1-based as a spreadsheet shows it; cells)
    size: int
    _position: callable = None
    _close: callable = None
    total_rows: int | None = None
    _legacy_lines: callable = None

    def legacy_lines(self) -> int:
        """Lines of a file mixing UTF-8 and Windows-1258 that were Windows-1258 (read as such), so far."""
        return self._legacy_lines() if self._legacy_lines else 0

    def fraction(self) -> float | None:
        """How far through the file reading is (0–1), when known."""
        if self._position is not None and self.size:
            return min(self._position() / self.size, 1.0)
        return None

    def close(self):
        if self._close:
            self._close()


def detect_format(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DomainError("Tệp Excel 97–2003 (.xls) chưa được hỗ trợ: hãy lưu lại thành .xlsx hoặc CSV.", "file")
    if head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff")):
        raise DomainError("Tệp không phải danh sách CSV hoặc XLSX (định dạng được kiểm tra theo nội dung tệp).", "file")
    return "csv"


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head and head.count(b"\x00") > len(head) // 4:
        # UTF-16 without BOM: ASCII letters have a zero byte after (LE) or before (BE) them.
        return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    # A stray NUL is dropped by validation; many mean the file is not text at all.
    if head.count(b"\x00") > len(head) // 100:
        raise DomainError("Tệp không phải văn bản CSV (có byte 0); định dạng được kiểm tra theo nội dung tệp.", "file")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if error.reason != "unexpected end of data":
            return "cp1258"
    return "utf-8"


def open_source(file) -> Source:
    """Open `file` — a path, or an upload kept by a storage (a FieldFile such as
    `ImportBatch.file`) — for streaming; raise DomainError for what cannot be read at all."""
    if isinstance(file, (str, os.PathLike)):
        size = os.path.getsize(file)
        binary = open(file, "rb")
    else:
        binary = file.storage.open(file.name, "rb")
        size = binary.size
    try:
        if size == 0:
            raise DomainError("Tệp rỗng.", "file")
        head = binary.read(SNIFF_BYTES)
        binary.seek(0)
        if detect_format(head) == "xlsx":
            return _open_xlsx(binary, size)
        return _open_csv(binary, size, detect_encoding(head))
    except BaseException:
        binary.close()
        raise


@contextlib.contextmanager
def local_path(file) -> Iterator[str]:
    """A path on this machine holding `file` (as for open_source), for what must open
    the file itself (the validation processes): the path given, the storage's own
    path where it keeps the file on this machine, or else a temporary copy,
    deleted when the block ends."""
    if isinstance(file, (str, os.PathLike)):
        yield os.fspath(file)
        return
    try:
        path = file.storage.path(file.name)
    except NotImplementedError:  # a storage without local files (S3…): Storage.path's contract
        path = None
    # InMemoryStorage answers a path where nothing is.
    if path is not None and os.path.isfile(path):
        yield path
        return
    with tempfile.NamedTemporaryFile(prefix="cqs-import-", suffix=".bin") as copy:
        with file.storage.open(file.name, "rb") as stored:
            shutil.copyfileobj(stored, copy, 1 << 20)
        copy.flush()
        yield copy.name


def limit(name: str) -> int:
    """A reading limit (LIMITS), as the installation sets it in settings.CQS."""
    return int(settings.CQS.get(name, LIMITS[name]))


# What one file may hold (settings.CQS overrides each): what no register list comes near, and what
# keeps the memory of reading a hostile file bounded.
LIMITS = {
    "CIVIL_CSV_MAX_FIELD_BYTES": 64 * 1024,  # one cell
    "CIVIL_CSV_MAX_LINE_BYTES": 1024 * 1024,  # one row, all its lines together
    "CIVIL_CSV_MAX_RECORD_LINES": 20,  # lines one row may span (a quoted cell may hold line breaks)
    "CIVIL_IMPORT_MAX_ROWS": 2_000_000,
    "CIVIL_XLSX_MAX_UNPACKED_BYTES": 1024 * 1024 * 1024,  # the whole XLSX archive, decompressed
    "CIVIL_XLSX_MAX_RATIO": 100,  # how many times a part of the archive may inflate
}
# What Vietnamese text in Windows-1258 holds beyond ASCII: the letters with their tone marks, and
# typographic punctuation. A line of another legacy code page (TCVN3…) decodes into other symbols.
VIETNAMESE_TEXT = frozenset(
    unicodedata.normalize("NFC", vowel + tone)
    for vowel in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
    for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
) | frozenset("đĐ“”‘’–—…«»°\xa0")  # a line over the limit, skipped without being kept


class _Unsplittable(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message


def _kilobytes(size: int) -> str:
    return f"{format_number(size // 1024)} KB" if size < 1 << 20 else f"{format_number(size // (1 << 20))} MB"


class _Lines:
    """The physical lines of a text file, at most CIVIL_CSV_MAX_LINE_BYTES each: a longer one is read
    through in pieces and given as TOO_LONG (core.streams), so memory stays bounded however long a line is.

    Files in a single-byte-or-UTF-8 encoding are decoded line by line: a line that is not UTF-8 is
    Windows-1258 (a list whose header was saved as UTF-8 and whose rows came from an old Windows
    program), then NFC (Windows-1258 writes tone marks as combining characters) — the rows of a
    mixed file are read as written instead of as U+FFFD."""

    def __init__(self, binary: BinaryIO, encoding: str):
        self.max_bytes = limit("CIVIL_CSV_MAX_LINE_BYTES")
        self.legacy = 0  # lines read as Windows-1258
        self.utf8_seen = False  # a line with non-ASCII UTF-8 text was read
        self.utf8 = encoding.startswith("utf-8")
        if encoding.startswith("utf-16"):
            self.stream = io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")
            self.decode = None
        else:
            self.stream, self.decode = binary, self._decode
        self.first = True

    def _decode(self, raw: bytes) -> str:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            self.utf8_seen = self.utf8_seen or not raw.isascii()
            return text
        legacy = unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace"))
        if not self.utf8 or all(ch in VIETNAMESE_TEXT for ch in legacy if ch >= "\x80"):
            self.legacy += 1
            return legacy
        # Neither UTF-8 nor Vietnamese in Windows-1258 (TCVN3, say): U+FFFD, which validation flags.
        return raw.decode("utf-8", errors="replace")

    def read(self):
        line = bounded_line(self.stream, self.max_bytes)
        if line is None or line is TOO_LONG:
            return line
        if self.decode is not None:
            line = self.decode(line)
        if self.first:
            self.first = False
            line = line.removeprefix("\ufeff")
        return line


class _CsvRecords:
    """The rows of a CSV file after its header: a list of cells each, or a BadRow for one that
    cannot be split — with a strict reading of quotes, so a stray quote costs its own row only.

    A quote left open would make the rest of the file one cell. A row is refused when it spans
    more than CIVIL_CSV_MAX_RECORD_LINES lines or CIVIL_CSV_MAX_LINE_BYTES, when a quote is
    followed by anything but a separator (csv strict), or when a line inside a quoted cell holds
    a whole row's separators (a swallowed row); the lines after the row's first are then read
    again as rows of their own."""

    def __init__(self, lines: _Lines, delimiter: str, width: int):
        self.lines, self.delimiter = lines, delimiter
        self.row_separators = width - 1 if width >= 3 else None
        self.max_lines = limit("CIVIL_CSV_MAX_RECORD_LINES")
        self.max_bytes = limit("CIVIL_CSV_MAX_LINE_BYTES")
        self.max_field = limit("CIVIL_CSV_MAX_FIELD_BYTES")
        self.pending: collections.deque = collections.deque()
        self.taken: list = []  # the lines of the row being read
        self.size = 0

    def _feed(self):
        while True:
            line = self.pending.popleft() if self.pending else self.lines.read()
            if line is None:
                return
            self.taken.append(line)
            if line is TOO_LONG:
                raise _Unsplittable(
                    "line_too_long", f"Dòng dài quá {_kilobytes(self.max_bytes)}: không đọc, bỏ qua cả dòng."
                )
            self.size += len(line)
            if len(self.taken) > self.max_lines or self.size > self.max_bytes:
                raise _Unsplittable("open_quote", OPEN_QUOTE)
            yield line

    def _swallowed(self) -> bool:
        """A line inside a quoted cell holding a whole row's separators is a row the quote swallowed."""
        if len(self.taken) < 3 or self.row_separators is None:
            return False
        return any(line.count(self.delimiter) >= self.row_separators for line in self.taken[1:-1])

    def __iter__(self):
        while True:
            reader = csv.reader(self._feed(), delimiter=self.delimiter, strict=True)
            try:
                for cells in reader:
                    if len(self.taken) > 1 and self._swallowed():
                        raise _Unsplittable("open_quote", OPEN_QUOTE)
                    if self.size > self.max_field and any(len(cell) > self.max_field for cell in cells):
                        yield _cell_too_long(self.max_field, self.taken[0].rstrip("\r\n"))
                    else:
                        yield cells
                    self.taken, self.size = [], 0
                return
            except (csv.Error, _Unsplittable) as error:
                if isinstance(error, csv.Error):
                    error = _Unsplittable("open_quote", OPEN_QUOTE)
                first = self.taken[0].rstrip("\r\n") if self.taken and self.taken[0] is not TOO_LONG else ""
                # The row's first line is the bad row; the lines after it are rows of their own.
                self.pending.extendleft(reversed(self.taken[1:]))
                self.taken, self.size = [], 0
                yield BadRow(error.code, error.message, first)


def _cell_too_long(max_field: int, text: str = "") -> BadRow:
    return BadRow(
        "cell_too_long", f"Có ô dài quá {_kilobytes(max_field)}: không phải nội dung sổ, dòng không được nhập.", text
    )


OPEN_QUOTE = (
    'Dấu ngoặc kép (") đặt sai chỗ: một ô mở ngoặc kép mà không đóng đúng chỗ. Dòng này không được nhập '
    "(các dòng sau vẫn được đọc riêng); sửa dấu ngoặc kép rồi nhập lại."
)


def _open_csv(binary: BinaryIO, size: int, encoding: str) -> Source:
    lines = _Lines(binary, encoding)
    first = lines.read()
    if first is TOO_LONG:
        raise DomainError(
            f"Dòng tiêu đề dài quá {_kilobytes(lines.max_bytes)}: tệp không phải danh sách sổ hộ tịch.", "file"
        )
    first = first or ""
    delimiter = max(",;\t", key=first.count)
    csv.field_size_limit(max(csv.field_size_limit(), limit("CIVIL_CSV_MAX_LINE_BYTES")))
    try:
        headers = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error:
        headers = []
    if not any(h.strip() for h in headers):
        raise DomainError(
            "Dòng đầu của tệp phải là dòng tiêu đề cột (ví dụ: Quyển số, Số đăng ký, Họ và tên…).", "file"
        )
    records = _CsvRecords(lines, delimiter, len(headers))

    def rows():
        # Numbered by record, as a spreadsheet numbers rows (a quoted value may span several lines).
        yield from _capped(enumerate(records, 2))

    return Source(
        "csv",
        ENCODING_LABELS.get(encoding, encoding),
        headers,
        rows(),
        size,
        _position=binary.tell,
        _close=binary.close,
        # A file mixes code pages when it has both UTF-8 and Windows-1258 lines.
        _legacy_lines=lambda: lines.legacy if lines.utf8_seen else 0,
    )


def _capped(rows):
    """Stop a file past CIVIL_IMPORT_MAX_ROWS (rows before it are imported)."""
    most = limit("CIVIL_IMPORT_MAX_ROWS") + 1  # + the header row
    for number, cells in rows:
        if number > most:
            raise DomainError(
                f"Tệp có hơn {format_number(most - 1)} dòng, vượt giới hạn một lượt nhập: hãy chia thành nhiều "
                "tệp nhỏ hơn rồi nhập từng tệp (các bản ghi đã nhập được bỏ qua, không bị trùng).",
                "file",
            )
        yield number, cells


def _open_xlsx(binary: BinaryIO, size: int) -> Source:
    # The archive's directory first: a "zip bomb" is refused before anything is decompressed.
    check_xlsx_archive(
        binary, max_unpacked=limit("CIVIL_XLSX_MAX_UNPACKED_BYTES"), max_ratio=limit("CIVIL_XLSX_MAX_RATIO")
    )
    try:
        with zipfile.ZipFile(binary) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise DomainError("Tệp ZIP không phải sổ tính XLSX.", "file")
    except zipfile.BadZipFile:
        raise DomainError("Tệp XLSX bị hỏng, không mở được.", "file") from None
    from openpyxl import load_workbook

    # A file object, not a path: openpyxl refuses paths not ending in .xlsx (uploads are stored as <id>.bin).
    binary.seek(0)
    try:
        workbook = load_workbook(binary, read_only=True, data_only=True)
    except DomainError:
        raise
    except Exception:  # a damaged workbook gives a message, not a traceback
        raise DomainError("Tệp XLSX bị hỏng, không mở được.", "file") from None

    def close():
        workbook.close()
        binary.close()

    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    headers = list(next(iterator, ()) or ())
    while headers and headers[-1] is None:
        headers.pop()
    if not any(h is not None and str(h).strip() for h in headers):
        close()
        raise DomainError("Dòng đầu của trang tính thứ nhất phải là dòng tiêu đề cột.", "file")
    total = None
    try:
        total = max(sheet.max_row - 1, 0) if sheet.max_row else None
    except (TypeError, ValueError):
        pass
    state = {"row": 1}
    max_field = limit("CIVIL_CSV_MAX_FIELD_BYTES")

    def rows():
        for number, cells in _capped(enumerate(iterator, 2)):
            state["row"] = number
            if any(cell.__class__ is str and len(cell) > max_field for cell in cells):
                yield number, _cell_too_long(max_field)
            else:
                yield number, list(cells)

    source = Source("xlsx", "XLSX", headers, rows(), size, _close=close, total_rows=total)
    if total:
        source._position, source.size = (lambda: state["row"] - 1), total
    return source
