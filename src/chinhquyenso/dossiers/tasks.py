"""Scheduled jobs run by `cqs worker` (registered in DossiersConfig.ready())."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.core.calendar import calendar_for, closing_time, local_date
from chinhquyenso.dossiers.models import Dossier, Status
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message


def _notices(dossier: Dossier, roles: list[str], kind: str, message: str, at) -> list[Message]:
    """In-app notices to the officers in `roles` at the agency holding the
    dossier (of its specialists, the one named, if any), once per officer,
    dossier and kind (the outbox's dedup key)."""
    memberships = Membership.objects.filter(agency_id=dossier.current_agency_id, role__in=roles, user__is_active=True)
    if Role.SPECIALIST in roles and dossier.assignee_id:
        # The specialist named at acceptance handles it (when still there); the others are not disturbed.
        named = memberships.filter(user_id=dossier.assignee_id)
        memberships = named if named.exists() else memberships
    users = memberships.select_related("user").order_by("user_id")
    link = reverse("backoffice:dossier", args=[dossier.code])
    return [
        outbox.build(
            channel=Message.Channel.IN_APP,
            kind=f"dossiers.{kind}",
            user=user,
            subject=message,
            body=message,
            agency_id=dossier.current_agency_id,
            link=link,
            source=dossier,
            dedup_key=f"dossiers.{kind}:{dossier.pk}:{user.pk}",
            at=at,
        )
        for user in {m.user_id: m.user for m in users}.values()
    ]


@task()
def sweep_deadlines() -> dict:
    """Remind the specialists of dossiers due by the end of the next working
    day, and escalate overdue dossiers to the agency's leaders. Each officer is
    told once per dossier and kind, so the sweep can run as often as wanted;
    the notices leave through the outbox after commit."""
    now = timezone.now()
    calendar = calendar_for(now, days_after=30)
    soon = closing_time(calendar.next_working_day(local_date(now)))
    with transaction.atomic():
        reminders, escalations = [], []
        due_soon = Dossier.objects.filter(status=Status.IN_PROCESS, due_at__gte=now, due_at__lte=soon)
        for dossier in due_soon.select_related("procedure").iterator():
            reminders += _notices(
                dossier,
                [Role.SPECIALIST],
                "due_soon",
                f"Hồ sơ {dossier.code} ({dossier.procedure.name}) đến hạn trả kết quả "
                f"ngày {local_date(dossier.due_at):%d/%m/%Y}.",
                now,
            )
        overdue = Dossier.objects.filter(status=Status.IN_PROCESS, due_at__lt=now)
        for dossier in overdue.select_related("procedure").iterator():
            escalations += _notices(
                dossier,
                [Role.LEADER],
                "overdue",
                f"Hồ sơ {dossier.code} ({dossier.procedure.name}) đã quá hạn từ ngày "
                f"{local_date(dossier.due_at):%d/%m/%Y}: cần giải quyết hoặc xin lỗi, hẹn lại (Mẫu 04).",
                now,
            )
        return {"reminded": outbox.enqueue_many(reminders), "escalated": outbox.enqueue_many(escalations)}
