"""The linkage frame: one row per source record, with the features the Splink comparisons compare
(persons.linkage.comparisons) computed once here, so that the comparisons stay plain equalities and
edit distances that run the same on DuckDB and on Spark.

Input: dicts with the keys unique_id, full_name, sex, birth_year, birth_month, birth_day, id_number,
insurance_number, phone, commune_id (the commune's current successor, resolved by the caller) and
address; a missing key is an empty value. Values are normalised again here (the functions are
idempotent) and a value that cannot be read becomes empty rather than failing the whole run.

Missing values are None (SQL NULL), never "" — Splink's null levels and the blocking joins rely on it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import pandas as pd

from chinhquyenso.civil_records.lunar import to_solar
from chinhquyenso.persons import normalize

FRAME_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "name",  # the folded full name without a particle: "nguyen thi thuy"
    "name_sorted",  # its syllables sorted: the same for "Nguyễn Văn An" and "An Nguyễn Văn"
    "particle",  # Khmer particle (chau, neang…) or None
    "family",  # folded family name
    "middle",  # folded middle name(s), None when there is none
    "middle_core",  # the middle name without the common ones (Văn, Thị: names.json), None when nothing is left
    "given",  # folded given name (the last syllable)
    "given_accent",  # given name with vowel marks and the tone as a digit (tone placement unified): "thuy1"
    "sex",  # "nam" / "nu" / None
    "birth_year",
    "birth_month",
    "birth_day",
    "birth_date",  # "yyyy-mm-dd" when the full date is known
    "birth_ym",  # "yyyy-mm" when at least the month is known
    "birth_swapped",  # the full date with day and month swapped, when that is a real, different date
    "birth_lunar",  # the solar date the written date stands for if it was written as a lunar date
    "id_number",  # 9 or 12 digits; None when missing, or a 12-digit ID that cannot be this person's (id_agrees)
    "id_kind",  # "cmnd" (9 digits) / "cccd" (12) / None
    "id_conflict",  # True when the record carried a 12-digit ID that disagrees with its sex/birth year
    "phone",  # 10-digit current format (11 for landlines)
    "insurance",  # the 10-digit social-insurance code of the health-insurance card
    "commune_id",  # current commune (successor of a merged one)
)

_INT_COLUMNS = ("birth_year", "birth_month", "birth_day", "commune_id")


@functools.lru_cache(maxsize=500_000)
def _name_features(full_name: str) -> tuple:
    parts = normalize.split_name(full_name)
    syllables = [s for s in (parts.family, parts.middle, parts.given) if s]
    name = " ".join(syllables)
    middle_words = parts.middle.split()
    common = normalize.data("names")["common_middle_names"]
    core = " ".join(w for w in middle_words if w not in common)
    accent_words = normalize.accent_key(full_name).split()
    given_accent = accent_words[-1] if accent_words and parts.given else ""
    return (
        name or None,
        " ".join(sorted(name.split())) or None,
        parts.particle or None,
        parts.family or None,
        parts.middle or None,
        core or None,
        parts.given or None,
        given_accent or None,
    )


@functools.lru_cache(maxsize=200_000)
def _date_features(year: int | None, month: int | None, day: int | None) -> tuple:
    """(birth_date, birth_ym, birth_swapped, birth_lunar) of a (validated) birth."""
    if year is None:
        return None, None, None, None
    if month is None:
        return None, None, None, None
    ym = f"{year:04d}-{month:02d}"
    if day is None:
        return None, ym, None, None
    date = f"{ym}-{day:02d}"
    swapped = f"{year:04d}-{day:02d}-{month:02d}" if day <= 12 and day != month else None
    solar = to_solar(day, month, year)
    lunar = solar.isoformat() if solar is not None else None
    return date, ym, swapped, lunar


def _int(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number


def _birth(record: dict, today: dt.date) -> tuple[int | None, int | None, int | None]:
    year, month, day = _int(record.get("birth_year")), _int(record.get("birth_month")), _int(record.get("birth_day"))
    if year is None:
        return None, None, None
    return _checked_birth(year, month, day if month else None, today)


@functools.lru_cache(maxsize=200_000)
def _checked_birth(year: int, month: int | None, day: int | None, today: dt.date) -> tuple:
    try:
        birth = normalize.check_birth(year, month, day, today)
    except ValueError:
        # An impossible day (31/02) keeps the month and year; an impossible year is no date at all.
        try:
            birth = normalize.check_birth(year, month, None, today)
        except ValueError:
            return None, None, None
    return birth.year, birth.month, birth.day


@functools.lru_cache(maxsize=64)
def _sex(value) -> str:
    try:
        return normalize.normalize_sex(value)
    except ValueError:
        return ""


def _safe(function, value) -> str:
    try:
        return function(value)
    except ValueError:
        return ""


def _id(record: dict, sex: str, year: int | None) -> tuple[str | None, str | None, bool]:
    number = _safe(normalize.normalize_id, record.get("id_number"))
    if not number:
        return None, None, False
    if len(number) == 9:
        return number, "cmnd", False
    if _id_disowned(number[:6], sex, year):
        return None, "cccd", True
    return number, "cccd", False


@functools.lru_cache(maxsize=100_000)
def _id_disowned(head: str, sex: str, year: int | None) -> bool:
    """Whether a 12-digit ID starting with `head` (province, century/sex, year digits) cannot be the
    record's own; a birth year off by one (a lunar year, a typo) is not enough to disown it."""
    number = head + "000000"
    if normalize.id_agrees(number, sex, year) is not False:
        return False
    if year is None:
        return True
    return not (normalize.id_agrees(number, sex, year - 1) or normalize.id_agrees(number, sex, year + 1))


def _row(record: dict, today: dt.date) -> tuple:
    sex = record.get("sex")
    sex = _sex(sex) if sex is None or isinstance(sex, str | int) else _safe(normalize.normalize_sex, sex)
    year, month, day = _birth(record, today)
    id_number, id_kind, id_conflict = _id(record, sex, year)
    return (
        record.get("unique_id"),
        *_name_features(str(record.get("full_name") or "")),
        sex or None,
        year,
        month,
        day,
        *_date_features(year, month, day),
        id_number,
        id_kind,
        id_conflict,
        _safe(normalize.normalize_phone, record.get("phone")) or None,
        _safe(normalize.insurance_code, record.get("insurance_number")) or None,
        _int(record.get("commune_id")),
    )


def frame_row(record: dict) -> dict:
    """One source record → one row of the linkage frame (FRAME_COLUMNS)."""
    return dict(zip(FRAME_COLUMNS, _row(record, dt.date.today()), strict=True))


def build_frame(records: Iterable[dict]) -> pd.DataFrame:
    """The linkage frame of many records (FRAME_COLUMNS, one row each). Integer columns are pandas'
    nullable Int64; text columns hold None where empty."""
    today = dt.date.today()
    rows = [_row(record, today) for record in records]
    frame = pd.DataFrame.from_records(rows, columns=list(FRAME_COLUMNS))
    for column in _INT_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    frame["id_conflict"] = frame["id_conflict"].astype(bool)
    return frame
