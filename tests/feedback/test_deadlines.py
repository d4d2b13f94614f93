"""Deadlines in working days on the province calendar: Tết 2025, the
30/4–1/5/2025 holidays with the province's make-up Saturday 26/4, receipt
after 15:00, the pause while waiting for the citizen, refusal timeliness,
and on-time / late at resolution."""

import pytest

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import CalendarDay
from chinhquyenso.feedback import selectors, services
from tests.conftest import vn

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_up_day(db):
    CalendarDay.objects.create(date="2025-04-26", kind=CalendarDay.Kind.WORKING, note="Làm bù cho thứ Sáu 02/5/2025")


def test_across_tet_2025(report):
    # Friday 24/1/2025 10:00; Tết: 27/1–1/2 off → 15 working days: 3/2 … 21/2
    fb = report(at=vn(2025, 1, 24, 10))
    assert fb.due_at == vn(2025, 2, 21, 17)


def test_received_after_15_00_counts_from_the_next_working_day(report):
    # Friday 24/1/2025 15:30 → starts Monday 3/2 (after Tết) → 15 working days: Monday 24/2
    assert report(at=vn(2025, 1, 24, 15, 30)).due_at == vn(2025, 2, 24, 17)
    # on a Sunday → starts Monday
    assert report(at=vn(2025, 3, 2, 10), description="Khác").due_at == vn(2025, 3, 24, 17)


def test_across_30_4_with_the_province_make_up_day(report, make_up_day):
    # Thursday 24/4/2025 16:00 → starts Friday 25/4; Saturday 26/4 is a working day;
    # 30/4, 1/5, 2/5 off: 26/4, 28/4, 29/4, 5/5 … 9/5, 12/5 … 16/5, 19/5, 20/5 → Tuesday 20/5
    assert report(at=vn(2025, 4, 24, 16)).due_at == vn(2025, 5, 20, 17)


def test_without_the_make_up_day_it_is_one_day_later(report):
    assert report(at=vn(2025, 4, 24, 16)).due_at == vn(2025, 5, 21, 17)


def test_the_clock_stops_while_waiting_for_the_citizen(report, officers, citizen, make_up_day):
    a = officers["xa_a"]
    # Monday 21/4/2025 09:00 → due 15 working days later: 22–26/4 (5), 28–29/4 (7), 5–9/5 (12), 12–14/5 → 14/5
    fb = report(at=vn(2025, 4, 21, 9))
    assert fb.due_at == vn(2025, 5, 14, 17)
    # asked on Tuesday 22/4: 14 working days left (23, 24, 25, 26, 28, 29/4, 5–9/5, 12–14/5)
    services.request_info(fb, actor=a["specialist"], question="Xin số nhà gần nhất?", at=vn(2025, 4, 22, 10))
    assert fb.paused_remaining_days == 14 and selectors.time_left(fb) is None
    assert selectors.open_state(fb) == "paused"
    # answered Tuesday 6/5 16:30 (after 15:00): counting restarts Wednesday 7/5 with 14 days → Tuesday 27/5
    services.provide_info(fb, text="Gần số 45.", actor=citizen, at=vn(2025, 5, 6, 16, 30))
    assert fb.due_at == vn(2025, 5, 27, 17) and fb.paused_at is None
    # standing still: 23, 24, 25, 26, 28, 29/4, 5, 6, 7/5 = 9 working days
    assert fb.paused_working_days == 9
    services.resolve(fb, actor=a["specialist"], public_reply="Đã xử lý.", at=vn(2025, 5, 27, 16))
    assert fb.on_time is True
    # 21/4 → 27/5 is 24 working days, 9 of them paused
    assert fb.handling_working_days == 15


def test_information_may_be_requested_only_within_five_working_days(report, officers):
    a = officers["xa_a"]
    fb = report(at=vn(2025, 1, 23, 9))  # Thursday; window: 24/1, 3/2, 4/2, 5/2, 6/2 (Tết between)
    with pytest.raises(DomainError) as error:
        services.request_info(fb, actor=a["specialist"], question="?", at=vn(2025, 2, 7, 8))
    assert "5 ngày làm việc" in error.value.message and "06/02/2025" in error.value.message
    services.request_info(fb, actor=a["specialist"], question="Vị trí cụ thể?", at=vn(2025, 2, 6, 16))


def test_resolution_on_the_due_date_is_on_time_the_next_day_late(report, officers):
    a = officers["xa_a"]
    on_due_day = report(at=vn(2025, 1, 24, 10))
    services.resolve(on_due_day, actor=a["specialist"], public_reply="Xong.", at=vn(2025, 2, 21, 20))
    assert on_due_day.on_time is True
    late = report(at=vn(2025, 1, 24, 10), description="Nội dung khác")
    services.resolve(late, actor=a["specialist"], public_reply="Xong.", at=vn(2025, 2, 24, 8))
    assert late.on_time is False and late.handling_working_days == 16


def test_refusal_window_counts_working_days_from_when_the_agency_got_it(report, officers, ioc_operator):
    a = officers["xa_a"]
    # received Friday 24/1/2025 10:00: 2 working days are Monday 3/2 and Tuesday 4/2 (Tết between)
    fb = report(at=vn(2025, 1, 24, 10))
    services.reject(fb, actor=a["leader"], reason="Không thuộc phạm vi.", at=vn(2025, 2, 4, 16))
    assert fb.refusal_on_time is True
    # reassigned on Monday 3/2 to Kiến Thành: its 2 days run to Wednesday 5/2
    other = report(at=vn(2025, 1, 24, 10), description="Nội dung khác")
    services.assign(other, actor=ioc_operator, agency_code="xa-kien-thanh", at=vn(2025, 2, 3, 9))
    services.reject(other, actor=officers["xa_b"]["specialist"], reason="Không thuộc phạm vi.", at=vn(2025, 2, 5, 9))
    assert other.refusal_on_time is True
    third = report(at=vn(2025, 1, 24, 10), description="Nội dung thứ ba")
    services.reject(third, actor=a["specialist"], reason="Không thuộc phạm vi.", at=vn(2025, 2, 5, 9))
    assert third.refusal_on_time is False


def test_time_left_in_working_days(report):
    fb = report(at=vn(2025, 1, 24, 10))  # due 21/2
    assert selectors.time_left(fb, now=vn(2025, 2, 19, 9)) == 2
    assert selectors.time_left(fb, now=vn(2025, 2, 25, 9)) == -2
    assert selectors.open_state(fb, now=vn(2025, 2, 21, 18)) == "overdue"
