"""Each column's cache of cells. A register list repeats itself — dates, places,
ethnicity, the registrar's name, the book — so what a cell says on its own is
worked out once per distinct text in each column. Each cache holds at most
`limit` texts and starts again when full, so memory stays bounded however large
the file; which cells are remembered never changes a result."""

from __future__ import annotations

from collections.abc import Iterable

from chinhquyenso.civil_records.validation.cells import BLANK, Cell, CellReader
from chinhquyenso.civil_records.validation.columns import Column

BLANKS = {"": BLANK, None: BLANK}  # always remembered: most columns are blank in most rows


class ColumnCache:
    def __init__(self, reader: CellReader, columns: Iterable[Column], limit: int):
        self._reader = reader
        self._limit = limit
        self._caches: dict[int, dict] = {c.index: dict(BLANKS) for c in columns}

    def cells(self, column: Column, raw_cells, years: list) -> list[Cell]:
        """The column's cells, from the cache where the same text was met before;
        `years`: each row's year, which a date written with two digits is read against."""
        cache = self._caches[column.index]
        cells = [cache.get(raw) for raw in raw_cells]
        for i, cell in enumerate(cells):
            if cell is not None:
                continue
            raw = raw_cells[i]
            # Spreadsheet numbers and dates are keyed with their type: True == 1 == 1.0 in a dict.
            key = raw if raw.__class__ is str else (raw.__class__, raw)
            cell = cache.get(key)
            if cell is None:
                cell = self._reader.read(column, raw, years[i])
                if not cell.per_row:
                    if len(cache) >= self._limit:
                        cache.clear()
                        cache.update(BLANKS)
                    cache[key] = cell
            cells[i] = cell
        return cells
