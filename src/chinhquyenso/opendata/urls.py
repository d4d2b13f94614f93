"""Public pages of the open-data portal (/du-lieu-mo/): search with facets, dataset pages, publishing figures."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
