"""One register row → a record to store, flags for what is doubtful, or a rejection.

Historical registers are accepted as they are: the value as written is kept
verbatim, a normalized value is stored beside it when one can be determined,
and anything doubtful (an impossible or partial date, a missing parent, an
illegible entry, a pre-1975 place name) becomes a flag with a Vietnamese
reason for a registrar to review. Only a row that identifies nobody — no
subject name and no register number — is rejected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from chinhquyenso.civil_records import dates
from chinhquyenso.civil_records.fields import (BOOK, DATE, KEY, NAME, NUMBER, PLACE, SCANS, SEX, TEXT, YEAR, YEAR_OR_DATE,
                                               RecordKind, header_index, header_key)
from chinhquyenso.core.text import drop_unstorable, fold, fold_normalized, nfc

MAX_NAME = 200
MAX_TEXT = 2000
# Written for "nobody could read this" (illegible) and for "the register says there is none".
ILLEGIBLE = {"khong ro", "k ro", "kr", "khong doc duoc", "khong ro rang", "mo", "bi mo", "nhoe", "rach", "x", "xx", "xxx"}
NONE_WRITTEN = {"-", "--", "khong", "khong co", "k co", "/", "0"}
_SEP = "\uffff"
_ONLY_MARKS = re.compile(r"[?.…\s]+")
_DIGITS = re.compile(r"\d")
SEXES = {"nam": "Nam", "trai": "Nam", "m": "Nam", "male": "Nam", "nu": "Nữ", "gai": "Nữ", "f": "Nữ", "female": "Nữ"}
# Columns the error workbook adds; ignored when it comes back corrected.
ERROR_COLUMNS = ("Dòng gốc", "Kết quả", "Thông báo")
PLACES_FILE = Path(__file__).with_name("data") / "historical_places.json"

FLAG_LABELS = {
    "impossible_date": "Ngày không có thật",
    "partial_date": "Ngày không đầy đủ",
    "lunar_date": "Ngày âm lịch",
    "two_digit_year": "Năm ghi hai chữ số",
    "illegible": "Không đọc được",
    "missing_parent": "Không có thông tin cha, mẹ",
    "missing_number": "Không có số đăng ký",
    "missing_year": "Không có năm đăng ký",
    "historical_place": "Địa danh trước năm 1975",
    "inconsistent_date": "Ngày không khớp",
    "invalid_value": "Giá trị không hợp lệ",
    "unreadable_characters": "Lỗi ký tự",
    "too_long": "Quá dài",
    "missing_scan": "Không tìm thấy ảnh trang sổ",
}


@dataclass
class Column:
    index: int
    header: str        # as written in the file
    field: str | None  # None: not a register field (kept verbatim only)


@dataclass
class Problem:
    column: str
    value: str
    code: str
    message: str
    severity: str  # "error": the row was rejected; "flag": stored, to review; "notice": information
    field: str = ""


@dataclass
class CleanRow:
    number: int
    verbatim: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    flags: list = field(default_factory=list)       # [field, code, reason]
    problems: list = field(default_factory=list)
    rejected: bool = False
    identity_key: str = ""
    book: str = ""
    register_number: str = ""
    year: int | None = None
    registered_on: dt.date | None = None
    event_from: dt.date | None = None
    event_to: dt.date | None = None
    subject_name: str = ""
    spouse_name: str = ""
    sex: str = ""
    scans: list = field(default_factory=list)
    names_folded: str = ""
    encoded: tuple = ()  # verbatim, data and flags as JSON, ready to store

    @property
    def blank(self) -> bool:
        return not self.verbatim


def historical_places(path: Path = PLACES_FILE) -> tuple[re.Pattern, dict[str, str]]:
    """One pattern over folded text matching any pre-1975 place name of the
    province's list, and the reason to give for each (folded) name."""
    reasons: dict[str, str] = {}
    for entry in json.loads(path.read_text(encoding="utf-8"))["places"]:
        for name in entry["match"]:
            reasons[fold(name)] = f"Địa danh cũ ({entry['period']}), nay là {entry['now']}; giữ nguyên như sổ ghi."
    names = "|".join(re.escape(name) for name in sorted(reasons, key=len, reverse=True))
    return re.compile(rf"\b(?:{names})\b"), reasons


class RowValidator:
    """Validates the rows of one file: built once from its header row."""

    def __init__(self, kind: RecordKind, headers: list, *, today: dt.date | None = None,
                 places: tuple[re.Pattern, dict[str, str]] | None = None):
        self.kind = kind
        self.today = today or dt.date.today()
        self.places, self.place_reasons = historical_places() if places is None else places
        index = header_index(kind)
        ignored = {header_key(h) for h in ERROR_COLUMNS}
        self.columns: list[Column] = []
        self.header_problems: list[Problem] = []
        seen: dict[str, str] = {}
        for position, raw in enumerate(headers):
            header = nfc(raw) if raw is not None else ""
            key = header_key(header)
            if key in ignored:
                self.columns.append(Column(position, "", None))  # the error workbook's own columns: not kept
                continue
            if not header:
                self.columns.append(Column(position, f"Cột {position + 1}", None))
                continue
            field_key = index.get(key)
            if field_key and field_key in seen:
                self.header_problems.append(Problem(header, header, "duplicate_column",
                                                    f"Cột “{header}” trùng với cột “{seen[field_key]}”; chỉ dùng cột đầu.", "notice"))
                field_key = None
            elif field_key:
                seen[field_key] = header
            else:
                self.header_problems.append(Problem(header, header, "unknown_column",
                                                    f"Cột “{header}” không thuộc mẫu sổ {kind.label.lower()}; "
                                                    "nội dung vẫn được lưu nguyên văn nhưng không được kiểm tra.", "notice"))
            self.columns.append(Column(position, header, field_key))
        self.mapped = {c.field: c for c in self.columns if c.field}
        self.field_headers = {c.header for c in self.columns if c.field}
        self.kinds = {f.key: f.kind for f in kind.fields}
        self.usable = any(f in self.mapped for f in (*kind.subject_fields, "number"))

    def header_for(self, field_key: str) -> str:
        column = self.mapped.get(field_key)
        return column.header if column else self.kind.field(field_key).label

    # ------------------------------------------------------------ the row

    def validate(self, number: int, cells) -> CleanRow:
        row = CleanRow(number)
        count = len(cells)
        texts = ["" if c is None else c if isinstance(c, str) else _as_text(c) for c in cells]
        # The whole row is cleaned, normalized and folded in one pass each (a
        # million-row file has twenty million cells): joined by a noncharacter
        # that never composes with a neighbour and is not whitespace.
        joined = _SEP.join(texts)
        if joined.count(_SEP) != count - 1:
            joined = _SEP.join(t.replace(_SEP, "\ufffd") for t in texts)
        joined = drop_unstorable(joined)
        texts = unicodedata.normalize("NFC", joined).split(_SEP)
        values = [" ".join(t.split()) for t in texts]
        folded = fold_normalized(_SEP.join(values)).split(_SEP)
        written: dict[str, int] = {}
        for column in self.columns:
            index = column.index
            if index >= count or not values[index] or not column.header:
                continue
            text = texts[index]
            if "\ufffd" in text:
                self._flag(row, column.field or "", column.header, text, "unreadable_characters",
                           "Có ký tự không đọc được (tệp lưu sai bảng mã?); cần đối chiếu sổ gốc.")
            row.verbatim[column.header] = text
            if column.field:
                written[column.field] = index
        for extra in range(len(self.columns), count):
            if values[extra]:
                row.verbatim[f"Cột {extra + 1}"] = texts[extra]
        if row.blank:
            return row
        if "year" in written:
            self._year(row, texts[written["year"]], values[written["year"]])
        for key, index in written.items():
            kind = self.kinds[key]
            if kind == DATE or kind == YEAR_OR_DATE:
                raw = cells[index]
                self._date(row, key, values[index] if isinstance(raw, str) else raw, texts[index], folded[index],
                           partial_ok=kind == YEAR_OR_DATE)
            elif kind != YEAR:
                self._text(row, key, texts[index], values[index], folded[index], kind)
        self._register(row)
        self._consistency(row)
        return row

    def _flag(self, row: CleanRow, key: str, header: str, value: str, code: str, reason: str):
        row.flags.append([key, code, reason])
        row.problems.append(Problem(header, value, code, reason, "flag", key))

    def _text(self, row: CleanRow, key: str, text: str, value: str, folded: str, kind: str):
        # Markers of "illegible" and "none" are short.
        short = len(value) <= 20
        if short and (folded in ILLEGIBLE or _ONLY_MARKS.fullmatch(value)):
            self._flag(row, key, self.header_for(key), text, "illegible", "Sổ ghi không đọc được; để trống, cần đối chiếu sổ gốc.")
            return
        if short and folded in NONE_WRITTEN and kind in (NAME, PLACE, TEXT):
            return
        limit = MAX_NAME if kind in (NAME, BOOK, NUMBER, KEY) else MAX_TEXT
        if len(value) > limit:
            self._flag(row, key, self.header_for(key), text[:80] + "…", "too_long",
                       f"Dài quá {limit} ký tự; phần sau bị cắt khi tìm kiếm và in.")
            value = value[:limit]
        if kind == NAME:
            if "?" in value:
                self._flag(row, key, self.header_for(key), text, "illegible", "Có chữ không đọc được (“?”); cần đối chiếu sổ gốc.")
            elif _DIGITS.search(value):
                self._flag(row, key, self.header_for(key), text, "invalid_value", "Họ tên có chữ số; cần đối chiếu sổ gốc.")
        elif kind == SEX:
            sex = SEXES.get(folded)
            if sex is None:
                self._flag(row, key, self.header_for(key), text, "invalid_value", "Giới tính phải là Nam hoặc Nữ.")
                return
            row.sex = value = sex
        elif kind == PLACE:
            old_name = self.places.search(folded)
            if old_name:
                self._flag(row, key, self.header_for(key), text, "historical_place", self.place_reasons[old_name[0]])
        elif kind == SCANS:
            row.scans = [name.strip() for name in re.split(r"[;,\n]", value) if name.strip()]
            value = row.scans
        row.data[key] = value

    def _year(self, row: CleanRow, text: str, value: str):
        header = self.header_for("year")
        digits = value[:-2] if value.endswith(".0") else value
        if not digits.isdigit():
            self._flag(row, "year", header, text, "invalid_value", "Năm đăng ký phải là số, ví dụ 1968.")
            return
        year = int(digits)
        if len(digits) <= 2:
            year = 1900 + year
            self._flag(row, "year", header, text, "two_digit_year", f"Năm ghi hai chữ số “{digits}”, hiểu là năm {year}.")
        if not dates.EARLIEST_YEAR <= year <= self.today.year:
            self._flag(row, "year", header, text, "invalid_value",
                       f"Năm đăng ký {year} nằm ngoài khoảng {dates.EARLIEST_YEAR}–{self.today.year}.")
            return
        row.year = year
        row.data["year"] = year

    def _date(self, row: CleanRow, key: str, raw, text: str, folded: str, *, partial_ok: bool):
        if isinstance(raw, str):
            if folded in ILLEGIBLE or _ONLY_MARKS.fullmatch(raw):
                self._flag(row, key, self.header_for(key), text, "illegible", "Sổ ghi không đọc được; cần đối chiếu sổ gốc.")
                return
            if folded in NONE_WRITTEN:
                return
        parsed = dates.parse(raw, reference_year=row.year, today=self.today)
        for code, reason in parsed.flags:
            if code == "partial_date" and partial_ok:
                continue
            self._flag(row, key, self.header_for(key), text, code, reason)
        if parsed.value:
            row.data[key] = parsed.value
        if parsed.end and parsed.end > self.today:
            self._flag(row, key, self.header_for(key), text, "inconsistent_date", "Ngày sau ngày hôm nay.")
        if key == "registered_on":
            row.registered_on = parsed.exact
            if row.year is None and parsed.start and parsed.start.year == parsed.end.year:
                row.year = parsed.start.year
            elif row.year and parsed.start and not parsed.start.year <= row.year <= parsed.end.year:
                self._flag(row, key, self.header_for(key), text, "inconsistent_date",
                           f"Ngày đăng ký không thuộc năm đăng ký {row.year}.")
        if key == self.kind.event_field:
            row.event_from, row.event_to = parsed.start, parsed.end

    def _register(self, row: CleanRow):
        kind, data = self.kind, row.data
        names = [data.get(key, "") for key in kind.subject_fields]
        row.subject_name, row.spouse_name = (names + [""])[:2]
        row.book, row.register_number = data.get("book", ""), data.get("number", "")
        if not any(names) and not row.register_number:
            row.rejected = True
            header = self.header_for(kind.subject_fields[0])
            row.problems.append(Problem(header, "", "unusable",
                                        "Không dùng được: không có họ tên người được đăng ký và không có số đăng ký "
                                        "(cần ít nhất một trong hai).", "error", kind.subject_fields[0]))
            return
        if not row.register_number:
            self._flag(row, "number", self.header_for("number"), "", "missing_number",
                       "Sổ không ghi số đăng ký; bản ghi được nhận diện theo nội dung dòng.")
        if row.year is None:
            self._flag(row, "year", self.header_for("year"), "", "missing_year",
                       "Không có năm đăng ký (cột năm hoặc ngày đăng ký).")
        for key in kind.expected_fields:
            if not data.get(key) and not any(f[0] == key for f in row.flags):
                who = kind.field(key).label.split()[-1]
                self._flag(row, key, self.header_for(key), "", "missing_parent", f"Sổ không ghi họ tên {who}.")
        if data.get("key"):
            row.identity_key = "k:" + fold(data["key"])
        elif row.register_number and row.year:
            row.identity_key = f"s:{fold(row.book)}|{fold(row.register_number)}|{row.year}"
        else:
            content = json.dumps(sorted((k, v) for k, v in row.verbatim.items() if k in self.field_headers), ensure_ascii=False)
            row.identity_key = "h:" + hashlib.sha1(content.encode()).hexdigest()

    def _consistency(self, row: CleanRow):
        if row.rejected or row.event_from is None:
            return
        event = self.kind.event_field
        registered = row.data.get("registered_on") and row.registered_on
        if registered and event != "registered_on" and row.event_from > row.registered_on:
            self._flag(row, event, self.header_for(event), row.verbatim.get(self.header_for(event), ""), "inconsistent_date",
                       "Ngày sự kiện sau ngày đăng ký.")


def _as_text(value) -> str:
    """A cell as the text an officer sees: dates dd/mm/yyyy, whole numbers without '.0'."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def validate_rows(validator: RowValidator, rows: list[tuple[int, list]]) -> list[CleanRow]:
    """Validate a chunk of (row number, cells); blank rows are left out. The
    JSON to store is made here, so a validation process does that work too."""
    result = []
    for number, cells in rows:
        row = validator.validate(number, cells)
        if row.blank:
            continue
        row.names_folded = (f"{fold_normalized(row.subject_name)} | {fold_normalized(row.spouse_name)}" if row.spouse_name
                            else fold_normalized(row.subject_name))
        row.encoded = (_json(row.verbatim), _json(row.data), _json(row.flags))
        result.append(row)
    return result


# A validation process (importer.run_batch with workers) holds one validator for the file.
_process_validator: RowValidator | None = None


def start_validation_process(kind_code: str, headers: list, today: dt.date) -> None:
    from chinhquyenso.civil_records.fields import KINDS

    global _process_validator
    _process_validator = RowValidator(KINDS[kind_code], headers, today=today)


def validate_in_process(rows: list[tuple[int, list]]) -> list[CleanRow]:
    return validate_rows(_process_validator, rows)
