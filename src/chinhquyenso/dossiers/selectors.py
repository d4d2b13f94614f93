"""Reads of dossiers, always scoped by the acting user.

Officers see dossiers received by, held by, or passed through their
agencies (and the agencies those succeeded after a reorganization); citizens
see their own; the province administrator and auditors see all."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from chinhquyenso.accounts.selectors import agency_ids, sees_whole_province
from chinhquyenso.core.errors import NotFound
from chinhquyenso.dossiers.models import OPEN_STATUSES, Dossier, DossierEvent, Status
from chinhquyenso.org.models import Succession


def scope_agency_ids(user) -> set[int]:
    """The officer's agencies plus every agency they succeeded."""
    ids = agency_ids(user)
    frontier = set(ids)
    while frontier:
        predecessors = set(Succession.objects.filter(successor_id__in=frontier).values_list("source_id", flat=True)) - ids
        ids |= predecessors
        frontier = predecessors
    return ids


def visible_dossiers(user) -> QuerySet[Dossier]:
    if not getattr(user, "pk", None):
        return Dossier.objects.none()
    if getattr(user, "is_citizen", False):
        return Dossier.objects.filter(applicant=user)
    if sees_whole_province(user):
        return Dossier.objects.all()
    ids = scope_agency_ids(user)
    if not ids:
        return Dossier.objects.none()
    passed_through = DossierEvent.objects.filter(dossier=OuterRef("pk"), to_agency_id__in=ids)
    return Dossier.objects.filter(Q(receiving_agency_id__in=ids) | Q(current_agency_id__in=ids) | Exists(passed_through))


def get_dossier(user, code: str) -> Dossier:
    """The dossier if this user may see it; otherwise 'not found' (never reveal that it exists)."""
    dossier = (visible_dossiers(user).filter(code=code)
               .select_related("procedure", "procedure__field", "receiving_agency", "current_agency").first())
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ với mã này.", "code")
    return dossier


def inbox(user, *, agency_id: int | None = None, status: str | None = None, overdue_only: bool = False,
          limit: int = 50, offset: int = 0) -> QuerySet[Dossier]:
    """Open dossiers waiting in the officer's agencies, most urgent first;
    those not yet accepted (no due date) come last on every database."""
    ids = agency_ids(user)
    if agency_id is not None:
        ids = ids & {agency_id}
    qs = Dossier.objects.filter(current_agency_id__in=ids, status__in=OPEN_STATUSES)
    if status:
        qs = qs.filter(status=status)
    if overdue_only:
        qs = qs.filter(status=Status.IN_PROCESS, due_at__lt=timezone.now())
    return (qs.select_related("procedure").only(
        "code", "status", "due_at", "submitted_at", "applicant_name", "channel", "current_step", "rescheduled",
        "procedure__code", "procedure__name").order_by(F("due_at").asc(nulls_last=True), "id")[offset:offset + limit])


def own_dossiers(citizen, *, limit: int = 50, offset: int = 0) -> QuerySet[Dossier]:
    """A citizen's own dossiers, newest first."""
    return visible_dossiers(citizen).select_related("procedure").order_by("-submitted_at", "-id")[offset:offset + limit]


def open_state(dossier: Dossier, now: dt.datetime | None = None) -> str:
    """For open dossiers: 'in_time' or 'overdue' (paused dossiers wait for the citizen)."""
    if dossier.status != Status.IN_PROCESS or dossier.due_at is None:
        return "in_time"
    return "overdue" if (now or timezone.now()) > dossier.due_at else "in_time"


def timeline(dossier: Dossier):
    return dossier.events.select_related("from_agency", "to_agency", "actor").order_by("at", "id")
