"""Benchmark: searching the data bus's message log with 10,000,000 entries (PostgreSQL).

    .venv/bin/python benchmarks/bus_log_search.py                 # 10,000,000 entries
    .venv/bin/python benchmarks/bus_log_search.py --entries 1000000 --keep

On a fresh database (`cqs_bench_buslog`, dropped afterwards unless --keep) it fills the message
log with INSERT … SELECT generate_series — a year of calls spread unevenly over 30 services and
12 client systems (a few busy, many quiet), ~7% failures, a dossier code on 70% of calls shared by
about four calls each, short bodies — with the log's indexes dropped during the fill and built again
after it (as the migration defines them), then ANALYZE. The entries are not a valid hash chain:
this measures search, not verification.

Then it times the auditors' selector `exchange.bus.log.search` (the ORM query the page and
`cqs bus log search` run, a page of 50, bodies left out) for typical searches with random
parameters — service + one day, client + one week, a dossier code, service + outcome + one week,
page 21 of a service's day — and, for the same queries, PostgreSQL's own execution time from
EXPLAIN ANALYZE (the database's share; the rest is Django and the driver). The plan of each kind
is printed so a missing index shows up as a sequential scan.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
import time

import _common as c

SERVICES = [f"VN/GOV/000.00.00.G{n:02d}/he-thong-{n}/dich-vu-{n}" for n in range(1, 31)]
CLIENTS = [f"VN/GOV/000.00.{n:02d}.H01/he-thong-goi-{n}" for n in range(1, 13)]
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DAYS = 365
PAGE = 50


def args_():
    p = c.parser("Message-log search with many entries (PostgreSQL).")
    p.set_defaults(backend="postgres")
    p.add_argument("--entries", type=int, default=10_000_000, help="entries to write (default %(default)s)")
    p.add_argument("-r", "--requests", type=int, default=200, help="timed searches per kind (default %(default)s)")
    p.add_argument("--explain", type=int, default=30, help="EXPLAIN ANALYZE runs per kind (default %(default)s)")
    p.add_argument(
        "--verify-entries",
        type=int,
        default=0,
        help="afterwards, time seal and verify over a real chain of this many entries (default: skip)",
    )
    return p.parse_args()


FILL = """
INSERT INTO exchange_buslogentry (seq, at, message_id, client, service, operation, method, status, outcome,
    error_code, duration_ms, asynchronous, idempotency_key, correlation, request_hash, response_hash,
    request_body, response_body, prev_hash, entry_hash)
SELECT g,
       %(start)s::timestamptz + (g::float8 / %(total)s) * %(days)s * interval '1 day' + random() * interval '2 seconds',
       md5(g::text),
       (%(clients)s::text[])[1 + floor(power(random(), 2) * %(n_clients)s)::int],
       (%(services)s::text[])[1 + floor(power(random(), 1.6) * %(n_services)s)::int],
       'tra-cuu', 'POST', CASE WHEN r < 0.93 THEN 200 WHEN r < 0.97 THEN 502 ELSE NULL END,
       CASE WHEN r < 0.93 THEN 'ok' WHEN r < 0.97 THEN 'remote_error' WHEN r < 0.99 THEN 'timeout' ELSE 'refused' END,
       CASE WHEN r < 0.93 THEN '' ELSE 'remote_error' END,
       5 + random() * 300, g %% 3 = 0, '',
       CASE WHEN random() < 0.7 THEN 'H01.' || lpad((g / 4)::text, 9, '0') ELSE '' END,
       md5(g::text) || md5((g + 1)::text), '', '{"ref":"' || g || '"}', '',
       md5((g - 1)::text) || md5(g::text), md5(g::text) || md5((g - 1)::text)
FROM (SELECT g, random() AS r FROM generate_series(%(first)s, %(last)s) AS g) AS s
"""


def fill(total: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'exchange_buslogentry'::regclass AND contype = 'u'"
        )
        constraints = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE exchange_buslogentry DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'exchange_buslogentry' "
            "AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        step = 1_000_000
        for first in range(1, total + 1, step):
            last = min(total, first + step - 1)
            cursor.execute(
                FILL,
                {
                    "start": START,
                    "total": total,
                    "days": DAYS,
                    "clients": CLIENTS,
                    "n_clients": len(CLIENTS),
                    "services": SERVICES,
                    "n_services": len(SERVICES),
                    "first": first,
                    "last": last,
                },
            )
            print(f"  {last:>12,} entries  {time.perf_counter() - started:7.1f} s", flush=True)
        filled = time.perf_counter() - started
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE exchange_buslogentry ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            cursor.execute(definition)
        indexed = time.perf_counter() - started - filled
        cursor.execute("UPDATE exchange_busloghead SET seq = %s", [total])
        cursor.execute("ANALYZE exchange_buslogentry")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('exchange_buslogentry'))")
        size = cursor.fetchone()[0]
    print(f"Filled {total:,} entries in {filled:.0f} s, indexes built in {indexed:.0f} s; table + indexes {size}\n")


def kinds(rng: random.Random, total: int):
    """(label, function of rng → search keyword arguments)."""

    def day(rng):
        return (START + dt.timedelta(days=rng.randrange(DAYS - 8))).date()

    def weighted(rng, items, power):
        return items[int((rng.random() ** power) * len(items))]

    def code(rng):
        return f"H01.{rng.randrange(1, total) // 4:09d}"

    return [
        ("service + 1 day", lambda r: {"service": weighted(r, SERVICES, 1.6), "start": (d := day(r)), "end": d}),
        (
            "client + 1 week",
            lambda r: {"client": weighted(r, CLIENTS, 2), "start": (d := day(r)), "end": d + dt.timedelta(days=6)},
        ),
        ("dossier code (correlation)", lambda r: {"correlation": code(r)}),
        (
            "service + outcome + 1 week",
            lambda r: {
                "service": weighted(r, SERVICES, 1.6),
                "outcome": "timeout",
                "start": (d := day(r)),
                "end": d + dt.timedelta(days=6),
            },
        ),
        (
            "service + 1 day, page 21",
            lambda r: {"service": weighted(r, SERVICES, 1.6), "start": (d := day(r)), "end": d, "offset": 1000},
        ),
    ]


def measure(args) -> None:
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole
    from chinhquyenso.exchange.bus import log as message_log

    c.print_machine(args.pg_server)
    print(f"Filling the message log ({args.entries:,} entries) …")
    fill(args.entries)
    auditor = accounts.create_officer(
        actor=None, username="kiem.tra", password=None, full_name="Kiểm tra", global_role=GlobalRole.AUDITOR
    )
    rng = random.Random(20)
    rows, plans = [], []
    for label, make in kinds(rng, args.entries):
        for _ in range(10):  # warm up
            message_log.search(auditor, **make(rng), limit=PAGE)
        times, found = [], []
        for _ in range(args.requests):
            params = make(rng)
            offset = params.pop("offset", 0)
            started = time.perf_counter()
            result = message_log.search(auditor, **params, limit=PAGE, offset=offset)
            times.append(time.perf_counter() - started)
            found.append(len(result))
        db_times = []
        for i in range(args.explain):
            params = make(rng)
            offset = params.pop("offset", 0)
            query = message_log.query(**params)[offset : offset + PAGE]
            plan = query.explain(analyze=True)
            db_times.append(float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)) / 1000)
            if i == 0:
                plans.append((label, plan))
        s, d = c.summary_ms(times), c.summary_ms(db_times)
        rows.append([label, s["p50"], s["p95"], s["max"], d["p50"], d["p95"], sum(found) / len(found)])
        print(f"  {label}: p50 {s['p50']:.2f} ms, p95 {s['p95']:.2f} ms", flush=True)
    print()
    print(
        c.table(
            [
                "search (page of 50)",
                "search p50 ms",
                "search p95 ms",
                "max ms",
                "EXPLAIN ANALYZE p50 ms",
                "EXPLAIN ANALYZE p95 ms",
                "rows/page",
            ],
            rows,
        )
    )
    print()
    for label, plan in plans:
        print(f"Plan — {label}:\n{plan}\n")
    if args.verify_entries:
        seal_and_verify(args.verify_entries)


def seal_and_verify(total: int) -> None:
    """A real chain (bulk-written with correct hashes, short bodies): seal and verify, timed."""
    from django.db import connection
    from django.utils import timezone

    from chinhquyenso.exchange.bus import log as message_log
    from chinhquyenso.exchange.models import BusLogEntry, BusLogHead

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE exchange_buslogentry, exchange_buslogseal")
    prev, batch, now = message_log.GENESIS, [], timezone.now()
    started = time.perf_counter()
    for seq in range(1, total + 1):
        body = f'{{"ref":"{seq}"}}'
        entry = BusLogEntry(
            seq=seq,
            at=now - dt.timedelta(seconds=total - seq),
            message_id=f"m{seq}",
            client=CLIENTS[seq % len(CLIENTS)],
            service=SERVICES[seq % len(SERVICES)],
            operation="tra-cuu",
            method="POST",
            status=200,
            outcome="ok",
            duration_ms=12.5,
            correlation=f"H01.{seq // 4:09d}",
            request_body=body,
            request_hash=message_log.body_hash(body),
            prev_hash=prev,
        )
        entry.entry_hash = prev = message_log.digest(entry)
        batch.append(entry)
        if len(batch) == 10_000:
            BusLogEntry.objects.bulk_create(batch)
            batch = []
    BusLogEntry.objects.bulk_create(batch)
    BusLogHead.objects.update_or_create(pk=1, defaults={"seq": total, "hash": prev})
    print(f"Wrote a chain of {total:,} entries in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    seals = message_log.seal()
    sealed = time.perf_counter() - started
    started = time.perf_counter()
    result = message_log.verify()
    verified = time.perf_counter() - started
    assert result.ok, result.message
    print(
        f"seal: {len(seals)} seals in {sealed:.1f} s ({total / sealed:,.0f} entries/s); "
        f"verify: {verified:.1f} s ({total / verified:,.0f} entries/s)\n"
    )


def main() -> None:
    args = args_()
    if args.backend != "postgres":
        sys.exit("This benchmark runs on PostgreSQL (--backend postgres).")
    c.run_on_fresh_database(args, "cqs_bench_buslog", measure)


if __name__ == "__main__":
    main()
