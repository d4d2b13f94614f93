"""Append-only audit trail chained by SHA-256, anchored by signed checkpoints.

Each record's hash covers its content and the previous record's hash, so
altering a record breaks its own hash and deleting one breaks the chain;
`AuditHead` remembers the tip. But whoever can write to the database can
recompute every hash after an edit, delete the tail together with the head,
or delete everything: the chain alone proves nothing against them.

So `checkpoint()` signs the chain's head (HMAC-SHA256) with a key that is not
in the database (settings.AUDIT_KEY, or the file settings.AUDIT_KEY_FILE) and
appends it to JSON Lines files outside the database
(settings.AUDIT_CHECKPOINT_DIR: in production on another machine or
write-once storage). `verify()` checks the chain against them. A checkpoint
also carries a fingerprint of every record it covers (the first 16 hex
digits of its hash), so `verify` names the record that was edited and
re-hashed, not only the checkpoint it no longer matches.

`record()` does no more work than before: checkpoints are written by the
worker (CoreConfig registers the job), by `cqs audit checkpoint` and at the
end of `cqs seed-demo`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from chinhquyenso.core import signed_lines
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import AuditHead, AuditRecord

GENESIS = "0" * 64
FINGERPRINT = 16  # hex digits of each record's hash kept in a checkpoint: 64 bits, 16 bytes a record
PER_CHECKPOINT = 10_000  # records a checkpoint covers at most: bounds a line (~160 KB) and the writer's memory


_canonical = signed_lines.canonical
PREFIX = "checkpoints"  # the files: checkpoints-YYYY-MM.jsonl


def _digest(record: AuditRecord) -> str:
    body = {
        "seq": record.seq,
        # In UTC, as the database gives it back: a time passed in +07:00 must hash as it will be read.
        "created_at": record.created_at.astimezone(dt.UTC).isoformat(),
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
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def _actor_label(actor) -> str:
    """Who acted, as the trail shows it. A citizen is shown by account number only: their username
    is their ID number, and the trail can never be erased (Decree 13/2023)."""
    if not getattr(actor, "pk", None):
        return str(actor or "hệ thống")[:150]
    if getattr(actor, "is_citizen", False):
        return f"công dân #{actor.pk}"
    return actor.get_username()[:150]


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
        actor_label=_actor_label(actor),
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


# --- Checkpoints ---------------------------------------------------------------------------------


class ChainBroken(DomainError):
    """The chain no longer matches its last checkpoint: no new checkpoint is signed over it."""

    def __init__(self, message: str):
        super().__init__(message, code="audit_chain_broken")


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint: records first..seq, the hash of record `seq`, their fingerprints."""

    first: int
    seq: int
    hash: str
    at: str
    fingerprints: str
    where: str  # "dòng 3 của tệp checkpoints-2026-12.jsonl", for messages

    def fingerprint(self, seq: int) -> str:
        start = (seq - self.first) * FINGERPRINT
        return self.fingerprints[start : start + FINGERPRINT]

    @property
    def when(self) -> str:
        return f"{timezone.localtime(dt.datetime.fromisoformat(self.at)):%H:%M ngày %d/%m/%Y}"


def _key(create: bool = False) -> bytes | None:
    """The signing key: settings.AUDIT_KEY, or the key file (generated on the first checkpoint,
    readable by the service account only, the way secret.key is)."""
    if settings.AUDIT_KEY:
        return settings.AUDIT_KEY.encode()
    path = Path(settings.AUDIT_KEY_FILE)
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
    try:
        return path.read_text().strip().encode() or None
    except FileNotFoundError:
        return None


def _sign(body: dict, key: bytes) -> str:
    return hmac.new(key, _canonical(body).encode(), hashlib.sha256).hexdigest()


def checkpoint_directory() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def _files() -> list[Path]:
    return signed_lines.files(checkpoint_directory(), PREFIX)


def _parse(raw: bytes, where: str, key: bytes) -> Checkpoint | str:
    """The checkpoint on one line, or what is wrong with the line (Vietnamese)."""
    try:
        body = json.loads(raw)
        sig = body.pop("sig")
        point = Checkpoint(
            first=int(body["first"]),
            seq=int(body["seq"]),
            hash=str(body["hash"]),
            at=str(body["at"]),
            fingerprints=str(body["fp"]),
            where=where,
        )
        dt.datetime.fromisoformat(point.at)
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"Điểm mốc ở {where} không đọc được (ghi dở hoặc bị sửa)."
    if not isinstance(sig, str) or not hmac.compare_digest(sig, _sign(body, key)):
        return (
            f"Điểm mốc ở {where} (tới bản ghi số {point.seq}) có chữ ký sai: "
            "bị sửa, bị giả mạo hoặc được ký bằng khóa khác."
        )
    if not 1 <= point.first <= point.seq or len(point.fingerprints) != FINGERPRINT * (point.seq - point.first + 1):
        return f"Điểm mốc ở {where} có chữ ký đúng nhưng nội dung không hợp lệ."
    return point


def _read(key: bytes) -> Iterator[Checkpoint | str]:
    """Every checkpoint line, in order: a Checkpoint, or what is wrong with the line."""
    for raw, where in signed_lines.lines(checkpoint_directory(), PREFIX):
        yield _parse(raw, where, key)


def _append(directory: Path, key: bytes, first: int, seq: int, hash_: str, fingerprints: list[str], at) -> Checkpoint:
    body = {"v": 1, "first": first, "seq": seq, "hash": hash_, "at": at.isoformat(), "fp": "".join(fingerprints)}
    body["sig"] = _sign(body, key)
    name = signed_lines.append(directory, PREFIX, body, at)
    return Checkpoint(first, seq, hash_, body["at"], body["fp"], name)


def checkpoint(now: dt.datetime | None = None) -> list[Checkpoint]:
    """Sign the records appended since the last checkpoint and append the checkpoints
    (one per PER_CHECKPOINT records) to the checkpoint files; [] when nothing is new.

    The new records are checked first (contiguous, each hash right, linked to the
    last checkpoint's hash): a checkpoint never signs a chain that was tampered with."""
    directory = checkpoint_directory()
    with signed_lines.locked(directory):
        key = _key(create=True)
        if key is None:
            raise ChainBroken(f"Không ghi điểm mốc kiểm toán: tệp khóa {settings.AUDIT_KEY_FILE} rỗng.")
        found = signed_lines.latest_line(directory, PREFIX)
        last = _parse(*found, key) if found else None
        if isinstance(last, str):
            raise ChainBroken(f"Không ghi điểm mốc kiểm toán: {last}")
        covered, prev = (last.seq, last.hash) if last else (0, GENESIS)
        head = AuditHead.objects.filter(id=1).first()
        top = head.seq if head else 0
        if top < covered:
            raise ChainBroken(
                f"Không ghi điểm mốc kiểm toán: chuỗi chỉ còn tới bản ghi số {top}, điểm mốc trước đã ghi nhận "
                f"tới số {covered}. Chạy `cqs audit verify` để xem chi tiết."
            )
        written, fingerprints, first = [], [], covered + 1
        entries = AuditRecord.objects.filter(seq__gt=covered, seq__lte=top).order_by("seq")
        for entry in entries.iterator(chunk_size=5000):
            if entry.seq != covered + 1 or entry.prev_hash != prev or _digest(entry) != entry.hash:
                raise ChainBroken(
                    f"Không ghi điểm mốc kiểm toán: bản ghi số {covered + 1} không nối đúng chuỗi từ điểm mốc "
                    "trước. Chạy `cqs audit verify` để xem chi tiết."
                )
            fingerprints.append(entry.hash[:FINGERPRINT])
            covered, prev = entry.seq, entry.hash
            if len(fingerprints) == PER_CHECKPOINT or covered == top:
                written.append(_append(directory, key, first, covered, prev, fingerprints, now or timezone.now()))
                first, fingerprints = covered + 1, []
        if covered < top:
            raise ChainBroken(
                f"Không ghi điểm mốc kiểm toán: bản ghi số {covered + 1} đến {top} đã bị xóa. "
                "Chạy `cqs audit verify` để xem chi tiết."
            )
        return written


# --- Verification --------------------------------------------------------------------------------


class Verification(NamedTuple):
    ok: bool
    message: str
    warnings: tuple[str, ...] = ()


def _scan_checkpoints(key: bytes | None) -> tuple[list[str], Checkpoint | None, int]:
    """Every checkpoint line's signature and their continuity: (problems, latest, count)."""
    files = _files()
    if files and key is None:
        where = f"CQS_AUDIT_KEY hoặc tệp {settings.AUDIT_KEY_FILE}"
        return [f"Không có khóa ký điểm mốc ({where}): không kiểm được chữ ký của các điểm mốc."], None, 0
    problems, latest, count, covered, after_bad = [], None, 0, 0, False
    for item in _read(key) if files else ():
        if isinstance(item, str):
            problems.append(item)
            after_bad = True
            continue
        if item.first > covered + 1 and not after_bad:
            problems.append(
                f"Thiếu điểm mốc cho bản ghi số {covered + 1} đến {item.first - 1} "
                f"(trước {item.where}): dòng điểm mốc đã bị xóa."
            )
        elif item.first <= covered:
            problems.append(f"Điểm mốc ở {item.where} lặp lại bản ghi đã có điểm mốc (số {item.first} đến {covered}).")
        covered, after_bad, count = max(covered, item.seq), False, count + 1
        latest = item if latest is None or item.seq > latest.seq else latest
    if len(problems) > 5:
        problems[5:] = [f"… và {len(problems) - 5} lỗi điểm mốc khác."]
    return problems, latest, count


def _link_broken(seq: int, entry_confirmed: bool, previous_confirmed: bool) -> str:
    """Which record a broken link (record `seq` does not point at record seq-1's hash) convicts.

    Both records' own hashes are right, so one of them was rewritten whole. A checkpoint that
    confirms one of the two convicts the other; without one, both are named."""
    if seq == 1:
        return "Bản ghi kiểm toán số 1 là giả: không nối với đầu chuỗi."
    if entry_confirmed:
        return (
            f"Bản ghi kiểm toán số {seq - 1} đã bị sửa rồi tính lại mã băm: bản ghi số {seq}, "
            "được điểm mốc có chữ ký xác nhận, không còn nối với nó."
        )
    if previous_confirmed:
        return (
            f"Bản ghi kiểm toán số {seq} là giả (thêm vào ngoài hệ thống): không nối với bản ghi số {seq - 1} "
            "mà điểm mốc có chữ ký đã xác nhận."
        )
    return (
        f"Bản ghi kiểm toán số {seq} không nối với bản ghi số {seq - 1}: bản ghi số {seq} là giả, "
        f"hoặc bản ghi số {seq - 1} đã bị sửa rồi tính lại mã băm (chưa có điểm mốc để phân định)."
    )


def _walk(checkpoints: Iterator[Checkpoint], batch_size: int) -> tuple[str | None, AuditRecord | None, int]:
    """Stream the chain against the checkpoints: (first problem, last record, records confirmed)."""
    point = next(checkpoints, None)
    expected_prev, expected_seq, last, confirmed, confirmed_seq = GENESIS, 1, None, 0, 0
    for entry in AuditRecord.objects.order_by("seq").iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            upto = "" if entry.seq == expected_seq + 1 else f" đến {entry.seq - 1}"
            return f"Bản ghi kiểm toán số {expected_seq}{upto} đã bị xóa.", last, confirmed
        if _digest(entry) != entry.hash:
            return f"Bản ghi kiểm toán số {entry.seq} đã bị sửa đổi (mã băm không khớp nội dung).", last, confirmed
        while point is not None and point.seq < entry.seq:
            point = next(checkpoints, None)
        covered = point is not None and point.first <= entry.seq
        if covered:
            if entry.hash[:FINGERPRINT] != point.fingerprint(entry.seq) or (
                entry.seq == point.seq and entry.hash != point.hash
            ):
                return (
                    f"Bản ghi kiểm toán số {entry.seq} đã bị sửa rồi tính lại mã băm: mã băm khác với điểm mốc "
                    f"có chữ ký lúc {point.when} ({point.where}).",
                    last,
                    confirmed,
                )
            confirmed += 1
        if entry.prev_hash != expected_prev:
            return _link_broken(entry.seq, covered, confirmed_seq == entry.seq - 1), last, confirmed
        if covered:
            confirmed_seq = entry.seq
        expected_prev, expected_seq, last = entry.hash, entry.seq + 1, entry
    return None, last, confirmed


def verify(batch_size: int = 5000) -> Verification:
    """Walk the chain against the signed checkpoints; the message names the first bad record."""
    key = _key()
    problems, latest, count = _scan_checkpoints(key)
    # The head before the walk: records up to it were committed before the walk began, so a
    # shorter chain means deletion even while new records are being appended.
    head_before = AuditHead.objects.filter(id=1).first()
    valid = (item for item in (_read(key) if key and latest else ()) if isinstance(item, Checkpoint))
    failure, last, confirmed = _walk(valid, batch_size)
    length = last.seq if last else 0
    head = AuditHead.objects.filter(id=1).first()
    if failure is None and latest is not None and latest.seq > length:
        failure = (
            f"Bản ghi kiểm toán số {length + 1} đến {latest.seq} đã bị xóa: điểm mốc có chữ ký lúc {latest.when} "
            f"({latest.where}) ghi nhận chuỗi tới bản ghi số {latest.seq}, cơ sở dữ liệu chỉ còn {length} bản ghi."
        )
    if failure is None and length and head is None:
        failure = (
            "Dòng đầu chuỗi kiểm toán (AuditHead) đã bị xóa: không biết các bản ghi "
            f"sau số {length} có bị xóa cùng hay không."
        )
    if failure is None and head_before is not None and head_before.seq > length:
        failure = f"Bản ghi kiểm toán số {length + 1} đến {head_before.seq} đã bị xóa."
    if failure is None and head is not None and head.seq < length:
        failure = (
            f"Bản ghi kiểm toán số {head.seq + 1} là giả (thêm vào ngoài hệ thống): đầu chuỗi chỉ ghi nhận "
            f"tới số {head.seq}, cơ sở dữ liệu có tới số {length}."
        )
    if failure is None and head is not None and length and head.seq == length and head.hash != last.hash:
        failure = f"Bản ghi kiểm toán số {length} đã bị thay thế: mã băm khác với đầu chuỗi."
    if failure or problems:
        return Verification(False, " ".join(([failure] if failure else []) + problems))
    message = f"Chuỗi kiểm toán toàn vẹn: {length} bản ghi."
    warnings = []
    if latest is None:
        warnings.append(
            f"Cảnh báo: chưa có điểm mốc có chữ ký nào trong {checkpoint_directory()}, nên không phát hiện được việc tính lại "
            "mã băm sau khi sửa hay xóa cả chuỗi. Chạy `cqs audit checkpoint` và để `cqs worker` chạy."
        )
    else:
        message += (
            f" {confirmed} bản ghi được {count} điểm mốc có chữ ký xác nhận; "
            f"điểm mốc mới nhất lúc {latest.when}, tới bản ghi số {latest.seq}."
        )
        if length > latest.seq:
            warnings.append(
                f"Cảnh báo: {length - latest.seq} bản ghi mới nhất (từ số {latest.seq + 1}) chưa có điểm mốc; "
                "điểm mốc định kỳ tiếp theo sẽ xác nhận chúng."
            )
    return Verification(True, message, tuple(warnings))
