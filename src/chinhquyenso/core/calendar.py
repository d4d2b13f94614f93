"""The province's working-day calendar.

National holidays (lunar Tết, Giỗ Tổ Hùng Vương…) come from the `holidays`
package; the province adds make-up working days (làm bù) and extra days off in
the `CalendarDay` table. Deadlines are counted in working days:

* a dossier received on a working day before the receipt cutoff (15:00) starts
  counting that day, otherwise on the next working day (the *start day*);
* the start day itself is not counted: a 3-day procedure started on Monday is
  due on Thursday;
* a dossier is due at the office closing time of its due date.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _clock(name: str) -> dt.time:
    hours, minutes = settings.CQS[name].split(":")
    return dt.time(int(hours), int(minutes))


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("VN", years=[year]).keys())


class WorkingCalendar:
    """Answers "is this a working day?" for a window of dates.

    Province overrides are read from the database once per window, so a bulk
    job (demo generation, import) can reuse one calendar for thousands of
    dossiers; a request builds one for the handful of dates it needs.
    """

    def __init__(self, overrides: dict[dt.date, bool] | None = None):
        self.overrides = overrides or {}

    @classmethod
    def load(cls, start: dt.date | None = None, end: dt.date | None = None) -> WorkingCalendar:
        from chinhquyenso.core.models import CalendarDay

        days = CalendarDay.objects.all()
        if start:
            days = days.filter(date__gte=start)
        if end:
            days = days.filter(date__lte=end)
        return cls({day.date: day.kind == CalendarDay.Kind.WORKING for day in days})

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return day.weekday() < 5 and day not in _national_holidays(day.year)

    def next_working_day(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The date `count` working days after `day` (`day` itself not counted)."""
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in the half-open interval (start, end]."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def start_day(self, received_at: dt.datetime) -> dt.date:
        """The day counting starts for something received at `received_at`."""
        local = received_at.astimezone(LOCAL_TZ)
        if self.is_working_day(local.date()) and local.time() < _clock("RECEIPT_CUTOFF"):
            return local.date()
        return self.next_working_day(local.date())

    def due_at(self, received_at: dt.datetime, working_days: int) -> dt.datetime:
        """Appointment for returning a result: office closing time of the due date."""
        return closing_time(self.add_working_days(self.start_day(received_at), working_days))


def closing_time(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, _clock("OFFICE_CLOSES"), tzinfo=LOCAL_TZ)


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LOCAL_TZ).date()


def calendar_for(*moments: dt.datetime | dt.date, days_after: int = 400) -> WorkingCalendar:
    """A calendar covering the given moments and `days_after` days beyond them."""
    dates = [m.astimezone(LOCAL_TZ).date() if isinstance(m, dt.datetime) else m for m in moments]
    return WorkingCalendar.load(min(dates) - dt.timedelta(days=7), max(dates) + dt.timedelta(days=days_after))
