"""Benchmark: the open-data services and selectors without the CKAN layer — creating datasets through
opendata.services.datasets.create_dataset, and opendata.selectors.search_datasets over many datasets.

    .venv/bin/python benchmarks/bench_opendata_services.py --backend sqlite --datasets 2000
    .venv/bin/python benchmarks/bench_opendata_services.py --backend postgres --datasets 50000

On a fresh database: the vocabularies, --agencies agencies, then --datasets public datasets written with
bulk_create (untimed) — titles of 4–10 Vietnamese words from a skewed list, 1–3 themes, 2–4 keywords of
200, search_text in the service's shape. Then it times, for an anonymous caller (median ms of --repeat):

* a search with no words (newest first, one page of 10) with the five facets CKAN's page shows;
* searches of one and two words typed with diacritics (ranked, titles first), with the same facets;
* a filter on one organization and one keyword;
* --creates datasets through create_dataset (validation, a unique name, a version, an audit record), the
  same title each time (the name gets -2, -3…: the cost of finding a free name grows with them).
(benchmarks/bench_opendata_search.py times the whole CKAN action against raw SQL.)"""

from __future__ import annotations

import random
import re
import statistics
import time

import _common as c

WORDS = (
    "Nông nghiệp Sản lượng lúa Danh sách trường học Khai sinh hộ tịch Giao thông Tai nạn Y tế Bệnh viện "
    "Doanh nghiệp Đầu tư Ngân sách Thu chi Du lịch Lượt khách Dân số Lao động Việc làm Môi trường Nước "
    "Đất đai Quy hoạch Xã phường Huyện Tỉnh Năm Tháng Quý Cơ sở Thống kê Chỉ tiêu Kết quả Hồ sơ Thủ tục"
).split()


def args_():
    p = c.parser("Creating and searching open-data datasets through the services.")
    p.add_argument("--datasets", type=int, default=50_000, help="datasets to write (default %(default)s)")
    p.add_argument("--agencies", type=int, default=200, help="agencies (default %(default)s)")
    p.add_argument("--creates", type=int, default=50, help="datasets created through the service")
    p.add_argument("-r", "--repeat", type=int, default=9, help="timed repetitions (default %(default)s)")
    return p.parse_args()


def median_ms(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def folded_words(text: str) -> str:
    from chinhquyenso.core.text import fold

    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def fill(args):
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import Role
    from chinhquyenso.opendata.models import Dataset, Licence, Tag, Theme
    from chinhquyenso.opendata.services.datasets import slug_of
    from chinhquyenso.opendata.vocabularies import load
    from chinhquyenso.org.models import Agency, AgencyKind

    load()
    rng = random.Random(22)
    weights = [1 / (n + 1) for n in range(len(WORDS))]
    agencies = Agency.objects.bulk_create(
        Agency(
            name=f"Sở thử {n}", code=f"so-thu-{n}", kind=AgencyKind.DEPARTMENT, electronic_code=f"000.{n:02d}.99.H01"
        )
        for n in range(args.agencies)
    )
    themes, licence = list(Theme.objects.all()), Licence.objects.get(is_default=True)
    tags = Tag.objects.bulk_create(Tag(name=f"từ khóa {n}", folded=f"tu khoa {n}") for n in range(200))
    rows = []
    for n in range(args.datasets):
        title = " ".join(rng.choices(WORDS, weights, k=rng.randint(4, 10)))
        agency = agencies[n % len(agencies)]
        rows.append(
            Dataset(
                name=f"{slug_of(title)[:80]}-{n}",
                title=title,
                agency=agency,
                licence=licence,
                status="public",
                search_text=f" {folded_words(title)} | {folded_words(agency.name)} ",
            )
        )
    made = Dataset.objects.bulk_create(rows, batch_size=2000)
    theme_links, tag_links = [], []
    for dataset in made:
        for theme in rng.sample(themes, rng.randint(1, 3)):
            theme_links.append(Dataset.themes.through(dataset_id=dataset.pk, theme_id=theme.pk))
        for tag in rng.sample(tags, rng.randint(2, 4)):
            tag_links.append(Dataset.tags.through(dataset_id=dataset.pk, tag_id=tag.pk))
    Dataset.themes.through.objects.bulk_create(theme_links, batch_size=5000)
    Dataset.tags.through.objects.bulk_create(tag_links, batch_size=5000)
    officer = accounts.create_officer(
        actor=None,
        username="bench.opendata",
        password=None,
        full_name="Cán bộ",
        memberships=[(agencies[0], Role.SPECIALIST)],
    )
    return officer, agencies[0], tags[0].name


def run(args) -> None:
    from chinhquyenso.opendata import selectors
    from chinhquyenso.opendata.services import datasets

    t0 = time.perf_counter()
    officer, agency, tag = fill(args)
    print(f"filled {args.datasets} datasets in {time.perf_counter() - t0:.1f} s (untimed)\n")
    facets = ("organization", "groups", "tags", "res_format", "license_id")
    cases = {
        "no words, newest first, 5 facets": lambda: selectors.search_datasets(None, facet_fields=facets),
        "q='lúa' (1 word), ranked, 5 facets": lambda: selectors.search_datasets(None, q="lúa", facet_fields=facets),
        "q='nông nghiệp' (2 words), ranked, 5 facets": lambda: selectors.search_datasets(
            None, q="nông nghiệp", facet_fields=facets
        ),
        "fq organization + tag, 5 facets": lambda: selectors.search_datasets(
            None, filters={"organization": [agency.code], "tags": [tag]}, facet_fields=facets
        ),
        "q='lúa', no facets, 100 rows": lambda: selectors.search_datasets(None, q="lúa", rows=100),
    }
    print(f"{'case':<46} {'matches':>8} {'median ms':>10}")
    for label, fn in cases.items():
        print(f"{label:<46} {fn().count:>8} {median_ms(fn, args.repeat):>10.1f}")
    runs = []
    for _ in range(args.creates):
        t1 = time.perf_counter()
        datasets.create_dataset(
            actor=officer, agency=agency, fields={"title": "Danh sách trường học", "tags": ["giáo dục"]}
        )
        runs.append((time.perf_counter() - t1) * 1000)
    print(
        f"\ncreate_dataset × {args.creates} (same title): median {statistics.median(runs):.1f} ms, max {max(runs):.1f} ms"
    )


if __name__ == "__main__":
    arguments = args_()
    c.print_machine(arguments.pg_server)
    c.run_on_fresh_database(arguments, "cqs_bench_opendata_services", run)
