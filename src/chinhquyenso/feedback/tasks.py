"""Scheduled jobs run by `cqs worker` (see core.scheduler.JOBS)."""

from django_tasks import task

from chinhquyenso.feedback import services


@task()
def escalate() -> dict:
    """Raise due-soon and overdue reports to the agencies' leaders and the
    IOC (each report once per level), send what that queued, and close the
    reports nobody rated within the reopening window."""
    escalations = services.escalate_due()
    sent, failed = services.send_pending_notifications()
    closed = services.close_unrated()
    return {"escalations": len(escalations), "sent": sent, "failed": failed, "closed_unrated": closed}


@task()
def send_notifications() -> dict:
    """The outbox: send due messages, retry failed ones with back-off."""
    sent, failed = services.send_pending_notifications()
    return {"sent": sent, "failed": failed}
