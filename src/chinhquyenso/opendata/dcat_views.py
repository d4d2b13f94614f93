"""The DCAT-AP catalog over HTTP (opendata.dcat builds it): /catalog.{ttl,jsonld,rdf}?page=N for harvesters,
/dataset/<name>.{ttl,jsonld,rdf} for one public dataset, and the dataset's and distribution's URIs
(/dataset/<name>, /dataset/<name>/resource/<id>), which answer 303 See Other to their description.

Harvesters come back on a schedule: every answer carries an ETag and Last-Modified, and a conditional GET
of an unchanged catalog is a 304 with no body, before any dataset is read."""

from __future__ import annotations

from calendar import timegm

from django.http import HttpResponse, HttpResponseRedirect
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from chinhquyenso.core import params
from chinhquyenso.core.errors import NotFound
from chinhquyenso.opendata import dcat

# Harvesters read the catalog every few hours; five minutes in a shared cache spares the database a burst.
CACHE_CONTROL = "public, max-age=300"


def _with_validators(response: HttpResponse, *, etag: str, last_modified) -> HttpResponse:
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(timegm(last_modified.utctimetuple()))
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _unchanged(request, *, etag: str, last_modified) -> HttpResponse | None:
    """The 304 (or 412) a conditional request gets when nothing changed, else None."""
    headers = _with_validators(HttpResponse(), etag=etag, last_modified=last_modified)
    stamp = timegm(last_modified.utctimetuple()) if last_modified is not None else None
    answer = get_conditional_response(request, etag=etag, last_modified=stamp, response=headers)
    return None if answer is headers else answer


def _rdf(body: bytes, extension: str, *, etag: str, last_modified) -> HttpResponse:
    _, content_type = dcat.FORMATS[extension]
    response = HttpResponse(body, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return _with_validators(response, etag=etag, last_modified=last_modified)


@require_safe
def catalog(request, extension: str):
    size = dcat.page_size()
    page = params.page(request.GET.get("page"), "page", size=size)
    addresses = dcat.Addresses(dcat.site_base(request))
    state = dcat.catalog_state()
    etag = state.etag("catalog", extension, page, size, addresses.base)
    unchanged = _unchanged(request, etag=etag, last_modified=state.last_modified)
    if unchanged is not None:
        return unchanged
    found = dcat.catalog_graph(addresses, page=page, extension=extension, state=state, size=size)
    return _rdf(dcat.serialize(found.graph, extension), extension, etag=etag, last_modified=state.last_modified)


def _dataset_validators(dataset, extension: str, base: str) -> tuple[str, object]:
    last_modified = max(filter(None, (dataset.modified_at, dataset.data_updated_at)))
    state = dcat.CatalogState(1, dataset.modified_at, dataset.data_updated_at, dataset.published_at)
    return state.etag("dataset", dataset.pk, dataset.revision, extension, base), last_modified


@require_safe
def dataset_document(request, name: str, extension: str):
    addresses = dcat.Addresses(dcat.site_base(request))
    dataset = dcat.public_dataset(name)
    etag, last_modified = _dataset_validators(dataset, extension, addresses.base)
    unchanged = _unchanged(request, etag=etag, last_modified=last_modified)
    if unchanged is not None:
        return unchanged
    graph = dcat.dataset_graph(addresses, dataset)
    return _rdf(dcat.serialize(graph, extension), extension, etag=etag, last_modified=last_modified)


# What an Accept header names → the description's extension; anything else (a browser) goes to the page.
ACCEPTED = (("text/turtle", "ttl"), ("application/ld+json", "jsonld"), ("application/rdf+xml", "rdf"))


def _negotiated(request) -> str | None:
    accept = request.headers.get("Accept", "")
    return next((extension for media_type, extension in ACCEPTED if media_type in accept), None)


@require_safe
def dataset_uri(request, name: str, resource_id: int | None = None):
    """The dataset's (or its distribution's) URI: 303 See Other to its RDF description for a client that
    asks for RDF, to the public page for anyone else (Linked Data's "httpRange-14" answer)."""
    addresses = dcat.Addresses(dcat.site_base(request))
    dataset = dcat.public_dataset(name)
    if resource_id is not None and not any(resource.pk == resource_id for resource in dataset.resources.all()):
        raise NotFound("Không tìm thấy tài nguyên này.")
    extension = _negotiated(request)
    target = addresses.dataset_document(dataset, extension) if extension else addresses.landing_page(dataset)
    response = HttpResponseRedirect(target, status=303)
    patch_vary_headers(response, ["Accept"])
    response["Cache-Control"] = CACHE_CONTROL
    return response
