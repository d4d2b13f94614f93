"""What validation gives back: a validated row (`CleanRow`), the problems it
reports (`Problem`) and the label an officer sees for each kind of flag."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

FLAG_LABELS = {
    "impossible_date": "Ngày không có thật",
    "partial_date": "Ngày không đầy đủ",
    "lunar_date": "Ngày âm lịch",
    "two_digit_year": "Năm ghi hai chữ số",
    "illegible": "Không đọc được",
    "missing_parent": "Không có thông tin cha, mẹ",
    "parent_unknown": "Không rõ cha, mẹ",
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
class Problem:
    column: str
    value: str
    code: str
    message: str
    severity: str  # "error": the row was rejected; "flag": stored, to review; "notice": information
    field: str = ""
    other_columns: tuple[str, ...] = ()  # the other columns the message names, beside `column`


@dataclass(slots=True)
class CleanRow:
    number: int
    flags: list = field(default_factory=list)  # [field, code, reason]
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
    encoded: tuple = ()  # verbatim (header → text as written), data (field → normalized value) and flags as JSON

    def __reduce__(self):
        # Validated rows travel from validation processes: positional values pickle several times faster.
        return CleanRow, tuple(getattr(self, name) for name in self.__slots__)

    def flag(self, key: str, header: str, value: str, code: str, reason: str) -> None:
        """Flag field `key` for review: kept on the record, and listed as a problem of the import."""
        self.flags.append([key, code, reason])
        self.problems.append(Problem(header, value, code, reason, "flag", key))


@dataclass(slots=True)
class BadRow:
    """A row the reader could not split into cells — a quote left open, a line or cell over the
    limits (reading.py) — given in place of its cells and rejected with `message`."""

    code: str
    message: str
    text: str = ""  # the start of the line as written, for the error workbook

    def problem(self) -> Problem:
        return Problem("", self.text[:200], self.code, self.message, "error")
