import datetime as dt

from chinhquyenso.core.text import fold
from chinhquyenso.org.models import Agency, Succession


def current_successor(agency: Agency) -> Agency | None:
    """Follow the open-work successions from `agency` to the version valid today.
    Re-read first: a caller's instance may predate the reorganization that closed it."""
    agency = Agency.objects.filter(pk=agency.pk).first() if agency is not None else None
    seen = set()
    while agency is not None and not agency.is_current and agency.pk not in seen:
        seen.add(agency.pk)
        link = (
            Succession.objects.filter(source=agency, takes_open_work=True)
            .exclude(reorganization__kind="transfer_procedure")
            .select_related("successor")
            .last()
        )
        agency = link.successor if link else None
    return agency


def with_predecessors(ids: set[int]) -> set[int]:
    """`ids` plus every agency they succeeded, however many reorganizations back."""
    ids = set(ids)
    frontier = set(ids)
    while frontier:
        sources = set(Succession.objects.filter(successor_id__in=frontier).values_list("source_id", flat=True)) - ids
        ids |= sources
        frontier = sources
    return ids


def agencies_valid_on(day: dt.date):
    return Agency.objects.valid_on(day).select_related("parent")


def search_agencies(query: str, day: dt.date | None = None):
    qs = Agency.objects.valid_on(day) if day else Agency.objects.current()
    return qs.filter(name_folded__contains=fold(query)) if query else qs
