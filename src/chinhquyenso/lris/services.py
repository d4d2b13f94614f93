"""Every write of LRIS: loading forms, assigning them, entering and uploading
values, sending, reviewing, reminding. Each public function runs in one
transaction and leaves an audit record; approved values reach the indicator
store only through indicators.services.record_reported_value."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from chinhquyenso.accounts.access import refuse_read_only
from chinhquyenso.accounts.models import Membership
from chinhquyenso.accounts.selectors import is_province_admin
from chinhquyenso.core import audit, workflow
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.text import nfc, nfc_lines
from chinhquyenso.core.unique import duplicate_message
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.indicators.models import Indicator, PeriodKind
from chinhquyenso.indicators.periods import Period
from chinhquyenso.indicators.services import record_reported_value
from chinhquyenso.lris import selectors, validation, xlsx
from chinhquyenso.lris.models import (
    AWAITING_REVIEW,
    EDITABLE,
    REPORTED,
    FormAssignment,
    FormItem,
    Reminder,
    ReportForm,
    Status,
    Submission,
    SubmissionEvent,
    SubmittedValue,
    ValueChange,
)
from chinhquyenso.lris.validation import Clean, Entry, ValuesInvalid
from chinhquyenso.org.models import Agency

log = logging.getLogger(__name__)

FORMS_FILE = Path(__file__).resolve().parent / "data" / "forms.json"
REMIND_DAYS_BEFORE = 2
# An assignment overdue for longer than this gets no first reminder: loading
# past periods must not flood officers with reminders for reports long gone.
OVERDUE_WINDOW_DAYS = 30
MAX_REASON = 2000


def _require_province_admin(actor) -> None:
    if not (getattr(actor, "pk", None) and is_province_admin(actor)):
        raise PermissionDenied("Chỉ quản trị tỉnh được thực hiện thao tác này.")


def _require_reporter(actor, assignment: FormAssignment) -> None:
    """Any officer of the reporting agency (or of its successor) may fill in
    and send; auditors only read."""
    if not selectors.can_edit(actor, assignment):
        if selectors.can_view(actor, assignment):
            raise PermissionDenied("Chỉ cán bộ của cơ quan được giao báo cáo mới được nhập và gửi số liệu.")
        raise NotFound("Không tìm thấy báo cáo được giao.", "assignment")


# ---------------------------------------------------------------- forms (data file)


@dataclass
class LoadSummary:
    indicators_created: list[str] = field(default_factory=list)
    indicators_kept: list[str] = field(default_factory=list)
    forms_created: list[str] = field(default_factory=list)
    forms_kept: list[str] = field(default_factory=list)


INDICATOR_FIELDS = (
    "name",
    "group",
    "unit",
    "value_type",
    "aggregation",
    "decimals",
    "higher_is_better",
    "period_kinds",
    "agency_levels",
    "numerator_label",
    "denominator_label",
    "minimum",
    "maximum",
    "description",
    "order",
)
FORM_FIELDS = ("name", "description", "period_kind", "agency_kinds", "is_active")
TEXT_FIELDS = ("name", "group", "unit", "numerator_label", "denominator_label", "description", "instructions")


def _decimal_or_none(value):
    return None if value is None else Decimal(str(value))


def _fields(spec: dict, names) -> dict:
    values = {key: spec[key] for key in names if key in spec}
    for key in values:
        if key == "description":  # a TextField: its lines are kept (core.text.nfc_lines)
            values[key] = nfc_lines(values[key])
        elif key in TEXT_FIELDS:
            values[key] = nfc(values[key])
        elif key in ("minimum", "maximum"):
            values[key] = _decimal_or_none(values[key])
    return values


def load_forms(path: str | Path = FORMS_FILE, *, actor=None) -> LoadSummary:
    """Create the reported indicators and the forms of a JSON file (default:
    lris/data/forms.json) that do not exist yet. Like indicators.load_registry,
    what exists is left as the province edited it, so running it again changes
    nothing; an indicator the registry already defines (e.g.
    doc_exchange_electronic_rate) is used as it is. A code taken by a computed
    or assessed indicator is refused: a reported figure never replaces one."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    summary = LoadSummary()
    with transaction.atomic():
        created: dict[str, Indicator] = {}
        for spec in data.get("indicators", []):
            code = spec["code"]
            existing = Indicator.objects.filter(code=code).first()
            if existing is not None and existing.source != Indicator.Source.REPORTED:
                raise DomainError(
                    f"{duplicate_message(Indicator, 'code', code, existing)} Chỉ tiêu đó không do cơ quan báo cáo "
                    f"({existing.get_source_display().lower()}); hãy đặt mã khác.",
                    field=code,
                )
            if existing is not None:
                summary.indicators_kept.append(code)
                continue
            created[code] = Indicator.objects.create(
                code=code, source=Indicator.Source.REPORTED, **_fields(spec, INDICATOR_FIELDS)
            )
            summary.indicators_created.append(code)
        for spec in data.get("indicators", []):
            if spec["code"] in created and spec.get("part_of"):
                whole = Indicator.objects.filter(code=spec["part_of"]).first()
                if whole is None:
                    raise DomainError(
                        f"Chỉ tiêu {spec['code']}: không có chỉ tiêu tổng «{spec['part_of']}».", field=spec["code"]
                    )
                Indicator.objects.filter(pk=created[spec["code"]].pk).update(part_of=whole)
        for spec in data.get("forms", []):
            if ReportForm.objects.filter(code=spec["code"]).exists():
                summary.forms_kept.append(spec["code"])
                continue
            _create_form(spec)
            summary.forms_created.append(spec["code"])
        audit.record(
            actor=actor,
            action="lris.forms.load",
            object_type="lris.ReportForm",
            object_id="",
            after={"indicators_created": summary.indicators_created, "forms_created": summary.forms_created},
        )
    return summary


def _create_form(spec: dict) -> ReportForm:
    values = _fields(spec, FORM_FIELDS)
    if values.get("period_kind", PeriodKind.QUARTER) not in PeriodKind.values:
        raise DomainError(
            f"Biểu mẫu {spec['code']}: kỳ báo cáo «{values['period_kind']}» không hợp lệ.", field=spec["code"]
        )
    form = ReportForm.objects.create(code=spec["code"], **values)
    for order, item in enumerate(spec.get("items", []), start=1):
        indicator = Indicator.objects.filter(code=item["indicator"], source=Indicator.Source.REPORTED).first()
        if indicator is None:
            raise DomainError(
                f"Biểu mẫu {spec['code']}: không có chỉ tiêu báo cáo «{item['indicator']}».", field=spec["code"]
            )
        FormItem.objects.create(
            form=form,
            indicator=indicator,
            order=order,
            required=item.get("required", True),
            **_fields(item, ("minimum", "maximum", "instructions")),
        )
    return form


def record_form_edit(*, actor, form: ReportForm, created: bool) -> None:
    """After the province administrator edits a form in the admin pages."""
    audit.record(
        actor=actor,
        action="lris.form.create" if created else "lris.form.update",
        obj=form,
        after={
            "code": form.code,
            "period_kind": form.period_kind,
            "is_active": form.is_active,
            "items": list(form.items.values_list("indicator__code", flat=True)),
            "via": "admin",
        },
    )


# ---------------------------------------------------------------- assigning


@dataclass
class AssignResult:
    created: list[FormAssignment]
    existing: list[Agency]


def assign_form(*, actor, form: ReportForm, agencies, period: Period, deadline: dt.date) -> AssignResult:
    """Ask each agency to report `form` for `period` by `deadline` (a date;
    sending on that day is on time). Agencies already asked are left as they
    are and listed in `existing`."""
    _require_province_admin(actor)
    agencies = list(agencies)
    if not form.is_active:
        raise DomainError(f"Biểu mẫu {form.code} không còn được sử dụng.", "form")
    if not form.items.exists():
        raise DomainError(f"Biểu mẫu {form.code} chưa có chỉ tiêu nào.", "form")
    if period.kind != form.period_kind:
        raise DomainError(
            f"Biểu mẫu {form.code} báo cáo theo {form.get_period_kind_display().lower()}; "
            f"kỳ {period.label} không phù hợp.",
            "period",
        )
    if deadline is None or deadline < period.start:
        raise DomainError("Hạn nộp phải từ ngày đầu kỳ báo cáo trở đi.", "deadline")
    if not agencies:
        raise DomainError("Hãy chọn ít nhất một cơ quan.", "agencies")
    closed = [a.name for a in agencies if not a.is_current]
    if closed:
        raise DomainError(f"Cơ quan đã thôi hoạt động, không giao báo cáo được: {', '.join(closed)}.", "agencies")
    created, existing = [], []
    with transaction.atomic():
        already = set(
            FormAssignment.objects.filter(
                form=form, period_start=period.start, period_end=period.end, agency__in=agencies
            ).values_list("agency_id", flat=True)
        )
        for agency in sorted(set(agencies), key=lambda a: a.name):
            if agency.pk in already:
                existing.append(agency)
                continue
            assignment = FormAssignment.objects.create(
                form=form,
                agency=agency,
                period_start=period.start,
                period_end=period.end,
                deadline=deadline,
                created_by=actor,
            )
            created.append(assignment)
        audit.record(
            actor=actor,
            action="lris.assign",
            obj=form,
            after={
                "form": form.code,
                "period": period.code,
                "deadline": deadline,
                "agencies": [a.agency_id for a in created],
                "already": [a.pk for a in existing],
            },
        )
    return AssignResult(created, existing)


# ---------------------------------------------------------------- filling in


def _clean_of(row: SubmittedValue) -> Clean:
    return Clean(row.value, row.numerator, row.denominator, row.raw)


def _same(old: Clean | None, new: Clean | None) -> bool:
    """The same numbers, however they were typed ("1250" and "1.250"): not a change."""
    if old is None or new is None:
        return old is new
    return (old.value, old.numerator, old.denominator) == (new.value, new.numerator, new.denominator)


def _timeline_step(submission, *, actor, action, at, from_status, to_status, before, note="") -> SubmissionEvent:
    return SubmissionEvent.objects.create(
        submission=submission,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=workflow.actor_or_none(actor),
        at=at,
        note=note,
    )


SUBMISSION = workflow.Workflow(
    Submission,
    noun="báo cáo",
    audit_prefix="lris.submission",
    snapshot=lambda submission: {"status": submission.status},
    record_step=_timeline_step,
    agency_of=lambda submission: submission.assignment.agency_id,
    guard=refuse_read_only,
    select_related=("assignment__form", "assignment__agency"),
)


def _snapshot_changes(submission, why, actor, at, note="") -> None:
    """Keep the values as they stood when returned, approved or reopened."""
    ValueChange.objects.bulk_create(
        [
            ValueChange(
                submission=submission,
                indicator_id=row.indicator_id,
                actor=actor,
                at=at,
                why=why,
                old_raw=row.raw,
                new_raw=row.raw,
                old_value=row.value,
                new_value=row.value,
                old_numerator=row.numerator,
                new_numerator=row.numerator,
                old_denominator=row.denominator,
                new_denominator=row.denominator,
                note=note,
            )
            for row in submission.values.all()
        ]
    )


def save_values(
    *,
    actor,
    assignment: FormAssignment,
    entries: list[Entry],
    why: str = ValueChange.Why.ENTERED,
    submit: bool = False,
    at=None,
) -> Submission:
    """Check and store the agency's values; with `submit`, send the report
    too (then every required item must be filled in). Either everything is
    stored or nothing: every problem is reported at once in ValuesInvalid."""
    _require_reporter(actor, assignment)
    at = workflow.now(at)
    with transaction.atomic():
        assignment = FormAssignment.objects.select_for_update().select_related("form", "agency").get(pk=assignment.pk)
        submission = Submission.objects.filter(assignment=assignment).first()
        if submission is not None and submission.status not in EDITABLE:
            if submission.status == Status.APPROVED:
                raise DomainError(
                    "Báo cáo đã được duyệt nên không sửa được nữa; nếu cần sửa, đề nghị quản trị tỉnh mở lại báo cáo.",
                    "status",
                )
            raise DomainError("Báo cáo đã gửi và đang chờ duyệt; chỉ sửa được khi tỉnh trả lại.", "status")
        items = list(assignment.form.items.select_related("indicator", "indicator__part_of"))
        existing_rows = {
            row.indicator.code: row for row in (submission.values.select_related("indicator") if submission else [])
        }
        existing = {code: _clean_of(row) for code, row in existing_rows.items()}
        changes, errors = validation.check(assignment.form, items, entries, existing, require_all=submit)
        if errors:
            raise ValuesInvalid(errors)
        if submission is None:
            submission = Submission.objects.create(assignment=assignment)
        indicator_of = {item.indicator.code: item.indicator for item in items}
        changed_codes = []
        for code, clean in changes.items():
            old = existing.get(code)
            if _same(old, clean):
                continue
            row = existing_rows.get(code)
            if clean is None:
                row.delete()
            elif row is None:
                SubmittedValue.objects.create(
                    submission=submission,
                    indicator=indicator_of[code],
                    value=clean.value,
                    numerator=clean.numerator,
                    denominator=clean.denominator,
                    raw=clean.raw,
                )
            else:
                row.value, row.numerator, row.denominator, row.raw = (
                    clean.value,
                    clean.numerator,
                    clean.denominator,
                    clean.raw,
                )
                row.save(update_fields=["value", "numerator", "denominator", "raw"])
            empty = Clean(None)
            old, new = old or empty, clean or empty
            ValueChange.objects.create(
                submission=submission,
                indicator=indicator_of[code],
                actor=actor,
                at=at,
                why=why,
                old_raw=old.raw,
                new_raw=new.raw,
                old_value=old.value,
                new_value=new.value,
                old_numerator=old.numerator,
                new_numerator=new.numerator,
                old_denominator=old.denominator,
                new_denominator=new.denominator,
            )
            changed_codes.append(code)
        details = {"assignment": assignment.pk, "changed": changed_codes, "via": why}
        if submit:
            resubmitted = bool(submission.first_submitted_at)
            SUBMISSION.transition(
                submission,
                actor=actor,
                action=SubmissionEvent.Action.RESUBMIT if resubmitted else SubmissionEvent.Action.SUBMIT,
                to_status=Status.RESUBMITTED if resubmitted else Status.SUBMITTED,
                at=at,
                changes={
                    "first_submitted_at": submission.first_submitted_at or at,
                    "submitted_at": at,
                    "submitted_by": actor,
                },
                audit_extra=details,
            )
        else:
            before = submission.status
            submission.save(update_fields=["updated_at"])
            audit.record(
                actor=actor,
                action="lris.submission.save",
                obj=submission,
                agency_id=assignment.agency_id,
                at=at,
                before={"status": before},
                after={"status": submission.status, **details},
            )
    return submission


def submit(*, actor, assignment: FormAssignment, at=None) -> Submission:
    """Send the report with the values already saved."""
    return save_values(actor=actor, assignment=assignment, entries=[], submit=True, at=at)


def upload_workbook(*, actor, assignment: FormAssignment, data: bytes, submit: bool = False, at=None) -> Submission:
    """Values from a filled-in template (see xlsx.template). Rows are matched
    by item code; errors name the row and column."""
    _require_reporter(actor, assignment)
    entries = xlsx.read(data, assignment)
    return save_values(
        actor=actor, assignment=assignment, entries=entries, why=ValueChange.Why.UPLOADED, submit=submit, at=at
    )


# ---------------------------------------------------------------- review


def _reason(reason: str) -> str:
    reason = nfc_lines(reason)
    if not reason:
        raise DomainError("Hãy ghi lý do để cơ quan biết cần sửa gì.", "reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Lý do dài quá {MAX_REASON} ký tự.", "reason")
    return reason


def approve(*, actor, submission: Submission, at=None) -> Submission:
    """Accept the report: every value goes to the indicator store (replacing
    an earlier approval of the same period) and the report is frozen."""
    _require_province_admin(actor)
    with transaction.atomic():
        submission, at = SUBMISSION.begin(submission, actor, at)
        if submission.status not in AWAITING_REVIEW:
            raise DomainError("Chỉ duyệt được báo cáo đã gửi và đang chờ duyệt.", "status")
        assignment = submission.assignment
        rows = list(submission.values.select_related("indicator"))
        # A value approved before a reopening cannot just disappear from the indicator store.
        approved_before = set(
            ValueChange.objects.filter(submission=submission, why=ValueChange.Why.APPROVED).values_list(
                "indicator__code", flat=True
            )
        )
        dropped = sorted(approved_before - {row.indicator.code for row in rows})
        if dropped:
            raise DomainError(
                "Chỉ tiêu đã duyệt trước đây nay bị để trống: "
                + ", ".join(dropped)
                + ". Hãy trả lại để cơ quan nhập lại.",
                "values",
            )
        period = assignment.period
        source = f"LRIS {assignment.form.code} {period.code}"
        for row in rows:
            record_reported_value(
                indicator=row.indicator,
                agency=assignment.agency,
                period_start=assignment.period_start,
                period_end=assignment.period_end,
                value=None if row.indicator.is_ratio else row.value,
                numerator=row.numerator,
                denominator=row.denominator,
                source=source,
                actor=actor,
                at=at,
            )
        SUBMISSION.transition(
            submission,
            actor=actor,
            action=SubmissionEvent.Action.APPROVE,
            to_status=Status.APPROVED,
            at=at,
            changes={"reviewed_at": at, "reviewed_by": actor, "return_reason": ""},
            audit_extra={"values": len(rows), "source": source},
        )
        _snapshot_changes(submission, ValueChange.Why.APPROVED, actor, at)
    return submission


def return_submission(*, actor, submission: Submission, reason: str, at=None) -> Submission:
    """Send the report back to the agency with what to correct."""
    _require_province_admin(actor)
    reason = _reason(reason)
    with transaction.atomic():
        submission, at = SUBMISSION.begin(submission, actor, at)
        if submission.status not in AWAITING_REVIEW:
            raise DomainError("Chỉ trả lại được báo cáo đã gửi và đang chờ duyệt.", "status")
        return _send_back(submission, actor, at, reason, SubmissionEvent.Action.RETURN, ValueChange.Why.RETURNED)


def reopen(*, actor, submission: Submission, reason: str, at=None) -> Submission:
    """Open an approved report for correction. The approved values stay in the
    indicator store until the corrected report is approved again."""
    _require_province_admin(actor)
    reason = _reason(reason)
    with transaction.atomic():
        submission, at = SUBMISSION.begin(submission, actor, at)
        if submission.status != Status.APPROVED:
            raise DomainError("Chỉ mở lại được báo cáo đã duyệt.", "status")
        return _send_back(submission, actor, at, reason, SubmissionEvent.Action.REOPEN, ValueChange.Why.REOPENED)


def _send_back(submission, actor, at, reason, action, why) -> Submission:
    SUBMISSION.transition(
        submission,
        actor=actor,
        action=action,
        to_status=Status.RETURNED,
        at=at,
        changes={"reviewed_at": at, "reviewed_by": actor, "return_reason": reason},
        note=reason,
    )
    _snapshot_changes(submission, why, actor, at, note=reason)
    return submission


# ---------------------------------------------------------------- reminders


def _reminder_text(assignment: FormAssignment, kind: str, today: dt.date) -> tuple[str, str]:
    form, period = assignment.form, assignment.period
    deadline = f"{assignment.deadline:%d/%m/%Y}"
    if kind == Reminder.Kind.OVERDUE:
        late = (today - assignment.deadline).days
        line = (
            f"Báo cáo «{form.name}» {period.label} của {assignment.agency.name} đã quá hạn nộp "
            f"(hạn {deadline}, trễ {late} ngày)."
        )
        subject = f"Quá hạn nộp báo cáo: {form.name} — {period.label}"
    else:
        left = (assignment.deadline - today).days
        when = "hôm nay" if left == 0 else f"còn {left} ngày"
        line = (
            f"Báo cáo «{form.name}» {period.label} của {assignment.agency.name} sắp đến hạn nộp "
            f"ngày {deadline} ({when})."
        )
        subject = f"Sắp đến hạn nộp báo cáo: {form.name} — {period.label}"
    return subject, line


class _NoOfficers(Exception):
    pass


def send_reminders(*, now=None) -> dict:
    """Tell the officers of each agency whose report is due within
    REMIND_DAYS_BEFORE days, or overdue, and not yet sent: once per
    assignment and kind, by email and on screen. Running again sends nothing
    new; an assignment whose agency has no officer yet is tried again later."""
    now = workflow.now(now)
    today = local_date(now)
    sent = {Reminder.Kind.DUE_SOON: 0, Reminder.Kind.OVERDUE: 0}
    emails = 0
    waiting = (
        FormAssignment.objects.filter(
            deadline__lte=today + dt.timedelta(days=REMIND_DAYS_BEFORE),
            deadline__gte=today - dt.timedelta(days=OVERDUE_WINDOW_DAYS),
        )
        .exclude(submission__status__in=REPORTED)
        .select_related("form", "agency")
    )
    for assignment in list(waiting):
        kind = Reminder.Kind.OVERDUE if assignment.deadline < today else Reminder.Kind.DUE_SOON
        if Reminder.objects.filter(assignment=assignment, kind=kind).exists():
            continue
        try:
            emails += _remind(assignment, kind, now, today)
            sent[kind] += 1
        except _NoOfficers:
            continue
        except IntegrityError:
            continue  # another worker recorded it a moment ago
    return {"due_soon": sent[Reminder.Kind.DUE_SOON], "overdue": sent[Reminder.Kind.OVERDUE], "emails": emails}


def _remind(assignment: FormAssignment, kind: str, now, today) -> int:
    """One reminder: the "already reminded" mark, an in-app notice and an
    e-mail (with an absolute link to the form) per officer of the agency, all
    in one transaction; the worker delivers them after commit."""
    users = list(
        {
            m.user
            for m in Membership.objects.filter(agency_id=assignment.agency_id, user__is_active=True).select_related(
                "user"
            )
        }
    )
    if not users:
        raise _NoOfficers
    subject, line = _reminder_text(assignment, kind, today)
    link = reverse("lris:assignment", args=[assignment.pk])
    common = {"kind": f"lris.{kind}", "agency_id": assignment.agency_id, "link": link, "source": assignment, "at": now}
    messages = [
        outbox.build(channel=Message.Channel.IN_APP, user=u, subject=subject, body=line, **common) for u in users
    ]
    emails = [
        outbox.build(
            channel=Message.Channel.EMAIL,
            recipient=u.email,
            subject=subject,
            body=(
                f"Kính gửi {u.display_name},\n\n{line}\n\nXin vui lòng nhập và gửi báo cáo tại: "
                f"{outbox.absolute_url(link)}\n\n"
                f"Thư này được gửi tự động từ hệ thống Chính quyền số tỉnh {settings.CQS['PROVINCE_NAME']}."
            ),
            **common,
        )
        for u in users
        if u.email
    ]
    with transaction.atomic():
        # The row is the "already reminded" mark; the unique constraint stops a second worker.
        reminder = Reminder.objects.create(
            assignment=assignment, kind=kind, sent_at=now, recipients=len(users), emails=len(emails)
        )
        outbox.enqueue_many(messages + emails)
        audit.record(
            actor=None,
            action=f"lris.reminder.{kind}",
            obj=reminder,
            agency_id=assignment.agency_id,
            at=now,
            after={"assignment": assignment.pk, "recipients": len(users), "emails": len(emails)},
        )
    return len(emails)
