"""Trap counts in: one message from a smart trap (MQTT or HTTP), or a CSV file of historical logs.

The message (docs/pests.md)
---------------------------
A UTF-8 JSON object::

    {"device_id": "bd-kien-an-01",
     "message_id": "bd-kien-an-01-20261206",
     "window": {"start": "2026-12-06T18:00:00+07:00", "end": "2026-12-07T06:00:00+07:00"},
     "counts": {"ray-nau": 1250, "ray-lung-trang": 310, "bo-xit-mu-xanh": 42},
     "images": ["sd://2026/12/06/0001.jpg"]}

- `device_id`: the trap's device id (issued with its secret; on MQTT it must equal the topic's
  `cqs/pests/traps/<device_id>/counts`, on HTTP the URL's).
- `message_id`: the device's own id for this report, 1–80 printable characters, unique per device. A
  message resent with the same id and the same bytes is recognised ("duplicate") and counted once; the
  same id with other content is refused ("mã tin nhắn đã dùng cho nội dung khác"): a correction is a new
  message id.
- `window`: start and end of the counting period, ISO 8601 with a UTC offset (…+07:00 or …Z). At most
  36 hours long, end not before start, end no later than now + PESTS_CLOCK_SKEW_MINUTES, start no older
  than PESTS_MAX_AGE_DAYS. A trap may send one message per night or one per hour.
- `counts`: {trap class code: whole number ≥ 0} (the 35 classes of the catalog; zeros may be left out,
  an empty object says "nothing caught").
- `images`: optional list of the device's image references (≤ 50 strings of ≤ 500 characters), kept as
  given.
Other keys are ignored. At most 64 KiB.

The signature
-------------
Each device has a secret (issued once: `cqs pests issue-credentials <station>`). The signature is
HMAC-SHA256 with the secret (its 64 hex characters as ASCII bytes as the key) over the exact payload
bytes as sent — no re-serialisation, no trimming — written as 64 lowercase hex characters. It travels in
the MQTT v5 user property `signature` of the PUBLISH, or in the HTTP header `X-Signature`. A message
without a valid signature is refused and kept only as an IngestProblem. In Python::

    hmac.new(secret.encode(), payload_bytes, hashlib.sha256).hexdigest()

What happens to a message
-------------------------
- rejected: not stored against the station; an IngestProblem row keeps the reason and the first bytes
  (unknown device, bad signature, malformed JSON, missing field, window wrong, clock far off, negative or
  non-integer count, message id reused for other content).
- flagged: stored, its counts kept but not counted (TrapCount.accepted False) until an officer reviews
  it — a class code not in the catalog, or a count above the class's plausible maximum for one night.
- accepted: stored and counted. A late message (arriving days after its night) is accepted and counted
  once like any other.
- duplicate: the same message again; nothing changes.

TrapCount.night is the local (Asia/Ho_Chi_Minh) date on which the window began, minus one day when it
began before 12:00 (a trap-night runs about 18:00–06:00, so the hours after midnight belong to the
evening before).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Greatest
from django.utils import timezone

from chinhquyenso.core import audit, params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.streams import TOO_LONG, bounded_line
from chinhquyenso.core.text import nfc
from chinhquyenso.core.workflow import atomic_retrying
from chinhquyenso.pests.models import (
    IngestProblem,
    Measure,
    Station,
    Threshold,
    Transport,
    TrapClass,
    TrapCount,
    TrapMessage,
)
from chinhquyenso.pests.services.catalog import max_per_night

log = logging.getLogger(__name__)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_WINDOW = dt.timedelta(hours=36)
MAX_IMAGES = 50
MAX_IMAGE_REFERENCE = 500
MAX_COUNT = params.MAX_INTEGER
MESSAGE_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")
SIGNED_TRANSPORTS = {Transport.MQTT, Transport.HTTP}
REUSED_ID = "Mã tin nhắn đã dùng cho nội dung khác: tin nhắn sửa số liệu phải có mã tin nhắn mới."


def sign(payload: bytes, secret: str) -> str:
    """The signature of a message: HMAC-SHA256 of the exact payload bytes with the device secret, hex."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def night_of(start: dt.datetime) -> dt.date:
    """The trap-night a window belongs to: the local date it began, the day before when it began in the
    morning."""
    local = start.astimezone(VN)
    return local.date() - dt.timedelta(days=1) if local.hour < 12 else local.date()


@dataclasses.dataclass
class IngestResult:
    status: str  # "accepted", "duplicate", "flagged" or "rejected"
    message: TrapMessage | None = None
    reason: str = ""  # Vietnamese: why rejected or flagged
    alerts_due: bool = False  # an accepted count reached a per-trap-night warning level
    message_id: str = ""
    field: str = ""  # the offending part of the payload when rejected (device_id, signature, window.end, …)


class Rejected(Exception):
    def __init__(self, reason: str, field: str = ""):
        super().__init__(reason)
        self.reason, self.field = reason, field


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _excerpt(raw: bytes) -> str:
    return _CONTROL.sub("", raw[:300].decode("utf-8", errors="replace"))


def _clean_id(value) -> str:
    return _CONTROL.sub("", str(value))[:80] if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _problem(transport: str, device_id: str, message_id: str, reason: str, raw: bytes, at=None) -> None:
    """Keep a refused message (its own transaction, whatever the caller's state)."""
    IngestProblem.objects.create(
        transport=transport if transport in Transport.values else Transport.HTTP,
        device_id=_clean_id(device_id),
        message_id=_clean_id(message_id),
        reason=reason,
        excerpt=_excerpt(raw),
    )
    # The device id is an equipment code, not personal data; the reason names no person.
    log.info("pests: trap message refused (%s, device %s): %s", transport, _clean_id(device_id) or "?", reason)


def _as_bytes(payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8", errors="surrogatepass")
    if isinstance(payload, dict):
        return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode(
            "utf-8", errors="surrogatepass"
        )
    raise Rejected("Nội dung tin nhắn phải là văn bản JSON.", "payload")


def _moment(window: dict, key: str) -> dt.datetime:
    label = "bắt đầu" if key == "start" else "kết thúc"
    raw = window.get(key)
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 40:
        raise Rejected(f"Thiếu thời điểm {label} của khoảng đếm (window.{key}).", f"window.{key}")
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Rejected(
            f"Thời điểm {label} (window.{key}) không đúng dạng ISO 8601, ví dụ 2026-12-06T18:00:00+07:00.",
            f"window.{key}",
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise Rejected(f"Thời điểm {label} (window.{key}) phải ghi múi giờ, ví dụ +07:00.", f"window.{key}")
    try:
        params.check_moment(value, f"window.{key}")
        return value.astimezone(dt.UTC)
    except (DomainError, OverflowError):
        raise Rejected(f"Thời điểm {label} (window.{key}) nằm ngoài khoảng ngày hợp lệ.", f"window.{key}") from None


@dataclasses.dataclass
class _Parsed:
    device_id: str
    message_id: str
    start: dt.datetime
    end: dt.datetime
    counts: dict[str, int]
    images: list[str]


def _identity(body) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise Rejected("Nội dung tin nhắn phải là một đối tượng JSON {…}.", "payload")
    device_id = body.get("device_id")
    if not isinstance(device_id, str) or not device_id.strip():
        raise Rejected("Thiếu mã thiết bị (device_id).", "device_id")
    message_id = body.get("message_id")
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        message_id = str(message_id)
    if not isinstance(message_id, str) or not message_id.strip():
        raise Rejected("Thiếu mã tin nhắn (message_id).", "message_id")
    message_id = nfc(message_id.strip())
    if not MESSAGE_ID.match(message_id):
        raise Rejected("Mã tin nhắn (message_id) dài quá 80 ký tự hoặc có ký tự điều khiển.", "message_id")
    return device_id.strip(), message_id


def _content(body: dict, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, dict, list]:
    window = body.get("window")
    if not isinstance(window, dict):
        raise Rejected("Thiếu khoảng thời gian đếm (window, gồm start và end).", "window")
    start, end = _moment(window, "start"), _moment(window, "end")
    if end < start:
        raise Rejected("Thời điểm kết thúc (window.end) trước thời điểm bắt đầu (window.start).", "window.end")
    if end - start > MAX_WINDOW:
        raise Rejected("Khoảng đếm dài quá 36 giờ: mỗi tin nhắn chỉ báo một đêm hoặc một giờ.", "window")
    skew = dt.timedelta(minutes=settings.CQS["PESTS_CLOCK_SKEW_MINUTES"])
    if end > now + skew:
        raise Rejected(
            "Thời điểm kết thúc (window.end) ở tương lai: đồng hồ của thiết bị lệch, cần chỉnh giờ.", "window.end"
        )
    max_age = dt.timedelta(days=settings.CQS["PESTS_MAX_AGE_DAYS"])
    if start < now - max_age:
        raise Rejected(
            f"Khoảng đếm bắt đầu cách đây hơn {settings.CQS['PESTS_MAX_AGE_DAYS']} ngày: tin quá cũ "
            "(hoặc đồng hồ thiết bị lệch); số liệu cũ nhập bằng tệp CSV.",
            "window.start",
        )
    counts = body.get("counts")
    if not isinstance(counts, dict):
        raise Rejected('Thiếu số lượng theo lớp (counts, dạng {"mã lớp": số con}).', "counts")
    clean: dict[str, int] = {}
    for code, value in counts.items():
        shown = _CONTROL.sub("", code)[:40]
        if isinstance(value, bool) or not isinstance(value, int):
            raise Rejected(f"Số lượng của lớp “{shown}” phải là số nguyên không âm.", f"counts.{shown}")
        if value < 0:
            raise Rejected(f"Số lượng của lớp “{shown}” là số âm ({value}).", f"counts.{shown}")
        if value > MAX_COUNT:
            raise Rejected(f"Số lượng của lớp “{shown}” quá lớn ({value}).", f"counts.{shown}")
        clean[nfc(code.strip())] = value
    images = body.get("images", [])
    if images is None:
        images = []
    if (
        not isinstance(images, list)
        or len(images) > MAX_IMAGES
        or not all(isinstance(i, str) and 0 < len(i) <= MAX_IMAGE_REFERENCE for i in images)
    ):
        raise Rejected(
            f"Danh sách ảnh (images) phải gồm tối đa {MAX_IMAGES} mã ảnh, mỗi mã tối đa {MAX_IMAGE_REFERENCE} ký tự.",
            "images",
        )
    return start, end, clean, [_CONTROL.sub("", i) for i in images]


def _verified(station: Station, raw: bytes, signature: str | None) -> bool:
    from chinhquyenso.pests.services.stations import device_secrets

    if not isinstance(signature, str):
        return False
    given = signature.strip().lower().removeprefix("sha256=")
    if len(given) != 64:
        return False
    return any(hmac.compare_digest(given, sign(raw, secret)) for secret in device_secrets(station))


def ingest(
    payload: bytes | str | dict,
    *,
    transport: str,
    device_id: str | None = None,
    signature: str | None = None,
    received_at: dt.datetime | None = None,
) -> IngestResult:
    """Store one trap message (see the module's docstring for the format and the rules). Never raises
    on bad input: a refused message returns status "rejected" with the Vietnamese reason and leaves an
    IngestProblem row. Only a database failure goes up (the caller then does not acknowledge the
    message, and the device or broker sends it again). One transaction."""
    received_at = received_at or timezone.now()
    raw = b""
    parsed_device, parsed_message = device_id or "", ""
    try:
        raw = _as_bytes(payload)
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise Rejected(f"Tin nhắn dài quá {MAX_PAYLOAD_BYTES // 1024} KB.", "payload")
        try:
            body = params.loads(raw, "payload")
        except DomainError:
            raise Rejected("Nội dung tin nhắn không phải JSON hợp lệ.", "payload") from None
        if not isinstance(body, dict):
            raise Rejected("Nội dung tin nhắn phải là một đối tượng JSON {…}.", "payload")
        # Say which device it claims to be even when the message id is what is missing.
        if isinstance(body.get("device_id"), str):
            parsed_device = parsed_device or body["device_id"]
        payload_device, message_id = _identity(body)
        parsed_device, parsed_message = payload_device, message_id
        if device_id is not None and device_id != payload_device:
            raise Rejected(
                f"Mã thiết bị trong nội dung ({payload_device[:60]}) khác mã thiết bị của kênh gửi ({device_id[:60]}).",
                "device_id",
            )
        station = Station.objects.filter(device_id=payload_device).first()
        if station is None or station.kind != Station.Kind.SMART_TRAP or not station.device_secret_hash:
            raise Rejected(f"Thiết bị “{payload_device[:60]}” chưa được đăng ký (chưa cấp mã bí mật).", "device_id")
        if transport in SIGNED_TRANSPORTS:
            if not signature:
                raise Rejected("Tin nhắn thiếu chữ ký của thiết bị.", "signature")
            if not _verified(station, raw, signature):
                raise Rejected("Chữ ký của tin nhắn không đúng (sai mã bí mật hoặc nội dung đã bị sửa).", "signature")
        if not station.active:
            raise Rejected(f"Trạm “{station.code}” đã ngừng hoạt động: tin nhắn không được nhận.", "device_id")
        return _store(station, body, raw, message_id, transport, received_at)
    except Rejected as refusal:
        _problem(transport, parsed_device, parsed_message, refusal.reason, raw, received_at)
        return IngestResult("rejected", None, refusal.reason, message_id=parsed_message, field=refusal.field)


def _alerts_due(counts: list[TrapCount]) -> bool:
    """Some accepted count reached a per-trap-night warning level of its organism: the caller may run
    the alert evaluation now instead of waiting for the periodic job."""
    levels: dict[int, int] = {}
    organisms = {c.trap_class.organism_id for c in counts if c.accepted and c.trap_class.organism_id}
    if not organisms:
        return False
    for organism_id, warn in Threshold.objects.filter(
        organism_id__in=organisms, measure=Measure.PER_TRAP_NIGHT
    ).values_list("organism_id", "warn_level"):
        levels[organism_id] = min(levels.get(organism_id, warn), warn)
    return any(
        c.accepted and c.trap_class.organism_id in levels and c.count >= levels[c.trap_class.organism_id]
        for c in counts
    )


def _store(station, body, raw, message_id, transport, received_at) -> IngestResult:
    digest = hashlib.sha256(raw).hexdigest()
    existing = TrapMessage.objects.filter(station=station, message_id=message_id).first()
    if existing is not None:
        return _again(existing, digest, transport, raw, received_at)
    start, end, counts, images = _content(body, received_at)
    classes = {c.code: c for c in TrapClass.objects.filter(code__in=list(counts)).select_related("organism")}
    unknown = sorted(set(counts) - set(classes))
    problems = []
    if unknown:
        shown = ", ".join(_CONTROL.sub("", code)[:40] for code in unknown[:10])
        problems.append(f"Mã lớp không có trong danh mục: {shown}.")
    too_many = [
        f"{code}: {counts[code]} (tối đa {bound})"
        for code, trap_class in classes.items()
        if (bound := max_per_night(trap_class)) and counts[code] > bound
    ]
    if too_many:
        problems.append("Số lượng vượt mức có thể có trong một đêm — " + "; ".join(too_many) + ".")
    status = TrapMessage.Status.FLAGGED if problems else TrapMessage.Status.ACCEPTED
    reason = " ".join(problems)
    night = night_of(start)

    def write():
        message = TrapMessage.objects.create(
            station=station,
            message_id=message_id,
            window_start=start,
            window_end=end,
            received_at=received_at,
            transport=transport,
            status=status,
            reason=reason,
            images=images,
            payload_sha256=digest,
        )
        rows = [
            TrapCount(
                message=message,
                station=station,
                trap_class=trap_class,
                night=night,
                count=counts[code],
                accepted=status == TrapMessage.Status.ACCEPTED,
            )
            for code, trap_class in classes.items()
        ]
        TrapCount.objects.bulk_create(rows)
        if transport in SIGNED_TRANSPORTS:
            Station.objects.filter(pk=station.pk).update(
                last_message_at=Greatest("last_message_at", received_at) if station.last_message_at else received_at,
                silent_since=None,
            )
        return message, rows

    try:
        message, rows = atomic_retrying(write)
    except IntegrityError:
        # Two deliveries of one message at the same moment: the other one stored it.
        existing = TrapMessage.objects.filter(station=station, message_id=message_id).first()
        if existing is None:
            raise
        return _again(existing, digest, transport, raw, received_at)
    if status == TrapMessage.Status.FLAGGED:
        log.info("pests: trap message flagged (device %s): %s", station.device_id, reason)
    return IngestResult(status, message, reason, alerts_due=_alerts_due(rows), message_id=message_id)


def _again(existing: TrapMessage, digest: str, transport, raw, received_at) -> IngestResult:
    if existing.payload_sha256 == digest:
        return IngestResult(
            "duplicate", existing, "Tin nhắn đã nhận trước đây, không tính lại.", message_id=existing.message_id
        )
    reason = REUSED_ID
    _problem(transport, existing.station.device_id or "", existing.message_id, reason, raw, received_at)
    return IngestResult("rejected", None, reason, message_id=existing.message_id, field="message_id")


# ------------------------------------------------------------------------------------------ CSV import

CSV_COLUMNS = {
    "station": ("mã trạm", "ma tram", "station"),
    "night": ("ngày", "ngay", "ngày (đêm bẫy)", "ngay (dem bay)", "đêm bẫy", "dem bay", "night", "date"),
    "class": ("mã lớp", "ma lop", "class", "trap_class"),
    "count": ("số lượng", "so luong", "count"),
}
CSV_MAX_LINE = 4096
CSV_MAX_ROWS = 2_000_000
CSV_MAX_ERRORS = 200
CSV_FLUSH_GROUPS = 2000


def _csv_headers(cells: list[str]) -> dict[str, int]:
    from chinhquyenso.core.text import fold

    folded = [fold(c).strip().lower() for c in cells]
    found = {}
    for key, names in CSV_COLUMNS.items():
        wanted = {fold(n) for n in names}
        for index, name in enumerate(folded):
            if name in wanted:
                found[key] = index
                break
    missing = [CSV_COLUMNS[k][0] for k in CSV_COLUMNS if k not in found]
    if missing:
        raise DomainError(
            "Dòng đầu của tệp phải là tiêu đề cột: mã trạm, ngày (đêm bẫy), mã lớp, số lượng. Thiếu cột: "
            + ", ".join(missing)
            + ".",
            "file",
        )
    return found


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        import unicodedata

        return unicodedata.normalize("NFC", line.decode("cp1258", errors="replace"))


def _parse_night(text: str) -> dt.date:
    text = text.strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return params.check_date(dt.datetime.strptime(text, pattern).date(), "night")
        except (ValueError, DomainError):
            continue
    raise ValueError(text)


class _CsvImport:
    def __init__(self, actor, received_at):
        self.actor, self.received_at = actor, received_at
        self.stations: dict[str, Station | None] = {}
        self.classes = {c.code: c for c in TrapClass.objects.all()}
        self.errors: list[dict] = []
        self.error_count = 0
        self.buffer: dict[tuple[int, dt.date], dict[str, tuple[int, int]]] = {}  # → {class: (count, row)}
        self.written: set[tuple[int, dt.date]] = set()
        self.result = {"rows": 0, "messages": 0, "duplicates": 0, "flagged": 0, "counts": 0}

    def error(self, row: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < CSV_MAX_ERRORS:
            self.errors.append({"row": row, "message": message})

    def station(self, code: str) -> Station | None:
        if code not in self.stations:
            self.stations[code] = Station.objects.filter(code=code).first()
        return self.stations[code]

    def row(self, number: int, cells: list[str], columns: dict[str, int]) -> None:
        if len(cells) <= max(columns.values()):
            if any(c.strip() for c in cells):
                self.error(number, "Dòng thiếu cột: cần mã trạm, ngày, mã lớp, số lượng.")
            return
        code, night_text, class_code, count_text = (nfc(cells[columns[k]]).strip() for k in CSV_COLUMNS)
        station = self.station(code)
        if station is None:
            return self.error(number, f"Mã trạm “{code[:60]}” không có trong danh sách trạm.")
        if station.kind == Station.Kind.SURVEY_POINT:
            return self.error(number, f"“{code[:60]}” là điểm điều tra, không phải bẫy đèn.")
        try:
            night = _parse_night(night_text)
        except ValueError:
            return self.error(number, f"Ngày “{night_text[:20]}” không đúng dạng ngày/tháng/năm (ví dụ 06/12/2026).")
        if night > timezone.localdate(self.received_at):
            return self.error(number, f"Ngày {night:%d/%m/%Y} ở tương lai.")
        trap_class = self.classes.get(class_code)
        if trap_class is None:
            return self.error(number, f"Mã lớp “{class_code[:40]}” không có trong danh mục lớp của bẫy đèn.")
        try:
            count = params.integer(count_text, "số lượng", minimum=0)
        except DomainError:
            return self.error(number, f"Số lượng “{count_text[:20]}” phải là số nguyên không âm.")
        if count is None:
            return self.error(number, "Thiếu số lượng.")
        group = self.buffer.setdefault((station.pk, night), {})
        if class_code in group:
            return self.error(
                number, f"Trùng với dòng {group[class_code][1]}: cùng trạm, cùng đêm {night:%d/%m/%Y}, cùng lớp."
            )
        group[class_code] = (count, number)
        if len(self.buffer) >= CSV_FLUSH_GROUPS:
            self.flush()

    def flush(self) -> None:
        for (station_id, night), group in self.buffer.items():
            if not self.error_count:  # after an error nothing will be kept: only keep checking rows
                self.write(station_id, night, group)
        self.buffer = {}

    def write(self, station_id: int, night: dt.date, group: dict[str, tuple[int, int]]) -> None:
        station = next(s for s in self.stations.values() if s is not None and s.pk == station_id)
        message_id = f"csv:{station.code}:{night:%Y-%m-%d}"[:80]
        start = dt.datetime.combine(night, dt.time(18, 0), tzinfo=VN)
        bounds = {code: max_per_night(self.classes[code]) for code in group}
        over = [
            f"{code}: {count} (tối đa {bounds[code]})"
            for code, (count, _) in group.items()
            if bounds[code] and count > bounds[code]
        ]
        message = TrapMessage.objects.filter(station=station, message_id=message_id).first()
        if message is None:
            reason = ("Số lượng vượt mức có thể có trong một đêm — " + "; ".join(over) + ".") if over else ""
            message = TrapMessage.objects.create(
                station=station,
                message_id=message_id,
                window_start=start,
                window_end=start + dt.timedelta(hours=12),
                received_at=self.received_at,
                transport=Transport.CSV,
                status=TrapMessage.Status.FLAGGED if over else TrapMessage.Status.ACCEPTED,
                reason=reason,
                payload_sha256="",
            )
            self.written.add((station_id, night))
            self.result["messages"] += 1
            self.result["flagged"] += bool(over)
            stored: dict[str, int] = {}
        else:
            stored = dict(message.counts.values_list("trap_class__code", "count"))
        fresh = (station_id, night) in self.written
        new_rows = []
        for code, (count, number) in group.items():
            if code in stored:
                if fresh:
                    self.error(number, f"Trùng dòng đã đọc: cùng trạm, cùng đêm {night:%d/%m/%Y}, cùng lớp {code}.")
                elif stored[code] != count:
                    self.error(
                        number,
                        f"Đêm {night:%d/%m/%Y} của trạm {station.code}, lớp {code} đã được nhập trước đây với "
                        f"số lượng {stored[code]}, khác {count}: không nhập đè (sửa số liệu cũ trong trang quản trị).",
                    )
                continue
            if not fresh:
                self.error(
                    number,
                    f"Đêm {night:%d/%m/%Y} của trạm {station.code} đã được nhập trước đây mà không có lớp {code}: "
                    "không nhập thêm vào số liệu cũ.",
                )
                continue
            new_rows.append(
                TrapCount(
                    message=message,
                    station=station,
                    trap_class=self.classes[code],
                    night=night,
                    count=count,
                    accepted=message.status == TrapMessage.Status.ACCEPTED and not over,
                )
            )
        if not fresh and not new_rows:
            self.result["duplicates"] += 1
        if new_rows:
            TrapCount.objects.bulk_create(new_rows)
            self.result["counts"] += len(new_rows)
            if over and message.status == TrapMessage.Status.ACCEPTED:
                message.status, message.reason = (
                    TrapMessage.Status.FLAGGED,
                    "Số lượng vượt mức có thể có trong một đêm — " + "; ".join(over) + ".",
                )
                message.save(update_fields=["status", "reason"])
                message.counts.update(accepted=False)
                self.result["flagged"] += 1
        if fresh:
            all_counts = sorted(message.counts.values_list("trap_class__code", "count"))
            message.payload_sha256 = hashlib.sha256(json.dumps(all_counts).encode()).hexdigest()
            message.save(update_fields=["payload_sha256"])


class _Abort(Exception):
    pass


def _open(file):
    if isinstance(file, (str, Path)):
        return open(file, "rb"), True  # noqa: SIM115 — closed by the caller
    if isinstance(file, io.TextIOBase):
        return io.BytesIO(file.read().encode()), True
    return file, False


def import_csv(file, *, actor=None) -> dict:
    """Import a CSV of historical trap logs (columns mã trạm, ngày (đêm bẫy), mã lớp, số lượng; comma,
    semicolon or tab; UTF-8 or Windows-1258; dates dd/mm/yyyy or yyyy-mm-dd). All or nothing: with any
    bad row nothing is kept and `errors` lists each bad row's number and reason. One message per station
    and night (message id "csv:<station>:<night>"), so importing the same log again counts nothing twice.
    Returns {"imported", "rows", "messages", "duplicates", "flagged", "counts", "errors", "error_count"}."""
    if actor is not None:
        from chinhquyenso.pests import access

        access.refuse_read_only(actor)
    stream, close = _open(file)
    job = _CsvImport(actor, timezone.now())
    try:
        first = bounded_line(stream, CSV_MAX_LINE)
        if first is None or first is TOO_LONG:
            raise DomainError(
                "Tệp rỗng hoặc dòng tiêu đề quá dài: cần tiêu đề mã trạm, ngày, mã lớp, số lượng.", "file"
            )
        header = _decode(first).removeprefix("\ufeff")
        delimiter = max(",;\t", key=header.count)
        columns = _csv_headers(next(csv.reader([header], delimiter=delimiter), []))
        try:
            with transaction.atomic():
                number = 1
                while True:
                    line = bounded_line(stream, CSV_MAX_LINE)
                    if line is None:
                        break
                    number += 1
                    job.result["rows"] += 1
                    if number - 1 > CSV_MAX_ROWS:
                        job.error(number, f"Tệp có quá {CSV_MAX_ROWS} dòng: hãy chia thành nhiều tệp.")
                        break
                    if line is TOO_LONG:
                        job.error(number, "Dòng dài bất thường: không phải dòng sổ theo dõi bẫy đèn.")
                        continue
                    text = _decode(line)
                    if not text.strip():
                        continue
                    try:
                        cells = next(csv.reader([text], delimiter=delimiter, strict=True), [])
                    except csv.Error:
                        job.error(number, "Dòng có dấu ngoặc kép đặt sai chỗ.")
                        continue
                    job.row(number, cells, columns)
                job.flush()
                if job.error_count:
                    raise _Abort
                audit.record(
                    actor=actor,
                    action="pests.ingest.import",
                    object_type="pests.TrapMessage",
                    after={k: v for k, v in job.result.items()},
                )
        except _Abort:
            pass
    finally:
        if close:
            stream.close()
    imported = not job.error_count
    if not imported:
        job.result.update(messages=0, duplicates=0, flagged=0, counts=0)
    return {"imported": imported, **job.result, "errors": job.errors, "error_count": job.error_count}


__all__ = ["IngestResult", "import_csv", "ingest", "night_of", "sign"]


# ------------------------------------------------------------------------------------------ review


@transaction.atomic
def review(message: TrapMessage, *, accept: bool, actor, note: str = "") -> TrapMessage:
    """An officer's decision on a flagged message: accepted (its counts now count) or rejected (kept,
    never counted). Counts are never edited: a wrong figure is corrected by a new message."""
    from chinhquyenso.pests import access

    if actor is not None:
        access.refuse_read_only(actor)
        if not (access.can_survey(actor) or access.can_manage_catalog(actor)):
            from chinhquyenso.core.errors import PermissionDenied

            raise PermissionDenied("Tài khoản chưa được giao theo dõi bẫy đèn.")
    message = TrapMessage.objects.select_for_update().get(pk=message.pk)
    if message.status != TrapMessage.Status.FLAGGED:
        raise DomainError("Chỉ xem xét tin nhắn đang chờ kiểm tra (nghi ngờ).", "status")
    before = message.status
    message.status = TrapMessage.Status.ACCEPTED if accept else TrapMessage.Status.REJECTED
    decision = "Cán bộ đã kiểm tra, chấp nhận." if accept else "Cán bộ đã kiểm tra, loại."
    message.reason = " ".join(part for part in (message.reason, decision, nfc(note)[:500]) if part)
    message.save(update_fields=["status", "reason"])
    message.counts.update(accepted=accept)
    audit.record(
        actor=actor,
        action="pests.message.review",
        obj=message,
        agency_id=message.station.agency_id,
        before={"status": before},
        after={"status": message.status},
    )
    return message
