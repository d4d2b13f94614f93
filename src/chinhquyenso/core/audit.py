"""Append-only audit trail chained by SHA-256.

Each record's hash covers its content and the previous record's hash, so
altering any record breaks its own hash and deleting one breaks the chain;
`AuditHead` remembers the tip, so deleting the newest records shows too.
"""

from __future__ import annotations

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from chinhquyenso.core.models import AuditHead, AuditRecord

GENESIS = "0" * 64


def _digest(record: AuditRecord) -> str:
    body = {
        "seq": record.seq,
        "created_at": record.created_at.isoformat(),
        "actor": record.actor_id,
        "actor_label": record.actor_label,
        "agency": record.agency_id,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": str(record.object_id),
        "before": record.before,
        "after": record.after,
        "prev": record.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _jsonable(data: dict | None) -> dict:
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))


def record(
    *,
    actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id="",
    agency_id=None,
    before: dict | None = None,
    after: dict | None = None,
    at=None,
) -> AuditRecord:
    """Append one audit record. Call inside the transaction that makes the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
    entry = AuditRecord(
        seq=head.seq + 1,
        created_at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=(actor.get_username() if getattr(actor, "pk", None) else str(actor or "hệ thống"))[:150],
        agency_id=agency_id,
        action=action,
        object_type=object_type or (obj._meta.label if obj is not None else ""),
        object_id=str(object_id or (obj.pk if obj is not None else "")),
        before=_jsonable(before),
        after=_jsonable(after),
        prev_hash=head.hash,
    )
    entry.hash = _digest(entry)
    entry.save()
    head.seq, head.hash = entry.seq, entry.hash
    head.save(update_fields=["seq", "hash"])
    return entry


def verify(batch_size: int = 5000) -> tuple[bool, str]:
    """Walk the chain; return (ok, message naming the first broken record)."""
    expected_prev, expected_seq, last = GENESIS, 1, None
    for entry in AuditRecord.objects.order_by("seq").iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            return False, f"Bản ghi kiểm toán số {expected_seq} đã bị xóa (gặp bản ghi số {entry.seq})."
        if entry.prev_hash != expected_prev:
            return False, f"Bản ghi kiểm toán số {entry.seq} không nối đúng chuỗi (bản ghi trước đã bị sửa hoặc xóa)."
        if _digest(entry) != entry.hash:
            return False, f"Bản ghi kiểm toán số {entry.seq} đã bị sửa đổi (mã băm không khớp)."
        expected_prev, expected_seq, last = entry.hash, entry.seq + 1, entry
    head = AuditHead.objects.filter(id=1).first()
    if head and head.seq and (last is None or head.seq != last.seq or head.hash != last.hash):
        return False, f"Bản ghi kiểm toán số {(last.seq if last else 0) + 1} đến {head.seq} đã bị xóa."
    count = last.seq if last else 0
    return True, f"Chuỗi kiểm toán toàn vẹn: {count} bản ghi."
