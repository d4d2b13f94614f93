"""Scheduled job of the open-data portal (registered in OpendataConfig.ready(), run by `cqs worker`):
`refresh_open_data` (daily) regenerates the live datasets from the platform's data (opendata.live). A
table whose bytes did not change is not rewritten (services.resources.put_generated), so running it
more often than daily, or by two workers, only costs the reading."""

from __future__ import annotations

from django_tasks import task

from chinhquyenso.opendata import live


@task()
def refresh_open_data() -> dict:
    return live.refresh_live_datasets()
