"""The bus's message log: every call that passed or was refused, hash-chained, sealed, searchable,
archived (docs/data-bus.md, "Message log").

- `append` (the gateway, one short transaction per call) stores an entry at the chain's head: its
  hash covers CHAINED_FIELDS and the previous entry's hash; the bodies are covered through
  `request_hash` / `response_hash`.
- `seal` (the `bus_log_seal` job every minute, `cqs bus log seal`) signs the new entries in batches
  of at most PER_SEAL with the bus's own key (exchange.bus.keys, not in the database): the payload
  {first_seq, last_seq, last_hash, count, sealed_at, key_id, fingerprints} is stored as a BusLogSeal
  and appended as a JSON line to monthly files in settings.BUS_LOG_SEAL_DIR (another machine or
  write-once storage in production), like core.audit's checkpoints. The writer refuses to seal a
  chain that does not link to the previous seal.
- `verify` checks every seal's signature and continuity, then streams the chain — archive files
  first, then the database — and names the first bad entry.
- `search` / `read_entry`: for the province administrator and auditors only; reading bodies is audited.
- `archive(before)` moves sealed entries older than a date into gzip JSON Lines files in
  settings.BUS_LOG_ARCHIVE_DIR (the `bus_log_archive` job applies CQS BUS_LOG_RETENTION_DAYS monthly).

Bodies may hold personal data: nothing here writes them to a log line."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import heapq
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.accounts.selectors import is_province_admin
from chinhquyenso.core import audit, signed_lines
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.exchange.bus import keys
from chinhquyenso.exchange.models import BusLogArchive, BusLogEntry, BusLogHead, BusLogSeal

log = logging.getLogger(__name__)

GENESIS = "0" * 64
PER_SEAL = 10_000  # entries a seal covers at most: bounds a seal line (~160 KB of fingerprints) and memory
FINGERPRINT = 16  # hex digits of each entry's hash a seal keeps (64 bits)
PER_ARCHIVE = 500_000  # entries an archive file holds at most (one transaction deletes them)
SEAL_PREFIX = "seals"  # seals-YYYY-MM.jsonl
READ_CHUNK = 5000

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
STORED_FIELDS = (*CHAINED_FIELDS, "request_body", "response_body", "prev_hash", "entry_hash")


def body_hash(body: bytes | str) -> str:
    if isinstance(body, str):
        body = body.encode()
    return hashlib.sha256(body).hexdigest() if body else ""


def _moment(value: dt.datetime) -> str:
    # In UTC, as the database gives it back: a time passed in +07:00 hashes as it will be read.
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _value(entry: BusLogEntry, name: str):
    value = getattr(entry, name)
    if name == "at":
        return _moment(value)
    if name == "duration_ms":
        return round(float(value), 3)
    return value


def digest(entry: BusLogEntry) -> str:
    content = json.dumps([_value(entry, name) for name in CHAINED_FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{entry.prev_hash}:{content}".encode()).hexdigest()


def _commit_without_waiting_for_disk() -> None:
    """On PostgreSQL, this transaction's commit does not wait for its WAL to reach the disk (the
    wait is most of a call's cost through the bus: docs/benchmarks.md). Nothing is lost that
    anything else depends on: the WAL is written in order, so the next ordinary commit — the outbox
    recording the call as sent, the dossier change an officer's page makes with the answer —
    flushes these entries with it; only on a crash of the database server itself may entries of the
    last fraction of a second with no such commit after them be lost, together with the chain head
    (the chain stays whole). CQS BUS_LOG_SYNCHRONOUS_COMMIT=1 makes every entry wait for the disk."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and not settings.CQS.get("BUS_LOG_SYNCHRONOUS_COMMIT"):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def append(**fields) -> BusLogEntry:
    """Store one entry at the head of the chain. Runs in its own short transaction (the bus never
    holds one across a call); `request_body` / `response_body` are text, their hashes are computed here."""
    entry = BusLogEntry(**fields)
    entry.request_hash = body_hash(entry.request_body)
    entry.response_hash = body_hash(entry.response_body)
    entry.duration_ms = round(float(entry.duration_ms), 3)
    with transaction.atomic():
        _commit_without_waiting_for_disk()
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


# --- Seals ---------------------------------------------------------------------------------------


class ChainBroken(DomainError):
    """The chain does not link to its last seal (or an archive cannot be made of it): nothing is signed."""

    def __init__(self, message: str):
        super().__init__(message, code="bus_log_chain_broken")


@dataclass(frozen=True)
class Seal:
    first_seq: int
    last_seq: int
    last_hash: str
    sealed_at: str  # ISO 8601, UTC, microseconds: the signed time stamp
    key_id: str
    fingerprints: str
    signature: str
    where: str  # "dòng 3 của tệp seals-2026-12.jsonl" / "cơ sở dữ liệu", for messages

    def payload(self) -> dict:
        return {
            "v": 1,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
            "count": self.last_seq - self.first_seq + 1,
            "sealed_at": self.sealed_at,
            "key_id": self.key_id,
            "fingerprints": self.fingerprints,
        }

    def line(self) -> dict:
        return {**self.payload(), "signature": self.signature}

    def fingerprint(self, seq: int) -> str:
        start = (seq - self.first_seq) * FINGERPRINT
        return self.fingerprints[start : start + FINGERPRINT]

    def same_as(self, other: Seal) -> bool:
        return self.payload() == other.payload()

    @property
    def when(self) -> str:
        return f"{timezone.localtime(dt.datetime.fromisoformat(self.sealed_at)):%H:%M:%S ngày %d/%m/%Y}"


def seal_directory() -> Path:
    return Path(settings.BUS_LOG_SEAL_DIR)


def _certificates() -> dict[str, str]:
    """The certificates seals are checked against, by key id: the bus's certificate and the earlier
    ones kept beside it after a key change (`bus.crt.2026`, …; docs/operations.md)."""
    path = Path(settings.BUS_CERT_FILE)
    found = {}
    for candidate in sorted(path.parent.glob(f"{path.name}*")) if path.parent.exists() else ():
        try:
            pem = candidate.read_text()
            found[keys.thumbprint(pem)] = pem
        except (OSError, ValueError):
            continue
    return found


def _check_signature(seal: Seal, certificates: dict[str, str]) -> str | None:
    """What is wrong with the seal's signature (Vietnamese), or None."""
    certificate = certificates.get(seal.key_id)
    if certificate is None:
        return (
            f"Niêm phong ở {seal.where} (bản ghi số {seal.first_seq} đến {seal.last_seq}) được ký bằng khóa "
            f"{seal.key_id}, không phải khóa của trục (hoặc thiếu chứng thư cũ của trục)."
        )
    if not keys.verify(signed_lines.canonical(seal.payload()).encode(), seal.signature, certificate):
        return (
            f"Niêm phong ở {seal.where} (bản ghi số {seal.first_seq} đến {seal.last_seq}) có chữ ký sai: "
            "bị sửa, bị giả mạo hoặc được ký bằng khóa khác."
        )
    if len(seal.fingerprints) != FINGERPRINT * (seal.last_seq - seal.first_seq + 1):
        return f"Niêm phong ở {seal.where} có chữ ký đúng nhưng nội dung không hợp lệ."
    return None


def _parse_line(raw: bytes, where: str) -> Seal | tuple[int, str]:
    try:
        body = json.loads(raw)
        seal = Seal(
            first_seq=int(body["first_seq"]),
            last_seq=int(body["last_seq"]),
            last_hash=str(body["last_hash"]),
            sealed_at=str(body["sealed_at"]),
            key_id=str(body["key_id"]),
            fingerprints=str(body["fingerprints"]),
            signature=str(body["signature"]),
            where=where,
        )
        dt.datetime.fromisoformat(seal.sealed_at)
        if not 1 <= seal.first_seq <= seal.last_seq:
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        return 0, f"Niêm phong ở {where} không đọc được (ghi dở hoặc bị sửa)."
    return seal


def _from_row(row: BusLogSeal) -> Seal:
    return Seal(
        first_seq=row.first_seq,
        last_seq=row.last_seq,
        last_hash=row.last_hash,
        sealed_at=_moment(row.sealed_at),
        key_id=row.key_id,
        fingerprints=row.fingerprints,
        signature=row.signature,
        where=f"cơ sở dữ liệu (niêm phong tới bản ghi số {row.last_seq})",
    )


def _file_seals() -> Iterator[Seal | tuple[int, str]]:
    for raw, where in signed_lines.lines(seal_directory(), SEAL_PREFIX):
        yield _parse_line(raw, where)


def _db_seals() -> Iterator[Seal]:
    for row in BusLogSeal.objects.order_by("last_seq").iterator(chunk_size=100):
        yield _from_row(row)


def _latest_seal(certificates: dict[str, str]) -> Seal | None:
    """The last seal written, in the files or the database, whichever goes further; a bad one refuses."""
    found = signed_lines.latest_line(seal_directory(), SEAL_PREFIX)
    in_file = _parse_line(*found) if found else None
    if isinstance(in_file, tuple):
        raise ChainBroken(f"Không niêm phong nhật ký trục: {in_file[1]}")
    row = BusLogSeal.objects.order_by("-last_seq").first()
    in_db = _from_row(row) if row else None
    latest = max((s for s in (in_file, in_db) if s), key=lambda s: s.last_seq, default=None)
    if latest is not None and (problem := _check_signature(latest, certificates)):
        raise ChainBroken(f"Không niêm phong nhật ký trục: {problem}")
    return latest


def _sync_seals(certificates: dict[str, str]) -> None:
    """Copy seals the other store lacks (a file write that failed after its commit, seals made on
    another host): both stores end with the same signed seals. Only good signatures are copied."""
    directory = seal_directory()
    found = signed_lines.latest_line(directory, SEAL_PREFIX)
    in_file = _parse_line(*found) if found else None
    if isinstance(in_file, tuple):
        return  # an unreadable last line: _latest_seal refuses to go on
    file_last = in_file.last_seq if in_file else 0
    for row in BusLogSeal.objects.filter(last_seq__gt=file_last).order_by("last_seq"):
        seal = _from_row(row)
        if _check_signature(seal, certificates) is None:
            signed_lines.append(directory, SEAL_PREFIX, seal.line(), row.sealed_at)
    db_last = BusLogSeal.objects.aggregate(top=Max("last_seq"))["top"] or 0
    if file_last > db_last:
        for seal in _file_seals():
            if isinstance(seal, Seal) and seal.last_seq > db_last and _check_signature(seal, certificates) is None:
                _store(seal)


def _store(seal: Seal) -> None:
    BusLogSeal.objects.get_or_create(
        last_seq=seal.last_seq,
        defaults={
            "first_seq": seal.first_seq,
            "last_hash": seal.last_hash,
            "sealed_at": dt.datetime.fromisoformat(seal.sealed_at),
            "key_id": seal.key_id,
            "signature": seal.signature,
            "fingerprints": seal.fingerprints,
        },
    )


def _chunks(first: int, last: int, *, with_bodies: bool = True) -> Iterator[BusLogEntry]:
    """Entries first..last in seq order, read in keyset pages (no cursor held across the writes)."""
    after = first - 1
    entries = BusLogEntry.objects.order_by("seq")
    if not with_bodies:
        entries = entries.defer("request_body", "response_body")
    while after < last:
        page = list(entries.filter(seq__gt=after, seq__lte=last)[:READ_CHUNK])
        if not page:
            return
        yield from page
        after = page[-1].seq


def seal(now: dt.datetime | None = None) -> list[Seal]:
    """Sign the entries appended since the last seal, PER_SEAL at most a seal; [] when nothing is new.

    The new entries are checked first (contiguous, bodies and hashes right, linked to the last
    seal's hash): a seal never signs a chain that was tampered with."""
    directory = seal_directory()
    written: list[Seal] = []
    with signed_lines.locked(directory):
        identity = keys.identity()
        certificates = {**_certificates(), identity.key_id: identity.cert_pem}
        _sync_seals(certificates)
        latest = _latest_seal(certificates)
        covered, prev = (latest.last_seq, latest.last_hash) if latest else (0, GENESIS)
        head = BusLogHead.objects.filter(pk=1).first()
        top = head.seq if head else 0
        if top < covered:
            raise ChainBroken(
                f"Không niêm phong nhật ký trục: chuỗi chỉ còn tới bản ghi số {top}, niêm phong trước đã ghi nhận "
                f"tới số {covered}. Chạy `cqs bus log verify` để xem chi tiết."
            )
        chain = _Chain(iter(()), start_seq=covered + 1, start_prev=prev)
        fingerprints, first = [], covered + 1
        for entry in _chunks(covered + 1, top):
            if problem := chain.check(entry):
                raise ChainBroken(
                    f"Không niêm phong nhật ký trục: bản ghi số {problem[0]} không nối đúng chuỗi từ niêm phong "
                    f"trước ({problem[1]}) Chạy `cqs bus log verify` để xem chi tiết."
                )
            fingerprints.append(entry.entry_hash[:FINGERPRINT])
            if len(fingerprints) == PER_SEAL or entry.seq == top:
                made = _sign(identity, first, entry.seq, entry.entry_hash, fingerprints, now or timezone.now())
                if not _commit(made, expected_covered=first - 1):
                    return written  # another host sealed these meanwhile
                written.append(made)
                first, fingerprints = entry.seq + 1, []
        if chain.expected_seq <= top:
            upto = "" if chain.expected_seq == top else f" đến {top}"
            raise ChainBroken(
                f"Không niêm phong nhật ký trục: bản ghi số {chain.expected_seq}{upto} đã bị xóa. "
                "Chạy `cqs bus log verify` để xem chi tiết."
            )
    return written


def _sign(identity: keys.Identity, first: int, last: int, last_hash: str, fingerprints: list[str], at) -> Seal:
    unsigned = Seal(first, last, last_hash, _moment(at), identity.key_id, "".join(fingerprints), "", "")
    signature = identity.sign(signed_lines.canonical(unsigned.payload()).encode())
    return Seal(**{**unsigned.__dict__, "signature": signature, "where": "niêm phong mới"})


def _commit(made: Seal, *, expected_covered: int) -> bool:
    """Store the seal, then append it to the month's file. Sealers on several hosts are serialized by
    the chain head's lock (held for this insert only); one that finds the seals moved on gives way."""
    with transaction.atomic():
        BusLogHead.objects.select_for_update().filter(pk=1).first()
        covered = BusLogSeal.objects.aggregate(top=Max("last_seq"))["top"] or 0
        if covered != expected_covered:
            return False
        _store(made)
    signed_lines.append(seal_directory(), SEAL_PREFIX, made.line(), dt.datetime.fromisoformat(made.sealed_at))
    return True


# --- The chain, entry by entry -------------------------------------------------------------------


class _Chain:
    """Checks entries one by one in seq order against the chain and the seals that cover them;
    `check` answers (the first bad entry's number, what is wrong) or None."""

    def __init__(self, seals: Iterator[Seal], *, start_seq: int = 1, start_prev: str = GENESIS):
        self.seals = seals
        self.seal = next(seals, None)
        self.expected_seq, self.expected_prev = start_seq, start_prev
        self.last: BusLogEntry | None = None
        self.confirmed = 0  # entries a seal confirmed
        self.confirmed_seq = 0

    def check(self, entry: BusLogEntry) -> tuple[int, str] | None:
        seq = entry.seq
        if seq != self.expected_seq:
            if seq < self.expected_seq:
                return seq, f"Bản ghi số {seq} của nhật ký trục bị lặp lại (chèn thêm một bản ghi cùng số)."
            upto = "" if seq == self.expected_seq + 1 else f" đến {seq - 1}"
            return self.expected_seq, f"Bản ghi số {self.expected_seq}{upto} của nhật ký trục đã bị xóa."
        for name, label in (("request", "gửi"), ("response", "trả về")):
            if body_hash(getattr(entry, f"{name}_body")) != getattr(entry, f"{name}_hash"):
                return seq, (f"Bản ghi số {seq} của nhật ký trục đã bị sửa: nội dung {label} không khớp mã băm đã ghi.")
        if digest(entry) != entry.entry_hash:
            return seq, f"Bản ghi số {seq} của nhật ký trục đã bị sửa (mã băm không khớp nội dung)."
        while self.seal is not None and self.seal.last_seq < seq:
            self.seal = next(self.seals, None)
        covered = self.seal is not None and self.seal.first_seq <= seq
        if covered:
            if entry.entry_hash[:FINGERPRINT] != self.seal.fingerprint(seq) or (
                seq == self.seal.last_seq and entry.entry_hash != self.seal.last_hash
            ):
                return seq, (
                    f"Bản ghi số {seq} của nhật ký trục đã bị sửa, xóa hoặc chèn rồi tính lại mã băm: khác với "
                    f"niêm phong có chữ ký lúc {self.seal.when} ({self.seal.where})."
                )
            self.confirmed += 1
        if entry.prev_hash != self.expected_prev:
            return self._link_broken(seq, covered)
        if covered:
            self.confirmed_seq = seq
        self.expected_prev, self.expected_seq, self.last = entry.entry_hash, seq + 1, entry
        return None

    def _link_broken(self, seq: int, entry_confirmed: bool) -> tuple[int, str]:
        """Both entries' own hashes are right, so one of them was rewritten whole: a seal that
        confirms one of the two convicts the other; without one, both are named."""
        if seq == 1:
            return 1, "Bản ghi số 1 của nhật ký trục là giả: không nối với đầu chuỗi."
        if entry_confirmed:
            return seq - 1, (
                f"Bản ghi số {seq - 1} của nhật ký trục đã bị sửa rồi tính lại mã băm: bản ghi số {seq}, "
                "được niêm phong có chữ ký xác nhận, không còn nối với nó."
            )
        if self.confirmed_seq == seq - 1:
            return seq, (
                f"Bản ghi số {seq} của nhật ký trục là giả (chèn vào ngoài hệ thống): không nối với bản ghi "
                f"số {seq - 1} mà niêm phong có chữ ký đã xác nhận."
            )
        return seq, (
            f"Bản ghi số {seq} của nhật ký trục không nối với bản ghi số {seq - 1}: bản ghi số {seq} là giả "
            f"(chèn vào), hoặc bản ghi số {seq - 1} đã bị sửa rồi tính lại mã băm (chưa có niêm phong để phân định)."
        )


# --- Archives ------------------------------------------------------------------------------------


def archive_directory() -> Path:
    return Path(settings.BUS_LOG_ARCHIVE_DIR)


def _entry_line(entry: BusLogEntry) -> bytes:
    body = {name: getattr(entry, name) for name in STORED_FIELDS}
    body["at"] = _moment(entry.at)
    return (json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _entry_from_line(raw: bytes) -> BusLogEntry:
    body = json.loads(raw)
    fields = {name: body[name] for name in STORED_FIELDS}
    fields["at"] = dt.datetime.fromisoformat(fields["at"])
    return BusLogEntry(**fields)


def _file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def retention_days() -> int:
    return int(settings.CQS.get("BUS_LOG_RETENTION_DAYS", 730))


def archive(before: dt.date, *, actor=None) -> list[BusLogArchive]:
    """Move the sealed entries dated before `before` (local time) — a prefix of the chain — into gzip
    JSON Lines files with their bodies; each file is recorded (sha256, seqs, hashes) in the same
    transaction that deletes its entries from the database. The entries are checked on the way:
    a broken chain is never archived (ChainBroken)."""
    directory = archive_directory()
    directory.mkdir(parents=True, exist_ok=True)
    made = []
    with signed_lines.locked(directory):
        last_archive = BusLogArchive.objects.order_by("-last_seq").first()
        start, prev = (last_archive.last_seq + 1, last_archive.last_hash) if last_archive else (1, GENESIS)
        sealed = BusLogSeal.objects.aggregate(top=Max("last_seq"))["top"] or 0
        newer = BusLogEntry.objects.filter(at__gte=_local_midnight(before)).aggregate(first=Min("seq"))["first"]
        upto = sealed if newer is None else min(sealed, newer - 1)
        certificates = _certificates()
        seals = (
            _from_row(row) for row in BusLogSeal.objects.filter(last_seq__gte=start).order_by("last_seq").iterator()
        )
        chain = _Chain(_good(seals, certificates), start_seq=start, start_prev=prev)
        while start <= upto:
            last = min(upto, start + PER_ARCHIVE - 1)
            made.append(_archive_part(directory, chain, start, last, actor))
            start = last + 1
    return made


def _archive_part(directory: Path, chain: _Chain, first: int, last: int, actor) -> BusLogArchive:
    name = f"bus-log-{first:012d}-{last:012d}.jsonl.gz"
    partial = directory / f".{name}.partial"
    first_prev = chain.expected_prev
    count = 0
    with gzip.open(partial, "wb") as file:
        for entry in _chunks(first, last):
            if problem := chain.check(entry):
                file.close()
                partial.unlink(missing_ok=True)
                raise ChainBroken(
                    f"Không lưu trữ nhật ký trục: {problem[1]} Chạy `cqs bus log verify` để xem chi tiết."
                )
            file.write(_entry_line(entry))
            count += 1
    if count != last - first + 1:
        partial.unlink(missing_ok=True)
        raise ChainBroken(
            f"Không lưu trữ nhật ký trục: bản ghi số {chain.expected_seq} đến {last} đã bị xóa. "
            "Chạy `cqs bus log verify` để xem chi tiết."
        )
    with open(partial, "rb") as file:
        os.fsync(file.fileno())
    path = directory / name
    os.replace(partial, path)
    try:
        with transaction.atomic():
            record = BusLogArchive.objects.create(
                file_name=name,
                first_seq=first,
                last_seq=last,
                first_prev_hash=first_prev,
                last_hash=chain.expected_prev,
                entries=count,
                sha256=_file_sha256(path),
                created_at=timezone.now(),
            )
            deleted, _ = BusLogEntry.objects.filter(seq__gte=first, seq__lte=last).delete()
            if deleted != count:
                raise ChainBroken(f"Không lưu trữ nhật ký trục: số bản ghi đổi trong khi lưu trữ ({deleted}/{count}).")
            audit.record(
                actor=actor,
                action="bus.log_archive",
                obj=record,
                after={"first_seq": first, "last_seq": last, "entries": count, "file": name},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    log.info("bus log: entries %s-%s archived to %s", first, last, name)
    return record


def _archived_entries(record: BusLogArchive) -> Iterator[BusLogEntry | tuple[int, str]]:
    """The entries of one archive file, or (seq, problem) when the file is missing or unreadable."""
    path = archive_directory() / record.file_name
    if not path.exists():
        yield (
            record.first_seq,
            (
                f"Bản ghi số {record.first_seq} đến {record.last_seq} của nhật ký trục đã bị xóa: "
                f"tệp lưu trữ {record.file_name} không còn trong {archive_directory()}."
            ),
        )
        return
    try:
        with gzip.open(path, "rb") as file:
            for number, raw in enumerate(file, 1):
                try:
                    yield _entry_from_line(raw)
                except (ValueError, KeyError, TypeError):
                    yield (
                        record.first_seq + number - 1,
                        (f"Tệp lưu trữ {record.file_name} hỏng ở dòng {number}: bị sửa hoặc ghi dở."),
                    )
                    return
    except (OSError, EOFError, gzip.BadGzipFile):
        yield record.first_seq, f"Tệp lưu trữ {record.file_name} không đọc được (bị sửa hoặc hỏng)."


# --- Verification --------------------------------------------------------------------------------


class VerifyResult(NamedTuple):
    ok: bool
    message: str
    first_bad_seq: int | None = None
    warnings: tuple[str, ...] = ()


def _merged(certificates: dict[str, str], problems: list | None = None) -> Iterator[Seal]:
    """The good seals of the files and the database, in order, each once; two different seals for
    the same entries (possible only with the bus's key) are a problem."""
    merged = heapq.merge(_good(_file_only(), certificates), _good(_db_seals(), certificates), key=_seal_key)
    previous = None
    for item in merged:
        if previous is not None and previous.last_seq == item.last_seq:
            if problems is not None and not previous.same_as(item):
                problems.append(
                    (
                        item.first_seq,
                        f"Hai niêm phong khác nhau cho bản ghi số {item.last_seq}: {previous.where} và {item.where}.",
                    )
                )
            continue
        previous = item
        yield item


def _seal_key(seal: Seal) -> int:
    return seal.last_seq


def _file_only() -> Iterator[Seal]:
    return (item for item in _file_seals() if isinstance(item, Seal))


def _good(seals, certificates: dict[str, str]) -> Iterator[Seal]:
    for item in seals:
        if _check_signature(item, certificates) is None:
            yield item


def _scan_seals(certificates: dict[str, str]) -> tuple[list[tuple[int, str]], list[str], Seal | None, int]:
    """Every seal's signature and their continuity, in the files and the database:
    (problems as (seq, message), warnings, latest good seal, good seals)."""
    problems, warnings, in_file, in_db = [], [], set(), set()
    for item in _file_seals():
        if isinstance(item, tuple):
            problems.append(item)
        elif problem := _check_signature(item, certificates):
            problems.append((item.first_seq, problem))
        else:
            in_file.add(item.last_seq)
    for item in _db_seals():
        if problem := _check_signature(item, certificates):
            problems.append((item.first_seq, problem))
        else:
            in_db.add(item.last_seq)
    latest, count, covered = None, 0, 0
    for item in _merged(certificates, problems):
        if item.first_seq > covered + 1:
            problems.append(
                (
                    covered + 1,
                    f"Thiếu niêm phong cho bản ghi số {covered + 1} đến {item.first_seq - 1} (trước {item.where}): "
                    "niêm phong đã bị xóa.",
                )
            )
        elif item.first_seq <= covered:
            problems.append(
                (
                    item.first_seq,
                    f"Niêm phong ở {item.where} trùng với niêm phong trước "
                    f"(bản ghi số {item.first_seq} đến {covered}).",
                )
            )
        covered, count, latest = max(covered, item.last_seq), count + 1, item
    if only_db := len(in_db - in_file):
        warnings.append(
            f"Cảnh báo: {only_db} niêm phong có trong cơ sở dữ liệu nhưng không có trong tệp niêm phong "
            f"({seal_directory()}); lần niêm phong tiếp theo sẽ chép bổ sung."
        )
    if only_file := len(in_file - in_db):
        warnings.append(
            f"Cảnh báo: {only_file} niêm phong chỉ còn trong tệp niêm phong, không có trong cơ sở dữ liệu; "
            "lần niêm phong tiếp theo sẽ chép bổ sung."
        )
    return problems, warnings, latest, count


def _walk(chain: _Chain, batch_size: int) -> tuple[int, str] | None:
    """Archives first, then the database: the first problem, or None."""
    for record in BusLogArchive.objects.order_by("first_seq"):
        path = archive_directory() / record.file_name
        altered = path.exists() and _file_sha256(path) != record.sha256
        count = 0
        for item in _archived_entries(record):
            if isinstance(item, tuple):
                return item
            if item.seq > record.last_seq:
                return item.seq, (
                    f"Bản ghi số {item.seq} của nhật ký trục là giả: chèn thêm vào tệp lưu trữ {record.file_name}."
                )
            if problem := chain.check(item):
                return problem[0], f"{problem[1]} (tệp lưu trữ {record.file_name})"
            count += 1
        if chain.expected_seq <= record.last_seq:
            return chain.expected_seq, (
                f"Bản ghi số {chain.expected_seq} đến {record.last_seq} của nhật ký trục đã bị xóa khỏi "
                f"tệp lưu trữ {record.file_name}."
            )
        if altered or count != record.entries or chain.expected_prev != record.last_hash:
            return record.first_seq, (
                f"Tệp lưu trữ {record.file_name} (bản ghi số {record.first_seq} đến {record.last_seq}) đã bị sửa: "
                "mã băm của tệp khác với mã băm ghi khi lưu trữ."
            )
    archived_upto = chain.expected_seq - 1
    if archived_upto:
        stray = BusLogEntry.objects.filter(seq__lte=archived_upto).order_by("seq").values_list("seq", flat=True).first()
        if stray is not None:
            return stray, (
                f"Bản ghi số {stray} của nhật ký trục là giả: số này đã được lưu trữ ra tệp, "
                "nhưng cơ sở dữ liệu lại có một bản ghi cùng số."
            )
    entries = BusLogEntry.objects.filter(seq__gt=archived_upto).order_by("seq")
    for entry in entries.iterator(chunk_size=batch_size):
        if problem := chain.check(entry):
            return problem
    return None


def verify(batch_size: int = READ_CHUNK) -> VerifyResult:
    """Check every seal, then walk the whole chain (archives, then the database); the message names
    the first bad entry."""
    certificates = _certificates()
    problems, warnings, latest, count = _scan_seals(certificates)
    if (signed_lines.files(seal_directory(), SEAL_PREFIX) or BusLogSeal.objects.exists()) and not certificates:
        problems.insert(
            0,
            (0, f"Không có chứng thư của trục ({settings.BUS_CERT_FILE}): không kiểm được chữ ký các niêm phong."),
        )
    head_before = BusLogHead.objects.filter(pk=1).first()
    chain = _Chain(_merged(certificates))
    failure = _walk(chain, batch_size)
    length = chain.expected_seq - 1
    head = BusLogHead.objects.filter(pk=1).first()
    if failure is None and latest is not None and latest.last_seq > length:
        failure = (
            length + 1,
            (
                f"Bản ghi số {length + 1} đến {latest.last_seq} của nhật ký trục đã bị xóa: niêm phong có chữ ký lúc "
                f"{latest.when} ({latest.where}) ghi nhận chuỗi tới bản ghi số {latest.last_seq}, "
                f"chỉ còn {length} bản ghi."
            ),
        )
    if failure is None and length and head is None:
        failure = (
            length + 1,
            (
                "Dòng đầu chuỗi nhật ký trục (BusLogHead) đã bị xóa: không biết các bản ghi "
                f"sau số {length} có bị xóa cùng hay không."
            ),
        )
    if failure is None and head_before is not None and head_before.seq > length:
        failure = length + 1, f"Bản ghi số {length + 1} đến {head_before.seq} của nhật ký trục đã bị xóa."
    if failure is None and head is not None and head.seq < length:
        failure = (
            head.seq + 1,
            (
                f"Bản ghi số {head.seq + 1} của nhật ký trục là giả (thêm vào ngoài hệ thống): đầu chuỗi chỉ ghi nhận "
                f"tới số {head.seq}, nhật ký có tới số {length}."
            ),
        )
    if failure is None and head is not None and length and head.seq == length and head.hash != chain.expected_prev:
        failure = length, f"Bản ghi số {length} của nhật ký trục đã bị thay thế: mã băm khác với đầu chuỗi."
    found = ([failure] if failure else []) + problems
    if found:
        first_bad = min((seq for seq, _ in found if seq), default=None)
        # The first bad entry first, then the rest in order of entry.
        ordered = sorted(found, key=lambda item: (item[0] != first_bad, item[0]))
        messages = [message for _, message in ordered]
        if len(messages) > 6:
            messages[6:] = [f"… và {len(messages) - 6} lỗi khác."]
        return VerifyResult(False, " ".join(messages), first_bad)
    archived = BusLogArchive.objects.aggregate(files=Count("pk"), entries=Sum("entries"))
    message = f"Nhật ký trục toàn vẹn: {length} bản ghi"
    message += f" ({archived['entries']} trong {archived['files']} tệp lưu trữ)." if archived["files"] else "."
    if latest is None:
        warnings.append(
            f"Cảnh báo: chưa có niêm phong nào ({seal_directory()}), nên không phát hiện được việc tính lại mã băm "
            "sau khi sửa hay xóa cả chuỗi. Chạy `cqs bus log seal` và để `cqs worker` chạy."
        )
    else:
        message += (
            f" {chain.confirmed} bản ghi được {count} niêm phong có chữ ký xác nhận; niêm phong mới nhất lúc "
            f"{latest.when}, tới bản ghi số {latest.last_seq}."
        )
        if length > latest.last_seq:
            warnings.append(
                f"Cảnh báo: {length - latest.last_seq} bản ghi mới nhất (từ số {latest.last_seq + 1}) chưa được "
                "niêm phong; lần niêm phong định kỳ tiếp theo sẽ xác nhận chúng."
            )
    return VerifyResult(True, message, None, tuple(warnings))


# --- Search and reading (auditors) ---------------------------------------------------------------

READERS_ONLY = "Nhật ký trục liên thông chỉ dành cho quản trị tỉnh và người kiểm tra, giám sát."


def may_read(user) -> bool:
    """The province administrator and auditors (global role) read the message log."""
    return bool(
        getattr(user, "is_active", False)
        and not getattr(user, "is_citizen", True)
        and (is_province_admin(user) or getattr(user, "global_role", "") == GlobalRole.AUDITOR)
    )


def _require_reader(actor) -> None:
    if not may_read(actor):
        raise PermissionDenied(READERS_ONLY)


def query(
    *,
    service: str = "",
    client: str = "",
    correlation: str = "",
    outcome: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
):
    """The entries matching, newest first, bodies left out (the command line and `search`)."""
    entries = BusLogEntry.objects.defer("request_body", "response_body")
    if service:
        entries = entries.filter(service=service)
    if client:
        entries = entries.filter(client=client)
    if correlation:
        entries = entries.filter(correlation=correlation)
    if outcome:
        entries = entries.filter(outcome=outcome)
    if start is not None:
        entries = entries.filter(at__gte=_local_midnight(start))
    if end is not None:
        entries = entries.filter(at__lt=_local_midnight(end + dt.timedelta(days=1)))
    return entries.order_by("-at", "-seq")


def search(
    actor,
    *,
    service: str = "",
    client: str = "",
    correlation: str = "",
    outcome: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[BusLogEntry]:
    """Entries for an authorized auditor (PermissionDenied for anyone else), newest first, without
    bodies; dates are local days, both included."""
    _require_reader(actor)
    if outcome and outcome not in BusLogEntry.Outcome.values:
        raise DomainError("Kết quả không hợp lệ.", "outcome")
    entries = query(service=service, client=client, correlation=correlation, outcome=outcome, start=start, end=end)
    return list(entries[offset : offset + limit])


def read_entry(actor, seq: int) -> BusLogEntry:
    """One entry with its bodies, for an authorized auditor; the reading is an audit record
    (`bus.log_read`: who read which entry, never what it holds)."""
    _require_reader(actor)
    entry = BusLogEntry.objects.filter(seq=seq).first()
    if entry is None:
        raise NotFound("Không có bản ghi này trong nhật ký trục (có thể đã được lưu trữ ra tệp).")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="bus.log_read",
            object_type="exchange.BusLogEntry",
            object_id=entry.seq,
            after={"seq": entry.seq, "service": entry.service, "client": entry.client},
        )
    return entry
