"""Idempotency keys: a retried create returns the first result and creates nothing."""

import hashlib
import json

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from chinhquyenso.core.errors import Conflict, DomainError
from chinhquyenso.core.models import IdempotencyKey


def request_fingerprint(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder).encode()).hexdigest()


def find(scope: str, key: str, payload) -> IdempotencyKey | None:
    """The stored result for this key, or None. Reusing a key for a different
    request is an error rather than a silent replay."""
    if not key:
        return None
    if len(key) > 200:
        raise DomainError("Idempotency-Key dài quá 200 ký tự.", "Idempotency-Key")
    entry = IdempotencyKey.objects.filter(scope=scope, key=key).first()
    if entry and entry.request_hash != request_fingerprint(payload):
        raise Conflict("Idempotency-Key này đã được dùng cho một yêu cầu khác.", "Idempotency-Key")
    return entry


def remember(scope: str, key: str, payload, obj) -> None:
    """Store the key with the created object, inside the creating transaction.

    Two concurrent first attempts race on the unique constraint; the loser's
    transaction is rolled back and its caller retries, finding the winner."""
    if not key:
        return
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                scope=scope,
                key=key,
                request_hash=request_fingerprint(payload),
                object_type=obj._meta.label,
                object_id=str(obj.pk),
            )
    except IntegrityError:
        raise Conflict("Yêu cầu với Idempotency-Key này đang được xử lý; hãy thử lại.", "Idempotency-Key")


def load(entry: IdempotencyKey):
    """The object a stored key points to."""
    return apps.get_model(entry.object_type).objects.get(pk=entry.object_id)
