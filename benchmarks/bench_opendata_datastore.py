"""Benchmark: the open-data DataStore — loading a large tabular resource, then datastore_search.

    .venv/bin/python benchmarks/bench_opendata_datastore.py --backend sqlite   --rows 1000000
    .venv/bin/python benchmarks/bench_opendata_datastore.py --backend postgres --rows 1000000

1. Generate (untimed) a CSV of --rows rows as an agency publishes a statistics table: commune code
   (text, leading zeros), commune name (Vietnamese), year (int), indicator (text, 20 values), value
   (numeric), updated on (date) — 10,000 communes, so about rows/10,000 rows per code.
2. The upload path, timed: opendata.tabular.read_table over the file's bytes (decoding, delimiter,
   width and character checks) feeding opendata.datastore.load (type inference, spool, table,
   bulk insert — COPY on PostgreSQL, executemany on SQLite —, folded twins, one index per column).
3. The limit, timed: the same rows, already split and typed by plain Python (csv.reader, int(),
   float(), no checks), written by the database's bare bulk path into a table of the same six typed
   columns — COPY on PostgreSQL, executemany in one transaction on SQLite —, then the same indexes.
4. datastore_search, --queries times: filters {commune code: one of the codes} (an indexed
   equality), sort "year desc", limit 20, with the total — p50/p95 — against the same two
   statements (the page, then COUNT(*)) in raw SQL on the same table in the same run. A few `q`
   searches (folded words, a full scan by design) are timed too.

Results go to benchmarks/results/bench_opendata_datastore-<backend>-<time>.json.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import time

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"
HEADER = ["Mã xã", "Tên xã", "Năm", "Chỉ tiêu", "Giá trị", "Ngày cập nhật"]
NAMES = [
    "Mỹ Hòa Hưng",
    "Long Xuyên",
    "Châu Đốc",
    "An Phú",
    "Tân Châu",
    "Phú Tân",
    "Chợ Mới",
    "Thoại Sơn",
    "Tri Tôn",
    "Tịnh Biên",
    "Châu Thành",
    "Núi Sập",
]
INDICATORS = [f"Chỉ tiêu số {n} — tỉ lệ hộ được phục vụ" for n in range(1, 21)]
COMMUNES = 10_000


def generate(rows: int) -> bytes:
    generator = random.Random(22)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    start = dt.date(2024, 1, 1)
    for number in range(rows):
        commune = number % COMMUNES + 1
        writer.writerow(
            [
                f"{commune:05d}",
                f"Xã {NAMES[commune % len(NAMES)]} {commune}",
                2015 + (number // COMMUNES) % 11,
                INDICATORS[generator.randrange(20)],
                f"{generator.uniform(0, 100000):.2f}",
                (start + dt.timedelta(days=generator.randrange(700))).isoformat(),
            ]
        )
    return out.getvalue().encode()


def make_resource():
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole
    from chinhquyenso.core.uploads import store_generated
    from chinhquyenso.opendata.models import Dataset, Licence, Resource
    from chinhquyenso.org import services as org
    from chinhquyenso.org.models import AgencyKind

    admin = accounts.create_officer(
        actor=None, username="qt.tinh", password=None, full_name="Quản trị tỉnh", global_role=GlobalRole.PROVINCE_ADMIN
    )
    agency = org.create_agency(
        actor=admin, name="Cục Thống kê", kind=AgencyKind.DEPARTMENT, electronic_code="000.00.30.H01", code="thong-ke"
    )
    licence = Licence.objects.filter(is_default=True).first() or Licence.objects.create(
        code="cc-by-4.0", title="CC BY 4.0", url="https://creativecommons.org/licenses/by/4.0/", is_default=True
    )
    dataset = Dataset.objects.create(name="chi-tieu-xa", title="Chỉ tiêu theo xã", agency=agency, licence=licence)
    stored = store_generated(b"-", content_type="text/csv", extension="csv", name="chi-tieu.csv")
    return Resource.objects.create(dataset=dataset, name="Chỉ tiêu theo xã", format="CSV", file=stored)


def bare_load(data: bytes) -> tuple[float, float]:
    """The limit: seconds to insert the typed rows with the database's bare bulk path, and to index them."""
    from django.db import connection, transaction

    types = {
        "postgresql": ["text", "text", "bigint", "text", "double precision", "date"],
        "sqlite": ["text", "text", "integer", "text", "real", "text"],
    }[connection.vendor]
    postgres = connection.vendor == "postgresql"
    columns = ", ".join(f"c{n} {kind}" for n, kind in enumerate(types))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bare_limit (_id {types[2]} PRIMARY KEY, {columns})")
        reader = csv.reader(io.StringIO(data.decode(), newline=""))
        next(reader)

        def rows():
            for number, (code, name, year, indicator, value, day) in enumerate(reader, 1):
                yield (
                    number,
                    code,
                    name,
                    int(year),
                    indicator,
                    float(value),
                    dt.date.fromisoformat(day) if postgres else day,
                )

        if postgres:
            with cursor.cursor.copy("COPY bare_limit FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
        else:
            cursor.executemany("INSERT INTO bare_limit VALUES (%s, %s, %s, %s, %s, %s, %s)", rows())
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for n in range(6):
            cursor.execute(f"CREATE INDEX bare_limit_c{n} ON bare_limit (c{n})")
        if postgres:
            cursor.execute("ANALYZE bare_limit")
    return inserted, time.perf_counter() - started


def run(args):
    from django.db import connection, transaction

    from chinhquyenso.opendata import datastore
    from chinhquyenso.opendata.tabular import read_table

    c.print_machine(args.pg_server)
    started = time.perf_counter()
    data = generate(args.rows)
    print(f"Generated {args.rows:,} rows, {len(data) / 1e6:.1f} MB of CSV in {time.perf_counter() - started:.1f} s")
    resource = make_resource()

    started = time.perf_counter()
    with transaction.atomic():
        table = read_table(data, "CSV")
        datastore.load(resource, table.header, table.rows)
    load_s = time.perf_counter() - started
    print(f"read_table + datastore.load: {load_s:.1f} s ({args.rows / load_s:,.0f} rows/s)")
    print("  types:", ", ".join(f"{f['id']}={f['type']}" for f in resource.datastore_fields))

    bare_insert_s, bare_index_s = bare_load(data)
    bare_s = bare_insert_s + bare_index_s
    print(f"limit (bare bulk insert + same indexes): {bare_insert_s:.1f} + {bare_index_s:.1f} s = {bare_s:.1f} s")

    generator = random.Random(7)
    codes = [f"{generator.randrange(1, COMMUNES + 1):05d}" for _ in range(args.queries)]
    # Warm both paths (first-statement costs, page cache) before timing.
    datastore.search(resource, filters={"Mã xã": codes[0]}, sort="Năm desc", limit=20)
    platform_times, raw_times = [], []
    quote = connection.ops.quote_name
    table_name = quote(resource.datastore_table)
    page_sql = (
        f"SELECT _id, c0, c1, c2, c3, c4, c5 FROM {table_name} WHERE c0 IN (%s) "
        "ORDER BY c2 DESC NULLS FIRST, _id ASC LIMIT %s OFFSET %s"
    )
    count_sql = f"SELECT COUNT(*) FROM {table_name} WHERE c0 IN (%s)"
    totals = []
    for code in codes:
        started = time.perf_counter()
        result = datastore.search(resource, filters={"Mã xã": code}, sort="Năm desc", limit=20)
        platform_times.append(time.perf_counter() - started)
        totals.append(result["total"])
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(page_sql, [code, 20, 0])
            cursor.fetchall()
            cursor.execute(count_sql, [code])
            cursor.fetchone()
        raw_times.append(time.perf_counter() - started)
    platform = c.summary_ms(platform_times)
    raw = c.summary_ms(raw_times)
    q_times = []
    for word in ["hoa hung", "chau doc 2024", "tinh bien"][: max(1, min(3, args.queries))]:
        started = time.perf_counter()
        datastore.search(resource, q=word, limit=20)
        q_times.append(time.perf_counter() - started)
    print()
    print(
        c.table(
            ["", "p50 ms", "p95 ms", "max ms"],
            [
                [
                    "datastore.search (filter + sort + limit 20 + total)",
                    platform["p50"],
                    platform["p95"],
                    platform["max"],
                ],
                ["raw SQL, same statements", raw["p50"], raw["p95"], raw["max"]],
            ],
        )
    )
    print(
        f"ratio p95: {platform['p95'] / raw['p95']:.2f}×; rows matched per query: mean {sum(totals) / len(totals):.0f}"
    )
    print(f"q (folded words, full scan): {', '.join(f'{t * 1000:.0f} ms' for t in q_times)}")
    print(f"load vs limit: {load_s / bare_s:.2f}× the bare bulk path with the same indexes")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_opendata_datastore-{args.backend}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "machine": c.machine(args.pg_server),
                "rows": args.rows,
                "csv_mb": len(data) / 1e6,
                "load_s": load_s,
                "bare_insert_s": bare_insert_s,
                "bare_index_s": bare_index_s,
                "search_ms": platform,
                "raw_ms": raw,
                "q_ms": [t * 1000 for t in q_times],
            },
            indent=2,
        )
    )
    print(f"\nResults: {out}")


def main():
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=200)
    args = p.parse_args()
    c.run_on_fresh_database(args, "cqs_bench_opendata_datastore", run)


if __name__ == "__main__":
    main()
