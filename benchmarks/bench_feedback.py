"""Benchmark: citizen feedback (phản ánh, kiến nghị) — docs/benchmarks.md §7.

    .venv/bin/python benchmarks/bench_feedback.py --backend sqlite   --reports 200000
    .venv/bin/python benchmarks/bench_feedback.py --backend postgres --reports 200000

On a fresh database:

1. Province (untimed): the benchmark province of _common.build_province plus
   --districts × --communes more communes, each with a map reference point and
   a leader with an e-mail address; the default categories
   (data/categories.json); an Open311 client key.
2. Seed (timed, reported): --reports reports written with bulk_create in
   chunks, spread evenly over the last 18 months, every category, every
   commune (handled by the commune, its district or the category's agency by
   the category's level), statuses by age (the last 30 days mostly open,
   older ones mostly resolved, closed, rejected or merged), 10% with a photo,
   every one with the reporter's name, phone and e-mail; then the yearly code
   counters and ANALYZE.
3. Public list: p50/p95 over --requests requests of each of
     GET /open311/v2/requests.json?page_size=100&page=<random>   default 90-day window
     GET /open311/v2/requests.json?page_size=100&status=open&page=<random>
     GET /open311/v2/requests.xml?page_size=100&service_code=<random>
     GET /open311/v2/requests.json?service_request_id=<20 random codes>
     GET /phan-anh/?trang=<random>  and  GET /phan-anh/ban-do/   (the public pages)
   in-process through django.test.Client (middleware, selectors, rendering, SQL).
4. Submissions: --submissions reports through
     POST /open311/v2/requests.json   (form, api_key, Idempotency-Key, a point, name, phone, e-mail, attributes)
   and as many direct services.submit calls with the same fields, in
   alternating blocks of 25: reports per second each (summed call times),
   and the ratio (what the HTTP layer costs). Every report comes from a
   different address and phone, as real traffic does, so the abuse limits
   never trip.
5. Escalation: every report made open (assigned or in progress; 5% waiting in
   the IOC queue), due dates spread from 20 days ago to 40 days ahead, then
   services.escalate_due(): the first run (the backlog: every due-soon,
   overdue and long-overdue report raised at once) and a second run 15
   minutes later (the scheduled job's steady state: nothing new).

Results go to benchmarks/results/bench_feedback-<backend>-<time>.json.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import sys
import time

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"
CHUNK = 10_000
MONTHS = 18


def args_():
    p = c.parser("Citizen feedback: Open311 submissions, public list, escalation.")
    p.add_argument("--reports", type=int, default=200_000, help="reports to seed (default %(default)s)")
    p.add_argument("--districts", type=int, default=10, help="extra districts (default %(default)s)")
    p.add_argument("--communes", type=int, default=15, help="communes per extra district (default %(default)s)")
    p.add_argument("--requests", type=int, default=200, help="timed GET requests per variant (default %(default)s)")
    p.add_argument("--submissions", type=int, default=1000, help="timed submissions per path (default %(default)s)")
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args()


# ---------------------------------------------------------------- province


def build(args):
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import Role, User
    from chinhquyenso.feedback import api_clients, services
    from chinhquyenso.feedback.models import AreaPoint, Category
    from chinhquyenso.org import services as org
    from chinhquyenso.org.models import AgencyKind

    province = c.build_province()
    admin, agencies = province["admin"], province["agencies"]
    communes = [agencies["xa_a"], agencies["xa_b"]]
    for d in range(args.districts):
        district = org.create_agency(
            actor=admin,
            name=f"UBND huyện Thử Nghiệm {d + 1}",
            code=f"huyen-{d + 1}",
            kind=AgencyKind.DISTRICT_COMMITTEE,
            parent=agencies["ubnd"],
            electronic_code=f"000.00.{40 + d}.H01",
        )
        for k in range(args.communes):
            communes.append(
                org.create_agency(
                    actor=admin,
                    name=f"UBND xã Thử Nghiệm {d + 1}-{k + 1}",
                    code=f"xa-{d + 1}-{k + 1}",
                    kind=AgencyKind.COMMUNE_COMMITTEE,
                    parent=district,
                    electronic_code=f"000.{40 + d}.{k + 1:02d}.H01",
                )
            )
    rng = random.Random(args.seed)
    points = {}
    for commune in communes:
        lat, lon = round(rng.uniform(10.25, 10.9), 6), round(rng.uniform(104.85, 105.55), 6)
        points[commune.pk] = (lat, lon)
    AreaPoint.objects.bulk_create(
        AreaPoint(agency_id=pk, latitude=lat, longitude=lon) for pk, (lat, lon) in points.items()
    )
    for commune in communes:
        leader = accounts.create_officer(
            actor=admin,
            username=f"lanhdao.{commune.code}",
            password=None,
            full_name=f"Lãnh đạo {commune.name}",
            memberships=[(commune, Role.LEADER)],
        )
        User.objects.filter(pk=leader.pk).update(email=f"lanhdao.{commune.code}@angiang.gov.vn")
    services.load_categories(actor=admin)
    categories = list(Category.objects.all())
    _, key = api_clients.issue(actor=admin, name="Ứng dụng đo hiệu năng")
    return {
        "admin": admin,
        "agencies": agencies,
        "communes": communes,
        "points": points,
        "categories": categories,
        "key": key,
    }


def _attributes(category, rng) -> dict:
    """A valid answer to each of the category's attributes."""
    out = {}
    for spec in category.attributes or []:
        values = [str(v["key"]) for v in spec.get("values") or []]
        kind = spec.get("datatype", "string")
        if kind == "singlevaluelist":
            out[spec["code"]] = rng.choice(values)
        elif kind == "multivaluelist":
            out[spec["code"]] = [rng.choice(values)]
        elif kind == "number":
            out[spec["code"]] = str(rng.randint(1, 500))
        else:
            out[spec["code"]] = f"G-{rng.randint(1000, 9999)}"
    return out


# ---------------------------------------------------------------- seed


def _status_for(age_days: float, rng) -> str:
    roll = rng.random()
    if age_days < 30:  # recent: mostly being handled
        for status, share in (
            ("received", 0.05),
            ("assigned", 0.25),
            ("in_progress", 0.25),
            ("waiting_info", 0.05),
            ("resolved", 0.30),
            ("rejected", 0.07),
        ):
            if roll < share:
                return status
            roll -= share
        return "merged"
    for status, share in (("resolved", 0.52), ("closed", 0.25), ("rejected", 0.12), ("merged", 0.05), ("split", 0.01)):
        if roll < share:
            return status
        roll -= share
    return "in_progress"  # a few old ones still open (long overdue)


def insert_rows(model, rows: list[dict]) -> None:
    """Write `rows` (attname → value; the fields' defaults fill the rest) with
    COPY (PostgreSQL) or one executemany (SQLite). bulk_create passes every
    value through the ORM's compiler, on SQLite in statements of ~20 rows
    (999 parameters), which costs several times the database's own work."""
    from django.db import connection, models

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    special = (models.DateTimeField, models.DecimalField, models.JSONField)
    adapt = [
        (f.attname, (lambda v, f=f: f.get_db_prep_save(v, connection)) if isinstance(f, special) else None)
        for f in fields
    ]
    q = connection.ops.quote_name
    table, columns = q(model._meta.db_table), ", ".join(q(f.column) for f in fields)

    def prepared(row: dict) -> list:
        out = []
        for name, adapter in adapt:
            value = row.get(name, defaults[name])
            out.append(value if adapter is None or value is None else adapter(value))
        return out

    values = (prepared(row) for row in rows)
    if connection.vendor == "postgresql":  # COPY: the fastest way in
        connection.ensure_connection()
        with connection.connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        return
    with connection.cursor() as cursor:  # SQLite: executemany runs in C
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})", values)


def seed(args, world) -> dict:
    from django.db import connection, transaction
    from django.db.models import F
    from django.utils import timezone

    from chinhquyenso.core.calendar import LOCAL_TZ
    from chinhquyenso.core.models import CodeCounter, StoredFile
    from chinhquyenso.feedback.models import Feedback, Photo

    rng = random.Random(args.seed)
    now = timezone.now()
    span = dt.timedelta(days=MONTHS * 30.4)
    communes = world["communes"]
    tu_phap = world["agencies"]["tu_phap"]
    # Who handles each category in each commune, once (the commune, its district or a fixed agency).
    handler = {
        (cat.pk, commune.pk): (
            {"commune": commune, "district": commune.parent}.get(cat.handling_level) or cat.handling_agency or tu_phap
        ).pk
        for cat in world["categories"]
        for commune in communes
    }
    moments = sorted(now - span * rng.random() for _ in range(args.reports))
    counters: dict[int, int] = {}
    start = time.perf_counter()
    for first in range(0, args.reports, CHUNK):
        rows = []
        for i in range(first, min(first + CHUNK, args.reports)):
            at = moments[i]
            year = at.astimezone(LOCAL_TZ).year
            counters[year] = counters.get(year, 0) + 1
            category = world["categories"][i % len(world["categories"])]
            commune = communes[rng.randrange(len(communes))]
            status = _status_for((now - at).total_seconds() / 86400, rng)
            lat, lon = world["points"][commune.pk]
            done = at + dt.timedelta(days=rng.uniform(1, 20))
            finished = status in ("resolved", "closed")
            rows.append(
                {
                    "code": f"PA-{year}-{counters[year]:06d}",
                    "token": secrets.token_urlsafe(24),
                    "category_id": category.pk,
                    "title": f"Phản ánh số {i}",
                    "description": f"Phản ánh số {i}: {category.name.lower()} tại {commune.name}.",
                    "attribute_values": {},
                    "latitude": round(lat + rng.uniform(-0.01, 0.01), 6),
                    "longitude": round(lon + rng.uniform(-0.01, 0.01), 6),
                    "address": f"Số {i % 300 + 1}, ấp {i % 17 + 1}",
                    "area_id": commune.pk,
                    "reporter_name": f"Người phản ánh {i}",
                    "reporter_phone": f"09{i:08d}",
                    "reporter_email": f"nguoi{i}@example.vn",
                    "channel": ("web", "app", "open311", "ioc")[i % 4],
                    "content_hash": secrets.token_hex(32),
                    "agency_id": None if status == "received" else handler[category.pk, commune.pk],
                    "status": status,
                    "received_at": at,
                    "assigned_at": None if status == "received" else at,
                    "due_at": at + dt.timedelta(days=21),
                    "resolved_at": done if finished else None,
                    "rejected_at": done if status == "rejected" else None,
                    "closed_at": done if status == "closed" else None,
                    "on_time": (done <= at + dt.timedelta(days=21)) if finished else None,
                    "public_reply": "Đã xử lý, khắc phục xong." if finished else "",
                    "rejection_reason": "Không thuộc thẩm quyền giải quyết." if status == "rejected" else "",
                    "updated_at": done if status not in ("received", "assigned", "in_progress", "waiting_info") else at,
                }
            )
        with transaction.atomic():
            insert_rows(Feedback, rows)
    Feedback.objects.filter(status="merged").update(merged_into_id=F("id") - 1)
    stored = StoredFile.objects.create(sha256="0" * 64, content_type="image/jpeg", size=1, file="uploads/bench.jpg")
    ids = list(Feedback.objects.values_list("id", flat=True))
    with transaction.atomic():
        insert_rows(Photo, [{"feedback_id": pk, "file_id": stored.pk} for pk in ids[::10]])
    for year, value in counters.items():
        CodeCounter.objects.update_or_create(key=f"PA-{year}", defaults={"value": value})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seconds = time.perf_counter() - start
    return {"reports": args.reports, "seconds": seconds, "per_second": args.reports / seconds, "photos": len(ids[::10])}


# ---------------------------------------------------------------- public list


def timed_gets(client, make_path, n: int, rng) -> tuple[dict, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm-up, untimed
        client.get(make_path(rng))
    times = []
    for _ in range(n):
        path = make_path(rng)
        t0 = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - t0)
        if response.status_code != 200:
            sys.exit(f"GET {path}: HTTP {response.status_code} {response.content[:300]!r}")
    with CaptureQueriesContext(connection) as queries:
        client.get(make_path(rng))
    return c.summary_ms(times), len(queries.captured_queries)


def public_list(args, world) -> list[list]:
    from django.db.models import Count
    from django.test import Client
    from django.urls import Resolver404, resolve
    from django.utils import timezone

    from chinhquyenso.feedback.models import OPEN_STATUSES, Feedback

    rng = random.Random(args.seed + 1)
    client = Client()
    since = timezone.now() - dt.timedelta(days=90)
    window = Feedback.objects.filter(received_at__gte=since)
    in_window = window.count()
    open_in_window = window.filter(status__in=OPEN_STATUSES).count()
    by_code = dict(window.values_list("category__code").annotate(n=Count("id")).values_list("category__code", "n"))
    codes = list(Feedback.objects.values_list("code", flat=True)[:: max(1, args.reports // 5000)])
    pages = lambda n: max(1, -(-n // 100))  # noqa: E731
    variants = [
        (
            f"requests.json, 90-day window ({in_window:,} reports), random page of 100",
            lambda r: f"/open311/v2/requests.json?page_size=100&page={r.randint(1, pages(in_window))}",
        ),
        (
            f"requests.json, status=open ({open_in_window:,}), random page of 100",
            lambda r: f"/open311/v2/requests.json?page_size=100&status=open&page={r.randint(1, pages(open_in_window))}",
        ),
        (
            "requests.xml, one service_code, first page of 100",
            lambda r: f"/open311/v2/requests.xml?page_size=100&service_code={r.choice(list(by_code))}",
        ),
        (
            "requests.json, service_request_id = 20 codes",
            lambda r: "/open311/v2/requests.json?service_request_id=" + ",".join(r.sample(codes, 20)),
        ),
    ]
    for path, label in (
        ("/phan-anh/", "pages: /phan-anh/ (public list), random page"),
        ("/phan-anh/ban-do/", "pages: /phan-anh/ban-do/ (public map)"),
    ):
        try:
            resolve(path)
        except Resolver404:
            continue
        if path == "/phan-anh/":
            variants.append((label, lambda r: f"/phan-anh/?trang={r.randint(1, 50)}"))
        else:
            variants.append((label, lambda r: "/phan-anh/ban-do/"))
    rows = []
    for label, make in variants:
        s, queries = timed_gets(client, make, args.requests, rng)
        rows.append([label, queries, s["p50"], s["p95"], s["max"]])
        print(f"  {label}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms", flush=True)
    return rows


# ---------------------------------------------------------------- submissions


def submissions(args, world) -> dict:
    from django.test import Client

    from chinhquyenso.feedback import services

    rng = random.Random(args.seed + 2)
    categories = [cat for cat in world["categories"] if cat.is_active]

    def fields(i: int, tag: str) -> tuple[dict, str]:
        category = categories[i % len(categories)]
        commune = world["communes"][i % len(world["communes"])]
        lat, lon = world["points"][commune.pk]
        data = {
            "service_code": category.code,
            "description": f"Phản ánh {tag} số {i}: {category.name.lower()}.",
            "lat": f"{lat + rng.uniform(-0.003, 0.003):.6f}",
            "long": f"{lon + rng.uniform(-0.003, 0.003):.6f}",
            "first_name": "An",
            "last_name": "Nguyễn Văn",
            "phone": f"08{i:08d}" if tag == "api" else f"07{i:08d}",
            "email": f"{tag}{i}@example.vn",
            "device_id": f"{tag}-{i}",
        }
        data.update({f"attribute[{k}]": v for k, v in _attributes(category, rng).items()})
        return (
            data,
            f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}" if tag == "api" else f"172.16.{i >> 8 & 255}.{i & 255}",
        )

    client = Client()

    def api(i: int):
        data, ip = fields(i, "api")
        response = client.post(
            "/open311/v2/requests.json",
            {**data, "api_key": world["key"]},
            headers={"Idempotency-Key": f"bench-{i}"},
            REMOTE_ADDR=ip,
        )
        if response.status_code != 200:
            sys.exit(f"POST #{i}: HTTP {response.status_code} {response.content[:300]!r}")

    def direct(i: int):
        data, ip = fields(i, "svc")
        services.submit(
            services.Submission(
                category_code=data["service_code"],
                description=data["description"],
                latitude=data["lat"],
                longitude=data["long"],
                name="Nguyễn Văn An",
                phone=data["phone"],
                email=data["email"],
                attribute_values={k[10:-1]: v for k, v in data.items() if k.startswith("attribute[")},
            ),
            channel="open311",
            api_client="Ứng dụng đo hiệu năng",
            device_id=data["device_id"],
            idempotency_key=f"bench-direct-{i}",
            client_ip=ip,
        )

    # Alternating blocks of 25, so a busy spell on a shared machine hits both paths alike.
    for i in range(1_000_000, 1_000_020):  # warm-up, untimed
        direct(i)
        api(i)
    n, block = args.submissions, 25
    times: dict[str, list[float]] = {"service": [], "api": []}
    for first in range(0, n, block):
        for name, call in (("service", direct), ("api", api)):
            for i in range(first, min(first + block, n)):
                t0 = time.perf_counter()
                call(i)
                times[name].append(time.perf_counter() - t0)
    out = {}
    for name, values in times.items():
        total = sum(values)
        out[name] = {"n": n, "seconds": total, "per_second": n / total, **c.summary_ms(values)}
        print(f"  {name}: {n / total:.1f} reports/s, p50 {out[name]['p50']:.1f} ms", flush=True)
    out["ratio"] = out["api"]["per_second"] / out["service"]["per_second"]
    return out


# ---------------------------------------------------------------- escalation


def escalation(args, world) -> dict:
    from django.db.models import Max, Min
    from django.utils import timezone

    from chinhquyenso.exchange.models import Message
    from chinhquyenso.feedback import services
    from chinhquyenso.feedback.models import Escalation, Feedback, FeedbackEvent

    now = timezone.now()
    bounds = Feedback.objects.aggregate(lo=Min("id"), hi=Max("id"))
    lo, hi = bounds["lo"], bounds["hi"] + 1
    buckets = 60  # due dates: one bucket per day from 20 days ago to 39 days ahead
    start = time.perf_counter()
    Feedback.objects.update(merged_into=None)
    for k in range(buckets):
        a, b = lo + (hi - lo) * k // buckets, lo + (hi - lo) * (k + 1) // buckets
        rows = Feedback.objects.filter(id__gte=a, id__lt=b)
        if k % 20 == 0:  # waiting in the IOC queue since its receipt
            rows.update(
                status="received",
                agency=None,
                escalation_level=0,
                reopened_count=0,
                due_at=now + dt.timedelta(days=k - 20),
            )
        else:
            rows.filter(agency__isnull=True).update(agency=world["communes"][k % len(world["communes"])])
            rows.update(
                status=("assigned", "in_progress")[k % 2],
                escalation_level=0,
                reopened_count=0,
                due_at=now + dt.timedelta(days=k - 20),
            )
    reset = time.perf_counter() - start
    open_reports = Feedback.objects.filter(status__in=["received", "assigned", "in_progress"]).count()
    digests = Message.objects.filter(kind__startswith="feedback.escalation_")
    before = (Escalation.objects.count(), FeedbackEvent.objects.count(), digests.count())

    t0 = time.perf_counter()
    first = services.escalate_due(now=now)
    first_s = time.perf_counter() - t0
    by_level = {level: sum(1 for e in first if e.level == level) for level in (1, 2, 3)}
    notices = digests.count() - before[2]
    events = FeedbackEvent.objects.count() - before[1]
    t0 = time.perf_counter()
    second = services.escalate_due(now=now + dt.timedelta(minutes=15))
    second_s = time.perf_counter() - t0
    result = {
        "open_reports": open_reports,
        "reset_seconds": reset,
        "first_seconds": first_s,
        "escalated": len(first),
        "by_level": by_level,
        "events": events,
        "emails": notices,
        "second_seconds": second_s,
        "second_escalated": len(second),
    }
    print(f"  first run {first_s:.2f} s ({len(first)} escalations), second run {second_s:.3f} s", flush=True)
    return result


# ---------------------------------------------------------------- main


def run(args):
    from django.db import connection

    c.print_machine(args.pg_server)
    print(
        f"Backend: {connection.vendor} ({args.backend}); reports: {args.reports:,}; "
        f"requests per variant: {args.requests}; submissions per path: {args.submissions}\n",
        flush=True,
    )
    t0 = time.perf_counter()
    world = build(args)
    print(
        f"Province: {len(world['communes'])} communes, {len(world['categories'])} categories "
        f"({time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    seeded = seed(args, world)
    print(
        f"Seed: {seeded['reports']:,} reports in {seeded['seconds']:.1f} s "
        f"({seeded['per_second']:,.0f}/s), {seeded['photos']:,} photos\n",
        flush=True,
    )

    print("Public list (ms)", flush=True)
    listing = public_list(args, world)
    print(c.table(["request", "SQL", "p50", "p95", "max"], listing), "\n")

    print("Submissions", flush=True)
    sub = submissions(args, world)
    print(
        c.table(
            ["path", "reports", "seconds", "reports/s", "p50 ms", "p95 ms", "÷ services.submit"],
            [
                [
                    "services.submit (direct)",
                    sub["service"]["n"],
                    sub["service"]["seconds"],
                    sub["service"]["per_second"],
                    sub["service"]["p50"],
                    sub["service"]["p95"],
                    "1.00",
                ],
                [
                    "POST /open311/v2/requests.json",
                    sub["api"]["n"],
                    sub["api"]["seconds"],
                    sub["api"]["per_second"],
                    sub["api"]["p50"],
                    sub["api"]["p95"],
                    f"{sub['ratio']:.2f}",
                ],
            ],
        ),
        "\n",
    )

    print("Escalation (services.escalate_due)", flush=True)
    esc = escalation(args, world)
    print(
        c.table(
            ["run", "open reports", "seconds", "escalations", "level 1/2/3", "events", "e-mails"],
            [
                [
                    "first (backlog)",
                    esc["open_reports"],
                    esc["first_seconds"],
                    esc["escalated"],
                    "/".join(str(esc["by_level"][k]) for k in (1, 2, 3)),
                    esc["events"],
                    esc["emails"],
                ],
                ["second (+15 min)", esc["open_reports"], esc["second_seconds"], esc["second_escalated"], "", "", ""],
            ],
        )
    )

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_feedback-{args.backend}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "machine": c.machine(args.pg_server),
                "args": vars(args),
                "seed": seeded,
                "public_list": listing,
                "submissions": sub,
                "escalation": esc,
            },
            ensure_ascii=False,
            indent=1,
            default=str,
        )
    )
    print(f"\nResults: {out.relative_to(c.ROOT)}")


if __name__ == "__main__":
    arguments = args_()
    c.run_on_fresh_database(arguments, f"cqs_bench_feedback_{arguments.backend}", run)
