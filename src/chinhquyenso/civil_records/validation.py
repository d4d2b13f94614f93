"""One register row → a record to store, flags for what is doubtful, or a rejection.

Historical registers are accepted as they are: the value as written is kept
verbatim, a normalized value is stored beside it when one can be determined,
and anything doubtful (an impossible or partial date, a missing parent, an
illegible entry, a pre-1975 place name) becomes a flag with a Vietnamese
reason for a registrar to review. Only a row that identifies nobody — no
subject name and no register number — is rejected.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import re
import traceback
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from chinhquyenso.civil_records import dates
from chinhquyenso.civil_records.fields import (
    BOOK,
    DATE,
    KEY,
    NAME,
    NUMBER,
    PLACE,
    SCANS,
    SEX,
    TEXT,
    YEAR,
    YEAR_OR_DATE,
    RecordKind,
    header_index,
    header_key,
)
from chinhquyenso.core.text import drop_unstorable, fold, fold_normalized, nfc

MAX_NAME = 200
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
_ONLY_MARKS = re.compile(r"[?.…\s]+")
_DIGITS = re.compile(r"\d")
SEXES = {"nam": "Nam", "trai": "Nam", "m": "Nam", "male": "Nam", "nu": "Nữ", "gai": "Nữ", "f": "Nữ", "female": "Nữ"}
# Columns the error workbook adds; ignored when it comes back corrected.
ERROR_COLUMNS = ("Dòng gốc", "Kết quả", "Thông báo")
PLACES_FILE = Path(__file__).with_name("data") / "historical_places.json"

FLAG_LABELS = {
    "impossible_date": "Ngày không có thật",
    "partial_date": "Ngày không đầy đủ",
    "lunar_date": "Ngày âm lịch",
    "two_digit_year": "Năm ghi hai chữ số",
    "illegible": "Không đọc được",
    "missing_parent": "Không có thông tin cha, mẹ",
    "missing_number": "Không có số đăng ký",
    "missing_year": "Không có năm đăng ký",
    "historical_place": "Địa danh trước năm 1975",
    "inconsistent_date": "Ngày không khớp",
    "invalid_value": "Giá trị không hợp lệ",
    "unreadable_characters": "Lỗi ký tự",
    "too_long": "Quá dài",
    "missing_scan": "Không tìm thấy ảnh trang sổ",
}


@dataclass
class Column:
    index: int
    header: str  # as written in the file
    field: str | None  # None: not a register field (kept verbatim only)


@dataclass
class Problem:
    column: str
    value: str
    code: str
    message: str
    severity: str  # "error": the row was rejected; "flag": stored, to review; "notice": information
    field: str = ""


@dataclass(slots=True)
class CleanRow:
    number: int
    flags: list = field(default_factory=list)  # [field, code, reason]
    problems: list = field(default_factory=list)
    rejected: bool = False
    identity_key: str = ""
    book: str = ""
    register_number: str = ""
    year: int | None = None
    registered_on: dt.date | None = None
    event_from: dt.date | None = None
    event_to: dt.date | None = None
    subject_name: str = ""
    spouse_name: str = ""
    sex: str = ""
    scans: list = field(default_factory=list)
    names_folded: str = ""
    encoded: tuple = ()  # verbatim (header → text as written), data (field → normalized value) and flags as JSON

    def __reduce__(self):
        # Validated rows travel from validation processes: positional values pickle several times faster.
        return CleanRow, tuple(getattr(self, name) for name in self.__slots__)


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
    per_row: bool = False  # depends on the rest of the row (a two-digit year): never cached


def historical_places(path: Path = PLACES_FILE) -> tuple[re.Pattern, dict[str, str]]:
    """One pattern over folded text matching any pre-1975 place name of the
    province's list, and the reason to give for each (folded) name."""
    reasons: dict[str, str] = {}
    for entry in json.loads(path.read_text(encoding="utf-8"))["places"]:
        for name in entry["match"]:
            reasons[fold(name)] = f"Địa danh cũ ({entry['period']}), nay là {entry['now']}; giữ nguyên như sổ ghi."
    names = "|".join(re.escape(name) for name in sorted(reasons, key=len, reverse=True))
    return re.compile(rf"\b(?:{names})\b"), reasons


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
        self.places, self.place_reasons = historical_places() if places is None else places
        index = header_index(kind)
        ignored = {header_key(h) for h in ERROR_COLUMNS}
        self.columns: list[Column] = []
        self.header_problems: list[Problem] = []
        seen: dict[str, str] = {}
        used: set[str] = set()
        for position, raw in enumerate(headers):
            header = nfc(raw) if raw is not None else ""
            key = header_key(header)
            if key in ignored:
                self.columns.append(Column(position, "", None))  # the error workbook's own columns: not kept
                continue
            if not header:
                header = f"Cột {position + 1}"
                self.columns.append(Column(position, header, None))
                used.add(header)
                continue
            field_key = index.get(key)
            if field_key and field_key in seen:
                self.header_problems.append(
                    Problem(
                        header,
                        header,
                        "duplicate_column",
                        f"Cột “{header}” trùng với cột “{seen[field_key]}”; chỉ dùng cột đầu.",
                        "notice",
                    )
                )
                field_key = None
            elif field_key:
                seen[field_key] = header
            else:
                self.header_problems.append(
                    Problem(
                        header,
                        header,
                        "unknown_column",
                        f"Cột “{header}” không thuộc mẫu sổ {kind.label.lower()}; "
                        "nội dung vẫn được lưu nguyên văn nhưng không được kiểm tra.",
                        "notice",
                    )
                )
            if header in used:  # a second column of the same title keeps its own text
                header = f"{header} (cột {position + 1})"
            used.add(header)
            self.columns.append(Column(position, header, field_key))
        self.mapped = {c.field: c for c in self.columns if c.field}
        self.field_headers = {c.header for c in self.columns if c.field}
        self.kinds = {f.key: f.kind for f in kind.fields}
        self.usable = any(f in self.mapped for f in (*kind.subject_fields, "number"))
        # The columns read, the year first: dates written with two digits are read against it.
        self._in_file = [c for c in self.columns if c.header]
        self._read_order = sorted(self._in_file, key=lambda c: c.field != "year")
        self._caches: dict[int, dict] = {c.index: dict(_BLANKS) for c in self._in_file}
        self._header_json = {c.index: _json(c.header) + ":" for c in self._in_file}
        self._key_json = {c.index: _json(c.field) + ":" for c in self._in_file if c.field}
        # The fields the whole-row rules read.
        self._row_fields = tuple(
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

    def header_for(self, field_key: str) -> str:
        column = self.mapped.get(field_key)
        return column.header if column else self.kind.field(field_key).label

    # ------------------------------------------------------------ a chunk of rows

    def validate(self, rows: list[tuple[int, list]]) -> list[CleanRow]:
        """Validate a chunk of (row number, cells), column by column; blank rows are left out."""
        width = len(self.columns)
        grid = [cells if len(cells) == width else (list(cells) + [None] * width)[:width] for _, cells in rows]
        raw_columns = list(zip(*grid)) if grid else [()] * width
        years: list[int | None] = [None] * len(rows)
        read: dict[int, list[Cell]] = {}  # column index → the column's cells
        for column in self._read_order:
            cells = read[column.index] = self._read_column(column, raw_columns[column.index], years)
            if column.field == "year":
                years = [cell.stored for cell in cells]
        by_field = {field: read[column.index] for field, column in self.mapped.items()}
        blanks = [_BLANK] * len(rows)
        row_fields = [by_field.get(key, blanks) for key in self._row_fields]
        late_flags = self._registration_years(by_field.get("registered_on"), years)
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
                    (column, self._cell(column, cells[column.index], None))
                    for column in (Column(n, f"Cột {n + 1}", None) for n in range(width, len(cells)))
                ]
                extra = [(column, cell) for column, cell in extra if cell is not _BLANK]
                verbatim_parts += tuple(cell.verbatim_json for _, cell in extra)
            if not any(verbatim_parts):
                continue
            row = CleanRow(number, year=years[i])
            if i in flagged or extra:
                self._cell_flags(row, i, read, late_flags.get(i), extra)
            self._register(row, dict(zip(self._row_fields, row_cells)), i, by_field)
            row.encoded = (
                "{" + ",".join(filter(None, verbatim_parts)) + "}",
                "{" + ",".join(filter(None, data_parts)) + "}",
                _json(row.flags) if row.flags else "[]",
            )
            result.append(row)
        return result

    def _read_column(self, column: Column, raw_cells, years: list) -> list[Cell]:
        """The column's cells, from the cache where the same text was met before."""
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
                cell = self._cell(column, raw, years[i])
                if not cell.per_row:
                    if len(cache) >= self.CACHE_LIMIT:
                        cache.clear()
                        cache.update(_BLANKS)
                    cache[key] = cell
            cells[i] = cell
        return cells

    def _registration_years(self, registered: list[Cell] | None, years: list) -> dict[int, tuple]:
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

    def _cell_flags(self, row: CleanRow, i: int, read: dict[int, list[Cell]], late: tuple | None, extra: list):
        """The flags of row i's cells: unreadable characters in file order, then each field's."""
        for column in self._in_file:
            cell = read[column.index][i]
            if cell.unreadable:
                self._unreadable(row, column.field or "", column.header, cell.text)
        for column, cell in extra:
            if cell.unreadable:
                self._unreadable(row, "", column.header, cell.text)
        for column in self._read_order:
            if column.field is None:
                continue
            for code, reason, shown in read[column.index][i].flags:
                self._flag(row, column.field, column.header, shown, code, reason)
            if late and column.field == "registered_on":
                self._flag(row, "registered_on", column.header, late[2], late[0], late[1])

    def _unreadable(self, row: CleanRow, key: str, header: str, text: str):
        self._flag(
            row,
            key,
            header,
            text,
            "unreadable_characters",
            "Có ký tự không đọc được (tệp lưu sai bảng mã?); cần đối chiếu sổ gốc.",
        )

    def _flag(self, row: CleanRow, key: str, header: str, value: str, code: str, reason: str):
        row.flags.append([key, code, reason])
        row.problems.append(Problem(header, value, code, reason, "flag", key))

    # ------------------------------------------------------------ one cell

    def _cell(self, column: Column, raw, reference_year: int | None) -> Cell:
        """What `raw` says in `column`; a date with a two-digit year is read against `reference_year`."""
        text = raw if raw.__class__ is str else _as_text(raw)
        text = drop_unstorable(text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        value = " ".join(text.split())
        if not value:
            return _BLANK
        header_json = self._header_json.get(column.index) or _json(column.header) + ":"
        cell = Cell(text, unreadable="\ufffd" in text, verbatim_json=header_json + _json(text))
        key = column.field
        if key is None:
            return cell
        kind = self.kinds[key]
        folded = fold_normalized(value)
        flags: list[tuple[str, str, str]] = []
        if kind == YEAR:
            cell.stored = self._year(text, value, flags)
        elif kind == DATE or kind == YEAR_OR_DATE:
            cell.parsed, cell.per_row = self._date(
                raw if raw.__class__ is not str else value,
                text,
                folded,
                flags,
                partial_ok=kind == YEAR_OR_DATE,
                reference_year=reference_year,
            )
            if cell.parsed is not None and cell.parsed.value:
                cell.stored = cell.parsed.value
        else:
            cell.stored = self._text(text, value, folded, kind, flags)
            if cell.stored is not None and kind in (NAME, BOOK, NUMBER, KEY):
                cell.folded = folded if len(cell.stored) == len(value) else fold_normalized(cell.stored)
        cell.flags = tuple(flags)
        if cell.stored is not None:
            cell.data_json = self._key_json[column.index] + _json(cell.stored)
        return cell

    def _text(self, text: str, value: str, folded: str, kind: str, flags: list):
        # Markers of "illegible" and "none" are short.
        short = len(value) <= 20
        if short and (folded in ILLEGIBLE or _ONLY_MARKS.fullmatch(value)):
            flags.append(("illegible", "Sổ ghi không đọc được; để trống, cần đối chiếu sổ gốc.", text))
            return None
        if short and folded in NONE_WRITTEN and kind in (NAME, PLACE, TEXT):
            return None
        limit = MAX_NAME if kind in (NAME, BOOK, NUMBER, KEY) else MAX_TEXT
        if len(value) > limit:
            flags.append(("too_long", f"Dài quá {limit} ký tự; phần sau bị cắt khi tìm kiếm và in.", text[:80] + "…"))
            value = value[:limit]
        if kind == NAME:
            if "?" in value:
                flags.append(("illegible", "Có chữ không đọc được (“?”); cần đối chiếu sổ gốc.", text))
            elif _DIGITS.search(value):
                flags.append(("invalid_value", "Họ tên có chữ số; cần đối chiếu sổ gốc.", text))
        elif kind == SEX:
            sex = SEXES.get(folded)
            if sex is None:
                flags.append(("invalid_value", "Giới tính phải là Nam hoặc Nữ.", text))
            return sex
        elif kind == PLACE:
            old_name = self.places.search(folded)
            if old_name:
                flags.append(("historical_place", self.place_reasons[old_name[0]], text))
        elif kind == SCANS:
            return [name.strip() for name in re.split(r"[;,\n]", value) if name.strip()]
        return value

    def _year(self, text: str, value: str, flags: list) -> int | None:
        digits = value[:-2] if value.endswith(".0") else value
        if not digits.isdigit():
            flags.append(("invalid_value", "Năm đăng ký phải là số, ví dụ 1968.", text))
            return None
        year = int(digits)
        if len(digits) <= 2:
            year = 1900 + year
            flags.append(("two_digit_year", f"Năm ghi hai chữ số “{digits}”, hiểu là năm {year}.", text))
        if not dates.EARLIEST_YEAR <= year <= self.today.year:
            flags.append(
                ("invalid_value", f"Năm đăng ký {year} nằm ngoài khoảng {dates.EARLIEST_YEAR}–{self.today.year}.", text)
            )
            return None
        return year

    def _date(
        self, raw, text: str, folded: str, flags: list, *, partial_ok: bool, reference_year: int | None
    ) -> tuple[dates.ParsedDate | None, bool]:
        """The parsed date, and whether it was read against the row's year (a two-digit year)."""
        if isinstance(raw, str):
            if folded in ILLEGIBLE or _ONLY_MARKS.fullmatch(raw):
                flags.append(("illegible", "Sổ ghi không đọc được; cần đối chiếu sổ gốc.", text))
                return None, False
            if folded in NONE_WRITTEN:
                return None, False
        parsed = dates.parse(raw, reference_year=reference_year, today=self.today)
        per_row = False
        for code, reason in parsed.flags:
            per_row = per_row or code == "two_digit_year"
            if code == "partial_date" and partial_ok:
                continue
            flags.append((code, reason, text))
        if parsed.end and parsed.end > self.today:
            flags.append(("inconsistent_date", "Ngày sau ngày hôm nay.", text))
        return parsed, per_row

    # ------------------------------------------------------------ the whole row

    def _register(self, row: CleanRow, cell: dict[str, Cell], i: int, by_field: dict[str, list[Cell]]):
        """What makes row i a record (its `cell` of each of _row_fields): names, number, identity;
        rejection; the flags of the whole row."""
        kind = self.kind
        names = [cell[key].stored or "" for key in kind.subject_fields]
        row.subject_name, row.spouse_name = (names + [""])[:2]
        row.book, row.register_number = cell["book"].stored or "", cell["number"].stored or ""
        if not any(names) and not row.register_number:
            row.rejected = True
            header = self.header_for(kind.subject_fields[0])
            row.problems.append(
                Problem(
                    header,
                    "",
                    "unusable",
                    "Không dùng được: không có họ tên người được đăng ký và không có số đăng ký "
                    "(cần ít nhất một trong hai).",
                    "error",
                    kind.subject_fields[0],
                )
            )
            return
        row.sex = cell["sex"].stored or ""
        row.scans = cell["scans"].stored or []
        if not row.register_number:
            self._flag(
                row,
                "number",
                self.header_for("number"),
                "",
                "missing_number",
                "Sổ không ghi số đăng ký; bản ghi được nhận diện theo nội dung dòng.",
            )
        if row.year is None:
            self._flag(
                row,
                "year",
                self.header_for("year"),
                "",
                "missing_year",
                "Không có năm đăng ký (cột năm hoặc ngày đăng ký).",
            )
        for key in kind.expected_fields:
            if not cell[key].stored and not any(f[0] == key for f in row.flags):
                who = kind.field(key).label.split()[-1]
                self._flag(row, key, self.header_for(key), "", "missing_parent", f"Sổ không ghi họ tên {who}.")
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
                    for c in self._in_file
                    if c.field and by_field[c.field][i] is not _BLANK
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
            self._flag(
                row,
                event_field,
                self.header_for(event_field),
                event.text,
                "inconsistent_date",
                "Ngày sự kiện sau ngày đăng ký.",
            )


_BLANK = Cell("")  # a cell holding nothing, or nothing but spaces
_BLANKS = {"": _BLANK, None: _BLANK}


def _as_text(value) -> str:
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


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def chunks(source, after_row: int, size: int):
    """(last row number, fraction of the file read, [(row number, cells)]) for each
    `size` rows of `source` after row `after_row`; the last chunk may be empty."""
    chunk, last = [], after_row
    for number, cells in source.rows:
        if number <= after_row:
            continue
        chunk.append((number, cells))
        last = number
        if len(chunk) >= size:
            yield last, source.fraction(), chunk
            chunk = []
    yield last, 1.0, chunk


@dataclass
class ProcessFailure:
    traceback: str


def validation_process(
    queue, path: str, kind_code: str, today: dt.date, after_row: int, size: int, share: int, shares: int
) -> None:
    """Body of a validation process (importer.run_batch with workers): read the file
    itself — rows never cross between processes, only results do — and validate
    chunks share, share + shares, … onto `queue`, in order; then None."""
    from chinhquyenso.civil_records.fields import KINDS
    from chinhquyenso.civil_records.reading import open_source

    gc.disable()  # see importer._without_cycle_collection; this process ends with the file
    try:
        source = open_source(path)
        try:
            validator = RowValidator(KINDS[kind_code], source.headers, today=today)
            for index, (last, fraction, rows) in enumerate(chunks(source, after_row, size)):
                if index % shares == share:
                    queue.put((last, fraction, validator.validate(rows)))
        finally:
            source.close()
        queue.put(None)
    except BaseException:
        queue.put(ProcessFailure(traceback.format_exc()))
