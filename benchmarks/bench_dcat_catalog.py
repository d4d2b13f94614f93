"""Benchmark: the DCAT-AP catalog a harvester reads (opendata.dcat, /catalog.{ttl,jsonld,rdf}?page=N).

    .venv/bin/python benchmarks/bench_dcat_catalog.py --backend sqlite   --datasets 10000
    .venv/bin/python benchmarks/bench_dcat_catalog.py --backend postgres --datasets 10000 --requests 30

On a fresh database it writes --datasets public datasets (and a tenth as many drafts, which the catalog
must skip) over five agencies, each with two themes, three keywords and two resources (CSV and XLSX),
with bulk inserts. Then, through Django's test client (the whole view: page parameter, catalog state,
ETag, queries, graph, serialization), it times:

- one catalog page (CQS_OPENDATA_CATALOG_PAGE_SIZE datasets, 100 by default) in each format, pages drawn
  at random;
- a conditional GET of an unchanged page (If-None-Match → 304), which reads only the catalog state;
- a whole harvest: every page of the Turtle catalog, following hydra:next from page 1, parsed back with
  rdflib as a harvester would (parsing time included);

and, in the same run, the peer for a page: the same triples built with bare rdflib from the same rows read
with `values()` (no view, no ORM objects, no shared-node bookkeeping), then serialized — what rdflib itself
costs for that page. The ratio is ours / bare rdflib; the bare graph carries fewer triples (no licence,
contact, period, place, concepts, media types), so the table shows both counts."""

from __future__ import annotations

import random
import time

import _common as c

FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}


def args_():
    p = c.parser("The DCAT-AP catalog pages a harvester reads.")
    p.add_argument("--datasets", type=int, default=10_000, help="public datasets to write (default %(default)s)")
    p.add_argument("-r", "--requests", type=int, default=30, help="timed pages per format (default %(default)s)")
    return p.parse_args()


def fill(count: int) -> None:
    from django.utils import timezone

    from chinhquyenso.core.models import StoredFile
    from chinhquyenso.opendata.models import Dataset, DatasetStatus, Licence, Resource, ResourceFormat, Tag, Theme
    from chinhquyenso.org.models import Agency

    c.build_province()
    agencies = list(Agency.objects.all())
    licence, _ = Licence.objects.get_or_create(
        code="cc-by-4.0",
        defaults={"title": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/", "is_default": True},
    )
    themes = list(Theme.objects.all()) or [
        Theme.objects.create(code=f"linh-vuc-{n}", name=f"Lĩnh vực {n}", eu_theme="GOVE") for n in range(10)
    ]
    tags = [Tag.objects.create(name=f"từ khóa {n}", folded=f"tu khoa {n}") for n in range(200)]
    now = timezone.now()
    rng = random.Random(7)
    drafts = count // 10
    Dataset.objects.bulk_create(
        (
            Dataset(
                name=f"bo-du-lieu-{n:06d}",
                title=f"Bộ dữ liệu thống kê số {n} của tỉnh",
                description="Số liệu tổng hợp theo tháng trên địa bàn tỉnh, cập nhật định kỳ.",
                agency=agencies[n % len(agencies)],
                licence=licence,
                status=DatasetStatus.DRAFT if n < drafts else DatasetStatus.PUBLIC,
                published_at=None if n < drafts else now,
                contact_name="Phòng Thống kê",
                contact_email="thongke@example.gov.vn",
                spatial="Tỉnh An Giang",
                spatial_code="91",
            )
            for n in range(count + drafts)
        ),
        batch_size=2000,
    )
    datasets = list(Dataset.objects.values_list("pk", flat=True))
    theme_links, tag_links, files, resources = [], [], [], []
    for pk in datasets:
        theme_links += [Dataset.themes.through(dataset_id=pk, theme_id=t.pk) for t in rng.sample(themes, 2)]
        tag_links += [Dataset.tags.through(dataset_id=pk, tag_id=t.pk) for t in rng.sample(tags, 3)]
    Dataset.themes.through.objects.bulk_create(theme_links, batch_size=5000)
    Dataset.tags.through.objects.bulk_create(tag_links, batch_size=5000)
    for pk in datasets:
        for position, (fmt, content_type) in enumerate(
            [(ResourceFormat.CSV, "text/csv"), (ResourceFormat.XLSX, "application/vnd.ms-excel")]
        ):
            digest = f"{pk:032x}{position:032x}"
            files.append(StoredFile(sha256=digest, content_type=content_type, size=1000 + pk, file=f"bench/{digest}"))
            resources.append((pk, position, fmt))
    stored = StoredFile.objects.bulk_create(files, batch_size=5000)
    Resource.objects.bulk_create(
        (
            Resource(
                dataset_id=pk,
                name=f"Tệp {position + 1}",
                description="Bảng số liệu.",
                format=fmt,
                file=f,
                position=position,
            )
            for (pk, position, fmt), f in zip(resources, stored, strict=True)
        ),
        batch_size=5000,
    )


def bare_rdflib_page(page: int, size: int, fmt: str) -> int:
    """The peer: the same kind of triples, built straight from rows, no view and no model objects."""
    from rdflib import BNode, Graph, Literal, URIRef
    from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

    from chinhquyenso.opendata.models import Dataset, DatasetStatus, Resource

    base = "https://dvc.example.gov.vn"
    rows = list(
        Dataset.objects.filter(status=DatasetStatus.PUBLIC)
        .order_by("pk")
        .values("pk", "name", "title", "description", "agency__name", "agency__code", "licence__url", "modified_at")[
            (page - 1) * size : page * size
        ]
    )
    ids = [row["pk"] for row in rows]
    themes = Dataset.themes.through.objects.filter(dataset_id__in=ids).values_list("dataset_id", "theme__eu_theme")
    tags = Dataset.tags.through.objects.filter(dataset_id__in=ids).values_list("dataset_id", "tag__name")
    files = Resource.objects.filter(dataset_id__in=ids).values_list(
        "dataset_id", "pk", "name", "file__size", "file__sha256"
    )
    graph = Graph()
    catalog = URIRef(f"{base}/du-lieu-mo/")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    for row in rows:
        node = URIRef(f"{base}/dataset/{row['name']}")
        graph.add((catalog, DCAT.dataset, node))
        graph.add((node, RDF.type, DCAT.Dataset))
        graph.add((node, DCTERMS.title, Literal(row["title"], lang="vi")))
        graph.add((node, DCTERMS.description, Literal(row["description"], lang="vi")))
        graph.add((node, DCTERMS.modified, Literal(row["modified_at"].isoformat(), datatype=XSD.dateTime)))
        agent = URIRef(f"{base}/du-lieu-mo/?organization={row['agency__code']}")
        graph.add((node, DCTERMS.publisher, agent))
        graph.add((agent, FOAF.name, Literal(row["agency__name"], lang="vi")))
    for pk, code in themes:
        graph.add((URIRef(f"{base}/dataset/{pk}"), DCAT.theme, URIRef(f"http://eu/data-theme/{code}")))
    for pk, name in tags:
        graph.add((URIRef(f"{base}/dataset/{pk}"), DCAT.keyword, Literal(name, lang="vi")))
    for pk, resource_id, name, size_, sha in files:
        distribution = URIRef(f"{base}/dataset/{pk}/resource/{resource_id}")
        graph.add((URIRef(f"{base}/dataset/{pk}"), DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCTERMS.title, Literal(name, lang="vi")))
        graph.add((distribution, DCAT.byteSize, Literal(size_, datatype=XSD.nonNegativeInteger)))
        checksum = BNode()
        graph.add((distribution, URIRef("http://spdx.org/rdf/terms#checksum"), checksum))
        graph.add((checksum, URIRef("http://spdx.org/rdf/terms#checksumValue"), Literal(sha, datatype=XSD.hexBinary)))
    graph.serialize(format=fmt, encoding="utf-8")
    return len(graph)


def measure(args) -> None:
    from django.conf import settings
    from django.test import Client
    from rdflib import Graph, Namespace
    from rdflib.namespace import DCAT, RDF

    from chinhquyenso.opendata import dcat

    settings.ALLOWED_HOSTS = ["*"]
    settings.CQS["SITE_URL"] = "https://dvc.example.gov.vn"
    hydra = Namespace("http://www.w3.org/ns/hydra/core#")
    c.print_machine(args.pg_server)
    print(
        f"Filling {args.datasets:,} public datasets (+{args.datasets // 10:,} drafts), 2 resources each …", flush=True
    )
    started = time.perf_counter()
    fill(args.datasets)
    print(f"  filled in {time.perf_counter() - started:.1f} s\n", flush=True)

    client = Client()
    size = dcat.page_size()
    pages = dcat.page_count(args.datasets, size)
    rng = random.Random(11)
    rows = []
    for extension, rdflib_format in FORMATS.items():
        drawn = [rng.randint(1, pages) for _ in range(args.requests)]
        client.get(f"/catalog.{extension}?page=1")  # warm up
        ours, bare, sizes = [], [], []
        for page in drawn:
            started = time.perf_counter()
            response = client.get(f"/catalog.{extension}?page={page}")
            ours.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
            sizes.append(len(response.content))
            started = time.perf_counter()
            bare_triples = bare_rdflib_page(page, size, rdflib_format)
            bare.append(time.perf_counter() - started)
        s, b = c.summary_ms(ours), c.summary_ms(bare)
        triples = len(dcat.catalog_graph(dcat.Addresses(settings.CQS["SITE_URL"]), page=1).graph)
        rows.append(
            [
                extension,
                s["p50"],
                s["p95"],
                b["p50"],
                b["p95"],
                s["p50"] / b["p50"],
                f"{triples:,} / {bare_triples:,}",
                sum(sizes) // len(sizes) // 1024,
            ]
        )
        print(
            f"  {extension}: p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms (bare rdflib p50 {b['p50']:.0f} ms)",
            flush=True,
        )

    etag = client.get("/catalog.ttl?page=1")["ETag"]
    not_modified = []
    for _ in range(args.requests * 3):
        started = time.perf_counter()
        response = client.get("/catalog.ttl?page=1", HTTP_IF_NONE_MATCH=etag)
        not_modified.append(time.perf_counter() - started)
        assert response.status_code == 304
    n = c.summary_ms(not_modified)

    started = time.perf_counter()
    address, harvested, walked = "/catalog.ttl", set(), 0
    while address:
        graph = Graph().parse(data=client.get(address).content, format="turtle")
        walked += 1
        harvested |= set(graph.subjects(RDF.type, DCAT.Dataset))
        following = next(
            (str(t) for v in graph.subjects(RDF.type, hydra.PagedCollection) for t in graph.objects(v, hydra.next)),
            None,
        )
        address = following.removeprefix(settings.CQS["SITE_URL"]) if following else None
    harvest = time.perf_counter() - started
    assert len(harvested) == args.datasets and walked == pages, (len(harvested), walked)

    print()
    print(
        c.table(
            [
                "format",
                "page p50 ms",
                "page p95 ms",
                "bare rdflib p50 ms",
                "bare p95 ms",
                "ratio p50",
                "triples ours / bare",
                "page KiB",
            ],
            rows,
        )
    )
    print()
    print(f"Conditional GET of an unchanged page (304): p50 {n['p50']:.1f} ms, p95 {n['p95']:.1f} ms")
    print(
        f"Whole harvest (Turtle, {pages} pages of {size}, parsed back with rdflib): {harvest:.1f} s, "
        f"{len(harvested):,} datasets, each once"
    )


def main() -> None:
    args = args_()
    c.run_on_fresh_database(args, f"cqs_bench_dcat_{args.backend}", measure)


if __name__ == "__main__":
    main()
