"""Scheduled jobs run by `cqs worker` (see core.scheduler)."""

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.core.calendar import calendar_for, closing_time, local_date
from chinhquyenso.dossiers.models import Dossier, Notification, Status


def _notify(dossier: Dossier, roles: list[str], kind: str, message: str) -> int:
    users = Membership.objects.filter(agency_id=dossier.current_agency_id, role__in=roles).values_list(
        "user_id", flat=True
    )
    created = 0
    for user_id in set(users):
        _, new = Notification.objects.get_or_create(
            user_id=user_id, dossier=dossier, kind=kind, defaults={"message": message}
        )
        created += new
    return created


@task()
def sweep_deadlines() -> dict:
    """Remind the specialists of dossiers due by the end of the next working
    day, and escalate overdue dossiers to the agency's leaders. Each officer is
    told once per dossier and kind, so the sweep can run as often as wanted."""
    now = timezone.now()
    calendar = calendar_for(now, days_after=30)
    soon = closing_time(calendar.next_working_day(local_date(now)))
    reminded = escalated = 0
    with transaction.atomic():
        due_soon = Dossier.objects.filter(status=Status.IN_PROCESS, due_at__gte=now, due_at__lte=soon).select_related(
            "procedure"
        )
        for dossier in due_soon.iterator():
            reminded += _notify(
                dossier,
                [Role.SPECIALIST],
                Notification.Kind.DUE_SOON,
                f"Hồ sơ {dossier.code} ({dossier.procedure.name}) đến hạn trả kết quả "
                f"ngày {local_date(dossier.due_at):%d/%m/%Y}.",
            )
        overdue = Dossier.objects.filter(status=Status.IN_PROCESS, due_at__lt=now).select_related("procedure")
        for dossier in overdue.iterator():
            escalated += _notify(
                dossier,
                [Role.LEADER],
                Notification.Kind.OVERDUE,
                f"Hồ sơ {dossier.code} ({dossier.procedure.name}) đã quá hạn từ ngày "
                f"{local_date(dossier.due_at):%d/%m/%Y}: cần giải quyết hoặc xin lỗi, hẹn lại (Mẫu 04).",
            )
    return {"reminded": reminded, "escalated": escalated}
