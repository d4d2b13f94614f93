"""The DCAT-AP catalog (opendata.dcat): /catalog.{ttl,jsonld,rdf} and /dataset/<name>.{ttl,jsonld,rdf}."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
