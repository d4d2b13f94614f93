"""Scheduled jobs run by `cqs worker` (see core.scheduler)."""

from django_tasks import task

from chinhquyenso.indicators.services import refresh_facts


@task()
def refresh_dossier_facts() -> int:
    """Aggregate dossiers changed since the last pass, so dashboard reads
    rarely have any catching up to do."""
    return refresh_facts()
