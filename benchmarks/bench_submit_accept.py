"""Benchmark: submit + accept a dossier through the HTTP API, against the raw-SQL limit.

    .venv/bin/python benchmarks/bench_submit_accept.py --backend sqlite   -n 2000
    .venv/bin/python benchmarks/bench_submit_accept.py --backend postgres -n 2000

What it does, on a fresh database (see docs/benchmarks.md):

1. API path — for each of N dossiers, in-process through django.test.Client
   with a counter officer logged in (force_login):
     POST /api/dossiers                      channel "counter", a new applicant each time
                                             ("applicant" object), two components on paper,
                                             a unique Idempotency-Key
     POST /api/dossiers/{code}/actions/accept
   Each call is one request; the service runs each in one transaction.
2. Raw-SQL limit — the same dossier rows written with plain SQL on Django's own
   connection, two transactions per dossier like the API path:
     tx 1: INSERT dossiers_dossier (status submitted) RETURNING id;
           executemany INSERT of its 3 dossiers_dossiercomponent rows;
           INSERT the "submit" dossiers_dossierevent row; COMMIT
     tx 2: UPDATE dossiers_dossier (status in_process, accepted_at, due_at,
           current_step); INSERT the "accept" dossiers_dossierevent row; COMMIT
   All parameters are prepared before the clock starts; only SQL runs timed.
3. Raw-SQL, every row — as 2, plus every other row the API path writes (the
   applicant's account, 3 audit records and their head update, the code
   counter, 2 domain events, the idempotency key): the floor for the same
   amount of writing, with no reads and no Python work.
4. Profile — a further --profile-n pairs under cProfile, broken down by the
   parts of the code path that cost time.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time

import _common as c


def args_():
    p = c.parser("Submit + accept through the HTTP API vs raw SQL.")
    p.add_argument(
        "-n", "--dossiers", type=int, default=2000, help="dossiers to submit and accept (default %(default)s)"
    )
    p.add_argument("--warmup", type=int, default=20, help="untimed pairs first (default %(default)s)")
    p.add_argument(
        "--profile-n", type=int, default=200, help="pairs run under cProfile; 0 to skip (default %(default)s)"
    )
    return p.parse_args()


# ---------------------------------------------------------------- API path


class Api:
    def __init__(self, province):
        from django.test import Client

        self.client = Client()
        self.client.force_login(province["officers"]["counter_officer"])

    def submit(self, i: int):
        body = {
            "procedure_code": "1.001193",
            "channel": "counter",
            "agency_code": "xa-kien-an",
            "applicant": {"identity_number": c.citizen_id(i), "full_name": "Nguyễn Văn An", "phone": "0901234567"},
            "components": [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
            "form_data": {"ten_tre": "Nguyễn Văn Bình", "ngay_sinh": "2025-01-02"},
        }
        response = self.client.post(
            "/api/dossiers",
            data=json.dumps(body),
            content_type="application/json",
            headers={"Idempotency-Key": f"bench-{i}"},
        )
        if response.status_code != 201:
            sys.exit(f"submit #{i}: HTTP {response.status_code} {response.content[:300]!r}")
        return response.json()["code"]

    def accept(self, code: str):
        response = self.client.post(f"/api/dossiers/{code}/actions/accept", data="{}", content_type="application/json")
        if response.status_code != 200 or response.json()["status"] != "in_process":
            sys.exit(f"accept {code}: HTTP {response.status_code} {response.content[:300]!r}")

    def pair(self, i: int) -> tuple[float, float]:
        t0 = time.perf_counter()
        code = self.submit(i)
        t1 = time.perf_counter()
        self.accept(code)
        return t1 - t0, time.perf_counter() - t1


def run_api(api: Api, first: int, n: int):
    submit, accept = [], []
    start = time.perf_counter()
    for i in range(first, first + n):
        s, a = api.pair(i)
        submit.append(s)
        accept.append(a)
    return time.perf_counter() - start, submit, accept


TX_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


def count_queries(api: Api, i: int) -> tuple[int, int]:
    """SQL statements per call, not counting BEGIN/COMMIT/SAVEPOINT."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q_submit:
        code = api.submit(i)
    with CaptureQueriesContext(connection) as q_accept:
        api.accept(code)
    count = lambda q: sum(not x["sql"].startswith(TX_CONTROL) for x in q.captured_queries)  # noqa: E731
    return count(q_submit), count(q_accept)


# ---------------------------------------------------------------- raw SQL


def _adapt(model, values: dict) -> list:
    """Database-ready values, as the ORM would send them (done before timing)."""
    from django.db import connection

    return [model._meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()]


def _insert_sql(model, names) -> str:
    from django.db import connection

    q = connection.ops.quote_name
    return (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(model._meta.get_field(n).column) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )


class Raw:
    """Pre-built rows for the raw-SQL limit; `run(full=...)` writes them."""

    def __init__(self, province, n: int, first_id: int):
        from django.utils import timezone

        from chinhquyenso.accounts.models import User
        from chinhquyenso.core.calendar import calendar_for
        from chinhquyenso.core.models import AuditRecord, DomainEvent, IdempotencyKey
        from chinhquyenso.dossiers.models import Dossier, DossierComponent, DossierEvent
        from chinhquyenso.procedures.models import RequiredComponent

        proc, agency = province["procedure"], province["agencies"]["xa_a"]
        officer = province["officers"]["counter_officer"]
        self.applicant = User.objects.filter(kind=User.Kind.CITIZEN).first()  # FK target for the minimal variant
        required = list(RequiredComponent.objects.filter(procedure=proc).order_by("order"))
        now = timezone.now()
        due = calendar_for(now).due_at(now, proc.processing_days)
        self.n = n
        self.models = (Dossier, DossierComponent, DossierEvent, User, AuditRecord, DomainEvent, IdempotencyKey)
        d_fields = [
            "code",
            "procedure",
            "channel",
            "status",
            "applicant",
            "applicant_name",
            "applicant_identity",
            "applicant_phone",
            "applicant_address",
            "applicant_verified",
            "form_data",
            "receiving_agency",
            "current_agency",
            "current_step",
            "group_code",
            "submitted_at",
            "rescheduled",
            "timeliness",
            "fee_due",
            "fee_paid",
            "digitized",
            "has_electronic_result",
            "delivery",
            "imported",
            "updated_at",
        ]
        self.sql_dossier = _insert_sql(Dossier, d_fields) + " RETURNING id"
        c_fields = ["dossier", "required", "name", "on_paper"]
        self.sql_component = _insert_sql(DossierComponent, c_fields)
        e_fields = [
            "dossier",
            "at",
            "action",
            "from_status",
            "to_status",
            "from_agency",
            "to_agency",
            "actor",
            "step",
            "note",
            "due_at",
        ]
        self.sql_event = _insert_sql(DossierEvent, e_fields)
        self.sql_accept = (
            "UPDATE dossiers_dossier SET status = %s, current_step = %s, accepted_at = %s, due_at = %s, "
            "original_due_at = %s, updated_at = %s WHERE id = %s"
        )
        u_fields = [
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "kind",
            "full_name",
            "identity_number",
            "phone",
            "global_role",
        ]
        self.sql_user = _insert_sql(User, u_fields) + " RETURNING id"
        a_fields = [
            "seq",
            "created_at",
            "actor",
            "actor_label",
            "agency_id",
            "action",
            "object_type",
            "object_id",
            "before",
            "after",
            "prev_hash",
            "hash",
        ]
        self.sql_audit = _insert_sql(AuditRecord, a_fields)
        self.sql_head = "UPDATE core_audithead SET seq = %s, hash = %s WHERE id = 1"
        self.sql_counter = "UPDATE core_codecounter SET value = value + 1 WHERE key = %s"
        self.sql_domain = _insert_sql(DomainEvent, ["name", "payload", "created_at"])
        self.sql_idem = _insert_sql(
            IdempotencyKey, ["scope", "key", "request_hash", "object_type", "object_id", "created_at"]
        )

        from chinhquyenso.core.models import AuditHead, CodeCounter

        self.seq = AuditHead.objects.get(id=1).seq
        self.counter_key = CodeCounter.objects.order_by("-id").values_list("key", flat=True).first()
        prep = lambda m, d: _adapt(m, d)  # noqa: E731
        self.rows = []
        for k in range(n):
            i = first_id + k
            self.rows.append(
                {
                    "dossier": prep(
                        Dossier,
                        {
                            "code": f"RAW-{i:08d}",
                            "procedure": proc.pk,
                            "channel": "counter",
                            "status": "submitted",
                            "applicant": None,
                            "applicant_name": "Nguyễn Văn An",
                            "applicant_identity": c.citizen_id(i),
                            "applicant_phone": "0901234567",
                            "applicant_address": "",
                            "applicant_verified": True,
                            "form_data": {"ten_tre": "Nguyễn Văn Bình", "ngay_sinh": "2025-01-02"},
                            "receiving_agency": agency.pk,
                            "current_agency": agency.pk,
                            "current_step": 0,
                            "group_code": "",
                            "submitted_at": now,
                            "rescheduled": False,
                            "timeliness": "",
                            "fee_due": 8000,
                            "fee_paid": 0,
                            "digitized": False,
                            "has_electronic_result": False,
                            "delivery": "",
                            "imported": False,
                            "updated_at": now,
                        },
                    ),
                    "components": [
                        prep(
                            DossierComponent,
                            {"dossier": None, "required": r.pk, "name": r.name, "on_paper": r.order <= 2},
                        )
                        for r in required
                    ],
                    "submit_event": prep(
                        DossierEvent,
                        {
                            "dossier": None,
                            "at": now,
                            "action": "submit",
                            "from_status": "",
                            "to_status": "submitted",
                            "from_agency": None,
                            "to_agency": agency.pk,
                            "actor": officer.pk,
                            "step": None,
                            "note": "Trực tiếp tại Bộ phận Một cửa",
                            "due_at": None,
                        },
                    ),
                    "accept": ["in_process", 1]
                    + _adapt(Dossier, {"accepted_at": now, "due_at": due, "original_due_at": due, "updated_at": now}),
                    "accept_event": prep(
                        DossierEvent,
                        {
                            "dossier": None,
                            "at": now,
                            "action": "accept",
                            "from_status": "submitted",
                            "to_status": "in_process",
                            "from_agency": agency.pk,
                            "to_agency": agency.pk,
                            "actor": officer.pk,
                            "step": 1,
                            "note": "",
                            "due_at": due,
                        },
                    ),
                    "user": prep(
                        User,
                        {
                            "password": "!unusable",
                            "is_superuser": False,
                            "username": f"r{c.citizen_id(i)}",
                            "first_name": "",
                            "last_name": "",
                            "email": "",
                            "is_staff": False,
                            "is_active": True,
                            "date_joined": now,
                            "kind": "citizen",
                            "full_name": "Nguyễn Văn An",
                            "identity_number": f"r{c.citizen_id(i)}",
                            "phone": "0901234567",
                            "global_role": "",
                        },
                    ),
                    "audit": [
                        prep(
                            AuditRecord,
                            {
                                "seq": None,
                                "created_at": now,
                                "actor": officer.pk,
                                "actor_label": "xa_a.counter_officer",
                                "agency_id": agency.pk,
                                "action": action,
                                "object_type": "dossiers.Dossier",
                                "object_id": "0",
                                "before": {},
                                "after": {"status": "submitted"},
                                "prev_hash": "0" * 64,
                                "hash": "f" * 64,
                            },
                        )
                        for action in ("user.create", "dossier.submit", "dossier.accept")
                    ],
                    "domain": [
                        prep(
                            DomainEvent,
                            {"name": "DossierStatusChanged", "payload": {"code": f"RAW-{i:08d}"}, "created_at": now},
                        )
                        for _ in range(2)
                    ],
                    "idem": prep(
                        IdempotencyKey,
                        {
                            "scope": "dossier.submit:u1",
                            "key": f"raw-{i}",
                            "request_hash": "e" * 64,
                            "object_type": "dossiers.Dossier",
                            "object_id": "0",
                            "created_at": now,
                        },
                    ),
                }
            )

    def run(self, *, full: bool):
        """Returns (seconds, tx-1 latencies, tx-2 latencies, statements in tx 1, statements in tx 2)."""
        from django.db import connection, transaction

        tx1, tx2, counts = [], [], [0, 0]
        start = time.perf_counter()
        with connection.cursor() as cur:

            def ex(tx: int, sql: str, params, many: bool = False):
                counts[tx] += 1
                (cur.executemany if many else cur.execute)(sql, params)

            def audit(tx: int, row, j: int):
                self.seq += 1
                ex(tx, self.sql_audit, [self.seq, *row["audit"][j][1:]])
                ex(tx, self.sql_head, [self.seq, "f" * 64])

            for row in self.rows:
                counts = [0, 0]
                t0 = time.perf_counter()
                with transaction.atomic():
                    dossier = list(row["dossier"])
                    if full:
                        ex(0, self.sql_user, row["user"])
                        dossier[4] = cur.fetchone()[0]
                        audit(0, row, 0)
                        ex(0, self.sql_counter, [self.counter_key])
                        dossier[0] += "-F"  # both variants write dossiers: keep codes unique
                    else:
                        dossier[4] = self.applicant.pk
                    ex(0, self.sql_dossier, dossier)
                    pk = cur.fetchone()[0]
                    ex(0, self.sql_component, [[pk, *r[1:]] for r in row["components"]], many=True)
                    ex(0, self.sql_event, [pk, *row["submit_event"][1:]])
                    if full:
                        audit(0, row, 1)
                        ex(0, self.sql_domain, row["domain"][0])
                        ex(0, self.sql_idem, row["idem"])
                t1 = time.perf_counter()
                with transaction.atomic():
                    ex(1, self.sql_accept, [*row["accept"], pk])
                    ex(1, self.sql_event, [pk, *row["accept_event"][1:]])
                    if full:
                        audit(1, row, 2)
                        ex(1, self.sql_domain, row["domain"][1])
                tx1.append(t1 - t0)
                tx2.append(time.perf_counter() - t1)
        return time.perf_counter() - start, tx1, tx2, counts[0], counts[1]


# ---------------------------------------------------------------- profile

# (label, module file suffix, function name); cumulative time of each, as a
# share of the profiled run. They overlap where one calls another (noted).
PROFILE_PARTS = [
    ("POST /api/dossiers view (submit + response)", "dossiers/api.py", "submit"),
    ("POST …/actions/accept view (accept + response)", "dossiers/api.py", "act"),
    ("  services.submit", "dossiers/services.py", "submit"),
    ("  services.accept", "dossiers/services.py", "accept"),
    ("    audit chain: audit.record (lock head, hash, insert)", "core/audit.py", "record"),
    ("    idempotency: find", "core/idempotency.py", "find"),
    ("    idempotency: remember", "core/idempotency.py", "remember"),
    ("    domain events: events.emit", "core/events.py", "emit"),
    ("    population lookup (simulator)", "dossiers/services.py", "_verify_applicant"),
    ("    applicant account: get_or_create_citizen", "accounts/services.py", "get_or_create_citizen"),
    ("    dossier code: next_code", "dossiers/services.py", "next_code"),
    ("    components rows: _attach_components", "dossiers/services.py", "_attach_components"),
    ("    event row + dossier save: Workflow.transition", "core/workflow.py", "transition"),
    ("    deadline: calendar_for + due_at", "core/calendar.py", "calendar_for"),
    ("  response dict: dossier_out (3 reads)", "dossiers/api.py", "dossier_out"),
    ("  response validation + JSON: ninja _result_to_response", "ninja/operation.py", "_result_to_response"),
    ("  request body parsing + validation: ninja _get_values", "ninja/operation.py", "_get_values"),
    ("  scope checks: selectors.get_dossier", "dossiers/selectors.py", "get_dossier"),
    ("all SQL execution (driver)", "django/db/backends/utils.py", "_execute"),
    ("all COMMITs", "django/db/backends/base/base.py", "_commit"),
    ("session → user (auth.get_user)", "django/contrib/auth/__init__.py", "get_user"),
    ("Django handler, all server-side work (BaseHandler.get_response)", "django/core/handlers/base.py", "get_response"),
]


def profile(api: Api, first: int, n: int) -> list[list]:
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for i in range(first, first + n):
        api.pair(i)
    profiler.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats
    rows = []
    for label, suffix, func in PROFILE_PARTS:
        cum = sum(v[3] for (path, _line, name), v in stats.items() if name == func and path.endswith(suffix))
        rows.append([label, cum / n * 1000, f"{100 * cum / total:.1f}%"])
    rows.append(["total per pair (the rest: test client, response.json())", total / n * 1000, "100%"])
    return rows


# ---------------------------------------------------------------- main


def run(args):
    from django.db import connection

    c.print_machine(args.pg_server)
    print(
        f"Backend: {connection.vendor} ({args.backend}); dossiers: {args.dossiers}; warm-up: {args.warmup}; "
        f"profiled: {args.profile_n}\n"
    )
    province = c.build_province()
    api = Api(province)
    for i in range(args.warmup):
        api.pair(i)
    first = args.warmup
    q_submit, q_accept = count_queries(api, first)
    first += 1

    wall, submit, accept = run_api(api, first, args.dossiers)
    first += args.dossiers
    raw = Raw(province, args.dossiers, first_id=10_000_000)
    raw_wall, raw1, raw2, st1, st2 = raw.run(full=False)
    raw_full_wall, rawf1, rawf2, stf1, stf2 = raw.run(full=True)

    n = args.dossiers
    s, a = c.summary_ms(submit), c.summary_ms(accept)
    r1, r2 = c.summary_ms(raw1), c.summary_ms(raw2)
    f1, f2 = c.summary_ms(rawf1), c.summary_ms(rawf2)
    print("Latency per call (ms)")
    print(
        c.table(
            ["path", "call", "SQL statements", "mean", "p50", "p95", "p99", "max"],
            [
                ["API", "POST /api/dossiers", q_submit, s["mean"], s["p50"], s["p95"], s["p99"], s["max"]],
                ["API", "POST …/actions/accept", q_accept, a["mean"], a["p50"], a["p95"], a["p99"], a["max"]],
                ["raw SQL, dossier rows", "tx 1 (insert)", st1, r1["mean"], r1["p50"], r1["p95"], r1["p99"], r1["max"]],
                [
                    "raw SQL, dossier rows",
                    "tx 2 (update + event)",
                    st2,
                    r2["mean"],
                    r2["p50"],
                    r2["p95"],
                    r2["p99"],
                    r2["max"],
                ],
                ["raw SQL, every row", "tx 1 (insert)", stf1, f1["mean"], f1["p50"], f1["p95"], f1["p99"], f1["max"]],
                [
                    "raw SQL, every row",
                    "tx 2 (update + event)",
                    stf2,
                    f2["mean"],
                    f2["p50"],
                    f2["p95"],
                    f2["p99"],
                    f2["max"],
                ],
            ],
        )
    )
    print("\n(SQL statements: per call, without BEGIN/COMMIT/SAVEPOINT; an executemany counts once)\n")
    print("Throughput (submit + accept pairs)")
    print(
        c.table(
            ["path", "dossiers", "seconds", "dossiers/s", "ms per dossier", "API ÷ this"],
            [
                ["API (HTTP, in-process)", n, wall, n / wall, wall / n * 1000, "1.0×"],
                ["raw SQL, dossier rows", n, raw_wall, n / raw_wall, raw_wall / n * 1000, f"{wall / raw_wall:.1f}×"],
                [
                    "raw SQL, every row the API writes",
                    n,
                    raw_full_wall,
                    n / raw_full_wall,
                    raw_full_wall / n * 1000,
                    f"{wall / raw_full_wall:.1f}×",
                ],
            ],
        )
    )
    if args.profile_n:
        print(
            f"\nProfile (cProfile, {args.profile_n} pairs; cumulative ms per pair; parts overlap where nested; "
            "cProfile inflates Python-heavy parts)"
        )
        print(c.table(["part", "ms per pair", "share"], profile(api, first, args.profile_n)))


if __name__ == "__main__":
    c.run_on_fresh_database(args_(), "cqs_bench_submit", run)
