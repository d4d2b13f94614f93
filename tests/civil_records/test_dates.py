"""Dates as historical registers write them (civil_records.dates, civil_records.lunar)."""

import datetime as dt

import pytest

from chinhquyenso.civil_records import dates, lunar

TODAY = dt.date(2026, 11, 24)


def parse(value, **kwargs):
    return dates.parse(value, today=TODAY, **kwargs)


def codes(parsed):
    return [code for code, _ in parsed.flags]


@pytest.mark.parametrize(
    "written, value",
    [
        ("12/05/1968", "1968-05-12"),
        ("12-5-1968", "1968-05-12"),
        ("12.05.1968", "1968-05-12"),
        ("1968-05-12", "1968-05-12"),
        ("ngày 12 tháng 5 năm 1968", "1968-05-12"),
        ("Ngày 12, tháng 05, năm 1968", "1968-05-12"),
        (dt.datetime(1968, 5, 12), "1968-05-12"),
        (dt.date(1968, 5, 12), "1968-05-12"),
    ],
)
def test_exact_dates_in_every_written_form(written, value):
    parsed = parse(written)
    assert (parsed.value, parsed.flags) == (value, [])
    assert parsed.exact == dt.date.fromisoformat(value)


def test_two_digit_year_is_read_in_the_register_century_and_flagged():
    parsed = parse("2/5/68")
    assert parsed.value == "1968-05-02" and codes(parsed) == ["two_digit_year"]
    assert "1968" in parsed.flags[0][1]
    # A 2005 register writing "05" means 2005, not 1905.
    assert parse("3/4/05", reference_year=2005).value == "2005-04-03"


@pytest.mark.parametrize(
    "written, value, start, end",
    [
        ("năm 1968", "1968", dt.date(1968, 1, 1), dt.date(1968, 12, 31)),
        ("1968", "1968", dt.date(1968, 1, 1), dt.date(1968, 12, 31)),
        (1968, "1968", dt.date(1968, 1, 1), dt.date(1968, 12, 31)),
        ("tháng 5/1968", "1968-05", dt.date(1968, 5, 1), dt.date(1968, 5, 31)),
        ("tháng 5 năm 1968", "1968-05", dt.date(1968, 5, 1), dt.date(1968, 5, 31)),
        ("5/1968", "1968-05", dt.date(1968, 5, 1), dt.date(1968, 5, 31)),
    ],
)
def test_partial_dates_keep_what_is_known_and_the_range_it_covers(written, value, start, end):
    parsed = parse(written)
    assert (parsed.value, parsed.start, parsed.end) == (value, start, end)
    assert codes(parsed) == ["partial_date"]
    assert parsed.exact is None


@pytest.mark.parametrize(
    "written, kept, reason",
    [
        ("29/02/1967", "1967-02", "không phải năm nhuận"),
        ("31/04/1968", "1968-04", "có 30 ngày"),
        ("30/02/1968", "1968-02", "có 29 ngày"),
        ("12/13/1968", "1968", "Tháng 13"),
    ],
)
def test_impossible_dates_are_accepted_with_a_flag_keeping_month_or_year(written, kept, reason):
    parsed = parse(written)
    assert parsed.value == kept
    assert codes(parsed) == ["impossible_date"]
    assert reason in parsed.flags[0][1]


def test_29_february_of_a_leap_year_is_a_real_date():
    assert parse("29/02/1968").value == "1968-02-29"


def test_excel_serial_numbers_including_the_nonexistent_29_february_1900():
    assert parse(24970).value == "1968-05-12"
    assert parse(24970.0).value == "1968-05-12"
    assert parse("24970").value == "1968-05-12"  # the serial exported to CSV
    assert parse(59).value == "1900-02-28"
    assert parse(61).value == "1900-03-01"
    excel_bug = parse(60)
    assert excel_bug.value == "1900-02" and codes(excel_bug) == ["impossible_date"]


@pytest.mark.parametrize(
    "written, solar",
    [
        ("ngày 1 tháng 1 năm 1968 âm lịch", "1968-01-29"),  # Tết Mậu Thân (30/01 in China's calendar)
        ("1/1/1985 (âm lịch)", "1985-01-21"),  # Tết Ất Sửu (20/02 in China's calendar)
        ("15/8/2024 ÂL", "2024-09-17"),  # Trung thu
        ("1/6 nhuận/2025 âm lịch", "2025-07-25"),  # the leap sixth month of 2025
        ("1/6/2025 âm lịch", "2025-06-25"),
    ],
)
def test_lunar_dates_are_converted_by_the_vietnamese_calendar(written, solar):
    parsed = parse(written)
    assert parsed.value == solar
    assert codes(parsed) == ["lunar_date"]
    assert "âm lịch" in parsed.flags[0][1].lower()


def test_lunar_day_that_does_not_exist_is_flagged_impossible():
    assert lunar.to_solar(30, 12, 2024) is None  # the twelfth month of Giáp Thìn has 29 days
    parsed = parse("30/12/2024 âm lịch")
    assert "impossible_date" in codes(parsed)
    assert lunar.to_solar(1, 5, 2025, leap=True) is None  # 2025 has no leap fifth month


def test_lunar_month_only_covers_that_lunar_month():
    parsed = parse("tháng 1 năm 1968 âm lịch")
    assert (parsed.start, parsed.end) == (dt.date(1968, 1, 29), dt.date(1968, 2, 27))
    assert codes(parsed) == ["lunar_date"]


def test_unreadable_parts_are_flagged_illegible_and_the_rest_kept():
    parsed = parse("?/5/1968")
    assert parsed.value == "1968-05" and codes(parsed) == ["illegible"]
    parsed = parse("xx/xx/1968")
    assert parsed.value == "1968" and codes(parsed) == ["illegible"]


@pytest.mark.parametrize("written", ["abc", "12/05", "1/2/3/4", "năm"])
def test_text_that_is_no_date_is_an_invalid_value_not_an_exception(written):
    parsed = parse(written)
    assert parsed.value == "" and codes(parsed) == ["invalid_value"]


def test_years_outside_history_are_invalid():
    assert codes(parse("12/05/2099")) == ["invalid_value"]
    assert codes(parse("12/05/1600")) == ["invalid_value"]
