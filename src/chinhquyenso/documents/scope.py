"""Which agencies' documents an account sees: the one rule every documents read applies (the
selectors, the search, the pages through them)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from chinhquyenso.accounts.access import scope_agency_ids
from chinhquyenso.accounts.selectors import sees_whole_province
from chinhquyenso.documents.models import Assignment


def scope_of(user) -> set[int] | None:
    """The agencies whose documents `user` sees: their agencies and those they succeeded; None
    for the province administrator and auditors, who see every agency's. A citizen or an anonymous
    caller sees none."""
    if not getattr(user, "pk", None) or getattr(user, "is_citizen", True):
        return set()
    if sees_whole_province(user):
        return None
    return scope_agency_ids(user)


def visible(user) -> Q | None:
    """The documents `user` sees, as a filter (None: all of them): their agencies' own documents, and
    those assigned to one of their agencies or to them — a parent agency's incoming document given to a
    unit under it, or to one person, must open for whoever handles it. A cancelled assignment opens
    nothing. documents.search states the same rule in SQL (`_scope_sql`)."""
    agencies = scope_of(user)
    if agencies is None:
        return None
    handling = Assignment.objects.filter(document=OuterRef("pk")).exclude(status=Assignment.Status.CANCELLED)
    handling = handling.filter(Q(agency_id__in=agencies) | Q(user_id=user.pk)) if agencies else handling.none()
    return Q(agency_id__in=agencies) | Q(Exists(handling))
