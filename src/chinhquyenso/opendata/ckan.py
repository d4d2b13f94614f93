"""The CKAN Action API of the open-data portal: the actions CKAN clients (ckanapi, harvesters, the
national portal's crawlers) call, answered in CKAN's shapes from our datasets.

Each action is a function of a `Call` (who calls, the parameters as sent, the uploaded files)
returning the `result` of CKAN's envelope; ckan_views.py reads the request and writes the envelope,
and every error is a DomainError the kernel answers in CKAN's error envelope (core.middleware.
ckan_error). Reads go through opendata.selectors (what the caller may see), writes through
opendata.services (validated, versioned and audited there): this module only translates.

CKAN names ↔ ours: package = Dataset (id: its primary key as text, name: its slug), organization =
Agency (name: its `code`), group = Theme (name: its `code`), license_id = Licence.code, notes =
description, maintainer/maintainer_email = contact_name/contact_email, the other fields of ours
as `extras` (also accepted as top-level keys). docs/opendata.md lists the differences ("Differences
from CKAN")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.urls import NoReverseMatch, reverse

from chinhquyenso.accounts.access import scope_agency_ids
from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.text import fold
from chinhquyenso.opendata import datastore, selectors
from chinhquyenso.opendata.models import Dataset, DatasetStatus, Licence, Resource, Tag, Theme
from chinhquyenso.opendata.services import datasets as dataset_services
from chinhquyenso.opendata.services import resources as resource_services
from chinhquyenso.org.models import Agency

# What status_show reports: the Action API of CKAN 2.10 is what these actions follow.
CKAN_VERSION = "2.10.4"
FACET_FIELDS = ("organization", "groups", "tags", "res_format", "license_id")
DEFAULT_FACET_LIMIT = 50
DEFAULT_ROWS = 10
DATASTORE_DEFAULT_LIMIT = 100  # datastore_search's page when none is asked for, as CKAN's
# organization_show / group_show include_datasets: a first page, as CKAN's does.
INCLUDED_DATASETS = 10
SORTS = {
    "score desc": "score desc",
    "relevance": "score desc",
    "metadata_modified desc": "metadata_modified desc",
    "metadata_modified asc": "metadata_modified asc",
    "metadata_created desc": "metadata_created desc",
    "metadata_created asc": "metadata_created asc",
    "title_string asc": "title_string asc",
    "title_string desc": "title_string desc",
    "name asc": "name asc",
    "name desc": "name desc",
}
# The fields of ours carried as CKAN extras; accepted as extras or as top-level keys.
EXTRA_FIELDS = (
    "frequency",
    "temporal_start",
    "temporal_end",
    "spatial",
    "spatial_code",
    "contact_name",
    "contact_email",
)
# Extras we write for the reader's information and ignore when a client sends them back (package_show →
# edit → package_update round trips).
READ_ONLY_EXTRAS = ("status", "published", "data_updated", "withdrawn_reason", "generator")
# CKAN's top-level keys → ours.
TOP_LEVEL_FIELDS = {
    "title": "title",
    "name": "name",
    "notes": "description",
    "license_id": "licence",
    "version": "version",
    "maintainer": "contact_name",
    "maintainer_email": "contact_email",
}
# A service's error names our field; the client sent CKAN's.
CKAN_FIELD_OF = {
    "description": "notes",
    "licence": "license_id",
    "themes": "groups",
    "agency": "owner_org",
    "file": "upload",
}
WRITE_NEEDS_TOKEN = (
    "Thao tác ghi dữ liệu cần khóa API của cơ quan công bố, gửi trong tiêu đề Authorization (hoặc X-CKAN-API-Key)."
)
WITHDRAW_NEEDS_LEADER_TOKEN = (
    "Khóa API này không được rút bộ dữ liệu: chỉ khóa có quyền lãnh đạo của cơ quan công bố, do quản trị tỉnh "
    "cấp, mới rút được (hoặc lãnh đạo cơ quan rút trên trang quản lý dữ liệu mở)."
)
SEARCH_FIELDS_HINT = ", ".join(FACET_FIELDS)


@dataclass
class Call:
    """One action call: `user` is the API token's account, or None for an anonymous caller; `params`
    the values as sent (text from a query string or a form, any JSON type from a JSON body);
    `prefix` the address the action was called at ("/api/3/action/" or "/api/action/")."""

    user: Any
    params: dict
    files: dict = field(default_factory=dict)
    prefix: str = "/api/3/action/"

    @property
    def viewer(self):
        return self.user if self.user is not None else AnonymousUser()

    def actor(self):
        if self.user is None:
            raise PermissionDenied(WRITE_NEEDS_TOKEN)
        return self.user


@dataclass(frozen=True)
class Action:
    function: Callable[[Call], Any]
    writes: bool
    # What the action does, in Vietnamese: the public API guide's line (views.api_help) and help_show's
    # answer. One text for both, so the guide lists exactly the actions that answer.
    summary: str


ACTIONS: dict[str, Action] = {}


def action(summary: str, *, writes: bool = False):
    def register(function):
        ACTIONS[function.__name__] = Action(function, writes, summary)
        return function

    return register


# ---------------------------------------------------------------- parameters


def _text(call: Call, key: str, default: str = "") -> str:
    value = call.params.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DomainError(f"Trường “{key}” phải là một chuỗi ký tự.", key)
    return str(value).strip()


def _required(call: Call, key: str) -> str:
    value = _text(call, key)
    if not value:
        raise DomainError(f"Thiếu trường “{key}”.", key)
    return value


def _bool(call: Call, key: str, default: bool) -> bool:
    value = call.params.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise DomainError(f"Trường “{key}” phải là true hoặc false.", key)


def _int(call: Call, key: str, default: int, *, minimum: int = 0, maximum: int = params.MAX_INTEGER) -> int:
    value = call.params.get(key)
    if isinstance(value, bool):
        raise DomainError(f"Trường “{key}” phải là số nguyên (chữ số 0–9).", key)
    return params.integer(value, key, default=default, minimum=minimum, maximum=maximum)


def _json(call: Call, key: str, kind: type, default):
    """A list or object: as JSON in a JSON body, or JSON text in a query string or a form."""
    value = call.params.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, str):
        value = params.loads(value, key)
    if not isinstance(value, kind):
        shape = "một danh sách JSON" if kind is list else "một đối tượng JSON"
        raise DomainError(f"Trường “{key}” phải là {shape}.", key)
    return params.json_value(value, key)


def _text_list(call: Call, key: str) -> list[str] | None:
    """A list of strings: a JSON list, or text with commas ("a,b")."""
    value = call.params.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and not value.lstrip().startswith("["):
        return [part.strip() for part in value.split(",") if part.strip()]
    items = _json(call, key, list, [])
    if not all(isinstance(item, str) for item in items):
        raise DomainError(f"Trường “{key}” phải là danh sách các chuỗi ký tự.", key)
    return items


def _record_id(value: str, field_name: str) -> int:
    """An id we issued (a primary key as text): anything else names nothing we hold."""
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > params.MAX_INTEGER:
        raise NotFound(field=field_name)
    return int(value)


# ---------------------------------------------------------------- the shapes CKAN answers in


def _ckan_time(moment: dt.datetime | None) -> str | None:
    """CKAN writes its timestamps in UTC without a zone ("2025-03-10T02:15:00.123456")."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat()


def _absolute(path: str) -> str:
    return settings.CQS["SITE_URL"].rstrip("/") + path


def dataset_url(dataset: Dataset) -> str:
    try:
        return _absolute(reverse("opendata:dataset", args=[dataset.name]))
    except NoReverseMatch:  # the public pages are not mounted (an installation without them)
        return _absolute(f"/du-lieu-mo/{dataset.name}/")


def download_url(dataset: Dataset, resource: Resource) -> str:
    try:
        return _absolute(reverse("opendata:download", args=[dataset.name, resource.pk]))
    except NoReverseMatch:
        return _absolute(f"/du-lieu-mo/{dataset.name}/tai-nguyen/{resource.pk}/")


def organization_dict(agency: Agency, *, package_count: int | None = None) -> dict:
    result = {
        "id": str(agency.pk),
        "name": agency.code,
        "title": agency.name,
        "display_name": agency.name,
        "description": "",
        "image_url": "",
        "image_display_url": "",
        "type": "organization",
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
        "created": f"{agency.valid_from.isoformat()}T00:00:00",
    }
    if package_count is not None:
        result["package_count"] = package_count
    return result


def group_dict(theme: Theme, *, package_count: int | None = None) -> dict:
    result = {
        "id": str(theme.pk),
        "name": theme.code,
        "title": theme.name,
        "display_name": theme.name,
        "description": theme.description,
        "image_url": "",
        "image_display_url": "",
        "type": "group",
        "is_organization": False,
        "approval_status": "approved",
        "state": "active",
    }
    if package_count is not None:
        result["package_count"] = package_count
    return result


def tag_dict(tag: Tag) -> dict:
    return {"id": str(tag.pk), "name": tag.name, "display_name": tag.name, "state": "active", "vocabulary_id": None}


def resource_dict(resource: Resource, dataset: Dataset, position: int | None = None) -> dict:
    stored = resource.file
    return {
        "id": str(resource.pk),
        "package_id": str(dataset.pk),
        "name": resource.name,
        "description": resource.description,
        "format": resource.format,
        "url": download_url(dataset, resource),
        "url_type": "upload",
        "size": stored.size,
        "mimetype": stored.content_type,
        "hash": f"sha256:{stored.sha256}",
        "datastore_active": resource.datastore_active,
        "position": resource.position if position is None else position,
        "state": "active",
        "resource_type": None,
        "created": _ckan_time(resource.created_at),
        "last_modified": _ckan_time(resource.modified_at),
        "metadata_modified": _ckan_time(resource.modified_at),
    }


def _state(dataset: Dataset) -> str:
    if dataset.status == DatasetStatus.PUBLIC:
        return "active"
    if dataset.status == DatasetStatus.WITHDRAWN:
        return "deleted"
    return "draft"


def package_dict(dataset: Dataset) -> dict:
    """A dataset as CKAN's package_show writes it; prefetch() first for a list."""
    licence, agency = dataset.licence, dataset.agency
    tags = list(dataset.tags.all())
    resources = list(dataset.resources.all())
    extras = {
        "frequency": dataset.frequency,
        "temporal_start": dataset.temporal_start.isoformat() if dataset.temporal_start else "",
        "temporal_end": dataset.temporal_end.isoformat() if dataset.temporal_end else "",
        "spatial": dataset.spatial,
        "spatial_code": dataset.spatial_code,
        "contact_name": dataset.contact_name,
        "contact_email": dataset.contact_email,
        "status": dataset.status,
        "published": _ckan_time(dataset.published_at) or "",
        "data_updated": _ckan_time(dataset.data_updated_at) or "",
    }
    if dataset.generator:
        extras["generator"] = dataset.generator
    if dataset.status == DatasetStatus.WITHDRAWN:
        extras["withdrawn_reason"] = dataset.withdrawn_reason
    return {
        "id": str(dataset.pk),
        "name": dataset.name,
        "title": dataset.title,
        "type": "dataset",
        "notes": dataset.description,
        "url": dataset_url(dataset),
        "version": dataset.version,
        "state": _state(dataset),
        "private": not dataset.is_public,
        "author": agency.name,
        "author_email": "",
        "maintainer": dataset.contact_name,
        "maintainer_email": dataset.contact_email,
        "license_id": licence.code,
        "license_title": licence.title,
        "license_url": licence.url,
        "isopen": licence.open,
        "owner_org": str(agency.pk),
        "organization": organization_dict(agency),
        "metadata_created": _ckan_time(dataset.created_at),
        "metadata_modified": _ckan_time(dataset.modified_at),
        "num_resources": len(resources),
        "num_tags": len(tags),
        "resources": [resource_dict(resource, dataset, position) for position, resource in enumerate(resources)],
        "tags": [tag_dict(tag) for tag in tags],
        "groups": [group_dict(theme) for theme in dataset.themes.all()],
        "extras": [{"key": key, "value": value} for key, value in extras.items()],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def prefetch(datasets: list[Dataset]) -> list[Dataset]:
    """What package_dict reads, in one query per relation for the whole list (none already loaded)."""
    prefetch_related_objects(
        datasets,
        "agency",
        "licence",
        "tags",
        "themes",
        Prefetch("resources", queryset=Resource.objects.select_related("file")),
    )
    return datasets


def _shown(dataset: Dataset) -> dict:
    return package_dict(prefetch([dataset])[0])


def _written(dataset: Dataset) -> dict:
    """The dataset as a write left it, read afresh: the object the write was given may hold the tags
    and themes it had before."""
    return _shown(Dataset.objects.get(pk=dataset.pk))


# ---------------------------------------------------------------- reads


@action("Thông tin cổng dữ liệu (phiên bản CKAN tương thích).")
def status_show(call: Call) -> dict:
    province = settings.CQS["PROVINCE_NAME"]
    return {
        "site_title": f"Cổng dữ liệu mở tỉnh {province}",
        "site_description": f"Dữ liệu mở do các cơ quan nhà nước tỉnh {province} công bố.",
        "site_url": settings.CQS["SITE_URL"],
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": "vi",
        "extensions": ["datastore"],
    }


@action("Mô tả một hành động của API này: name (tên hành động).")
def help_show(call: Call) -> str:
    """CKAN answers with the action's docstring (the envelope's `help` links here); ours are developer notes
    in English, so the caller gets the action's Vietnamese summary, the text of the public API guide."""
    name = _required(call, "name")
    entry = ACTIONS.get(name)
    if entry is None:
        raise NotFound(field="name")
    return entry.summary


@action("Danh sách mã các bộ dữ liệu đã công bố: limit, offset.")
def package_list(call: Call) -> list[str]:
    """Names of the public datasets, by name: what harvesters (ckanapi dump --all) walk."""
    limit = _int(call, "limit", 0)
    start = params.offset(call.params.get("offset"))
    names = selectors.visible_datasets(AnonymousUser()).filter(status=DatasetStatus.PUBLIC).order_by("name")
    names = names.values_list("name", flat=True)
    return list(names[start : start + limit] if limit else names[start:])


@action("Thông tin một bộ dữ liệu và các tài nguyên của nó: id (số hoặc mã bộ dữ liệu).")
def package_show(call: Call) -> dict:
    return _shown(selectors.dataset_for(call.viewer, _required(call, "id")))


# fq: `field:value` or `field:"quoted value"`, joined by spaces or AND (Solr's filter syntax, the part
# CKAN clients use); a leading "+" (must) is the same thing.
FQ_TERM = re.compile(r'\s*(?:(AND)(?=\s|$)|\+?([a-z_]+):(?:"((?:[^"\\]|\\.)*)"|([^\s"]+)))')
# Filters CKAN itself adds or clients copy from its documentation; every dataset here matches them.
FQ_NO_OP = {("dataset_type", "dataset"), ("capacity", "public"), ("state", "active")}


def parse_fq(text: str) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = FQ_TERM.match(text, position)
        if match is None or match.end() == position:
            raise DomainError(
                f"Bộ lọc fq không hợp lệ từ “{text[position:][:40]}”: viết trường:giá_trị hoặc "
                f'trường:"giá trị", cách nhau bằng khoảng trắng hoặc AND; trường là một trong {SEARCH_FIELDS_HINT}.',
                "fq",
                code="search_query",
            )
        position = match.end()
        if match.group(1):
            continue
        name = match.group(2)
        value = (
            match.group(3).replace('\\"', '"').replace("\\\\", "\\") if match.group(3) is not None else match.group(4)
        )
        if (name, value) in FQ_NO_OP:
            continue
        if name not in FACET_FIELDS:
            raise DomainError(
                f"Bộ lọc fq: không lọc được theo trường “{name}”; chỉ theo {SEARCH_FIELDS_HINT}.",
                "fq",
                code="search_query",
            )
        filters.setdefault(name, []).append(value)
    return filters


def _sort(call: Call, has_query: bool) -> str:
    raw = _text(call, "sort")
    if not raw:
        return "score desc" if has_query else "metadata_modified desc"
    # CKAN accepts a list ("score desc, metadata_modified desc"); the first key decides here.
    first = " ".join(raw.split(",")[0].split()).lower()
    if first not in SORTS:
        raise DomainError(
            f"Không sắp xếp được theo “{raw[:60]}”; dùng một trong: {', '.join(SORTS)}.", "sort", code="search_query"
        )
    return SORTS[first]


def _facet_fields(call: Call) -> list[str]:
    if not _bool(call, "facet", True):
        return []
    fields = _json(call, "facet.field", list, [])
    unknown = [name for name in fields if name not in FACET_FIELDS]
    if unknown:
        raise DomainError(
            f"Không thống kê được theo trường “{unknown[0]}”; chỉ theo {SEARCH_FIELDS_HINT}.", "facet.field"
        )
    return list(dict.fromkeys(fields))


@action(
    "Tìm bộ dữ liệu: q, fq (organization, groups, tags, res_format, license_id), rows, start, sort, facet.field.",
)
def package_search(call: Call) -> dict:
    q = _text(call, "q")
    if q in ("*:*", "*"):
        q = ""
    filters = parse_fq(_text(call, "fq"))
    for extra_fq in _text_list(call, "fq_list") or []:
        for name, values in parse_fq(extra_fq).items():
            filters.setdefault(name, []).extend(values)
    rows = _int(call, "rows", DEFAULT_ROWS, maximum=settings.CQS["OPENDATA_MAX_ROWS"])
    start = params.offset(call.params.get("start"), "start")
    sort = _sort(call, bool(q))
    facet_fields = _facet_fields(call)
    facet_limit = _int(call, "facet.limit", DEFAULT_FACET_LIMIT, minimum=-1)
    # As CKAN: drafts the caller's token may see only when asked for (include_private / include_drafts).
    private = _bool(call, "include_private", False) or _bool(call, "include_drafts", False)
    found = selectors.search_datasets(
        call.viewer if private else AnonymousUser(),
        q=q,
        filters=filters,
        sort=sort,
        rows=rows,
        start=start,
        facet_fields=facet_fields,
        facet_limit=facet_limit if facet_limit >= 0 else params.MAX_INTEGER,
    )
    facets, search_facets = {}, {}
    for name in facet_fields:
        items = sorted(found.facets.get(name, []), key=lambda item: (-item[2], item[0]))
        if facet_limit >= 0:
            items = items[:facet_limit]
        facets[name] = {value: count for value, _label, count in items}
        search_facets[name] = {
            "title": name,
            "items": [{"name": value, "display_name": label, "count": count} for value, label, count in items],
        }
    return {
        "count": found.count,
        "sort": sort,
        "results": [package_dict(dataset) for dataset in prefetch(list(found.results))],
        "facets": facets,
        "search_facets": search_facets,
    }


def _listed(call: Call, rows: list, names: Callable[[Any], str], as_dict: Callable[[Any], dict]):
    limit = _int(call, "limit", 0, maximum=settings.CQS["OPENDATA_MAX_ROWS"])
    start = params.offset(call.params.get("offset"))
    rows = rows[start : start + limit] if limit else rows[start:]
    if _bool(call, "all_fields", False):
        return [as_dict(row) for row in rows]
    return [names(row) for row in rows]


def _list_sort(call: Call, rows: list, title: Callable[[Any], str], name: Callable[[Any], str]) -> list:
    raw = " ".join(_text(call, "sort", "name asc").split()).lower()
    keys = {
        "name": name,
        "title": lambda row: fold(title(row)),
        "package_count": lambda row: row.package_count,
    }
    key, _, direction = raw.partition(" ")
    if key not in keys or direction not in ("", "asc", "desc"):
        raise DomainError("Sắp xếp theo “name”, “title” hoặc “package_count”, kèm asc hoặc desc.", "sort")
    return sorted(rows, key=keys[key], reverse=direction == "desc")


def _public_count(relation: str):
    return Count(f"{relation}", filter=Q(**{f"{relation}__status": DatasetStatus.PUBLIC}), distinct=True)


@action("Các cơ quan có bộ dữ liệu đã công bố: all_fields, sort, limit, offset.")
def organization_list(call: Call) -> list:
    """The agencies that publish: those with at least one public dataset (a dissolved agency's
    datasets keep their organization)."""
    agencies = Agency.objects.annotate(package_count=_public_count("datasets")).filter(package_count__gt=0)
    wanted = _text_list(call, "organizations")
    if wanted:
        agencies = agencies.filter(code__in=wanted)
    rows = _list_sort(call, list(agencies), lambda agency: agency.name, lambda agency: agency.code)
    return _listed(
        call,
        rows,
        lambda agency: agency.code,
        lambda agency: organization_dict(agency, package_count=agency.package_count),
    )


def _agency(ref: str, field_name: str = "id") -> Agency:
    agency = Agency.objects.filter(code=ref).first()
    if agency is None and ref.isascii() and ref.isdigit() and len(ref) <= 10:
        agency = Agency.objects.filter(pk=int(ref)).first()
    if agency is None:
        raise NotFound(field=field_name)
    return agency


def _first_datasets(filters: dict[str, list[str]]) -> tuple[int, list[dict]]:
    found = selectors.search_datasets(AnonymousUser(), filters=filters, rows=INCLUDED_DATASETS)
    return found.count, [package_dict(dataset) for dataset in prefetch(list(found.results))]


@action("Thông tin một cơ quan công bố: id (mã cơ quan), include_datasets.")
def organization_show(call: Call) -> dict:
    agency = _agency(_required(call, "id"))
    count, packages = _first_datasets({"organization": [agency.code]})
    result = organization_dict(agency, package_count=count)
    if _bool(call, "include_datasets", False):
        result["packages"] = packages
    return result


@action("Các lĩnh vực dữ liệu: all_fields, sort, limit, offset.")
def group_list(call: Call) -> list:
    themes = Theme.objects.annotate(package_count=_public_count("datasets"))
    wanted = _text_list(call, "groups")
    if wanted:
        themes = themes.filter(code__in=wanted)
    rows = _list_sort(call, list(themes), lambda theme: theme.name, lambda theme: theme.code)
    return _listed(
        call, rows, lambda theme: theme.code, lambda theme: group_dict(theme, package_count=theme.package_count)
    )


@action("Thông tin một lĩnh vực dữ liệu: id (mã lĩnh vực), include_datasets.")
def group_show(call: Call) -> dict:
    ref = _required(call, "id")
    theme = Theme.objects.filter(code=ref).first()
    if theme is None and ref.isascii() and ref.isdigit() and len(ref) <= 10:
        theme = Theme.objects.filter(pk=int(ref)).first()
    if theme is None:
        raise NotFound(field="id")
    count, packages = _first_datasets({"groups": [theme.code]})
    result = group_dict(theme, package_count=count)
    if _bool(call, "include_datasets", False):
        result["packages"] = packages
    return result


@action("Các từ khóa của bộ dữ liệu đã công bố: query (đầu từ, gõ có hoặc không dấu), all_fields.")
def tag_list(call: Call) -> list:
    """The keywords of public datasets (a draft's keywords are not published yet); `query` matches
    the beginning of their words however typed (with or without diacritics). Vocabularies do not
    exist here: vocabulary_id is ignored."""
    tags = Tag.objects.filter(datasets__status=DatasetStatus.PUBLIC).distinct().order_by("name")
    query = fold(_text(call, "query") or _text(call, "q"))
    if query:
        # Words that begin with what was typed: "ho" finds "hộ tịch", not "giao thông".
        tags = tags.filter(Q(folded__startswith=query) | Q(folded__contains=f" {query}"))
    if _bool(call, "all_fields", False):
        return [tag_dict(tag) for tag in tags]
    return list(tags.values_list("name", flat=True))


def license_dict(licence: Licence) -> dict:
    """A licence as CKAN's license_list writes one. Ours are data licences; the conformance keys say what
    CKAN's do for an open licence (`open` marks those), the others were not reviewed here."""
    return {
        "id": licence.code,
        "title": licence.title,
        "url": licence.url,
        "status": "active",
        "family": "",
        "maintainer": "",
        "domain_content": False,
        "domain_data": True,
        "domain_software": False,
        "is_generic": False,
        "is_okd_compliant": licence.open,
        "is_osi_compliant": False,
        "od_conformance": "approved" if licence.open else "not reviewed",
        "osd_conformance": "not reviewed",
    }


@action("Các giấy phép dữ liệu dùng được cho bộ dữ liệu (mã là license_id khi tạo, sửa bộ dữ liệu).")
def license_list(call: Call) -> list:
    return [license_dict(licence) for licence in Licence.objects.all()]


def _resource(call: Call, key: str = "id") -> Resource:
    return selectors.resource_for(call.viewer, _record_id(_required(call, key), key))


@action("Thông tin một tài nguyên (tệp) của bộ dữ liệu: id.")
def resource_show(call: Call) -> dict:
    resource = _resource(call)
    return resource_dict(resource, resource.dataset)


@action("Truy vấn bảng dữ liệu của một tài nguyên CSV/XLSX: resource_id, filters, q, limit, offset, sort, fields.")
def datastore_search(call: Call) -> dict:
    resource = _resource(call, "resource_id")
    if not resource.datastore_active:
        raise NotFound("Tài nguyên này không có bảng dữ liệu tra cứu được (chỉ tệp CSV, XLSX).", "resource_id")
    # q: words searched in every column, or {column: words} (as JSON text in a query string).
    q = call.params.get("q")
    if isinstance(q, str) and q.lstrip().startswith("{"):
        q = _json(call, "q", dict, {})
    elif q is not None and not isinstance(q, (str, dict)):
        raise DomainError("Trường “q” là chuỗi từ cần tìm, hoặc đối tượng {cột: từ cần tìm}.", "q")
    sort = call.params.get("sort")
    if sort is not None and not isinstance(sort, (str, list)):
        raise DomainError("Trường “sort” viết dạng “cột asc, cột desc”.", "sort")
    include_total = _bool(call, "include_total", True)
    found = datastore.search(
        resource,
        filters=_json(call, "filters", dict, {}),
        q=q or "",
        # The DataStore caps the page at its rows_max and the offset at the kernel's bound.
        limit=_int(call, "limit", DATASTORE_DEFAULT_LIMIT),
        offset=_int(call, "offset", 0),
        sort=sort or "",
        fields=_text_list(call, "fields"),
        include_total=include_total,
    )
    limit, offset = found["limit"], found["offset"]
    start = f"{call.prefix}datastore_search?" + urlencode({"resource_id": resource.pk, "limit": limit})
    result = {
        "resource_id": str(resource.pk),
        "fields": found["fields"],
        "records": found["records"],
        "limit": limit,
        "offset": offset,
        "include_total": include_total,
        "records_format": "objects",
        "_links": {"start": start, "next": f"{start}&offset={offset + limit}"},
    }
    if include_total:
        result["total"] = found["total"]
        result["total_was_estimated"] = False
    return result


# ---------------------------------------------------------------- writes


def _renamed(error: DomainError) -> DomainError:
    """The service names our field; the client sent CKAN's (notes, license_id, groups, owner_org)."""
    if error.field:
        head, dot, tail = error.field.partition(".")
        error.field = CKAN_FIELD_OF.get(head, head) + dot + tail
    return error


def _value(raw: Any, key: str) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise DomainError(f"Trường “{key}” phải là một chuỗi ký tự.", key)
    return str(raw).strip()


def _names(raw: Any, key: str) -> list[str]:
    """CKAN's [{"name": …}] (or plain strings) → the names."""
    if isinstance(raw, str):
        raw = params.loads(raw, key) if raw.lstrip().startswith("[") else [raw]
    if not isinstance(raw, list):
        raise DomainError(f'Trường “{key}” phải là danh sách dạng [{{"name": …}}].', key)
    names = []
    for position, item in enumerate(raw):
        name = item.get("name") or item.get("id") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise DomainError(f"Trường “{key}”: mục thứ {position + 1} thiếu “name”.", f"{key}.{position}")
        names.append(name.strip())
    return names


def _theme_codes(refs: list[str]) -> list[str]:
    """Groups named by name (our theme code) or by the id package_show wrote (its primary key)."""
    ids = [int(ref) for ref in refs if ref.isascii() and ref.isdigit() and len(ref) <= 10]
    codes = dict(Theme.objects.filter(pk__in=ids).values_list("pk", "code")) if ids else {}
    return [codes.get(int(ref), ref) if ref.isascii() and ref.isdigit() and len(ref) <= 10 else ref for ref in refs]


def dataset_fields(values: dict) -> dict:
    """A CKAN package dict (as a client sends it) → the fields of opendata.services.datasets. Keys we
    write ourselves and read-only extras are ignored, so a package_show result can be sent back."""
    fields: dict[str, Any] = {}
    for key, ours in TOP_LEVEL_FIELDS.items():
        if key in values:
            fields[ours] = _value(values[key], key)
    for key in EXTRA_FIELDS:
        if key in values:
            fields[key] = _value(values[key], key)
    extras = values.get("extras")
    if extras not in (None, "", []):
        if isinstance(extras, str):
            extras = params.loads(extras, "extras")
        if not isinstance(extras, list):
            raise DomainError('Trường “extras” phải là danh sách dạng [{"key": …, "value": …}].', "extras")
        for position, extra in enumerate(extras):
            if not isinstance(extra, dict) or not isinstance(extra.get("key"), str):
                raise DomainError(f"Trường “extras”: mục thứ {position + 1} thiếu “key”.", f"extras.{position}")
            key = extra["key"]
            if key in READ_ONLY_EXTRAS:
                continue
            if key not in EXTRA_FIELDS:
                raise DomainError(
                    f"Trường “extras”: không nhận khóa “{key[:40]}”; chỉ nhận {', '.join(EXTRA_FIELDS)}.",
                    f"extras.{position}",
                )
            fields[key] = _value(extra.get("value"), f"extras.{position}")
    if "tags" in values:
        fields["tags"] = _names(values["tags"], "tags")
    elif "tag_string" in values:
        fields["tags"] = [tag.strip() for tag in _value(values["tag_string"], "tag_string").split(",") if tag.strip()]
    if "groups" in values:
        fields["themes"] = _theme_codes(_names(values["groups"], "groups"))
    return fields


def _refuse_new_resources(values: dict, dataset: Dataset | None = None) -> None:
    """Resources are files uploaded with resource_create; a package's `resources` may only repeat the
    ones it has (a package_show result sent back), never bring links."""
    resources = values.get("resources")
    if resources in (None, "", []):
        return
    known = {str(pk) for pk in dataset.resources.values_list("pk", flat=True)} if dataset else set()
    if not isinstance(resources, list) or any(
        not isinstance(item, dict) or str(item.get("id", "")) not in known for item in resources
    ):
        raise DomainError(
            "Cổng chỉ nhận tài nguyên là tệp: tải từng tệp lên bằng resource_create (trường upload), "
            "không khai báo tài nguyên mới hay liên kết trong “resources”.",
            "resources",
        )


def _owner(call: Call, user) -> Any:
    ref = _text(call, "owner_org")
    if not ref:
        own = list(Agency.objects.filter(memberships__user=user).distinct()[:2])
        if len(own) != 1:
            raise DomainError("Thiếu trường “owner_org” (mã cơ quan công bố).", "owner_org")
        return own[0]
    agency = Agency.objects.filter(code=ref).first()
    if agency is None and ref.isascii() and ref.isdigit() and len(ref) <= 10:
        agency = Agency.objects.filter(pk=int(ref)).first()
    if agency is None:
        raise DomainError(f"Không có cơ quan (owner_org) mã “{ref[:60]}”.", "owner_org")
    if agency.pk not in scope_agency_ids(user):
        raise PermissionDenied(f"Khóa API này không được công bố dữ liệu thay cho {agency.name}.", "owner_org")
    return agency


def _same_owner(call: Call, dataset: Dataset) -> None:
    ref = _text(call, "owner_org")
    if ref and ref not in (dataset.agency.code, str(dataset.agency_id)):
        raise DomainError("Không chuyển được bộ dữ liệu sang cơ quan khác qua API.", "owner_org")


@action("Tạo bộ dữ liệu, gửi lãnh đạo cơ quan duyệt (cần khóa API của cơ quan).", writes=True)
def package_create(call: Call) -> dict:
    """A new dataset of the token's agency, sent for its leader's approval (the officers' pages): it is
    public only once approved, so a token alone never publishes."""
    actor = call.actor()
    agency = _owner(call, actor)
    _refuse_new_resources(call.params)
    try:
        dataset = dataset_services.create_dataset(
            actor=actor, agency=agency, fields=dataset_fields(call.params), submit=True
        )
    except DomainError as error:
        raise _renamed(error) from None
    return _written(dataset)


def _updated(call: Call, *, partial: bool) -> dict:
    actor = call.actor()
    dataset = selectors.dataset_for(call.viewer, _required(call, "id"))
    _same_owner(call, dataset)
    _refuse_new_resources(call.params, dataset)
    fields = dataset_fields(call.params)
    if not partial:
        # A full replace keeps the dataset's address: CKAN requires `name` in package_update, a
        # client that leaves it out means the same dataset.
        fields.setdefault("name", dataset.name)
    try:
        dataset = dataset_services.update_dataset(dataset, actor=actor, fields=fields, partial=partial)
    except DomainError as error:
        raise _renamed(error) from None
    return _written(dataset)


@action("Sửa toàn bộ thông tin bộ dữ liệu; trường không gửi trở về mặc định (cần khóa API).", writes=True)
def package_update(call: Call) -> dict:
    """CKAN's full replace: a field left out returns to its default (resources stay: use resource_delete)."""
    return _updated(call, partial=False)


@action("Sửa một số trường của bộ dữ liệu, giữ các trường khác (cần khóa API).", writes=True)
def package_patch(call: Call) -> dict:
    return _updated(call, partial=True)


@action("Rút bộ dữ liệu khỏi công bố, giữ hồ sơ và lịch sử: id, reason (cần khóa API cấp quyền lãnh đạo).", writes=True)
def package_delete(call: Call) -> None:
    """CKAN's delete is our withdrawal: the record and its page stay (state "deleted"), its files go offline."""
    actor = call.actor()
    dataset = selectors.dataset_for(call.viewer, _required(call, "id"))
    reason = _text(call, "reason") or "Rút qua API CKAN (package_delete)."
    try:
        dataset_services.withdraw(dataset, actor=actor, reason=reason)
    except PermissionDenied:
        # The service's message speaks to a person; a system needs to know which key would do.
        raise PermissionDenied(WITHDRAW_NEEDS_LEADER_TOKEN, "id") from None
    return None


@action("Thêm tài nguyên: tải tệp lên trong trường upload (cần khóa API).", writes=True)
def resource_create(call: Call) -> dict:
    actor = call.actor()
    dataset = selectors.dataset_for(call.viewer, _required(call, "package_id"))
    upload = call.files.get("upload")
    if upload is None:
        if _text(call, "url"):
            raise DomainError(
                "Cổng chỉ nhận tài nguyên là tệp tải lên (trường upload, multipart/form-data), không nhận liên kết url.",
                "url",
            )
        raise DomainError("Thiếu tệp tải lên (trường upload, gửi dạng multipart/form-data).", "upload")
    given = _text(call, "format")
    try:
        resource = resource_services.add_resource(
            dataset,
            actor=actor,
            data=upload,
            name=_text(call, "name") or upload.name,
            description=_text(call, "description"),
            filename=upload.name,
            format=given or None,  # "csv" or "CSV": the service reads CKAN's spellings
        )
    except DomainError as error:
        raise _renamed(error) from None
    resource = Resource.objects.select_related("file", "dataset").get(pk=resource.pk)
    return resource_dict(resource, resource.dataset)


@action("Thay tệp (cùng định dạng), đổi tên, mô tả của tài nguyên (cần khóa API).", writes=True)
def resource_update(call: Call) -> dict:
    """A new file (upload, multipart) and/or a new name, description for the resource; its address and id
    stay. Unlike CKAN's full replace, a field left out keeps its value, and the keys a resource_show result
    carries (url, size, hash…) are ignored when sent back. A url that is not the resource's own address is
    refused: resources are files uploaded here. `format` may only repeat the resource's format."""
    actor = call.actor()
    resource = _resource(call)
    dataset = resource.dataset
    package = _text(call, "package_id")
    if package and package not in (str(dataset.pk), dataset.name):
        raise DomainError("Không chuyển được tài nguyên sang bộ dữ liệu khác qua API.", "package_id")
    upload = call.files.get("upload")
    url = _text(call, "url")
    if upload is None and url and url != download_url(dataset, resource):
        raise DomainError(
            "Cổng chỉ nhận tài nguyên là tệp tải lên (trường upload, multipart/form-data), không nhận liên kết url.",
            "url",
        )
    try:
        resource = resource_services.update_resource(
            resource,
            actor=actor,
            data=upload,
            filename=upload.name if upload is not None else "",
            name=_text(call, "name") if call.params.get("name") is not None else None,
            description=_text(call, "description") if call.params.get("description") is not None else None,
            format=_text(call, "format") or None,
        )
    except DomainError as error:
        raise _renamed(error) from None
    resource = Resource.objects.select_related("file", "dataset").get(pk=resource.pk)
    return resource_dict(resource, resource.dataset)


@action("Xóa một tài nguyên khỏi bộ dữ liệu (cần khóa API).", writes=True)
def resource_delete(call: Call) -> None:
    actor = call.actor()
    resource_services.delete_resource(_resource(call), actor=actor)
    return None
