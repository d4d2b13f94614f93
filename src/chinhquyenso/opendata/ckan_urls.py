"""The CKAN Action API (opendata.ckan) at /api/3/action/<name> and /api/action/<name>."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
