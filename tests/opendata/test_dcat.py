"""The DCAT-AP 3.0 catalog (opendata.dcat): what a national or European portal harvests.

Every serialization parses back into the same graph; the catalog and a fully described dataset pass
our DCAT-AP 3.0 shapes (data/dcat-ap-3-shapes.ttl) with neither violation nor warning, and a graph missing
a mandatory property fails them; only public datasets ever appear; the pages link to each other with Hydra
the way harvesters (ckanext-dcat, udata, the EU portal) walk them; an unchanged catalog answers 304."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.utils import timezone
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS, SH, SKOS

from chinhquyenso.core.uploads import store_generated
from chinhquyenso.opendata import dcat
from chinhquyenso.opendata.models import (
    Dataset,
    DatasetStatus,
    Frequency,
    Licence,
    Resource,
    ResourceFormat,
    Tag,
    Theme,
)

# Open namespaces (rdflib's DCAT is closed, and pytest probing the module's names would warn).
DCAT = Namespace("http://www.w3.org/ns/dcat#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SITE = "https://dvc.example.gov.vn"  # tests/conftest.py's CQS_SITE_URL
PARSE_FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}
MEDIA_TYPES = {"ttl": "text/turtle", "jsonld": "application/ld+json", "rdf": "application/rdf+xml"}


# ---------------------------------------------------------------- data


@pytest.fixture
def licence(db):
    found, _ = Licence.objects.get_or_create(
        code="cc-by-4.0",
        defaults={
            "title": "Creative Commons Ghi công 4.0 Quốc tế (CC BY 4.0)",
            "url": "https://creativecommons.org/licenses/by/4.0/",
            "is_default": True,
        },
    )
    return found


@pytest.fixture
def theme(db):
    found, _ = Theme.objects.get_or_create(
        code="ho-tich-thu-nghiem", defaults={"name": "Dân cư, hộ tịch", "eu_theme": "SOCI", "order": 90}
    )
    return found


def make_dataset(agency, licence, name, *, status=DatasetStatus.PUBLIC, **fields) -> Dataset:
    now = timezone.now()
    values = {
        "title": f"Bộ dữ liệu {name}",
        "description": "Mô tả bộ dữ liệu.",
        "frequency": Frequency.MONTHLY,
        "published_at": now if status == DatasetStatus.PUBLIC else None,
        **fields,
    }
    return Dataset.objects.create(name=name, agency=agency, licence=licence, status=status, **values)


def add_file(dataset, name, data: bytes, fmt, *, description="", position=0) -> Resource:
    extension, content_type = {
        ResourceFormat.CSV: ("csv", "text/csv"),
        ResourceFormat.XLSX: ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ResourceFormat.PDF: ("pdf", "application/pdf"),
    }[fmt]
    stored = store_generated(data, content_type=content_type, extension=extension, name=f"{name}.{extension}")
    return Resource.objects.create(
        dataset=dataset, name=name, description=description, format=fmt, file=stored, position=position
    )


@pytest.fixture
def full(province, licence, theme):
    """One public dataset with every property DCAT-AP recommends, and its two files."""
    dataset = make_dataset(
        province["tu_phap"],
        licence,
        "khai-sinh-theo-thang",
        title="Số trẻ em được đăng ký khai sinh theo tháng",
        description="Số lượt đăng ký khai sinh trên địa bàn tỉnh, theo tháng và theo xã, phường.",
        temporal_start=dt.date(2025, 1, 1),
        temporal_end=dt.date(2025, 12, 31),
        spatial="Tỉnh An Giang",
        spatial_code="91",
        contact_name="Phòng Hành chính tư pháp",
        contact_email="hctp.stp@angiang.gov.vn",
        version="2025.1",
        data_updated_at=timezone.now(),
    )
    dataset.themes.add(theme)
    dataset.tags.add(
        Tag.objects.create(name="khai sinh", folded="khai sinh"), Tag.objects.create(name="hộ tịch", folded="ho tich")
    )
    add_file(
        dataset,
        "Khai sinh theo tháng (CSV)",
        "\ufeffTháng,Số lượt\n2025-01,1520\n".encode(),
        ResourceFormat.CSV,
        description="Bảng số lượt đăng ký khai sinh, mã hóa UTF-8.",
    )
    add_file(
        dataset,
        "Khai sinh theo tháng (XLSX)",
        b"PK\x03\x04 xlsx bytes for the catalog",
        ResourceFormat.XLSX,
        description="Cùng bảng, định dạng Excel.",
        position=1,
    )
    return dataset


@pytest.fixture
def hidden(province, licence):
    """A dataset in every status that is not public: none of them may appear."""
    return [
        make_dataset(province["tu_phap"], licence, "ban-nhap", status=DatasetStatus.DRAFT),
        make_dataset(province["tu_phap"], licence, "cho-duyet", status=DatasetStatus.SUBMITTED),
        make_dataset(province["tu_phap"], licence, "da-rut", status=DatasetStatus.WITHDRAWN, withdrawn_reason="Sai số"),
    ]


def addresses() -> dcat.Addresses:
    return dcat.Addresses(SITE)


def shapes() -> Graph:
    return Graph().parse(dcat.SHAPES_FILE, format="turtle")


def shacl(graph: Graph) -> dict[str, list[tuple[str, str]]]:
    """{"Violation": [(focus node, path)], "Warning": [...]}: what our DCAT-AP 3.0 shapes say of the graph."""
    data = Graph()  # pyshacl needs a context-aware store; the catalog is built in rdflib's SimpleMemory
    data += graph
    _, report, _ = validate(data, shacl_graph=shapes(), inference="none", allow_warnings=True)
    found = {"Violation": [], "Warning": [], "Info": []}
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        found[severity].append((str(report.value(result, SH.focusNode)), str(report.value(result, SH.resultPath))))
    return found


def fetch(client, path, **headers):
    response = client.get(path, **headers)
    assert response.status_code == 200, response.content[:500]
    return response


def parse(response, extension) -> Graph:
    return Graph().parse(data=response.content, format=PARSE_FORMATS[extension])


# ---------------------------------------------------------------- serializations


@pytest.mark.parametrize("extension", ["ttl", "jsonld", "rdf"])
def test_each_serialization_parses_back_into_the_same_graph(client, full, hidden, extension):
    built = dcat.catalog_graph(addresses(), page=1, extension=extension).graph
    response = fetch(client, f"/catalog.{extension}")
    assert response["Content-Type"].startswith(MEDIA_TYPES[extension])
    assert isomorphic(parse(response, extension), built)

    one = fetch(client, f"/dataset/{full.name}.{extension}")
    assert one["Content-Type"].startswith(MEDIA_TYPES[extension])
    assert isomorphic(parse(one, extension), dcat.dataset_graph(addresses(), dcat.public_dataset(full.name)))


def test_the_three_serializations_say_the_same(client, full):
    graphs = []
    for extension in PARSE_FORMATS:
        graph = parse(fetch(client, f"/catalog.{extension}"), extension)
        graph.remove((hydra_view(graph), None, None))  # the paging names its own format's pages
        graphs.append(graph)
    assert isomorphic(graphs[0], graphs[1]) and isomorphic(graphs[0], graphs[2])


def test_json_ld_has_a_context_with_the_prefixes(client, full):
    import json

    document = json.loads(fetch(client, "/catalog.jsonld").content)
    assert document["@context"]["dcat"] == str(DCAT) and document["@context"]["dct"] == str(DCTERMS)


# ---------------------------------------------------------------- what a dataset says


def test_a_dataset_is_described_with_dcat_ap_properties(client, full):
    graph = parse(fetch(client, f"/dataset/{full.name}.ttl"), "ttl")
    node = URIRef(f"{SITE}/dataset/{full.name}")
    assert (node, RDF.type, DCAT.Dataset) in graph
    assert graph.value(node, DCAT.landingPage) == URIRef(f"{SITE}/du-lieu-mo/{full.name}/")
    assert graph.value(node, DCTERMS.accrualPeriodicity) == URIRef(
        "http://publications.europa.eu/resource/authority/frequency/MONTHLY"
    )
    themes = set(graph.objects(node, DCAT.theme))
    assert URIRef("http://publications.europa.eu/resource/authority/data-theme/SOCI") in themes
    assert URIRef(f"{SITE}/du-lieu-mo/?groups=ho-tich-thu-nghiem") in themes  # our own lĩnh vực, beside the EU's
    publisher = graph.value(node, DCTERMS.publisher)
    assert publisher == URIRef(f"{SITE}/du-lieu-mo/?organization=so-tu-phap")
    assert graph.value(publisher, FOAF.name) == Literal("Sở Tư pháp", lang="vi")
    assert graph.value(publisher, DCTERMS.type) == URIRef("http://purl.org/adms/publishertype/RegionalAuthority")
    contact = graph.value(node, DCAT.contactPoint)
    assert graph.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")) == URIRef(
        "mailto:hctp.stp@angiang.gov.vn"
    )
    period = graph.value(node, DCTERMS.temporal)
    assert str(graph.value(period, DCAT.startDate)) == "2025-01-01"
    assert str(graph.value(period, DCAT.endDate)) == "2025-12-31"
    place = graph.value(node, DCTERMS.spatial)
    assert place == URIRef(f"{SITE}/dia-ban/91") and graph.value(place, SKOS.prefLabel) == Literal(
        "Tỉnh An Giang", lang="vi"
    )

    distributions = list(graph.objects(node, DCAT.distribution))
    assert len(distributions) == 2
    csv = next(d for d in distributions if graph.value(d, DCTERMS.format).endswith("/file-type/CSV"))
    resource = full.resources.get(format=ResourceFormat.CSV)
    assert graph.value(csv, DCAT.downloadURL) == URIRef(f"{SITE}/du-lieu-mo/{full.name}/tai-nguyen/{resource.pk}/")
    assert graph.value(csv, DCAT.accessURL) == URIRef(f"{SITE}/du-lieu-mo/{full.name}/")
    assert graph.value(csv, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert graph.value(csv, DCAT.byteSize).toPython() == resource.file.size
    assert graph.value(csv, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    checksum = graph.value(csv, SPDX.checksum)
    assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert str(graph.value(checksum, SPDX.checksumValue)).lower() == resource.file.sha256
    # The version the publisher gave, in DCAT 3's property and in the older owl:versionInfo.
    assert graph.value(node, DCAT.version) == Literal("2025.1")
    assert graph.value(node, OWL.versionInfo) == Literal("2025.1")


def test_vietnamese_text_keeps_its_diacritics_and_language_tag(client, full):
    for extension in PARSE_FORMATS:
        response = fetch(client, f"/dataset/{full.name}.{extension}")
        assert "Số trẻ em được đăng ký khai sinh theo tháng" in response.content.decode("utf-8")
        graph = parse(response, extension)
        node = URIRef(f"{SITE}/dataset/{full.name}")
        assert graph.value(node, DCTERMS.title) == Literal("Số trẻ em được đăng ký khai sinh theo tháng", lang="vi")
        assert set(graph.objects(node, DCAT.keyword)) == {
            Literal("khai sinh", lang="vi"),
            Literal("hộ tịch", lang="vi"),
        }


# ---------------------------------------------------------------- SHACL


def test_the_catalog_and_a_fully_described_dataset_pass_the_shapes_without_warnings(client, full):
    assert shacl(parse(fetch(client, "/catalog.ttl"), "ttl")) == {"Violation": [], "Warning": [], "Info": []}
    assert shacl(parse(fetch(client, f"/dataset/{full.name}.jsonld"), "jsonld")) == {
        "Violation": [],
        "Warning": [],
        "Info": [],
    }


def test_a_missing_mandatory_property_is_a_violation(full):
    graph = dcat.dataset_graph(addresses(), dcat.public_dataset(full.name))
    node = URIRef(f"{SITE}/dataset/{full.name}")
    graph.remove((node, DCTERMS.description, None))
    distribution = next(graph.objects(node, DCAT.distribution))
    graph.remove((distribution, DCAT.accessURL, None))
    found = shacl(graph)
    assert (str(node), str(DCTERMS.description)) in found["Violation"]
    assert (str(distribution), str(DCAT.accessURL)) in found["Violation"]


def test_untyped_urls_and_checksum_algorithm_are_violations(full):
    """SEMIC's DCAT-AP 3.0.0 shapes check the classes of the access and download URLs (rdfs:Resource) and of
    the checksum's algorithm (spdx:ChecksumAlgorithm) without inference: ours do too, so a catalog that
    stopped typing them would fail here and in the conformance test above."""
    graph = dcat.dataset_graph(addresses(), dcat.public_dataset(full.name))
    distribution = next(graph.subjects(RDF.type, DCAT.Distribution))
    access, download = graph.value(distribution, DCAT.accessURL), graph.value(distribution, DCAT.downloadURL)
    checksum = graph.value(distribution, SPDX.checksum)
    assert (access, RDF.type, RDFS.Resource) in graph and (download, RDF.type, RDFS.Resource) in graph
    assert (SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm) in graph
    graph.remove((None, RDF.type, RDFS.Resource))
    graph.remove((SPDX.checksumAlgorithm_sha256, RDF.type, None))
    violations = shacl(graph)["Violation"]
    assert (str(distribution), str(DCAT.accessURL)) in violations
    assert (str(distribution), str(DCAT.downloadURL)) in violations
    assert (str(checksum), str(SPDX.algorithm)) in violations


def test_a_catalog_without_publisher_is_a_violation(full):
    graph = dcat.catalog_graph(addresses()).graph
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    graph.remove((catalog, DCTERMS.publisher, None))
    assert (str(catalog), str(DCTERMS.publisher)) in shacl(graph)["Violation"]


def test_a_sparsely_described_dataset_conforms_with_warnings(province, licence):
    sparse = make_dataset(province["xa_a"], licence, "thua-thot", frequency=Frequency.IRREG)
    found = shacl(dcat.dataset_graph(addresses(), dcat.public_dataset(sparse.name)))
    node = f"{SITE}/dataset/{sparse.name}"
    assert found["Violation"] == []
    warned = {path for focus, path in found["Warning"] if focus == node}
    assert {str(DCAT.contactPoint), str(DCAT.distribution), str(DCAT.keyword), str(DCAT.theme)} <= warned
    publisher = URIRef(f"{SITE}/du-lieu-mo/?organization=xa-kien-an")
    graph = dcat.dataset_graph(addresses(), sparse)
    assert graph.value(publisher, DCTERMS.type) == URIRef("http://purl.org/adms/publishertype/LocalAuthority")


def test_a_wrong_value_kind_is_a_violation(full):
    graph = dcat.dataset_graph(addresses(), dcat.public_dataset(full.name))
    distribution = next(graph.subjects(RDF.type, DCAT.Distribution))
    graph.set((distribution, DCAT.byteSize, Literal("nhiều")))
    assert (str(distribution), str(DCAT.byteSize)) in shacl(graph)["Violation"]


# ---------------------------------------------------------------- only public datasets


def test_non_public_datasets_never_appear(client, full, hidden):
    for extension in PARSE_FORMATS:
        graph = parse(fetch(client, f"/catalog.{extension}"), extension)
        assert set(graph.subjects(RDF.type, DCAT.Dataset)) == {URIRef(f"{SITE}/dataset/{full.name}")}
        for dataset in hidden:
            assert client.get(f"/dataset/{dataset.name}.{extension}").status_code == 404
    for dataset in hidden:
        assert client.get(f"/dataset/{dataset.name}", HTTP_ACCEPT="text/turtle").status_code == 404
    assert client.get("/dataset/khong-co.ttl").status_code == 404


def test_the_dataset_uri_answers_303_by_what_the_client_accepts(client, full):
    rdf = client.get(f"/dataset/{full.name}", HTTP_ACCEPT="text/turtle")
    assert rdf.status_code == 303 and rdf["Location"] == f"{SITE}/dataset/{full.name}.ttl"
    assert "Accept" in [header.strip() for header in rdf["Vary"].split(",")]
    page = client.get(f"/dataset/{full.name}", HTTP_ACCEPT="text/html")
    assert page.status_code == 303 and page["Location"] == f"{SITE}/du-lieu-mo/{full.name}/"
    resource = full.resources.first()
    distribution = client.get(f"/dataset/{full.name}/resource/{resource.pk}", HTTP_ACCEPT="application/ld+json")
    assert distribution.status_code == 303 and distribution["Location"].endswith(".jsonld")
    assert client.get(f"/dataset/{full.name}/resource/999999").status_code == 404


# ---------------------------------------------------------------- paging


@pytest.fixture
def many(province, licence, monkeypatch):
    """250 public datasets (and a draft), 100 to a page."""
    monkeypatch.setitem(settings.CQS, "OPENDATA_CATALOG_PAGE_SIZE", 100)
    now = timezone.now()
    Dataset.objects.bulk_create(
        Dataset(
            name=f"bo-du-lieu-{number:03d}",
            title=f"Bộ dữ liệu số {number}",
            description="Mô tả.",
            agency=province["tu_phap"] if number % 2 else province["xa_a"],
            licence=licence,
            status=DatasetStatus.PUBLIC,
            published_at=now,
        )
        for number in range(250)
    )
    make_dataset(province["tu_phap"], licence, "nhap-giua-chung", status=DatasetStatus.DRAFT)
    return {f"{SITE}/dataset/bo-du-lieu-{number:03d}" for number in range(250)}


def hydra_view(graph: Graph) -> URIRef:
    (view,) = graph.subjects(RDF.type, HYDRA.PartialCollectionView)
    return view


def test_250_datasets_make_three_pages_with_hydra_links(client, many):
    seen: list[str] = []
    for page in (1, 2, 3):
        graph = parse(fetch(client, f"/catalog.ttl?page={page}"), "ttl")
        view = hydra_view(graph)
        assert view == URIRef(f"{SITE}/catalog.ttl?page={page}")
        assert graph.value(view, HYDRA.totalItems).toPython() == 250
        assert graph.value(view, HYDRA.itemsPerPage).toPython() == 100
        assert graph.value(view, HYDRA.first) == URIRef(f"{SITE}/catalog.ttl?page=1")
        assert graph.value(view, HYDRA.last) == URIRef(f"{SITE}/catalog.ttl?page=3")
        expected_next = URIRef(f"{SITE}/catalog.ttl?page={page + 1}") if page < 3 else None
        expected_previous = URIRef(f"{SITE}/catalog.ttl?page={page - 1}") if page > 1 else None
        assert graph.value(view, HYDRA.next) == expected_next
        assert graph.value(view, HYDRA.previous) == expected_previous
        datasets = [str(node) for node in graph.subjects(RDF.type, DCAT.Dataset)]
        assert len(datasets) == (100 if page < 3 else 50)
        # Each page is complete in itself: its catalog lists exactly its datasets.
        catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
        assert {str(node) for node in graph.objects(catalog, DCAT.dataset)} == set(datasets)
        seen += datasets
    assert len(seen) == len(set(seen)) == 250 and set(seen) == many
    assert client.get("/catalog.ttl?page=4").status_code == 404
    assert client.get("/catalog.ttl?page=0").status_code == 400
    assert client.get("/catalog.ttl?page=hai").status_code == 400
    assert client.get("/catalog.ttl?page=99999999").status_code == 400  # core.params: never past MAX_OFFSET


def test_a_page_reads_the_database_a_fixed_number_of_times(client, many, full, django_assert_max_num_queries):
    # Every dataset on the page has the same related rows to read whatever their number.
    with django_assert_max_num_queries(7):
        fetch(client, "/catalog.ttl?page=1")
    with django_assert_max_num_queries(7):
        fetch(client, "/catalog.ttl?page=3")


@pytest.mark.parametrize("extension", ["ttl", "jsonld", "rdf"])
def test_a_harvester_walks_the_pages_by_following_hydra_next(client, many, extension):
    """As ckanext-dcat's RDF harvester does (RDFParser.next_page: a hydra:PagedCollection's hydra:next,
    else hydra:nextPage) and udata's (hydra:PartialCollectionView's hydra:next): start at the catalog's
    address, read each page's datasets, follow next until there is none."""
    harvested: list[str] = []
    address = f"/catalog.{extension}"
    visited = []
    while address:
        assert address not in visited
        visited.append(address)
        graph = parse(fetch(client, address), extension)
        harvested += [str(node) for node in graph.subjects(RDF.type, DCAT.Dataset)]
        ckan_next = next(
            (
                str(target)
                for view in graph.subjects(RDF.type, HYDRA.PagedCollection)
                for predicate in (HYDRA.next, HYDRA.nextPage)
                for target in graph.objects(view, predicate)
            ),
            None,
        )
        udata_next = next(
            (
                str(t)
                for v in graph.subjects(RDF.type, HYDRA.PartialCollectionView)
                for t in graph.objects(v, HYDRA.next)
            ),
            None,
        )
        assert ckan_next == udata_next
        address = ckan_next.removeprefix(SITE) if ckan_next else None
    assert len(visited) == 3
    assert len(harvested) == len(set(harvested)) == 250 and set(harvested) == many


def test_an_empty_catalog_is_one_page(client, db):
    graph = parse(fetch(client, "/catalog.ttl"), "ttl")
    assert len(list(graph.subjects(RDF.type, DCAT.Catalog))) == 1
    assert graph.value(hydra_view(graph), HYDRA.totalItems).toPython() == 0
    assert client.get("/catalog.ttl?page=2").status_code == 404


# ---------------------------------------------------------------- caching


def test_an_unchanged_catalog_answers_304(client, full, django_assert_max_num_queries):
    first = fetch(client, "/catalog.ttl")
    assert first["ETag"] and first["Last-Modified"] and "public" in first["Cache-Control"]
    with django_assert_max_num_queries(1):  # the state only: no dataset is read for a 304
        again = client.get("/catalog.ttl", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    assert client.get("/catalog.ttl", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    # Another format or page is another document.
    assert client.get("/catalog.rdf", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200

    Dataset.objects.filter(pk=full.pk).update(modified_at=timezone.now() + dt.timedelta(seconds=5))
    changed = client.get("/catalog.ttl", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_withdrawing_a_dataset_changes_the_catalogs_etag(client, full, province, licence):
    other = make_dataset(province["tu_phap"], licence, "se-rut")
    first = fetch(client, "/catalog.ttl")
    Dataset.objects.filter(pk=other.pk).update(status=DatasetStatus.WITHDRAWN)  # even without touching modified_at
    assert client.get("/catalog.ttl", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_a_dataset_document_answers_304_when_unchanged(client, full):
    first = fetch(client, f"/dataset/{full.name}.rdf")
    assert client.get(f"/dataset/{full.name}.rdf", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_without_site_url_the_addresses_are_the_callers(client, full, monkeypatch):
    monkeypatch.setitem(settings.CQS, "SITE_URL", "")
    graph = parse(fetch(client, f"/dataset/{full.name}.ttl"), "ttl")
    assert (URIRef(f"http://testserver/dataset/{full.name}"), RDF.type, DCAT.Dataset) in graph


def test_the_shapes_file_is_valid_turtle_and_cites_its_source():
    text = dcat.SHAPES_FILE.read_text(encoding="utf-8")
    assert "https://semiceu.github.io/DCAT-AP/releases/3.0.0/" in text
    graph = Graph().parse(io.StringIO(text), format="turtle")
    assert len(set(graph.subjects(RDF.type, SH.NodeShape))) >= 10


# ---------------------------------------------------------------- through the services


def test_a_dataset_published_through_the_workflow_is_harvested_until_withdrawn(client, public_dataset, officers):
    from chinhquyenso.opendata.services import datasets

    node = URIRef(f"{SITE}/dataset/{public_dataset.name}")
    first = fetch(client, "/catalog.ttl")
    graph = parse(first, "ttl")
    assert (node, RDF.type, DCAT.Dataset) in graph
    assert shacl(graph)["Violation"] == []
    eu_theme = Theme.objects.get(code="tu-phap").eu_theme  # the shipped vocabulary's mapping
    assert set(graph.objects(node, DCAT.theme)) == {
        URIRef(f"http://publications.europa.eu/resource/authority/data-theme/{eu_theme}"),
        URIRef(f"{SITE}/du-lieu-mo/?groups=tu-phap"),
    }

    datasets.withdraw(public_dataset, actor=officers["tu_phap"]["leader"], reason="Số liệu cần rà soát lại.")
    again = client.get("/catalog.ttl", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert (node, RDF.type, DCAT.Dataset) not in parse(again, "ttl")
    assert client.get(f"/dataset/{public_dataset.name}.ttl").status_code == 404
