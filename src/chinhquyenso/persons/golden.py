"""The golden record of a person: one value per field chosen from the person's source records by the
survivorship rule — the most recent verified record that has the field wins; when no verified record has
it, the most recent unverified one. "Recent" is the day the source last confirmed the record
(`recorded_on`; a record without it counts as the oldest), then the record's id (the later import).

Each field of the result is {"value", "source", "record_id"}: where it came from stays visible."""

from __future__ import annotations

import datetime as dt

FIELDS = ("full_name", "sex", "birth", "id_number", "insurance_number", "phone", "address", "commune")


def birth_text(record) -> str:
    """The date of birth as far as known: "dd/mm/yyyy", "mm/yyyy" or "yyyy"."""
    year, month, day = record.birth_year, record.birth_month, record.birth_day
    if not year:
        return ""
    if month and day:
        return f"{day:02d}/{month:02d}/{year:04d}"
    if month:
        return f"{month:02d}/{year:04d}"
    return f"{year:04d}"


def _value(record, name):
    if name == "birth":
        return birth_text(record)
    if name == "commune":
        return record.commune_id
    return getattr(record, name) or ""


def _recency(record):
    return (bool(record.verified), record.recorded_on or dt.date.min, record.pk or 0)


def golden_record(records: list) -> dict:
    """field → {"value", "source", "record_id"} for the fields some record has (see the module docstring)."""
    ordered = sorted(records, key=_recency, reverse=True)
    result = {}
    for name in FIELDS:
        for record in ordered:
            value = _value(record, name)
            if value not in ("", None):
                result[name] = {"value": value, "source": record.source, "record_id": record.pk}
                break
    return result
