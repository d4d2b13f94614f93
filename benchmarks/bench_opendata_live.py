"""Benchmark: regenerating every live open-data dataset (opendata.live) for a province with many dossiers,
against the bare aggregate SQL its largest query amounts to.

    .venv/bin/python benchmarks/bench_opendata_live.py --backend sqlite [--dossiers 1000000]
    .venv/bin/python benchmarks/bench_opendata_live.py --backend postgres

On a fresh database: the demo province's agencies and catalog, the indicator registry, the open-data
vocabularies, then --dossiers synthetic dossiers over one year (bench_indicators.load_dossiers, untimed)
and their facts (rebuild_facts, untimed). Then it times:

* the first `refresh_live_datasets()`: creates the live datasets (public, as the system) and
  writes every table as CSV + XLSX + DataStore — time and peak Python memory (tracemalloc); the pest
  densities are skipped here (no trap in this province: nobody issues the pest bulletin) — their queries
  are those of bench_pests_density.py (docs/benchmarks.md §20), one set per district over the 24 months;
* a second refresh with nothing changed (each table rebuilt and compared, nothing written);
* each generator's `build` alone;
* the limits: the bare aggregate SQL of the largest generator query (monthly dossier counts per agency
  from the monthly facts, over the dataset's 24 months), and the same counts straight from the dossier
  table (what the generators avoid by reading the indicators' facts).
"""

from __future__ import annotations

import datetime as dt
import resource
import statistics
import time
import tracemalloc

import _common as c

YEAR = 2025


def args_():
    p = c.parser("Regenerating the live open-data datasets over many dossiers.")
    p.add_argument("--dossiers", type=int, default=1_000_000, help="dossiers to write (default %(default)s)")
    p.add_argument("-r", "--repeat", type=int, default=3, help="timed repetitions (default %(default)s)")
    return p.parse_args()


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


FACTS_SQL = """
    SELECT agency_id, month, SUM(received), SUM(received_online), SUM(received_digitized), SUM(finished),
           SUM(finished_early) + SUM(finished_on_time), SUM(finished_electronic)
    FROM indicators_dossiermonthfact WHERE month >= %s AND month <= %s
    GROUP BY agency_id, month"""


def dossier_sql(vendor: str) -> str:
    """The received side of the same counts, per receiving agency and local month, from the dossiers."""
    month = (
        "date_trunc('month', accepted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')"
        if vendor == "postgresql"
        else "strftime('%%Y-%%m', accepted_at, '+420 minutes')"
    )
    return f"""
        SELECT receiving_agency_id, {month} AS m, COUNT(*),
               SUM(CASE WHEN channel = 'online' THEN 1 ELSE 0 END),
               SUM(CASE WHEN digitized THEN 1 ELSE 0 END)
        FROM dossiers_dossier WHERE accepted_at IS NOT NULL
        GROUP BY receiving_agency_id, m"""


def run(args) -> None:
    from django.db import connection
    from django.utils import timezone

    from bench_indicators import load_dossiers
    from chinhquyenso.demo.generator import build_demo_province
    from chinhquyenso.indicators.services import load_registry, rebuild_facts
    from chinhquyenso.opendata import live
    from chinhquyenso.opendata.models import Dataset, Resource
    from chinhquyenso.opendata.vocabularies import load as load_vocabularies

    c.print_machine(args.pg_server)
    t0 = time.perf_counter()
    build_demo_province(dossiers=0, seed=1, until=dt.date(YEAR, 12, 31))
    load_registry()
    load_vocabularies()
    print(f"Province and catalog: {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    load_dossiers(args.dossiers, year=YEAR)
    facts = rebuild_facts()
    print(f"{args.dossiers:,} dossiers and {facts:,} fact rows written in {time.perf_counter() - t0:.0f} s (untimed)\n")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    today = timezone.localdate()
    tracemalloc.start()
    t0 = time.perf_counter()
    done = live.refresh_live_datasets(today)
    first = time.perf_counter() - t0
    _, first_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sorted(done["refreshed"]) == sorted(set(live.GENERATORS) - {"mat-do-sinh-vat-gay-hai"}), done
    files = Resource.objects.filter(dataset__generator__gt="").count()
    rows: dict[str, int] = {}  # a generator's tables together (chi-so-chuyen-doi-so has two)
    for table in Resource.objects.filter(format="CSV").select_related("dataset"):
        rows[table.dataset.generator] = rows.get(table.dataset.generator, 0) + table.row_count

    tracemalloc.start()
    t0 = time.perf_counter()
    live.refresh_live_datasets(today)
    second = time.perf_counter() - t0
    _, second_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    again = timed(lambda: live.refresh_live_datasets(today), args.repeat - 1) if args.repeat > 1 else second

    builds = {}
    for entry in live.catalog():
        start, end = live.coverage(entry["temporal"], today)
        builds[entry["generator"]] = timed(
            lambda entry=entry, start=start, end=end: live.GENERATORS[entry["generator"]].build(start or end, end),
            args.repeat,
        )

    start, _ = live.coverage({"months": 24}, today)

    def facts_limit():
        with connection.cursor() as cursor:
            cursor.execute(FACTS_SQL, [start, today])
            return cursor.fetchall()

    def dossier_limit():
        with connection.cursor() as cursor:
            cursor.execute(dossier_sql(connection.vendor))
            return cursor.fetchall()

    limit = timed(facts_limit, args.repeat)
    raw = timed(dossier_limit, args.repeat)
    largest = builds["thong-ke-ho-so"]
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        c.table(
            ["measure", "median", "vs limit"],
            [
                [
                    f"first refresh: {len(done['refreshed'])} datasets created, {files} files + DataStore",
                    f"{first:.2f} s",
                    "",
                ],
                ["refresh with nothing changed (first of them)", f"{second:.2f} s", ""],
                ["refresh with nothing changed (median)", f"{again:.2f} s", ""],
                *[
                    [
                        f"build {key} ({rows.get(key, 0):,} rows)",
                        f"{seconds:.3f} s",
                        f"{seconds / limit:.1f}×" if key == "thong-ke-ho-so" else "",
                    ]
                    for key, seconds in builds.items()
                ],
                ["limit: bare aggregate SQL over the monthly facts (24 months)", f"{limit:.4f} s", "1×"],
                ["same counts straight from the dossier table (avoided)", f"{raw:.3f} s", f"{raw / limit:.0f}×"],
            ],
        )
    )
    print(
        f"\nlargest generator vs its bare SQL: {largest / limit:.1f}×; peak traced Python memory: first refresh "
        f"{first_peak / 2**20:.1f} MiB, unchanged refresh {second_peak / 2**20:.1f} MiB; peak RSS {peak_rss:.0f} MiB; "
        f"live datasets {Dataset.objects.exclude(generator='').count()}"
    )


if __name__ == "__main__":
    args = args_()
    c.run_on_fresh_database(args, f"cqs_bench_opendata_live_{args.backend}", run)
