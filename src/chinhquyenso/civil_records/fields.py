"""The columns of the civil-status registers (sổ hộ tịch), per record type.

The fields follow the registers' columns (Luật Hộ tịch 2014, Thông tư
04/2020/TT-BTP); older books have fewer of them, so every field is optional
and only `RecordType.subject_fields` plus the register number decide whether a
row can be used at all. Each field has the header an officer would write in a
spreadsheet and the other spellings seen in old lists (`aliases`); headers are
matched without diacritics, case or punctuation. A date field says how many
years before the register's year its dates can lie (`years_before`): that is
what settles the century of a year written with two digits (dates.parse).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from chinhquyenso.core.text import fold

# Kinds of value, each with its own normalization in the validation package.
BOOK, NUMBER, YEAR, KEY, DATE, YEAR_OR_DATE, NAME, SEX, PLACE, TEXT, SCANS = (
    "book",
    "number",
    "year",
    "key",
    "date",
    "year_or_date",
    "name",
    "sex",
    "place",
    "text",
    "scans",
)


# How many years before the register's year a date can lie (fewest, most): a year written with two
# digits is read as the one year of this range that it can mean, and flagged only where two can.
SAME_YEAR = (0, 0)  # the date of registration: in the register's year
WITHIN_A_LIFE = (0, 99)  # a birth or a death registered late, but never before it happened
LIFETIME = (0, 110)  # a dead person's birth: from a newborn to a very old person
ADULT = (12, 99)  # a parent's or a spouse's birth: at least twelve years before


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str
    aliases: tuple[str, ...] = ()
    years_before: tuple[int, int] = WITHIN_A_LIFE  # dates only: see above


REGISTER_FIELDS = (
    Field("key", "Mã bản ghi", KEY, ("ma", "khoa", "ma ban ghi", "ma dinh danh ban ghi")),
    Field("book", "Quyển số", BOOK, ("quyen", "so quyen", "quyen so dang ky", "so so")),
    Field("number", "Số đăng ký", NUMBER, ("so", "so dk", "so dang ky", "so thu tu")),
    Field("year", "Năm đăng ký", YEAR, ("nam", "nam dk", "nam so")),
    Field(
        "registered_on",
        "Ngày đăng ký",
        DATE,
        ("ngay dk", "ngay, thang, nam dang ky", "ngay thang nam dang ky"),
        years_before=SAME_YEAR,
    ),
)
TRAILING_FIELDS = (
    Field("declarant_name", "Người đi khai", NAME, ("ho ten nguoi di khai", "nguoi di dang ky", "nguoi yeu cau")),
    Field("declarant_relation", "Quan hệ với người được đăng ký", TEXT, ("quan he", "quan he voi nguoi duoc khai")),
    Field(
        "registrar",
        "Công chức hộ tịch",
        NAME,
        ("can bo ho tich", "nguoi thuc hien", "cong chuc tu phap ho tich", "nguoi dang ky"),
    ),
    Field("signer", "Người ký", NAME, ("nguoi ky giay", "chu tich", "nguoi ky ten")),
    Field("notes", "Ghi chú", TEXT, ("ghi chu", "chu thich")),
    Field("scans", "Ảnh trang sổ", SCANS, ("anh", "tep anh", "anh so", "file anh", "hinh anh")),
)


def _person(prefix: str, who: str, *, name_aliases=(), birth=YEAR_OR_DATE) -> tuple[Field, ...]:
    return (
        Field(f"{prefix}_name", f"Họ và tên {who}", NAME, name_aliases),
        Field(
            f"{prefix}_born",
            f"Năm sinh {who}",
            birth,
            (f"ngay sinh {fold(who)}", f"ngay thang nam sinh {fold(who)}"),
            years_before=ADULT,
        ),
        Field(f"{prefix}_ethnicity", f"Dân tộc {who}", TEXT),
        Field(f"{prefix}_nationality", f"Quốc tịch {who}", TEXT),
        Field(
            f"{prefix}_residence",
            f"Nơi cư trú {who}",
            PLACE,
            (f"dia chi {fold(who)}", f"noi thuong tru {fold(who)}", f"cho o {fold(who)}"),
        ),
    )


@dataclass(frozen=True)
class RecordKind:
    code: str
    label: str
    fields: tuple[Field, ...]
    # A row names at least one of these, or has a register number, or it is unusable.
    subject_fields: tuple[str, ...]
    # The date searched as "the date" of the record (birth, death, marriage).
    event_field: str
    # Fields whose absence is itself worth a flag (births: the parents).
    expected_fields: tuple[str, ...] = ()

    def field(self, key: str) -> Field:
        return self.by_key[key]

    @functools.cached_property
    def by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}


BIRTH = RecordKind(
    "birth",
    "Khai sinh",
    REGISTER_FIELDS
    + (
        Field("name", "Họ và tên", NAME, ("ho ten", "ho va ten nguoi duoc khai sinh", "ten", "ho ten tre")),
        Field("sex", "Giới tính", SEX, ("gioi", "phai", "nam/nu")),
        Field("born_on", "Ngày sinh", DATE, ("ngay, thang, nam sinh", "ngay thang nam sinh", "sinh ngay")),
        Field("birth_place", "Nơi sinh", PLACE, ("noi sinh", "sinh tai")),
        Field("hometown", "Quê quán", PLACE, ("que", "nguyen quan")),
        Field("ethnicity", "Dân tộc", TEXT),
        Field("nationality", "Quốc tịch", TEXT),
    )
    + _person("father", "cha", name_aliases=("ho ten cha", "cha"))
    + _person("mother", "mẹ", name_aliases=("ho ten me", "me"))
    + TRAILING_FIELDS,
    subject_fields=("name",),
    event_field="born_on",
    expected_fields=("father_name", "mother_name"),
)
DEATH = RecordKind(
    "death",
    "Khai tử",
    REGISTER_FIELDS
    + (
        Field(
            "name",
            "Họ và tên người chết",
            NAME,
            ("ho ten", "ho va ten", "ho ten nguoi chet", "nguoi chet", "ho ten nguoi da chet"),
        ),
        Field("sex", "Giới tính", SEX, ("gioi", "phai")),
        Field(
            "born_on",
            "Ngày sinh",
            YEAR_OR_DATE,
            ("ngay, thang, nam sinh", "ngay thang nam sinh", "nam sinh"),
            years_before=LIFETIME,
        ),
        Field("ethnicity", "Dân tộc", TEXT),
        Field("nationality", "Quốc tịch", TEXT),
        Field("residence", "Nơi cư trú cuối cùng", PLACE, ("noi cu tru", "noi thuong tru", "dia chi", "tru quan")),
        Field(
            "died_on",
            "Ngày chết",
            DATE,
            ("ngay, thang, nam chet", "ngay thang nam chet", "chet ngay", "ngay mat", "ngay tu"),
        ),
        Field("died_at_time", "Giờ chết", TEXT, ("gio", "chet luc", "gio phut")),
        Field("death_place", "Nơi chết", PLACE, ("noi chet", "chet tai", "noi mat")),
        Field("cause", "Nguyên nhân chết", TEXT, ("nguyen nhan", "ly do")),
    )
    + TRAILING_FIELDS,
    subject_fields=("name",),
    event_field="died_on",
)
MARRIAGE = RecordKind(
    "marriage",
    "Kết hôn",
    REGISTER_FIELDS
    + _person("husband", "chồng", name_aliases=("ho ten chong", "chong"), birth=DATE)
    + _person("wife", "vợ", name_aliases=("ho ten vo", "vo"), birth=DATE)
    + TRAILING_FIELDS,
    subject_fields=("husband_name", "wife_name"),
    event_field="registered_on",
)
KINDS = {kind.code: kind for kind in (BIRTH, DEATH, MARRIAGE)}

_HEADER_NOISE = re.compile(r"[^a-z0-9/ ]+")


def header_key(text: str) -> str:
    """'Ngày, tháng, năm sinh (*)' → 'ngay thang nam sinh': what headers are compared by."""
    return " ".join(_HEADER_NOISE.sub(" ", fold(text).replace("(*)", "")).split())


def header_index(kind: RecordKind) -> dict[str, str]:
    """Compared header → field key, labels first so an alias never shadows a label."""
    index: dict[str, str] = {}
    for field in kind.fields:
        index.setdefault(header_key(field.label), field.key)
    for field in kind.fields:
        for alias in field.aliases:
            index.setdefault(header_key(alias), field.key)
    return index
