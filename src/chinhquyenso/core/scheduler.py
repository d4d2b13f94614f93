"""Periodic jobs for any number of worker processes.

Each job has a row in ScheduledJob; a worker claims a due run with a
conditional UPDATE, so exactly one worker enqueues it per interval."""

import datetime as dt
import logging

from django.utils import timezone
from django.utils.module_loading import import_string

from chinhquyenso.core.models import ScheduledJob

log = logging.getLogger(__name__)

# name → (task path, interval in seconds). Installations may add their own.
JOBS = {
    "sweep_deadlines": ("chinhquyenso.dossiers.tasks.sweep_deadlines", 15 * 60),
    "lris_reminders": ("chinhquyenso.lris.tasks.send_reminders", 60 * 60),
    "refresh_dossier_facts": ("chinhquyenso.indicators.tasks.refresh_dossier_facts", 60),
    "feedback_escalations": ("chinhquyenso.feedback.tasks.escalate", 15 * 60),
    "feedback_notifications": ("chinhquyenso.feedback.tasks.send_notifications", 60),
}


def enqueue_due_jobs(now: dt.datetime | None = None) -> list[str]:
    now = now or timezone.now()
    enqueued = []
    for name, (path, interval) in JOBS.items():
        job, _ = ScheduledJob.objects.get_or_create(
            name=name, defaults={"interval_seconds": interval, "next_run_at": now}
        )
        claimed = ScheduledJob.objects.filter(pk=job.pk, next_run_at__lte=now, next_run_at=job.next_run_at).update(
            next_run_at=now + dt.timedelta(seconds=job.interval_seconds), last_run_at=now
        )
        if claimed:
            import_string(path).enqueue()
            enqueued.append(name)
            log.info("scheduled job %s enqueued", name)
    return enqueued
