"""The CKAN Action API (opendata.ckan) at /api/3/action/<name> and /api/action/<name>: one view, the
action named in the address (opendata.ckan.ACTIONS)."""

from django.urls import path

from chinhquyenso.opendata import ckan_views

urlpatterns = [path("<str:name>", ckan_views.action)]
