"""Reads of the outbox: a user's in-app notices, and the messages that could
not be delivered, scoped to who may see them."""

from __future__ import annotations

from django.db.models import QuerySet

from chinhquyenso.accounts.access import scope_agency_ids
from chinhquyenso.accounts.selectors import is_ioc_operator, is_province_admin, is_read_only, sees_whole_province
from chinhquyenso.core.registry import IOC_MESSAGE_KINDS
from chinhquyenso.exchange.models import Message

UNDELIVERED = [Message.State.FAILED, Message.State.DEAD]


def notices_for(user, *, kind_prefix: str = "", unread_only: bool = False, limit: int = 20) -> list[Message]:
    """The in-app notices delivered to this user, newest first."""
    if not getattr(user, "pk", None):
        return []
    notices = Message.objects.filter(user=user, channel=Message.Channel.IN_APP, state=Message.State.SENT)
    if kind_prefix:
        notices = notices.filter(kind__startswith=kind_prefix)
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    return list(notices.order_by("-created_at", "-id")[:limit])


def _sees_every_message(user) -> bool:
    return is_province_admin(user) or sees_whole_province(user)


def undelivered(user, *, kind_prefix: str = "") -> QuerySet[Message]:
    """Messages that failed (retrying) or gave up (dead letters) that this
    user is responsible for: the province administrators and auditors see
    all; IOC operators the kinds the dispatching apps registered
    (core.registry.IOC_MESSAGE_KINDS: citizen feedback); officers their
    agencies' (and their predecessors')."""
    failed = Message.objects.filter(state__in=UNDELIVERED)
    if kind_prefix:
        failed = failed.filter(kind__startswith=kind_prefix)
    if not getattr(user, "pk", None) or getattr(user, "is_citizen", True):
        return failed.none()
    if _sees_every_message(user):
        return failed.order_by("-next_attempt_at", "-id")
    visible = failed.filter(agency_id__in=scope_agency_ids(user))
    if is_ioc_operator(user):
        for prefix in IOC_MESSAGE_KINDS.values():
            visible = visible | failed.filter(kind__startswith=prefix)
    return visible.order_by("-next_attempt_at", "-id")


def for_source(obj) -> QuerySet[Message]:
    """Every message about one record (a dossier, a report), oldest first."""
    return Message.objects.filter(source_type=obj._meta.label, source_id=str(obj.pk)).order_by("created_at", "id")


def may_retry(user, message: Message) -> bool:
    """Those who see a failed message may send it again; auditors only read."""
    if is_read_only(user):
        return False
    return undelivered(user).filter(pk=message.pk).exists()


def blocked_by(message: Message) -> Message | None:
    """The earliest earlier message with the same order_key that is not yet sent (pending, failed or
    dead): while there is one, this message waits ("đang chờ thư trước"). None: not held back."""
    if not message.order_key or message.state == Message.State.SENT:
        return None
    return (
        Message.objects.filter(
            order_key=message.order_key,
            state__in=[Message.State.PENDING, Message.State.FAILED, Message.State.DEAD],
            id__lt=message.pk,
        )
        .order_by("id")
        .first()
    )
