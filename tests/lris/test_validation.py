"""Reading numbers the Vietnamese way and checking values against the
indicator's type and bounds (no database for the parsing)."""

from decimal import Decimal

import pytest

from chinhquyenso.lris.validation import Clean, _Bad, display, parse_boolean, parse_number


@pytest.mark.parametrize(
    "text, expected",
    [
        ("71,29", "71.29"),
        ("2.164.505", "2164505"),
        ("2164505", "2164505"),
        ("1.500", "1500"),
        ("71.29", "71.29"),
        ("0.500", "0.5"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("2 164 505", "2164505"),
        ("97,69%", "97.69"),
        ("-3", "-3"),
        ("1,234,567", "1234567"),
        (" 40 ", "40"),
        (12, "12"),
        (71.29, "71.29"),
    ],
)
def test_numbers_are_read_the_vietnamese_way(text, expected):
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["abc", "1.2.3", "1,2,3", "12a", "", "1..2", "١٢", "1e5", "nan", True, "1,23456"])
def test_what_is_not_a_number_is_refused(text):
    with pytest.raises(_Bad):
        parse_number(text)


def test_too_many_decimals_and_too_large_are_refused():
    with pytest.raises(_Bad, match="4 chữ số"):
        parse_number("0,123456")
    with pytest.raises(_Bad, match="quá lớn"):
        parse_number("1" + "0" * 16)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Có", True),
        ("có", True),
        ("CO", True),
        ("x", True),
        (True, True),
        ("Không", False),
        ("khong", False),
        (0, False),
        ("0", False),
    ],
)
def test_yes_no(text, expected):
    assert parse_boolean(text) is expected


def test_yes_no_refuses_anything_else():
    with pytest.raises(_Bad, match="Có hoặc Không"):
        parse_boolean("chưa rõ")


def test_display_is_vietnamese(db):
    from chinhquyenso.indicators.models import Indicator

    count = Indicator(code="a", name="A", unit="thuê bao", value_type="integer")
    ratio = Indicator(code="b", name="B", unit="%", value_type="ratio", decimals=2)
    assert display(count, Clean(Decimal("2164505"))) == "2.164.505"
    assert display(ratio, Clean(Decimal("97.6563"), Decimal(1250), Decimal(1280))) == "1.250 / 1.280 (97,66%)"
    assert display(Indicator(code="c", name="C", value_type="boolean"), Clean(Decimal(1))) == "Có"
