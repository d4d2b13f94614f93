"""Stream the rows of an uploaded register list, CSV or XLSX, one at a time.

A file is recognized by its bytes: XLSX is a ZIP holding xl/workbook.xml;
anything else must be text. CSV text may be UTF-8 (with or without BOM),
UTF-16 (with BOM, or detected by its zero bytes) or Windows-1258, the legacy
Vietnamese code page, whose tone marks are combining characters (NFC joins
them later). Bytes that do not decode become U+FFFD, which validation flags
on the row instead of failing the file. The delimiter (comma, semicolon or
tab) is read from the header line.

A file is a path on this machine (the `cqs import-civil` command) or an upload
kept by a Django storage (`ImportBatch.file`), which is read only through the
storage: in production that is object storage (S3), where files have no path.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from chinhquyenso.core.errors import DomainError

SNIFF_BYTES = 1 << 16
CSV_FIELD_LIMIT = 1 << 20
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


def _open_csv(binary: BinaryIO, size: int, encoding: str) -> Source:
    text = io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")
    first = text.readline()
    delimiter = max(",;\t", key=first.count)
    csv.field_size_limit(CSV_FIELD_LIMIT)
    headers = next(csv.reader([first], delimiter=delimiter), [])
    if headers and headers[0].startswith("\ufeff"):
        headers[0] = headers[0][1:]
    if not any(h.strip() for h in headers):
        raise DomainError(
            "Dòng đầu của tệp phải là dòng tiêu đề cột (ví dụ: Quyển số, Số đăng ký, Họ và tên…).", "file"
        )
    reader = csv.reader(text, delimiter=delimiter)

    def rows():
        # Numbered by record, as a spreadsheet numbers rows (a quoted value may span several lines).
        yield from enumerate(reader, 2)

    return Source(
        "csv",
        ENCODING_LABELS.get(encoding, encoding),
        headers,
        rows(),
        size,
        _position=binary.tell,
        _close=binary.close,
    )


def _open_xlsx(binary: BinaryIO, size: int) -> Source:
    try:
        with zipfile.ZipFile(binary) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise DomainError("Tệp ZIP không phải sổ tính XLSX.", "file")
    except zipfile.BadZipFile:
        raise DomainError("Tệp XLSX bị hỏng, không mở được.", "file") from None
    from openpyxl import load_workbook

    # A file object, not a path: openpyxl refuses paths not ending in .xlsx (uploads are stored as <id>.bin).
    binary.seek(0)
    workbook = load_workbook(binary, read_only=True, data_only=True)

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

    def rows():
        for number, cells in enumerate(iterator, 2):
            state["row"] = number
            yield number, list(cells)

    source = Source("xlsx", "XLSX", headers, rows(), size, _close=close, total_rows=total)
    if total:
        source._position, source.size = (lambda: state["row"] - 1), total
    return source
