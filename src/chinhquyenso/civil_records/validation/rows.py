"""The rules that read a whole row, run for every row once its cells are read:
the year taken from the date of registration, the identity of the record,
rejection of a row that identifies nobody, missing number, year or parents,
and an event registered before it happened."""

from __future__ import annotations

import hashlib
import json

from chinhquyenso.civil_records.validation.cells import BLANK, Cell
from chinhquyenso.civil_records.validation.columns import FileColumns
from chinhquyenso.civil_records.validation.results import CleanRow, Problem


def registration_years(registered: list[Cell] | None, years: list) -> dict[int, tuple]:
    """Fill in the year from the date of registration where the year column is empty; the
    flags of dates of registration outside the year written."""
    late: dict[int, tuple] = {}
    for i, cell in enumerate(registered or ()):
        parsed = cell.parsed
        if parsed is None or parsed.start is None:
            continue
        year = years[i]
        if year is None:
            if parsed.start.year == parsed.end.year:
                years[i] = parsed.start.year
        elif not parsed.start.year <= year <= parsed.end.year:
            late[i] = ("inconsistent_date", f"Ngày đăng ký không thuộc năm đăng ký {year}.", cell.text)
    return late


class RowRules:
    def __init__(self, columns: FileColumns):
        self.columns = columns
        self.kind = kind = columns.kind
        # The fields the rules read.
        self.fields = tuple(
            dict.fromkeys(
                (
                    "book",
                    "number",
                    "key",
                    "sex",
                    "scans",
                    "registered_on",
                    kind.event_field,
                    *kind.subject_fields,
                    *kind.expected_fields,
                )
            )
        )

    def apply(self, row: CleanRow, cell: dict[str, Cell], i: int, by_field: dict[str, list[Cell]]):
        """What makes row i a record (its `cell` of each of `fields`): names, number, identity;
        rejection; the flags of the whole row."""
        kind = self.kind
        header_for = self.columns.header_for
        names = [cell[key].stored or "" for key in kind.subject_fields]
        row.subject_name, row.spouse_name = (names + [""])[:2]
        row.book, row.register_number = cell["book"].stored or "", cell["number"].stored or ""
        if not any(names) and not row.register_number:
            row.rejected = True
            # Every column the message names: the name columns and the number's.
            headers = [header_for(key) for key in (*kind.subject_fields, "number")]
            row.problems.append(
                Problem(
                    headers[0],
                    "",
                    "unusable",
                    "Không dùng được: không có họ tên người được đăng ký và không có số đăng ký "
                    "(cần ít nhất một trong hai).",
                    "error",
                    kind.subject_fields[0],
                    tuple(headers[1:]),
                )
            )
            return
        row.sex = cell["sex"].stored or ""
        row.scans = cell["scans"].stored or []
        if not row.register_number:
            row.flag(
                "number",
                header_for("number"),
                "",
                "missing_number",
                "Sổ không ghi số đăng ký; bản ghi được nhận diện theo nội dung dòng.",
            )
        if row.year is None:
            row.flag(
                "year",
                header_for("year"),
                "",
                "missing_year",
                "Không có năm đăng ký (cột năm hoặc ngày đăng ký).",
            )
        for key in kind.expected_fields:
            if not cell[key].stored and not any(f[0] == key for f in row.flags):
                who = kind.field(key).label.split()[-1]
                row.flag(key, header_for(key), "", "missing_parent", f"Sổ không ghi họ tên {who}.")
        folded = [cell[key].folded for key in kind.subject_fields]
        row.names_folded = " | ".join(folded) if row.spouse_name else folded[0]
        if cell["key"].stored:
            row.identity_key = "k:" + cell["key"].folded
        elif row.register_number and row.year:
            row.identity_key = f"s:{cell['book'].folded}|{cell['number'].folded}|{row.year}"
        else:
            content = json.dumps(
                sorted(
                    (c.header, by_field[c.field][i].text)
                    for c in self.columns.in_file
                    if c.field and by_field[c.field][i] is not BLANK
                ),
                ensure_ascii=False,
            )
            row.identity_key = "h:" + hashlib.sha1(content.encode()).hexdigest()
        registered = cell["registered_on"].parsed
        row.registered_on = registered.exact if registered else None
        event_field = kind.event_field
        event = cell[event_field]
        if event.parsed is None:
            return
        row.event_from, row.event_to = event.parsed.start, event.parsed.end
        if (
            row.event_from is not None
            and event_field != "registered_on"
            and registered
            and registered.value
            and row.registered_on
            and row.event_from > row.registered_on
        ):
            row.flag(
                event_field,
                header_for(event_field),
                event.text,
                "inconsistent_date",
                "Ngày sự kiện sau ngày đăng ký.",
            )
