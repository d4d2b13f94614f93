"""Every write to citizen feedback (phản ánh, kiến nghị). Each public function
validates before writing, runs in one transaction, records a FeedbackEvent
(the timeline) and an audit record without personal data.

Lifecycle: received → assigned → in_progress (⇄ waiting_info) → resolved /
rejected → closed (the citizen's rating); a resolved report may be reopened
within 7 days (→ in_progress). IOC operators dispatch: reassign, merge a
duplicate into its original (→ merged), split a report into parts (→ split),
reject what is out of scope. See docs/feedback.md."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import io
import json
import math
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from chinhquyenso.accounts.models import GlobalRole, Membership, Role
from chinhquyenso.accounts.selectors import has_role, is_ioc_operator, is_read_only
from chinhquyenso.core import audit, idempotency
from chinhquyenso.core.calendar import WorkingCalendar, calendar_for, closing_time, local_date
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.text import fold, format_number, nfc
from chinhquyenso.core.uploads import sniff, store_upload
from chinhquyenso.dossiers.models import CodeCounter, Dossier
from chinhquyenso.feedback import notify
from chinhquyenso.feedback.conf import conf
from chinhquyenso.feedback.models import (
    OPEN_STATUSES,
    AreaPoint,
    Category,
    Escalation,
    Feedback,
    FeedbackEvent,
    Notification,
    PhoneVerification,
    Photo,
    Status,
)
from chinhquyenso.feedback.routing import locate, route, route_category  # noqa: F401  (route is part of the API)
from chinhquyenso.org.models import Agency, AgencyKind, Level
from chinhquyenso.org.selectors import current_successor

DEFAULT_CATEGORIES = Path(__file__).parent / "data" / "categories.json"
CHANNELS = {
    "web": "Cổng thông tin",
    "app": "Ứng dụng SmartAnGiang",
    "open311": "Ứng dụng kết nối (Open311)",
    "ioc": "Tổng đài, điều phối viên IOC",
}
OFFICER_ROLES = (Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER)
MAX_TEXT = 4000
# Escalation levels: 1 due soon and 2 overdue go to the handling agency's leaders, 3 to the IOC.
ESCALATION_LEVELS = {1: "Sắp đến hạn", 2: "Quá hạn", 3: "Chuyển IOC"}
DUE_SOON, OVERDUE, IOC = 1, 2, 3


class TooManyRequests(DomainError):
    status_code = 429

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field, code="rate_limited")


# ---------------------------------------------------------------- helpers


def _now(at=None) -> dt.datetime:
    return at or timezone.now()


def _keyed_hash(*parts) -> str:
    """HMAC with the secret key: IP addresses and codes are never stored in clear."""
    return hmac.new(settings.SECRET_KEY.encode(), "|".join(str(p) for p in parts).encode(), hashlib.sha256).hexdigest()


def _actor_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


def next_code(at: dt.datetime) -> str:
    """PA-<year>-<6-digit running number>, one counter row per year (locked)."""
    year = local_date(at).year
    counter, _ = CodeCounter.objects.select_for_update().get_or_create(key=f"PA-{year}")
    counter.value += 1
    counter.save(update_fields=["value"])
    return f"PA-{year}-{counter.value:06d}"


def normalize_phone(phone: str, field: str = "phone") -> str:
    """Vietnamese mobile/landline: digits only, +84 → 0, 10–11 digits."""
    raw = nfc(phone)
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not raw:
        return ""
    if raw.lstrip().startswith("+84") or (digits.startswith("84") and len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    if not (digits.startswith("0") and 10 <= len(digits) <= 11) or any(ch not in "0123456789 .-+()" for ch in raw):
        raise DomainError("Số điện thoại không hợp lệ (ví dụ 0912 345 678).", field)
    return digits


def _text(value, field: str, label: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = nfc(value)
    if required and not value:
        raise DomainError(f"{label} không được để trống.", field)
    if len(value) > limit:
        raise DomainError(f"{label} dài quá {format_number(limit)} ký tự.", field)
    return value


def _calendar(*moments) -> WorkingCalendar:
    return calendar_for(*moments, days_after=400)


def _start(feedback: Feedback) -> dt.datetime:
    """When the handling agency got the report (refusal and info-request windows count from here)."""
    return feedback.assigned_at or feedback.received_at


def working_days_before(calendar: WorkingCalendar, day: dt.date, count: int) -> dt.date:
    """The working day `count` working days before `day`."""
    for _ in range(count):
        day -= dt.timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= dt.timedelta(days=1)
    return day


# ---------------------------------------------------------------- permissions


def _begin(feedback: Feedback, actor, at) -> tuple[Feedback, dt.datetime]:
    """Refuse read-only accounts, lock the report's row."""
    if is_read_only(actor):
        raise PermissionDenied("Tài khoản kiểm tra, giám sát chỉ được xem, không được thao tác.")
    locked = Feedback.objects.select_for_update(of=("self",)).select_related("category", "agency").get(pk=feedback.pk)
    return locked, _now(at)


def _require(feedback: Feedback, *statuses: str, action: str) -> None:
    if feedback.status not in statuses:
        raise DomainError(f"Không thể {action} phản ánh ở trạng thái “{feedback.get_status_display()}”.", "status")


def _require_handler(feedback: Feedback, actor, *, roles=OFFICER_ROLES, ioc: bool = False) -> None:
    """Officers of the handling agency in `roles`; IOC operators where `ioc`."""
    if ioc and is_ioc_operator(actor):
        return
    if (
        getattr(actor, "is_citizen", True)
        or feedback.agency_id is None
        or not has_role(actor, feedback.agency_id, *roles)
    ):
        raise PermissionDenied("Bạn không có vai trò phù hợp tại cơ quan đang xử lý phản ánh này.")


def is_reporter(feedback: Feedback, actor=None, token: str = "") -> bool:
    if getattr(actor, "pk", None) and feedback.reporter_id == actor.pk:
        return True
    return bool(token) and hmac.compare_digest(str(token), feedback.token)


def _require_reporter(feedback: Feedback, actor, token: str) -> None:
    if not is_reporter(feedback, actor, token):
        raise PermissionDenied("Chỉ người gửi phản ánh mới thực hiện được thao tác này.")


def _action(func):
    """One transaction per action; the caller's instance is refreshed
    afterwards (the action works on a locked copy of the row)."""

    @functools.wraps(func)
    def wrapper(feedback, *args, **kwargs):
        with transaction.atomic():
            result = func(feedback, *args, **kwargs)
            feedback.refresh_from_db()
        return feedback if isinstance(result, Feedback) and result.pk == feedback.pk else result

    return wrapper


# ---------------------------------------------------------------- recording


def _snapshot(feedback: Feedback) -> dict:
    return {"status": feedback.status, "agency": feedback.agency_id, "due_at": feedback.due_at}


def _event(
    feedback: Feedback,
    *,
    actor,
    action: str,
    at,
    from_status: str = "",
    to_status: str = "",
    text: str = "",
    public: bool = False,
    agency_id=None,
) -> FeedbackEvent:
    return FeedbackEvent.objects.create(
        feedback=feedback,
        at=at,
        actor=_actor_or_none(actor),
        action=action,
        from_status=from_status,
        to_status=to_status or feedback.status,
        agency_id=agency_id if agency_id is not None else feedback.agency_id,
        text=text,
        is_public=public,
    )


def _transition(
    feedback: Feedback,
    *,
    actor,
    action: str,
    to_status: str,
    at,
    text: str = "",
    public: bool = False,
    audit_extra: dict | None = None,
) -> FeedbackEvent:
    """Apply a status change and record it in the timeline and the audit chain
    (statuses, agencies and dates only: never names, phones or texts)."""
    before = _snapshot(feedback)
    from_status = feedback.status
    feedback.status = to_status
    feedback.save()
    event = _event(
        feedback,
        actor=actor,
        action=action,
        at=at,
        from_status=from_status,
        to_status=to_status,
        text=text,
        public=public,
    )
    audit.record(
        actor=actor,
        action=f"feedback.{action}",
        obj=feedback,
        agency_id=feedback.agency_id,
        at=at,
        before=before,
        after={**_snapshot(feedback), **(audit_extra or {})},
    )
    return event


def _queue(
    *,
    feedback=None,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    kind: str,
    at,
    agency_id=None,
    escalation=None,
) -> Notification:
    return Notification.objects.create(
        feedback=feedback,
        channel=channel,
        recipient=recipient,
        subject=subject[:255],
        body=body,
        kind=kind,
        next_attempt_at=at,
        agency_id=agency_id,
        escalation=escalation,
    )


def _reporter_address(feedback: Feedback) -> tuple[str, str] | None:
    """(channel, recipient) to reach the reporter: e-mail if known, else SMS."""
    account = feedback.reporter if feedback.reporter_id else None
    email = feedback.reporter_email or getattr(account, "email", "")
    if email:
        return "email", email
    phone = feedback.reporter_phone or getattr(account, "phone", "")
    if phone:
        return "sms", phone
    return None


def notify_reporter(feedback: Feedback, *, kind: str, message: str, at) -> Notification | None:
    """Queue a message to the report's author (sent by send_pending_notifications)."""
    address = _reporter_address(feedback)
    if address is None:
        return None
    channel, recipient = address
    subject = f"Phản ánh {feedback.code}: {feedback.get_status_display().lower()}"
    body = (
        f"{message}\n\nMã phản ánh: {feedback.code}. Tra cứu tiến độ trên Cổng thông tin của tỉnh "
        f"{settings.CQS['PROVINCE_NAME']} bằng mã này."
    )
    return _queue(feedback=feedback, channel=channel, recipient=recipient, subject=subject, body=body, kind=kind, at=at)


# ---------------------------------------------------------------- categories


def _category_spec(item: dict, index: int) -> dict:
    where = f"categories[{index}]"
    code = nfc(item.get("code"))
    if not code:
        raise DomainError("Lĩnh vực thiếu mã (code).", f"{where}.code")
    name = nfc(item.get("name"))
    if not name:
        raise DomainError("Lĩnh vực thiếu tên (name).", f"{where}.name")
    level = item.get("handling_level", Level.COMMUNE)
    if level not in Level.values:
        raise DomainError("Cấp xử lý phải là commune, district hoặc province.", f"{where}.handling_level")
    kind = item.get("handling_kind", "")
    if kind and kind not in AgencyKind.values:
        raise DomainError("Loại cơ quan xử lý không hợp lệ.", f"{where}.handling_kind")
    agency = None
    if item.get("handling_agency"):
        # Absent here (another province's tree, a test): the category routes by its level instead.
        first = Agency.objects.filter(code=item["handling_agency"]).order_by("valid_from").first()
        agency = current_successor(first) if first else None
    days = {}
    for key, default in (("handling_days", 15), ("refusal_days", 2), ("info_request_days", 5)):
        value = item.get(key, default)
        if not isinstance(value, int) or not 0 < value <= 365:
            raise DomainError("Số ngày làm việc phải là số nguyên từ 1 đến 365.", f"{where}.{key}")
        days[key] = value
    attributes = item.get("attributes", [])
    if not isinstance(attributes, list) or any(not isinstance(a, dict) or not a.get("code") for a in attributes):
        raise DomainError("Thông tin bổ sung (attributes) phải là danh sách, mỗi mục có code.", f"{where}.attributes")
    return {
        "code": code,
        "defaults": {
            "name": name,
            "description": nfc(item.get("description")),
            "group": nfc(item.get("group")),
            "keywords": nfc(item.get("keywords")),
            "handling_level": level,
            "handling_kind": kind,
            "handling_agency": agency,
            "attributes": attributes,
            "order": index + 1,
            **days,
        },
    }


@transaction.atomic
def load_categories(path=None, *, actor=None) -> dict[str, int]:
    """Create the categories missing from a JSON file (default data/categories.json).
    Idempotent: categories the province already has stay as it edited them."""
    data = json.loads(Path(path or DEFAULT_CATEGORIES).read_text(encoding="utf-8"))
    items = data.get("categories", [])
    specs = [_category_spec(item, i) for i, item in enumerate(items)]
    created = 0
    for spec in specs:
        _, new = Category.objects.get_or_create(code=spec["code"], defaults=spec["defaults"])
        created += new
    unresolved = [
        item["handling_agency"]
        for item, spec in zip(items, specs)
        if item.get("handling_agency") and spec["defaults"]["handling_agency"] is None
    ]
    audit.record(
        actor=actor,
        action="feedback.categories.load",
        object_type="feedback.Category",
        object_id=Path(path or DEFAULT_CATEGORIES).name,
        after={"created": created, "in_file": len(specs)},
    )
    return {"created": created, "existing": len(specs) - created, "unresolved_agencies": unresolved}


@transaction.atomic
def set_area_point(*, actor, agency: Agency, latitude, longitude) -> AreaPoint:
    """Set (replace) a commune's or district's reference point for map pins."""
    lat, lon = _coordinates(latitude, longitude)
    if lat is None:
        raise DomainError("Phải có cả vĩ độ và kinh độ.", "latitude")
    point, _ = AreaPoint.objects.update_or_create(agency=agency, defaults={"latitude": lat, "longitude": lon})
    audit.record(
        actor=actor,
        action="feedback.area_point",
        obj=point,
        agency_id=agency.pk,
        after={"latitude": lat, "longitude": lon},
    )
    return point


# ---------------------------------------------------------------- submission: validation


def _coordinates(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    if latitude in (None, "") or longitude in (None, ""):
        raise DomainError(
            "Vị trí trên bản đồ phải có cả vĩ độ và kinh độ.", "latitude" if latitude in (None, "") else "longitude"
        )
    values = []
    for raw, field, bound in ((latitude, "latitude", 90), (longitude, "longitude", 180)):
        try:
            value = Decimal(str(raw).strip().replace(",", "."))
        except InvalidOperation:
            raise DomainError("Tọa độ phải là số thập phân (ví dụ 10.386).", field) from None
        if not value.is_finite() or abs(value) > bound:
            raise DomainError(f"Tọa độ nằm ngoài khoảng cho phép (±{bound}).", field)
        values.append(value.quantize(Decimal("0.000001")))
    return values[0], values[1]


def _attribute_values(category: Category, values) -> dict:
    """Check the category's Open311 attributes: required ones present, list values among the choices."""
    values = values or {}
    if not isinstance(values, dict):
        raise DomainError("Thông tin bổ sung phải là các cặp mã – giá trị.", "attribute_values")
    known = {a["code"]: a for a in category.attributes if a.get("variable", True)}
    cleaned = {}
    for code in values:
        if code not in known:
            raise DomainError(
                f"Lĩnh vực này không có thông tin bổ sung “{nfc(code)[:60]}”.", f"attribute_values.{nfc(code)[:60]}"
            )
    for code, spec in known.items():
        field, label = f"attribute_values.{code}", nfc(spec.get("description") or code)
        value = values.get(code)
        empty = value in (None, "", [])
        if empty:
            if spec.get("required"):
                raise DomainError(f"Thiếu thông tin bắt buộc: {label}.", field)
            continue
        datatype = spec.get("datatype", "string")
        choices = {str(v.get("key")) for v in spec.get("values", [])}
        if datatype == "multivaluelist":
            items = value if isinstance(value, list) else [value]
            if any(str(v) not in choices for v in items):
                raise DomainError(f"Giá trị không có trong danh sách chọn của “{label}”.", field)
            cleaned[code] = [str(v) for v in items]
        elif datatype == "singlevaluelist":
            if str(value) not in choices:
                raise DomainError(f"Giá trị không có trong danh sách chọn của “{label}”.", field)
            cleaned[code] = str(value)
        elif datatype == "number":
            try:
                cleaned[code] = float(str(value).replace(",", "."))
            except ValueError:
                raise DomainError(f"“{label}” phải là số.", field) from None
            if not math.isfinite(cleaned[code]):  # NaN/inf: not JSON, PostgreSQL refuses them
                raise DomainError(f"“{label}” phải là số.", field)
        elif datatype == "datetime":
            try:
                moment = dt.datetime.fromisoformat(str(value).strip())
            except ValueError:
                raise DomainError(f"“{label}” phải là ngày giờ W3C, ví dụ 2025-03-10T09:30:00+07:00.", field) from None
            cleaned[code] = (moment if timezone.is_aware(moment) else timezone.make_aware(moment)).isoformat()
        else:
            cleaned[code] = _text(value, field, label, limit=500)
    return cleaned


def _media_url(value) -> str:
    """A link to a photo or video the client application hosts (Open311 media_url): kept, never fetched."""
    value = nfc(value)
    if not value:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise DomainError("Đường dẫn ảnh phải là địa chỉ http:// hoặc https:// hợp lệ.", "media_url") from None
    if len(value) > 500:
        raise DomainError("Đường dẫn ảnh dài quá 500 ký tự.", "media_url")
    return value


def _photo_bytes(photo) -> bytes:
    if hasattr(photo, "read"):
        return photo.read()
    if isinstance(photo, (tuple, list)) and len(photo) == 2:
        return bytes(photo[1])
    return bytes(photo)


GPS_IFD = 0x8825


def clean_photo(data: bytes, *, keep_location: bool, field: str) -> bytes:
    """A JPEG or PNG by its bytes, decodable, without its GPS position unless
    the citizen keeps it. Only the GPS directory is removed: orientation and
    the rest of EXIF stay, and an image without GPS is stored untouched."""
    from PIL import Image, UnidentifiedImageError

    kind = sniff(data[:16]) if data else None
    if kind is None or kind[0] not in ("image/jpeg", "image/png"):
        raise DomainError("Ảnh phải là tệp JPEG hoặc PNG (kiểm tra theo nội dung tệp).", field)
    if len(data) > settings.CQS["UPLOAD_MAX_BYTES"]:
        raise DomainError(
            f"Ảnh vượt quá dung lượng cho phép ({settings.CQS['UPLOAD_MAX_BYTES'] // (1024 * 1024)} MB).", field
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError("Tệp ảnh bị hỏng hoặc không đọc được.", field) from None
    exif = image.getexif()
    xmp = image.info.get("xmp") or b""
    # XMP may repeat the position (exif:GPSLatitude); re-saving drops XMP entirely.
    has_gps = GPS_IFD in exif or b"GPS" in (xmp.encode() if isinstance(xmp, str) else xmp)
    if keep_location or not has_gps:
        return data
    exif.pop(GPS_IFD, None)
    out = io.BytesIO()
    if image.format == "JPEG":
        params = {"quality": "keep"} if getattr(image, "quantization", None) else {"quality": 92}
        icc = image.info.get("icc_profile")
        image.save(out, format="JPEG", exif=exif.tobytes(), **params, **({"icc_profile": icc} if icc else {}))
    else:
        image.save(out, format="PNG", exif=exif.tobytes())
    return out.getvalue()


def _check_rate(phone: str, client_hash: str, at) -> None:
    hour_ago = at - dt.timedelta(hours=1)
    per_phone, per_ip = conf("FEEDBACK_PER_PHONE_PER_HOUR"), conf("FEEDBACK_PER_IP_PER_HOUR")
    # Bounded on both sides: a report entered with a past time (by an operator) counts only its own hour.
    recent = Feedback.objects.filter(received_at__gte=hour_ago, received_at__lte=at)
    if phone and recent.filter(reporter_phone=phone).count() >= per_phone:
        raise TooManyRequests(
            f"Số điện thoại này đã gửi {per_phone} phản ánh trong một giờ qua; vui lòng thử lại sau.", "phone"
        )
    if client_hash and recent.filter(client_hash=client_hash).count() >= per_ip:
        raise TooManyRequests(
            f"Đã có {per_ip} phản ánh gửi từ địa chỉ mạng này trong một giờ qua; vui lòng thử lại sau.", "client_ip"
        )


def _check_code(phone: str, code: str, at) -> None:
    """The code sent to this phone: not expired, at most N wrong tries. A
    wrong try is counted in its own transaction, so it sticks even though the
    submission is refused."""
    code = nfc(code).replace(" ", "")
    if not code:
        raise DomainError("Hãy nhập mã xác minh đã gửi đến số điện thoại.", "verification_code")
    entry = PhoneVerification.objects.filter(phone=phone, expires_at__gt=at).order_by("-created_at").first()
    if entry is None:
        raise DomainError("Mã xác minh đã hết hạn hoặc chưa được gửi; hãy yêu cầu mã mới.", "verification_code")
    limit = conf("FEEDBACK_CODE_MAX_ATTEMPTS")
    if entry.attempts >= limit:
        raise DomainError(f"Đã nhập sai mã quá {limit} lần; hãy yêu cầu mã mới.", "verification_code")
    if not hmac.compare_digest(entry.code_hash, _keyed_hash("code", phone, code)):
        with transaction.atomic():
            PhoneVerification.objects.filter(pk=entry.pk).update(attempts=F("attempts") + 1)
        raise DomainError("Mã xác minh không đúng.", "verification_code")
    if entry.verified_at is None:
        PhoneVerification.objects.filter(pk=entry.pk, verified_at__isnull=True).update(verified_at=at)


def send_verification_code(phone: str, *, client_ip: str = "", at=None) -> PhoneVerification:
    """Text a 6-digit code to an anonymous reporter's phone. Only its keyed
    hash is stored; it expires after 10 minutes and allows 5 tries."""
    at = _now(at)
    phone = normalize_phone(phone)
    if not phone:
        raise DomainError("Hãy nhập số điện thoại để nhận mã xác minh.", "phone")
    limit = conf("FEEDBACK_CODES_PER_PHONE_PER_HOUR")
    if PhoneVerification.objects.filter(phone=phone, created_at__gte=at - dt.timedelta(hours=1)).count() >= limit:
        raise TooManyRequests(
            f"Đã gửi {limit} mã xác minh đến số này trong một giờ qua; vui lòng thử lại sau.", "phone"
        )
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = conf("FEEDBACK_CODE_MINUTES")
    with transaction.atomic():
        entry = PhoneVerification.objects.create(
            phone=phone,
            code_hash=_keyed_hash("code", phone, code),
            created_at=at,
            expires_at=at + dt.timedelta(minutes=minutes),
        )
        try:
            notify.sender_for("sms").send(
                phone,
                "Mã xác minh",
                f"Mã xác minh phản ánh, kiến nghị: {code} (hiệu lực {minutes} phút). Không chia sẻ mã này.",
            )
        except Exception:
            raise DomainError("Chưa gửi được tin nhắn mã xác minh; vui lòng thử lại sau ít phút.", "phone") from None
    return entry


# ---------------------------------------------------------------- submission


def _replayed(feedback: Feedback) -> Feedback:
    feedback.replayed = True  # not stored: tells an API to answer with the first report
    return feedback


def _due_at(calendar: WorkingCalendar, received_at: dt.datetime, days: int) -> dt.datetime:
    """Like dossiers: received after 15:00 or on a day off counts from the next working day."""
    return calendar.due_at(received_at, days)


def _assign_initial(feedback: Feedback, agency: Agency | None, at, actor) -> None:
    if agency is None:
        return
    feedback.agency, feedback.assigned_at = agency, at
    _transition(
        feedback,
        actor=actor,
        action="assign",
        to_status=Status.ASSIGNED,
        at=at,
        public=True,
        text=f"Chuyển {agency.name} xử lý.",
        audit_extra={"routed": True},
    )


def submit(
    *,
    category_code,
    description,
    latitude=None,
    longitude=None,
    address="",
    area_code="",
    reporter=None,
    name="",
    phone="",
    email="",
    attribute_values=None,
    photos=(),
    keep_photo_location=False,
    dossier_code="",
    channel="web",
    api_client="",
    device_id="",
    idempotency_key="",
    verification_code="",
    client_ip="",
    title="",
    media_url="",
    at=None,
) -> Feedback:
    """Receive a report. Everything is validated before anything is written.

    A retry returns the first report: the same idempotency key (409 if the
    content differs), or the same device / phone / account, category and
    description (compared folded) within 10 minutes. Anonymous web reports
    need the phone's verification code. The report is routed at once; what
    cannot be routed waits in the IOC operators' queue."""
    at = _now(at)
    photo_data = [_photo_bytes(p) for p in (photos or [])]
    payload = {
        "category_code": category_code,
        "description": description,
        "latitude": str(latitude),
        "longitude": str(longitude),
        "address": address,
        "area_code": area_code,
        "name": name,
        "phone": phone,
        "email": email,
        "attribute_values": attribute_values,
        "dossier_code": dossier_code,
        "channel": channel,
        "reporter": getattr(reporter, "pk", None),
        "title": title,
        "keep_photo_location": keep_photo_location,
        "photos": [hashlib.sha256(d).hexdigest() for d in photo_data],
        "media_url": media_url,
    }
    previous = idempotency.find("feedback.submit", idempotency_key, payload)
    if previous:
        return _replayed(Feedback.objects.get(pk=previous.object_id))

    # --- validate
    if channel not in CHANNELS:
        raise DomainError(f"Kênh gửi phải là một trong: {', '.join(CHANNELS)}.", "channel")
    category = Category.objects.filter(code=nfc(category_code), is_active=True).first()
    if category is None:
        raise DomainError("Hãy chọn lĩnh vực phản ánh.", "category_code")
    description = _text(description, "description", "Nội dung phản ánh")
    title = _text(title, "title", "Tiêu đề", required=False, limit=200) or description[:120]
    lat, lon = _coordinates(latitude, longitude)
    address = _text(address, "address", "Địa chỉ", required=False, limit=255)
    area_code = nfc(area_code)
    area = None
    if area_code:
        from chinhquyenso.feedback.routing import area_by_code

        area = area_by_code(area_code)
        if area is None:
            raise DomainError("Không tìm thấy xã, phường hoặc huyện với mã này.", "area_code")
    if lat is None and not address and area is None:
        raise DomainError("Hãy cho biết nơi xảy ra: ghim trên bản đồ, địa chỉ hoặc xã, phường.", "location")
    is_citizen = getattr(reporter, "is_citizen", False)
    name = _text(name or (reporter.full_name if is_citizen else ""), "name", "Họ tên", required=False, limit=150)
    phone = normalize_phone(phone or (reporter.phone if is_citizen else ""))
    email = nfc(email or (reporter.email if is_citizen else "")).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise DomainError("Địa chỉ thư điện tử không hợp lệ.", "email") from None
    attributes = _attribute_values(category, attribute_values)
    media_url = _media_url(media_url)
    if len(photo_data) > conf("FEEDBACK_MAX_PHOTOS"):
        raise DomainError(f"Chỉ gửi tối đa {conf('FEEDBACK_MAX_PHOTOS')} ảnh.", "photos")
    cleaned_photos = [
        clean_photo(d, keep_location=keep_photo_location, field=f"photos[{i}]") for i, d in enumerate(photo_data)
    ]
    dossier = None
    if nfc(dossier_code):
        dossier = Dossier.objects.filter(code=nfc(dossier_code)).first()
        if dossier is None:
            raise DomainError("Không tìm thấy hồ sơ với mã này.", "dossier_code")
    anonymous_web = reporter is None and channel == "web"
    if anonymous_web and not phone:
        raise DomainError("Hãy nhập số điện thoại để nhận mã xác minh (hoặc đăng nhập).", "phone")

    who = nfc(device_id) or phone or (f"user:{reporter.pk}" if getattr(reporter, "pk", None) else "")
    client_hash = _keyed_hash("ip", client_ip) if client_ip else ""
    content_hash = hashlib.sha256(
        f"{who or client_hash or api_client}|{category.code}|{fold(description)}".encode()
    ).hexdigest()
    if anonymous_web:  # first, so a replay never hands the first report's token to someone without the code
        _check_code(phone, verification_code, at)
    recent = (
        Feedback.objects.filter(
            content_hash=content_hash, received_at__gte=at - dt.timedelta(minutes=conf("FEEDBACK_DUPLICATE_MINUTES"))
        )
        .order_by("received_at")
        .first()
    )
    if recent:
        return _replayed(recent)
    _check_rate(phone, client_hash, at)

    # --- write
    area = area or locate(latitude=lat, longitude=lon, address=address)
    handler = route_category(category, area)
    calendar = _calendar(at)
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                code=next_code(at),
                token=secrets.token_urlsafe(24),
                category=category,
                title=title,
                description=description,
                attribute_values=attributes,
                latitude=lat,
                longitude=lon,
                address=address,
                area=area,
                reporter=reporter if is_citizen else None,
                reporter_name=name,
                reporter_phone=phone,
                reporter_email=email,
                phone_verified=anonymous_web or bool(phone and is_citizen and phone == reporter.phone),
                channel=channel,
                api_client=nfc(api_client)[:100],
                content_hash=content_hash,
                client_hash=client_hash,
                dossier=dossier,
                media_url=media_url,
                status=Status.RECEIVED,
                received_at=at,
                due_at=_due_at(calendar, at, category.handling_days),
            )
            for order, data in enumerate(cleaned_photos):
                stored = store_upload(
                    data,
                    original_name=f"{feedback.code}-{order + 1}",
                    field=f"photos[{order}]",
                    user=reporter if is_citizen else None,
                )
                Photo.objects.create(feedback=feedback, file=stored, order=order, kept_location=keep_photo_location)
            _event(
                feedback,
                actor=reporter,
                action="submit",
                at=at,
                to_status=Status.RECEIVED,
                public=True,
                text=CHANNELS[channel],
            )
            audit.record(
                actor=reporter,
                action="feedback.submit",
                obj=feedback,
                agency_id=getattr(handler, "pk", None),
                at=at,
                after={
                    "status": Status.RECEIVED,
                    "category": category.code,
                    "channel": channel,
                    "area": getattr(area, "pk", None),
                    "photos": len(cleaned_photos),
                    "due_at": feedback.due_at,
                },
            )
            _assign_initial(feedback, handler, at, actor=None)
            idempotency.remember("feedback.submit", idempotency_key, payload, feedback)
            return feedback
    except IntegrityError:
        # A concurrent first attempt with the same key won: answer with its report.
        previous = idempotency.find("feedback.submit", idempotency_key, payload)
        if previous:
            return _replayed(Feedback.objects.get(pk=previous.object_id))
        raise


# ---------------------------------------------------------------- dispatching (IOC operators, leaders)


@_action
def assign(feedback: Feedback, *, actor, agency_code: str, note: str = "", at=None) -> Feedback:
    """Send the report to an agency (from the IOC queue) or reassign it: IOC
    operators, or a leader of the agency holding it. The deadline stays the
    one given to the citizen at receipt."""
    feedback, at = _begin(feedback, actor, at)
    _require(feedback, Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS, action="chuyển cơ quan xử lý")
    _require_handler(feedback, actor, roles=(Role.LEADER,), ioc=True)
    code = nfc(agency_code)
    target = (
        Agency.objects.current().filter(code=code).first()
        or Agency.objects.current().filter(electronic_code=code).first()
    )
    if target is None:
        raise DomainError("Không tìm thấy cơ quan đang hoạt động với mã này.", "agency_code")
    if target.pk == feedback.agency_id:
        raise DomainError("Phản ánh đang do chính cơ quan này xử lý.", "agency_code")
    note = _text(note, "note", "Ghi chú", required=False)
    feedback.agency, feedback.assigned_at = target, at
    _transition(
        feedback,
        actor=actor,
        action="assign",
        to_status=Status.ASSIGNED,
        at=at,
        public=True,
        text=f"Chuyển {target.name} xử lý." + (f" {note}" if note else ""),
    )
    return feedback


@_action
def start(feedback: Feedback, *, actor, at=None) -> Feedback:
    feedback, at = _begin(feedback, actor, at)
    _require(feedback, Status.ASSIGNED, action="bắt đầu xử lý")
    _require_handler(feedback, actor)
    _transition(
        feedback,
        actor=actor,
        action="start",
        to_status=Status.IN_PROGRESS,
        at=at,
        public=True,
        text="Cơ quan đang xử lý.",
    )
    return feedback


@_action
def request_info(feedback: Feedback, *, actor, question: str, at=None) -> Feedback:
    """Ask the reporter for more information; allowed within the category's
    info-request window. The clock stops: the working days left are kept."""
    feedback, at = _begin(feedback, actor, at)
    _require(feedback, Status.ASSIGNED, Status.IN_PROGRESS, action="yêu cầu bổ sung thông tin cho")
    _require_handler(feedback, actor)
    question = _text(question, "question", "Nội dung cần bổ sung")
    calendar = _calendar(_start(feedback), at)
    window = calendar.add_working_days(calendar.start_day(_start(feedback)), feedback.category.info_request_days)
    if local_date(at) > window:
        raise DomainError(
            f"Chỉ được yêu cầu bổ sung thông tin trong {feedback.category.info_request_days} ngày làm việc "
            f"kể từ khi nhận phản ánh (đến {window:%d/%m/%Y}).",
            "question",
        )
    if _reporter_address(feedback) is None and not feedback.token:
        raise DomainError("Phản ánh không có thông tin liên hệ để yêu cầu bổ sung.", "question")
    feedback.paused_at = at
    feedback.paused_remaining_days = (
        calendar.working_days_between(local_date(at), local_date(feedback.due_at))
        if feedback.due_at and local_date(feedback.due_at) > local_date(at)
        else 0
    )
    _transition(feedback, actor=actor, action="request_info", to_status=Status.WAITING_INFO, at=at, text=question)
    notify_reporter(
        feedback,
        kind="info_requested",
        at=at,
        message=f"Cơ quan xử lý đề nghị bổ sung thông tin cho phản ánh {feedback.code}: {question}",
    )
    return feedback


@_action
def provide_info(feedback: Feedback, *, text: str, actor=None, token: str = "", at=None) -> Feedback:
    """The reporter answers (signed in, or with the report's token); the
    clock resumes with the days that were left, from the next start day."""
    feedback, at = _begin(feedback, actor, at)
    _require(feedback, Status.WAITING_INFO, action="bổ sung thông tin cho")
    _require_reporter(feedback, actor, token)
    text = _text(text, "text", "Thông tin bổ sung")
    calendar = _calendar(feedback.paused_at, at)
    restart = calendar.start_day(at)
    # The deadline moves by exactly the working days the clock stood still.
    feedback.paused_working_days += calendar.working_days_between(local_date(feedback.paused_at), restart)
    feedback.due_at = closing_time(calendar.add_working_days(restart, feedback.paused_remaining_days or 0))
    feedback.paused_at, feedback.paused_remaining_days = None, None
    _transition(feedback, actor=actor, action="provide_info", to_status=Status.IN_PROGRESS, at=at, text=text)
    return feedback


def _reporters_following(feedback: Feedback) -> list[Feedback]:
    return list(feedback.duplicates.filter(status=Status.MERGED))


@_action
def resolve(feedback: Feedback, *, actor, public_reply: str, at=None) -> Feedback:
    """Resolved: the public reply is published, timeliness fixed (on the due
    date or earlier is on time), the reporter and every duplicate's reporter told."""
    feedback, at = _begin(feedback, actor, at)
    _require(feedback, Status.ASSIGNED, Status.IN_PROGRESS, action="kết thúc xử lý")
    _require_handler(feedback, actor)
    reply = _text(public_reply, "public_reply", "Nội dung trả lời")
    calendar = _calendar(feedback.received_at, at)
    feedback.public_reply, feedback.resolved_at = reply, at
    feedback.on_time = local_date(at) <= local_date(feedback.due_at)
    elapsed = calendar.working_days_between(calendar.start_day(feedback.received_at), local_date(at))
    feedback.handling_working_days = max(0, elapsed - feedback.paused_working_days)
    _transition(
        feedback,
        actor=actor,
        action="resolve",
        to_status=Status.RESOLVED,
        at=at,
        text=reply,
        public=True,
        audit_extra={"on_time": feedback.on_time},
    )
    message = f"Phản ánh {feedback.code} đã được xử lý xong. Trả lời của cơ quan: {reply}"
    notify_reporter(
        feedback,
        kind="resolved",
        at=at,
        message=message + f"\n\nNếu chưa được giải quyết, bạn có thể mở lại trong {conf('FEEDBACK_REOPEN_DAYS')} ngày; "
        "hãy đánh giá mức độ hài lòng.",
    )
    for duplicate in _reporters_following(feedback):
        notify_reporter(
            duplicate,
            kind="original_resolved",
            at=at,
            message=f"Phản ánh {duplicate.code} của bạn đã được gộp vào {feedback.code}. {message}",
        )
    return feedback


@_action
def reject(feedback: Feedback, *, actor, reason: str, at=None) -> Feedback:
    """Out of scope (không thuộc phạm vi): by the handling agency or an IOC
    operator, with the reason. Records whether the refusal came within the
    category's refusal window (counted from when the agency got it)."""
    feedback, at = _begin(feedback, actor, at)
    _require(feedback, Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_INFO, action="từ chối")
    _require_handler(feedback, actor, roles=(Role.SPECIALIST, Role.LEADER), ioc=True)
    reason = _text(reason, "reason", "Lý do từ chối")
    calendar = _calendar(_start(feedback), at)
    window = calendar.add_working_days(calendar.start_day(_start(feedback)), feedback.category.refusal_days)
    feedback.rejection_reason, feedback.rejected_at = reason, at
    feedback.refusal_on_time = local_date(at) <= window
    feedback.paused_at = feedback.paused_remaining_days = None
    _transition(
        feedback,
        actor=actor,
        action="reject",
        to_status=Status.REJECTED,
        at=at,
        text=reason,
        public=True,
        audit_extra={"refusal_on_time": feedback.refusal_on_time},
    )
    notify_reporter(
        feedback, kind="rejected", at=at, message=f"Phản ánh {feedback.code} không thuộc phạm vi xử lý. Lý do: {reason}"
    )
    return feedback


@_action
def comment(feedback: Feedback, *, actor, text: str, public: bool = False, at=None) -> FeedbackEvent:
    """An internal note (officers, IOC) or a public reply (also sent to the reporter)."""
    feedback, at = _begin(feedback, actor, at)
    _require_handler(feedback, actor, ioc=True)
    text = _text(text, "text", "Nội dung")
    event = _event(
        feedback,
        actor=actor,
        action="reply" if public else "comment",
        at=at,
        from_status=feedback.status,
        text=text,
        public=public,
    )
    audit.record(
        actor=actor,
        action="feedback.reply" if public else "feedback.comment",
        obj=feedback,
        agency_id=feedback.agency_id,
        at=at,
        after={"event": event.pk, "public": public},
    )
    if public:
        notify_reporter(feedback, kind="reply", at=at, message=f"Cơ quan trả lời về phản ánh {feedback.code}: {text}")
    return event


@_action
def merge(duplicate: Feedback, *, into: Feedback, actor, at=None) -> Feedback:
    """A duplicate joins its original: it ends as merged, its public page
    points to the original, and its reporter is told now and again when the
    original is resolved. Reports already merged into the duplicate follow."""
    duplicate, at = _begin(duplicate, actor, at)
    _require(duplicate, *OPEN_STATUSES, action="gộp")
    _require_handler(duplicate, actor, roles=(Role.LEADER,), ioc=True)
    into = Feedback.objects.select_for_update().get(pk=into.pk)
    if into.pk == duplicate.pk:
        raise DomainError("Không thể gộp phản ánh vào chính nó.", "into")
    if into.status in (Status.MERGED, Status.SPLIT):
        raise DomainError(f"Phản ánh {into.code} đã được gộp hoặc tách; hãy chọn phản ánh gốc.", "into")
    duplicate.merged_into, duplicate.closed_at = into, at
    duplicate.paused_at = duplicate.paused_remaining_days = None
    duplicate.duplicates.filter(status=Status.MERGED).update(merged_into=into)
    _transition(
        duplicate,
        actor=actor,
        action="merge",
        to_status=Status.MERGED,
        at=at,
        public=True,
        text=f"Trùng nội dung, gộp vào phản ánh {into.code}.",
        audit_extra={"into": into.pk},
    )
    _event(
        into,
        actor=actor,
        action="merged_in",
        at=at,
        from_status=into.status,
        text=f"Phản ánh {duplicate.code} được gộp vào phản ánh này.",
    )
    state = (
        ("đã được xử lý xong: " + into.public_reply)
        if into.status in (Status.RESOLVED, Status.CLOSED) and into.public_reply
        else "đang được xử lý; bạn sẽ nhận thông báo khi có kết quả."
    )
    notify_reporter(
        duplicate,
        kind="merged",
        at=at,
        message=f"Phản ánh {duplicate.code} trùng nội dung với phản ánh {into.code} và đã được gộp. "
        f"Phản ánh {into.code} {state}",
    )
    return duplicate


@_action
def split(feedback: Feedback, *, actor, parts: list[dict], at=None) -> list[Feedback]:
    """One report about several matters becomes one report per matter, each
    routed on its own. The parts keep the original's receipt time (the
    citizen's clock never restarts), contact, place and photos; the original
    ends as split and points to them."""
    feedback, at = _begin(feedback, actor, at)
    _require(feedback, *OPEN_STATUSES, action="tách")
    _require_handler(feedback, actor, roles=(Role.LEADER,), ioc=True)
    if not isinstance(parts, (list, tuple)) or len(parts) < 2:
        raise DomainError("Tách phản ánh cần ít nhất hai phần.", "parts")
    specs = []
    for index, part in enumerate(parts):
        category = Category.objects.filter(code=nfc((part or {}).get("category_code")), is_active=True).first()
        if category is None:
            raise DomainError("Hãy chọn lĩnh vực cho từng phần.", f"parts[{index}].category_code")
        specs.append((category, _text(part.get("description"), f"parts[{index}].description", "Nội dung phần tách")))
    calendar = _calendar(feedback.received_at, at)
    created = []
    photos = list(feedback.photos.all())
    for index, (category, description) in enumerate(specs, start=1):
        part = Feedback.objects.create(
            code=next_code(at),
            token=secrets.token_urlsafe(24),
            category=category,
            title=description[:120],
            description=description,
            latitude=feedback.latitude,
            longitude=feedback.longitude,
            address=feedback.address,
            area=feedback.area,
            reporter=feedback.reporter,
            reporter_name=feedback.reporter_name,
            reporter_phone=feedback.reporter_phone,
            reporter_email=feedback.reporter_email,
            phone_verified=feedback.phone_verified,
            channel=feedback.channel,
            api_client=feedback.api_client,
            content_hash=hashlib.sha256(f"split|{feedback.code}|{index}".encode()).hexdigest(),
            client_hash=feedback.client_hash,
            dossier=feedback.dossier,
            split_from=feedback,
            status=Status.RECEIVED,
            received_at=feedback.received_at,
            due_at=_due_at(calendar, feedback.received_at, category.handling_days),
        )
        Photo.objects.bulk_create(
            Photo(feedback=part, file_id=p.file_id, order=p.order, kept_location=p.kept_location) for p in photos
        )
        _event(
            part,
            actor=actor,
            action="submit",
            at=at,
            to_status=Status.RECEIVED,
            public=True,
            text=f"Tách từ phản ánh {feedback.code}.",
        )
        audit.record(
            actor=actor,
            action="feedback.split_part",
            obj=part,
            at=at,
            after={"status": Status.RECEIVED, "category": category.code, "split_from": feedback.pk},
        )
        _assign_initial(part, route_category(category, part.area), at, actor=actor)
        created.append(part)
    feedback.closed_at = at
    feedback.paused_at = feedback.paused_remaining_days = None
    codes = ", ".join(p.code for p in created)
    _transition(
        feedback,
        actor=actor,
        action="split",
        to_status=Status.SPLIT,
        at=at,
        public=True,
        text=f"Tách thành các phản ánh {codes}.",
        audit_extra={"parts": [p.pk for p in created]},
    )
    notify_reporter(
        feedback,
        kind="split",
        at=at,
        message=f"Phản ánh {feedback.code} gồm nhiều nội dung nên được tách thành các phản ánh {codes}, "
        "mỗi phản ánh do cơ quan phụ trách xử lý.",
    )
    return created


# ---------------------------------------------------------------- the citizen closes or reopens


@_action
def rate(feedback: Feedback, *, rating, comment: str = "", actor=None, token: str = "", at=None) -> Feedback:
    """The reporter rates the answer (1–5); the report is closed."""
    feedback, at = _begin(feedback, actor, at)
    _require(feedback, Status.RESOLVED, Status.REJECTED, action="đánh giá")
    _require_reporter(feedback, actor, token)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise DomainError("Mức hài lòng phải từ 1 đến 5.", "rating")
    feedback.rating, feedback.rating_comment = rating, _text(comment, "comment", "Nhận xét", required=False, limit=2000)
    feedback.rated_at = feedback.closed_at = at
    _transition(
        feedback,
        actor=actor,
        action="rate",
        to_status=Status.CLOSED,
        at=at,
        text=feedback.rating_comment,
        audit_extra={"rating": rating},
    )
    return feedback


@_action
def reopen(feedback: Feedback, *, reason: str, actor=None, token: str = "", at=None) -> Feedback:
    """The reporter says it is not resolved, within 7 days of the resolution.

    The clock continues: the working days that were left at the resolution
    count again from the reopening's start day (none left: due that day), the
    days in between do not count. The report may be escalated again."""
    feedback, at = _begin(feedback, actor, at)
    _require(feedback, Status.RESOLVED, action="mở lại")
    _require_reporter(feedback, actor, token)
    reason = _text(reason, "reason", "Lý do mở lại")
    days = conf("FEEDBACK_REOPEN_DAYS")
    if at > feedback.resolved_at + dt.timedelta(days=days):
        raise DomainError(f"Chỉ được mở lại trong {days} ngày kể từ khi phản ánh được xử lý xong.", "reason")
    calendar = _calendar(feedback.received_at, at)
    resolved_day, due_day = local_date(feedback.resolved_at), local_date(feedback.due_at)
    remaining = calendar.working_days_between(resolved_day, due_day) if due_day > resolved_day else 0
    restart = calendar.start_day(at)
    feedback.paused_working_days += calendar.working_days_between(resolved_day, restart)
    feedback.due_at = closing_time(calendar.add_working_days(restart, remaining))
    feedback.resolved_at = feedback.on_time = feedback.handling_working_days = None
    feedback.reopened_count += 1
    feedback.escalation_level = 0
    _transition(
        feedback,
        actor=actor,
        action="reopen",
        to_status=Status.IN_PROGRESS,
        at=at,
        text=reason,
        public=True,
        audit_extra={"reopened": feedback.reopened_count},
    )
    return feedback


def close_unrated(now=None, *, limit: int = 1000) -> int:
    """Close reports resolved or refused more than the reopening window ago
    that nobody rated: the reporter can no longer reopen them, and a report
    left "resolved" for ever would never count as closed. At most `limit`
    a run (the job runs every 15 minutes)."""
    now = _now(now)
    window_start = now - dt.timedelta(days=conf("FEEDBACK_REOPEN_DAYS"))
    due = Feedback.objects.filter(status=Status.RESOLVED, resolved_at__lt=window_start) | Feedback.objects.filter(
        status=Status.REJECTED, rejected_at__lt=window_start
    )
    closed = 0
    for feedback in due.order_by("pk")[:limit]:
        with transaction.atomic():
            locked, at = _begin(feedback, None, now)
            if locked.status not in (Status.RESOLVED, Status.REJECTED):
                continue  # rated or reopened meanwhile
            locked.closed_at = at
            _transition(
                locked,
                actor=None,
                action="auto_close",
                to_status=Status.CLOSED,
                at=at,
                public=True,
                text=f"Tự động đóng: người phản ánh không đánh giá trong {conf('FEEDBACK_REOPEN_DAYS')} ngày.",
            )
            closed += 1
    return closed


# ---------------------------------------------------------------- agency reorganizations


def move_open_feedback(event) -> None:
    """AgencyReorganized: open reports held by a closed agency move to the
    successor that takes its open work (one UPDATE per agency, each report's
    move in its timeline). Finished reports keep the agency that handled them."""
    at = timezone.now()
    for source_id, successor_id in event.payload.get("successors", {}).items():
        moving = list(
            Feedback.objects.filter(status__in=OPEN_STATUSES, agency_id=int(source_id)).values_list("pk", "status")
        )
        if not moving:
            continue
        Feedback.objects.filter(pk__in=[pk for pk, _ in moving]).update(agency_id=successor_id, updated_at=at)
        note = f"Sắp xếp tổ chức: chuyển cơ quan kế thừa (bản ghi {event.payload.get('reorganization')})."
        FeedbackEvent.objects.bulk_create(
            FeedbackEvent(
                feedback_id=pk,
                at=at,
                action="reassign",
                from_status=status,
                to_status=status,
                agency_id=successor_id,
                text=note,
            )
            for pk, status in moving
        )
        audit.record(
            actor=None,
            action="feedback.follow_reorganization",
            object_type="feedback.Feedback",
            object_id=source_id,
            agency_id=successor_id,
            at=at,
            after={"moved": [pk for pk, _ in moving], "to": successor_id},
        )


# ---------------------------------------------------------------- escalation


def _leader_emails(agency_ids) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    rows = (
        Membership.objects.filter(agency_id__in=agency_ids, role=Role.LEADER, user__is_active=True)
        .exclude(user__email="")
        .values_list("agency_id", "user__email")
        .order_by("user__email")
        .distinct()
    )
    for agency_id, email in rows:
        out.setdefault(agency_id, []).append(email)
    return out


def _ioc_emails() -> list[str]:
    from chinhquyenso.accounts.models import User

    emails = list(
        User.objects.filter(global_role=GlobalRole.IOC_OPERATOR, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    mailbox = conf("FEEDBACK_IOC_EMAIL")
    return sorted(set(emails + ([mailbox] if mailbox else [])))


def _escalation_candidates(level: int, now: dt.datetime, calendar: WorkingCalendar):
    """Set-based conditions for each level (one query each, any table size)."""
    today = local_date(now)
    active = Feedback.objects.filter(
        status__in=[Status.ASSIGNED, Status.IN_PROGRESS], agency__isnull=False, due_at__isnull=False
    )
    if level == DUE_SOON:
        horizon = closing_time(calendar.add_working_days(today, conf("FEEDBACK_DUE_SOON_DAYS")))
        return active.filter(due_at__gte=now, due_at__lte=horizon), "due_soon"
    if level == OVERDUE:
        return active.filter(due_at__lt=now), "overdue"
    late_by = closing_time(working_days_before(calendar, today, conf("FEEDBACK_IOC_OVERDUE_DAYS")))
    overdue_long = active.filter(due_at__lt=min(late_by, now))
    # "Waiting in the IOC queue for more than N working days": received before this moment N working days ago.
    local = now.astimezone(closing_time(today).tzinfo)
    if calendar.is_working_day(today):
        reference_day, clock = today, local.time()
    else:
        reference_day, clock = working_days_before(calendar, today, 1), closing_time(today).time()
    queue_since = dt.datetime.combine(
        working_days_before(calendar, reference_day, conf("FEEDBACK_IOC_QUEUE_DAYS")), clock, tzinfo=local.tzinfo
    )
    unassigned = Feedback.objects.filter(status=Status.RECEIVED, agency__isnull=True, received_at__lt=queue_since)
    return overdue_long | unassigned, "ioc"


def escalate_due(now=None) -> list[Escalation]:
    """The scheduled job's body: raise due-soon (level 1) and overdue (level
    2) reports to the handling agency's leaders, and long-overdue or
    long-unassigned ones (level 3) to the IOC. Each report is raised once
    per level (again after a reopen); the highest level first, so a report
    found late straight away is not also told "due soon". Set-based: per
    level one SELECT, bulk inserts, one UPDATE, and one digest e-mail per
    recipient, whatever the number of reports."""
    now = _now(now)
    today = local_date(now)
    calendar = WorkingCalendar.load(today - dt.timedelta(days=90), today + dt.timedelta(days=60))
    created: list[Escalation] = []
    for level in (IOC, OVERDUE, DUE_SOON):
        with transaction.atomic():
            candidates, reason = _escalation_candidates(level, now, calendar)
            rows = list(
                candidates.filter(escalation_level__lt=level)
                .values_list("pk", "agency_id", "reopened_count", "code", "due_at")
                .order_by("due_at", "pk")
            )
            if not rows:
                continue
            to_agency = (lambda agency_id: None) if level == IOC else (lambda agency_id: agency_id)
            escalations = [
                Escalation(
                    feedback_id=pk, level=level, reason=reason, to_agency_id=to_agency(agency_id), at=now, cycle=cycle
                )
                for pk, agency_id, cycle, _, _ in rows
            ]
            Escalation.objects.bulk_create(escalations, batch_size=2000, ignore_conflicts=True)
            # Exactly the reports escalated now (a concurrent run's rows are not touched twice).
            Feedback.objects.filter(
                escalations__level=level,
                escalations__at=now,
                escalations__cycle=F("reopened_count"),
                escalation_level__lt=level,
            ).update(escalation_level=level)
            FeedbackEvent.objects.bulk_create(
                (
                    FeedbackEvent(
                        feedback_id=pk,
                        at=now,
                        action="escalate",
                        agency_id=agency_id,
                        text=f"Chuyển cấp {level}: {ESCALATION_LEVELS[level].lower()}.",
                    )
                    for pk, agency_id, *_ in rows
                ),
                batch_size=2000,
            )
            _queue_escalation_mail(level, rows, now)
            audit.record(
                actor=None,
                action="feedback.escalate",
                object_type="feedback.Escalation",
                object_id=f"level-{level}",
                at=now,
                after={"level": level, "reports": len(rows)},
            )
            created += escalations
    return created


def _queue_escalation_mail(level: int, rows: list, now) -> int:
    """One digest per recipient: the agency's leaders for levels 1–2, the IOC for 3."""
    by_agency: dict = {}
    for _pk, agency_id, _, code, due_at in rows:
        by_agency.setdefault(None if level == IOC else agency_id, []).append((code, due_at))
    recipients = {None: _ioc_emails()} if level == IOC else _leader_emails([a for a in by_agency if a])
    names = dict(Agency.objects.filter(pk__in=[a for a in by_agency if a]).values_list("pk", "name"))
    notices = []
    for agency_id, reports in by_agency.items():
        listed = "\n".join(f"  • {code} — hạn {local_date(due):%d/%m/%Y}" for code, due in reports[:50])
        more = f"\n  … và {len(reports) - 50} phản ánh khác." if len(reports) > 50 else ""
        where = names.get(agency_id, "IOC")
        subject = f"[{ESCALATION_LEVELS[level]}] {len(reports)} phản ánh, kiến nghị — {where}"
        body = (
            f"{ESCALATION_LEVELS[level]}: {len(reports)} phản ánh, kiến nghị cần xử lý"
            f"{'' if level == IOC else ' tại ' + where}:\n{listed}{more}\n\n"
            f"Thư gửi tự động từ hệ thống Chính quyền số tỉnh {settings.CQS['PROVINCE_NAME']}."
        )
        for email in recipients.get(agency_id, []):
            notices.append(
                Notification(
                    channel="email",
                    recipient=email,
                    subject=subject[:255],
                    body=body,
                    kind=f"escalation_{level}",
                    next_attempt_at=now,
                    agency_id=agency_id,
                    feedback_id=rows[0][0] if len(rows) == 1 else None,
                )
            )
    Notification.objects.bulk_create(notices)
    return len(notices)


# ---------------------------------------------------------------- outbox


def send_pending_notifications(now=None, *, limit: int = 500) -> tuple[int, int]:
    """Send what is due in the outbox. A failure is kept with its error and
    retried with exponential back-off; after the last attempt the message
    stays as "gave up", visible in the administration and the IOC page.
    Each message is claimed with a conditional UPDATE, so parallel workers
    never send it twice."""
    now = _now(now)
    base, cap = conf("FEEDBACK_NOTIFY_BACKOFF_SECONDS"), conf("FEEDBACK_NOTIFY_BACKOFF_MAX_SECONDS")
    limit_attempts = conf("FEEDBACK_NOTIFY_MAX_ATTEMPTS")
    due = list(
        Notification.objects.filter(
            state__in=[Notification.State.PENDING, Notification.State.FAILED], next_attempt_at__lte=now
        ).order_by("next_attempt_at", "id")[:limit]
    )
    sent = failed = 0
    senders: dict[str, object] = {}
    for note in due:
        lease = now + dt.timedelta(minutes=5)
        if not Notification.objects.filter(pk=note.pk, next_attempt_at=note.next_attempt_at, state=note.state).update(
            next_attempt_at=lease
        ):
            continue  # another worker took it
        note.attempts += 1
        try:
            sender = senders.setdefault(note.channel, notify.sender_for(note.channel))
            sender.send(note.recipient, note.subject, note.body)
        except Exception as error:  # any failure of the gateway: keep it, try again later
            failed += 1
            note.last_error = f"{type(error).__name__}: {error}"[:500]
            if note.attempts >= limit_attempts:
                note.state, note.next_attempt_at = Notification.State.GAVE_UP, now
            else:
                note.state = Notification.State.FAILED
                note.next_attempt_at = now + dt.timedelta(seconds=min(cap, base * 2 ** (note.attempts - 1)))
        else:
            sent += 1
            note.state, note.sent_at, note.next_attempt_at = Notification.State.SENT, now, now
        note.save(update_fields=["attempts", "state", "last_error", "next_attempt_at", "sent_at"])
    return sent, failed


@transaction.atomic
def retry_notification(notification: Notification, *, actor, at=None) -> Notification:
    """An operator sends a message that gave up once more (from the IOC page or the admin)."""
    if not (is_ioc_operator(actor) or getattr(actor, "global_role", "") == GlobalRole.PROVINCE_ADMIN):
        raise PermissionDenied()
    at = _now(at)
    Notification.objects.filter(pk=notification.pk).update(
        state=Notification.State.PENDING, next_attempt_at=at, attempts=0
    )
    audit.record(actor=actor, action="feedback.notification_retry", obj=notification, at=at, after={"state": "pending"})
    notification.refresh_from_db()
    return notification
