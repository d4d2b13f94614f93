"""`RowValidator`: validates the rows of one file, a chunk at a time, column by
column — each cell read once per distinct text of its column (cells.py,
cache.py) — then row by row (rows.py)."""

from __future__ import annotations

import datetime as dt
import re

from chinhquyenso.civil_records.fields import RecordKind
from chinhquyenso.civil_records.validation.cache import ColumnCache
from chinhquyenso.civil_records.validation.cells import BLANK, Cell, CellReader, to_json
from chinhquyenso.civil_records.validation.columns import Column, FileColumns
from chinhquyenso.civil_records.validation.places import historical_places
from chinhquyenso.civil_records.validation.results import BadRow, CleanRow
from chinhquyenso.civil_records.validation.rows import RowRules, registration_years


class RowValidator:
    """Validates the rows of one file: built once from its header row.

    A register list repeats itself — dates, places, ethnicity, the
    registrar's name, the book — so what a cell says on its own (`Cell`) is
    worked out once per distinct text in each column and kept in a bounded
    cache; only what depends on the whole row (year, identity, missing
    parents, consistency of dates) is done for every row."""

    CACHE_LIMIT = 4096  # distinct texts remembered per column; memory stays bounded however large the file

    def __init__(
        self,
        kind: RecordKind,
        headers: list,
        *,
        today: dt.date | None = None,
        places: tuple[re.Pattern, dict[str, str]] | None = None,
    ):
        self.kind = kind
        self.today = today or dt.date.today()
        self._file_columns = FileColumns(kind, headers)
        self.columns: list[Column] = self._file_columns.all
        self.header_problems = self._file_columns.problems
        self.mapped = self._file_columns.by_field
        self.usable = any(f in self.mapped for f in (*kind.subject_fields, "number"))
        self._in_file = self._file_columns.in_file
        self._read_order = self._file_columns.read_order
        self._cells = CellReader(
            self._file_columns, today=self.today, places=historical_places() if places is None else places
        )
        self._cache = ColumnCache(self._cells, self._in_file, self.CACHE_LIMIT)
        self._rules = RowRules(self._file_columns)

    def header_for(self, field_key: str) -> str:
        return self._file_columns.header_for(field_key)

    def validate(self, rows: list[tuple[int, list]]) -> list[CleanRow]:
        """Validate a chunk of (row number, cells), column by column; blank rows are left out.
        A row the reader could not split (cells are a BadRow) is rejected with its reason."""
        if any(cells.__class__ is BadRow for _, cells in rows):
            bad = [
                CleanRow(number, problems=[cells.problem()], rejected=True)
                for number, cells in rows
                if cells.__class__ is BadRow
            ]
            good = self.validate([(number, cells) for number, cells in rows if cells.__class__ is not BadRow])
            return sorted(good + bad, key=lambda row: row.number)
        width = len(self.columns)
        grid = [cells if len(cells) == width else (list(cells) + [None] * width)[:width] for _, cells in rows]
        raw_columns = list(zip(*grid)) if grid else [()] * width
        years: list[int | None] = [None] * len(rows)
        read: dict[int, list[Cell]] = {}  # column index → the column's cells
        for column in self._read_order:
            cells = read[column.index] = self._cache.cells(column, raw_columns[column.index], years)
            if column.field == "year":
                years = [cell.stored for cell in cells]
        by_field = {field: read[column.index] for field, column in self.mapped.items()}
        blanks = [BLANK] * len(rows)
        rule_fields = self._rules.fields
        row_fields = [by_field.get(key, blanks) for key in rule_fields]
        late_flags = registration_years(by_field.get("registered_on"), years)
        verbatim = [[cell.verbatim_json for cell in read[c.index]] for c in self._in_file]
        data = [[cell.data_json for cell in by_field[c.field]] for c in self._read_order if c.field]
        flagged = {i for cells in read.values() for i, cell in enumerate(cells) if cell.flags or cell.unreadable}
        flagged.update(late_flags)
        result = []
        for i, ((number, cells), verbatim_parts, data_parts, row_cells) in enumerate(
            zip(rows, zip(*verbatim), zip(*data), zip(*row_fields))
        ):
            extra = ()
            if len(cells) > width:  # cells beyond the header row: kept verbatim as "Cột N"
                extra = [
                    (column, self._cells.read(column, cells[column.index], None))
                    for column in (Column(n, f"Cột {n + 1}", None) for n in range(width, len(cells)))
                ]
                extra = [(column, cell) for column, cell in extra if cell is not BLANK]
                verbatim_parts += tuple(cell.verbatim_json for _, cell in extra)
            if not any(verbatim_parts):
                continue
            row = CleanRow(number, year=years[i])
            if i in flagged or extra:
                self._cell_flags(row, i, read, late_flags.get(i), extra)
            self._rules.apply(row, dict(zip(rule_fields, row_cells)), i, by_field)
            row.encoded = (
                "{" + ",".join(filter(None, verbatim_parts)) + "}",
                "{" + ",".join(filter(None, data_parts)) + "}",
                to_json(row.flags) if row.flags else "[]",
            )
            result.append(row)
        return result

    def _cell_flags(self, row: CleanRow, i: int, read: dict[int, list[Cell]], late: tuple | None, extra: list):
        """The flags of row i's cells: unreadable characters in file order, then each field's."""
        for column in self._in_file:
            cell = read[column.index][i]
            if cell.unreadable:
                _flag_unreadable(row, column.field or "", column.header, cell.text)
        for column, cell in extra:
            if cell.unreadable:
                _flag_unreadable(row, "", column.header, cell.text)
        for column in self._read_order:
            if column.field is None:
                continue
            for code, reason, shown in read[column.index][i].flags:
                row.flag(column.field, column.header, shown, code, reason)
            if late and column.field == "registered_on":
                row.flag("registered_on", column.header, late[2], late[0], late[1])


def _flag_unreadable(row: CleanRow, key: str, header: str, text: str):
    row.flag(
        key,
        header,
        text,
        "unreadable_characters",
        "Có ký tự không đọc được (tệp lưu sai bảng mã?); cần đối chiếu sổ gốc.",
    )
