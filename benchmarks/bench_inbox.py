"""Benchmark: an agency's open-dossier inbox with 100,000 open dossiers.

    .venv/bin/python benchmarks/bench_inbox.py --backend sqlite
    .venv/bin/python benchmarks/bench_inbox.py --backend postgres

On a fresh database it writes (bulk, untimed) --open open dossiers in one
commune, as many closed ones in the same commune (history the query must skip)
and as many open ones in the other commune (another agency's work), then times
`GET /api/dossiers` as that commune's counter officer — in-process through
django.test.Client, the whole request: session, scope check, query,
serialization — for several inbox views, each against the same SELECT run as
raw SQL on Django's connection (the limit) and against GET /api/auth/me (the
peer: the fixed cost of any signed-in request). The query plan of the first page is
printed, so a missing index shows up as a scan.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time

import _common as c

VIEWS = [
    # (label, query string)
    ("first page (50, most urgent first)", "limit=50"),
    ("status in_process, first page", "status=in_process&limit=50"),
    ("overdue only, first page", "overdue=true&limit=50"),
    ("page 100 (offset 4,950)", "limit=50&offset=4950"),
]


def args_():
    p = c.parser("Open-dossier inbox listing with many open dossiers.")
    p.add_argument(
        "--open", type=int, default=100_000, help="open dossiers in the measured agency (default %(default)s)"
    )
    p.add_argument("-r", "--requests", type=int, default=300, help="timed requests per view (default %(default)s)")
    return p.parse_args()


def populate(province, n: int, seed: int = 7) -> None:
    """n open + n closed dossiers in commune A, n open in commune B."""
    from django.utils import timezone

    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.dossiers.models import Dossier, Status

    applicant = accounts.create_citizen(actor=None, identity_number=c.citizen_id(0), full_name="Nguyễn Văn An")
    rng = random.Random(seed)
    now = timezone.now()
    proc = province["procedure"]
    a, b = province["agencies"]["xa_a"], province["agencies"]["xa_b"]
    open_mix = [
        (Status.IN_PROCESS, 80),
        (Status.SUBMITTED, 6),
        (Status.SUPPLEMENT_REQUESTED, 4),
        (Status.PAUSED, 4),
        (Status.RESULT_READY, 6),
    ]
    statuses = [s for s, w in open_mix for _ in range(w)]

    def row(i: int, agency, status) -> Dossier:
        submitted = now - dt.timedelta(minutes=rng.randrange(1, 60 * 24 * 60))
        accepted = status not in (Status.SUBMITTED, Status.SUPPLEMENT_REQUESTED)
        # due dates spread around now, so "overdue" selects about a fifth
        due = now + dt.timedelta(minutes=rng.randrange(-60 * 24 * 5, 60 * 24 * 20)) if accepted else None
        return Dossier(
            code=f"B{i:09d}",
            procedure=proc,
            channel="online",
            status=status,
            applicant=applicant,
            applicant_name="Nguyễn Văn An",
            applicant_identity=c.citizen_id(i),
            receiving_agency=agency,
            current_agency=agency,
            submitted_at=submitted,
            accepted_at=submitted if accepted else None,
            due_at=due,
            original_due_at=due,
            current_step=1 if accepted else 0,
            fee_due=8000,
        )

    plan = [(a, None), (a, Status.RETURNED), (b, None)]
    i = 0
    for agency, fixed in plan:
        for start in range(0, n, 5000):
            batch = []
            for _ in range(min(5000, n - start)):
                batch.append(row(i, agency, fixed or rng.choice(statuses)))
                i += 1
            Dossier.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def raw_sql_for(path_query: str, officer):
    """The SELECT the inbox selector runs for this view, as (sql, params)."""
    from django.http import QueryDict

    from chinhquyenso.dossiers import selectors

    q = QueryDict(path_query)
    qs = selectors.inbox(
        officer,
        status=q.get("status") or None,
        overdue_only=q.get("overdue") == "true",
        limit=int(q.get("limit", 50)),
        offset=int(q.get("offset", 0)),
    )
    return qs.query.sql_with_params()


def explain(sql: str, params) -> str:
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cur:
        cur.execute(prefix + sql, params)
        rows = cur.fetchall()
    return "\n".join("  " + " ".join(str(x) for x in r[-1:]) for r in rows)


def time_calls(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def run(args):
    from django.db import connection
    from django.test import Client

    c.print_machine(args.pg_server)
    province = c.build_province()
    officer = province["officers"]["counter_officer"]
    t0 = time.perf_counter()
    populate(province, args.open)
    print(
        f"Backend: {connection.vendor}; open dossiers in the agency: {args.open:,}; closed there: {args.open:,}; "
        f"open elsewhere: {args.open:,} (written in {time.perf_counter() - t0:.0f} s); {args.requests} requests per view\n"
    )

    client = Client()
    client.force_login(officer)

    def me():  # the peer: the same session and auth work, no dossier query
        if client.get("/api/auth/me").status_code != 200:
            sys.exit("/api/auth/me failed")

    for _ in range(10):
        me()
    floor = c.summary_ms(time_calls(me, args.requests))
    rows = []
    for label, query in VIEWS:
        path = f"/api/dossiers?{query}"

        def call():
            response = client.get(path)
            if response.status_code != 200 or not response.json():
                sys.exit(f"{path}: HTTP {response.status_code} {response.content[:300]!r}")

        sql, params = raw_sql_for(query, officer)

        def raw():
            with connection.cursor() as cur:
                cur.execute(sql, params)
                cur.fetchall()

        for _ in range(10):  # warm caches and the connection
            call()
            raw()
        api = c.summary_ms(time_calls(call, args.requests))
        limit = c.summary_ms(time_calls(raw, args.requests))
        rows.append(
            [label, api["p50"], api["p95"], api["p99"], limit["p50"], limit["p95"], f"{api['p95'] / limit['p95']:.1f}×"]
        )
        if label.startswith("first page"):
            first_plan = explain(sql, params)
    print("GET /api/dossiers (ms; the limit is the same SELECT as raw SQL)")
    print(c.table(["view", "API p50", "API p95", "API p99", "raw SQL p50", "raw SQL p95", "API ÷ raw (p95)"], rows))
    print(
        f"\nPeer: GET /api/auth/me (session, user, no dossier query): p50 {floor['p50']:.2f} ms, "
        f"p95 {floor['p95']:.2f} ms, p99 {floor['p99']:.2f} ms"
    )
    print("\nQuery plan, first page:\n" + first_plan)


if __name__ == "__main__":
    c.run_on_fresh_database(args_(), "cqs_bench_inbox", run)
