"""The open-data portal's catalog in DCAT-AP 3.0 (https://semiceu.github.io/DCAT-AP/releases/3.0.0/): the
RDF graph a national or European portal harvests, built with rdflib from the public datasets only.

One catalog page holds the dcat:Catalog, up to CQS["OPENDATA_CATALOG_PAGE_SIZE"] datasets with their
distributions, publishers and vocabularies (each page is complete in itself, as harvesters read pages one
by one), and the Hydra paging that says where the next page is. Every URI is absolute, on CQS_SITE_URL.

Vocabularies are the EU's where DCAT-AP asks for them: data themes, frequencies, file types, languages,
access rights (http://publications.europa.eu/resource/authority/…), ADMS publisher and licence types,
IANA media types. Our own lĩnh vực (CKAN groups) are published beside the EU themes as concepts of our
own scheme. The shapes the output is checked against are data/dcat-ap-3-shapes.ttl (tests/opendata/test_dcat.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Max, Min, Prefetch, QuerySet
from django.urls import NoReverseMatch, reverse
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD

from chinhquyenso.core.errors import NotFound
from chinhquyenso.opendata.models import Dataset, DatasetStatus, Licence, Resource, ResourceFormat
from chinhquyenso.org.models import Agency, AgencyKind, Level

SHAPES_FILE = Path(__file__).parent / "data" / "dcat-ap-3-shapes.ttl"

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
# DCAT 3's dcat:version (DCAT-AP 3's "version"), which rdflib's closed DCAT namespace does not list yet.
DCAT_VERSION = URIRef(str(DCAT) + "version")
ADMS_PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
ADMS_LICENCE_TYPE = Namespace("http://purl.org/adms/licencetype/")

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
EU_DATA_THEME = Namespace(EU_AUTHORITY + "data-theme/")
EU_FREQUENCY = Namespace(EU_AUTHORITY + "frequency/")
EU_FILE_TYPE = Namespace(EU_AUTHORITY + "file-type/")
EU_LANGUAGE_VIETNAMESE = URIRef(EU_AUTHORITY + "language/VIE")
EU_ACCESS_PUBLIC = URIRef(EU_AUTHORITY + "access-right/PUBLIC")
EU_AVAILABILITY_STABLE = URIRef(EU_AUTHORITY + "planned-availability/STABLE")
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "foaf": FOAF,
    "vcard": VCARD,
    "skos": SKOS,
    "spdx": SPDX,
    "owl": OWL,
    "xsd": XSD,
    "hydra": HYDRA,
    "dcatap": DCATAP,
}
# The JSON-LD serialization's @context: the same prefixes, so its keys read like the Turtle's.
JSONLD_CONTEXT = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}

# (EU file type, IANA media type) of each format a resource may have.
FORMAT_TYPES = {
    ResourceFormat.CSV: ("CSV", "text/csv"),
    ResourceFormat.XLSX: ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ResourceFormat.JSON: ("JSON", "application/json"),
    ResourceFormat.GEOJSON: ("GEOJSON", "application/geo+json"),
    ResourceFormat.PDF: ("PDF", "application/pdf"),
}

# The ADMS licence type of the well-known open licences, by the start of their code (the licence's own
# terms, not a choice of this province); a licence the table does not know is published without a type.
LICENCE_TYPES = (
    ("cc0", "PublicDomain"),
    ("odc-pddl", "PublicDomain"),
    ("cc-by-sa", "ShareAlike"),
    ("odc-odbl", "ShareAlike"),
    ("cc-by", "Attribution"),
    ("odc-by", "Attribution"),
)

# The ADMS publisher type of an agency, by its level: the province's bodies are a regional authority in the
# EU's terms, districts and communes a local one.
PUBLISHER_TYPES = {
    Level.PROVINCE: "RegionalAuthority",
    Level.DISTRICT: "LocalAuthority",
    Level.COMMUNE: "LocalAuthority",
}

# The EU vocabularies' own (English) labels of the concepts the catalog points to: DCAT-AP asks every
# skos:Concept in the exchanged graph to carry a preferred label, and the EU publishes none in Vietnamese.
EU_THEME_LABELS = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
PUBLISHER_TYPE_LABELS = {"RegionalAuthority": "Regional authority", "LocalAuthority": "Local authority"}
LICENCE_TYPE_LABELS = {"Attribution": "Attribution", "ShareAlike": "Share-alike", "PublicDomain": "Public domain"}

FORMATS = {
    # extension: (rdflib format, Content-Type)
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdf": ("xml", "application/rdf+xml; charset=utf-8"),
}


# ---------------------------------------------------------------- addresses


def site_base(request=None) -> str:
    """The installation's address (CQS_SITE_URL); without it (development), the address the caller used."""
    base = settings.CQS.get("SITE_URL", "")
    if not base and request is not None:
        base = request.build_absolute_uri("/")
    return base.rstrip("/")


def _path(url_name: str, args: list, fallback: str) -> str:
    # The public pages' URL names (opendata.urls); the fallback keeps the catalog buildable on its own.
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return fallback


# Stand-ins reversed once per catalog, then replaced per dataset: reversing 300 addresses a page costs more
# than building its graph.
_NAME, _RESOURCE = "dcat-ten-bo-du-lieu", 987654321


@dataclass(frozen=True)
class Addresses:
    """Every URI the catalog mints, on one base."""

    base: str

    @cached_property
    def _portal(self) -> str:
        return self.base + _path("opendata:search", [], "/du-lieu-mo/")

    @cached_property
    def _landing_page(self) -> str:
        return self.base + _path("opendata:dataset", [_NAME], f"/du-lieu-mo/{_NAME}/")

    @cached_property
    def _download(self) -> str:
        fallback = f"/du-lieu-mo/{_NAME}/tai-nguyen/{_RESOURCE}/"
        return self.base + _path("opendata:download", [_NAME, _RESOURCE], fallback)

    def portal(self) -> str:
        return self._portal

    def catalog(self) -> str:
        # The portal's home is the catalog's URI and homepage, as CKAN's DCAT extension does with its site.
        return self.portal()

    def dataset(self, dataset: Dataset) -> str:
        # Dereferenceable: /dataset/<name> answers 303 to the RDF or the page (opendata.dcat_views.dataset_uri).
        return f"{self.base}/dataset/{dataset.name}"

    def dataset_document(self, dataset: Dataset, extension: str) -> str:
        return f"{self.base}/dataset/{dataset.name}.{extension}"

    def landing_page(self, dataset: Dataset) -> str:
        return self._landing_page.replace(_NAME, dataset.name)

    def distribution(self, dataset: Dataset, resource: Resource) -> str:
        return f"{self.dataset(dataset)}/resource/{resource.pk}"

    def download(self, dataset: Dataset, resource: Resource) -> str:
        return self._download.replace(_NAME, dataset.name).replace(str(_RESOURCE), str(resource.pk))

    def agency(self, code: str) -> str:
        # The portal's list of the agency's datasets: what a person following the publisher's URI wants to see.
        return f"{self.portal()}?{urlencode({'organization': code})}"

    def own_theme(self, code: str) -> str:
        return f"{self.portal()}?{urlencode({'groups': code})}"

    def own_theme_scheme(self) -> str:
        return f"{self.portal()}#linh-vuc"

    def place(self, code: str) -> str:
        # No EU or national URI names a Vietnamese administrative unit: ours, by its official code.
        return f"{self.base}/dia-ban/{code}"

    def catalog_page(self, extension: str, page: int) -> str:
        return f"{self.base}/catalog.{extension}?page={page}"


# ---------------------------------------------------------------- reading


def public_datasets() -> QuerySet[Dataset]:
    """Only public datasets are ever described: drafts, submitted and withdrawn ones stay out."""
    return Dataset.objects.filter(status=DatasetStatus.PUBLIC)


def _described(queryset: QuerySet[Dataset]) -> QuerySet[Dataset]:
    # Everything a dataset's description reads, in a fixed number of queries whatever the page's size.
    return queryset.select_related("agency", "licence").prefetch_related(
        "themes", "tags", Prefetch("resources", queryset=Resource.objects.select_related("file"))
    )


@dataclass(frozen=True)
class CatalogState:
    """What says whether the catalog changed: conditional GETs compare it, the catalog shows its dates."""

    count: int
    modified: dt.datetime | None
    data_updated: dt.datetime | None
    first_published: dt.datetime | None

    @property
    def last_modified(self) -> dt.datetime | None:
        moments = [moment for moment in (self.modified, self.data_updated) if moment]
        return max(moments) if moments else None

    def etag(self, *parts) -> str:
        stamp = "|".join(str(part) for part in (self.count, self.modified, self.data_updated, *parts))
        return '"' + hashlib.sha256(stamp.encode()).hexdigest()[:32] + '"'


def catalog_state() -> CatalogState:
    found = public_datasets().aggregate(
        count=Count("pk"), modified=Max("modified_at"), data=Max("data_updated_at"), first=Min("published_at")
    )
    return CatalogState(found["count"], found["modified"], found["data"], found["first"])


def page_size() -> int:
    return int(settings.CQS["OPENDATA_CATALOG_PAGE_SIZE"])


def page_count(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


def catalog_page(page: int, size: int) -> list[Dataset]:
    """The datasets of one page, in the order they were created (pk): a dataset published while a harvester
    walks the pages lands on the last page, so no dataset moves between pages it has already read."""
    start = (page - 1) * size
    return list(_described(public_datasets().order_by("pk"))[start : start + size])


def public_dataset(name: str) -> Dataset:
    """A public dataset by its name; any other (missing, draft, withdrawn) is not found."""
    found = _described(public_datasets().filter(name=name)).first()
    if found is None:
        raise NotFound("Không tìm thấy bộ dữ liệu đã công bố này.")
    return found


def _province_agency() -> Agency | None:
    # The catalog's publisher: the province's people's committee (UBND tỉnh), the current version.
    return Agency.objects.current().filter(kind=AgencyKind.PROVINCE_COMMITTEE, parent__isnull=True).first()


# ---------------------------------------------------------------- building


def _vi(text: str) -> Literal:
    return Literal(text, lang="vi")


def _moment(value: dt.datetime | dt.date) -> Literal:
    if isinstance(value, dt.datetime):
        return Literal(value.isoformat(timespec="seconds"), datatype=XSD.dateTime)
    return Literal(value.isoformat(), datatype=XSD.date)


class CatalogBuilder:
    """Adds catalog, datasets and paging to one graph; each shared node (an agency, a licence, a theme) is
    described once however many datasets point to it."""

    def __init__(self, addresses: Addresses):
        self.at = addresses
        # SimpleMemory: one graph, no named contexts to index — three times faster to fill than the default store.
        self.graph = Graph(store="SimpleMemory")
        for prefix, namespace in PREFIXES.items():
            self.graph.bind(prefix, namespace, replace=True)
        self._described: set = set()

    def _once(self, node) -> bool:
        if node in self._described:
            return False
        self._described.add(node)
        return True

    def add(self, *triple) -> None:
        self.graph.add(triple)

    # -- shared nodes

    def agent(self, *, uri: str, name: str, level: str) -> URIRef:
        node = URIRef(uri)
        if self._once(node):
            self.add(node, RDF.type, FOAF.Agent)
            self.add(node, RDF.type, FOAF.Organization)
            self.add(node, FOAF.name, _vi(name))
            kind = PUBLISHER_TYPES.get(level, "RegionalAuthority")
            self.add(
                node,
                DCTERMS.type,
                self.concept(
                    ADMS_PUBLISHER_TYPE[kind],
                    scheme=URIRef("http://purl.org/adms/publishertype/1.0"),
                    scheme_title="Publisher type",
                    label=Literal(PUBLISHER_TYPE_LABELS[kind], lang="en"),
                ),
            )
        return node

    def concept(self, node: URIRef, *, scheme: URIRef, scheme_title: str, label: Literal) -> URIRef:
        if self._once(node):
            self.add(node, RDF.type, SKOS.Concept)
            self.add(node, SKOS.inScheme, scheme)
            self.add(node, SKOS.prefLabel, label)
            self.scheme(scheme, scheme_title)
        return node

    def scheme(self, node: URIRef, title: str) -> URIRef:
        if self._once(node):
            self.add(node, RDF.type, SKOS.ConceptScheme)
            self.add(node, DCTERMS.title, Literal(title, lang="vi" if self._is_ours(node) else "en"))
        return node

    def _is_ours(self, node: URIRef) -> bool:
        return str(node).startswith(self.at.base)

    def licence(self, licence: Licence) -> URIRef:
        node = URIRef(licence.url)
        if self._once(node):
            self.add(node, RDF.type, DCTERMS.LicenseDocument)
            self.add(node, DCTERMS.title, _vi(licence.title))
            self.add(node, DCTERMS.identifier, Literal(licence.code))
            kind = next((kind for prefix, kind in LICENCE_TYPES if licence.code.lower().startswith(prefix)), None)
            if kind:
                self.add(
                    node,
                    DCTERMS.type,
                    self.concept(
                        ADMS_LICENCE_TYPE[kind],
                        scheme=URIRef("http://purl.org/adms/licencetype/1.0"),
                        scheme_title="Licence type",
                        label=Literal(LICENCE_TYPE_LABELS[kind], lang="en"),
                    ),
                )
        return node

    def place(self, *, code: str, name: str) -> URIRef | BNode:
        node = URIRef(self.at.place(code)) if code else BNode()
        if self._once(node):
            self.add(node, RDF.type, DCTERMS.Location)
            if name:
                self.add(node, SKOS.prefLabel, _vi(name))
            if code:
                self.add(node, DCTERMS.identifier, Literal(code))
        return node

    def _language(self) -> URIRef:
        if self._once(EU_LANGUAGE_VIETNAMESE):
            self.add(EU_LANGUAGE_VIETNAMESE, RDF.type, DCTERMS.LinguisticSystem)
        return EU_LANGUAGE_VIETNAMESE

    # -- the catalog

    def catalog(self, state: CatalogState) -> URIRef:
        province_name = settings.CQS["PROVINCE_NAME"]
        node = URIRef(self.at.catalog())
        self.add(node, RDF.type, DCAT.Catalog)
        self.add(node, DCTERMS.title, _vi(f"Cổng dữ liệu mở tỉnh {province_name}"))
        self.add(
            node,
            DCTERMS.description,
            _vi(
                f"Các bộ dữ liệu mở do các cơ quan nhà nước tỉnh {province_name} công bố, "
                "được sử dụng lại tự do theo giấy phép của từng bộ dữ liệu."
            ),
        )
        province = _province_agency()
        if province is not None:
            publisher = self.agent(uri=self.at.agency(province.code), name=province.name, level=Level.PROVINCE)
            area_code = province.admin_unit_code
        else:
            publisher = self.agent(
                uri=self.at.portal() + "#uy-ban", name=f"Ủy ban nhân dân tỉnh {province_name}", level=Level.PROVINCE
            )
            area_code = ""
        self.add(node, DCTERMS.publisher, publisher)
        homepage = URIRef(self.at.portal())
        self.add(node, FOAF.homepage, homepage)
        self.add(homepage, RDF.type, FOAF.Document)
        self.add(node, DCTERMS.language, self._language())
        self.add(node, DCTERMS.spatial, self.place(code=area_code, name=f"Tỉnh {province_name}"))
        default_licence = Licence.objects.filter(is_default=True).first()
        if default_licence is not None:
            self.add(node, DCTERMS.license, self.licence(default_licence))
        if state.last_modified:
            self.add(node, DCTERMS.modified, _moment(state.last_modified))
        if state.first_published:
            self.add(node, DCTERMS.issued, _moment(state.first_published))
        eu_themes = self.scheme(URIRef(EU_AUTHORITY + "data-theme"), "Data theme")
        self.add(node, DCAT.themeTaxonomy, eu_themes)
        self.add(node, DCAT.themeTaxonomy, self.scheme(URIRef(self.at.own_theme_scheme()), "Lĩnh vực dữ liệu"))
        return node

    def paging(self, *, extension: str, page: int, pages: int, total: int, size: int) -> URIRef:
        """Hydra paging on the page's own address: a hydra:PartialCollectionView (what the EU portal's and
        udata's harvesters read) that is also a hydra:PagedCollection, the class ckanext-dcat's harvester
        looks for (it then follows hydra:next, or the older hydra:nextPage)."""
        node = URIRef(self.at.catalog_page(extension, page))
        self.add(node, RDF.type, HYDRA.PartialCollectionView)
        self.add(node, RDF.type, HYDRA.PagedCollection)
        self.add(node, HYDRA.totalItems, Literal(total, datatype=XSD.nonNegativeInteger))
        self.add(node, HYDRA.itemsPerPage, Literal(size, datatype=XSD.nonNegativeInteger))
        links = {HYDRA.first: 1, HYDRA.last: pages}
        if page > 1:
            links[HYDRA.previous] = page - 1
        if page < pages:
            links[HYDRA.next] = page + 1
            links[HYDRA.nextPage] = page + 1
        for predicate, target in links.items():
            self.add(node, predicate, URIRef(self.at.catalog_page(extension, target)))
        return node

    # -- datasets

    def dataset(self, dataset: Dataset) -> URIRef:
        node = URIRef(self.at.dataset(dataset))
        add = self.add
        add(node, RDF.type, DCAT.Dataset)
        add(node, DCTERMS.identifier, Literal(str(node)))
        add(node, DCTERMS.title, _vi(dataset.title))
        if dataset.description:
            add(node, DCTERMS.description, _vi(dataset.description))
        agency = dataset.agency
        add(node, DCTERMS.publisher, self.agent(uri=self.at.agency(agency.code), name=agency.name, level=agency.level))
        if dataset.contact_name or dataset.contact_email:
            contact = BNode()
            add(node, DCAT.contactPoint, contact)
            add(contact, RDF.type, VCARD.Organization)
            add(contact, RDF.type, VCARD.Kind)
            add(contact, VCARD.fn, _vi(dataset.contact_name or agency.name))
            if dataset.contact_email:
                add(contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.contact_email}"))
        for tag in dataset.tags.all():
            add(node, DCAT.keyword, _vi(tag.name))
        for theme in dataset.themes.all():
            if theme.eu_theme:
                add(
                    node,
                    DCAT.theme,
                    self.concept(
                        EU_DATA_THEME[theme.eu_theme],
                        scheme=URIRef(EU_AUTHORITY + "data-theme"),
                        scheme_title="Data theme",
                        label=Literal(EU_THEME_LABELS.get(theme.eu_theme, theme.eu_theme), lang="en"),
                    ),
                )
            add(
                node,
                DCAT.theme,
                self.concept(
                    URIRef(self.at.own_theme(theme.code)),
                    scheme=URIRef(self.at.own_theme_scheme()),
                    scheme_title="Lĩnh vực dữ liệu",
                    label=_vi(theme.name),
                ),
            )
        frequency = EU_FREQUENCY[dataset.frequency]
        add(node, DCTERMS.accrualPeriodicity, frequency)
        if self._once(frequency):
            add(frequency, RDF.type, DCTERMS.Frequency)
        if dataset.temporal_start or dataset.temporal_end:
            period = BNode()
            add(node, DCTERMS.temporal, period)
            add(period, RDF.type, DCTERMS.PeriodOfTime)
            if dataset.temporal_start:
                add(period, DCAT.startDate, _moment(dataset.temporal_start))
            if dataset.temporal_end:
                add(period, DCAT.endDate, _moment(dataset.temporal_end))
        if dataset.spatial_code or dataset.spatial:
            add(node, DCTERMS.spatial, self.place(code=dataset.spatial_code, name=dataset.spatial))
        if dataset.published_at:
            add(node, DCTERMS.issued, _moment(dataset.published_at))
        add(node, DCTERMS.modified, _moment(max(filter(None, (dataset.modified_at, dataset.data_updated_at)))))
        if dataset.version:
            add(node, OWL.versionInfo, Literal(dataset.version))
            add(node, DCAT_VERSION, Literal(dataset.version))
        add(node, DCTERMS.language, self._language())
        add(node, DCTERMS.accessRights, EU_ACCESS_PUBLIC)
        if self._once(EU_ACCESS_PUBLIC):
            add(EU_ACCESS_PUBLIC, RDF.type, DCTERMS.RightsStatement)
        landing = URIRef(self.at.landing_page(dataset))
        add(node, DCAT.landingPage, landing)
        add(landing, RDF.type, FOAF.Document)
        licence = self.licence(dataset.licence)
        for resource in dataset.resources.all():
            add(node, DCAT.distribution, self.distribution(dataset, resource, landing=landing, licence=licence))
        return node

    def distribution(self, dataset: Dataset, resource: Resource, *, landing: URIRef, licence: URIRef) -> URIRef:
        node = URIRef(self.at.distribution(dataset, resource))
        add = self.add
        add(node, RDF.type, DCAT.Distribution)
        add(node, DCTERMS.title, _vi(resource.name))
        if resource.description:
            add(node, DCTERMS.description, _vi(resource.description))
        download = URIRef(self.at.download(dataset, resource))
        add(node, DCAT.accessURL, landing)
        add(node, DCAT.downloadURL, download)
        # DCAT-AP 3's shapes ask these URLs to be of class rdfs:Resource, and a validator that infers
        # nothing (the EU's does not) only finds the class when the graph states it.
        for url in (landing, download):
            if self._once((url, RDFS.Resource)):
                add(url, RDF.type, RDFS.Resource)
        file_type, media_type = FORMAT_TYPES[resource.format]
        file_type_node = EU_FILE_TYPE[file_type]
        add(node, DCTERMS.format, file_type_node)
        media_type_node = URIRef(IANA_MEDIA_TYPES + media_type)
        add(node, DCAT.mediaType, media_type_node)
        if self._once(file_type_node):
            add(file_type_node, RDF.type, DCTERMS.MediaTypeOrExtent)
        if self._once(media_type_node):
            add(media_type_node, RDF.type, DCTERMS.MediaType)
        add(node, DCTERMS.license, licence)
        add(
            node,
            DCATAP.availability,
            self.concept(
                EU_AVAILABILITY_STABLE,
                scheme=URIRef(EU_AUTHORITY + "planned-availability"),
                scheme_title="Planned availability",
                label=Literal("stable", lang="en"),
            ),
        )
        add(node, DCTERMS.issued, _moment(resource.created_at))
        add(node, DCTERMS.modified, _moment(resource.modified_at))
        stored = resource.file
        add(node, DCAT.byteSize, Literal(stored.size, datatype=XSD.nonNegativeInteger))
        checksum = BNode()
        add(node, SPDX.checksum, checksum)
        add(checksum, RDF.type, SPDX.Checksum)
        add(checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256)
        if self._once(SPDX.checksumAlgorithm_sha256):
            # The algorithm's class, which DCAT-AP 3's shapes check (sh:class spdx:ChecksumAlgorithm).
            add(SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm)
        add(checksum, SPDX.checksumValue, Literal(stored.sha256, datatype=XSD.hexBinary))
        return node


# ---------------------------------------------------------------- entry points


@dataclass(frozen=True)
class CatalogPage:
    graph: Graph
    page: int
    pages: int
    total: int


def catalog_graph(
    addresses: Addresses,
    *,
    page: int = 1,
    extension: str = "ttl",
    state: CatalogState | None = None,
    size: int | None = None,
) -> CatalogPage:
    """One page of the catalog; a page past the last one is not found (page 1 always exists)."""
    state = state or catalog_state()
    size = size or page_size()
    pages = page_count(state.count, size)
    if page > pages:
        raise NotFound(f"Danh mục chỉ có {pages} trang.", "page")
    builder = CatalogBuilder(addresses)
    catalog = builder.catalog(state)
    for dataset in catalog_page(page, size):
        builder.add(catalog, DCAT.dataset, builder.dataset(dataset))
    builder.paging(extension=extension, page=page, pages=pages, total=state.count, size=size)
    return CatalogPage(builder.graph, page, pages, state.count)


def dataset_graph(addresses: Addresses, dataset: Dataset) -> Graph:
    """One dataset on its own, with what it points to (publisher, licence, themes, distributions)."""
    builder = CatalogBuilder(addresses)
    builder.dataset(dataset)
    return builder.graph


def serialize(graph: Graph, extension: str) -> bytes:
    rdflib_format, _ = FORMATS[extension]
    if rdflib_format == "json-ld":
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, indent=2, encoding="utf-8")
    return graph.serialize(format=rdflib_format, encoding="utf-8")
