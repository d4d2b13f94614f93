"""The sex of the person registered: one of two values, however it was written."""

from __future__ import annotations

from chinhquyenso.civil_records.validation.text import MAX_TEXT, written

SEXES = {"nam": "Nam", "trai": "Nam", "m": "Nam", "male": "Nam", "nu": "Nữ", "gai": "Nữ", "f": "Nữ", "female": "Nữ"}


def read_sex(text: str, value: str, folded: str, flags: list) -> str | None:
    if written(text, value, folded, flags, limit=MAX_TEXT, none_is_blank=False) is None:
        return None
    sex = SEXES.get(folded)
    if sex is None:
        flags.append(("invalid_value", "Giới tính phải là Nam hoặc Nữ.", text))
    return sex
