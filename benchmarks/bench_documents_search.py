"""Benchmark: full-text search over 1,000,000 documents (PostgreSQL).

    .venv/bin/python benchmarks/bench_documents_search.py                     # 1,000,000 documents
    .venv/bin/python benchmarks/bench_documents_search.py --documents 100000 --requests 100

On a fresh database (`cqs_bench_docsearch`, dropped afterwards unless --keep) it writes the
documents with INSERT … SELECT generate_series, with the GIN index dropped during the fill and built
again after it (as migration documents 0002 defines it), then ANALYZE. Each document's search text
is what documents.search.index_document writes: folded Vietnamese syllables, the metadata (symbol,
type, a 6–16-syllable trích yếu, the sender) then " | " and a body of --body-words syllables standing
for the PDF's text; syllables are drawn from ~400 with a skewed distribution (a few very common, as
"quyet", "dinh", "ke", "hoach" are), over 200 agencies and five years.

Then it times `documents.selectors.search` (what the search page and the API call: the total, the
first page of 20 ranked, the documents read) for random queries of one to three syllables drawn
from the same distribution, typed with diacritics as people type them, for two callers — an officer
of 3 agencies (~1.5% of the documents) and the province administrator (every document) — and, in the
same run, the same two SQL statements (count, ranked page) through the driver with no Django around
them. The ratio is ours / raw SQL. Past documents.search.RANK_LIMIT matches both order by newest
instead of rank, as the search does. Plans of a typical query are printed."""

from __future__ import annotations

import random
import sys
import time

import _common as c

ONSETS = [
    "b",
    "c",
    "ch",
    "d",
    "g",
    "h",
    "k",
    "kh",
    "l",
    "m",
    "n",
    "ng",
    "nh",
    "ph",
    "qu",
    "s",
    "t",
    "th",
    "tr",
    "v",
    "x",
]
RHYMES = [
    "a",
    "an",
    "anh",
    "ao",
    "at",
    "ay",
    "e",
    "en",
    "i",
    "inh",
    "o",
    "oan",
    "ong",
    "u",
    "uan",
    "uong",
    "uy",
    "ien",
    "oi",
]
# The most common syllables of administrative documents lead the list (the skewed draw picks them most).
COMMON = [
    "quyet",
    "dinh",
    "ke",
    "hoach",
    "bao",
    "cao",
    "cong",
    "van",
    "ve",
    "viec",
    "thuc",
    "hien",
    "trien",
    "khai",
    "uy",
    "ban",
    "nhan",
    "dan",
    "tinh",
    "so",
    "phe",
    "duyet",
    "chuyen",
    "doi",
    "so",
    "hanh",
    "chinh",
]
VOCABULARY = list(dict.fromkeys(COMMON + [o + r for o in ONSETS for r in RHYMES]))
SKEW = 2.5  # index = floor(random() ** SKEW * n): ~25% of draws from the first 2% of the list
AGENCIES = 200
PAGE = 20
DIACRITICS = {
    "quyet": "quyết",
    "dinh": "định",
    "ke": "kế",
    "hoach": "hoạch",
    "bao": "báo",
    "cao": "cáo",
    "cong": "công",
    "van": "văn",
    "ve": "về",
    "viec": "việc",
    "thuc": "thực",
    "hien": "hiện",
}


def args_():
    p = c.parser("Full-text search over many documents (PostgreSQL).")
    p.set_defaults(backend="postgres")
    p.add_argument("--documents", type=int, default=1_000_000, help="documents to write (default %(default)s)")
    p.add_argument(
        "--body-words", type=int, default=60, help="syllables of PDF text per document (default %(default)s)"
    )
    p.add_argument("-r", "--requests", type=int, default=300, help="timed searches per caller (default %(default)s)")
    return p.parse_args()


def _words_sql(count_sql: str) -> str:
    # A correlated subquery (it names g), so that PostgreSQL draws new words for every row.
    return (
        "array_to_string(ARRAY(SELECT (%(vocab)s::text[])[1 + floor(power(random(), %(skew)s) * %(n)s)::int] "
        f"FROM generate_series(1, {count_sql} + 0 * g)), ' ')"
    )


def _literal(default) -> str:
    """The SQL literal of a field's default (the columns the benchmark leaves as a new document has them)."""
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, int):
        return str(default)
    return "''" if default in ("", None) else f"'{default}'"


def fill(total: int, body_words: int) -> dict:
    from django.db import connection

    from chinhquyenso.documents.models import Document, DocumentType
    from chinhquyenso.org.models import Agency, AgencyKind

    Agency.objects.bulk_create(
        [
            Agency(
                code=f"co-quan-{i}",
                name=f"Cơ quan số {i}",
                name_folded=f"co quan so {i}",
                kind=AgencyKind.DEPARTMENT,
                electronic_code=f"000.00.{i:02d}.H01"[:30],
            )
            for i in range(1, AGENCIES + 1)
        ]
    )
    agency_ids = sorted(Agency.objects.values_list("pk", flat=True))
    types = list(DocumentType.objects.values_list("pk", flat=True))
    meta = (
        "g::text || ' ' || (%(type_words)s::text[])[1 + g %% 6] || ' ' || "
        + _words_sql("6 + floor(random() * 11)::int")
        + " || ' so ' || "
        "(%(agencies)s::int[])[1 + (g::bigint * 7919) %% %(n_agencies)s]::text"
    )
    body = _words_sql(str(body_words))
    values = {
        "direction": "CASE WHEN g %% 2 = 0 THEN 'outgoing' ELSE 'incoming' END",
        "agency_id": "(%(agencies)s::int[])[1 + g %% %(n_agencies)s]",
        "status": "CASE WHEN g %% 2 = 0 THEN 'issued' ELSE 'done' END",
        "document_type_id": "(%(types)s::int[])[1 + g %% %(n_types)s]",
        "number": "g",
        "symbol": "g::text || '/QĐ-UBND'",
        "excerpt": "'Văn bản tổng hợp số ' || g::text",
        "issued_on": "date '2021-01-01' + (g %% 1800)",
        "search_text": f"{meta} || ' | ' || {body}",
        "created_at": "now()",
        "updated_at": "now()",
    }
    columns, expressions = [], []
    for field in Document._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.column in values:
            columns.append(field.column)
            expressions.append(values[field.column])
        elif not field.null:
            columns.append(field.column)
            expressions.append(_literal(field.get_default()))
    insert = (
        f"INSERT INTO documents_document ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM generate_series(%(first)s, %(last)s) AS g"
    )
    params = {
        "vocab": VOCABULARY,
        "skew": SKEW,
        "n": len(VOCABULARY),
        "agencies": agency_ids,
        "n_agencies": len(agency_ids),
        "types": types,
        "n_types": len(types),
        "type_words": [
            "qd ubnd quyet dinh",
            "ubnd vp cong van",
            "kh ubnd ke hoach",
            "bc ubnd bao cao",
            "tb ubnd thong bao",
            "ttr ubnd to trinh",
        ],
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'documents_search_vector_gin'")
        (gin,) = cursor.fetchone()
        cursor.execute("DROP INDEX documents_search_vector_gin")
        started = time.perf_counter()
        step = 100_000
        for first in range(1, total + 1, step):
            last = min(total, first + step - 1)
            cursor.execute(insert, {**params, "first": first, "last": last})
            print(f"  {last:>12,} documents  {time.perf_counter() - started:7.1f} s", flush=True)
        filled = time.perf_counter() - started
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(gin)
        indexed = time.perf_counter() - started - filled
        cursor.execute("ANALYZE documents_document")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('documents_document'))")
        size = cursor.fetchone()[0]
    print(f"Filled {total:,} documents in {filled:.0f} s, GIN index built in {indexed:.0f} s; table + indexes {size}\n")
    return {"agency_ids": agency_ids, "filled_s": filled, "indexed_s": indexed, "size": size}


def typed(rng: random.Random) -> str:
    """A query of 1–3 syllables drawn like the documents' words, with diacritics where a person would type them."""
    words = [VOCABULARY[int(rng.random() ** SKEW * len(VOCABULARY))] for _ in range(rng.choice([1, 2, 2, 3]))]
    return " ".join(DIACRITICS.get(w, w) for w in words)


def measure(args) -> None:
    from django.db import connection

    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole, Role
    from chinhquyenso.documents import search, selectors
    from chinhquyenso.org.models import Agency

    c.print_machine(args.pg_server)
    print(f"Filling documents ({args.documents:,}, {args.body_words} body syllables each) …")
    filled = fill(args.documents, args.body_words)
    ids = filled["agency_ids"]
    officer = accounts.create_officer(
        actor=None,
        username="van.thu",
        password=None,
        full_name="Văn thư",
        memberships=[(Agency.objects.get(pk=pk), Role.CLERK) for pk in ids[:3]],
    )
    admin = accounts.create_officer(
        actor=None, username="qt.tinh", password=None, full_name="Quản trị", global_role=GlobalRole.PROVINCE_ADMIN
    )
    rows = []
    for label, user in [("officer, 3 agencies", officer), ("province administrator", admin)]:
        rng = random.Random(21)
        queries = [typed(rng) for _ in range(args.requests)]
        for q in queries[:10]:  # warm up
            selectors.search(user, q, limit=PAGE)
        ours, raw, totals = [], [], []
        with connection.cursor() as cursor:
            for q in queries:
                started = time.perf_counter()
                page = selectors.search(user, q, limit=PAGE)
                ours.append(time.perf_counter() - started)
                totals.append(page.total)
                # The same two statements, straight through the driver.
                terms = search.query_words(q)
                scope, scope_params = search._scope_sql(user)
                match = f"FROM documents_document d, to_tsquery('simple', %s) q WHERE d.search_vector @@ q{scope}"
                started = time.perf_counter()
                cursor.cursor.execute(f"SELECT COUNT(*) {match}", [" & ".join(terms), *scope_params])
                total = cursor.cursor.fetchone()[0]
                order = "ts_rank(d.search_vector, q) DESC, d.id DESC" if total <= search.RANK_LIMIT else "d.id DESC"
                cursor.cursor.execute(
                    f"SELECT d.id {match} ORDER BY {order} LIMIT %s OFFSET 0", [" & ".join(terms), *scope_params, PAGE]
                )
                cursor.cursor.fetchall()
                raw.append(time.perf_counter() - started)
                assert total == page.total, (q, total, page.total)
        s, r = c.summary_ms(ours), c.summary_ms(raw)
        hits = sorted(totals)
        rows.append(
            [
                label,
                s["p50"],
                s["p95"],
                s["max"],
                r["p50"],
                r["p95"],
                s["p95"] / r["p95"],
                hits[len(hits) // 2],
                hits[-1],
            ]
        )
        print(f"  {label}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms (raw SQL p95 {r['p95']:.1f} ms)", flush=True)
    print()
    print(
        c.table(
            [
                "caller",
                "search p50 ms",
                "search p95 ms",
                "max ms",
                "raw SQL p50 ms",
                "raw SQL p95 ms",
                "ratio p95",
                "median hits",
                "most hits",
            ],
            rows,
        )
    )
    print()
    with connection.cursor() as cursor:
        for label, user in [("officer", officer), ("province administrator", admin)]:
            scope, scope_params = search._scope_sql(user)
            cursor.execute(
                "EXPLAIN ANALYZE SELECT d.id FROM documents_document d, to_tsquery('simple', %s) q "
                f"WHERE d.search_vector @@ q{scope} ORDER BY ts_rank(d.search_vector, q) DESC, d.id DESC LIMIT 20",
                ["ke & hoach", *scope_params],
            )
            print(f"Plan — “kế hoạch”, {label}:")
            print("\n".join(row[0] for row in cursor.fetchall()))
            print()


def main() -> None:
    args = args_()
    if args.backend != "postgres":
        sys.exit("This benchmark runs on PostgreSQL (--backend postgres).")
    c.run_on_fresh_database(args, "cqs_bench_docsearch", measure)


if __name__ == "__main__":
    main()
