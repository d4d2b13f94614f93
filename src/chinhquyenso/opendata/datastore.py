"""The DataStore: a tabular resource's rows in a table of their own, queryable the way CKAN's
datastore_search queries them, on SQLite and on PostgreSQL alike.

Layout. A resource's table is "opendata_ds_<resource pk>": an "_id" integer primary key (the row's
place in the file, from 1), then one column "c<n>" per published column, in order — the published
names (any Vietnamese text) never reach SQL; `Resource.datastore_fields` maps them, by position, to
their columns and types. A text column "c<n>" has a folded twin "f<n>" (core.text.fold: lower case,
no diacritics), NULL where folding changes nothing, which `q` matches: "ha noi" finds "Hà Nội".

Types are inferred from the values, as CKAN's loaders do: "int" when every non-empty value is an
integer of 64 bits written without leading zeros (a code such as "00123" stays text: its zeros are
part of it), "numeric" when every one is a plain decimal with a dot ("12.5"; "1.234,5" is text) of at
most 15 significant digits — stored as a double, which holds such a number exactly on both databases
and is answered as a JSON number, as CKAN's array_to_json answers its numeric columns — "date" when
every one is an ISO date (yyyy-mm-dd), else "text". An empty cell is NULL in a typed column and ""
in a text one (CKAN's rule).

Indexes. After the rows are in, each of the first INDEXED_COLUMNS columns gets a b-tree index, except
a text column holding a value longer than INDEX_MAX_CHARS (prose, not a key anyone filters on; and a
PostgreSQL b-tree entry cannot exceed about 2.7 kB). datastore_search's filters are equalities on
any column and its sort any column, so one index per column is what makes both cheap; past twenty
columns a table is usually a wide pivot whose key columns come first, and more indexes would cost
each load more than the queries gain.

Loading reads every row first (checking it and inferring the types, spooling it to a temporary
file), and writes only when all of them are good: a bad row or one row too many raises before the
table is touched. The writes run inside the caller's transaction, so a resource replaced while
being read keeps its old table until the new one is committed.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.params import MAX_INTEGER, integer
from chinhquyenso.core.params import offset as bounded_offset
from chinhquyenso.core.text import fold, fold_normalized, format_number
from chinhquyenso.opendata.tabular import check_row, clean_header

INDEXED_COLUMNS = 20
INDEX_MAX_CHARS = 500
BATCH_ROWS = 5_000
SPOOL_IN_MEMORY_BYTES = 16 << 20  # a small table never touches the disk
MAX_FILTER_VALUES = 100
MAX_QUERY_WORDS = 10
DEFAULT_LIMIT = 100  # CKAN's

TABLE_NAME = re.compile(r"opendata_ds_[0-9]+\Z")
INTEGER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,18})\Z")
DECIMAL_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+\Z")
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
INT64 = (-(2**63), 2**63 - 1)
MAX_SIGNIFICANT_DIGITS = 15  # what a double holds exactly, written back the same

SQL_TYPES = {
    "postgresql": {"int": "bigint", "numeric": "double precision", "date": "date", "text": "text"},
    "sqlite": {"int": "integer", "numeric": "real", "date": "text", "text": "text"},
}
TYPE_NAMES = {"int": "số nguyên", "numeric": "số", "date": "ngày (YYYY-MM-DD)", "text": "văn bản"}


@dataclass(frozen=True)
class Column:
    id: str  # as published
    type: str  # "int" | "numeric" | "date" | "text"
    sql: str  # its column in the table ("_id", "c3")
    folded: str | None = None  # the folded twin of a text column ("f3")


# ---------------------------------------------------------------- loading


def table_name(resource) -> str:
    return f"opendata_ds_{resource.pk}"


def load(resource, header: list, rows: Iterable[list]) -> None:
    """Create (or replace) the resource's table with `rows` under `header`; set and save its
    datastore_table, datastore_fields and row_count. DomainError naming "file" for a bad header or row
    or too many rows — before anything is written. Call inside the caller's transaction."""
    if resource.pk is None:
        raise ValueError("load() needs a saved resource: its table is named after its id")
    header = clean_header(list(header))
    width = len(header)
    max_rows = settings.CQS["OPENDATA_DATASTORE_MAX_ROWS"]
    kinds: list[str | None] = [None] * width
    longest = [0] * width
    count = 0
    with tempfile.SpooledTemporaryFile(
        max_size=SPOOL_IN_MEMORY_BYTES, mode="w+", newline="", encoding="utf-8"
    ) as spool:
        writer = csv.writer(spool)
        for line, row in enumerate(rows, 2):
            cells = [cell if cell.__class__ is str else _cell_text(cell) for cell in row]
            check_row(cells, width, line)
            count += 1
            if count > max_rows:
                raise DomainError(
                    f"Bảng có hơn {format_number(max_rows)} dòng, vượt giới hạn của kho dữ liệu (DataStore): "
                    "hãy chia thành nhiều tài nguyên nhỏ hơn.",
                    "file",
                )
            for index, cell in enumerate(cells):
                if not cell:
                    continue
                if not cell.isascii():
                    cells[index] = cell = unicodedata.normalize("NFC", cell)
                if len(cell) > longest[index]:
                    longest[index] = len(cell)
                kind = kinds[index]
                if kind != "text":
                    kinds[index] = _merge(kind, _classify(cell))
            writer.writerow(cells)
        spool.seek(0)
        columns = _columns(header, [kind or "text" for kind in kinds])
        table = table_name(resource)
        with transaction.atomic():
            _drop_table(resource.datastore_table)
            _drop_table(table)
            _create_table(table, columns)
            _insert(table, columns, csv.reader(spool))
            _index(table, columns, longest)
    resource.datastore_table = table
    resource.datastore_fields = [{"id": column.id, "type": column.type} for column in columns]
    resource.row_count = count
    resource.save(update_fields=["datastore_table", "datastore_fields", "row_count", "modified_at"])


def drop(resource) -> None:
    """Remove the resource's table, if it has one, and say so on the resource."""
    _drop_table(resource.datastore_table)
    resource.datastore_table, resource.datastore_fields, resource.row_count = "", [], None
    if resource.pk is not None:
        resource.save(update_fields=["datastore_table", "datastore_fields", "row_count", "modified_at"])


def _cell_text(value) -> str:
    """A generated table's value (opendata.live passes numbers and dates) as the text a file would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DomainError("Bảng có giá trị số không hữu hạn (NaN hoặc vô cực).", "file")
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _classify(cell: str) -> str:
    if INTEGER_TEXT.match(cell):
        return "int" if INT64[0] <= int(cell) <= INT64[1] else "text"
    if DECIMAL_TEXT.match(cell):
        digits = cell.lstrip("-").replace(".", "").lstrip("0")
        return "numeric" if len(digits) <= MAX_SIGNIFICANT_DIGITS else "text"
    if DATE_TEXT.match(cell):
        try:
            dt.date.fromisoformat(cell)
        except ValueError:
            return "text"
        return "date"
    return "text"


def _merge(kind: str | None, new: str) -> str:
    if kind is None or kind == new:
        return new
    if {kind, new} == {"int", "numeric"}:
        return "numeric"
    return "text"


def _columns(header: list[str], types: list[str]) -> list[Column]:
    return [
        Column(name, kind, f"c{index}", f"f{index}" if kind == "text" else None)
        for index, (name, kind) in enumerate(zip(header, types, strict=True))
    ]


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _drop_table(table: str) -> None:
    if not table:
        return
    if not TABLE_NAME.match(table):  # never a name the code did not make
        raise ValueError(f"not a DataStore table: {table!r}")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_quote(table)}")


def _create_table(table: str, columns: list[Column]) -> None:
    types = SQL_TYPES[connection.vendor]
    definitions = [f"{_quote('_id')} {types['int']} PRIMARY KEY"]
    for column in columns:
        definitions.append(f"{_quote(column.sql)} {types[column.type]}")
        if column.folded:
            definitions.append(f"{_quote(column.folded)} text")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {_quote(table)} ({', '.join(definitions)})")


def _converters(columns: list[Column]):
    """For each column, text → the value stored (text columns give two: the text and its folded twin)."""
    postgres = connection.vendor == "postgresql"

    def text(cell):
        return cell

    def folded(cell):
        if not cell:
            return None
        twin = fold_normalized(cell)
        return None if twin == cell else twin

    def as_int(cell):
        return int(cell) if cell else None

    def as_float(cell):
        return float(cell) if cell else None

    def as_date(cell):
        if not cell:
            return None
        return dt.date.fromisoformat(cell) if postgres else cell

    converters = []
    for column in columns:
        if column.type == "text":
            converters.extend((text, folded))
        else:
            converters.append({"int": as_int, "numeric": as_float, "date": as_date}[column.type])
    return converters


def _stored_columns(columns: list[Column]) -> list[str]:
    names = []
    for column in columns:
        names.append(column.sql)
        if column.folded:
            names.append(column.folded)
    return names


def _insert(table: str, columns: list[Column], cells_rows) -> None:
    converters = _converters(columns)
    # Each cell feeds its converters: a text cell is both its value and its folded twin.
    sources = []
    for position, column in enumerate(columns):
        sources.append(position)
        if column.folded:
            sources.append(position)
    plan = list(zip(sources, converters, strict=True))
    names = ["_id", *_stored_columns(columns)]

    def values():
        for number, cells in enumerate(cells_rows, 1):
            yield (number, *[convert(cells[source]) for source, convert in plan])

    column_list = ", ".join(_quote(name) for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: PostgreSQL's bulk path, several times faster than batched INSERTs.
            with cursor.cursor.copy(f"COPY {_quote(table)} ({column_list}) FROM STDIN") as copy:
                for row in values():
                    copy.write_row(row)
            return
        statement = f"INSERT INTO {_quote(table)} ({column_list}) VALUES ({', '.join(['%s'] * len(names))})"
        batch = []
        for row in values():
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                cursor.executemany(statement, batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)


def _index(table: str, columns: list[Column], longest: list[int]) -> None:
    with connection.cursor() as cursor:
        for position, column in enumerate(columns[:INDEXED_COLUMNS]):
            if column.type == "text" and longest[position] > INDEX_MAX_CHARS:
                continue
            cursor.execute(f"CREATE INDEX {_quote(f'{table}_{column.sql}')} ON {_quote(table)} ({_quote(column.sql)})")
        if connection.vendor == "postgresql":
            # Fresh statistics, so the first queries already use the indexes (autovacuum comes later).
            cursor.execute(f"ANALYZE {_quote(table)}")


# ---------------------------------------------------------------- searching


def _layout(resource) -> tuple[str, list[Column]]:
    table = resource.datastore_table
    if not table or not TABLE_NAME.match(table):
        raise NotFound("Tài nguyên này không có bảng dữ liệu trong kho dữ liệu (DataStore).", "resource_id")
    columns = [Column("_id", "int", "_id")]
    for index, field in enumerate(resource.datastore_fields):
        kind = field["type"]
        columns.append(Column(field["id"], kind, f"c{index}", f"f{index}" if kind == "text" else None))
    return table, columns


def _names(value, what: str) -> list[str]:
    """A list of field ids, given as a list or as CKAN's comma-separated text (a quoted id may hold commas)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            parts = next(csv.reader([value], skipinitialspace=True), [])
        except csv.Error:  # a NUL, a stray quote: not a list of names
            raise DomainError(f"“{what}” không phải danh sách tên trường hợp lệ.", what) from None
        return [part.strip() for part in parts if part.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(part, str) for part in value):
        return [part.strip() for part in value]
    raise DomainError(f"“{what}” phải là danh sách tên trường.", what)


def _field(by_id: dict[str, Column], name: str, what: str) -> Column:
    try:
        return by_id[name]
    except KeyError:
        raise DomainError(f"Không có trường “{name[:100]}” trong bảng dữ liệu.", what) from None


def _filter_value(column: Column, value, what: str):
    """A filter's value as its column stores it; DomainError naming `what` when it cannot be one."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DomainError(f"Giá trị lọc của trường “{column.id}” phải là văn bản hoặc số.", what)
    text = value.strip() if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    if column.type == "text":
        return unicodedata.normalize("NFC", value) if isinstance(value, str) else text
    wrong = DomainError(f"Giá trị lọc “{text[:50]}” của trường “{column.id}” phải là {TYPE_NAMES[column.type]}.", what)
    if column.type == "int":
        if not re.fullmatch(r"-?[0-9]{1,19}", text):
            raise wrong
        number = int(text)
        if not INT64[0] <= number <= INT64[1]:
            raise wrong
        return number
    if column.type == "numeric":
        try:
            if not text.isascii() or len(text) > 40:
                raise ValueError
            number = float(text)
        except ValueError:
            raise wrong from None
        if not math.isfinite(number):
            raise wrong
        return number
    try:
        day = dt.date.fromisoformat(text) if DATE_TEXT.match(text) else None
    except ValueError:
        day = None
    if day is None:
        raise wrong
    return day if connection.vendor == "postgresql" else day.isoformat()


def _like(word: str) -> str:
    return "%" + word.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def _matches(column: Column, word: str) -> tuple[str, str]:
    """SQL (and its parameter) for: `column` holds folded `word`."""
    if column.folded:
        target = f"COALESCE({_quote(column.folded)}, {_quote(column.sql)})"
    else:
        target = f"CAST({_quote(column.sql)} AS TEXT)"
    return f"{target} LIKE %s ESCAPE '!'", _like(word)


def _words(text, what: str) -> list[str]:
    if not isinstance(text, str):
        raise DomainError(f"“{what}” phải là văn bản.", what)
    words = fold(text).split()
    if len(words) > MAX_QUERY_WORDS or any(len(word) > 100 for word in words):
        raise DomainError(f"Chuỗi tìm kiếm quá dài (tối đa {MAX_QUERY_WORDS} từ).", what)
    return words


def _where(by_id: dict[str, Column], columns: list[Column], filters, q) -> tuple[list[str], list]:
    clauses: list[str] = []
    params: list = []
    if filters:
        if not isinstance(filters, dict):
            raise DomainError("“filters” phải là một đối tượng {trường: giá trị}.", "filters")
        for name, raw in filters.items():
            column = _field(by_id, name, "filters")
            values = raw if isinstance(raw, (list, tuple)) else [raw]
            if not values or len(values) > MAX_FILTER_VALUES:
                raise DomainError(f"Trường “{column.id}” lọc theo từ 1 đến {MAX_FILTER_VALUES} giá trị.", "filters")
            converted = [_filter_value(column, value, "filters") for value in values]
            present = [value for value in converted if value is not None]
            parts = []
            if present:
                parts.append(f"{_quote(column.sql)} IN ({', '.join(['%s'] * len(present))})")
                params.extend(present)
            if len(present) < len(converted):
                parts.append(f"{_quote(column.sql)} IS NULL")
            clauses.append("(" + " OR ".join(parts) + ")")
    if isinstance(q, dict):
        for name, text in q.items():
            column = _field(by_id, name, "q")
            for word in _words(text, "q"):
                clause, param = _matches(column, word)
                clauses.append(clause)
                params.append(param)
    elif q:
        searched = columns[1:]  # every published column; _id is not content
        for word in _words(q, "q"):
            matches = [_matches(column, word) for column in searched]
            clauses.append("(" + " OR ".join(clause for clause, _ in matches) + ")")
            params.extend(param for _, param in matches)
    return clauses, params


def _order(by_id: dict[str, Column], sort) -> list[str]:
    """ORDER BY terms for CKAN's sort ("field asc, other desc", or a list of such); _id last breaks ties,
    so paging never repeats or skips a row. NULLs come last going up and first going down on both
    databases (PostgreSQL's own order, which its indexes serve)."""
    terms: list[str] = []
    for part in _names(sort, "sort"):
        name, direction = part, "asc"
        lowered = part.lower()
        for suffix in (" asc", " desc"):
            if lowered.endswith(suffix):
                name, direction = part[: -len(suffix)].strip(), suffix.strip()
        name = name.strip().removeprefix('"').removesuffix('"')
        column = _field(by_id, name, "sort")
        nulls = "NULLS LAST" if direction == "asc" else "NULLS FIRST"
        terms.append(f"{_quote(column.sql)} {direction.upper()} {nulls}")
        if column.sql == "_id":
            return terms
    terms.append(f"{_quote('_id')} ASC")
    return terms


def search(
    resource,
    *,
    filters: dict | None = None,
    q: str | dict = "",
    limit: int | str = DEFAULT_LIMIT,
    offset: int | str = 0,
    sort: str | list = "",
    fields: list[str] | str | None = None,
    include_total: bool = True,
) -> dict:
    """datastore_search over the resource's table: {"fields", "records", "total", "limit", "offset"}
    (no "total" when include_total is false). `filters` {field: value or [values]} are equalities, `q`
    matches folded words anywhere (or {field: words}), `sort` "field asc|desc, …", `fields` the columns
    answered. limit is capped at OPENDATA_MAX_ROWS as CKAN caps it at its rows_max; offset at
    core.params' bound. An unknown field or a value its column cannot hold: DomainError naming the
    parameter."""
    table, columns = _layout(resource)
    by_id = {column.id: column for column in columns}
    if fields:
        chosen = [_field(by_id, name, "fields") for name in _names(fields, "fields")]
    else:
        chosen = columns
    clauses, params = _where(by_id, columns, filters, q)
    order = _order(by_id, sort)
    rows_max = settings.CQS["OPENDATA_MAX_ROWS"]
    limit = min(integer(limit, "limit", default=DEFAULT_LIMIT, maximum=MAX_INTEGER), rows_max)
    offset = bounded_offset(offset)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    select = ", ".join(_quote(column.sql) for column in chosen)
    postgres = connection.vendor == "postgresql"
    result: dict = {"fields": [{"id": column.id, "type": column.type} for column in chosen]}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select} FROM {_quote(table)}{where} ORDER BY {', '.join(order)} LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        dates = [column.type == "date" and postgres for column in chosen]
        result["records"] = [
            {
                column.id: (value.isoformat() if is_date and value is not None else value)
                for column, is_date, value in zip(chosen, dates, row, strict=True)
            }
            for row in cursor.fetchall()
        ]
        if include_total:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}{where}", params)
            result["total"] = cursor.fetchone()[0]
            result["total_was_estimated"] = False
    result["limit"], result["offset"] = limit, offset
    return result


def preview(resource, limit: int = 20) -> dict:
    """The first rows of the resource's table, in file order, for its page; the total is the count
    kept on the resource (no COUNT over a large table to show twenty rows)."""
    result = search(resource, limit=limit, include_total=False)
    result["total"] = resource.row_count or 0
    return result
