"""The DCAT-AP catalog (opendata.dcat): /catalog.{ttl,jsonld,rdf} and /dataset/<name>.{ttl,jsonld,rdf}, plus the
URIs the catalog mints for datasets and distributions (/dataset/<name>, /dataset/<name>/resource/<id>), which
answer 303 to their description. Mounted at the site's root, where harvesters look for a catalog."""

from django.urls import path, re_path

from chinhquyenso.opendata import dcat_views

app_name = "dcat"

urlpatterns = [
    re_path(r"^catalog\.(?P<extension>ttl|jsonld|rdf)$", dcat_views.catalog, name="catalog"),
    re_path(
        r"^dataset/(?P<name>[-a-zA-Z0-9_]+)\.(?P<extension>ttl|jsonld|rdf)$",
        dcat_views.dataset_document,
        name="dataset_document",
    ),
    path("dataset/<slug:name>", dcat_views.dataset_uri, name="dataset"),
    path("dataset/<slug:name>/resource/<int:resource_id>", dcat_views.dataset_uri, name="distribution"),
]
