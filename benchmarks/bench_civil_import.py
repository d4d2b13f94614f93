"""Benchmark: importing a historical birth register list — docs/benchmarks.md §8.

    .venv/bin/python benchmarks/bench_civil_import.py --backend sqlite   --rows 1000000
    .venv/bin/python benchmarks/bench_civil_import.py --backend postgres --rows 1000000

1. Generate (untimed) a CSV of --rows birth entries, UTF-8, as a commune's
   digitization team would type them: 22 columns, books of 500 entries from
   1955 to 2015, dates mostly dd/mm/yyyy; 2 % impossible dates (31/04,
   29/02 in a non-leap year), 3 % year or month/year only, 1 % lunar dates,
   1 % two-digit years, 6 % without the father's name, 1 % illegible
   entries, 1 % pre-1975 place names, 0.2 % rows with neither a name nor a
   number (rejected). Written once per size and reused (benchmarks/data/).
2. The limit: the database's own bulk load of the same file without any
   validation, into a table of 22 text columns —
     PostgreSQL: COPY … FROM STDIN (FORMAT csv, HEADER), the file streamed;
     SQLite: the sqlite3 shell's `.import --csv` when installed, and
             Python's sqlite3 executemany over csv.reader in one transaction.
3. The second limit: the database's own bulk load of the records the import
   stored (verbatim, normalized values and flags as JSON, names folded for
   search) into an empty copy of the records table with the same indexes —
     PostgreSQL: COPY … FROM STDIN of the records dumped by COPY … TO;
     SQLite: INSERT … SELECT in one transaction —
   what storing the validated rows costs without reading or validating them.
4. The import: `importer.run_batch` on the same file — reading, decoding,
   validating every field, flags, identity check against the stored records,
   inserting records and problems, checkpoint and audit per chunk — as
   `cqs import-civil` runs it. Rows/s, and the process's resident memory
   sampled after every chunk: the peak, and the RSS at 10 %, 50 % and 100 %
   of the file (it must not grow with the file).

Results go to benchmarks/results/bench_civil_import-<backend>-<time>.json.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"
DATA = c.ROOT / "benchmarks" / "data"
HEADERS = [
    "Quyển số",
    "Số đăng ký",
    "Năm đăng ký",
    "Ngày đăng ký",
    "Họ và tên",
    "Giới tính",
    "Ngày sinh",
    "Nơi sinh",
    "Quê quán",
    "Dân tộc",
    "Quốc tịch",
    "Họ và tên cha",
    "Năm sinh cha",
    "Dân tộc cha",
    "Nơi cư trú cha",
    "Họ và tên mẹ",
    "Năm sinh mẹ",
    "Dân tộc mẹ",
    "Nơi cư trú mẹ",
    "Người đi khai",
    "Công chức hộ tịch",
    "Ghi chú",
]
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Huỳnh",
    "Hoàng",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Châu",
    "Thạch",
    "Danh",
    "Néang",
]
MIDDLE_M = ["Văn", "Hữu", "Minh", "Thanh", "Quốc", "Công", "Đức", "Hoàng"]
MIDDLE_F = ["Thị", "Ngọc", "Thanh", "Kim", "Mỹ", "Thu", "Bích", "Hồng"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hòa",
    "Hoà",
    "Khánh",
    "Lộc",
    "Phúc",
    "Quý",
    "Sơn",
    "Tâm",
    "Thủy",
    "Thuỷ",
    "Tuấn",
    "Vinh",
    "Xuân",
    "Yến",
    "Lan",
    "Mai",
    "Hương",
    "Nga",
    "Oanh",
    "Phượng",
    "Anh",
    "Bảo",
    "Châu",
    "Diễm",
    "Duy",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiếu",
    "Hiền",
    "Hoàng",
    "Hùng",
    "Huy",
    "Khoa",
    "Kiên",
    "Linh",
    "Long",
    "Luân",
    "Minh",
    "My",
    "Nam",
    "Ngân",
    "Nghĩa",
    "Nhân",
    "Nhi",
    "Nhung",
    "Phong",
    "Phương",
    "Quân",
    "Sang",
    "Tài",
    "Thanh",
    "Thảo",
    "Thắng",
    "Thiện",
    "Thịnh",
    "Thu",
    "Thư",
    "Tiến",
    "Toàn",
    "Trang",
    "Trí",
    "Trinh",
    "Trung",
    "Tú",
    "Tùng",
    "Uyên",
    "Vân",
    "Việt",
    "Vy",
    "Yên",
]
PLACES = [
    "xã Kiến An, huyện Chợ Mới",
    "xã Mỹ Hội Đông, huyện Chợ Mới",
    "Long Xuyên",
    "Châu Đốc",
    "xã Vĩnh Hòa, Tân Châu",
    "Bệnh viện Đa khoa An Giang",
    "xã Phú Hiệp, Phú Tân",
]
OLD_PLACES = [
    "xã Kiến An, tỉnh Long Xuyên",
    "quận Chợ Mới, tỉnh An Giang (Kiến Phong)",
    "Sa Đéc, tỉnh Sa Đéc",
    "xã Châu Phong, tỉnh Châu Đốc",
]


def args_():
    p = c.parser("Civil-status register import: validated streaming import against the database's own bulk load.")
    p.add_argument("--rows", type=int, default=1_000_000, help="birth rows in the CSV (default %(default)s)")
    p.add_argument("--chunk", type=int, default=None, help="rows per transaction (default: importer.CHUNK)")
    return p.parse_args()


def _name(rnd: random.Random, female: bool) -> str:
    # A third of given names have two syllables ("Ngọc Anh"), drawn from about a million possible names
    # per sex: names vary as in a real register, while dates, places and the like repeat.
    given = rnd.choice(GIVEN) if rnd.random() < 0.67 else f"{rnd.choice(GIVEN)} {rnd.choice(GIVEN)}"
    return f"{rnd.choice(FAMILY)} {rnd.choice(MIDDLE_F if female else MIDDLE_M)} {given}"


def _date(rnd: random.Random, born: dt.date) -> str:
    """The birth date as the register list has it: mostly dd/mm/yyyy, some of the historical forms."""
    year, month, day = born.year, born.month, born.day
    roll = rnd.random()
    if roll < 0.01:
        return rnd.choice([f"31/04/{year}", f"29/02/{year if year % 4 else year + 1}", f"31/06/{year}"])
    if roll < 0.02:
        return rnd.choice([f"31/09/{year}", f"30/02/{year}"])
    if roll < 0.035:
        return f"năm {year}"
    if roll < 0.05:
        return f"tháng {month}/{year}"
    if roll < 0.06:
        return f"ngày {day} tháng {month} năm {year} âm lịch"
    if roll < 0.07:
        return f"{day}/{month}/{year % 100:02d}"
    return f"{day:02d}/{month:02d}/{year}"


def generate(path, rows: int) -> None:
    rnd = random.Random(1968)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for n in range(rows):
            year = 1955 + (n // 16_500) % 61
            book = f"{(n // 500) % 40 + 1:02d}/{year}"
            female = rnd.random() < 0.5
            registered = dt.date(year, 1, 1) + dt.timedelta(days=rnd.randint(40, 364))
            born = _date(rnd, registered - dt.timedelta(days=rnd.randint(1, 40)))
            roll = rnd.random()
            name = _name(rnd, female)
            number = str(n % 500 + 1)
            if roll < 0.002:
                name, number = "", ""
            elif roll < 0.012:
                name = "không rõ"
            father = "" if rnd.random() < 0.06 else _name(rnd, False)
            place = rnd.choice(OLD_PLACES) if rnd.random() < 0.01 else rnd.choice(PLACES)
            writer.writerow(
                [
                    book,
                    number,
                    year,
                    f"{registered:%d/%m/%Y}",
                    name,
                    "Nữ" if female else "Nam",
                    born,
                    place,
                    rnd.choice(PLACES),
                    "Kinh",
                    "Việt Nam",
                    father,
                    str(year - rnd.randint(18, 45)) if father else "",
                    "Kinh" if father else "",
                    rnd.choice(PLACES) if father else "",
                    _name(rnd, True),
                    str(year - rnd.randint(17, 42)),
                    "Kinh",
                    rnd.choice(PLACES),
                    _name(rnd, rnd.random() < 0.5),
                    "Trần Văn Lực",
                    "" if rnd.random() < 0.9 else "Bổ sung",
                ]
            )
    tmp.rename(path)


def rss_mib(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024
    except FileNotFoundError:  # a validation process that has just ended
        return 0.0


def validation_rss_mib() -> float:
    """Resident memory of the import's validation processes (children of this one), together."""
    import multiprocessing

    return sum(rss_mib(child.pid) for child in multiprocessing.active_children())


def limit_postgres(path) -> dict:
    from django.db import connection

    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS bench_raw; CREATE UNLOGGED TABLE bench_raw ({columns})")
    started = time.perf_counter()
    with connection.cursor() as cursor, open(path, "rb") as handle:
        with cursor.cursor.copy("COPY bench_raw FROM STDIN (FORMAT csv, HEADER)") as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_raw")
        loaded = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_raw")
    return {
        "COPY FROM STDIN (csv)": {"rows": loaded, "seconds": round(seconds, 2), "rows_per_s": round(loaded / seconds)}
    }


def limit_sqlite(path, tmp) -> dict:
    results = {}
    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    shell = shutil.which("sqlite3")
    if shell:
        db = tmp / "raw-shell.sqlite3"
        subprocess.run([shell, str(db), f"CREATE TABLE bench_raw ({columns});"], check=True)
        started = time.perf_counter()
        subprocess.run([shell, str(db), "-cmd", ".mode csv", f".import --skip 1 {path} bench_raw"], check=True)
        seconds = time.perf_counter() - started
        loaded = sqlite3.connect(db).execute("SELECT count(*) FROM bench_raw").fetchone()[0]
        results["sqlite3 .import --csv"] = {
            "rows": loaded,
            "seconds": round(seconds, 2),
            "rows_per_s": round(loaded / seconds),
        }
    db = tmp / "raw-python.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute(f"CREATE TABLE bench_raw ({columns})")
    marks = ", ".join("?" * len(HEADERS))
    started = time.perf_counter()
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        with conn:
            conn.executemany(f"INSERT INTO bench_raw VALUES ({marks})", reader)
    seconds = time.perf_counter() - started
    loaded = conn.execute("SELECT count(*) FROM bench_raw").fetchone()[0]
    conn.close()
    results["Python sqlite3 executemany"] = {
        "rows": loaded,
        "seconds": round(seconds, 2),
        "rows_per_s": round(loaded / seconds),
    }
    return results


def limit_records_table() -> dict:
    """The database's own bulk load of the records the import stored: into an empty
    copy of the civil-records table with the same indexes and unique constraint —
    what storing the validated rows costs, without reading or validating them."""
    from django.db import connection, transaction

    from chinhquyenso.civil_records.models import CivilRecord

    table = CivilRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        rows = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE bench_twin (LIKE {table} INCLUDING ALL)")
            dump = tempfile.TemporaryFile()
            with cursor.cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    dump.write(block)
            dump.seek(0)
            started = time.perf_counter()
            with cursor.cursor.copy("COPY bench_twin FROM STDIN") as copy:
                while block := dump.read(1 << 20):
                    copy.write(block)
            name = "COPY FROM STDIN into the records table"
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL ORDER BY type DESC", [table]
            )
            for (sql,) in cursor.fetchall():  # the table first, then its indexes, renamed
                cursor.execute(sql.replace(f'"{table}"', '"bench_twin"').replace('INDEX "', 'INDEX "bench_twin_'))
            started = time.perf_counter()
            with transaction.atomic():
                cursor.execute(f"INSERT INTO bench_twin SELECT * FROM {table}")
            name = "INSERT … SELECT into the records table"
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_twin")
    return {name: {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}}


def run_import(path, chunk: int | None) -> dict:
    from chinhquyenso.civil_records import importer, services
    from chinhquyenso.org.models import Agency, AgencyKind

    commune = Agency.objects.create(
        code="xa-kien-an", name="UBND xã Kiến An", name_folded="ubnd xa kien an", kind=AgencyKind.COMMUNE_COMMITTEE
    )
    batch = services.create_batch(record_type="birth", commune=commune, file_name=path.name)
    samples: list[tuple[int, float]] = []
    children: list[float] = []
    baseline = rss_mib()

    def on_progress(current):
        samples.append((current.rows_read, rss_mib()))
        children.append(validation_rss_mib())

    started = time.perf_counter()
    batch = importer.run_batch(batch, path, on_progress=on_progress, **({"chunk_size": chunk} if chunk else {}))
    seconds = time.perf_counter() - started
    total = batch.rows_read

    def at(share: float) -> float:
        target = share * total
        return round(next((rss for rows, rss in samples if rows >= target), samples[-1][1]), 1)

    return {
        "seconds": round(seconds, 2),
        "rows_per_s": round(total / seconds),
        **importer.summary(batch),
        "rss_mib": {
            "before": round(baseline, 1),
            "at_10%": at(0.1),
            "at_50%": at(0.5),
            "at_100%": at(1.0),
            "peak": round(max(rss for _, rss in samples), 1),
            "validation_processes_peak": round(max(children), 1),
        },
    }


def main():
    args = args_()
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"civil-birth-v2-{args.rows}.csv"
    if not path.exists():
        print(f"Generating {args.rows:,} rows → {path} …", flush=True)
        generate(path, args.rows)
    env = c.Env(args, f"bench_civil_{os.getpid()}")
    env.start()
    try:
        c.print_machine(args.pg_server)
        limit = limit_postgres(path) if args.backend == "postgres" else limit_sqlite(path, env.tmp)
        for name, figures in limit.items():
            print(
                f"limit  {name:28} {figures['rows']:>9,} rows {figures['seconds']:>7.1f} s {figures['rows_per_s']:>9,} rows/s"
            )
        result = run_import(path, args.chunk)
        stored = limit_records_table()
        for name, figures in stored.items():
            print(
                f"limit  {name:28} {figures['rows']:>9,} rows {figures['seconds']:>7.1f} s {figures['rows_per_s']:>9,} rows/s"
            )
        best = max(figures["rows_per_s"] for figures in limit.values())
        storing = next(iter(stored.values()))["rows_per_s"]
        print(
            f"import importer.run_batch           {result['rows']:>9,} rows {result['seconds']:>7.1f} s "
            f"{result['rows_per_s']:>9,} rows/s  = {result['rows_per_s'] / best:.3f}× the fastest bulk load of the file, "
            f"{result['rows_per_s'] / storing:.2f}× the bulk load of its records"
        )
        print(
            f"       imported {result['imported']:,}, flagged {result['flagged']:,}, rejected {result['rejected']:,}, "
            f"skipped {result['skipped_existing']:,}; problems {result['problems']:,}"
        )
        print(f"       RSS MiB {json.dumps(result['rss_mib'])}")
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"bench_civil_import-{args.backend}-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
        out.write_text(
            json.dumps(
                {
                    "machine": c.machine(args.pg_server),
                    "rows": args.rows,
                    "limit": limit,
                    "limit_records_table": stored,
                    "import": result,
                    "ratio_to_fastest_limit": round(result["rows_per_s"] / best, 3),
                    "ratio_to_records_table": round(result["rows_per_s"] / storing, 3),
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        print(f"→ {out}")
    finally:
        env.finish()


if __name__ == "__main__":
    sys.exit(main())
