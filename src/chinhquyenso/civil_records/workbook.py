"""The error workbook of an import: the input's rows that had problems, as written.

Sheet "Cần sửa" holds the rejected rows with the input's own columns, the
problem cells — every cell a message names — filled red and a "Thông báo" column saying what to fix: the
officer corrects them there and imports the workbook again (its extra
columns are ignored, and rows already imported are skipped by identity).
Sheet "Cần rà soát" holds the rows that were stored with flags (yellow) or
skipped because a different record with the same identity exists — those are
settled in the review screen, not by re-importing. Both sheets are written
streaming (openpyxl write-only) while the input is read again, so a large
file never sits in memory. Every cell is written through
core.spreadsheets: control characters dropped, formula-like text kept as text.
"""

from __future__ import annotations

import contextlib
import os

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from chinhquyenso.civil_records.importer import log_without_content
from chinhquyenso.civil_records.models import ImportBatch, ImportProblem
from chinhquyenso.civil_records.reading import open_source
from chinhquyenso.civil_records.validation import ERROR_COLUMNS
from chinhquyenso.civil_records.validation.results import BadRow
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.spreadsheets import safe_cell, safe_cells
from chinhquyenso.core.text import nfc

ERROR_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
FLAG_FILL = PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C")
HEADER_FONT = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
OUTCOMES = {
    ImportProblem.Severity.ERROR: "Bị từ chối",
    ImportProblem.Severity.FLAG: "Đã nhập, cần rà soát",
    ImportProblem.Severity.NOTICE: "Không nhập lại",
}
FIX_SHEET, REVIEW_SHEET, FILE_SHEET = "Cần sửa", "Cần rà soát", "Lưu ý về tệp"


def _problems_by_row(batch: ImportBatch):
    """(row, [problems]) in row order, streamed from the database."""
    current, group = None, []
    for problem in batch.problems.filter(row__gt=1).order_by("row", "id").iterator(chunk_size=2000):
        if problem.row != current and group:
            yield current, group
            group = []
        current = problem.row
        group.append(problem)
    if group:
        yield current, group


def _header_row(sheet, headers: list[str], extra: tuple[str, ...]):
    sheet.append([safe_cell(sheet, text, font=HEADER_FONT) for text in [*headers, *extra]])


def write(batch: ImportBatch, source, out_path: str | os.PathLike) -> dict:
    """Write the error workbook of `batch` to `out_path`; return row counts per sheet. `source`
    is the uploaded file (read through the storage API) or a local path. An unexpected error
    becomes a DomainError saying so in Vietnamese (the page and the command show it), logged
    without its text."""
    try:
        return _write(batch, source, out_path)
    except (DomainError, OSError):
        raise
    except Exception as error:
        log_without_content(error, "error workbook of civil import batch %s failed", batch.pk)
        raise DomainError(
            f"lỗi hệ thống ({type(error).__name__}); các bản ghi đã nhập không bị ảnh hưởng, hãy báo quản trị hệ thống.",
            "file",
        ) from None


def _write(batch: ImportBatch, source, out_path) -> dict:
    workbook = Workbook(write_only=True)
    try:
        written = _fill(workbook, batch, source)
    except BaseException:
        # Finish the sheets' streams, or their writers complain when garbage-collected.
        for sheet in workbook.worksheets:
            with contextlib.suppress(Exception):
                sheet.close()
        raise
    workbook.save(out_path)
    return written


def _fill(workbook: Workbook, batch: ImportBatch, source) -> dict:
    source = open_source(source)
    fix = workbook.create_sheet(FIX_SHEET)
    review = workbook.create_sheet(REVIEW_SHEET)
    headers = [nfc(h) if h is not None else "" for h in source.headers]
    # Keep the input's own columns (minus the error columns of an earlier error workbook).
    keep = [i for i, h in enumerate(headers) if h not in ERROR_COLUMNS]
    kept_headers = [headers[i] for i in keep]
    position = {h: n for n, h in enumerate(kept_headers) if h}
    _header_row(fix, kept_headers, ("Dòng gốc", "Thông báo"))
    _header_row(review, kept_headers, ("Dòng gốc", "Kết quả", "Thông báo"))
    written = {FIX_SHEET: 0, REVIEW_SHEET: 0}
    problems = _problems_by_row(batch)
    try:
        pending = next(problems, None)
        for number, cells in source.rows:
            if pending is None:
                break
            if number < pending[0]:
                continue
            row_problems = pending[1]
            pending = next(problems, None)
            rejected = any(p.severity == ImportProblem.Severity.ERROR for p in row_problems)
            sheet = fix if rejected else review
            if cells.__class__ is BadRow:  # a row that could not be split: its line as written, in the first column
                cells = [cells.text]
            values = [cells[i] if i < len(cells) else None for i in keep]
            out = safe_cells(sheet, values)
            for problem in row_problems:
                fill = ERROR_FILL if problem.severity == ImportProblem.Severity.ERROR else FLAG_FILL
                for header in problem.columns:
                    column = position.get(header)
                    if column is not None:
                        out[column].fill = fill
            message = "\n".join(
                f"{', '.join(p.columns)}: {p.message}" if p.columns else p.message for p in row_problems
            )
            tail = [number] if rejected else [number, OUTCOMES[max(row_problems, key=_rank).severity]]
            sheet.append(out + safe_cells(sheet, tail) + [safe_cell(sheet, message, alignment=WRAP)])
            written[sheet.title] += 1
    finally:
        source.close()
    notices = list(batch.problems.filter(row=1))
    if notices:
        sheet = workbook.create_sheet(FILE_SHEET)
        _header_row(sheet, ["Cột", "Thông báo"], ())
        for problem in notices:
            sheet.append(safe_cells(sheet, [problem.column, problem.message]))
    return written


def _rank(problem: ImportProblem) -> int:
    return {ImportProblem.Severity.ERROR: 2, ImportProblem.Severity.FLAG: 1}.get(problem.severity, 0)
