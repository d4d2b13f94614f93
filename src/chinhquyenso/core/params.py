"""Input from outside — query strings, forms, JSON bodies — turned into bounded values.

Every page, API operation and Open311 call reads numbers, pages, dates,
decimals and JSON through this module, so the limits are the same everywhere
and a value the database or the calendar cannot hold is refused with a
Vietnamese DomainError naming the field, never a 500:

- integers: ASCII digits only ("²" and "٣" pass str.isdigit() but are not
  numbers a person typed), inside [minimum, maximum], by default the range of
  a database integer;
- offsets and pages: at most MAX_OFFSET rows skipped (an OFFSET beyond it
  costs a scan of every skipped row and says nothing a narrower filter would
  not say better); pagination stays offset-based;
- dates: EARLIEST_DATE..LATEST_DATE, so date arithmetic (a period before, a
  day after, a 90-day window) never leaves Python's calendar;
- decimals and coordinates: finite (no NaN, no infinity, no 1E+999999999);
  points inside bounds the caller reads from its data;
- JSON: finite numbers, bounded depth and size, no unstorable characters.

The API's schemas use the same bounds (`Offset`, `Limit`, `RecordId`,
`BoundedDate`, `JsonObject`) so the published OpenAPI says what is accepted.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import UNSTORABLE_MESSAGE, unstorable_field

MAX_INTEGER = 2**31 - 1  # PostgreSQL's integer, the type of every id and count column
MAX_OFFSET = 10_000  # rows a list may skip; beyond it, filter instead of paging
EARLIEST_DATE = dt.date(1900, 1, 1)  # older civil-status records are dated from 1900 on
LATEST_DATE = dt.date(2199, 12, 31)
JSON_MAX_DEPTH = 32  # any JSON body
JSON_MAX_BYTES = 64 * 1024  # one free-form JSON field (form_data)
FIELD_MAX_DEPTH = 8


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


def integer(
    raw: Any, field: str, *, default: int | None = None, minimum: int = 0, maximum: int = MAX_INTEGER
) -> int | None:
    """A whole number written in ASCII digits (a leading minus only where
    `minimum` is negative); empty gives `default`."""
    text = _text(raw)
    if not text:
        return default
    digits = text[1:] if text[0] == "-" and minimum < 0 else text
    if not (digits.isascii() and digits.isdigit()):
        raise DomainError(f"Trường “{field}” phải là số nguyên (chữ số 0–9).", field)
    # Thousands of digits would be slow to convert (and Python refuses past 4300): too large anyway.
    if len(digits) > 18 or not minimum <= int(text) <= maximum:
        raise DomainError(f"Trường “{field}” phải từ {minimum} đến {maximum}.", field)
    return int(text)


def integer_or_none(raw: Any, *, minimum: int = 0, maximum: int = MAX_INTEGER) -> int | None:
    """integer() for a form that reports its own errors: None when empty or not such a number."""
    try:
        return integer(raw, "", minimum=minimum, maximum=maximum)
    except DomainError:
        return None


def offset(raw: Any, field: str = "offset") -> int:
    """Rows to skip: 0..MAX_OFFSET."""
    return integer(raw, field, default=0, maximum=MAX_OFFSET)


def page(raw: Any, field: str, *, size: int) -> int:
    """A page number from 1, no further than MAX_OFFSET rows in."""
    return integer(raw, field, default=1, minimum=1, maximum=MAX_OFFSET // size + 1)


def check_date(value: dt.date, field: str) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise DomainError(f"Trường “{field}”: ngày phải từ {EARLIEST_DATE:%d/%m/%Y} đến {LATEST_DATE:%d/%m/%Y}.", field)
    return value


def date(raw: Any, field: str, *, default: dt.date | None = None) -> dt.date | None:
    """YYYY-MM-DD inside EARLIEST_DATE..LATEST_DATE; empty gives `default`."""
    text = _text(raw)
    if not text:
        return default
    try:
        if not text.isascii() or len(text) != 10:
            raise ValueError
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise DomainError(f"Trường “{field}”: ngày ghi theo dạng YYYY-MM-DD, ví dụ 2025-03-10.", field) from None
    return check_date(value, field)


def check_moment(value: dt.datetime, field: str) -> dt.datetime:
    """A date and time whose day is inside the supported range."""
    check_date(value.date(), field)
    return value


def decimal(
    raw: Any, field: str, *, minimum: Decimal | int | None = None, maximum: Decimal | int | None = None
) -> Decimal | None:
    """A finite decimal ("10.386" or "10,386"), inside [minimum, maximum] when given; empty gives None."""
    text = _text(raw).replace(",", ".")
    if not text:
        return None
    try:
        if not text.isascii() or len(text) > 40:
            raise InvalidOperation
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"Trường “{field}” phải là số thập phân, ví dụ 10.386.", field) from None
    if not value.is_finite():
        raise DomainError(f"Trường “{field}” phải là số hữu hạn.", field)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise DomainError(f"Trường “{field}” phải từ {minimum} đến {maximum}.", field)
    return value


def point(
    latitude: Decimal, longitude: Decimal, bounds: tuple[float, float, float, float], fields=("latitude", "longitude")
) -> tuple[Decimal, Decimal]:
    """A map point inside `bounds` (south, north, west, east) — the caller
    reads them from its data (the communes' extent, a setting); (0, 0, 0, 0)
    means no bounds known yet and checks only the globe."""
    south, north, west, east = bounds
    for value, field, bound in ((latitude, fields[0], 90), (longitude, fields[1], 180)):
        if not -bound <= value <= bound:
            raise DomainError(f"Tọa độ nằm ngoài khoảng cho phép (±{bound}).", field)
    if (south, north, west, east) != (0, 0, 0, 0):
        inside_lat, inside_lon = south <= latitude <= north, west <= longitude <= east
        if not (inside_lat and inside_lon):
            raise DomainError(
                "Vị trí nằm ngoài địa bàn tỉnh; hãy chọn lại điểm trên bản đồ.",
                fields[0] if not inside_lat else fields[1],
            )
    return latitude, longitude


# ---------------------------------------------------------------- JSON


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1E+999999999 parses as infinity
        raise ValueError("number out of range")
    return value


def _depth(value: Any) -> int:
    """Nesting depth, walked without recursion (a hostile value may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads(body: bytes | str, field: str = "body", *, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """JSON text → value: numbers finite (no NaN, Infinity or overflow to
    infinity), at most `max_depth` levels; a DomainError otherwise."""
    try:
        # The C decoder guards its recursion: 100 000 "[" end in a RecursionError, not a crash.
        value = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise DomainError("Nội dung gửi lên không phải JSON hợp lệ (số phải hữu hạn, không NaN).", field) from None
    if _depth(value) > max_depth:
        raise DomainError(f"Trường “{field}”: JSON lồng quá {max_depth} cấp.", field)
    return value


def json_value(value: Any, field: str, *, max_depth: int = FIELD_MAX_DEPTH, max_bytes: int = JSON_MAX_BYTES) -> Any:
    """A JSON value already parsed (a form's data): finite numbers, at most
    `max_depth` levels and `max_bytes` as UTF-8 JSON, no unstorable characters."""
    if _depth(value) > max_depth:
        raise DomainError(f"Trường “{field}”: JSON lồng quá {max_depth} cấp.", field)
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False).encode())
    except ValueError:
        raise DomainError(f"Trường “{field}”: số phải hữu hạn (không NaN, không vô cực).", field) from None
    if size > max_bytes:
        raise DomainError(f"Trường “{field}” dài quá {max_bytes // 1024} KB.", field)
    inner = unstorable_field(value)
    if inner is not None:
        raise DomainError(f"{UNSTORABLE_MESSAGE} Trường “{field}.{inner}”.", f"{field}.{inner}")
    return value


# ---------------------------------------------------------------- types for the API's schemas

RecordId = Annotated[int, Field(ge=1, le=MAX_INTEGER)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description=f"số dòng bỏ qua, tối đa {MAX_OFFSET}")]
Amount = Annotated[int, Field(ge=0, le=MAX_INTEGER)]
BoundedDate = Annotated[
    dt.date,
    Field(ge=EARLIEST_DATE, le=LATEST_DATE, description=f"YYYY-MM-DD, từ {EARLIEST_DATE} đến {LATEST_DATE}"),
]


def Limit(maximum: int):  # noqa: N802 — reads as a type in signatures
    return Annotated[int, Field(ge=1, le=maximum, description=f"số dòng tối đa, 1–{maximum}")]


def JsonObject(field: str):  # noqa: N802
    """A free-form JSON object field, checked by json_value."""
    return Annotated[
        dict,
        AfterValidator(lambda value: json_value(value, field)),
        Field(description=f"đối tượng JSON, tối đa {FIELD_MAX_DEPTH} cấp và {JSON_MAX_BYTES // 1024} KB"),
    ]
