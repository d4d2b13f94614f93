"""The bus's message log: every call that passed or was refused, hash-chained.

(First version: append only. Owner: message-log work — seals, verify, search, archive.)"""

from __future__ import annotations

import hashlib
import json

from django.db import transaction

from chinhquyenso.exchange.models import BusLogEntry, BusLogHead

# The fields an entry's hash covers, in this order (the bodies through their hashes).
CHAINED_FIELDS = (
    "seq",
    "at",
    "message_id",
    "client",
    "service",
    "operation",
    "method",
    "status",
    "outcome",
    "error_code",
    "duration_ms",
    "asynchronous",
    "idempotency_key",
    "correlation",
    "request_hash",
    "response_hash",
)


def body_hash(body: bytes | str) -> str:
    if isinstance(body, str):
        body = body.encode()
    return hashlib.sha256(body).hexdigest() if body else ""


def _value(entry: BusLogEntry, name: str):
    value = getattr(entry, name)
    if name == "at":
        return value.isoformat(timespec="microseconds")
    if name == "duration_ms":
        return round(float(value), 3)
    return value


def digest(entry: BusLogEntry) -> str:
    content = json.dumps([_value(entry, name) for name in CHAINED_FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{entry.prev_hash}:{content}".encode()).hexdigest()


def append(**fields) -> BusLogEntry:
    """Store one entry at the head of the chain. Runs in its own short transaction (the bus never
    holds one across a call); `request_body` / `response_body` are text, their hashes are computed here."""
    entry = BusLogEntry(**fields)
    entry.request_hash = body_hash(entry.request_body)
    entry.response_hash = body_hash(entry.response_body)
    entry.duration_ms = round(float(entry.duration_ms), 3)
    with transaction.atomic():
        head = BusLogHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            BusLogHead.objects.get_or_create(pk=1)
            head = BusLogHead.objects.select_for_update().get(pk=1)
        entry.seq, entry.prev_hash = head.seq + 1, head.hash
        entry.entry_hash = digest(entry)
        entry.save()
        head.seq, head.hash = entry.seq, entry.entry_hash
        head.save(update_fields=["seq", "hash"])
    return entry
