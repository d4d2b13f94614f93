"""Periodic jobs for any number of worker processes.

Each job has a row in ScheduledJob; a worker claims a due run with a
conditional UPDATE, so exactly one worker enqueues it per interval."""

import datetime as dt
import logging

from django.utils import timezone
from django.utils.module_loading import import_string

from chinhquyenso.core.models import ScheduledJob
from chinhquyenso.core.registry import JOBS

log = logging.getLogger(__name__)

# The jobs are registered by the apps that own them, from AppConfig.ready()
# (core.registry.JOBS: name → Job(task path, interval)); installations may register their own.


def enqueue_due_jobs(now: dt.datetime | None = None) -> list[str]:
    now = now or timezone.now()
    enqueued = []
    for name, spec in JOBS.items():
        job, _ = ScheduledJob.objects.get_or_create(
            name=name, defaults={"interval_seconds": spec.interval_seconds, "next_run_at": now}
        )
        claimed = ScheduledJob.objects.filter(pk=job.pk, next_run_at__lte=now, next_run_at=job.next_run_at).update(
            next_run_at=now + dt.timedelta(seconds=job.interval_seconds), last_run_at=now
        )
        if claimed:
            import_string(spec.task).enqueue()
            enqueued.append(name)
            log.info("scheduled job %s enqueued", name)
    return enqueued
