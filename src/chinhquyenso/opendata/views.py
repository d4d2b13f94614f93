"""Public pages of the open-data portal, under /du-lieu-mo/: search with facets, a dataset's page
(metadata, resources, a preview of the first rows, a chart of a time series, how to use the API), its
history, downloads, the publishing figures per agency and the API guide.

Thin: reads through opendata.selectors (what the visitor may see is decided there: public datasets for
everyone, an officer's own drafts too), tables through opendata.datastore; an unknown or unseen dataset
is the 404 page (core.middleware). Filters in the address are codes (an agency's code, a theme's code,
a format, a licence) and keywords — never anything about a person."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.http import FileResponse
from django.shortcuts import render
from django.urls import reverse

from chinhquyenso.core import charts, params
from chinhquyenso.core.errors import NotFound
from chinhquyenso.core.text import fold, format_number, nfc
from chinhquyenso.opendata import ckan, datastore, selectors
from chinhquyenso.opendata.labels import version_label
from chinhquyenso.opendata.models import Dataset, DatasetStatus, Resource, ResourceFormat
from chinhquyenso.org.models import Level

PAGE_SIZE = 20
# The address's filter names → selectors.search_datasets' filter keys, in the order the facets show.
FILTERS = {
    "co_quan": "organization",
    "linh_vuc": "groups",
    "dinh_dang": "res_format",
    "giay_phep": "license_id",
    "tu_khoa": "tags",
}
FACET_TITLES = {
    "organization": "Cơ quan",
    "groups": "Lĩnh vực",
    "res_format": "Định dạng",
    "license_id": "Giấy phép",
    "tags": "Từ khóa",
}
FILTER_VALUES_MAX = 10  # values of one filter a visitor may combine
FILTER_VALUE_MAX = 100  # characters of one value (a keyword's length)
FACET_SHOWN = 12  # values of one facet listed (the most frequent)
SORTS = {
    "": "Phù hợp nhất",
    "moi-nhat": "Mới cập nhật",
    "ten-az": "Tên A–Z",
    "ten-za": "Tên Z–A",
}
SORT_KEYS = {"moi-nhat": "metadata_modified desc", "ten-az": "title_string asc", "ten-za": "title_string desc"}
TABULAR = (ResourceFormat.CSV, ResourceFormat.XLSX)
PREVIEW_ROWS = 20
PREVIEWED_RESOURCES = 3  # a dataset of many tables previews its first ones: the page stays light
CHART_POINTS = 36
# A column whose name says it is a period (folded words): tháng, năm, kỳ, quý, ngày.
PERIOD_WORDS = {"thang", "nam", "ky", "quy", "ngay", "date", "month", "year"}
CHART_COLOR = "#0b4f9c"
LEVELS = {"tinh": Level.PROVINCE, "huyen": Level.DISTRICT, "xa": Level.COMMUNE}


def site_url(request) -> str:
    """The site's address for the snippets a visitor copies: CQS_SITE_URL, else what the browser asked."""
    return (settings.CQS.get("SITE_URL") or request.build_absolute_uri("/")).rstrip("/")


# ---------------------------------------------------------------- search


def _filters(request) -> dict[str, list[str]]:
    """The filters in the address, bounded: {search key: [values]}."""
    chosen = {}
    for name, key in FILTERS.items():
        values = [nfc(v)[:FILTER_VALUE_MAX].strip() for v in request.GET.getlist(name)[:FILTER_VALUES_MAX]]
        values = list(dict.fromkeys(v for v in values if v))
        if values:
            chosen[key] = values
    return chosen


def _address(query: dict[str, list[str]]) -> str:
    pairs = [(name, value) for name, values in query.items() for value in values]
    return "?" + urllib.parse.urlencode(pairs) if pairs else "?"


@dataclass
class FacetValue:
    label: str
    count: int
    selected: bool
    url: str


@dataclass
class Facet:
    name: str  # the address's filter name
    title: str
    values: list[FacetValue]


def _facets(found_facets: dict, base: dict[str, list[str]]) -> list[Facet]:
    """Each facet's values as links that add the value to the filters (or take it away), page 1."""
    facets = []
    for name, key in FILTERS.items():
        items = found_facets.get(key) or []
        chosen = base.get(name, [])
        values = []
        for value, label, count in sorted(items, key=lambda item: (-item[2], str(item[1])))[:FACET_SHOWN]:
            value = str(value)
            selected = value in chosen
            query = {k: list(v) for k, v in base.items()}
            query[name] = [v for v in chosen if v != value] if selected else [*chosen, value]
            values.append(FacetValue(str(label or value), count, selected, _address(query)))
        if values:
            facets.append(Facet(name, FACET_TITLES[key], values))
    return facets


def search(request):
    """Tìm bộ dữ liệu: words, facets (agency, field, format, licence, keyword), sort, 20 a page."""
    q = nfc(request.GET.get("q", ""))[:200].strip()
    sort = request.GET.get("sap_xep", "")
    if sort not in SORTS:
        sort = ""
    number = params.page(request.GET.get("trang"), "trang", size=PAGE_SIZE)
    filters = _filters(request)
    found = selectors.search_datasets(
        request.user,
        q=q,
        filters=filters,
        sort=SORT_KEYS.get(sort, ""),
        rows=PAGE_SIZE,
        start=(number - 1) * PAGE_SIZE,
        facet_fields=tuple(FILTERS.values()),
    )
    results = list(found.results)
    # The list shows each dataset's agency and formats: two queries for the page, whatever its length.
    prefetch_related_objects(results, "agency", "resources")
    for dataset in results:
        dataset.formats = sorted({r.format for r in dataset.resources.all()})
    # The address without the page: what facets, sort and paging links start from.
    base = {name: filters[key] for name, key in FILTERS.items() if key in filters}
    if q:
        base["q"] = [q]
    if sort:
        base["sap_xep"] = [sort]
    pages = max(1, -(-found.count // PAGE_SIZE))
    return render(
        request,
        "opendata/search.html",
        {
            "q": q,
            "sort": sort,
            "sorts": SORTS,
            "count": found.count,
            "results": results,
            "facets": _facets(found.facets, base),
            "hidden_filters": [(name, value) for name in FILTERS for value in base.get(name, [])],
            "number": number,
            "pages": pages,
            "previous_url": _address({**base, "trang": [str(number - 1)]}) if number > 1 else "",
            "next_url": _address({**base, "trang": [str(number + 1)]}) if number < pages else "",
            "filtered": bool(filters),
        },
    )


# ---------------------------------------------------------------- a dataset's page


def _number(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def is_period(column: dict) -> bool:
    return column.get("type") == "date" or bool(PERIOD_WORDS & set(fold(str(column.get("id", ""))).split()))


def series_columns(resource: Resource) -> tuple[str, str] | None:
    """(period column, first numeric column) when the table is a time series, else None."""
    columns = resource.datastore_fields or []
    period = next((c for c in columns if is_period(c)), None)
    if period is None:
        return None
    value = next((c for c in columns if c is not period and c.get("type") in ("int", "numeric")), None)
    return (period["id"], value["id"]) if value else None


def time_series_chart(resource: Resource) -> charts.Chart | None:
    """A bar chart of the table's first numeric column over its period column, the first CHART_POINTS rows
    in the file's order (a time series is written in time order)."""
    columns = series_columns(resource)
    if columns is None:
        return None
    period, value = columns
    table = datastore.search(resource, limit=CHART_POINTS, fields=[period, value], include_total=False)
    points = [(str(r.get(period) or ""), _number(r.get(value))) for r in table["records"]]
    points = [(label, number) for label, number in points if label and number is not None]
    if len(points) < 2:
        return None
    every = -(-len(points) // 6)
    chart = charts.bars(
        chart_id=f"bieu-do-{resource.pk}",
        title=f"{value} theo {period} — {resource.name}",
        description=f"Biểu đồ cột {len(points)} kỳ đầu của tệp: cao nhất "
        f"{format_number(float(max(n for _, n in points)), 0)}. Số liệu từng kỳ ở bảng sau biểu đồ.",
        categories=[
            # At most about six labels under the axis: more would overlap on a phone's 360 px.
            charts.Category(label[:10] if i % every == 0 else "", full=label)
            for i, (label, _) in enumerate(points)
        ],
        series=[charts.Series(value, [n for _, n in points], CHART_COLOR, displays=[_shown(n) for _, n in points])],
        stacked=False,
    )
    chart.head = period
    return chart


def _shown(number: Decimal) -> str:
    decimals = 0 if number == number.to_integral_value() else 2
    return format_number(float(number), decimals)


@dataclass
class Table:
    resource: Resource
    fields: list[dict]
    records: list[dict]
    chart: charts.Chart | None


def previews(resources: list[Resource]) -> list[Table]:
    """The first rows (and a chart for a time series) of the dataset's first tabular resources."""
    tables = []
    for resource in [r for r in resources if r.format in TABULAR and r.datastore_active][:PREVIEWED_RESOURCES]:
        shown = datastore.preview(resource, limit=PREVIEW_ROWS)
        fields = [f for f in shown["fields"] if f["id"] != "_id"]
        tables.append(
            Table(
                resource,
                fields,
                [[record.get(f["id"], "") for f in fields] for record in shown["records"]],
                time_series_chart(resource),
            )
        )
    return tables


def api_snippets(request, dataset: Dataset, resources: list[Resource]) -> dict:
    """The commands a developer copies for THIS dataset: curl and ckanapi."""
    site = site_url(request)
    tabular = next((r for r in resources if r.datastore_active), None)
    return {
        "site": site,
        "package_show": f"curl '{site}/api/3/action/package_show?id={dataset.name}'",
        "datastore_search": (
            f"curl '{site}/api/3/action/datastore_search?resource_id={tabular.pk}&limit=5'" if tabular else ""
        ),
        "python": "\n".join(
            [
                "from ckanapi import RemoteCKAN",
                "",
                f"portal = RemoteCKAN('{site}')",
                f"dataset = portal.action.package_show(id='{dataset.name}')",
                *([f"table = portal.action.datastore_search(resource_id='{tabular.pk}', limit=5)"] if tabular else []),
            ]
        ),
        "dcat": [
            ("Turtle", f"/dataset/{dataset.name}.ttl"),
            ("JSON-LD", f"/dataset/{dataset.name}.jsonld"),
            ("RDF/XML", f"/dataset/{dataset.name}.rdf"),
        ],
    }


def dataset_page(request, name):
    dataset = selectors.dataset_for(request.user, name)
    withdrawn = dataset.status == DatasetStatus.WITHDRAWN
    resources = [] if withdrawn else list(dataset.resources.select_related("file"))
    return render(
        request,
        "opendata/dataset.html",
        {
            "dataset": dataset,
            "withdrawn": withdrawn,
            "themes": list(dataset.themes.all()),
            "tags": list(dataset.tags.all()),
            "resources": resources,
            "tables": previews(resources),
            "api": api_snippets(request, dataset, resources),
        },
    )


def history(request, name):
    """The dataset's versions, newest first: what changed when (no officer's name: a public page)."""
    dataset = selectors.dataset_for(request.user, name)
    versions = list(dataset.versions.all()[:200])
    statuses = dict(DatasetStatus.choices)
    for version in versions:
        version.label = version_label(version.action)
        version.status_label = statuses.get(version.status, version.status)
        version.resource_count = len((version.snapshot or {}).get("resources") or [])
    return render(request, "opendata/history.html", {"dataset": dataset, "versions": versions})


# ---------------------------------------------------------------- download


def download_names(resource: Resource, extension: str) -> tuple[str, str]:
    """(ASCII name for old clients, the UTF-8 name) of a resource's file: "dien-tich-lua.csv",
    "Diện tích lúa.csv". Nothing of the name can break out of the header: quotes, slashes and control
    characters are dropped."""
    base = nfc(resource.name or resource.dataset.name)
    utf8 = "".join(ch for ch in base if ch.isprintable() and ch not in '"\\/:*?<>|;')[:150].strip() or "du-lieu"
    ascii_name = "-".join("".join(ch if ch.isalnum() else " " for ch in fold(base)).split())[:100] or "du-lieu"
    ascii_name = ascii_name.encode("ascii", "ignore").decode() or "du-lieu"
    return f"{ascii_name}.{extension}", f"{utf8}.{extension}"


def download(request, name, resource_id):
    """A resource's file, as an attachment: of a dataset the visitor may see (an officer's own draft
    too), never of a withdrawn one."""
    dataset = selectors.dataset_for(request.user, name)
    if dataset.status == DatasetStatus.WITHDRAWN:
        raise NotFound("Bộ dữ liệu đã được rút; các tệp của nó không còn được cung cấp.")
    resource = None
    if resource_id <= params.MAX_INTEGER:
        resource = dataset.resources.select_related("file").filter(pk=resource_id).first()
    if resource is None:
        raise NotFound("Không tìm thấy tài nguyên này của bộ dữ liệu.")
    stored = resource.file
    extension = stored.file.name.rsplit(".", 1)[-1].lower() if "." in stored.file.name else resource.format.lower()
    ascii_name, utf8_name = download_names(resource, extension)
    response = FileResponse(stored.file.open("rb"), content_type=stored.content_type)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(utf8_name, safe='')}"
    )
    response["Content-Length"] = str(stored.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    # A public dataset's file may sit in shared caches a few minutes only: a replaced file keeps its
    # address. A draft's never leaves the officer's browser.
    response["Cache-Control"] = "public, max-age=300" if dataset.is_public else "private, no-store"
    return response


# ---------------------------------------------------------------- publishing figures


def share(numerator: int, denominator: int) -> str:
    """95,2% — one decimal, the Vietnamese way; "—" with nothing counted."""
    if not denominator:
        return "—"
    return format_number(100 * numerator / denominator, 1) + "%"


def figures(request):
    """How many counted agencies publish at least one public dataset (the province's open-data
    figure), and per agency: publishes or not, its public datasets, the ones late against their frequency."""
    from chinhquyenso.opendata.figures import publishing_figures

    level_code = request.GET.get("cap", "")
    if level_code not in LEVELS:
        level_code = ""
    result = publishing_figures()
    rows = list(result.rows)
    if level_code:
        rows = [row for row in rows if row.agency.level == LEVELS[level_code]]
    counted = [row for row in rows if row.counted]
    publishing = [row for row in counted if row.publishes]
    return render(
        request,
        "opendata/figures.html",
        {
            "numerator": result.numerator,
            "denominator": result.denominator,
            "share": share(result.numerator, result.denominator),
            "rows": sorted(rows, key=lambda row: (not row.counted, row.publishes, row.agency.name)),
            "level_code": level_code,
            "levels": [("", "Tất cả các cấp"), ("tinh", "Cấp tỉnh"), ("huyen", "Cấp huyện"), ("xa", "Cấp xã")],
            "level_numerator": len(publishing),
            "level_denominator": len(counted),
            "level_share": share(len(publishing), len(counted)),
        },
    )


# ---------------------------------------------------------------- API guide


def api_actions(*, writes: bool) -> list[tuple[str, str]]:
    """(name, what it does) of the actions the API answers that read (or write): the API's own registry
    (ckan.ACTIONS), so the guide never names an action that does not exist nor leaves one out."""
    return [(name, entry.summary) for name, entry in ckan.ACTIONS.items() if entry.writes == writes]


def api_help(request):
    site = site_url(request)
    return render(
        request,
        "opendata/api_help.html",
        {
            "site": site,
            "read_actions": api_actions(writes=False),
            "write_actions": api_actions(writes=True),
            "search_url": reverse("opendata:search"),
            "curl_search": f"curl '{site}/api/3/action/package_search?q=nong+nghiep&rows=5'",
            "curl_show": f"curl '{site}/api/3/action/package_show?id=<mã-bộ-dữ-liệu>'",
            "curl_datastore": f"curl '{site}/api/3/action/datastore_search?resource_id=<mã-tài-nguyên>&limit=5'",
            "curl_create": (
                f"curl -X POST '{site}/api/3/action/package_create' -H 'Authorization: <khóa API>' "
                "-H 'Content-Type: application/json' -d '{\"title\": \"Tên bộ dữ liệu\"}'"
            ),
            "python": "\n".join(
                [
                    "from ckanapi import RemoteCKAN",
                    "",
                    f"portal = RemoteCKAN('{site}')",
                    "found = portal.action.package_search(q='nông nghiệp', rows=5)",
                    "for dataset in found['results']:",
                    "    print(dataset['name'], dataset['title'])",
                ]
            ),
            "catalogs": [
                ("Turtle", "/catalog.ttl"),
                ("JSON-LD", "/catalog.jsonld"),
                ("RDF/XML", "/catalog.rdf"),
            ],
        },
    )
