"""Spreadsheets the platform writes and reads (XLSX), safe with hostile content.

Writing: every cell goes through `cell_value`/`safe_cells`, which

* drop the characters an XLSX cannot hold (control characters: openpyxl
  raises IllegalCharacterError on them, and its message holds the cell's text —
  a person's name in a traceback), and
* keep text that looks like a formula (starting with = + - @, a tab or a
  carriage return) as text: stored with the string type and Excel's "quote
  prefix" style, so Excel and LibreOffice show `=HYPERLINK(…)` as the
  characters written and never run it, while the value read back stays exactly
  what was imported (an error workbook is corrected and imported again).

Reading: `check_xlsx_archive` looks at the ZIP's directory before anything
is decompressed and refuses an archive that would inflate past the limits (a
"zip bomb": a 1 MB file that openpyxl would turn into gigabytes).
"""

from __future__ import annotations

import zipfile

from openpyxl.cell import WriteOnlyCell

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import drop_unstorable, format_number

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_value(value):
    """`value` as an XLSX cell can hold it: text without unstorable characters; other values as they are."""
    return drop_unstorable(value) if isinstance(value, str) else value


def neutralize(cell):
    """Make a cell holding formula-like text a plain text cell (in place); return it."""
    value = cell.value
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"  # openpyxl typed "=…" as a formula
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited
    return cell


def neutralize_text(value):
    """A CSV cell's value, safe when the file is opened in a spreadsheet: text that looks like a formula
    gets a leading apostrophe (the OWASP rule for CSV), so Excel and LibreOffice show it as written and
    never run it; numbers, dates and other text are kept as they are."""
    value = cell_value(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_cell(sheet, value, **style):
    """A write-only cell of `sheet` holding `value` safely; `style`: font, fill, alignment…"""
    cell = WriteOnlyCell(sheet, value=cell_value(value))
    for name, setting in style.items():
        setattr(cell, name, setting)
    return neutralize(cell)


def safe_cells(sheet, values) -> list:
    """A row for `sheet.append`: each value as a safe cell."""
    return [safe_cell(sheet, value) for value in values]


def neutralize_sheet(sheet) -> None:
    """For a normal (not write-only) sheet filled with `cell_value` values: every formula-like text kept as text."""
    for row in sheet.iter_rows():
        for cell in row:
            neutralize(cell)


def check_xlsx_archive(file, *, max_unpacked: int, max_ratio: int, field: str = "file") -> None:
    """Refuse an XLSX (a ZIP, `file` a path or a seekable binary file) whose members would
    decompress to more than `max_unpacked` bytes in all, or one member more than `max_ratio`
    times its compressed size — from the archive's directory, before decompressing anything.
    The sizes in the directory are what the decompressor is held to (zipfile stops reading a
    member at its declared size and checks its CRC), so a lying directory gains nothing."""
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DomainError("Tệp XLSX bị hỏng, không mở được.", field) from None
    total = sum(member.file_size for member in members)
    if total > max_unpacked:
        raise DomainError(
            f"Tệp XLSX khi giải nén lớn tới {_megabytes(total)} MB, vượt giới hạn {_megabytes(max_unpacked)} MB: "
            "hãy chia thành nhiều tệp nhỏ hơn hoặc lưu thành CSV.",
            field,
        )
    for member in members:
        # Small members compress however they like; a large one inflating hundreds of times is built to.
        if member.file_size > 1 << 20 and member.file_size > max_ratio * max(member.compress_size, 1):
            raise DomainError(
                f"Tệp XLSX có phần “{member.filename[:80]}” nén bất thường (giải nén gấp "
                f"{format_number(member.file_size // max(member.compress_size, 1))} lần, giới hạn "
                f"{format_number(max_ratio)} lần): tệp này không phải danh sách bình thường và không được mở.",
                field,
            )
    if binary := getattr(file, "seek", None):
        binary(0)


def _megabytes(size: int) -> str:
    return format_number(round(size / (1 << 20)))
