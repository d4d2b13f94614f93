"""Asynchronous calls: written to the outbox in the transaction of the change that causes them,
delivered by the worker through the gateway (channel "bus").

(First version. Owner: delivery work — permanent errors, ordering, circuit, replies.)"""

from __future__ import annotations

import json

from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message


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


class BusSender:
    """The outbox's sender for channel "bus"."""

    def send(self, message: Message) -> None:
        from chinhquyenso.exchange.bus import gateway

        request = json.loads(message.body)
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
        if not response.ok:
            raise RuntimeError(f"HTTP {response.status}")
