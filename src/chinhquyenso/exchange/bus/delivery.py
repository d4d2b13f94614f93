"""Asynchronous calls: written to the outbox in the transaction of the change that causes them,
delivered by the worker through the gateway (channel "bus"); docs/data-bus.md, "Delivery".

- At least once: a message is sent again until the provider answers (a worker that dies mid-call
  leaves it claimed for OUTBOX_LEASE_SECONDS, then it is due again); every attempt carries the same
  `Idempotency-Key` (`idempotency_key(message)`), so a receiver that honours it does the work once.
- An answer 2xx: sent; then the reply handler `core.registry.BUS_REPLIES[kind]` (when registered)
  runs with (message, response) in its own transaction. It runs before the message is marked sent:
  a worker dying in between sends again and runs the handler again, so handlers must be idempotent.
  A handler that raises does not undo the delivery: the message stays sent, the error is kept on it
  (`last_error`, "Đã gửi; lỗi khi xử lý kết quả …") and logged (kind and id only).
- A refusal that sending again cannot change (the bus's permanent errors, a 4xx other than
  408/425/429): a dead letter at once. Transient failures (timeout, unreachable, 5xx, 408/425/429):
  exponential back-off, dead after OUTBOX_MAX_ATTEMPTS. An open circuit: deferred to the circuit's
  retry time without counting an attempt.
- Calls with the same `order_key` (one dossier's) are delivered in the order they were written.
- `replay` (`cqs bus replay ID`): a failed or dead call back to the queue, audited; `discard`
  (`cqs bus replay ID --discard --reason …`): given up on purpose, releasing its order_key."""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.db import transaction
from django.utils import timezone

from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.registry import BUS_REPLIES
from chinhquyenso.core.workflow import atomic_retrying
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.bus.errors import BusError
from chinhquyenso.exchange.models import Message

log = logging.getLogger(__name__)

# Answers below 500 that say "try again later" rather than "no".
TRANSIENT_STATUSES = frozenset({408, 425, 429})


def send(
    *,
    client: str,
    service: str,
    operation: str,
    kind: str,
    params: dict | None = None,
    json_body=None,
    order_key: str = "",
    correlation: str = "",
    agency_id: int | None = None,
    source=None,
    dedup_key: str | None = None,
) -> Message | None:
    """Queue a call to `operation` of `service` as `client`, inside the current transaction.
    `kind` names what it is for ("dossiers.part_send"): core.registry.BUS_REPLIES[kind], when
    registered, receives the answer. Calls with the same `order_key` are delivered in order."""
    request = {"client": client, "params": params or {}, "json": json_body, "correlation": correlation}
    return outbox.enqueue(
        channel=Message.Channel.BUS,
        recipient=service,
        subject=operation,
        kind=kind,
        body=json.dumps(request, ensure_ascii=False),
        agency_id=agency_id,
        source=source,
        dedup_key=dedup_key,
        order_key=order_key,
    )


def idempotency_key(message: Message) -> str:
    """The key every delivery attempt of one message carries: receivers do its work once."""
    return f"cqs-outbox-{message.pk}"


def _detail(response) -> str:
    """The provider's own short reason, when its error body says one."""
    try:
        body = json.loads(response.body or b"null")
    except ValueError:
        return ""
    if isinstance(body, dict):
        for name in ("detail", "message", "error"):
            if isinstance(body.get(name), str):
                return body[name][:200]
    return ""


class RemoteRefused(outbox.PermanentError):
    """The provider answered 4xx (other than 408/425/429): sending the same request again is useless."""


class RemoteBusy(Exception):
    """The provider answered 408, 425 or 429: try again later."""


class BusSender:
    """The outbox's sender for channel "bus"."""

    def send(self, message: Message) -> None:
        from chinhquyenso.exchange.bus import gateway

        request = json.loads(message.body)
        try:
            response = gateway.call(
                client=request["client"],
                service=message.recipient,
                operation=message.subject,
                params=request.get("params") or {},
                json_body=request.get("json"),
                idempotency_key=idempotency_key(message),
                correlation=request.get("correlation", ""),
                asynchronous=True,
            )
        except BusError as error:
            if error.code == "circuit_open" and error.retry_after is not None:
                raise outbox.Deferred(error.message, until=error.retry_after) from error
            raise  # BusError.permanent decides: dead letter at once, or back-off
        if not response.ok:
            detail = _detail(response)
            text = f"Hệ thống nhận trả lời HTTP {response.status}" + (f": {detail}" if detail else "")
            if response.status in TRANSIENT_STATUSES:
                raise RemoteBusy(text + " (thử lại sau).")
            raise RemoteRefused(text + " (không gửi lại tự động).")
        _reply(message, response)


def _reply(message: Message, response) -> None:
    if message.kind not in BUS_REPLIES:
        return
    handler = BUS_REPLIES.get(message.kind)
    try:
        atomic_retrying(lambda: handler(message, response))
    except Exception as error:
        # Delivered all the same: the answer is in the message log; the error stays on the message.
        log.error("bus reply for outbox message %s (%s) failed: %s", message.pk, message.kind, type(error).__name__)
        message.last_error = f"Đã gửi; lỗi khi xử lý kết quả: {type(error).__name__}: {error}"[:500]


# ---------------------------------------------------------------- replay


def replay(message_id: int, *, actor=None, at: dt.datetime | None = None) -> Message:
    """Put a failed or dead bus call back in the queue (attempts from zero), audited as
    `bus.replay`. Refuses a call already sent or still waiting, with a Vietnamese reason."""
    at = at or timezone.now()
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        raise DomainError(f"Không có lời gọi số {message_id} trong hàng đợi gửi.", "id")
    if message.channel != Message.Channel.BUS:
        raise DomainError(
            f"Thư, tin nhắn số {message_id} không phải lời gọi qua trục liên thông "
            f"({message.get_channel_display()}); hãy gửi lại trong trang quản trị.",
            "id",
        )
    if message.state == Message.State.SENT:
        when = timezone.localtime(message.sent_at).strftime("%H:%M:%S ngày %d/%m/%Y") if message.sent_at else ""
        raise DomainError(
            f"Lời gọi số {message_id} đã gửi thành công{' lúc ' + when if when else ''}; không gửi lại lời gọi đã gửi.",
            "id",
        )
    if message.state == Message.State.PENDING:
        raise DomainError(f"Lời gọi số {message_id} đang chờ gửi; không cần gửi lại.", "id")
    before = {"state": message.state, "attempts": message.attempts}
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, state__in=[Message.State.FAILED, Message.State.DEAD]).update(
            state=Message.State.PENDING, next_attempt_at=at, attempts=0
        )
        if not updated:
            raise DomainError(f"Lời gọi số {message_id} vừa đổi trạng thái; hãy xem lại rồi thử lại.", "id")
        audit.record(
            actor=actor,
            action="bus.replay",
            obj=message,
            agency_id=message.agency_id,
            at=at,
            before=before,
            after={
                "state": Message.State.PENDING,
                "kind": message.kind,
                "service": message.recipient,
                "operation": message.subject,
            },
        )
    message.refresh_from_db()
    return message


def discard(message_id: int, *, reason: str, actor=None, at: dt.datetime | None = None) -> Message:
    """Give up a failed or dead bus call on purpose (it will never be accepted as it is): state
    `discarded`, audited as `bus.discard` with the reason; the later calls with its order_key are
    no longer held back by it."""
    at = at or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Hãy ghi lý do hủy lời gọi.", "reason")
    message = Message.objects.filter(pk=message_id, channel=Message.Channel.BUS).first()
    if message is None:
        raise DomainError(f"Không có lời gọi qua trục số {message_id} trong hàng đợi gửi.", "id")
    if message.state not in (Message.State.FAILED, Message.State.DEAD):
        raise DomainError(
            f"Chỉ hủy được lời gọi đang lỗi hoặc đã dừng thử lại; lời gọi số {message_id} "
            f"đang ở trạng thái «{message.get_state_display()}».",
            "id",
        )
    before = {"state": message.state, "attempts": message.attempts}
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, state=message.state).update(
            state=Message.State.DISCARDED, next_attempt_at=at, last_error=f"Đã hủy: {reason}"[:500]
        )
        if not updated:
            raise DomainError(f"Lời gọi số {message_id} vừa đổi trạng thái; hãy xem lại rồi thử lại.", "id")
        audit.record(
            actor=actor,
            action="bus.discard",
            obj=message,
            agency_id=message.agency_id,
            at=at,
            before=before,
            after={"state": Message.State.DISCARDED, "kind": message.kind, "reason": reason[:300]},
        )
    message.refresh_from_db()
    return message
