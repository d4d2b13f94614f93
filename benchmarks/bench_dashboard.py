"""Benchmark: the IOC dashboard pages (/dieu-hanh/) over many dossiers.
Target: p95 < 500 ms with 1,000,000 dossiers.

    .venv/bin/python benchmarks/bench_dashboard.py --dossiers 20000
    .venv/bin/python benchmarks/bench_dashboard.py --backend postgres --dossiers 1000000 --keep
    .venv/bin/python benchmarks/bench_dashboard.py --reuse postgres://postgres@127.0.0.1:5432/cqs_bench_dashboard_postgres

Set-up (untimed), on a fresh database as bench_indicators.py does it: the demo
province's agencies, accounts and catalog (`build_demo_province` with no
dossiers), the indicator registry, --dossiers synthetic dossiers over 2025
written in bulk (bench_indicators.load_dossiers: realistic channel,
timeliness and digitization mixes; 7% still open, hence overdue now), then
`rebuild_facts()` and ANALYZE. With --reuse URL an existing database (one kept
by --keep) is measured as it is: no seeding, only `migrate`, and the facts
rebuilt when there are none.

Measured in-process with django.test.Client (the whole request: session,
middleware, scoping, selectors, templates, the SQL; no HTTP server), for the
period --period (default 2025-Q3, compared with 2025-Q2):

    province          /dieu-hanh/                      province administrator
    district          /dieu-hanh/co-quan/<district>/   province administrator (agencies + procedures)
    leader            /dieu-hanh/                      the district's leader (scoped reads)
    procedure         …/co-quan/<commune>/thu-tuc/<code>/  figures + overdue dossiers (most overdue procedure)
    api               /api/dashboard?agency=<district>    the whole dashboard as JSON

each in three cache states:

    warm     the figures' token alive (dashboard.cache.CACHE_SECONDS =
             60 s), as nearly every request finds it;
    expired  the token gone, the process's figures kept: the first request
             after each minute, served the kept figures while a thread
             computes new ones (timed: the request; the thread is waited
             for, untimed, before the next request, and its time reported);
    cold     the token and the process's figures gone: a process's first
             request, or the first after an idle spell longer than
             dashboard.cache.STALE_SERVED_FOR, computes while it waits.

Per page and state: p50 / p95 / max over --requests (warm) or --cold-requests
(expired, cold) requests after 2 unrecorded ones, and the SQL statements of one
request. Results go to benchmarks/results/bench_dashboard-<backend>-<time>.json.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"
TARGET_MS = 500.0


def args_():
    p = c.parser("IOC dashboard pages over many dossiers.")
    p.add_argument("--dossiers", type=int, default=20_000, help="dossiers to write (default %(default)s)")
    p.add_argument("--period", default="2025-Q3", help="dashboard period ?ky= (default %(default)s)")
    p.add_argument("-r", "--requests", type=int, default=100, help="timed warm requests per page (default %(default)s)")
    p.add_argument(
        "--cold-requests",
        type=int,
        default=20,
        help="timed requests per page with the cache emptied first (default %(default)s)",
    )
    p.add_argument(
        "--reuse",
        metavar="DATABASE_URL",
        default="",
        help="measure an existing database (kept with --keep) instead of seeding a fresh one",
    )
    return p.parse_args()


# ---------------------------------------------------------------- set-up


def seed(n: int) -> None:
    from django.db import connection

    from bench_indicators import load_dossiers
    from chinhquyenso.demo.generator import build_demo_province
    from chinhquyenso.indicators.services import load_registry, rebuild_facts

    t0 = time.perf_counter()
    build_demo_province(dossiers=0, seed=1, until=dt.date(2025, 12, 31))
    load_registry()
    print(f"Province, accounts and catalog: {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    load_dossiers(n, log=lambda line: print(line, flush=True))
    print(f"{n:,} dossiers written in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    facts = rebuild_facts()
    print(f"rebuild_facts: {time.perf_counter() - t0:.1f} s → {facts:,} fact rows", flush=True)
    analyze(connection)


def analyze(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def reuse() -> None:
    from django.core.management import call_command
    from django.db import connection

    from chinhquyenso.indicators.models import DossierFact
    from chinhquyenso.indicators.services import load_registry, rebuild_facts

    call_command("migrate", verbosity=0)
    load_registry()  # creates only what is missing
    if not DossierFact.objects.exists():
        t0 = time.perf_counter()
        rebuild_facts()
        print(f"rebuild_facts: {time.perf_counter() - t0:.1f} s", flush=True)
        analyze(connection)


def targets(period: str) -> tuple[dict[str, tuple], dict]:
    """(name → (user, path)), and what was picked."""
    from django.db.models import Count
    from django.utils import timezone

    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole, Membership, Role, User
    from chinhquyenso.dossiers.models import Dossier, Status
    from chinhquyenso.org.models import Agency, AgencyKind

    admin = User.objects.filter(global_role=GlobalRole.PROVINCE_ADMIN).order_by("id").first()
    received = dict(Dossier.objects.values_list("receiving_agency_id").annotate(n=Count("id")).order_by())
    # The agency to drill into: a district when the period still has them (the 2025 reorganization
    # removed the district level), else the commune that received the most.
    local = list(
        Agency.objects.filter(
            kind__in=[AgencyKind.DISTRICT_COMMITTEE, AgencyKind.COMMUNE_COMMITTEE], valid_to__isnull=True
        )
    )
    if not local:
        sys.exit("the database has no current district or commune")

    def weight(agency) -> int:
        return received.get(agency.pk, 0) + sum(
            received.get(a, 0) for a in Agency.objects.filter(parent=agency).values_list("id", flat=True)
        )

    district = max(local, key=lambda a: (a.kind == AgencyKind.DISTRICT_COMMITTEE, weight(a)))
    leader = User.objects.filter(memberships__agency=district, memberships__role=Role.LEADER).first()
    if leader is None:
        leader = accounts.create_officer(
            actor=None,
            username=f"{district.code}.bench-lanhdao",
            password=None,
            full_name="Lãnh đạo (benchmark)",
            memberships=[(district, Role.LEADER)],
        )
    overdue = (
        Dossier.objects.filter(
            status=Status.IN_PROCESS, due_at__lt=timezone.now(), receiving_agency__kind=AgencyKind.COMMUNE_COMMITTEE
        )
        .values_list("receiving_agency__code", "procedure__code")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    commune_code, procedure_code, overdue_n = overdue or ("", "", 0)
    pages = {
        "province": (admin, f"/dieu-hanh/?ky={period}"),
        "district": (admin, f"/dieu-hanh/co-quan/{district.code}/?ky={period}"),
        "leader": (leader, f"/dieu-hanh/?ky={period}"),
        "api": (admin, f"/api/dashboard?period={period}&agency={district.code}"),
    }
    if procedure_code:
        pages["procedure"] = (admin, f"/dieu-hanh/co-quan/{commune_code}/thu-tuc/{procedure_code}/?ky={period}")
    picked = {
        "dossiers": Dossier.objects.count(),
        "agencies": Agency.objects.filter(valid_to__isnull=True).count(),
        "district": district.name,
        "leader": leader.username,
        "commune": commune_code,
        "procedure": procedure_code,
        "overdue_in_that_procedure": overdue_n,
        "leaders_scope": list(Membership.objects.filter(user=leader).values_list("agency__code", flat=True)),
    }
    return pages, picked


# ---------------------------------------------------------------- measuring


def forget(state: str) -> None:
    """Put the cache in `state` before a request."""
    from django.core.cache import cache

    from chinhquyenso.dashboard import cache as figures

    if state in ("expired", "cold"):
        cache.clear()
    if state == "cold":
        figures._figures.clear()


def wait_for_refresh() -> float:
    """Wait for the dashboard's refresh threads; seconds waited."""
    import threading

    t0 = time.perf_counter()
    for thread in threading.enumerate():
        if thread.name == "dashboard-refresh":
            thread.join()
    return time.perf_counter() - t0


def measure(pages: dict, warm_n: int, cold_n: int) -> list[dict]:
    from django.db import connection
    from django.test import Client

    rows = []
    for name, (user, path) in pages.items():
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        for state, n in (("cold", cold_n), ("expired", cold_n), ("warm", warm_n)):
            times, refresh = [], []
            for i in range(n + 2):
                forget(state)
                t0 = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - t0
                if response.status_code != 200:
                    sys.exit(f"{path} as {user.username}: HTTP {response.status_code}\n{response.content[:1500]!r}")
                waited = wait_for_refresh()
                if i >= 2:  # the first two are not recorded (imports, connection, first fill of the cache)
                    times.append(elapsed)
                    refresh.append(waited)
            captured = []

            def count(execute, sql, params, many, context):
                captured.append(sql)
                return execute(sql, params, many, context)

            forget(state)
            with connection.execute_wrapper(count):
                response = client.get(path)
            wait_for_refresh()
            summary = c.summary_ms(times)
            row = {
                "page": name,
                "path": path,
                "user": user.username,
                "state": state,
                **summary,
                "sql_statements": len(captured),
                "bytes": len(response.content),
            }
            if state == "expired":
                row["refresh_p50_ms"] = c.summary_ms(refresh)["p50"]
            rows.append(row)
            print(
                f"  {name:<10} {state}: p50 {summary['p50']:.1f} ms, p95 {summary['p95']:.1f} ms, "
                f"{len(captured)} SQL statements",
                flush=True,
            )
    return rows


def run(args) -> dict:
    import django

    if args.reuse:
        reuse()
    else:
        seed(args.dossiers)
    pages, picked = targets(args.period)
    print(f"Measuring {', '.join(pages)} for {args.period} …", flush=True)
    from django.db import connection

    rows = measure(pages, args.requests, args.cold_requests)
    return {"vendor": connection.vendor, "django": django.get_version(), "picked": picked, "rows": rows}


def report(args, out: dict) -> dict:
    c.print_machine(args.pg_server)
    picked = out["picked"]
    print(
        f"Backend: {out['vendor']}; {picked['dossiers']:,} dossiers, {picked['agencies']} current agencies; "
        f"period {args.period}; district {picked['district']} (leader {picked['leader']}); "
        f"procedure page: {picked['commune']} / {picked['procedure']} ({picked['overdue_in_that_procedure']:,} overdue)"
    )
    print(
        f"In-process (django.test.Client); warm: {args.requests} requests; expired and cold: "
        f"{args.cold_requests} requests each; target p95 < {TARGET_MS:.0f} ms\n"
    )
    print(
        c.table(
            [
                "page",
                "cache",
                "p50 ms",
                "p95 ms",
                "max ms",
                "SQL statements",
                "KB",
                f"p95 < {TARGET_MS:.0f} ms",
                "refresh thread p50 ms",
            ],
            [
                [
                    r["page"],
                    r["state"],
                    r["p50"],
                    r["p95"],
                    r["max"],
                    r["sql_statements"],
                    f"{r['bytes'] / 1024:.1f}",
                    "yes" if r["p95"] < TARGET_MS else "NO",
                    r.get("refresh_p50_ms", ""),
                ]
                for r in out["rows"]
            ],
        )
    )
    return {
        "benchmark": "bench_dashboard",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": c.machine(args.pg_server),
        "args": {k: v for k, v in vars(args).items() if k != "pg_server"},
        **out,
    }


def main():
    args = args_()
    if args.reuse:
        c.use_existing_database(args.reuse, "cqs_bench_dashboard-")
        out = run(args)
    else:
        env = c.Env(args, f"cqs_bench_dashboard_{args.backend}")
        env.start()
        try:
            out = run(args)
        finally:
            env.finish()
    data = report(args, out)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench_dashboard-{out['vendor']}-{stamp}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    print(f"\nResults: {path.relative_to(c.ROOT)}")


if __name__ == "__main__":
    main()
