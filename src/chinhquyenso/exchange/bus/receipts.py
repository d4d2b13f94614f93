"""Local services honour idempotency keys (docs/data-bus.md, "Delivery").

`once(request, handler)`: a request with an `Idempotency-Key` runs its handler in one transaction
with a BusReceipt (client, service, key, request hash, status, body); a repeat with the same key
gets the stored answer and does not run the handler again — so an at-least-once sender (the
outbox of this or another system) never makes a local service do its work twice.

- The same key with a different request (method, path, query, body) is refused with
  BusError("replayed") — HTTP 409, permanent: the client reused a key by mistake.
- Answers of 500 and above are not stored (the work was not done; a repeat runs again), nor is
  anything when the handler raises (its transaction rolls back).
- Two copies of one request at the same time: both may run, one commits; the other's insert of
  the receipt fails on the unique (client, service, key), its transaction — the handler's work
  included — rolls back, and it answers with the stored receipt.
- Without a key the handler simply runs (no transaction is opened for it here)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from chinhquyenso.exchange.bus.errors import BusError
from chinhquyenso.exchange.models import BusReceipt

Handler = Callable[[], tuple[int, bytes]]


def request_hash(request) -> str:
    """What a repeat must match: method, path, query and body."""
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query or ""):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.body or b"")
    return digest.hexdigest()


def _stored(receipt: BusReceipt, wanted: str, key: str) -> tuple[int, bytes]:
    if receipt.request_hash != wanted:
        raise BusError(
            "replayed",
            f"Khóa chống xử lý trùng “{key[:80]}” đã được dùng cho một yêu cầu khác; mỗi yêu cầu mới cần một khóa mới.",
            field="Idempotency-Key",
        )
    return receipt.status, receipt.response_body.encode()


def _find(request, key: str) -> BusReceipt | None:
    return BusReceipt.objects.filter(client=request.client[:300], service=request.service[:300], key=key).first()


def once(request, handler: Handler) -> tuple[int, bytes]:
    """Run `handler()` → (status, body) at most once per (client, service, idempotency key)."""
    key = (request.idempotency_key or "")[:200]
    if not key:
        return handler()
    wanted = request_hash(request)
    found = _find(request, key)
    if found is not None:
        return _stored(found, wanted, key)

    def run() -> tuple[int, bytes]:
        status, body = handler()
        if status < 500:
            with transaction.atomic():  # a savepoint: a duplicate rolls back the handler's work too
                BusReceipt.objects.create(
                    client=request.client[:300],
                    service=request.service[:300],
                    key=key,
                    request_hash=wanted,
                    status=status,
                    response_body=body.decode("utf-8", "replace"),
                    created_at=timezone.now(),
                )
        return status, body

    try:
        with transaction.atomic():
            return run()
    except IntegrityError:
        found = _find(request, key)
        if found is None:
            raise
        return _stored(found, wanted, key)
