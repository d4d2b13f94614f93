"""The outbox's worker jobs (registered in ExchangeConfig.ready())."""

from django_tasks import task

from chinhquyenso.exchange import outbox


@task()
def deliver_outbox() -> dict:
    """Send due messages; retry failed ones with back-off."""
    sent, failed = outbox.deliver_due()
    return {"sent": sent, "failed": failed}


@task()
def deliver_messages(ids: list[int]) -> dict:
    """Send these messages now (enqueued after commit for urgent messages)."""
    sent, failed = outbox.deliver_now(ids)
    return {"sent": sent, "failed": failed}
