"""Escalation: due-soon (level 1) and overdue (level 2) reports raised to
the handling agency's leaders, long-overdue or long-unassigned ones
(level 3) to the IOC; each report once per level (again after a reopen),
with one digest e-mail per recipient through the outbox."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from chinhquyenso.accounts.models import GlobalRole, Membership, Role, User
from chinhquyenso.core import audit
from chinhquyenso.core.calendar import WorkingCalendar, closing_time, local_date
from chinhquyenso.core.workflow import now as current_time
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.feedback.conf import conf
from chinhquyenso.feedback.models import Escalation, Feedback, FeedbackEvent, Status
from chinhquyenso.feedback.services.common import working_days_before
from chinhquyenso.org.models import Agency

# Escalation levels: 1 due soon and 2 overdue go to the handling agency's leaders, 3 to the IOC.
ESCALATION_LEVELS = {1: "Sắp đến hạn", 2: "Quá hạn", 3: "Chuyển IOC"}
DUE_SOON, OVERDUE, IOC = 1, 2, 3
DIGEST_LISTED = 50  # reports listed in one digest; the rest are counted


def _leader_emails(agency_ids) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    rows = (
        Membership.objects.filter(agency_id__in=agency_ids, role=Role.LEADER, user__is_active=True)
        .exclude(user__email="")
        .values_list("agency_id", "user__email")
        .order_by("user__email")
        .distinct()
    )
    for agency_id, email in rows:
        out.setdefault(agency_id, []).append(email)
    return out


def _ioc_emails() -> list[str]:
    emails = list(
        User.objects.filter(global_role=GlobalRole.IOC_OPERATOR, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    mailbox = conf("FEEDBACK_IOC_EMAIL")
    return sorted(set(emails + ([mailbox] if mailbox else [])))


def _escalation_candidates(level: int, now: dt.datetime, calendar: WorkingCalendar):
    """Set-based conditions for each level (one query each, any table size)."""
    today = local_date(now)
    active = Feedback.objects.filter(
        status__in=[Status.ASSIGNED, Status.IN_PROGRESS], agency__isnull=False, due_at__isnull=False
    )
    if level == DUE_SOON:
        horizon = closing_time(calendar.add_working_days(today, conf("FEEDBACK_DUE_SOON_DAYS")))
        return active.filter(due_at__gte=now, due_at__lte=horizon), "due_soon"
    if level == OVERDUE:
        return active.filter(due_at__lt=now), "overdue"
    late_by = closing_time(working_days_before(calendar, today, conf("FEEDBACK_IOC_OVERDUE_DAYS")))
    overdue_long = active.filter(due_at__lt=min(late_by, now))
    # "Waiting in the IOC queue for more than N working days": received before this moment N working days ago.
    local = now.astimezone(closing_time(today).tzinfo)
    if calendar.is_working_day(today):
        reference_day, clock = today, local.time()
    else:
        reference_day, clock = working_days_before(calendar, today, 1), closing_time(today).time()
    queue_since = dt.datetime.combine(
        working_days_before(calendar, reference_day, conf("FEEDBACK_IOC_QUEUE_DAYS")), clock, tzinfo=local.tzinfo
    )
    unassigned = Feedback.objects.filter(status=Status.RECEIVED, agency__isnull=True, received_at__lt=queue_since)
    return overdue_long | unassigned, "ioc"


def escalate_due(now=None) -> list[Escalation]:
    """The scheduled job's body: raise due-soon (level 1) and overdue (level
    2) reports to the handling agency's leaders, and long-overdue or
    long-unassigned ones (level 3) to the IOC. Each report is raised once
    per level (again after a reopen); the highest level first, so a report
    found late straight away is not also told "due soon". Set-based: per
    level one SELECT, bulk inserts, one UPDATE, and one digest e-mail per
    recipient, whatever the number of reports."""
    now = current_time(now)
    today = local_date(now)
    calendar = WorkingCalendar.load(today - dt.timedelta(days=90), today + dt.timedelta(days=60))
    created: list[Escalation] = []
    for level in (IOC, OVERDUE, DUE_SOON):
        with transaction.atomic():
            candidates, reason = _escalation_candidates(level, now, calendar)
            rows = list(
                candidates.filter(escalation_level__lt=level)
                .values_list("pk", "agency_id", "reopened_count", "code", "due_at")
                .order_by("due_at", "pk")
            )
            if not rows:
                continue
            to_agency = (lambda agency_id: None) if level == IOC else (lambda agency_id: agency_id)
            escalations = [
                Escalation(
                    feedback_id=pk, level=level, reason=reason, to_agency_id=to_agency(agency_id), at=now, cycle=cycle
                )
                for pk, agency_id, cycle, _, _ in rows
            ]
            Escalation.objects.bulk_create(escalations, batch_size=2000, ignore_conflicts=True)
            # Exactly the reports escalated now (a concurrent run's rows are not touched twice).
            Feedback.objects.filter(
                escalations__level=level,
                escalations__at=now,
                escalations__cycle=F("reopened_count"),
                escalation_level__lt=level,
            ).update(escalation_level=level)
            FeedbackEvent.objects.bulk_create(
                (
                    FeedbackEvent(
                        feedback_id=pk,
                        at=now,
                        action="escalate",
                        agency_id=agency_id,
                        text=f"Chuyển cấp {level}: {ESCALATION_LEVELS[level].lower()}.",
                    )
                    for pk, agency_id, *_ in rows
                ),
                batch_size=2000,
            )
            _queue_digests(level, rows, now)
            audit.record(
                actor=None,
                action="feedback.escalate",
                object_type="feedback.Escalation",
                object_id=f"level-{level}",
                at=now,
                after={"level": level, "reports": len(rows)},
            )
            created += escalations
    return created


def _queue_digests(level: int, rows: list, now) -> int:
    """One digest per recipient into the outbox (kind "feedback.escalation_<level>"):
    the agency's leaders for levels 1–2, the IOC for 3."""
    by_agency: dict = {}
    for _pk, agency_id, _, code, due_at in rows:
        by_agency.setdefault(None if level == IOC else agency_id, []).append((code, due_at))
    recipients = {None: _ioc_emails()} if level == IOC else _leader_emails([a for a in by_agency if a])
    names = dict(Agency.objects.filter(pk__in=[a for a in by_agency if a]).values_list("pk", "name"))
    # The one report a digest is about when there is only one (the officers' pages list its messages).
    source = Feedback(pk=rows[0][0]) if len(rows) == 1 else None
    messages = []
    for agency_id, reports in by_agency.items():
        listed = "\n".join(f"  • {code} — hạn {local_date(due):%d/%m/%Y}" for code, due in reports[:DIGEST_LISTED])
        more = f"\n  … và {len(reports) - DIGEST_LISTED} phản ánh khác." if len(reports) > DIGEST_LISTED else ""
        where = names.get(agency_id, "IOC")
        subject = f"[{ESCALATION_LEVELS[level]}] {len(reports)} phản ánh, kiến nghị — {where}"
        body = (
            f"{ESCALATION_LEVELS[level]}: {len(reports)} phản ánh, kiến nghị cần xử lý"
            f"{'' if level == IOC else ' tại ' + where}:\n{listed}{more}\n\n"
            f"Thư gửi tự động từ hệ thống Chính quyền số tỉnh {settings.CQS['PROVINCE_NAME']}."
        )
        messages += [
            outbox.build(
                channel=Message.Channel.EMAIL,
                recipient=email,
                kind=f"feedback.escalation_{level}",
                subject=subject,
                body=body,
                agency_id=agency_id,
                link=reverse("feedback:queue"),
                source=source,
                at=now,
            )
            for email in recipients.get(agency_id, [])
        ]
    return outbox.enqueue_many(messages)
