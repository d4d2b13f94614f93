"""Reads of dossiers, always scoped by the acting user.

Officers see dossiers received by, held by, or passed through their
agencies (and the agencies those succeeded after a reorganization); citizens
see their own; the province administrator and auditors see all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from chinhquyenso.accounts.access import scope_agency_ids
from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.accounts.selectors import agency_ids, has_role, is_read_only, sees_whole_province
from chinhquyenso.core.calendar import WorkingCalendar, calendar_for, closing_time, local_date
from chinhquyenso.core.errors import NotFound
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.dossiers.folding import Folded
from chinhquyenso.dossiers.models import (
    OPEN_STATUSES,
    Dossier,
    DossierComponent,
    DossierEvent,
    EDataItem,
    ElectronicResult,
    Status,
)
from chinhquyenso.procedures.models import ProcessStep

# Earliest due date first; not-yet-accepted dossiers (no due date) last on every database.
URGENT_FIRST = (F("due_at").asc(nulls_last=True), "id")


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
    return Dossier.objects.filter(
        Q(receiving_agency_id__in=ids) | Q(current_agency_id__in=ids) | Exists(passed_through)
    )


def may_read_file(user, stored) -> bool:
    """Whether `user` may read a stored file they did not upload themselves: a component (or the
    document it reused) or a result of a dossier they see, or a document of their e-data store."""
    seen = visible_dossiers(user)
    return (
        DossierComponent.objects.filter(Q(file=stored) | Q(reused_from__file=stored), dossier__in=seen).exists()
        or ElectronicResult.objects.filter(file=stored, dossier__in=seen).exists()
        or EDataItem.objects.filter(file=stored, owner=user).exists()
    )


def get_dossier(user, code: str) -> Dossier:
    """The dossier if this user may see it; otherwise 'not found' (never reveal that it exists)."""
    dossier = (
        visible_dossiers(user)
        .filter(code=code)
        .select_related("procedure", "procedure__field", "receiving_agency", "current_agency", "assignee")
        .first()
    )
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ với mã này.", "code")
    return dossier


def inbox(
    user,
    *,
    agency_id: int | None = None,
    status: str | None = None,
    overdue_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> QuerySet[Dossier]:
    """Open dossiers waiting in the officer's agencies, most urgent first;
    those not yet accepted (no due date) come last on every database."""
    qs = _inbox_base(user, agency_id=agency_id)
    if status:
        qs = qs.filter(status=status)
    if overdue_only:
        qs = qs.filter(status=Status.IN_PROCESS, due_at__lt=timezone.now())
    return (
        qs.select_related("procedure")
        .only(
            "code",
            "status",
            "due_at",
            "submitted_at",
            "applicant_name",
            "channel",
            "current_step",
            "rescheduled",
            "procedure__code",
            "procedure__name",
        )
        .order_by(*URGENT_FIRST)[offset : offset + limit]
    )


def own_dossiers(citizen, *, limit: int = 50, offset: int = 0) -> QuerySet[Dossier]:
    """A citizen's own dossiers, newest first."""
    return (
        visible_dossiers(citizen).select_related("procedure").order_by("-submitted_at", "-id")[offset : offset + limit]
    )


def open_state(dossier: Dossier, now: dt.datetime | None = None) -> str:
    """For open dossiers: 'in_time' or 'overdue' (paused dossiers wait for the citizen)."""
    if dossier.status != Status.IN_PROCESS or dossier.due_at is None:
        return "in_time"
    return "overdue" if (now or timezone.now()) > dossier.due_at else "in_time"


def timeline(dossier: Dossier):
    return dossier.events.select_related("from_agency", "to_agency", "actor").order_by("at", "id")


def appointment(dossier: Dossier) -> tuple[dt.datetime, bool]:
    """The date to tell the citizen, and whether it is only an estimate: a
    dossier not yet accepted has no due date, so it shows the date it would
    have if accepted now (or when submitted, if later)."""
    if dossier.due_at:
        return dossier.due_at, False
    start = max(dossier.submitted_at, timezone.now())
    return calendar_for(start).due_at(start, dossier.procedure.processing_days), True


# ---------------------------------------------------------------- officers' inbox

INBOX_TABS = {
    "viec-cua-toi": "Việc của tôi",
    "cho-tiep-nhan": "Chờ tiếp nhận",
    "dang-giai-quyet": "Đang giải quyết",
    "qua-han": "Quá hạn",
    "cho-bo-sung": "Chờ công dân bổ sung",
    "cho-tra": "Chờ trả kết quả",
    "giao-cho-toi": "Giao cho tôi",
}


def _my_work(user) -> Q:
    """Dossiers the officer can act on now, by their roles in each agency: the
    counter receives and returns; the step's role processes."""
    condition = Q(pk__in=[])
    roles_by_agency: dict[int, set[str]] = {}
    for agency_id, role in Membership.objects.filter(user=user).values_list("agency_id", "role"):
        roles_by_agency.setdefault(agency_id, set()).add(role)
    for agency_id, roles in roles_by_agency.items():
        if Role.COUNTER_OFFICER in roles:
            condition |= Q(current_agency_id=agency_id, status__in=[Status.SUBMITTED, Status.RESULT_READY])
        step_is_mine = Exists(
            ProcessStep.objects.filter(procedure=OuterRef("procedure"), order=OuterRef("current_step"), role__in=roles)
        )
        no_steps = Q(current_step=0) if roles & {Role.SPECIALIST, Role.LEADER} else Q(pk__in=[])
        condition |= Q(current_agency_id=agency_id, status=Status.IN_PROCESS) & (step_is_mine | no_steps)
    return condition


def _tab_conditions(user, now: dt.datetime) -> dict[str, Q]:
    return {
        "viec-cua-toi": _my_work(user),
        "cho-tiep-nhan": Q(status=Status.SUBMITTED),
        "dang-giai-quyet": Q(status=Status.IN_PROCESS),
        "qua-han": Q(status=Status.IN_PROCESS, due_at__lt=now),
        "cho-bo-sung": Q(status__in=[Status.SUPPLEMENT_REQUESTED, Status.PAUSED]),
        "cho-tra": Q(status=Status.RESULT_READY),
        "giao-cho-toi": Q(assignee=user),
    }


def _inbox_base(
    user, *, procedure_code: str = "", channel: str = "", agency_id: int | None = None
) -> QuerySet[Dossier]:
    ids = agency_ids(user)
    if agency_id is not None:
        ids = ids & {agency_id}
    qs = Dossier.objects.filter(current_agency_id__in=ids, status__in=OPEN_STATUSES)
    if procedure_code:
        qs = qs.filter(procedure__code=procedure_code)
    if channel:
        qs = qs.filter(channel=channel)
    return qs


def inbox_tab(
    user, tab: str, *, limit: int = 50, offset: int = 0, now: dt.datetime | None = None, **filters
) -> QuerySet[Dossier]:
    """One tab of the inbox, most urgent first (not-yet-accepted last)."""
    condition = _tab_conditions(user, now or timezone.now())[tab]
    return (
        _inbox_base(user, **filters)
        .filter(condition)
        .select_related("procedure", "current_agency", "assignee")
        .order_by(*URGENT_FIRST)[offset : offset + limit]
    )


def inbox_counts(user, *, now: dt.datetime | None = None, **filters) -> dict[str, int]:
    """How many dossiers each tab holds, in one query."""
    conditions = _tab_conditions(user, now or timezone.now())
    return _inbox_base(user, **filters).aggregate(**{tab: Count("pk", filter=q) for tab, q in conditions.items()})


# ---------------------------------------------------------------- inbox search


def _search_condition(text: str) -> Q | None:
    """What one search box means: 9 or 12 digits, an ID number (CMND, CCCD), matched exactly;
    anything else with a digit, part of a dossier code; words, the applicant's name without
    regard to diacritics or case, each word the start of a word of the name. None: nothing to find."""
    compact = text.replace(" ", "").replace(".", "")
    if compact.isascii() and compact.isdigit() and len(compact) in (9, 12):
        return Q(applicant_identity=compact)
    if any(ch.isdigit() for ch in text):
        return Q(code__icontains=text.replace(" ", ""))
    words = fold(text).split()[:6]
    if not words:
        return None
    condition = Q()
    for word in words:
        condition &= Q(applicant_name_folded__startswith=word) | Q(applicant_name_folded__contains=f" {word}")
    return condition


def search_dossiers(user, text: str, *, limit: int = 50, offset: int = 0) -> QuerySet[Dossier]:
    """The dossiers this officer may see (`visible_dossiers`: any status, their agencies and those
    they succeeded) matching a search box: a code, an applicant's name typed with or without
    diacritics, or an ID number. Newest first."""
    condition = _search_condition(nfc(text)[:100])
    if condition is None:
        return Dossier.objects.none()
    return (
        visible_dossiers(user)
        .annotate(applicant_name_folded=Folded("applicant_name"))
        .filter(condition)
        .select_related("procedure", "current_agency", "assignee")
        .order_by("-submitted_at", "-id")[offset : offset + limit]
    )


def specialists(agency_ids) -> QuerySet:
    """Active specialists (chuyên viên thụ lý) of these agencies, with the agency they are named for."""
    return (
        Membership.objects.filter(agency_id__in=list(agency_ids), role=Role.SPECIALIST, user__is_active=True)
        .select_related("user", "agency")
        .order_by("agency__name", "user__full_name", "user__username")
    )


def dossier_file(dossier: Dossier, sha256: str):
    """A file of this dossier (a component's, a reused document's, its electronic result), or None."""
    component = (
        dossier.components.filter(Q(file__sha256=sha256) | Q(reused_from__file__sha256=sha256))
        .select_related("file", "reused_from__file")
        .first()
    )
    if component is not None:
        return component.file if component.file and component.file.sha256 == sha256 else component.reused_from.file
    result = ElectronicResult.objects.filter(dossier=dossier, file__sha256=sha256).select_related("file").first()
    return result.file if result else None


def time_left(dossier: Dossier, calendar: WorkingCalendar, now: dt.datetime) -> tuple[str, str]:
    """(css class, label): in time, due within one working day, overdue.
    The label is empty when the clock is not running (not yet accepted,
    waiting for the citizen, result ready, closed): the status already says
    why, and a second wording of it beside the status reads as two statuses."""
    if dossier.status in (Status.SUBMITTED, Status.PAUSED, Status.SUPPLEMENT_REQUESTED):
        return "waiting", ""
    if dossier.status != Status.IN_PROCESS or dossier.due_at is None:
        return "in_time", ""
    if now > dossier.due_at:
        return "overdue", "Quá hạn"
    if dossier.due_at <= closing_time(calendar.next_working_day(local_date(now))):
        return "due_soon", "Sắp đến hạn"
    return "in_time", "Trong hạn"


def inbox_calendar(now: dt.datetime) -> WorkingCalendar:
    return calendar_for(now, days_after=30)


def available_actions(user, dossier: Dossier) -> list[str]:
    """The actions this officer may take on this dossier now (the services
    check again; this only decides which buttons to show)."""
    from chinhquyenso.dossiers.services import attach_result_roles, counter_agency_id, step_roles

    if getattr(user, "is_citizen", False) or is_read_only(user):
        return []
    counter = has_role(user, counter_agency_id(dossier), Role.COUNTER_OFFICER)
    holder_roles = {role for role in Role.values if has_role(user, dossier.current_agency_id, role)}
    actions = []
    if dossier.status == Status.SUBMITTED and counter:
        actions += ["accept", "request_supplement", "refuse"]
    if dossier.status == Status.SUPPLEMENT_REQUESTED and counter:
        actions += ["supplement", "refuse"]
    if dossier.status == Status.PAUSED and counter:
        actions += ["supplement"]
    if dossier.status == Status.IN_PROCESS:
        if holder_roles & set(step_roles(dossier)):
            actions.append("forward")
        if holder_roles & {Role.SPECIALIST, Role.LEADER}:
            actions += ["request_supplement", "reschedule"]
    if (
        dossier.status in (Status.IN_PROCESS, Status.RESULT_READY)
        and not hasattr(dossier, "electronic_result")
        and holder_roles & set(attach_result_roles(dossier))
    ):
        actions.append("attach_result")
    if dossier.status == Status.PAUSED and holder_roles & {Role.SPECIALIST, Role.LEADER} and not dossier.rescheduled:
        actions.append("reschedule")
    if dossier.status in (Status.IN_PROCESS, Status.PAUSED) and Role.LEADER in holder_roles:
        actions.append("assign")
    if dossier.status == Status.RESULT_READY and counter:
        if dossier.fee_paid < dossier.fee_due:
            actions.append("record_payment")
        actions.append("return_result")
    if dossier.is_open and holder_roles & {Role.COUNTER_OFFICER, Role.SPECIALIST}:
        actions.append("digitize")
    if "reschedule" in actions and dossier.rescheduled:
        actions.remove("reschedule")
    return list(dict.fromkeys(actions))


# ---------------------------------------------------------------- liên thông (interconnected applications)


@dataclass
class PartView:
    """One part of an interconnected application as the citizen and the officer read it."""

    part: object
    dossier: Dossier
    system: str
    due_at: dt.datetime | None
    estimated: bool
    overdue: bool
    waits_for: list[str]


def _planned(parts, now: dt.datetime, start: dt.datetime) -> dict[int, tuple[dt.datetime | None, bool]]:
    """Each part's deadline: its own where it has started (counted from when it was sent, or
    accepted here), else planned — its procedure's processing time counted from when the parts it
    waits for are due (the chain along `after`), from now at the earliest."""
    by_code = {p.procedure_code: p for p in parts}
    plan: dict[int, tuple[dt.datetime | None, bool]] = {}

    def due(part, depth=0):
        if part.pk in plan:
            return plan[part.pk][0]
        actual = part.due_at or part.dossier.due_at
        if actual or depth > len(parts):
            plan[part.pk] = (actual, False)
            return actual
        begin = max(start, now)
        for code in part.after:
            if code in by_code and by_code[code] is not part:
                before = by_code[code].finished_at or due(by_code[code], depth + 1)
                if before:
                    begin = max(begin, before)
        planned = calendar_for(begin).due_at(begin, part.dossier.procedure.processing_days)
        plan[part.pk] = (planned, True)
        return planned

    for part in parts:
        due(part)
    return plan


def application_parts(application, user=None, *, now: dt.datetime | None = None) -> list[PartView]:
    """The application's parts, with deadlines (planned where not started) and overdue flags; for
    `user`, only the parts whose dossiers they may see (an officer of another agency sees none)."""
    from chinhquyenso.dossiers.interconnect import system_name
    from chinhquyenso.dossiers.models import PART_FINAL

    now = now or timezone.now()
    parts = list(
        application.parts.select_related(
            "dossier", "dossier__procedure", "dossier__receiving_agency", "dossier__current_agency"
        ).order_by("order")
    )
    plan = _planned(parts, now, application.submitted_at)
    names = {p.procedure_code: p.dossier.procedure.name for p in parts}
    seen = (
        None
        if user is None
        else set(visible_dossiers(user).filter(group_code=application.code).values_list("pk", flat=True))
    )
    views = []
    for part in parts:
        if seen is not None and part.dossier_id not in seen:
            continue
        due_at, estimated = plan.get(part.pk, (None, True))
        finished = part.status in PART_FINAL or part.dossier.finished_at
        views.append(
            PartView(
                part=part,
                dossier=part.dossier,
                system=system_name(part.connector) if part.connector else part.dossier.current_agency.name,
                due_at=due_at,
                estimated=estimated,
                overdue=bool(due_at and not finished and due_at < now),
                waits_for=[names[c] for c in part.after if c in names],
            )
        )
    return views


def application_due(views: list[PartView]) -> tuple[dt.datetime | None, bool]:
    """The whole application's deadline: the latest of its parts' (the chain's end), and whether
    it is only planned."""
    dated = [v for v in views if v.due_at]
    if not dated:
        return None, True
    last = max(dated, key=lambda v: v.due_at)
    return last.due_at, any(v.estimated for v in dated)


def own_application(user, code: str):
    """The citizen's own interconnected application by its code (None: not theirs or none)."""
    from chinhquyenso.dossiers.models import GroupApplication

    if not getattr(user, "pk", None):
        return None
    return GroupApplication.objects.select_related("group").filter(code=code, applicant=user).first()


def application_of(dossier: Dossier):
    """The interconnected application a dossier belongs to, if any."""
    from chinhquyenso.dossiers.models import GroupPart

    part = GroupPart.objects.select_related("application").filter(dossier=dossier).first()
    return part.application if part is not None else None


def own_applications(user, limit: int = 50):
    from chinhquyenso.dossiers.models import GroupApplication

    return GroupApplication.objects.select_related("group").filter(applicant=user).order_by("-submitted_at")[:limit]


def result_by_verification_code(code: str) -> ElectronicResult | None:
    """The electronic result a QR link names (the public authenticity page), with what the page shows
    and nothing about whom it concerns; None for an unknown code."""
    return (
        ElectronicResult.objects.filter(verification_code=code)
        .select_related("file", "agency", "dossier__procedure", "dossier__current_agency")
        .only(
            "number",
            "issued_at",
            "verification_code",
            "signed",
            "signature_status",
            "signed_at",
            "file__file",
            "file__content_type",
            "agency__name",
            "dossier__code",
            "dossier__procedure__name",
            "dossier__procedure__result_name",
            "dossier__current_agency__name",
        )
        .first()
    )
