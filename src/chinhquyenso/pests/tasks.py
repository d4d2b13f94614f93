"""The app's periodic jobs (registered in apps.py), run by `cqs worker`."""

from django_tasks import task


@task()
def flag_silent_traps() -> dict:
    """Mark smart traps that have sent nothing for longer than CQS["PESTS_SILENT_AFTER_HOURS"]."""
    from chinhquyenso.pests.services import stations

    return stations.flag_silent()


@task()
def evaluate_alerts() -> dict:
    """Compare the latest densities with the thresholds and issue the alerts (and their warnings)."""
    from chinhquyenso.pests.services import alerts

    return alerts.evaluate()
