"""core.params: the one place outside input becomes a bounded value."""

import datetime as dt
from decimal import Decimal

import pytest

from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError


def refused(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("raw", ["²", "٣", "1²", "12a", "-1", "1.5", " ", "+3", "9" * 5000])
def test_integers_are_ascii_digits_inside_bounds(raw):
    if raw.strip() == "":
        assert params.integer(raw, "tu", default=7) == 7
        return
    error = refused(params.integer, raw, "tu")
    assert error.field == "tu" and "“tu”" in error.message


def test_integer_bounds_and_defaults():
    assert params.integer(" 42 ", "n") == 42
    assert params.integer("-3", "n", minimum=-5) == -3
    assert params.integer(None, "n") is None
    assert "0 đến 2147483647" in refused(params.integer, "2147483648", "n").message
    assert refused(params.integer, "99999999999999999999", "n").field == "n"
    assert params.integer_or_none("²") is None and params.integer_or_none("12", maximum=10) is None


def test_offsets_and_pages_stop_at_the_documented_maximum():
    assert params.offset("") == 0 and params.offset(str(params.MAX_OFFSET)) == params.MAX_OFFSET
    refused(params.offset, str(params.MAX_OFFSET + 1))
    assert params.page("", "trang", size=50) == 1
    assert params.page(str(params.MAX_OFFSET // 50 + 1), "trang", size=50) == params.MAX_OFFSET // 50 + 1
    refused(params.page, str(params.MAX_OFFSET // 50 + 2), "trang", size=50)
    refused(params.page, "0", "trang", size=50)


@pytest.mark.parametrize("raw", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01", "2025-02-30", "31/12/2025"])
def test_dates_inside_the_supported_range(raw):
    assert refused(params.date, raw, "ngay").field == "ngay"


def test_dates_at_the_edges_are_accepted():
    assert params.date("1900-01-01", "d") == params.EARLIEST_DATE
    assert params.date("2199-12-31", "d") == params.LATEST_DATE
    assert params.date("", "d", default=dt.date(2025, 1, 1)) == dt.date(2025, 1, 1)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-inf", "1E+999999999", "sNaN", "abc", "１０"])
def test_decimals_are_finite(raw):
    if raw == "1E+999999999":  # finite for Decimal, refused by its bounds
        refused(params.decimal, raw, "lat", minimum=-90, maximum=90)
    else:
        refused(params.decimal, raw, "lat")


def test_points_inside_bounds_read_from_data():
    bounds = (10.2, 10.95, 104.8, 105.6)
    assert params.point(Decimal("10.48"), Decimal("105.48"), bounds) == (Decimal("10.48"), Decimal("105.48"))
    assert refused(params.point, Decimal("48.85"), Decimal("2.35"), bounds).field == "latitude"
    assert refused(params.point, Decimal("10.48"), Decimal("106"), bounds).field == "longitude"
    assert params.point(Decimal("48.85"), Decimal("2.35"), (0, 0, 0, 0))  # no bounds known: the globe
    assert "±90" in refused(params.point, Decimal("95"), Decimal("0"), (0, 0, 0, 0)).message


@pytest.mark.parametrize(
    "body", ['{"a": NaN}', '{"a": -Infinity}', '{"a": 1e999}', "[" * 100_000 + "]" * 100_000, "[" * 33 + "]" * 33]
)
def test_json_is_finite_and_shallow(body):
    assert refused(params.loads, body).field == "body"


def test_json_fields_are_bounded_in_depth_size_and_characters():
    assert params.loads(b'{"a": [1, 2.5, {"b": null}]}') == {"a": [1, 2.5, {"b": None}]}
    assert params.json_value({"a": {"b": 1}}, "form_data") == {"a": {"b": 1}}
    deep: dict = {}
    node = deep
    for _ in range(params.FIELD_MAX_DEPTH):
        node["x"] = node = {}
    assert "cấp" in refused(params.json_value, deep, "form_data").message
    assert "KB" in refused(params.json_value, {"x": "a" * (params.JSON_MAX_BYTES + 1)}, "form_data").message
    assert refused(params.json_value, {"x": float("nan")}, "form_data").field == "form_data"
    assert refused(params.json_value, {"ghi_chu": ["ok", "a\ufffeb"]}, "form_data").field == "form_data.ghi_chu.1"
