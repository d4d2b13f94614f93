"""The Excel (XLSX) template of one assignment and reading it back.

Layout (sheet "Báo cáo"): a title block, the line "Mã báo cáo được giao" with
the assignment's number, then a header row and one row per item:

    A Mã chỉ tiêu | B Tên chỉ tiêu | C Đơn vị tính | D Giá trị | E Tử số | F Mẫu số | G Bắt buộc | H Hướng dẫn

Rows are matched by the code in column A, so rows may be reordered or
deleted (a deleted row leaves that item as it was). Columns are found by their
header, so an added column does no harm."""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.spreadsheets import cell_value, neutralize_sheet
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.lris.validation import Entry

SHEET = "Báo cáo"
MARKER = "Mã báo cáo được giao"
COLUMNS = [
    ("code", "Mã chỉ tiêu", 22),
    ("name", "Tên chỉ tiêu", 48),
    ("unit", "Đơn vị tính", 12),
    ("value", "Giá trị", 16),
    ("numerator", "Tử số", 16),
    ("denominator", "Mẫu số", 16),
    ("required", "Bắt buộc", 10),
    ("instructions", "Hướng dẫn", 70),
]
HEADER_LABELS = {fold(label): key for key, label, _ in COLUMNS}
LABELS = {key: label for key, label, _ in COLUMNS}
MAX_ROWS = 1000  # a template has one row per item; anything far longer is not one
MAX_UNPACKED = 50 * 1024 * 1024  # refuse archives that inflate into something huge
GREY = PatternFill("solid", fgColor="DDDDDD")
INPUT = PatternFill("solid", fgColor="FFF7D6")


def _cell(value: str) -> str:
    return cell_value(value or "")


def reference(assignment) -> str:
    return f"LRIS-{assignment.pk}"


def instructions(view) -> str:
    """What to type for one item, in plain words."""
    indicator, item = view.indicator, view.item
    parts = []
    if indicator.value_type == indicator.ValueType.RATIO:
        parts.append(
            f"Tỷ lệ, tự tính từ tử số và mẫu số. Tử số (cột E): {indicator.numerator_label or 'tử số'}; "
            f"mẫu số (cột F): {indicator.denominator_label or 'mẫu số'}, lớn hơn 0. Để trống cột D."
        )
    elif indicator.value_type == indicator.ValueType.BOOLEAN:
        parts.append("Ghi Có hoặc Không vào cột D.")
    elif indicator.value_type == indicator.ValueType.INTEGER:
        parts.append("Số nguyên, ghi vào cột D (ví dụ 2.164.505).")
    else:
        parts.append("Số, dấu phẩy trước phần thập phân (ví dụ 71,29), ghi vào cột D.")
    if view.range_text:
        parts.append(f"Giá trị hợp lệ: {view.range_text}.")
    if indicator.part_of_id:
        parts.append(f"Không lớn hơn {indicator.part_of.code} ({indicator.part_of.name}).")
    if item.instructions:
        parts.append(item.instructions)
    return " ".join(parts)


def template(assignment, views) -> bytes:
    """The workbook to fill in, with the values already saved."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    period = assignment.period
    sheet["A1"] = _cell(f"{assignment.form.name} — {period.label}")
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = _cell(
        f"Cơ quan báo cáo: {assignment.agency.name}. Hạn nộp: {assignment.deadline:%d/%m/%Y}. "
        f"Tỉnh {settings.CQS['PROVINCE_NAME']}."
    )
    sheet["A3"], sheet["B3"] = MARKER, reference(assignment)
    sheet["A4"] = (
        "Nhập số liệu vào các ô màu vàng; giữ nguyên mã chỉ tiêu ở cột A. Số viết kiểu Việt Nam: "
        "dấu chấm ngăn cách hàng nghìn, dấu phẩy trước phần thập phân."
    )
    header_row = 6
    for index, (_, label, width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=header_row, column=index, value=label)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    yes_no = DataValidation(type="list", formula1='"Có,Không"', allow_blank=True)
    sheet.add_data_validation(yes_no)
    for offset, view in enumerate(views, start=1):
        row = header_row + offset
        indicator, clean = view.indicator, view.clean
        ratio = indicator.is_ratio
        boolean = indicator.value_type == indicator.ValueType.BOOLEAN
        value = None
        if clean is not None and not ratio:
            value = ("Có" if clean.value else "Không") if boolean else _number(clean.value)
        cells = [
            indicator.code,
            _cell(indicator.name),
            _cell(indicator.unit),
            value,
            _number(clean.numerator) if ratio and clean else None,
            _number(clean.denominator) if ratio and clean else None,
            "Có" if view.item.required else "Không",
            _cell(instructions(view)),
        ]
        for column, content in enumerate(cells, start=1):
            sheet.cell(row=row, column=column, value=content)
        for column in (4, 5, 6):
            usable = (column == 4) != ratio
            sheet.cell(row=row, column=column).fill = INPUT if usable else GREY
        sheet.cell(row=row, column=8).alignment = Alignment(wrap_text=True, vertical="top")
        if boolean:
            yes_no.add(f"D{row}")
    sheet.freeze_panes = f"A{header_row + 1}"
    neutralize_sheet(sheet)  # an indicator's name starting with "=" is text, never a formula
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _number(value):
    """Whole numbers as int, others as float: what Excel shows as a number."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


# ---------------------------------------------------------------- reading back


def _check_container(data: bytes) -> None:
    """An XLSX is a zip archive with a workbook part; decided by content, never by the name."""
    if not data:
        raise DomainError("Tệp tải lên rỗng.", "file")
    limit = settings.CQS["UPLOAD_MAX_BYTES"]
    if len(data) > limit:
        raise DomainError(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).", "file")
    not_xlsx = DomainError(
        "Tệp không phải bảng tính Excel (.xlsx); định dạng được kiểm tra theo nội dung tệp. "
        "Hãy tải mẫu Excel của báo cáo này, nhập số liệu rồi tải lên lại.",
        "file",
    )
    if not data.startswith(b"PK\x03\x04"):
        raise not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise not_xlsx
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise DomainError("Tệp Excel quá lớn khi giải nén; hãy dùng mẫu của báo cáo.", "file")
    except zipfile.BadZipFile:
        raise not_xlsx from None


def read(data: bytes, assignment) -> list[Entry]:
    """Entries from an uploaded workbook, each knowing its row and columns."""
    _check_container(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged upload must give a message, not a traceback
        raise DomainError("Tệp Excel bị hỏng hoặc không đọc được.", "file") from None
    try:
        sheet = next((book[name] for name in book.sheetnames if fold(name) == fold(SHEET)), book.worksheets[0])
        return _rows(sheet, assignment)
    finally:
        book.close()


def _rows(sheet, assignment) -> list[Entry]:
    header, columns, entries = None, {}, []
    for number, row in enumerate(sheet.iter_rows(values_only=True, max_row=MAX_ROWS), start=1):
        cells = list(row)
        if header is None:
            first = fold(_text(cells[0])) if cells else ""
            if first == fold(MARKER) and len(cells) > 1:
                found = _text(cells[1])
                if found and found != reference(assignment):
                    raise DomainError(
                        f"Tệp này là mẫu của báo cáo được giao khác ({found}), không phải "
                        f"{reference(assignment)}. Hãy tải mẫu của báo cáo này.",
                        "file",
                    )
            keys = {
                HEADER_LABELS.get(fold(_text(c))): i for i, c in enumerate(cells) if HEADER_LABELS.get(fold(_text(c)))
            }
            if "code" in keys and ("value" in keys or "numerator" in keys):
                header, columns = number, keys
            continue
        code_cell = cells[columns["code"]] if columns["code"] < len(cells) else None
        code = _text(code_cell)
        if not code:
            continue
        where = {key: f"{get_column_letter(i + 1)} ({LABELS[key]})" for key, i in columns.items()}
        entry = Entry(code=code, row=number, columns=where)
        for part in ("value", "numerator", "denominator"):
            if part in columns and columns[part] < len(cells):
                setattr(entry, part, _raw(cells[columns[part]]))
        entries.append(entry)
    if header is None:
        raise DomainError(
            "Không tìm thấy dòng tiêu đề (Mã chỉ tiêu, Giá trị, Tử số, Mẫu số) trong tệp. "
            "Hãy dùng mẫu Excel tải từ trang báo cáo.",
            "file",
        )
    return entries


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def _raw(value):
    """Numbers stay numbers; text is normalised; a formula's cached result is used."""
    if value is None or isinstance(value, (int, float, bool)):
        return value
    text = nfc(str(value))
    return text or None
