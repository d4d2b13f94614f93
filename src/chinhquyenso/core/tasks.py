"""Scheduled jobs of the kernel, run by `cqs worker` (registered in CoreConfig.ready())."""

import logging

from django_tasks import task

from chinhquyenso.core import audit

log = logging.getLogger(__name__)


@task()
def audit_checkpoint() -> dict:
    """Sign the audit records appended since the last checkpoint (core.audit.checkpoint).
    A chain that no longer matches its last checkpoint fails the task, loudly, instead of being signed."""
    try:
        written = audit.checkpoint()
    except audit.ChainBroken as error:
        log.error("audit checkpoint refused: %s", error.message)
        raise
    return {"checkpoints": len(written), "seq": written[-1].seq if written else None}
