"""Officers' pages of the open-data portal (/can-bo/du-lieu-mo/): drafting, resources, approval."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
