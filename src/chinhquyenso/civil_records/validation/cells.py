"""What one cell says on its own (`Cell`): its text as written, the normalized
value, the flags and its JSON — the same wherever the same text stands in the
same column. `CellReader` normalizes the text and hands it to the reader of the
field's kind: text.py, sex.py, places.py, years_and_dates.py."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass

from chinhquyenso.civil_records import dates
from chinhquyenso.civil_records.fields import BOOK, DATE, KEY, NAME, NUMBER, PLACE, SCANS, SEX, TEXT, YEAR, YEAR_OR_DATE
from chinhquyenso.civil_records.validation import text as text_kinds
from chinhquyenso.civil_records.validation.columns import Column, FileColumns
from chinhquyenso.civil_records.validation.places import PlaceReader
from chinhquyenso.civil_records.validation.sex import read_sex
from chinhquyenso.civil_records.validation.years_and_dates import read_date, read_year
from chinhquyenso.core.text import drop_unstorable, fold_normalized

# Kinds whose folded text is kept: names are searched folded, identifiers make the record's identity.
FOLDED_KINDS = (NAME, BOOK, NUMBER, KEY)


@dataclass(slots=True)
class Cell:
    """What one cell says on its own — the same wherever the same text stands
    in the same column, so it is worked out once per distinct text."""

    text: str  # as written: NFC, unstorable characters dropped
    stored: object = None  # the normalized value kept in `data`; None: nothing to keep
    folded: str = ""  # the stored text folded (names, book, number, key)
    flags: tuple = ()  # (code, reason, value shown to the officer)
    unreadable: bool = False  # holds U+FFFD: the file was decoded with the wrong code page
    parsed: dates.ParsedDate | None = None
    verbatim_json: str = ""  # '"header":"text"', joined into the row's JSON
    data_json: str = ""  # '"field":value'
    per_row: bool = False  # depends on the rest of the row (a two-digit year, flagged or not): never cached


BLANK = Cell("")  # a cell holding nothing, or nothing but spaces

to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def as_text(value) -> str:
    """A cell as the text an officer sees: dates dd/mm/yyyy, whole numbers without '.0'."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class CellReader:
    """Reads the cells of one file's columns."""

    def __init__(self, columns: FileColumns, *, today: dt.date, places: tuple[re.Pattern, dict[str, str]]):
        self.today = today
        self.kinds = {f.key: f.kind for f in columns.kind.fields}
        self.years_before = {f.key: f.years_before for f in columns.kind.fields}
        # The kinds stored as (a value derived from) their text, each read as (text, value, folded, flags).
        self._text_readers = {
            NAME: text_kinds.read_name,
            BOOK: text_kinds.read_identifier,
            NUMBER: text_kinds.read_identifier,
            KEY: text_kinds.read_identifier,
            TEXT: text_kinds.read_free_text,
            SCANS: text_kinds.read_scans,
            SEX: read_sex,
            PLACE: PlaceReader(places).read,
        }
        # Fields read otherwise than their kind: the parents' names, where "không rõ" is an unknown parent.
        kind = columns.kind
        self._field_readers = {
            key: text_kinds.read_parent_name(kind.field(key).label.split()[-1]) for key in kind.expected_fields
        }
        self._header_json = {c.index: to_json(c.header) + ":" for c in columns.in_file}
        self._key_json = {c.index: to_json(c.field) + ":" for c in columns.in_file if c.field}

    def read(self, column: Column, raw, reference_year: int | None) -> Cell:
        """What `raw` says in `column`; a date with a two-digit year is read against `reference_year`."""
        text = raw if raw.__class__ is str else as_text(raw)
        text = drop_unstorable(text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        value = " ".join(text.split())
        if not value:
            return BLANK
        header_json = self._header_json.get(column.index) or to_json(column.header) + ":"
        cell = Cell(text, unreadable="\ufffd" in text, verbatim_json=header_json + to_json(text))
        key = column.field
        if key is None:
            return cell
        kind = self.kinds[key]
        folded = fold_normalized(value)
        flags: list[tuple[str, str, str]] = []
        if kind == YEAR:
            cell.stored = read_year(text, value, flags, self.today)
        elif kind == DATE or kind == YEAR_OR_DATE:
            cell.parsed, cell.per_row = read_date(
                raw if raw.__class__ is not str else value,
                text,
                folded,
                flags,
                partial_ok=kind == YEAR_OR_DATE,
                reference_year=reference_year,
                years_before=self.years_before[key],
                today=self.today,
            )
            if cell.parsed is not None and cell.parsed.value:
                cell.stored = cell.parsed.value
        else:
            reader = self._field_readers.get(key) or self._text_readers[kind]
            cell.stored = reader(text, value, folded, flags)
            if cell.stored is not None and kind in FOLDED_KINDS:
                cell.folded = folded if len(cell.stored) == len(value) else fold_normalized(cell.stored)
        cell.flags = tuple(flags)
        if cell.stored is not None:
            cell.data_json = self._key_json[column.index] + to_json(cell.stored)
        return cell
