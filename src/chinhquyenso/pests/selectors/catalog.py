"""Reads of the catalog and the stations for the officers' pages (views/catalog.py)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from chinhquyenso.pests import access
from chinhquyenso.pests.models import Organism, OrganismKind, Station, Threshold, TrapClass, TrapMessage
from chinhquyenso.pests.services.catalog import max_per_night
from chinhquyenso.pests.services.stations import STATUS_LABELS, status

GROUPS = (
    ("pests", "Côn trùng, ốc gây hại"),
    ("diseases", "Bệnh hại"),
    ("enemies", "Thiên địch"),
)


def organisms_by_group() -> list[tuple[str, str, list[Organism]]]:
    """The active organisms in three groups, each with its thresholds (prefetched)."""
    rows = list(
        Organism.objects.filter(active=True).prefetch_related(
            Prefetch("thresholds", queryset=Threshold.objects.select_related("crop")), "crops"
        )
    )
    groups = {"pests": [], "diseases": [], "enemies": []}
    for organism in rows:
        if organism.is_natural_enemy:
            groups["enemies"].append(organism)
        elif organism.kind == OrganismKind.DISEASE:
            groups["diseases"].append(organism)
        else:
            groups["pests"].append(organism)
    return [(key, title, groups[key]) for key, title in GROUPS]


def stage_name(threshold: Threshold) -> str:
    if not threshold.stage:
        return "Mọi giai đoạn"
    return next((s["name"] for s in threshold.crop.stages if s.get("code") == threshold.stage), threshold.stage)


def thresholds() -> list[Threshold]:
    rows = list(Threshold.objects.select_related("organism", "crop").filter(organism__active=True))
    for row in rows:
        row.stage_name = stage_name(row)
    return rows


def trap_classes() -> list[TrapClass]:
    rows = list(TrapClass.objects.select_related("organism"))
    for row in rows:
        row.bound = max_per_night(row)
    return rows


def organism(code: str) -> Organism | None:
    found = (
        Organism.objects.filter(code=code)
        .prefetch_related(Prefetch("thresholds", queryset=Threshold.objects.select_related("crop")), "crops")
        .first()
    )
    if found is not None:
        for threshold in found.thresholds.all():
            threshold.stage_name = stage_name(threshold)
    return found


def stations(user, *, now: dt.datetime | None = None) -> list[Station]:
    """The active stations the user sees (a commune officer: those of their communes), each with its
    status ("online", "silent", …), the label, and the number of flagged messages awaiting review."""
    now = now or timezone.now()
    rows = Station.objects.select_related("commune", "crop", "season").annotate(
        flagged=Count("messages", filter=Q(messages__status=TrapMessage.Status.FLAGGED))
    )
    communes = access.scope_communes(user)
    if communes is not None:
        rows = rows.filter(commune_id__in=communes)
    result = list(rows.order_by("commune__name", "code"))
    for station in result:
        station.status = status(station, now)
        station.status_label = STATUS_LABELS[station.status]
    return result
