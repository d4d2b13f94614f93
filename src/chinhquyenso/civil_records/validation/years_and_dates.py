"""The year of registration and the dates of a register: parsed by
civil_records/dates.py, whose flags (impossible, partial, lunar, two-digit
year) are kept; a date after today is flagged too."""

from __future__ import annotations

import datetime as dt

from chinhquyenso.civil_records import dates
from chinhquyenso.civil_records.validation.text import ILLEGIBLE, NONE_WRITTEN, ONLY_MARKS


def read_year(text: str, value: str, flags: list, today: dt.date) -> int | None:
    digits = value[:-2] if value.endswith(".0") else value
    if not digits.isdigit():
        flags.append(("invalid_value", "Năm đăng ký phải là số, ví dụ 1968.", text))
        return None
    year = int(digits)
    if len(digits) <= 2:
        year = 1900 + year
        flags.append(("two_digit_year", f"Năm ghi hai chữ số “{digits}”, hiểu là năm {year}.", text))
    if not dates.EARLIEST_YEAR <= year <= today.year:
        flags.append(
            ("invalid_value", f"Năm đăng ký {year} nằm ngoài khoảng {dates.EARLIEST_YEAR}–{today.year}.", text)
        )
        return None
    return year


def read_date(
    raw,
    text: str,
    folded: str,
    flags: list,
    *,
    partial_ok: bool,
    reference_year: int | None,
    years_before: tuple[int, int] | None = None,
    today: dt.date,
) -> tuple[dates.ParsedDate | None, bool]:
    """The parsed date, and whether it was read against the row's year (a two-digit year).
    `raw` is the spreadsheet's own date or number, or the text with spaces collapsed;
    `partial_ok`: a year alone is all the field asks for (parents' years of birth);
    `years_before`: how long before the row's year the field's dates can lie (fields.Field)."""
    if isinstance(raw, str):
        if folded in ILLEGIBLE or ONLY_MARKS.fullmatch(raw):
            flags.append(("illegible", "Sổ ghi không đọc được; cần đối chiếu sổ gốc.", text))
            return None, False
        if folded in NONE_WRITTEN:
            return None, False
    parsed = dates.parse(raw, reference_year=reference_year, years_before=years_before, today=today)
    for code, reason in parsed.flags:
        if code == "partial_date" and partial_ok:
            continue
        flags.append((code, reason, text))
    if parsed.end and parsed.end > today:
        flags.append(("inconsistent_date", "Ngày sau ngày hôm nay.", text))
    return parsed, parsed.short_year
