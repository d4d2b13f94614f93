"""Dates as historical registers and spreadsheets write them.

`parse` never raises: it returns what can be determined — an exact day, a
month, a year, or nothing — with the range of days the value covers (for
search) and flags saying why it is not an exact day. Forms understood:

* spreadsheet cells: a date, or an Excel serial number (1 = 01/01/1900;
  60 is Excel's nonexistent 29/02/1900);
* 12/05/1968, 12-5-1968, 12.05.1968, 1968-05-12, 12/5/68 (two-digit year:
  flagged only where the register's year leaves its century open);
* "ngày 12 tháng 5 năm 1968", "tháng 5/1968", "tháng 5 năm 1968", "5/1968",
  "năm 1968", "1968";
* lunar dates marked "âm lịch" (or "ÂL", "AL"), with "nhuận" for a leap
  month, converted to the solar date;
* "?" or "xx" for a part nobody could read ("?/5/1968").
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from chinhquyenso.civil_records import lunar
from chinhquyenso.core.text import fold

EARLIEST_YEAR = 1800
# How many years before the register's year a date may lie (fewest, most), unless its field says
# otherwise (fields.Field.years_before): not after the register's year, and within a lifetime.
DEFAULT_YEARS_BEFORE = (0, 99)
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 61 = 01/03/1900; below 60 one day less (Excel's 1900 leap-year bug)
_FAST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})$")
_LUNAR = re.compile(r"\(?\b(am lich|al)\b\)?\.?")
_LEAP = re.compile(r"\bnhuan\b")
_UNKNOWN = r"\?+|x{1,2}"
_PART = rf"(\d+|{_UNKNOWN})"
_WORDY = [
    (re.compile(rf"ngay {_PART},? thang {_PART},? nam (\d+)$"), ("d", "m", "y")),
    (re.compile(rf"thang {_PART},? nam (\d+)$"), ("m", "y")),
    (re.compile(rf"thang {_PART}\s*[/\-.]\s*(\d+)$"), ("m", "y")),
    (re.compile(r"nam (\d+)$"), ("y",)),
]
_SEPARATORS = re.compile(r"\s*[/\-.,\s]\s*")
_WORDS = re.compile(r"\b(ngay|thang|nam|sinh)\b")


@dataclass
class ParsedDate:
    value: str = ""  # "1968-05-12", "1968-05", "1968" or ""
    start: dt.date | None = None  # first and last day the value can mean
    end: dt.date | None = None
    flags: list[tuple[str, str]] = field(default_factory=list)  # (code, Vietnamese reason)
    short_year: bool = False  # written with two digits: its century depends on the register's year

    @property
    def exact(self) -> dt.date | None:
        return self.start if self.start is not None and self.start == self.end else None


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in(year: int, month: int) -> int:
    return 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month - 1]


def _from_serial(serial: float) -> ParsedDate:
    days = int(serial)
    if days == 60:
        return ParsedDate(
            "1900-02",
            dt.date(1900, 2, 1),
            dt.date(1900, 2, 28),
            [("impossible_date", "Số ngày Excel 60 là ngày 29/02/1900, ngày không có thật.")],
        )
    if days < 1:
        return ParsedDate(flags=[("invalid_value", f"Số ngày Excel {serial:g} không ứng với ngày nào.")])
    day = _EXCEL_EPOCH + dt.timedelta(days=days + (1 if days < 60 else 0))
    return _exact(day)


def _exact(day: dt.date) -> ParsedDate:
    return ParsedDate(day.isoformat(), day, day)


def _year_of(
    text: str, reference_year: int | None, years_before: tuple[int, int] | None, today: dt.date, flags: list
) -> int:
    """The year `text` means. Two digits leave the century open: the years it can mean are those
    from EARLIEST_YEAR to today, and — when the register's year is known — only those that many
    `years_before` it (DEFAULT_YEARS_BEFORE: the date is not after the register's year, and within
    a lifetime before it). One such year: that is the year, nothing doubtful. Several (or none, or
    no register year): the latest one not after the register's year is taken and flagged."""
    if len(text) > 2:
        return int(text)
    short = int(text)
    possible = [
        century + short
        for century in range(EARLIEST_YEAR // 100 * 100, today.year // 100 * 100 + 100, 100)
        if EARLIEST_YEAR <= century + short <= today.year
    ]
    fitting = possible
    if reference_year is not None:
        fewest, most = years_before or DEFAULT_YEARS_BEFORE
        fitting = [year for year in possible if reference_year - most <= year <= reference_year - fewest]
    if len(fitting) == 1:
        return fitting[0]
    if fitting:
        full = max(fitting)
        alternatives = ", ".join(str(year) for year in fitting[:-1]) + f" hoặc {fitting[-1]}"
        flags.append(
            ("two_digit_year", f"Năm ghi hai chữ số “{text}”, có thể là năm {alternatives}; hiểu là năm {full}.")
        )
    else:
        limit = reference_year or today.year
        century = limit // 100 * 100
        full = century + short if century + short <= limit else century - 100 + short
        flags.append(
            (
                "two_digit_year",
                f"Năm ghi hai chữ số “{text}”, hiểu là năm {full}; không năm nào hợp với năm đăng ký {reference_year}.",
            )
        )
    return full


def _build(day: str | None, month: str | None, year_text: str, **kwargs) -> ParsedDate:
    parsed = _date_of(day, month, year_text, **kwargs)
    parsed.short_year = len(year_text) <= 2
    return parsed


def _date_of(
    day: str | None,
    month: str | None,
    year_text: str,
    *,
    lunar_date: bool,
    leap: bool,
    written: str,
    reference_year: int | None,
    years_before: tuple[int, int] | None,
    today: dt.date,
) -> ParsedDate:
    flags: list[tuple[str, str]] = []
    year = _year_of(year_text, reference_year, years_before, today, flags)
    if not EARLIEST_YEAR <= year <= today.year:
        return ParsedDate(
            flags=flags + [("invalid_value", f"Năm {year} nằm ngoài khoảng {EARLIEST_YEAR}–{today.year}.")]
        )
    unreadable = [part for part, text in (("ngày", day), ("tháng", month)) if text is not None and not text.isdigit()]
    if unreadable:
        flags.append(("illegible", f"Không đọc được {' và '.join(unreadable)}."))
    month_number = int(month) if month and month.isdigit() else None
    day_number = int(day) if day and day.isdigit() else None
    if month_number is not None and not 1 <= month_number <= 12:
        flags.append(("impossible_date", f"Tháng {month_number} không có thật; chỉ giữ năm {year}."))
        month_number = day_number = None
    if lunar_date:
        return _lunar(day_number, month_number, year, leap, written, flags)
    if month_number is None:
        if not unreadable and day is None:
            flags.append(("partial_date", f"Sổ chỉ ghi năm {year}."))
        return ParsedDate(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31), flags)
    last = calendar.monthrange(year, month_number)[1]
    whole_month = ParsedDate(
        f"{year}-{month_number:02d}", dt.date(year, month_number, 1), dt.date(year, month_number, last), flags
    )
    if day_number is None:
        if day is None:
            flags.append(("partial_date", f"Sổ chỉ ghi tháng {month_number}/{year}."))
        return whole_month
    if not 1 <= day_number <= last:
        reason = (
            f"Ngày 29/02/{year} không có thật: năm {year} không phải năm nhuận."
            if (day_number, month_number) == (29, 2)
            else f"Ngày {day_number}/{month_number}/{year} không có thật: tháng {month_number} năm {year} có {last} ngày."
        )
        flags.append(("impossible_date", reason + " Chỉ giữ tháng và năm."))
        return whole_month
    return ParsedDate(
        dt.date(year, month_number, day_number).isoformat(),
        dt.date(year, month_number, day_number),
        dt.date(year, month_number, day_number),
        flags,
    )


def _lunar(day: int | None, month: int | None, year: int, leap: bool, written: str, flags: list) -> ParsedDate:
    leap_text = " nhuận" if leap else ""
    if day is not None and month is not None:
        solar = lunar.to_solar(day, month, year, leap)
        if solar is None:
            flags.append(("impossible_date", f"Ngày âm lịch {day}/{month}{leap_text}/{year} không có thật."))
            return ParsedDate(
                str(year), lunar.to_solar(1, 1, year), lunar.to_solar(1, 1, year + 1) - dt.timedelta(days=1), flags
            )
        flags.append(
            (
                "lunar_date",
                f"Ngày âm lịch {day}/{month}{leap_text}/{year}, quy ra dương lịch là "
                f"{solar:%d/%m/%Y}; cần đối chiếu sổ gốc.",
            )
        )
        return ParsedDate(solar.isoformat(), solar, solar, flags)
    if month is not None:
        start = lunar.to_solar(1, month, year, leap)
        if start is not None:
            following = lunar.to_solar(1, month % 12 + 1, year + (month == 12))
            end = (following or start + dt.timedelta(days=29)) - dt.timedelta(days=1)
            flags.append(
                (
                    "lunar_date",
                    f"Tháng {month}{leap_text} âm lịch năm {year}: từ {start:%d/%m/%Y} đến {end:%d/%m/%Y} "
                    "dương lịch; sổ không ghi ngày.",
                )
            )
            return ParsedDate(str(year), start, end, flags)
    start, end = lunar.to_solar(1, 1, year), lunar.to_solar(1, 1, year + 1) - dt.timedelta(days=1)
    flags.append(
        ("lunar_date", f"Năm {year} âm lịch: từ {start:%d/%m/%Y} đến {end:%d/%m/%Y} dương lịch; sổ chỉ ghi năm.")
    )
    return ParsedDate(str(year), start, end, flags)


def parse(
    value,
    *,
    reference_year: int | None = None,
    years_before: tuple[int, int] | None = None,
    today: dt.date | None = None,
) -> ParsedDate:
    """Parse one cell (already NFC text, a date, or a number). Text that is no
    date at all gives an empty value with an `invalid_value` flag. A year written
    with two digits is read against the register's `reference_year`: the date lies
    `years_before` it (fewest, most years; DEFAULT_YEARS_BEFORE when not given)."""
    today = today or dt.date.today()
    if isinstance(value, dt.datetime):
        return _exact(value.date())
    if isinstance(value, dt.date):
        return _exact(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and EARLIEST_YEAR <= value <= today.year:
            return _build(
                None,
                None,
                str(int(value)),
                lunar_date=False,
                leap=False,
                written=str(value),
                reference_year=reference_year,
                years_before=years_before,
                today=today,
            )
        return _from_serial(value)
    text = str(value).strip()
    if len(text) == 4 and text.isdigit():
        return _build(
            None,
            None,
            text,
            lunar_date=False,
            leap=False,
            written=text,
            reference_year=reference_year,
            years_before=years_before,
            today=today,
        )
    fast = _FAST.match(text)
    if fast:
        day, month, year = int(fast[1]), int(fast[2]), int(fast[3])
        if 1 <= month <= 12 and 1 <= day <= _days_in(year, month) and EARLIEST_YEAR <= year <= today.year:
            exact = dt.date(year, month, day)
            return ParsedDate(f"{year:04d}-{month:02d}-{day:02d}", exact, exact)
        return _build(
            fast[1],
            fast[2],
            fast[3],
            lunar_date=False,
            leap=False,
            written=text,
            reference_year=reference_year,
            years_before=years_before,
            today=today,
        )
    folded = fold(text)
    lunar_date = bool(_LUNAR.search(folded))
    leap = bool(_LEAP.search(folded))
    folded = " ".join(_LEAP.sub(" ", _LUNAR.sub(" ", folded)).replace("(", " ").replace(")", " ").split())
    parts: dict[str, str] = {}
    for pattern, names in _WORDY:
        match = pattern.match(folded)
        if match:
            parts = dict(zip(names, match.groups()))
            break
    else:
        pieces = [p for p in _SEPARATORS.split(_WORDS.sub(" ", folded).strip()) if p]
        unknown = re.compile(_UNKNOWN)
        if (
            not pieces
            or not all(p.isdigit() or unknown.fullmatch(p) for p in pieces)
            or not pieces[-1 if len(pieces[0]) != 4 else 0].isdigit()
        ):
            return ParsedDate(flags=[("invalid_value", f"“{text}” không phải là ngày tháng.")])
        if len(pieces) == 1 and pieces[0].isdigit() and len(pieces[0]) == 5 and not lunar_date:
            return _from_serial(int(pieces[0]))
        if len(pieces[0]) == 4 and len(pieces) == 3:  # 1968-05-12
            pieces = pieces[::-1]
        names = {1: ("y",), 2: ("m", "y"), 3: ("d", "m", "y")}.get(len(pieces))
        # A lone or month-and-year number needs four digits: "12/05" is more likely a day without its year.
        if names is None or (len(names) < 3 and len(pieces[-1]) != 4):
            return ParsedDate(flags=[("invalid_value", f"“{text}” không phải là ngày tháng.")])
        parts = dict(zip(names, pieces))
    return _build(
        parts.get("d"),
        parts.get("m"),
        parts["y"],
        lunar_date=lunar_date,
        leap=leap,
        written=text,
        reference_year=reference_year,
        years_before=years_before,
        today=today,
    )
