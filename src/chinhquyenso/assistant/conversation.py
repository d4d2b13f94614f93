"""What a chat is about: the procedure of the last confident answer, so a follow-up without a
procedure ("còn lệ phí thì sao?", "mất bao lâu") refers to it. Kept in assistant.Conversation,
keyed by the SHA-256 of the caller's session id (the session id itself is never stored), and
forgotten EXPIRE_MINUTES after the last question. No question text is kept here."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chinhquyenso.assistant.models import Conversation

EXPIRE_MINUTES = 30


def key_of(session_key: str) -> str:
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def current_procedure(session_key: str, at: dt.datetime | None = None) -> str:
    """The procedure code the conversation is about, or "" (none yet, or expired)."""
    if not session_key:
        return ""
    at = at or timezone.now()
    row = Conversation.objects.filter(key=key_of(session_key)).values("procedure_code", "updated_at").first()
    if row is None or row["updated_at"] < at - dt.timedelta(minutes=EXPIRE_MINUTES):
        return ""
    return row["procedure_code"]


@transaction.atomic
def remember(session_key: str, procedure_code: str | None, at: dt.datetime | None = None) -> None:
    """Count a turn; `procedure_code` (when not None) becomes what the conversation is about.
    An expired conversation starts again."""
    if not session_key:
        return
    at = at or timezone.now()
    key = key_of(session_key)
    conversation, created = Conversation.objects.select_for_update().get_or_create(
        key=key, defaults={"procedure_code": procedure_code or "", "turns": 1, "updated_at": at}
    )
    if created:
        return
    expired = conversation.updated_at < at - dt.timedelta(minutes=EXPIRE_MINUTES)
    changes = {"updated_at": at, "turns": 1 if expired else F("turns") + 1}
    if procedure_code is not None:
        changes["procedure_code"] = procedure_code
    elif expired:
        changes["procedure_code"] = ""
    Conversation.objects.filter(pk=conversation.pk).update(**changes)


def forget_expired(at: dt.datetime | None = None) -> int:
    """Delete conversations idle for more than EXPIRE_MINUTES (a job may call it)."""
    at = at or timezone.now()
    deleted, _ = Conversation.objects.filter(updated_at__lt=at - dt.timedelta(minutes=EXPIRE_MINUTES)).delete()
    return deleted
