"""Scheduled jobs of the documents app (registered in DocumentsConfig.ready(), run by `cqs worker`):

- `send_reminders` (every 15 minutes): in-app notices for open assignments of incoming documents
  due by the end of the next working day (to the assignee) and for overdue ones (to the assignee
  and the leader who assigned them). Each assignment is reminded at most once a day
  (`Assignment.last_reminded_on`, taken by a conditional UPDATE, and the outbox's dedup key
  "documents.<kind>:<assignment>:<user>:<day>"), so the job may run as often as wanted and by
  several workers at once.
- `index_texts` (every 5 minutes): reads the text of PDFs that changed, outside any transaction
  (documents.search.extract_pending)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from chinhquyenso.core.calendar import calendar_for, local_date
from chinhquyenso.documents import search
from chinhquyenso.documents.models import Assignment
from chinhquyenso.documents.services.incoming import OPEN, _handlers, _link
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message


def _notices(assignment: Assignment, users, kind: str, text: str, day: dt.date, at) -> list[Message]:
    document = assignment.document
    link = _link(document)
    return [
        outbox.build(
            channel=Message.Channel.IN_APP,
            kind=f"documents.{kind}",
            user=user,
            subject=text,
            body=text,
            agency_id=document.agency_id,
            link=link,
            source=document,
            dedup_key=f"documents.{kind}:{assignment.pk}:{user.pk}:{day.isoformat()}",
            at=at,
        )
        for user in users
    ]


def _label(assignment: Assignment) -> str:
    document = assignment.document
    name = document.symbol or document.document_type.name
    return f"Văn bản đến số {document.arrival_number} ({name})"


def remind(at: dt.datetime | None = None) -> dict:
    """Send the day's reminders and overdue notices; returns how many notices were written."""
    at = at or timezone.now()
    today = local_date(at)
    calendar = calendar_for(at, days_after=30)
    soon = calendar.next_working_day(today)
    reminded = escalated = 0
    with transaction.atomic():
        due = (
            Assignment.objects.filter(status__in=OPEN, deadline__isnull=False, deadline__lte=soon)
            .exclude(last_reminded_on=today)
            .select_related("document", "document__document_type", "assigned_by")
            .order_by("pk")
        )
        for assignment in due.iterator():
            # Taken once per day even when two workers run the job at once.
            claimed = (
                Assignment.objects.filter(pk=assignment.pk)
                .exclude(last_reminded_on=today)
                .update(last_reminded_on=today)
            )
            if not claimed:
                continue
            handlers = _handlers(assignment)
            if assignment.deadline >= today:
                text = f"{_label(assignment)} đến hạn xử lý ngày {assignment.deadline:%d/%m/%Y}."
                reminded += outbox.enqueue_many(_notices(assignment, handlers, "due_soon", text, today, at))
            else:
                late = calendar.working_days_between(assignment.deadline, today)
                text = (
                    f"{_label(assignment)} đã quá hạn xử lý từ ngày {assignment.deadline:%d/%m/%Y} "
                    f"({late} ngày làm việc)."
                )
                users = {u.pk: u for u in handlers}
                leader = assignment.assigned_by
                if leader is not None and leader.is_active:
                    users.setdefault(leader.pk, leader)
                escalated += outbox.enqueue_many(_notices(assignment, users.values(), "overdue", text, today, at))
    return {"reminded": reminded, "escalated": escalated}


@task()
def send_reminders() -> dict:
    return remind()


@task()
def index_texts() -> dict:
    return {"read": search.extract_pending()}
