"""The most urgent first: dossiers past their due time and dossiers due
within the next working days, counted live (never cached) over the view's
agencies, with who holds them (the named specialist, else the agency) and at
which step. The page shows these counts above everything else.

"Due soon": being processed, due from now to the office's closing time
CQS["DASHBOARD_DUE_SOON_DAYS"] working days after today (2 by default)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from chinhquyenso.core.calendar import calendar_for, closing_time, local_date
from chinhquyenso.dashboard import selectors
from chinhquyenso.dossiers.models import Dossier, Status
from chinhquyenso.procedures.models import ProcessStep

GROUPS_SHOWN = 5
OVERDUE, DUE_SOON = "qua-han", "sap-den-han"


def due_soon_days() -> int:
    return int(selectors.setting("DASHBOARD_DUE_SOON_DAYS", 2))


def horizon(now: dt.datetime) -> dt.datetime:
    """The end of the due-soon window."""
    calendar = calendar_for(now, days_after=30)
    return closing_time(calendar.add_working_days(local_date(now), due_soon_days()))


def in_view(ctx: selectors.Context) -> QuerySet[Dossier]:
    """Dossiers being processed, received by the view's agencies (those the user may open here)."""
    if ctx.versions is None and not ctx.scope.whole_province:
        return Dossier.objects.none()
    rows = Dossier.objects.extra(where=[selectors.OPEN_INDEX_CONDITION]).filter(status=Status.IN_PROCESS)
    if ctx.versions is not None:
        rows = rows.filter(receiving_agency_id__in=ctx.versions)
    return rows


def due_soon_dossiers(
    ctx: selectors.Context, procedure_id: int | None = None, now: dt.datetime | None = None
) -> QuerySet[Dossier]:
    now = now or timezone.now()
    rows = in_view(ctx).filter(due_at__gte=now, due_at__lte=horizon(now))
    if procedure_id is not None:
        rows = rows.filter(procedure_id=procedure_id)
    return rows


@dataclass
class Group:
    """Overdue and due-soon dossiers held by one handler at one step."""

    handler: str  # the named specialist, else the agency holding the dossiers
    agency: str  # the agency holding them
    named: bool  # a specialist is named (handler is a person)
    step: str
    overdue: int
    due_soon: int


@dataclass
class Urgent:
    overdue: int
    due_soon: int
    days: int  # the due-soon window, in working days
    groups: list[Group]  # the GROUPS_SHOWN with most overdue
    group_count: int
    list_url: str  # the overdue list of the view ("?loai=sap-den-han": the due-soon list)


def list_url(ctx: selectors.Context) -> str:
    from django.urls import reverse

    if ctx.unit is None:
        return reverse("dashboard:overdue_all")
    return reverse("dashboard:overdue", args=[ctx.unit.code])


def urgent(ctx: selectors.Context, now: dt.datetime | None = None, shown: int = GROUPS_SHOWN) -> Urgent:
    """Counts and handlers, in one query grouped by handler and step."""
    now = now or timezone.now()
    step = ProcessStep.objects.filter(procedure=OuterRef("procedure_id"), order=OuterRef("current_step")).values(
        "name"
    )[:1]
    rows = (
        in_view(ctx)
        .filter(due_at__lte=horizon(now))
        .annotate(step_name=Subquery(step))
        .values("assignee_id", "assignee__full_name", "assignee__username", "current_agency__name", "step_name")
        .annotate(late=Count("id", filter=Q(due_at__lt=now)), soon=Count("id", filter=Q(due_at__gte=now)))
        .order_by()
    )
    groups = [
        Group(
            handler=(r["assignee__full_name"] or r["assignee__username"])
            if r["assignee_id"]
            else r["current_agency__name"],
            agency=r["current_agency__name"],
            named=bool(r["assignee_id"]),
            step=r["step_name"] or "—",
            overdue=r["late"],
            due_soon=r["soon"],
        )
        for r in rows
    ]
    groups.sort(key=lambda g: (-g.overdue, -g.due_soon, g.handler, g.step))
    return Urgent(
        overdue=sum(g.overdue for g in groups),
        due_soon=sum(g.due_soon for g in groups),
        days=due_soon_days(),
        groups=groups[:shown],
        group_count=len(groups),
        list_url=list_url(ctx),
    )
