"""The message log's jobs (registered in ExchangeConfig.ready()): seal every minute, archive monthly."""

import datetime as dt
import logging

from django.utils import timezone
from django_tasks import task

from chinhquyenso.exchange.bus import log as message_log

log = logging.getLogger(__name__)


@task()
def seal_bus_log() -> dict:
    """Sign the entries appended since the last seal. A chain that no longer links to its last seal
    fails the task, loudly, instead of being signed."""
    try:
        written = message_log.seal()
    except message_log.ChainBroken as error:
        log.error("bus log seal refused: %s", error.message)
        raise
    return {"seals": len(written), "last_seq": written[-1].last_seq if written else None}


@task()
def archive_bus_log() -> dict:
    """Move entries older than CQS BUS_LOG_RETENTION_DAYS into archive files (0: keep them all)."""
    days = message_log.retention_days()
    if days <= 0:
        return {"archives": 0}
    before = timezone.localdate() - dt.timedelta(days=days)
    made = message_log.archive(before)
    return {"archives": len(made), "entries": sum(a.entries for a in made)}
