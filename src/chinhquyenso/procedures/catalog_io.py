"""Catalog import/export: the TTHC catalog as a JSON or XLSX file.

An entry is exactly the dict that services.save_procedure accepts. Import reads
the whole file, checks every entry and reports every problem with its place in
the file (entry or row, field or column); only a fully valid file is written,
in one transaction. Entries equal to what is stored are skipped, so importing
the same file twice changes nothing.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from chinhquyenso.accounts.models import PROCESS_STEP_ROLES, Role
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.spreadsheets import cell_value, neutralize_sheet
from chinhquyenso.core.text import fold, format_number, nfc
from chinhquyenso.org.models import Agency, Level
from chinhquyenso.procedures import selectors, services
from chinhquyenso.procedures.models import Field, Procedure, ProcessStep, RequiredComponent, ServiceLevel

XLSX_MAGIC = b"PK\x03\x04"

ENTRY_KEYS = (
    "code",
    "name",
    "field_code",
    "field_name",
    "levels",
    "service_level",
    "processing_days",
    "fee",
    "charge",
    "online_discount_percent",
    "result_type",
    "result_name",
    "legal_basis",
    "components",
    "steps",
    "agencies",
)
ITEM_KEYS = {
    "components": ("name", "originals", "copies", "mandatory", "reusable_result_type"),
    "steps": ("name", "role", "days", "agency"),
}
_TEXT_KEYS = ("code", "name", "field_code", "field_name", "result_type", "result_name", "legal_basis")
_ITEM_TEXT_KEYS = {"components": ("name", "reusable_result_type"), "steps": ("name", "agency")}

# Sheet → (key, Vietnamese header) in file order. Key None: shown for people, ignored on import.
MAIN_SHEET, COMPONENT_SHEET, STEP_SHEET, AGENCY_SHEET = "Thủ tục", "Thành phần hồ sơ", "Quy trình", "Cơ quan giải quyết"
SHEETS = {
    "": (
        MAIN_SHEET,
        [
            ("code", "Mã thủ tục"),
            ("name", "Tên thủ tục"),
            ("field_code", "Mã lĩnh vực"),
            ("field_name", "Tên lĩnh vực"),
            ("levels", "Cấp thực hiện"),
            ("service_level", "Mức độ dịch vụ công"),
            ("processing_days", "Thời hạn giải quyết (ngày làm việc)"),
            ("fee", "Phí (đồng)"),
            ("charge", "Lệ phí (đồng)"),
            ("online_discount_percent", "Giảm khi nộp trực tuyến (%)"),
            ("result_type", "Mã loại kết quả"),
            ("result_name", "Tên kết quả"),
            ("legal_basis", "Căn cứ pháp lý"),
        ],
    ),
    "components": (
        COMPONENT_SHEET,
        [
            ("code", "Mã thủ tục"),
            ("name", "Tên giấy tờ"),
            ("originals", "Số bản chính"),
            ("copies", "Số bản sao"),
            ("mandatory", "Bắt buộc"),
            ("reusable_result_type", "Thay bằng kết quả điện tử loại"),
        ],
    ),
    "steps": (
        STEP_SHEET,
        [
            ("code", "Mã thủ tục"),
            ("name", "Tên bước"),
            ("role", "Vai trò thực hiện"),
            ("days", "Thời gian (ngày làm việc)"),
            ("agency", "Cơ quan thực hiện (mã)"),
        ],
    ),
    "agencies": (AGENCY_SHEET, [("code", "Mã thủ tục"), ("agency", "Mã cơ quan"), (None, "Tên cơ quan")]),
}
_SHEET_ORDER = list(SHEETS)
YES, NO = "Có", "Không"

# Wrong values are swapped for these so clean_procedure can go on and report the
# entry's next problem too; an entry with problems is never saved.
_PLACEHOLDER = {
    "code": "x",
    "name": "x",
    "field_code": "x",
    "levels": [Level.PROVINCE],
    "service_level": ServiceLevel.PARTLY_ONLINE,
    "processing_days": 0,
    "fee": 0,
    "charge": 0,
    "online_discount_percent": 0,
}
_ITEM_PLACEHOLDER = {
    "components": {"name": "x", "originals": 1, "copies": 0},
    "steps": {"name": "x", "role": Role.SPECIALIST, "days": 1, "agency": ""},
}
_ITEM_PATH = re.compile(r"(components|steps|agencies)\[(\d+)\](?:\.(\w+))?")
_MAX_DAYS = Decimal("9999.9")  # ProcessStep.days is Decimal(5, 1)


@dataclass(frozen=True)
class Issue:
    """One problem in an import file, e.g. "Mục 3 (mã 1.001193), processing_days: …"."""

    location: str
    field: str
    message: str
    order: tuple = ()

    def __str__(self):
        return f"{self.location}, {self.field}: {self.message}" if self.field else f"{self.location}: {self.message}"


class CatalogImportError(DomainError):
    def __init__(self, errors: list[Issue]):
        self.errors = sorted(errors, key=lambda issue: issue.order)
        super().__init__(f"Tệp danh mục có {format_number(len(errors))} lỗi; chưa nhập thủ tục nào.", "file")

    def as_dict(self) -> dict:
        return {**super().as_dict(), "errors": [str(issue) for issue in self.errors]}


@dataclass
class Source:
    """One entry read from the file and how to name a field of it in a report."""

    entry: object
    locate: Callable[[str], tuple[str, str, tuple]]  # path → (location, field, sort order)


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_text(self) -> str:
        counts = (
            f"{format_number(len(self.created))} thủ tục thêm mới, {format_number(len(self.updated))} thủ tục cập nhật, "
            f"{format_number(len(self.unchanged))} thủ tục không thay đổi"
        )
        if self.dry_run:
            return f"Tệp hợp lệ, chưa ghi gì (chạy thử): sẽ có {counts}."
        return f"Đã nhập danh mục: {counts}."


# ---------------------------------------------------------------- export


def render_catalog(entries: list[dict], fmt: str) -> bytes:
    """Entries (from selectors.catalog_entries) as a JSON or XLSX file."""
    if fmt == "json":
        return (json.dumps(entries, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "xlsx":
        return _render_xlsx(entries)
    raise DomainError("Định dạng tệp phải là json hoặc xlsx.", "format")


def _render_xlsx(entries: list[dict]) -> bytes:
    agency_names = dict(
        Agency.objects.filter(code__in={a for e in entries for a in e["agencies"]}).values_list("code", "name")
    )
    level_label, service_label, role_label = dict(Level.choices), dict(ServiceLevel.choices), dict(Role.choices)
    rows = {key: [] for key in SHEETS}
    for e in entries:
        rows[""].append(
            [
                e["code"],
                e["name"],
                e["field_code"],
                e["field_name"],
                ", ".join(level_label.get(level, level) for level in e["levels"]),
                service_label.get(e["service_level"], e["service_level"]),
                e["processing_days"],
                e["fee"],
                e["charge"],
                e["online_discount_percent"],
                e["result_type"],
                e["result_name"],
                e["legal_basis"],
            ]
        )
        for c in e["components"]:
            rows["components"].append(
                [
                    e["code"],
                    c["name"],
                    c["originals"],
                    c["copies"],
                    YES if c["mandatory"] else NO,
                    c["reusable_result_type"],
                ]
            )
        for s in e["steps"]:
            rows["steps"].append([e["code"], s["name"], role_label.get(s["role"], s["role"]), s["days"], s["agency"]])
        for code in e["agencies"]:
            rows["agencies"].append([e["code"], code, agency_names.get(code, "")])
    book = Workbook()
    book.remove(book.active)
    for key, (title, columns) in SHEETS.items():
        sheet = book.create_sheet(title)
        sheet.append([header for _, header in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for values in rows[key]:
            sheet.append([cell_value(v) for v in values])
        neutralize_sheet(sheet)  # text starting with =, +, -, @ stays text, never a formula
        sheet.freeze_panes = "A2"
        for i, (_, header) in enumerate(columns):
            sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width = max(12, min(60, len(header) + 4))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- reading files


def _file_issue(message: str) -> Issue:
    return Issue("Tệp", "", message, (-1,))


def parse_catalog(content: bytes) -> tuple[list[Source], list[Issue]]:
    """Read entries from a JSON or XLSX file (XLSX is a ZIP: starts with PK\\x03\\x04)."""
    if content[:4] == XLSX_MAGIC:
        return _parse_xlsx(content)
    return _parse_json(content)


def _parse_json(content: bytes) -> tuple[list[Source], list[Issue]]:
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return [], [_file_issue("Tệp không phải JSON (UTF-8) cũng không phải XLSX.")]
    except json.JSONDecodeError as exc:
        return [], [_file_issue(f"JSON không hợp lệ ở dòng {exc.lineno}, cột {exc.colno}: {exc.msg}.")]
    if not isinstance(data, list):
        return [], [_file_issue("Tệp JSON phải là một danh sách các thủ tục: [ {…}, {…} ].")]

    def locator(index: int, raw) -> Callable:
        code = nfc(raw.get("code")) if isinstance(raw, dict) and isinstance(raw.get("code"), str) else ""
        location = f"Mục {index} (mã {code})" if code else f"Mục {index}"
        return lambda path: (location, path, (0, index, 0))

    return [Source(raw, locator(i, raw)) for i, raw in enumerate(data, start=1)], []


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def _integer(value):
    """Cell → int where it plainly is one ("8.000" is Vietnamese for 8000); anything
    else is passed on unchanged so validation reports it against its column."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = nfc(value)
        if re.fullmatch(r"\d+", text):
            return int(text)
        if re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
            return int(text.replace(".", ""))
        return text
    return value


def _decimal(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(nfc(value).replace(",", "."))
        except InvalidOperation:
            return nfc(value)
    return value


def _choice(value, choices) -> str:
    """Accept the stored value or its Vietnamese label, ignoring case and diacritics."""
    text = _text(value)
    for stored, label in choices:
        if fold(text) in (fold(stored), fold(label)):
            return stored
    return text


def _boolean(value):
    if isinstance(value, bool):
        return value
    folded = fold(_text(value))
    if folded in ("co", "x", "true", "1"):
        return True
    if folded in ("khong", "false", "0"):
        return False
    return _text(value)  # reported as not a yes/no value


class _RowPlaces:
    """Where each part of one XLSX entry came from, to name rows and columns in errors."""

    def __init__(self, main_row: int):
        self.rows = {"": [main_row], "components": [], "steps": [], "agencies": []}

    def __call__(self, path: str) -> tuple[str, str, tuple]:
        match = _ITEM_PATH.fullmatch(path)
        if match and int(match[2]) <= len(self.rows[match[1]]):
            sheet_key, row = match[1], self.rows[match[1]][int(match[2]) - 1]
            key = match[3] or ("agency" if sheet_key == "agencies" else "")
        else:
            sheet_key, row, key = "", self.rows[""][0], path
        title, columns = SHEETS[sheet_key]
        keys = [k for k, _ in columns]
        column = keys.index(key) if key in keys else len(keys)
        where = f"cột {columns[column][1]}" if column < len(keys) else path
        return f"Dòng {row} (sheet {title})", where, (1 + _SHEET_ORDER.index(sheet_key), row, column)


def _parse_xlsx(content: bytes) -> tuple[list[Source], list[Issue]]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # a damaged upload must give a message, not a traceback
        return [], [_file_issue("Tệp XLSX bị hỏng hoặc không đọc được.")]
    try:
        return _read_workbook(book)
    finally:
        book.close()


def _read_workbook(book) -> tuple[list[Source], list[Issue]]:
    issues: list[Issue] = []
    by_title = {fold(name): name for name in book.sheetnames}
    tables = {}
    for key, (title, columns) in SHEETS.items():
        if fold(title) not in by_title:
            issues.append(_file_issue(f"Thiếu sheet “{title}”."))
            continue
        rows = book[by_title[fold(title)]].iter_rows(values_only=True)
        header = [fold(_text(v)) for v in next(rows, ())]
        positions = {}
        for k, name in columns:
            if k is None:
                continue
            if fold(name) not in header:
                issues.append(
                    Issue(f"Dòng 1 (sheet {title})", "", f"Thiếu cột “{name}”.", (1 + _SHEET_ORDER.index(key), 1, 0))
                )
            else:
                positions[k] = header.index(fold(name))
        data = []
        for row_no, values in enumerate(rows, start=2):
            if all(_blank(v) for v in values):
                continue
            data.append((row_no, {k: values[i] if i < len(values) else None for k, i in positions.items()}))
        tables[key] = data
    if issues:
        return [], issues

    sources, entries = [], {}
    for row_no, cells in tables[""]:
        entry = {k: _text(cells[k]) for k in _TEXT_KEYS}
        entry["levels"] = [
            _choice(part, Level.choices) for part in re.split(r"[,;]", _text(cells["levels"])) if part.strip()
        ]
        if not _blank(cells["service_level"]):
            entry["service_level"] = _choice(cells["service_level"], ServiceLevel.choices)
        for k in ("processing_days", "fee", "charge", "online_discount_percent"):
            if not _blank(cells[k]):
                entry[k] = _integer(cells[k])
        entry.update(components=[], steps=[], agencies=[])
        places = _RowPlaces(row_no)
        sources.append(Source(entry, places))
        if entry["code"]:
            entries.setdefault(entry["code"], (entry, places))  # a duplicate code is reported by validation

    for key in ("components", "steps", "agencies"):
        title, columns = SHEETS[key]
        for row_no, cells in tables[key]:
            code = _text(cells["code"])
            if code not in entries:
                message = (
                    f"Không có thủ tục mã “{code}” trong sheet {MAIN_SHEET}."
                    if code
                    else "Mã thủ tục không được để trống."
                )
                issues.append(
                    Issue(
                        f"Dòng {row_no} (sheet {title})",
                        f"cột {columns[0][1]}",
                        message,
                        (1 + _SHEET_ORDER.index(key), row_no, 0),
                    )
                )
                continue
            entry, places = entries[code]
            if key == "components":
                item = {"name": _text(cells["name"]), "reusable_result_type": _text(cells["reusable_result_type"])}
                for k in ("originals", "copies"):
                    if not _blank(cells[k]):
                        item[k] = _integer(cells[k])
                if not _blank(cells["mandatory"]):
                    item["mandatory"] = _boolean(cells["mandatory"])
            elif key == "steps":
                item = {
                    "name": _text(cells["name"]),
                    "role": _choice(cells["role"], [(r, Role(r).label) for r in PROCESS_STEP_ROLES]),
                    "agency": _text(cells["agency"]),
                }
                if not _blank(cells["days"]):
                    item["days"] = _decimal(cells["days"])
            else:
                item = _text(cells["agency"])
            entry[key].append(item)
            places.rows[key].append(row_no)
    return sources, issues


# ---------------------------------------------------------------- validation


def _patch(entry: dict, path: str) -> bool:
    match = _ITEM_PATH.fullmatch(path)
    if match and match[1] in _ITEM_PLACEHOLDER and match[3] in _ITEM_PLACEHOLDER[match[1]]:
        entry[match[1]][int(match[2]) - 1][match[3]] = _ITEM_PLACEHOLDER[match[1]][match[3]]
        return True
    if path in _PLACEHOLDER:
        entry[path] = _PLACEHOLDER[path]
        return True
    return False


def _plain_message(message: str) -> str:
    # clean_procedure names the JSON key in its message; the report already names the field or column.
    return re.sub(r"^“[^”]*” ", "", message)


def _int_limit(model, name: str) -> int:
    """Largest value the column holds on every supported database."""
    return BaseDatabaseOperations.integer_field_ranges[model._meta.get_field(name).get_internal_type()][1]


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


_TEXT_LIMITS = {
    "code": (Procedure, "code"),
    "name": (Procedure, "name"),
    "field_code": (Field, "code"),
    "field_name": (Field, "name"),
    "result_type": (Procedure, "result_type"),
    "result_name": (Procedure, "result_name"),
}
_ITEM_TEXT_LIMITS = {
    "components": {
        "name": (RequiredComponent, "name"),
        "reusable_result_type": (RequiredComponent, "reusable_result_type"),
    },
    "steps": {"name": (ProcessStep, "name")},
}
_INT_LIMITS = {
    "processing_days": (Procedure, "processing_days"),
    "fee": (Procedure, "fee"),
    "charge": (Procedure, "charge"),
}
_ITEM_INT_LIMITS = {"originals": (RequiredComponent, "originals"), "copies": (RequiredComponent, "copies")}


class _Agencies:
    """The lookup save_procedure uses (internal code, or electronic code of a current agency), loaded once."""

    def __init__(self):
        agencies = list(Agency.objects.only("code", "electronic_code", "valid_to"))
        self.by_code = {a.code: a for a in agencies}
        self.by_electronic = {a.electronic_code: a for a in agencies if a.electronic_code and a.valid_to is None}

    def get(self, code: str) -> Agency | None:
        return self.by_code.get(code) or self.by_electronic.get(code)


def _check_entry(raw, agencies: _Agencies) -> tuple[dict | None, dict | None, list[tuple[str, str]]]:
    """Return (entry to save, cleaned entry, [(path, message)…]) for one raw entry."""
    if not isinstance(raw, dict):
        return None, None, [("", "Mỗi mục phải là một đối tượng JSON {…} mô tả một thủ tục.")]
    problems: list[tuple[str, str]] = []
    unknown = "Trường này không có trong định dạng danh mục (xem docs/catalog.md)."
    problems += [(str(key), unknown) for key in raw if key not in ENTRY_KEYS]
    entry = {key: raw[key] for key in ENTRY_KEYS if key in raw}
    for key in _TEXT_KEYS:
        if entry.get(key) is not None and not isinstance(entry[key], str):
            problems.append((key, "Phải là chuỗi ký tự."))
            entry[key] = _PLACEHOLDER.get(key, "")
    for key, keys in ITEM_KEYS.items():
        items = entry.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append((key, "Phải là một danh sách."))
            entry[key] = []
            continue
        entry[key] = []
        for i, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                problems.append((f"{key}[{i}]", "Mỗi phần tử phải là một đối tượng {…}."))
                entry[key].append(dict(_ITEM_PLACEHOLDER[key]))
                continue
            item = dict(item)
            problems += [(f"{key}[{i}].{k}", unknown) for k in item if k not in keys]
            for k in _ITEM_TEXT_KEYS[key]:
                if item.get(k) is not None and not isinstance(item[k], str):
                    problems.append((f"{key}[{i}].{k}", "Phải là chuỗi ký tự."))
                    item[k] = _ITEM_PLACEHOLDER[key].get(k, "")
            entry[key].append(item)
    if entry.get("agencies") is not None:
        if not isinstance(entry["agencies"], list):
            problems.append(("agencies", "Phải là danh sách mã cơ quan."))
            entry["agencies"] = []
        else:
            for i, code in enumerate(entry["agencies"], start=1):
                if not isinstance(code, str):
                    problems.append((f"agencies[{i}]", "Mã cơ quan phải là chuỗi ký tự."))
            entry["agencies"] = [c if isinstance(c, str) else "" for c in entry["agencies"]]

    # clean_procedure stops at an entry's first problem: report it, put a valid
    # value in its place and ask again, so the report lists them all at once.
    probe = {**entry, **{k: [dict(i) for i in entry[k]] for k in ITEM_KEYS if k in entry}}
    cleaned = None
    for _ in range(len(ENTRY_KEYS) + 10 * (len(probe.get("components", [])) + len(probe.get("steps", []))) + 1):
        try:
            cleaned = services.clean_procedure(probe)
            break
        except DomainError as exc:
            problems.append((exc.field or "", _plain_message(exc.message)))
            if not _patch(probe, exc.field or ""):
                break
    if cleaned is None:
        return entry, None, problems

    # Limits of the database columns, and references clean_procedure leaves to save time.
    for key, (model, name) in _TEXT_LIMITS.items():
        if len(cleaned[key]) > _max_length(model, name):
            problems.append((key, f"Dài quá {_max_length(model, name)} ký tự."))
    for key, (model, name) in _INT_LIMITS.items():
        if cleaned[key] > _int_limit(model, name):
            problems.append((key, f"Không được lớn hơn {format_number(_int_limit(model, name))}."))
    for kind in ITEM_KEYS:
        for i, item in enumerate(cleaned[kind], start=1):
            for key, (model, name) in _ITEM_TEXT_LIMITS[kind].items():
                if len(item[key]) > _max_length(model, name):
                    problems.append((f"{kind}[{i}].{key}", f"Dài quá {_max_length(model, name)} ký tự."))
    for i, (item, original) in enumerate(zip(cleaned["components"], probe.get("components", [])), start=1):
        for key, (model, name) in _ITEM_INT_LIMITS.items():
            if item[key] > _int_limit(model, name):
                problems.append(
                    (f"components[{i}].{key}", f"Không được lớn hơn {format_number(_int_limit(model, name))}.")
                )
        if "mandatory" in original and not isinstance(original["mandatory"], bool):
            problems.append((f"components[{i}].mandatory", f"Phải là true/false ({YES}/{NO})."))
    for i, step in enumerate(cleaned["steps"], start=1):
        days = step["days"]
        try:
            ok = not isinstance(days, bool) and isinstance(days, (int, float, Decimal))
            days = Decimal(str(days)) if ok else None
            ok = ok and days.is_finite() and 0 <= days <= _MAX_DAYS and days == days.quantize(Decimal("0.1"))
        except InvalidOperation:
            ok = False
        if not ok:
            problems.append(
                (
                    f"steps[{i}].days",
                    "Thời gian của bước phải là số ngày làm việc từ 0 đến 9999,9, nhiều nhất một chữ số thập phân.",
                )
            )
        if step["agency"] and agencies.get(step["agency"]) is None:
            problems.append((f"steps[{i}].agency", f"Không tìm thấy cơ quan có mã “{step['agency']}”."))
    for i, code in enumerate(cleaned["agencies"], start=1):
        if not code:
            problems.append((f"agencies[{i}]", "Mã cơ quan không được để trống."))
        elif agencies.get(code) is None:
            problems.append((f"agencies[{i}]", f"Không tìm thấy cơ quan có mã “{code}”."))
    return entry, cleaned, problems


def validate_sources(sources: list[Source]) -> tuple[list[tuple[dict, dict, Source]], list[Issue]]:
    """Check every entry; return [(entry, cleaned, source)…] and every problem found."""
    agencies = _Agencies()
    valid, issues, seen = [], [], {}
    for source in sources:
        entry, cleaned, problems = _check_entry(source.entry, agencies)
        if cleaned is not None:
            if cleaned["code"] in seen:
                problems.append(("code", f"Mã thủ tục “{cleaned['code']}” trùng với {seen[cleaned['code']]}."))
            else:
                first = source.locate("code")[0]
                seen[cleaned["code"]] = first[:1].lower() + first[1:]
        for path, message in problems:
            location, where, order = source.locate(path)
            issues.append(Issue(location, where, message, order))
        if not problems:
            valid.append((entry, cleaned, source))
    return valid, issues


def _same_as_stored(cleaned: dict, stored: dict, agencies: _Agencies) -> bool:
    """Would save_procedure leave this procedure as it is? (It keeps the field's
    name once the field exists and only adds agencies, never removes them.)"""
    keys = (
        "name",
        "field_code",
        "levels",
        "service_level",
        "processing_days",
        "fee",
        "charge",
        "online_discount_percent",
        "result_type",
        "result_name",
        "legal_basis",
    )
    if any(cleaned[k] != stored[k] for k in keys):
        return False
    components = [{k: c[k] for k in ITEM_KEYS["components"]} for c in cleaned["components"]]
    if components != stored["components"]:
        return False
    steps = [
        (s["name"], s["role"], Decimal(str(s["days"])), agencies.get(s["agency"]).code if s["agency"] else "")
        for s in cleaned["steps"]
    ]
    if steps != [(s["name"], s["role"], Decimal(str(s["days"])), s["agency"]) for s in stored["steps"]]:
        return False
    return {agencies.get(code).code for code in cleaned["agencies"]} <= set(stored["agencies"])


# ---------------------------------------------------------------- import


def import_catalog(*, actor, content: bytes, dry_run: bool = False) -> ImportSummary:
    """Import a JSON or XLSX catalog file: all entries or none.

    Raises CatalogImportError listing every problem when anything is wrong."""
    sources, issues = parse_catalog(content)
    if not issues and not sources:
        issues = [_file_issue("Tệp không có thủ tục nào.")]
    valid, more = validate_sources(sources)
    if issues or more:
        raise CatalogImportError(issues + more)
    summary = ImportSummary(dry_run=dry_run)
    with transaction.atomic():
        agencies = _Agencies()
        stored = {e["code"]: e for e in selectors.catalog_entries(codes=[c["code"] for _, c, _ in valid])}
        changed = []
        for entry, cleaned, source in valid:
            code = cleaned["code"]
            if code not in stored:
                summary.created.append(code)
            elif _same_as_stored(cleaned, stored[code], agencies):
                summary.unchanged.append(code)
                continue
            else:
                summary.updated.append(code)
            changed.append((entry, source))
        if dry_run:
            return summary
        for entry, source in changed:
            try:
                services.save_procedure(actor=actor, data=entry)
            except DomainError as exc:  # e.g. an agency removed since validation; roll everything back
                location, where, order = source.locate(exc.field or "")
                raise CatalogImportError([Issue(location, where, _plain_message(exc.message), order)]) from exc
        if changed:
            audit.record(
                actor=actor,
                action="procedure.catalog_import",
                object_type="procedures.Procedure",
                after={
                    "created": len(summary.created),
                    "updated": len(summary.updated),
                    "unchanged": len(summary.unchanged),
                },
            )
    return summary
