"""Benchmark: every computed indicator for every agency (roll-ups included)
over 1,000,000 dossiers, against one hand-written aggregate SQL query.

    .venv/bin/python benchmarks/bench_indicators.py --backend sqlite
    .venv/bin/python benchmarks/bench_indicators.py --backend postgres

On a fresh database: the demo province's agencies and catalog (no dossiers),
the indicator registry, then --dossiers synthetic dossiers written in bulk
(untimed) over one year, spread over the agencies' procedures with realistic
channel, timeliness, digitization and open/finished mixes. Then it times:

* `rebuild_facts()` — aggregating every dossier into the daily facts (after a
  bulk load, a restore, or a repair);
* `compute(year)` and `compute(quarter)` — every active indicator for every
  agency and the province, roll-ups through the agency tree included
  (what `cqs kpi`, the API and the dashboard call);
* the limit: ONE hand-written SQL query over the dossier table computing the
  same fact counts per receiving agency for the year (no roll-up, no
  formulas) — what a report writer would type by hand;
* the incremental path: 1,000 dossiers changed, then the refresh that the
  next read performs;
* building the 9-month DX report (template cds-9-thang) as DOCX and as PDF.
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import statistics
import time

import _common as c

YEAR = 2025


def args_():
    p = c.parser("Indicators over many dossiers.")
    p.add_argument("--dossiers", type=int, default=1_000_000, help="dossiers to write (default %(default)s)")
    p.add_argument("-r", "--repeat", type=int, default=5, help="timed repetitions (default %(default)s)")
    p.add_argument(
        "--reuse",
        metavar="DATABASE_URL",
        default="",
        help="measure a database kept by bench_dashboard.py --keep (same dossiers) instead of seeding one",
    )
    return p.parse_args()


def load_dossiers(n: int, *, year: int = YEAR, seed: int = 11, log=print) -> None:
    """n dossiers over `year` in the demo province, written with bulk_create.
    Shared with bench_dashboard.py."""
    from django.utils import timezone

    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.core.calendar import LOCAL_TZ
    from chinhquyenso.dossiers.models import Dossier, Status
    from chinhquyenso.procedures.models import ProcedureAgency

    rng = random.Random(seed)
    pairs = list(
        ProcedureAgency.objects.filter(valid_to__isnull=True).values_list(
            "agency_id", "procedure_id", "procedure__processing_days", "procedure__service_level"
        )
    )
    applicant = accounts.create_citizen(actor=None, identity_number=c.citizen_id(0), full_name="Nguyễn Văn An")
    start = dt.datetime(year, 1, 1, 7, tzinfo=LOCAL_TZ)
    now = timezone.now()
    batch, t0 = [], time.perf_counter()
    for i in range(n):
        agency_id, procedure_id, days, level = pairs[rng.randrange(len(pairs))]
        submitted = start + dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        channel = (
            "online" if level != "info_only" and rng.random() < 0.55 else rng.choice(["counter", "counter", "post"])
        )
        accepted = submitted + dt.timedelta(minutes=rng.randrange(5, 600))
        due = accepted + dt.timedelta(days=days * 7 / 5)
        finished = accepted + dt.timedelta(days=rng.uniform(0.1, days * 1.6))
        done = finished < now and rng.random() < 0.93
        status = Status.RETURNED if done else Status.IN_PROCESS
        timeliness = (
            ""
            if not done
            else ("late" if finished > due else ("early" if finished < due - dt.timedelta(days=1) else "on_time"))
        )
        batch.append(
            Dossier(
                code=f"BI{i:09d}",
                procedure_id=procedure_id,
                channel=channel,
                status=status,
                applicant=applicant,
                applicant_name="Nguyễn Văn An",
                applicant_identity=c.citizen_id(i),
                receiving_agency_id=agency_id,
                current_agency_id=agency_id,
                current_step=1,
                submitted_at=submitted,
                accepted_at=accepted,
                due_at=due,
                original_due_at=due,
                finished_at=finished if done else None,
                returned_at=finished if done else None,
                closed_at=finished if done else None,
                timeliness=timeliness,
                fee_due=8000 if rng.random() < 0.4 else 0,
                digitized=rng.random() < 0.7,
                has_electronic_result=done and rng.random() < 0.6,
            )
        )
        if len(batch) == 5000:
            Dossier.objects.bulk_create(batch)
            batch = []
            if (i + 1) % 100_000 == 0:
                log(f"  {i + 1:,} dossiers written ({time.perf_counter() - t0:.0f} s)")
    Dossier.objects.bulk_create(batch)


def limit_query_sql(vendor: str) -> str:
    """The same per-agency fact counts for the year, hand-written, in one query."""
    # local (UTC+7) year boundaries, as the platform counts
    suffix = "+00" if vendor == "postgresql" else ""
    day_start, day_end = f"'{YEAR - 1}-12-31 17:00:00{suffix}'", f"'{YEAR}-12-31 17:00:00{suffix}'"
    return f"""
        SELECT receiving_agency_id,
               SUM(CASE WHEN accepted_at >= {day_start} AND accepted_at < {day_end} THEN 1 ELSE 0 END),
               SUM(CASE WHEN accepted_at >= {day_start} AND accepted_at < {day_end} AND channel = 'online' THEN 1 ELSE 0 END),
               SUM(CASE WHEN accepted_at >= {day_start} AND accepted_at < {day_end} AND channel = 'counter' THEN 1 ELSE 0 END),
               SUM(CASE WHEN accepted_at >= {day_start} AND accepted_at < {day_end} AND channel = 'post' THEN 1 ELSE 0 END),
               SUM(CASE WHEN accepted_at >= {day_start} AND accepted_at < {day_end} AND digitized THEN 1 ELSE 0 END),
               SUM(CASE WHEN accepted_at >= {day_start} AND accepted_at < {day_end} AND fee_due > 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN finished_at >= {day_start} AND finished_at < {day_end} THEN 1 ELSE 0 END),
               SUM(CASE WHEN finished_at >= {day_start} AND finished_at < {day_end} AND timeliness = 'early' THEN 1 ELSE 0 END),
               SUM(CASE WHEN finished_at >= {day_start} AND finished_at < {day_end} AND timeliness = 'on_time' THEN 1 ELSE 0 END),
               SUM(CASE WHEN finished_at >= {day_start} AND finished_at < {day_end} AND timeliness = 'late' THEN 1 ELSE 0 END),
               SUM(CASE WHEN finished_at >= {day_start} AND finished_at < {day_end} AND has_electronic_result THEN 1 ELSE 0 END),
               SUM(CASE WHEN finished_at IS NULL AND closed_at IS NULL THEN 1 ELSE 0 END)
        FROM dossiers_dossier
        WHERE (accepted_at >= {day_start} AND accepted_at < {day_end})
           OR (finished_at >= {day_start} AND finished_at < {day_end})
           OR (finished_at IS NULL AND closed_at IS NULL)
        GROUP BY receiving_agency_id"""


def timed(fn, repeat: int) -> tuple[float, list[float]]:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), runs


def run(args) -> None:
    from django.db import connection

    from chinhquyenso.demo.generator import build_demo_province
    from chinhquyenso.dossiers.models import Dossier
    from chinhquyenso.indicators.models import DossierFact, StaleDossier
    from chinhquyenso.indicators.periods import parse_period
    from chinhquyenso.indicators.selectors import compute
    from chinhquyenso.indicators.services import load_registry, rebuild_facts, refresh_facts

    c.print_machine(args.pg_server)
    if args.reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        load_registry()  # creates only what is missing
        print(f"Existing database: {Dossier.objects.count():,} dossiers\n")
    else:
        t0 = time.perf_counter()
        build_demo_province(dossiers=0, seed=1, until=dt.date(YEAR, 12, 31))
        load_registry()
        print(f"Province and catalog: {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        load_dossiers(args.dossiers)
        print(f"{args.dossiers:,} dossiers written in {time.perf_counter() - t0:.0f} s (untimed set-up)\n")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    t0 = time.perf_counter()
    facts = rebuild_facts()
    rebuild = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE indicators_dossierfact")
    print(f"rebuild_facts: {rebuild:.1f} s → {facts:,} fact rows ({args.dossiers / facts:.1f} dossiers per row)")

    year, quarter = parse_period(str(YEAR)), parse_period(f"{YEAR}-Q3")
    computation = compute(year)
    agencies = len(computation.units)
    indicators = len(computation.indicators)
    cold_year, _ = timed(lambda: compute(year), 1)
    year_median, year_runs = timed(lambda: compute(year), args.repeat)
    quarter_median, _ = timed(lambda: compute(quarter), args.repeat)

    sql = limit_query_sql(connection.vendor)

    def limit():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    limit_median, _ = timed(limit, args.repeat)
    rows = limit()
    # the limit and the platform agree on the province total received
    received = sum(r[1] for r in rows)
    assert received == computation.get("received").numerator, (received, computation.get("received").numerator)

    changed = list(Dossier.objects.filter(finished_at__isnull=True).values_list("id", flat=True)[:1000])
    StaleDossier.objects.bulk_create(StaleDossier(dossier_id=i) for i in changed)
    t0 = time.perf_counter()
    refresh_facts()
    incremental = time.perf_counter() - t0

    from chinhquyenso.reports.services import build, load_templates

    load_templates()
    t0 = time.perf_counter()
    docx = build("cds-9-thang", f"{YEAR}-9M", fmt="docx")
    pdf = build("cds-9-thang", f"{YEAR}-9M", fmt="pdf")
    report_build = time.perf_counter() - t0

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(
        c.table(
            ["measure", "median", "vs limit"],
            [
                [
                    f"compute({year.code}): {indicators} indicators × {agencies} agencies + province, roll-ups",
                    f"{year_median:.3f} s",
                    f"{year_median / limit_median:.2f}×",
                ],
                [f"compute({quarter.code})", f"{quarter_median:.3f} s", f"{quarter_median / limit_median:.2f}×"],
                [
                    "limit: one hand-written aggregate SQL over the dossiers (year, per agency, no roll-up)",
                    f"{limit_median:.3f} s",
                    "1×",
                ],
                ["first compute after rebuild (cold caches)", f"{cold_year:.3f} s", ""],
                ["rebuild_facts (all dossiers)", f"{rebuild:.1f} s", ""],
                ["refresh after 1,000 dossiers changed", f"{incremental:.3f} s", ""],
                [
                    f"9-month DX report, DOCX ({len(docx) // 1024} KB) + PDF ({len(pdf) // 1024} KB), figures computed twice",
                    f"{report_build:.2f} s",
                    "",
                ],
            ],
        )
    )
    print(
        f"\nyear runs: {', '.join(f'{r:.3f}' for r in year_runs)} s; fact rows {DossierFact.objects.count():,}; "
        f"peak RSS {peak:.0f} MiB"
    )


if __name__ == "__main__":
    args = args_()
    if args.reuse:
        c.use_existing_database(args.reuse, "cqs_bench_indicators-")
        run(args)
    else:
        c.run_on_fresh_database(args, f"cqs_bench_indicators_{args.backend}", run)
