"""Writing to and delivering from the outbox (exchange.models.Message).

- `enqueue` / `enqueue_many` run inside the transaction of the change that
  causes the message: it is stored with the change or not at all.
- `deliver_due` (the worker's job, every minute) sends what is due, each
  message claimed by a conditional UPDATE so parallel workers never send it
  twice. A failure keeps the message with its error and retries it with
  exponential back-off; after the last attempt it becomes a dead letter,
  visible to the agency's officers and the administrators, who may send it
  again (`retry`). No sender ever runs inside a transaction.
- `urgent=True` (a verification code the citizen is waiting for) also asks
  the worker to deliver right after commit instead of at the next minute.
- A sender may raise `PermanentError` (or any error whose `permanent` is
  true: a request the receiver refuses and would refuse again) — the message
  becomes a dead letter at once, without retries — or `Deferred` (the
  receiver is known to be unavailable until a time: an open circuit) — the
  message waits until then and the attempt is not counted. Anything else is
  transient: back-off, dead after OUTBOX_MAX_ATTEMPTS.
- Per-key ordering: a message with an `order_key` is not claimed while an
  earlier one (lower id) with the same key is unsent (pending, failed or
  dead): a dead letter holds the later ones until it is sent again or
  discarded (state `discarded`, exchange.bus.delivery.discard).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.workflow import in_transaction
from chinhquyenso.exchange.models import Message
from chinhquyenso.exchange.selectors import may_retry

log = logging.getLogger(__name__)

DEFAULTS = {
    "OUTBOX_SENDERS": {
        Message.Channel.IN_APP: "chinhquyenso.exchange.senders.InAppSender",
        Message.Channel.EMAIL: "chinhquyenso.exchange.senders.EmailSender",
        Message.Channel.SMS: "chinhquyenso.exchange.senders.ConsoleSmsSender",
        # The simulator or the OA API, as CQS["ZALO_ADAPTER"] says (docs/national-systems.md).
        Message.Channel.ZALO: "chinhquyenso.exchange.senders.zalo_sender",
        Message.Channel.BUS: "chinhquyenso.exchange.bus.delivery.BusSender",
    },
    "OUTBOX_MAX_ATTEMPTS": 5,
    "OUTBOX_BACKOFF_SECONDS": 60,
    "OUTBOX_BACKOFF_MAX_SECONDS": 6 * 3600,
    # A claimed message not finished by then (a worker died mid-send) is due again.
    "OUTBOX_LEASE_SECONDS": 300,
}


ERASED = "(nội dung bí mật đã xóa sau khi gửi)"


def conf(name: str):
    value = settings.CQS.get(name)
    if name == "OUTBOX_SENDERS":
        return {**DEFAULTS[name], **(value or {})}
    return DEFAULTS[name] if value is None else value


def absolute_url(path: str) -> str:
    """A link a recipient can click from outside: CQS_SITE_URL + path."""
    base = settings.CQS.get("SITE_URL", "").rstrip("/")
    return f"{base}{path}" if path.startswith("/") else path


def _source(source) -> tuple[str, str]:
    if source is None:
        return "", ""
    return source._meta.label, str(source.pk)


def build(
    *,
    channel: str,
    kind: str,
    body: str,
    recipient: str = "",
    user=None,
    subject: str = "",
    agency_id: int | None = None,
    link: str = "",
    source=None,
    dedup_key: str | None = None,
    secret: bool = False,
    order_key: str = "",
    at: dt.datetime | None = None,
) -> Message:
    """An unsaved message (for `enqueue_many`)."""
    if channel not in Message.Channel.values:
        raise ValueError(f"unknown outbox channel {channel!r}")
    if channel == Message.Channel.IN_APP and user is None:
        raise ValueError("an in-app notice needs a user")
    if channel != Message.Channel.IN_APP and not recipient:
        raise ValueError("an e-mail, SMS or Zalo message needs a recipient")
    at = at or timezone.now()
    source_type, source_id = _source(source)
    return Message(
        channel=channel,
        recipient=recipient or (str(user.pk) if user is not None else ""),
        user=user,
        agency_id=agency_id,
        kind=kind,
        subject=subject[:255],
        body=body,
        link=absolute_url(link)[:500] if link else "",
        source_type=source_type,
        source_id=source_id,
        dedup_key=dedup_key,
        secret=secret,
        order_key=order_key,
        next_attempt_at=at,
        created_at=at,
    )


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox messages are written inside the transaction of the change that causes them")


def enqueue(*, urgent: bool = False, **fields) -> Message | None:
    """Store one message in the current transaction. With a `dedup_key`
    already used, nothing is stored and None is returned."""
    _require_transaction()
    message = build(**fields)
    if message.dedup_key:
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            return None
    else:
        message.save()
    if urgent:
        _deliver_after_commit([message.pk])
    return message


def enqueue_many(messages: Iterable[Message]) -> int:
    """Store built messages in the current transaction; those whose dedup_key
    is already used are skipped. Returns how many were stored."""
    _require_transaction()
    messages = list(messages)
    keyed = [m.dedup_key for m in messages if m.dedup_key]
    taken = set(Message.objects.filter(dedup_key__in=keyed).values_list("dedup_key", flat=True)) if keyed else set()
    fresh = [m for m in messages if not m.dedup_key or m.dedup_key not in taken]
    # ignore_conflicts: a concurrent transaction may store the same key meanwhile; its message stands.
    Message.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=bool(keyed))
    return len(fresh)


def _deliver_after_commit(ids: list[int]) -> None:
    from chinhquyenso.exchange.tasks import deliver_messages

    transaction.on_commit(lambda: deliver_messages.enqueue(ids))


# ---------------------------------------------------------------- delivery (worker)


class PermanentError(Exception):
    """Raised by a sender when sending again cannot help (the receiver refused the request as
    it is): the message becomes a dead letter at once."""

    permanent = True


class Deferred(Exception):
    """Raised by a sender when the receiver is known to be unavailable until `until` (an open
    circuit breaker): the message waits until then, and the attempt is not counted."""

    def __init__(self, message: str, *, until: dt.datetime):
        super().__init__(message)
        self.until = until


# A message with an order_key waits while an earlier message with the same key is one of these.
UNSENT = [Message.State.PENDING, Message.State.FAILED, Message.State.DEAD]


def in_order(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Those of `messages` not held back by an earlier unsent message with the same order_key
    (NOT EXISTS over the index outbox_order: order_key, state, id)."""
    earlier = Message.objects.filter(order_key=OuterRef("order_key"), state__in=UNSENT, id__lt=OuterRef("id"))
    return messages.filter(Q(order_key="") | ~Exists(earlier))


def _senders() -> dict[str, object]:
    return {channel: import_string(path)() for channel, path in conf("OUTBOX_SENDERS").items()}


def _backoff(attempts: int) -> dt.timedelta:
    base, cap = conf("OUTBOX_BACKOFF_SECONDS"), conf("OUTBOX_BACKOFF_MAX_SECONDS")
    return dt.timedelta(seconds=min(cap, base * 2 ** (attempts - 1)))


def _fail(message: Message, error: Exception, now: dt.datetime, max_attempts: int) -> None:
    message.last_error = f"{type(error).__name__}: {error}"[:500]
    if getattr(error, "permanent", False) is True:
        message.state, message.next_attempt_at = Message.State.DEAD, now
        log.warning(
            "outbox message %s (%s) is a dead letter: the receiver refused it (%s)",
            message.pk,
            message.kind,
            type(error).__name__,
        )
    elif message.attempts >= max_attempts:
        message.state, message.next_attempt_at = Message.State.DEAD, now
        log.warning(
            "outbox message %s (%s) is a dead letter after %s attempts", message.pk, message.kind, message.attempts
        )
    else:
        message.state, message.next_attempt_at = Message.State.FAILED, now + _backoff(message.attempts)


def deliver(messages: Iterable[Message], now: dt.datetime) -> tuple[int, int]:
    """Claim and send each message; record the outcome. Never inside a transaction."""
    if in_transaction():
        raise RuntimeError("outbox delivery must not run inside a transaction")
    senders: dict[str, object] | None = None
    max_attempts, lease = conf("OUTBOX_MAX_ATTEMPTS"), dt.timedelta(seconds=conf("OUTBOX_LEASE_SECONDS"))
    sent = failed = 0
    # (channel, recipient) → the Deferred a sender raised in this run: later messages to the same
    # receiver wait as well, without calling it.
    deferred: dict[tuple[str, str], Deferred] = {}
    for message in messages:
        claimed = Message.objects.filter(
            pk=message.pk, state=message.state, next_attempt_at=message.next_attempt_at
        ).update(next_attempt_at=now + lease)
        if not claimed:
            continue  # another worker took it
        message.attempts += 1
        message.last_error = ""  # a sender may note a problem that came after a successful send
        try:
            known = deferred.get((message.channel, message.recipient))
            if known is not None:
                raise known
            senders = senders if senders is not None else _senders()
            sender = senders.get(message.channel)
            if sender is None:
                raise ImproperlyConfigured(f"Chưa cấu hình cách gửi cho kênh {message.channel}.")
            sender.send(message)
        except Deferred as wait:
            # Not tried: the attempt does not count, the state stays as it was.
            deferred[(message.channel, message.recipient)] = wait
            message.attempts -= 1
            message.last_error = str(wait)[:500]
            message.next_attempt_at = max(wait.until, now)
        except Exception as error:  # any failure of a gateway: keep the message, try again later
            failed += 1
            _fail(message, error, now, max_attempts)
        else:
            sent += 1
            message.state, message.sent_at, message.next_attempt_at = Message.State.SENT, now, now
        fields = ["attempts", "state", "last_error", "next_attempt_at", "sent_at"]
        if message.secret and message.state in (Message.State.SENT, Message.State.DEAD):
            message.body, fields = ERASED, [*fields, "body"]
        message.save(update_fields=fields)
    return sent, failed


def deliver_due(now: dt.datetime | None = None, *, limit: int = 500) -> tuple[int, int]:
    """Send what is due (pending, or failed and past its back-off): (sent, failed)."""
    now = now or timezone.now()
    due = Message.objects.filter(state__in=[Message.State.PENDING, Message.State.FAILED], next_attempt_at__lte=now)
    return deliver(list(in_order(due).order_by("next_attempt_at", "id")[:limit]), now)


def deliver_now(ids: list[int], now: dt.datetime | None = None) -> tuple[int, int]:
    """Send these messages now if they are still due (the urgent path)."""
    now = now or timezone.now()
    due = Message.objects.filter(pk__in=ids, state__in=[Message.State.PENDING, Message.State.FAILED])
    return deliver(list(in_order(due.filter(next_attempt_at__lte=now)).order_by("id")), now)


def retry(message: Message, *, actor, at: dt.datetime | None = None) -> Message:
    """Send a failed or dead message again (an officer's or administrator's
    action; who may is decided by exchange.selectors.may_retry)."""
    at = at or timezone.now()
    if not may_retry(actor, message):
        raise PermissionDenied()
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, state__in=[Message.State.FAILED, Message.State.DEAD]).update(
            state=Message.State.PENDING, next_attempt_at=at, attempts=0
        )
        if not updated:
            raise DomainError("Thư, tin nhắn này không ở trạng thái gửi lỗi.", "state")
        audit.record(
            actor=actor,
            action="outbox.retry",
            obj=message,
            agency_id=message.agency_id,
            at=at,
            after={"state": Message.State.PENDING, "kind": message.kind},
        )
    message.refresh_from_db()
    return message


def mark_read(user, ids: Iterable[int], at: dt.datetime | None = None) -> int:
    return Message.objects.filter(
        pk__in=list(ids), user=user, channel=Message.Channel.IN_APP, read_at__isnull=True
    ).update(read_at=at or timezone.now())
