"""Reads of the open-data portal, scoped by opendata.scope: the public portal, the officers' pages,
the CKAN Action API and the DCAT catalog all find datasets through these functions.

Search (`search_datasets`) is CKAN's package_search on the database: `q` is folded into words
(core.text.fold) and each must begin a word of Dataset.search_text, the same on SQLite and
PostgreSQL; facets are one GROUP BY per facet over the matching datasets; one page of results is
read with its agencies, licences, themes, tags and resources in a fixed number of queries, however
many datasets match."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan, LessThan

from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.text import fold
from chinhquyenso.opendata import scope
from chinhquyenso.opendata.models import Dataset, DatasetStatus, Resource

WORDS = re.compile(r"[a-z0-9]+")
MAX_QUERY = 500
MAX_WORDS = 12
FACET_LIMIT = 50
NOT_FOUND = "Không tìm thấy bộ dữ liệu."
RESOURCE_NOT_FOUND = "Không tìm thấy tài nguyên dữ liệu."

# Filter and facet keys (CKAN's names) → how a value is matched / counted.
FILTER_KEYS = ("organization", "groups", "tags", "res_format", "license_id")
SORTS = {
    "metadata_modified desc": ["-modified_at", "-pk"],
    "metadata_modified asc": ["modified_at", "pk"],
    "metadata_created desc": ["-created_at", "-pk"],
    "metadata_created asc": ["created_at", "pk"],
    "title_string asc": ["title", "pk"],
    "title_string desc": ["-title", "-pk"],
    "name asc": ["name"],
    "name desc": ["-name"],
}


@dataclass
class SearchResult:
    count: int
    results: list[Dataset]
    facets: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)


def with_details(queryset: QuerySet) -> QuerySet:
    """What a dataset's page or API answer shows, read in a fixed number of queries."""
    return queryset.select_related("agency", "licence").prefetch_related(
        "themes", "tags", "resources", "resources__file"
    )


def visible_datasets(user) -> QuerySet:
    """The datasets `user` finds in lists and searches: public ones for everyone; every status of the
    agencies in an officer's scope; everything for the province administrator and auditors. A
    withdrawn dataset is in no public list (its own page still answers, through dataset_for)."""
    rule = scope.visible(user)
    datasets = Dataset.objects.all()
    return datasets if rule is None else datasets.filter(rule)


def _record_id(ref: str) -> int | None:
    text = str(ref).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def dataset_for(user, ref) -> Dataset:
    """The dataset named `ref` (its name, or its id as text) that `user` may open — a withdrawn one
    too, whose page says it was withdrawn; NotFound otherwise, whether or not it exists."""
    text = str(ref or "").strip()
    if not text or len(text) > 100:
        raise NotFound(NOT_FOUND)
    openable = visible_datasets(user) | Dataset.objects.filter(status=DatasetStatus.WITHDRAWN)
    pk = _record_id(text)
    match = Q(name=text) | Q(pk=pk) if pk is not None and pk <= params.MAX_INTEGER else Q(name=text)
    found = sorted(with_details(openable.filter(match)), key=lambda dataset: dataset.name != text)
    if not found:
        raise NotFound(NOT_FOUND)
    return found[0]


def resource_for(user, resource_id) -> Resource:
    """A resource of a dataset `user` finds (a withdrawn dataset's files are no longer served, except to
    those who see its agency's unpublished datasets); NotFound otherwise."""
    pk = _record_id(str(resource_id if resource_id is not None else ""))
    if pk is None or pk > params.MAX_INTEGER:
        raise NotFound(RESOURCE_NOT_FOUND)
    resource = (
        Resource.objects.filter(pk=pk, dataset__in=visible_datasets(user))
        .select_related("dataset", "dataset__agency", "dataset__licence", "file")
        .first()
    )
    if resource is None:
        raise NotFound(RESOURCE_NOT_FOUND)
    return resource


# ---------------------------------------------------------------- search


def query_words(q: str) -> list[str]:
    if not isinstance(q, str):
        raise DomainError("Từ khóa tìm kiếm phải là văn bản.", "q")
    if len(q) > MAX_QUERY:
        raise DomainError(f"Từ khóa tìm kiếm dài quá {MAX_QUERY} ký tự.", "q")
    words = list(dict.fromkeys(WORDS.findall(fold(q))))
    if len(words) > MAX_WORDS:
        raise DomainError(f"Tìm kiếm tối đa {MAX_WORDS} từ.", "q")
    return words


def _filter(queryset: QuerySet, key: str, value: str) -> QuerySet:
    if key == "organization":
        return queryset.filter(agency__code=value)
    if key == "license_id":
        return queryset.filter(licence__code=value)
    if key == "groups":
        through = Dataset.themes.through.objects.filter(dataset_id=OuterRef("pk"), theme__code=value)
    elif key == "tags":
        through = Dataset.tags.through.objects.filter(dataset_id=OuterRef("pk"), tag__name=value)
    elif key == "res_format":
        through = Resource.objects.filter(dataset_id=OuterRef("pk"), format__iexact=value)
    else:
        raise DomainError(f"Không lọc được theo “{str(key)[:40]}” (chỉ {', '.join(FILTER_KEYS)}).", "fq")
    return queryset.filter(Exists(through))


def _facet(key: str, matching: QuerySet, limit: int) -> list[tuple[str, str, int]]:
    ids = matching.values("pk")
    if key == "organization":
        rows = Dataset.objects.filter(pk__in=ids).values_list("agency__code", "agency__name").annotate(n=Count("pk"))
    elif key == "license_id":
        rows = Dataset.objects.filter(pk__in=ids).values_list("licence__code", "licence__title").annotate(n=Count("pk"))
    elif key == "groups":
        rows = (
            Dataset.themes.through.objects.filter(dataset_id__in=ids)
            .values_list("theme__code", "theme__name")
            .annotate(n=Count("dataset_id", distinct=True))
        )
    elif key == "tags":
        rows = (
            Dataset.tags.through.objects.filter(dataset_id__in=ids)
            .values_list("tag__name", "tag__name")
            .annotate(n=Count("dataset_id", distinct=True))
        )
    elif key == "res_format":
        rows = (
            Resource.objects.filter(dataset_id__in=ids)
            .values_list("format", "format")
            .annotate(n=Count("dataset_id", distinct=True))
        )
    else:
        raise DomainError(f"Không thống kê được theo “{str(key)[:40]}” (chỉ {', '.join(FILTER_KEYS)}).", "facet.field")
    ordered = sorted(((code, label, n) for code, label, n in rows.order_by()), key=lambda row: (-row[2], row[1]))
    return ordered[:limit]


def _score(words: list[str]):
    """Two points for each word that begins a word of the title, one for each found elsewhere (every
    word matched somewhere): titles first, then the most recently changed."""
    bar = StrIndex("search_text", Value(" | "))
    score = None
    for word in words:
        at = StrIndex("search_text", Value(f" {word}"))
        term = Case(
            When(GreaterThan(at, 0) & LessThan(at, bar), then=Value(2)), default=Value(1), output_field=IntegerField()
        )
        score = term if score is None else score + term
    return score


def search_datasets(
    user,
    *,
    q: str = "",
    filters: dict[str, list[str]] | None = None,
    sort: str = "",
    rows=10,
    start=0,
    facet_fields=(),
    facet_limit: int = FACET_LIMIT,
) -> SearchResult:
    """CKAN's package_search over the datasets `user` finds: `q` (folded words, each beginning a word of
    the title, description, keywords, agency or themes), `filters` (each value must hold), `sort`
    ("score desc" — the default with q —, "metadata_modified desc" — the default otherwise —,
    "title_string asc|desc", "name asc|desc"), a page of `rows` from `start`, and facet counts."""
    rows = params.integer(rows, "rows", default=10, maximum=settings.CQS["OPENDATA_MAX_ROWS"])
    start = params.offset(start, "start")
    words = query_words(q or "")
    datasets = visible_datasets(user)
    for word in words:
        datasets = datasets.filter(search_text__contains=f" {word}")
    if filters:
        if not isinstance(filters, dict):
            raise DomainError("Bộ lọc không hợp lệ.", "fq")
        for key, values in filters.items():
            if key not in FILTER_KEYS:
                raise DomainError(f"Không lọc được theo “{str(key)[:40]}” (chỉ {', '.join(FILTER_KEYS)}).", "fq")
            for value in [values] if isinstance(values, str) else list(values)[:20]:
                datasets = _filter(datasets, key, str(value))
    sort = " ".join(str(sort or "").lower().split())
    if not sort or sort == "score desc,metadata_modified desc":
        sort = "score desc" if words else "metadata_modified desc"
    if sort == "score desc":
        if not words:
            sort = "metadata_modified desc"
    elif sort not in SORTS:
        raise DomainError(
            "Cách sắp xếp không hợp lệ (score desc, metadata_modified desc, title_string asc|desc, name asc|desc).",
            "sort",
        )
    count = datasets.count()
    facets = {key: _facet(key, datasets, facet_limit) for key in facet_fields}
    if sort == "score desc":
        page = datasets.annotate(score=_score(words)).order_by("-score", "-modified_at", "-pk")
    else:
        page = datasets.order_by(*SORTS[sort])
    results = list(with_details(page)[start : start + rows]) if rows else []
    return SearchResult(count=count, results=results, facets=facets)
