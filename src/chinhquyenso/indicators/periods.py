"""Reporting periods: month, quarter, 6 and 9 months, year, or any date range,
written the way reports name them ("quý III năm 2024")."""

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.params import EARLIEST_DATE, LATEST_DATE

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass(frozen=True)
class Period:
    kind: str  # a PeriodKind value
    start: dt.date
    end: dt.date  # inclusive

    @property
    def code(self) -> str:
        y = self.start.year
        return {
            "month": f"{y}-M{self.start.month:02d}",
            "quarter": f"{y}-Q{(self.start.month - 1) // 3 + 1}",
            "half_year": f"{y}-H{1 if self.start.month == 1 else 2}",
            "nine_months": f"{y}-9M",
            "year": f"{y}",
        }.get(self.kind, f"{self.start.isoformat()}..{self.end.isoformat()}")

    @property
    def label(self) -> str:
        y = self.start.year
        if self.kind == "month":
            return f"tháng {self.start.month} năm {y}"  # running text: "tháng 9", never "tháng 09"
        if self.kind == "quarter":
            return f"quý {ROMAN[(self.start.month - 1) // 3 + 1]} năm {y}"
        if self.kind == "half_year":
            return f"6 tháng {'đầu' if self.start.month == 1 else 'cuối'} năm {y}"
        if self.kind == "nine_months":
            return f"9 tháng đầu năm {y}"
        if self.kind == "year":
            return f"năm {y}"
        return f"từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of the same kind just before (the same length for ranges)."""
        if self.kind == "month":
            return month(*shift_month(self.start.year, self.start.month, -1))
        if self.kind == "quarter":
            y, m = shift_month(self.start.year, self.start.month, -3)
            return quarter(y, (m - 1) // 3 + 1)
        if self.kind in ("half_year", "nine_months", "year"):
            return parse_period(self.code.replace(str(self.start.year), str(self.start.year - 1), 1))
        return Period("range", self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def months(self) -> list["Period"]:
        out, (y, m) = [], (self.start.year, self.start.month)
        while dt.date(y, m, 1) <= self.end:
            out.append(month(y, m))
            y, m = shift_month(y, m, 1)
        return out


def shift_month(year: int, month_: int, by: int) -> tuple[int, int]:
    """(year, month) `by` months later (earlier when negative)."""
    index = year * 12 + (month_ - 1) + by
    return index // 12, index % 12 + 1


def _last_day(year: int, month_: int) -> dt.date:
    return dt.date(year, month_, calendar.monthrange(year, month_)[1])


def month(year: int, month_: int) -> Period:
    return Period("month", dt.date(year, month_, 1), _last_day(year, month_))


def quarter(year: int, q: int) -> Period:
    return Period("quarter", dt.date(year, 3 * q - 2, 1), _last_day(year, 3 * q))


PATTERNS = [
    (re.compile(r"^(\d{4})-M(\d{1,2})$"), lambda y, m: month(y, m)),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), lambda y, m: month(y, m)),
    (re.compile(r"^(\d{4})-Q([1-4])$"), lambda y, q: quarter(y, q)),
    (re.compile(r"^(\d{4})-H([12])$"), lambda y, h: Period("half_year", dt.date(y, 6 * h - 5, 1), _last_day(y, 6 * h))),
    (re.compile(r"^(\d{4})-9M$"), lambda y: Period("nine_months", dt.date(y, 1, 1), dt.date(y, 9, 30))),
    (re.compile(r"^(\d{4})$"), lambda y: Period("year", dt.date(y, 1, 1), dt.date(y, 12, 31))),
]


def parse_period(text: str) -> Period:
    """2024-M03 (or 2024-03), 2024-Q3, 2024-H1, 2024-9M, 2024, or
    2024-01-01..2024-09-30."""
    text = (text or "").strip().upper()
    try:
        for pattern, build in PATTERNS:
            if found := pattern.match(text):
                return _supported(build(*map(int, found.groups())))
        if ".." in text:
            first, last = (dt.date.fromisoformat(part.strip()) for part in text.split("..", 1))
            if last < first:
                raise DomainError("Kỳ báo cáo: ngày kết thúc trước ngày bắt đầu.", field="period")
            return _supported(Period("range", first, last))
    except ValueError:
        pass
    raise DomainError(
        f"Kỳ báo cáo «{text}» không hợp lệ: dùng 2024-M03, 2024-Q3, 2024-H1, 2024-9M, 2024 "
        "hoặc 2024-01-01..2024-09-30.",
        field="period",
    )


def _supported(period: Period) -> Period:
    """A period inside the supported dates (core.params), with room for the
    period before it and the year around it that reports and the dashboard compute:
    9999-Q4 or 0001-M01 would step out of the calendar."""
    if period.start.year <= EARLIEST_DATE.year or period.end.year >= LATEST_DATE.year:
        raise DomainError(
            f"Kỳ báo cáo phải nằm trong các năm {EARLIEST_DATE.year + 1}–{LATEST_DATE.year - 1}.", field="period"
        )
    return period


def period_of_dates(start: dt.date, end: dt.date) -> Period:
    """Name a date range by its kind when it is a whole month, quarter, … of one year."""
    for candidate in (
        f"{start.year}-M{start.month:02d}",
        f"{start.year}-Q{(start.month - 1) // 3 + 1}",
        f"{start.year}-H{1 if start.month <= 6 else 2}",
        f"{start.year}-9M",
        f"{start.year}",
    ):
        period = parse_period(candidate)
        if (period.start, period.end) == (start, end):
            return period
    return Period("range", start, end)
