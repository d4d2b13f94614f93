"""The catalog for officers (/can-bo/sau-benh/danh-muc/): organisms with their names, damage, natural
enemies and what to do; the action thresholds with their source; the light traps' classes; and the
stations with their status (online, silent since …). Read-only: the department edits the catalog in
the administration (pests/admin.py)."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.core.errors import NotFound
from chinhquyenso.pests import access
from chinhquyenso.pests.selectors import catalog as selectors

readers = officer_required(
    allowed=access.can_view,
    reason="Trang này dành cho cán bộ được giao theo dõi sinh vật gây hại cây trồng.",
)


@readers
def catalog(request):
    return render(
        request,
        "pests/catalog/index.html",
        {
            "groups": selectors.organisms_by_group(),
            "thresholds": selectors.thresholds(),
            "trap_classes": selectors.trap_classes(),
            "may_edit": access.can_manage_catalog(request.user),
            "current": "catalog",
        },
    )


@readers
def organism(request, code: str):
    found = selectors.organism(code)
    if found is None:
        raise NotFound("Không có sinh vật này trong danh mục.")
    return render(request, "pests/catalog/organism.html", {"organism": found, "current": "catalog"})


@readers
def stations(request):
    rows = selectors.stations(request.user)
    counts = {}
    for station in rows:
        counts[station.status] = counts.get(station.status, 0) + 1
    return render(
        request,
        "pests/catalog/stations.html",
        {
            "stations": rows,
            "counts": counts,
            "may_edit": access.can_manage_catalog(request.user),
            "current": "stations",
        },
    )


officer_urls = [
    path("danh-muc/", catalog, name="catalog"),
    path("danh-muc/<slug:code>/", organism, name="organism"),
    path("tram/", stations, name="stations"),
]
