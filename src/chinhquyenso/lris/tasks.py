"""Scheduled jobs run by `cqs worker` (see core.scheduler.JOBS)."""

from django_tasks import task

from chinhquyenso.lris import services


@task()
def send_reminders() -> dict:
    """Remind agencies of reports due within two days or overdue and not yet
    sent; each assignment gets each kind of reminder once, so the job can run
    as often as wanted."""
    return services.send_reminders()
