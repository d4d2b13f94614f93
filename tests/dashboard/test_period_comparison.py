"""Period comparisons compare like with like: by default the last complete
quarter against the one before; an unfinished period against the same number
of elapsed working days at the start of the previous one, said in the label
— never a part of a quarter against a whole quarter (the "▼ −26,3% kém hơn"
of 6 December)."""

import datetime as dt

import pytest

from chinhquyenso.core.calendar import WorkingCalendar
from chinhquyenso.dashboard import selectors
from chinhquyenso.indicators.periods import parse_period
from tests.dashboard.conftest import signed_in
from tests.dashboard.test_pages import text_of, tile

pytestmark = pytest.mark.django_db
SIXTH_OF_DECEMBER = dt.date(2026, 12, 6)


def test_on_6_december_the_default_is_the_last_complete_quarter():
    assert selectors.default_period(SIXTH_OF_DECEMBER).code == "2026-Q3"
    comparison = selectors.comparison_for(parse_period("2026-Q3"), SIXTH_OF_DECEMBER)
    assert not comparison.partial and comparison.period.code == "2026-Q2" and comparison.label == "quý II năm 2026"


def test_on_6_december_the_current_quarter_is_compared_with_as_many_working_days():
    comparison = selectors.comparison_for(parse_period("2026-Q4"), SIXTH_OF_DECEMBER)
    calendar = WorkingCalendar.load()
    elapsed = calendar.working_days_between(dt.date(2026, 9, 30), SIXTH_OF_DECEMBER)
    assert comparison.partial and comparison.elapsed == elapsed
    assert comparison.label == f"cùng {elapsed} ngày làm việc đầu quý III năm 2026"
    # Not the whole of quarter III: its first `elapsed` working days (and the days off after them, as today is a
    # Sunday).
    assert comparison.period.start == dt.date(2026, 7, 1) and comparison.period.end < dt.date(2026, 9, 30)
    assert calendar.working_days_between(dt.date(2026, 6, 30), comparison.period.end) == elapsed
    assert calendar.is_working_day(comparison.period.end + dt.timedelta(days=1))  # days off after it included


def test_the_page_says_what_it_compares_with(dataset, admin_user, monkeypatch):
    # 20 January 2025: 13 working days of quarter I have elapsed; quarter IV's first 13 end on 17 October.
    monkeypatch.setattr(selectors, "today", lambda: dt.date(2025, 1, 20))
    page = signed_in(admin_user).get("/dieu-hanh/", {"ky": "2025-Q1"})
    text = text_of(page)
    assert "so sánh với cùng 13 ngày làm việc đầu quý IV năm 2024 (từ 01/10/2024 đến 17/10/2024)" in text
    assert "kỳ chưa kết thúc: đến ngày 20/01/2025" in text
    # Quarter IV's first 13 working days received one dossier (P1), not the quarter's two.
    assert tile(page, "received").endswith("13 ngày làm việc đầu kỳ trước: 1 hồ sơ")
    assert "Kỳ trước: 2 hồ sơ" not in text


def test_a_complete_period_is_compared_with_the_whole_previous_one(dataset, admin_user):
    page = signed_in(admin_user).get("/dieu-hanh/", {"ky": "2025-Q1"})
    assert "so sánh với quý IV năm 2024." in text_of(page)
    assert tile(page, "received").endswith("Kỳ trước: 2 hồ sơ")
    data = signed_in(admin_user).get("/api/dashboard/tiles", {"period": "2025-Q1"}).json()
    assert data["previous_period"]["code"] == "2024-Q4"


def test_the_api_says_what_it_compares_with(dataset, admin_user, monkeypatch):
    monkeypatch.setattr(selectors, "today", lambda: dt.date(2025, 1, 20))
    data = signed_in(admin_user).get("/api/dashboard/tiles", {"period": "2025-Q1"}).json()
    assert data["comparison"] == {"label": "cùng 13 ngày làm việc đầu quý IV năm 2024", "elapsed_working_days": 13}
    assert (data["previous_period"]["start"], data["previous_period"]["end"]) == ("2024-10-01", "2024-10-17")


def test_on_6_december_the_page_never_sets_a_part_against_a_whole(dataset, admin_user, monkeypatch):
    monkeypatch.setattr(selectors, "today", lambda: SIXTH_OF_DECEMBER)
    client = signed_in(admin_user)
    assert "Số liệu quý III năm 2026; so sánh với quý II năm 2026." in text_of(client.get("/dieu-hanh/"))
    elapsed = WorkingCalendar.load().working_days_between(dt.date(2026, 9, 30), SIXTH_OF_DECEMBER)
    text = text_of(client.get("/dieu-hanh/", {"ky": "2026-Q4"}))
    assert f"so sánh với cùng {elapsed} ngày làm việc đầu quý III năm 2026" in text
    assert "so sánh với quý III năm 2026" not in text and "kém hơn" not in text
    assert "Kỳ chưa kết thúc nên so với cùng số ngày làm việc đầu kỳ trước, không so với cả kỳ." in text
