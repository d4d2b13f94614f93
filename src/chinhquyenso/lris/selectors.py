"""Reads of LRIS, scoped by the acting user: an officer sees the reports of
their agencies (and of the agencies theirs succeeded); the province
administrator and auditors see every agency's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.utils import timezone

from chinhquyenso.accounts.access import scope_agency_ids
from chinhquyenso.accounts.selectors import is_province_admin, is_read_only, sees_whole_province
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import NotFound
from chinhquyenso.core.text import format_number
from chinhquyenso.exchange.models import Message
from chinhquyenso.exchange.selectors import notices_for
from chinhquyenso.indicators.periods import period_of_dates
from chinhquyenso.lris.models import (
    AWAITING_REVIEW,
    REPORTED,
    FormAssignment,
    ReportForm,
    Status,
    Submission,
    SubmissionEvent,
    ValueChange,
)
from chinhquyenso.lris.validation import Clean, bounds, display, number_text
from chinhquyenso.org.models import Agency, AgencyKind

# ---------------------------------------------------------------- who may do what


def can_view(user, assignment: FormAssignment) -> bool:
    return (
        bool(getattr(user, "pk", None))
        and not user.is_citizen
        and (sees_whole_province(user) or assignment.agency_id in scope_agency_ids(user))
    )


def can_edit(user, assignment: FormAssignment) -> bool:
    """Officers (any role) of the reporting agency or of its successor."""
    return (
        bool(getattr(user, "pk", None))
        and not user.is_citizen
        and not is_read_only(user)
        and assignment.agency_id in scope_agency_ids(user)
    )


def can_review(user) -> bool:
    return bool(getattr(user, "pk", None)) and is_province_admin(user)


def sees_compliance(user) -> bool:
    return bool(getattr(user, "pk", None)) and (sees_whole_province(user) or is_province_admin(user))


# ---------------------------------------------------------------- assignments


def visible_assignments(user) -> QuerySet[FormAssignment]:
    base = FormAssignment.objects.select_related("form", "agency", "submission")
    if not getattr(user, "pk", None) or user.is_citizen:
        return base.none()
    if sees_whole_province(user) or is_province_admin(user):
        return base
    return base.filter(agency_id__in=scope_agency_ids(user))


def get_assignment(user, assignment_id) -> FormAssignment:
    """The assignment if this user may see it; otherwise 'not found'."""
    try:
        assignment_id = int(assignment_id)
    except (TypeError, ValueError):
        raise NotFound("Không tìm thấy báo cáo được giao.", "assignment") from None
    assignment = visible_assignments(user).filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFound("Không tìm thấy báo cáo được giao.", "assignment")
    return assignment


def submission_of(assignment: FormAssignment) -> Submission | None:
    try:
        return assignment.submission
    except Submission.DoesNotExist:
        return None


@dataclass(frozen=True)
class State:
    key: str  # not_started, draft, returned, submitted, resubmitted, approved
    label: str
    css: str  # site.css badge class
    overdue: bool  # past the deadline and not reported (nothing sent, or returned and not sent again)
    late: bool = False  # first sent after the deadline day


# The one wording of a report's state, used by the agency's list, the report page, the review queue,
# the compliance page and the API. The deadline is a day: sending on that day is on time.
NOT_STARTED_LABEL = "Chưa nhập"
OVERDUE_LABELS = {
    "not_started": "Quá hạn, chưa nộp",
    Status.DRAFT: "Quá hạn, đang nhập, chưa gửi",
    Status.RETURNED: "Quá hạn, bị trả lại, chưa gửi lại",
}
LATE_LABELS = {
    Status.SUBMITTED: "Nộp trễ, chờ duyệt",
    Status.RESUBMITTED: "Nộp trễ, đã gửi lại, chờ duyệt",
    Status.APPROVED: "Nộp trễ, đã duyệt",
    Status.RETURNED: "Nộp trễ, bị trả lại, cần sửa",
}


def state_of(assignment: FormAssignment, today: dt.date | None = None) -> State:
    """The state of one report at `today` (default: today in Vietnam): its
    status, whether it is overdue (not reported and the deadline has passed:
    "Quá hạn, chưa nộp") and whether it was sent late (first sent after the
    deadline: "Nộp trễ"); a return by the province does not make a report
    sent on time late."""
    today = today or local_date(timezone.now())
    submission = submission_of(assignment)
    status = submission.status if submission else "not_started"
    first_sent = submission.first_submitted_at if submission else None
    late = first_sent is not None and local_date(first_sent) > assignment.deadline
    overdue = status not in REPORTED and assignment.deadline < today
    if overdue:
        label = OVERDUE_LABELS[status]
        if late and status == Status.RETURNED:
            label = "Quá hạn, nộp trễ, bị trả lại, chưa gửi lại"
        return State(status, label, "overdue", True, late)
    if late:  # sent, but after the deadline: shown in the warning colour
        return State(
            status, LATE_LABELS.get(status, f"Nộp trễ, {Status(status).label.lower()}"), "due_soon", False, True
        )
    label = NOT_STARTED_LABEL if status == "not_started" else Status(status).label
    css = {"approved": "in_time", "submitted": "waiting", "resubmitted": "waiting"}.get(status, "")
    if not css:
        css = "due_soon" if (assignment.deadline - today).days <= 2 else "waiting"
    return State(status, label, css, False, False)


GROUPS = [
    ("to_do", "Cần nhập và gửi", ("not_started", "draft")),
    ("returned", "Bị trả lại, cần sửa", ("returned",)),
    ("waiting", "Đã gửi, chờ tỉnh duyệt", ("submitted", "resubmitted")),
    ("approved", "Đã duyệt", ("approved",)),
]


@dataclass
class Row:
    assignment: FormAssignment
    state: State
    period_label: str


def assignment_rows(
    user,
    *,
    today: dt.date | None = None,
    form: ReportForm | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    limit: int = 300,
) -> list[Row]:
    today = today or local_date(timezone.now())
    query = visible_assignments(user)
    if form is not None:
        query = query.filter(form=form)
    if period is not None:
        query = query.filter(period_start=period[0], period_end=period[1])
    return [Row(a, state_of(a, today), a.period.label) for a in query.order_by("deadline", "agency__name")[:limit]]


def grouped(rows: list[Row]) -> list[tuple[str, str, list[Row]]]:
    return [(key, label, [r for r in rows if r.state.key in states]) for key, label, states in GROUPS]


def review_queue(user) -> QuerySet[FormAssignment]:
    """Reports sent and waiting for the province, oldest first."""
    if not can_review(user) and not sees_whole_province(user):
        return FormAssignment.objects.none()
    return (
        visible_assignments(user)
        .filter(submission__status__in=AWAITING_REVIEW)
        .order_by("submission__submitted_at", "id")
    )


def review_rows(user, *, today: dt.date | None = None, limit: int = 200) -> list[Row]:
    """The review queue with each report's state ("Nộp trễ, chờ duyệt" when first sent after the deadline)."""
    today = today or local_date(timezone.now())
    return [Row(a, state_of(a, today), a.period.label) for a in review_queue(user)[:limit]]


def notices(user, limit: int = 20) -> list[Message]:
    """Reminders still worth showing: the report has not been sent since."""
    shown = notices_for(user, kind_prefix="lris.", limit=limit * 2)
    waiting = set(
        FormAssignment.objects.filter(pk__in=[int(n.source_id) for n in shown])
        .exclude(submission__status__in=REPORTED)
        .values_list("pk", flat=True)
    )
    return [n for n in shown if int(n.source_id) in waiting][:limit]


# ---------------------------------------------------------------- one report


@dataclass
class ItemView:
    item: object
    indicator: object
    clean: Clean | None
    shown: str
    low: Decimal | None
    high: Decimal | None
    range_text: str


def _range_text(indicator, low, high) -> str:
    suffix = "%" if indicator.is_ratio or indicator.unit == "%" else ""
    if low is not None and high is not None:
        return f"từ {number_text(low)}{suffix} đến {number_text(high)}{suffix}"
    if low is not None:
        return f"từ {number_text(low)}{suffix} trở lên"
    if high is not None:
        return f"không quá {number_text(high)}{suffix}"
    return ""


def items_with_values(assignment: FormAssignment) -> list[ItemView]:
    submission = submission_of(assignment)
    values = {v.indicator_id: v for v in submission.values.all()} if submission else {}
    views = []
    for item in assignment.form.items.select_related("indicator", "indicator__part_of"):
        row = values.get(item.indicator_id)
        clean = Clean(row.value, row.numerator, row.denominator, row.raw) if row else None
        low, high = bounds(item)
        views.append(
            ItemView(
                item,
                item.indicator,
                clean,
                display(item.indicator, clean),
                low,
                high,
                _range_text(item.indicator, low, high),
            )
        )
    return views


@dataclass
class HistoryLine:
    at: dt.datetime
    who: str
    what: str
    detail: str


def history(assignment: FormAssignment) -> list[HistoryLine]:
    """Every change of every value and every step of the workflow, oldest first."""
    submission = submission_of(assignment)
    if submission is None:
        return []
    lines = []
    for change in ValueChange.objects.filter(submission=submission).select_related("indicator", "actor"):
        indicator = change.indicator
        old = display(indicator, Clean(change.old_value, change.old_numerator, change.old_denominator))
        new = display(indicator, Clean(change.new_value, change.new_numerator, change.new_denominator))
        if change.why in (ValueChange.Why.ENTERED, ValueChange.Why.UPLOADED, ValueChange.Why.API):
            detail = f"{indicator.code}: {old or '(trống)'} → {new or '(trống)'}"
            if change.new_raw and change.new_raw != new:
                detail += f" (đã nhập «{change.new_raw}»)"
        else:
            detail = f"{indicator.code}: {new or '(trống)'}"
        lines.append(
            HistoryLine(
                change.at, change.actor.display_name if change.actor else "hệ thống", change.get_why_display(), detail
            )
        )
    for event in SubmissionEvent.objects.filter(submission=submission).select_related("actor"):
        lines.append(
            HistoryLine(
                event.at,
                event.actor.display_name if event.actor else "hệ thống",
                event.get_action_display(),
                event.note,
            )
        )
    return sorted(lines, key=lambda line: line.at)


def value_changes(assignment: FormAssignment) -> QuerySet[ValueChange]:
    submission = submission_of(assignment)
    if submission is None:
        return ValueChange.objects.none()
    return ValueChange.objects.filter(submission=submission).select_related("indicator", "actor")


# ---------------------------------------------------------------- compliance


@dataclass(frozen=True)
class MissingAgency:
    agency_id: int
    agency_code: str
    agency_name: str
    assignment_id: int
    deadline: dt.date
    status: str
    status_label: str


@dataclass(frozen=True)
class Compliance:
    """Reporting rate and reporting rate on time, as DHIS2 defines them:
    reported / expected and reported on or before the deadline / expected.
    A report counts as reported while it is sent, waiting or approved (a
    returned one does not, until sent again); it is on time when it was
    first sent on or before the deadline day."""

    form_code: str
    form_name: str
    period_start: dt.date
    period_end: dt.date
    period_code: str
    period_label: str
    expected: int  # assignments (the denominator of both rates)
    reported: int
    on_time: int
    approved: int
    awaiting_review: int
    returned: int
    missing: list[MissingAgency] = field(default_factory=list)
    late: list[MissingAgency] = field(default_factory=list)  # sent, but first sent after the deadline

    @property
    def reporting_rate(self) -> Decimal | None:
        return _rate(self.reported, self.expected)

    @property
    def on_time_rate(self) -> Decimal | None:
        return _rate(self.on_time, self.expected)

    @property
    def reporting_rate_text(self) -> str:
        return _percent(self.reported, self.expected)

    @property
    def on_time_rate_text(self) -> str:
        return _percent(self.on_time, self.expected)


def _rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / denominator).quantize(Decimal("0.01"))


def _percent(numerator: int, denominator: int) -> str:
    if not denominator:
        return "—"
    return (
        f"{format_number(100 * numerator / denominator, 1)}% ({format_number(numerator)}/{format_number(denominator)})"
    )


def compliance(
    form: ReportForm,
    period_start: dt.date,
    period_end: dt.date,
    *,
    user=None,
    agencies: set[int] | None = None,
    today: dt.date | None = None,
) -> Compliance:
    """How well the agencies reported `form` for the period. With `user`, only
    the agencies that user may see are counted (the province sees all); with
    `agencies`, only those. Each listed report carries its state at `today`
    (state_of: "Quá hạn, chưa nộp", "Nộp trễ, đã duyệt" …)."""
    today = today or local_date(timezone.now())
    assignments = FormAssignment.objects.filter(form=form, period_start=period_start, period_end=period_end)
    if agencies is not None:
        assignments = assignments.filter(agency_id__in=agencies)
    if user is not None:
        assignments = assignments.filter(pk__in=visible_assignments(user).values("pk"))
    rows = list(assignments.select_related("agency", "submission").order_by("agency__name"))
    reported = on_time = approved = awaiting = returned = 0
    missing, late = [], []
    for assignment in rows:
        state = state_of(assignment, today)
        line = MissingAgency(
            assignment.agency_id,
            assignment.agency.code,
            assignment.agency.name,
            assignment.pk,
            assignment.deadline,
            state.key,
            state.label,
        )
        if state.key in REPORTED:
            reported += 1
            if state.late:
                late.append(line)
            else:
                on_time += 1
            approved += state.key == Status.APPROVED
            awaiting += state.key in AWAITING_REVIEW
        else:
            returned += state.key == Status.RETURNED
            missing.append(line)
    period = period_of_dates(period_start, period_end)
    return Compliance(
        form.code,
        form.name,
        period_start,
        period_end,
        period.code,
        period.label,
        len(rows),
        reported,
        on_time,
        approved,
        awaiting,
        returned,
        missing,
        late,
    )


def assignment_periods(form: ReportForm) -> list:
    """The periods this form was assigned for, newest first, as indicators.periods.Period."""
    pairs = (
        FormAssignment.objects.filter(form=form)
        .values("period_start", "period_end")
        .annotate(n=Count("id"))
        .order_by("-period_start", "-period_end")
    )
    return [period_of_dates(p["period_start"], p["period_end"]) for p in pairs]


def audience_kinds(form: ReportForm, period_start: dt.date, period_end: dt.date) -> list[str]:
    """The kinds of agency that report `form` for the period, as the
    organization then was: the kinds of the agencies it was assigned to for
    that period; before any assignment, the form's usual kinds of which an
    agency existed on the period's last day (after 01/7/2025 there is no
    "UBND cấp huyện" to name)."""
    kinds = set(
        FormAssignment.objects.filter(form=form, period_start=period_start, period_end=period_end).values_list(
            "agency__kind", flat=True
        )
    )
    if not kinds:
        kinds = set(
            Agency.objects.valid_on(period_end)
            .filter(kind__in=form.agency_kinds or [])
            .values_list("kind", flat=True)
            .distinct()
        )
    return [kind for kind in AgencyKind.values if kind in kinds]


def audience_text(form: ReportForm, period_start: dt.date, period_end: dt.date) -> str:
    """ "Sở, ban, ngành; UBND cấp xã": audience_kinds in words."""
    return "; ".join(AgencyKind(kind).label for kind in audience_kinds(form, period_start, period_end))


def active_forms() -> QuerySet[ReportForm]:
    return ReportForm.objects.filter(is_active=True).order_by("name")


def get_form(code: str) -> ReportForm:
    form = ReportForm.objects.filter(code=code).first()
    if form is None:
        raise NotFound("Không có biểu mẫu báo cáo với mã này.", "form")
    return form
