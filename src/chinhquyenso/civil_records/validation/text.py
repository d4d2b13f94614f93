"""Cells stored as the text written — names, identifiers (book, number, key), free
text, lists of scanned pages — and the rules every such kind shares: what
registers write for "illegible" and for "none", and the length limits."""

from __future__ import annotations

import re

MAX_NAME = 200  # names and identifiers: what search, identity and print can use
MAX_TEXT = 2000
# Written for "nobody could read this" (illegible) and for "the register says there is none".
ILLEGIBLE = {
    "khong ro",
    "k ro",
    "kr",
    "khong doc duoc",
    "khong ro rang",
    "mo",
    "bi mo",
    "nhoe",
    "rach",
    "x",
    "xx",
    "xxx",
}
NONE_WRITTEN = {"-", "--", "khong", "khong co", "k co", "/", "0"}
# Written in a parent's name column for a parent nobody knows (a child whose father is not
# established): the register says the parent is unknown, not that its writing cannot be read.
# Compared folded (without diacritics or case), the whole cell, brackets and a final stop aside.
UNKNOWN_PARENT = {
    "khong ro",
    "k ro",
    "chua ro",
    "khong biet",
    "chua biet",
    "chua xac dinh",
    "chua xac dinh duoc",
    "khong xac dinh",
    "khong xac dinh duoc",
}
ONLY_MARKS = re.compile(r"[?.…\s]+")
# Markers of "illegible" and "none" are short: a longer text is never taken for one.
MARKER_MAX_LENGTH = 20
_DIGITS = re.compile(r"\d")


def written(text: str, value: str, folded: str, flags: list, *, limit: int, none_is_blank: bool) -> str | None:
    """`value` (the cell's text, spaces collapsed) as stored, or None where the
    register holds nothing to keep: an illegible entry (flagged) or, where
    `none_is_blank`, a "none"; a value over `limit` characters is flagged and cut."""
    short = len(value) <= MARKER_MAX_LENGTH
    if short and (folded in ILLEGIBLE or ONLY_MARKS.fullmatch(value)):
        flags.append(("illegible", "Sổ ghi không đọc được; để trống, cần đối chiếu sổ gốc.", text))
        return None
    if none_is_blank and short and folded in NONE_WRITTEN:
        return None
    if len(value) > limit:
        flags.append(("too_long", f"Dài quá {limit} ký tự; phần sau bị cắt khi tìm kiếm và in.", text[:80] + "…"))
        value = value[:limit]
    return value


def read_name(text: str, value: str, folded: str, flags: list) -> str | None:
    name = written(text, value, folded, flags, limit=MAX_NAME, none_is_blank=True)
    if name is None:
        return None
    if "?" in name:
        flags.append(("illegible", "Có chữ không đọc được (“?”); cần đối chiếu sổ gốc.", text))
    elif _DIGITS.search(name):
        flags.append(("invalid_value", "Họ tên có chữ số; cần đối chiếu sổ gốc.", text))
    return name


def read_parent_name(who: str):
    """The reader of a parent's name column (`who`: "cha", "mẹ"): an unknown parent is
    flagged as such and nothing is stored; anything else is read as a name."""

    def read(text: str, value: str, folded: str, flags: list) -> str | None:
        if len(value) <= MARKER_MAX_LENGTH and folded.strip("().… ") in UNKNOWN_PARENT:
            flags.append(("parent_unknown", f"Sổ ghi không rõ {who} (chưa xác định được {who}).", text))
            return None
        return read_name(text, value, folded, flags)

    return read


def read_identifier(text: str, value: str, folded: str, flags: list) -> str | None:
    """Book, register number, the file's own key: a "0" or "-" is an identifier as written."""
    return written(text, value, folded, flags, limit=MAX_NAME, none_is_blank=False)


def read_free_text(text: str, value: str, folded: str, flags: list) -> str | None:
    return written(text, value, folded, flags, limit=MAX_TEXT, none_is_blank=True)


def read_scans(text: str, value: str, folded: str, flags: list) -> list[str] | None:
    """File names of the scanned pages, separated by ";", "," or new lines."""
    names = written(text, value, folded, flags, limit=MAX_TEXT, none_is_blank=False)
    if names is None:
        return None
    return [name.strip() for name in re.split(r"[;,\n]", names) if name.strip()]
