import datetime as dt

import pytest

from chinhquyenso.core.calendar import WorkingCalendar, local_date
from chinhquyenso.core.models import CalendarDay
from tests.conftest import vn

pytestmark = pytest.mark.django_db


def due_date(received, days):
    return local_date(WorkingCalendar.load().due_at(received, days))


def test_weekend_is_skipped():
    # Friday 10:00, 1 working day → Monday
    assert due_date(vn(2024, 3, 15, 10), 1) == dt.date(2024, 3, 18)


def test_received_before_cutoff_counts_from_that_day():
    assert due_date(vn(2024, 3, 12, 14, 59), 3) == dt.date(2024, 3, 15)


def test_received_after_cutoff_starts_next_working_day():
    assert due_date(vn(2024, 3, 12, 15, 0), 3) == dt.date(2024, 3, 18)
    assert due_date(vn(2024, 3, 15, 16, 30), 1) == dt.date(2024, 3, 19)  # Friday late → start Monday


def test_lunar_new_year_2025_is_skipped():
    # Tết Ất Tỵ: the national calendar gives 27/1–1/2/2025 off.
    assert due_date(vn(2025, 1, 24, 9), 3) == dt.date(2025, 2, 5)
    assert due_date(vn(2025, 1, 24, 16), 3) == dt.date(2025, 2, 6)


def test_hung_kings_day_is_skipped():
    # Giỗ Tổ Hùng Vương 10/3 âm lịch = Monday 7/4/2025
    assert due_date(vn(2025, 4, 4, 9), 1) == dt.date(2025, 4, 8)


def test_province_make_up_working_day_counts():
    CalendarDay.objects.create(date=dt.date(2025, 4, 26), kind=CalendarDay.Kind.WORKING, note="Làm bù cho 02/5/2025")
    assert due_date(vn(2025, 4, 25, 9), 1) == dt.date(2025, 4, 26)


def test_province_extra_day_off_is_skipped():
    CalendarDay.objects.create(date=dt.date(2024, 3, 13), kind=CalendarDay.Kind.DAY_OFF, note="Nghỉ thêm")
    assert due_date(vn(2024, 3, 12, 9), 1) == dt.date(2024, 3, 14)


def test_receipt_on_a_holiday_starts_after_it():
    assert due_date(vn(2025, 1, 29, 9), 0) == dt.date(2025, 2, 3)


def test_working_days_between_counts_half_open_interval():
    calendar = WorkingCalendar()
    assert calendar.working_days_between(dt.date(2024, 3, 15), dt.date(2024, 3, 18)) == 1
    assert calendar.working_days_between(dt.date(2024, 3, 18), dt.date(2024, 3, 18)) == 0
