"""Normalising the fields of a person record for linking: Vietnamese names, dates of birth, sex,
ID numbers, phone numbers and health-insurance numbers.

Pure functions, no database. What is specific to the province or the country (common middle names,
Khmer name particles, the 2018 mobile prefix change, the citizen-ID province codes, the spellings of
sex) is data in `persons/data/*.json`, read once.

Errors are `ValueError` with a Vietnamese message that names the field but never repeats the value
(the importer shows the value in its own column; messages may end up in logs).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@functools.cache
def data(name: str) -> dict:
    """One of the data files (names, phone_prefixes, id_codes), parsed once."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


# --- names -------------------------------------------------------------------------------------

# The five tone marks (sắc, huyền, hỏi, ngã, nặng) as combining characters after NFD, and the number
# each gets in an accent key. The vowel-shape marks (circumflex, breve, horn) are not tones.
_TONES = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
_VOWELS = frozenset("aeiouy")
_SPLIT = re.compile(r"[^\w]+|_", re.UNICODE)


def _unify_y(syllable: str) -> str:
    """The i/y spelling variants: a syllable-final "y" straight after a consonant (or after the "qu"
    onset) is written "i" — "lý"/"lí" → "li", "mỹ"/"mĩ" → "mi", "quý"/"quí" → "qui" — while "y" in a
    vowel group stays ("thuỳ", "huy", "tây"), and so does a lone "y". Works on folded syllables and
    on accent-stripped ones alike (only the last letters are looked at)."""
    if len(syllable) < 2 or syllable[-1] != "y":
        return syllable
    before = syllable[-2]
    if before not in _VOWELS or syllable == "quy":
        return syllable[:-1] + "i"
    return syllable


@functools.lru_cache(maxsize=200_000)
def _fold_syllable(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable.replace("đ", "d").replace("Đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _unify_y(bare)


@functools.lru_cache(maxsize=200_000)
def _accent_syllable(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable.lower())
    tone = ""
    kept = []
    for ch in decomposed:
        if ch in _TONES:
            tone = _TONES[ch]
        else:
            kept.append(ch)
    base = unicodedata.normalize("NFC", "".join(kept))
    return _unify_y(base) + tone


def _syllables(text) -> list[str]:
    if not text:
        return []
    text = unicodedata.normalize("NFC", str(text))
    return [part for part in _SPLIT.split(text) if part]


@functools.lru_cache(maxsize=500_000)
def fold_name(text: str) -> str:
    """A name as compared: NFC, lower case, no tone or vowel marks, đ→d, the i/y variants unified,
    punctuation (hyphens, dots) as spaces, whitespace collapsed.
    "Nguyễn Thị Thuý" and "NGUYEN THI THÚY" → "nguyen thi thuy"; "Lý" and "Lí" → "li"."""
    return " ".join(_fold_syllable(s) for s in _syllables(text))


@functools.lru_cache(maxsize=500_000)
def accent_key(text: str) -> str:
    """A name with its vowel marks and đ kept but each syllable's tone moved to a digit at its end, so
    that the old and new tone placements agree ("Hoà"/"Hòa" → "hoa2", "Thuý"/"Thúy" → "thuy1") while
    "Hùng" (hung2) and "Hưng" (hưng) stay apart. The i/y variants are unified as in `fold_name`."""
    return " ".join(_accent_syllable(s) for s in _syllables(text))


@dataclass(frozen=True)
class NameParts:
    """A full name split into its parts, all folded: family (họ), middle (tên đệm, possibly several
    syllables or empty), given (tên, the last syllable) and a Khmer particle (Chau, Néang…) written
    before the name, which is neither a family nor a given name."""

    family: str
    middle: str
    given: str
    particle: str = ""


@functools.lru_cache(maxsize=500_000)
def split_name(full_name: str) -> NameParts:
    """Family, middle and given name of a full name, in the Vietnamese order (family first, given
    last). A leading Khmer particle (data: names.json "particles") is set apart, except where the
    word is also a family name (Châu) and what follows reads as a Vietnamese name (a common middle
    name such as Văn/Thị follows, or only one word follows): "Chau Sóc Kha" → particle chau, family
    soc, given kha; "Châu Văn Liêm" → family chau. The split is the same with or without the
    particle, so "Néang Sa Rươne" and "Sa Rươne" agree on every part."""
    tokens = fold_name(full_name or "").split()
    particle = ""
    names = data("names")
    particles = names["particles"]
    if len(tokens) >= 2 and tokens[0] in particles["words"]:
        family_like = tokens[0] in particles["also_family_names"] and (
            len(tokens) == 2 or tokens[1] in names["common_middle_names"]
        )
        if not family_like:
            particle = tokens.pop(0)
    if not tokens:
        return NameParts("", "", "", particle)
    if len(tokens) == 1:
        return NameParts("", "", tokens[0], particle)
    return NameParts(tokens[0], " ".join(tokens[1:-1]), tokens[-1], particle)


# --- dates of birth ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Birth:
    """A date of birth as far as it is known: only the year, the month and year, or the full date."""

    year: int | None = None
    month: int | None = None
    day: int | None = None

    @property
    def complete(self) -> bool:
        return self.day is not None

    def isoformat(self) -> str:
        """ "1990-03-05", "1990-03" or "1990" ("" when unknown)."""
        if self.year is None:
            return ""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


_UNREADABLE_BIRTH = "Không đọc được ngày sinh: ghi theo dạng ngày/tháng/năm (ví dụ 05/03/1990), tháng/năm (03/1990) hoặc chỉ năm (1990)."
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})$")
_MY = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_Y = re.compile(r"^(\d{4})$")
_DIGITS = re.compile(r"^\d{8}(\d{4}|\d{6})?$")  # yyyymmdd, optionally followed by HHMM or HHMMSS (hospital systems)


def check_birth(year: int, month: int | None, day: int | None, today: dt.date | None = None) -> Birth:
    """The Birth of year/month/day numbers (0 or None = not known), or ValueError (Vietnamese) when
    impossible: before 1900, in the future, a day the month does not have."""
    today = today or dt.date.today()
    if month == 0:
        if day:
            raise ValueError("Ngày sinh không có thật: có ngày nhưng tháng là 0.")
        month = None
    if day == 0:
        day = None
    if year < 1900:
        raise ValueError("Năm sinh trước năm 1900, không hợp lệ.")
    if year > today.year:
        raise ValueError("Ngày sinh ở tương lai, không hợp lệ.")
    if month is not None:
        if not 1 <= month <= 12:
            raise ValueError("Tháng sinh phải từ 1 đến 12.")
        if (year, month) > (today.year, today.month):
            raise ValueError("Ngày sinh ở tương lai, không hợp lệ.")
    if day is not None:
        try:
            date = dt.date(year, month, day)
        except ValueError:
            raise ValueError("Ngày sinh không có thật (tháng đó không có ngày này).") from None
        if date > today:
            raise ValueError("Ngày sinh ở tương lai, không hợp lệ.")
    return Birth(year, month, day)


def parse_birth(value, *, today: dt.date | None = None) -> Birth:
    """A date of birth as written: a date/datetime, "dd/mm/yyyy" (or with - or .), "yyyy-mm-dd",
    "mm/yyyy", "yyyy", "00/00/yyyy" (year only), "00/mm/yyyy" (month and year), an integer year, or
    the hospital systems' "yyyymmdd[HHMM]". Empty → an unknown Birth. Raises ValueError (Vietnamese)
    when unreadable or impossible: before 1900, in the future, 31/02."""
    today = today or dt.date.today()
    if value is None:
        return Birth()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return check_birth(value.year, value.month, value.day, today)
    if isinstance(value, bool):
        raise ValueError(_UNREADABLE_BIRTH)
    if isinstance(value, float):
        if value != value:  # NaN from pandas: empty
            return Birth()
        if not value.is_integer():
            raise ValueError(_UNREADABLE_BIRTH)
        value = int(value)
    if isinstance(value, int):
        if 1000 <= value <= 9999:
            return check_birth(value, None, None, today)
        value = str(value)
    text = str(value).strip()
    if not text:
        return Birth()
    # A time of day after the date ("1990-03-05 00:00:00", "1990-03-05T00:00") is dropped.
    text = re.split(r"[ T]", text, maxsplit=1)[0] if re.match(r"^\d{4}-\d{1,2}-\d{1,2}[ T]", text) else text
    if m := _DMY.match(text):
        return check_birth(int(m[3]), int(m[2]), int(m[1]), today)
    if m := _YMD.match(text):
        return check_birth(int(m[1]), int(m[2]), int(m[3]), today)
    if m := _MY.match(text):
        return check_birth(int(m[2]), int(m[1]), None, today)
    if m := _Y.match(text):
        return check_birth(int(m[1]), None, None, today)
    if _DIGITS.match(text):
        return check_birth(int(text[:4]), int(text[4:6]), int(text[6:8]), today)
    raise ValueError(_UNREADABLE_BIRTH)


# --- sex ---------------------------------------------------------------------------------------


def normalize_sex(value) -> str:
    """ "nam", "nu" or "" (unknown), from the spellings in names.json "sex": Nam/Nữ, male/female,
    M/F, 1 (nam) / 0 or 2 (nữ)… Raises ValueError for anything else."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    key = fold_name(str(value))
    spellings = data("names")["sex"]
    for sex in ("nam", "nu"):
        if key in spellings[sex]:
            return sex
    if key in spellings["unknown"]:
        return ""
    raise ValueError("Giới tính không hợp lệ: ghi Nam hoặc Nữ (hoặc để trống nếu không rõ).")


# --- ID numbers --------------------------------------------------------------------------------

_ID_JUNK = re.compile(r"[\s.\-]")


def normalize_id(value) -> str:
    """The ID number as ASCII digits: "" or 9 digits (chứng minh nhân dân, CMND) or 12 digits (căn cước
    công dân / số định danh cá nhân, CCCD). Spaces, dots and dashes are dropped. A number that lost its
    leading zero in a spreadsheet (read as an integer, or 11 digits whose padded form starts with a
    province code) gets it back. Raises ValueError for anything else."""
    if type(value) is str and len(value) in (9, 12) and value.isdigit() and value.isascii():
        return value  # already normalised: the common case
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        if len(text) in (8, 11):
            text = "0" + text
    else:
        text = _ID_JUNK.sub("", str(value))
        if len(text) == 11 and text.isdigit() and ("0" + text[:2]) in data("id_codes")["province_codes"]:
            text = "0" + text
    if not text:
        return ""
    if not (text.isascii() and text.isdigit()) or len(text) not in (9, 12):
        raise ValueError("Số CMND/CCCD không hợp lệ: phải có 9 chữ số (CMND) hoặc 12 chữ số (CCCD).")
    return text


def id_facts(id12: str) -> tuple[str, str, int] | None:
    """(province code, sex, first year of the birth century) that a 12-digit citizen ID encodes,
    or None for another value."""
    if len(id12 or "") != 12 or not id12.isdigit():
        return None
    century, sex = data("id_codes")["century_sex"][id12[3]]
    return id12[:3], sex, century


def id_agrees(id12: str, sex: str, birth_year: int | None) -> bool | None:
    """Whether a 12-digit citizen ID can be this record's own: its province code (digits 1–3) is
    a real one, its century/sex digit (4) agrees with the record's sex and century, its digits 5–6
    with the birth year. None when not checkable (not a 12-digit ID, or neither sex nor birth year
    known); False when any known fact disagrees — typically a parent's ID written on a child's record."""
    facts = id_facts(id12)
    if facts is None:
        return None
    province, id_sex, century = facts
    if province not in data("id_codes")["province_codes"]:
        return False
    if not sex and birth_year is None:
        return None
    if sex and sex != id_sex:
        return False
    if birth_year is not None and birth_year != century + int(id12[4:6]):
        return False
    return True


# --- phone numbers -----------------------------------------------------------------------------

_PHONE_JUNK = re.compile(r"[\s.\-()]")
_BAD_PHONE = "Số điện thoại không hợp lệ: ghi 10 chữ số, ví dụ 0912345678 (số cố định: 11 chữ số bắt đầu bằng 02)."


def normalize_phone(value) -> str:
    """The phone number in today's format: a mobile as 10 digits starting 0 — "+84"/"84" becomes "0",
    an old 11-digit mobile (before the 2018 change) gets its new 3-digit prefix from
    phone_prefixes.json, a number that lost its leading 0 gets it back — and a landline as its 11
    digits starting 02. Where a cell holds several numbers (separated by , ; /) the first is used.
    "" when empty; ValueError when it is not a phone number."""
    if type(value) is str and len(value) == 10 and value.isdigit() and value[0] == "0" and value.isascii():
        if value[1] in data("phone_prefixes")["mobile_10_first_digits"]:
            return value  # already in today's format: the common case
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    text = next((part for part in re.split(r"[,;/]", text) if part.strip()), "")
    text = _PHONE_JUNK.sub("", text)
    if not text:
        return ""
    if text.startswith("+84"):
        text = "0" + text[3:]
    elif text.startswith("84") and len(text) in (11, 12):
        text = "0" + text[2:]
    elif not text.startswith("0") and len(text) in (9, 10):
        text = "0" + text
    if not (text.isascii() and text.isdigit()):
        raise ValueError(_BAD_PHONE)
    prefixes = data("phone_prefixes")
    if len(text) == 11:
        new = prefixes["mobile_11_to_10"].get(text[:4])
        if new:
            return new + text[4:]
        if text.startswith(prefixes["landline_11_prefix"]):
            return text
    if len(text) == 10 and text[1] in prefixes["mobile_10_first_digits"]:
        return text
    raise ValueError(_BAD_PHONE)


# --- health insurance --------------------------------------------------------------------------

_CARD = re.compile(r"^[A-Z]{2}\d{13}$")
_BHXH = re.compile(r"^\d{10}$")


def insurance_code(value) -> str:
    """The 10-digit social-insurance code (mã số BHXH), which stays with a person for life, from a
    15-character health-insurance card number (2 letters of the beneficiary group, 1 digit of the
    benefit level, 2 digits of the province, then the 10-digit code) or from the bare 10-digit code.
    "" when empty; ValueError when malformed."""
    if type(value) is str and len(value) == 10 and value.isdigit() and value.isascii():
        return value  # already the code: the common case
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _ID_JUNK.sub("", str(value)).upper()
    if not text:
        return ""
    if _CARD.match(text):
        return text[5:]
    if _BHXH.match(text):
        return text
    raise ValueError("Số thẻ BHYT không hợp lệ: ghi đủ 15 ký tự (ví dụ GD4898912345678) hoặc mã số BHXH gồm 10 chữ số.")
