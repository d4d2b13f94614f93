"""Benchmark: CKAN package_search over 10,000 datasets (opendata.ckan → opendata.selectors.search_datasets).

    .venv/bin/python benchmarks/bench_opendata_search.py --backend sqlite   --datasets 10000
    .venv/bin/python benchmarks/bench_opendata_search.py --backend postgres --datasets 10000 --requests 200

On a fresh database it writes --datasets datasets (a tenth of them drafts, which an anonymous search
must skip) over the province's agencies with bulk inserts: titles and descriptions drawn from
Vietnamese words of open-data catalogs, one to three themes, two to five keywords from 300 (a skewed
draw: a few are very common), one or two resources (CSV, XLSX, JSON, PDF) and one of the shipped
licences; `search_text` is written the way opendata.services.datasets.search_words writes it (checked
on a sample after the fill).

Then it times --requests package_search calls through Django's test client (the whole action: reading
the parameters, the search, one page of 10 results as CKAN package dicts, five facets, the JSON
envelope): `q` of one or two words typed with diacritics, zero to two fq filters drawn from the five
filter fields, facet.field = all five. In the same run, for each call, the peer: the same search in
raw SQL through the driver (the filtered count, the first page ranked the same way with its agency and
licence, the page's tags, themes and resources, and the five facet counts) — no ORM, no dicts, no
JSON. The ratio is ours / raw SQL. Results go to benchmarks/results/bench_opendata_search-<backend>-
<time>.json."""

from __future__ import annotations

import json
import random
import time

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"
SUBJECTS = [
    "trường học",
    "bệnh viện",
    "hộ nghèo",
    "doanh nghiệp",
    "đất nông nghiệp",
    "giá lúa gạo",
    "tai nạn giao thông",
    "khai sinh",
    "kết hôn",
    "dân số",
    "lao động việc làm",
    "thu ngân sách",
    "chi ngân sách",
    "dự án đầu tư",
    "di tích văn hóa",
    "khách du lịch",
    "chất lượng nước",
    "rác thải sinh hoạt",
    "trạm y tế",
    "tiêm chủng",
    "thủ tục hành chính",
    "hồ sơ trực tuyến",
    "điểm thi",
    "cơ sở lưu trú",
    "chợ truyền thống",
    "diện tích rừng",
    "thủy sản",
    "cây ăn trái",
    "giá đất",
    "công chứng",
]
HEADS = ["Danh sách", "Số liệu", "Thống kê", "Báo cáo", "Bản đồ", "Tổng hợp"]
PLACES = ["Long Xuyên", "Châu Đốc", "Chợ Mới", "Tân Châu", "Tri Tôn", "Tịnh Biên", "Phú Tân", "Thoại Sơn"]
TAG_WORDS = SUBJECTS + ["thống kê", "hành chính", "y tế", "giáo dục", "nông nghiệp", "giao thông", "môi trường"]
FORMATS = ["CSV", "XLSX", "JSON", "PDF"]
FACETS = ["organization", "groups", "tags", "res_format", "license_id"]


def args_():
    p = c.parser("CKAN package_search over many datasets.")
    p.add_argument("--datasets", type=int, default=10_000, help="datasets to write (default %(default)s)")
    p.add_argument("-r", "--requests", type=int, default=200, help="timed searches (default %(default)s)")
    return p.parse_args()


def skewed(rng: random.Random, items: list):
    """A few items very often, most rarely (as keywords are used)."""
    return items[min(len(items) - 1, int(rng.paretovariate(1.2)) - 1)]


def fill(count: int) -> dict:
    from django.utils import timezone

    from chinhquyenso.core.models import StoredFile
    from chinhquyenso.core.text import fold
    from chinhquyenso.opendata.models import Dataset, DatasetStatus, Licence, Resource, Tag, Theme
    from chinhquyenso.opendata.services.datasets import WORDS
    from chinhquyenso.org.models import Agency

    c.build_province(extra_departments=10)
    agencies = list(Agency.objects.all())
    licences = list(Licence.objects.all())
    themes = list(Theme.objects.all())
    tag_names = list(dict.fromkeys([*TAG_WORDS, *(f"{word} {n}" for n in range(12) for word in TAG_WORDS)]))[:300]
    tags = Tag.objects.bulk_create([Tag(name=name, folded=fold(name)) for name in tag_names])
    rng = random.Random(7)
    now = timezone.now()
    rows, relations = [], []
    for n in range(count):
        agency = agencies[n % len(agencies)]
        subject = skewed(rng, SUBJECTS)
        title = f"{rng.choice(HEADS)} {subject} {rng.choice(PLACES)} năm {rng.randint(2015, 2025)} ({n})"
        description = f"Số liệu {subject} trên địa bàn {rng.choice(PLACES)}, cập nhật {rng.choice(['hằng tháng', 'hằng quý', 'hằng năm'])}."
        chosen_themes = sorted(rng.sample(themes, rng.randint(1, 3)), key=lambda theme: (theme.order, theme.name))
        chosen_tags = list({skewed(rng, tags).pk: None for _ in range(rng.randint(2, 5))})
        tag_text = " ".join(sorted(tag.name for tag in tags if tag.pk in chosen_tags))
        others = " ".join([description, tag_text, agency.name, agency.code, " ".join(t.name for t in chosen_themes)])
        search_text = f" {' '.join(WORDS.findall(fold(title)))} | {' '.join(WORDS.findall(fold(others)))} "
        public = n % 10 != 0
        rows.append(
            Dataset(
                name=f"bo-du-lieu-{n:06d}",
                title=title,
                description=description,
                agency=agency,
                licence=rng.choice(licences),
                status=DatasetStatus.PUBLIC if public else DatasetStatus.DRAFT,
                published_at=now if public else None,
                search_text=search_text,
            )
        )
        relations.append((chosen_themes, chosen_tags, rng.sample(FORMATS, rng.randint(1, 2))))
    Dataset.objects.bulk_create(rows, batch_size=2000)
    pks = list(Dataset.objects.order_by("pk").values_list("pk", flat=True))
    theme_links, tag_links, files, resource_rows = [], [], [], []
    for pk, (chosen_themes, chosen_tags, formats) in zip(pks, relations, strict=True):
        theme_links += [Dataset.themes.through(dataset_id=pk, theme_id=theme.pk) for theme in chosen_themes]
        tag_links += [Dataset.tags.through(dataset_id=pk, tag_id=tag_pk) for tag_pk in chosen_tags]
        for position, fmt in enumerate(formats):
            digest = f"{pk:032x}{position:032x}"
            files.append(StoredFile(sha256=digest, content_type="text/csv", size=1000 + pk, file=f"bench/{digest}"))
            resource_rows.append((pk, position, fmt))
    Dataset.themes.through.objects.bulk_create(theme_links, batch_size=5000)
    Dataset.tags.through.objects.bulk_create(tag_links, batch_size=5000)
    stored = StoredFile.objects.bulk_create(files, batch_size=5000)
    Resource.objects.bulk_create(
        (
            Resource(dataset_id=pk, name=f"Tệp {position + 1}", format=fmt, file=f, position=position)
            for (pk, position, fmt), f in zip(resource_rows, stored, strict=True)
        ),
        batch_size=5000,
    )
    return {"agencies": [a.code for a in agencies], "themes": [t.code for t in themes], "tags": tag_names}


def check_search_text(sample: int = 50) -> None:
    """The bulk fill wrote search_text as the service writes it: the same title words before the bar, the
    same other words after it (their order — keywords sorted by the database's collation — matters to
    no search)."""
    from chinhquyenso.opendata.models import Dataset
    from chinhquyenso.opendata.services.datasets import search_words

    for dataset in Dataset.objects.order_by("?")[:sample]:
        ours, service = dataset.search_text.split(" | "), search_words(dataset).split(" | ")
        assert ours[0] == service[0] and sorted(ours[1].split()) == sorted(service[1].split()), dataset.name


def draw_query(rng: random.Random, vocab: dict) -> dict:
    query: dict = {"facet.field": json.dumps(FACETS), "rows": 10}
    if rng.random() < 0.8:
        words = skewed(rng, SUBJECTS).split()
        query["q"] = " ".join(words[: rng.randint(1, 2)])
    terms = []
    for field in rng.sample(FACETS, rng.choice([0, 1, 1, 2])):
        value = {
            "organization": lambda: rng.choice(vocab["agencies"]),
            "groups": lambda: rng.choice(vocab["themes"]),
            "tags": lambda: skewed(rng, vocab["tags"]),
            "res_format": lambda: rng.choice(FORMATS),
            "license_id": lambda: rng.choice(["cc-by-4.0", "cc0-1.0", "cc-by-sa-4.0"]),
        }[field]()
        terms.append(f'{field}:"{value}"')
    if terms:
        query["fq"] = " AND ".join(terms)
    return query


# ---------------------------------------------------------------- the raw-SQL peer


FILTER_SQL = {
    "organization": "d.agency_id IN (SELECT id FROM org_agency WHERE code = %s)",
    "license_id": "d.licence_id IN (SELECT id FROM opendata_licence WHERE code = %s)",
    "groups": "EXISTS (SELECT 1 FROM opendata_dataset_themes x JOIN opendata_theme t ON t.id = x.theme_id "
    "WHERE x.dataset_id = d.id AND t.code = %s)",
    "tags": "EXISTS (SELECT 1 FROM opendata_dataset_tags x JOIN opendata_tag t ON t.id = x.tag_id "
    "WHERE x.dataset_id = d.id AND t.name = %s)",
    "res_format": "EXISTS (SELECT 1 FROM opendata_resource r WHERE r.dataset_id = d.id AND UPPER(r.format) = UPPER(%s))",
}
FACET_SQL = {
    "organization": "SELECT a.code, a.name, COUNT(*) FROM opendata_dataset d JOIN org_agency a ON a.id = d.agency_id "
    "WHERE d.id IN ({ids}) GROUP BY a.code, a.name",
    "license_id": "SELECT l.code, l.title, COUNT(*) FROM opendata_dataset d JOIN opendata_licence l ON l.id = d.licence_id "
    "WHERE d.id IN ({ids}) GROUP BY l.code, l.title",
    "groups": "SELECT t.code, t.name, COUNT(DISTINCT x.dataset_id) FROM opendata_dataset_themes x JOIN opendata_theme t "
    "ON t.id = x.theme_id WHERE x.dataset_id IN ({ids}) GROUP BY t.code, t.name",
    "tags": "SELECT t.name, t.name, COUNT(DISTINCT x.dataset_id) FROM opendata_dataset_tags x JOIN opendata_tag t "
    "ON t.id = x.tag_id WHERE x.dataset_id IN ({ids}) GROUP BY t.name",
    "res_format": "SELECT r.format, r.format, COUNT(DISTINCT r.dataset_id) FROM opendata_resource r "
    "WHERE r.dataset_id IN ({ids}) GROUP BY r.format",
}


def raw_search(cursor, query: dict, vendor: str) -> tuple[int, list[int]]:
    from chinhquyenso.core.text import fold
    from chinhquyenso.opendata import ckan
    from chinhquyenso.opendata.selectors import WORDS

    find = "STRPOS" if vendor == "postgresql" else "INSTR"
    where, params = ["d.status = 'public'"], []
    words = list(dict.fromkeys(WORDS.findall(fold(query.get("q", "")))))
    for word in words:
        where.append("d.search_text LIKE %s")
        params.append(f"% {word}%")
    for field, values in ckan.parse_fq(query.get("fq", "")).items():
        for value in values:
            where.append(FILTER_SQL[field])
            params.append(value)
    condition = " AND ".join(where)
    cursor.execute(f"SELECT COUNT(*) FROM opendata_dataset d WHERE {condition}", params)
    count = cursor.fetchone()[0]
    if words:
        bar = f"{find}(d.search_text, ' | ')"
        terms = [
            f"CASE WHEN {find}(d.search_text, %s) > 0 AND {find}(d.search_text, %s) < {bar} THEN 2 ELSE 1 END"
            for _ in words
        ]
        order = f"({' + '.join(terms)}) DESC, d.modified_at DESC, d.id DESC"
        order_params = [part for word in words for part in (f" {word}", f" {word}")]
    else:
        order, order_params = "d.modified_at DESC, d.id DESC", []
    cursor.execute(
        "SELECT d.id, d.name, d.title, d.description, a.code, a.name, l.code, l.title, l.url "
        "FROM opendata_dataset d JOIN org_agency a ON a.id = d.agency_id JOIN opendata_licence l ON l.id = d.licence_id "
        f"WHERE {condition} ORDER BY {order} LIMIT 10",
        [*params, *order_params],
    )
    page = [row[0] for row in cursor.fetchall()]
    if page:
        marks = ", ".join(["%s"] * len(page))
        cursor.execute(
            f"SELECT x.dataset_id, t.name FROM opendata_dataset_tags x JOIN opendata_tag t ON t.id = x.tag_id "
            f"WHERE x.dataset_id IN ({marks})",
            page,
        )
        cursor.fetchall()
        cursor.execute(
            f"SELECT x.dataset_id, t.code, t.name FROM opendata_dataset_themes x JOIN opendata_theme t "
            f"ON t.id = x.theme_id WHERE x.dataset_id IN ({marks})",
            page,
        )
        cursor.fetchall()
        cursor.execute(
            f"SELECT r.id, r.dataset_id, r.name, r.format, f.size, f.sha256 FROM opendata_resource r "
            f"JOIN core_storedfile f ON f.id = r.file_id WHERE r.dataset_id IN ({marks})",
            page,
        )
        cursor.fetchall()
    ids = f"SELECT d.id FROM opendata_dataset d WHERE {condition}"
    for field in FACETS:
        cursor.execute(FACET_SQL[field].format(ids=ids), params)
        cursor.fetchall()
    return count, page


def measure(args) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    settings.CQS["SITE_URL"] = "https://dvc.example.gov.vn"
    machine = c.machine(args.pg_server)
    c.print_machine(args.pg_server)
    print(f"Filling {args.datasets:,} datasets (a tenth drafts) …", flush=True)
    started = time.perf_counter()
    vocab = fill(args.datasets)
    filled = time.perf_counter() - started
    print(f"  filled in {filled:.1f} s", flush=True)
    check_search_text()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    client = Client()
    rng = random.Random(11)
    queries = [draw_query(rng, vocab) for _ in range(args.requests)]
    client.get("/api/3/action/package_search", queries[0])  # warm up
    ours, raw, counts = [], [], []
    for query in queries:
        started = time.perf_counter()
        response = client.get("/api/3/action/package_search", query)
        ours.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
        found = response.json()["result"]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            count, page = raw_search(cursor, query, connection.vendor)
        raw.append(time.perf_counter() - started)
        assert count == found["count"], (query, count, found["count"])
        assert page == [int(package["id"]) for package in found["results"]], query
        counts.append(count)
    s, r = c.summary_ms(ours), c.summary_ms(raw)
    print()
    print(
        c.table(
            ["", "n", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            [
                ["package_search (test client)", s["n"], s["mean"], s["p50"], s["p95"], s["p99"], s["max"]],
                ["raw SQL peer", r["n"], r["mean"], r["p50"], r["p95"], r["p99"], r["max"]],
            ],
        )
    )
    ratio = {"p50": s["p50"] / r["p50"], "p95": s["p95"] / r["p95"]}
    print(f"\nRatio ours / raw SQL: p50 {ratio['p50']:.1f}×, p95 {ratio['p95']:.1f}×")
    print(f"Matches per search: median {sorted(counts)[len(counts) // 2]:,}, max {max(counts):,}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"bench_opendata_search-{args.backend}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(
        json.dumps(
            {
                "machine": machine,
                "datasets": args.datasets,
                "requests": args.requests,
                "fill_s": filled,
                "ours_ms": s,
                "raw_sql_ms": r,
                "ratio": ratio,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"Results: {target}")


def main() -> None:
    args = args_()
    c.run_on_fresh_database(args, f"cqs_bench_odsearch_{args.backend}", measure)


if __name__ == "__main__":
    main()
