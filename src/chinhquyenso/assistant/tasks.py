"""Scheduled jobs of the assistant, run by `cqs worker` (registered in AssistantConfig.ready())."""

from django_tasks import task

from chinhquyenso.assistant import conversation


@task()
def forget_conversations() -> dict:
    """Forget conversations idle for longer than a follow-up may refer to them."""
    return {"forgotten": conversation.forget_expired()}
