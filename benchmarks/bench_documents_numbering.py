"""Benchmark: issuing document numbers (số văn bản) under concurrent issuers.

    .venv/bin/python benchmarks/bench_documents_numbering.py [--documents 10000] [--issuers 8]
        [--workflow-documents 2000] [--backend postgres|sqlite]

On a fresh database (PostgreSQL by default), one agency and its outgoing register for the year.
`--issuers` threads, each with its own database connection, start together (a barrier) and share
the documents; every number is its own transaction, as an issue's first phase is:

- bare: `UPDATE bench_counter SET value = value + 1 WHERE key = %s RETURNING value` through the same
  Django connection — the limit for a gapless counter (one row, locked until commit);
- numbering: the platform's path without the workflow — lock the document's row, take the
  register's next number (documents.services.numbering.take_number → core.codes), format the
  symbol (Nghị định 30/2020) and save number, symbol and status;
- reserve (workflow): the clerk's real first phase of `issue` (documents.services.outgoing
  ._reserve_number): role check, timeline row, audit record in the chain, event — on
  `--workflow-documents` documents.

Each variant checks that the numbers are exactly 1..N (no gap, no duplicate). Reported: numbers per
second (wall clock, all issuers), p50/p95 per number, and the ratio to bare.
Results go to benchmarks/results/bench_documents_numbering-<backend>-<time>.json.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"


def args_():
    p = c.parser("Document numbers under concurrent issuers: the register against a bare counter UPDATE.")
    p.set_defaults(backend="postgres")
    p.add_argument("--documents", type=int, default=10_000, help="numbers per variant (default %(default)s)")
    p.add_argument("--issuers", type=int, default=8, help="concurrent issuers (default %(default)s)")
    p.add_argument(
        "--workflow-documents",
        type=int,
        default=2_000,
        help="numbers for the full workflow variant (audit chain, timeline; default %(default)s; 0: skip)",
    )
    return p.parse_args()


def at_once(issuers: int, items: list, work) -> tuple[float, list[float], list]:
    """`issuers` threads share `items`; each calls work(item) -> result. Wall seconds, latencies, results."""
    from django.db import connection

    barrier = threading.Barrier(issuers + 1)
    lock = threading.Lock()
    latencies, results, errors = [], [], []
    chunks = [items[i::issuers] for i in range(issuers)]

    def issuer(chunk):
        try:
            barrier.wait()
            for item in chunk:
                started = time.perf_counter()
                result = work(item)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    results.append(result)
        except Exception as error:  # noqa: BLE001 — reported after the run
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=issuer, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"issuer errors: {errors[:3]}")
    return wall, latencies, results


def check(numbers: list[int], n: int, what: str) -> None:
    if sorted(numbers) != list(range(1, n + 1)):
        duplicates = len(numbers) - len(set(numbers))
        raise SystemExit(f"{what}: numbers are not exactly 1..{n} ({duplicates} duplicates)")


def run(args) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole, Role
    from chinhquyenso.core.uploads import store_generated
    from chinhquyenso.documents.models import Direction, Document, DocumentType
    from chinhquyenso.documents.services import numbering, outgoing
    from chinhquyenso.org import services as org
    from chinhquyenso.org.models import AgencyKind

    admin = accounts.create_officer(
        actor=None, username="qt", password="Mat-khau-2025", full_name="Quản trị", global_role=GlobalRole.PROVINCE_ADMIN
    )
    agencies = [
        org.create_agency(
            actor=admin,
            name=f"Sở thử nghiệm {i}",
            kind=AgencyKind.DEPARTMENT,
            electronic_code=f"000.00.{10 + i}.H01",
            code=f"so-thu-{i}",
        )
        for i in range(3)
    ]
    clerk = accounts.create_officer(
        actor=admin,
        username="van.thu",
        password="Mat-khau-2025",
        full_name="Văn thư",
        memberships=[(agencies[2], Role.CLERK)],
    )
    decision = DocumentType.objects.get(code="quyet-dinh")
    pdf = store_generated(b"%PDF-1.4\n%%EOF\n", content_type="application/pdf", extension="pdf")
    year = timezone.localdate().year
    n, issuers = args.documents, args.issuers

    def documents(agency, count):
        rows = [
            Document(
                direction=Direction.OUTGOING,
                agency=agency,
                status=Document.Status.SIGNED,
                document_type=decision,
                excerpt=f"Quyết định thử nghiệm số {i}",
                current_file=pdf,
                signed=True,
                signature_count=1,
            )
            for i in range(count)
        ]
        Document.objects.bulk_create(rows, batch_size=2000)
        return list(Document.objects.filter(agency=agency).order_by("pk").values_list("pk", flat=True))

    # bare
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_counter (key varchar(100) PRIMARY KEY, value bigint NOT NULL)")
        cursor.execute("INSERT INTO bench_counter VALUES ('bare', 0)")

    def bare(_):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE bench_counter SET value = value + 1 WHERE key = %s RETURNING value", ["bare"])
            return cursor.fetchone()[0]

    variants = {}
    wall, latencies, numbers = at_once(issuers, list(range(n)), bare)
    check(numbers, n, "bare")
    variants["bare counter UPDATE … RETURNING"] = (n, wall, latencies)

    # numbering (register, core.codes, symbol, the document row)
    register = numbering.register_for(agencies[1], Direction.OUTGOING, decision, year=year)
    ids = documents(agencies[1], n)

    def number(document_id):
        with transaction.atomic():
            document = Document.objects.select_for_update().get(pk=document_id)
            value = numbering.take_number(register)
            document.number, document.register = value, register
            document.symbol = numbering.format_symbol(value, decision, register.agency_abbreviation)
            document.status = Document.Status.NUMBERED
            document.save(update_fields=["number", "register", "symbol", "status", "updated_at"])
            return value

    wall, latencies, numbers = at_once(issuers, ids, number)
    check(numbers, n, "numbering")
    stored = list(Document.objects.filter(agency=agencies[1]).values_list("number", flat=True))
    check(stored, n, "numbering (stored)")
    variants["numbering (register + symbol + document row)"] = (n, wall, latencies)

    # the workflow's first phase of issue
    if args.workflow_documents:
        m = args.workflow_documents
        ids = documents(agencies[2], m)

        def reserve(document_id):
            return outgoing._reserve_number(Document(pk=document_id), clerk).number

        wall, latencies, numbers = at_once(issuers, ids, reserve)
        check(numbers, m, "reserve (workflow)")
        variants["reserve (workflow: lock, role, number, timeline, audit, event)"] = (m, wall, latencies)

    bare_p95 = c.summary_ms(variants["bare counter UPDATE … RETURNING"][2])["p95"]
    bare_rate = n / variants["bare counter UPDATE … RETURNING"][1]
    rows, record = [], {}
    for name, (count, wall, latencies) in variants.items():
        s = c.summary_ms(latencies)
        rate = count / wall
        rows.append([name, count, rate, s["p50"], s["p95"], s["p95"] / bare_p95, bare_rate / rate])
        record[name] = {"numbers": count, "wall_s": wall, "per_second": rate, **s}
    print(f"{issuers} concurrent issuers, {args.backend}; every variant gave exactly 1..N (no gap, no duplicate)\n")
    print(
        c.table(
            ["variant", "numbers", "numbers/s", "p50 ms", "p95 ms", "p95 ÷ bare", "time ÷ bare"],
            rows,
        )
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench_documents_numbering-{args.backend}-{stamp}.json"
    path.write_text(
        json.dumps({"issuers": issuers, "machine": c.machine(args.pg_server), "variants": record}, indent=2),
        encoding="utf-8",
    )
    print(f"\nResults: {path.relative_to(c.ROOT)}")


def main() -> None:
    args = args_()
    c.print_machine(args.pg_server)
    c.run_on_fresh_database(args, "bench_documents_numbering", run)


if __name__ == "__main__":
    main()
