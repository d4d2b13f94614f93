"""Scheduled jobs run by `cqs worker` (registered in FeedbackConfig.ready()).
The messages they write are delivered by the outbox's own job
(exchange's deliver_outbox, every minute)."""

from django_tasks import task

from chinhquyenso.feedback import services


@task()
def escalate() -> dict:
    """Raise due-soon and overdue reports to the agencies' leaders and the
    IOC (each report once per level; the digests go into the outbox), and
    close the reports nobody rated within the reopening window."""
    escalations = services.escalate_due()
    closed = services.close_unrated()
    return {"escalations": len(escalations), "closed_unrated": closed}
