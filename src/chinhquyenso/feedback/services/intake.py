"""Receiving a report: what the citizen reports (`Submission`), checked
before anything is written; photos checked by content and stripped of their
GPS position; duplicates, rate limits and idempotency keys; the report
routed at once, or left in the IOC operators' queue."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import timezone

from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.core.uploads import clean_photo, store_upload
from chinhquyenso.core.workflow import caller_of, idempotent, now, replayed
from chinhquyenso.dossiers.models import Dossier
from chinhquyenso.feedback.conf import conf
from chinhquyenso.feedback.models import Category, Feedback, Photo, Status
from chinhquyenso.feedback.routing import area_by_code, locate, route_category
from chinhquyenso.feedback.selectors import map_bounds
from chinhquyenso.feedback.services.common import (
    CHANNEL_CODES,
    FEEDBACK,
    TooManyRequests,
    assign_initial,
    channels,
    clean_text,
    coordinates,
    handling_calendar,
    keyed_hash,
    next_code,
    normalize_phone,
)
from chinhquyenso.feedback.services.verification import WrongCode, check_code, count_wrong_try


@dataclass(frozen=True)
class Submission:
    """What the citizen reports, as the form, the mobile app or an Open311
    client sent it; `submit` checks every field. `photos`: the images' bytes
    (or files to read); `attribute_values`: the category's extra fields
    (Open311 attributes) by code."""

    category_code: str
    description: str
    title: str = ""
    latitude: Decimal | str | None = None
    longitude: Decimal | str | None = None
    address: str = ""
    area_code: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    attribute_values: Mapping | None = None
    photos: Sequence = ()
    keep_photo_location: bool = False
    dossier_code: str = ""
    media_url: str = ""


# ---------------------------------------------------------------- checks of single fields


def _attribute_values(category: Category, values) -> dict:
    """Check the category's Open311 attributes: required ones present, list values among the choices."""
    values = values or {}
    if not isinstance(values, Mapping):
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
            cleaned[code] = clean_text(value, field, label, limit=500)
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


# ---------------------------------------------------------------- the whole submission


@dataclass(frozen=True)
class _Checked:
    """A submission after every check that needs no lock: ready to store."""

    category: Category
    title: str
    description: str
    latitude: Decimal | None
    longitude: Decimal | None
    address: str
    area: object
    name: str
    phone: str
    email: str
    attributes: dict
    media_url: str
    photos: list[bytes]
    dossier: Dossier | None
    citizen: bool


def _check(report: Submission, photo_data: list[bytes], reporter, channel: str) -> _Checked:
    if channel not in CHANNEL_CODES:
        raise DomainError(f"Kênh gửi phải là một trong: {', '.join(CHANNEL_CODES)}.", "channel")
    category = Category.objects.filter(code=nfc(report.category_code), is_active=True).first()
    if category is None:
        raise DomainError("Hãy chọn lĩnh vực phản ánh.", "category_code")
    description = clean_text(report.description, "description", "Nội dung phản ánh", multiline=True)
    title = clean_text(report.title, "title", "Tiêu đề", required=False, limit=200) or nfc(description)[:120]
    lat, lon = coordinates(report.latitude, report.longitude)
    if lat is not None:  # inside the province: FEEDBACK_MAP_BOUNDS, or its communes' extent
        params.point(lat, lon, map_bounds())
    address = clean_text(report.address, "address", "Địa chỉ", required=False, limit=255)
    area = None
    if nfc(report.area_code):
        area = area_by_code(nfc(report.area_code))
        if area is None:
            raise DomainError("Không tìm thấy xã, phường hoặc huyện với mã này.", "area_code")
    if lat is None and not address and area is None:
        raise DomainError("Hãy cho biết nơi xảy ra: ghim trên bản đồ, địa chỉ hoặc xã, phường.", "location")
    citizen = getattr(reporter, "is_citizen", False)
    name = clean_text(
        report.name or (reporter.full_name if citizen else ""), "name", "Họ tên", required=False, limit=150
    )
    phone = normalize_phone(report.phone or (reporter.phone if citizen else ""))
    email = nfc(report.email or (reporter.email if citizen else "")).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise DomainError("Địa chỉ thư điện tử không hợp lệ.", "email") from None
    attributes = _attribute_values(category, report.attribute_values)
    media_url = _media_url(report.media_url)
    if len(photo_data) > conf("FEEDBACK_MAX_PHOTOS"):
        raise DomainError(f"Chỉ gửi tối đa {conf('FEEDBACK_MAX_PHOTOS')} ảnh.", "photos")
    photos = [
        clean_photo(d, keep_location=report.keep_photo_location, field=f"photos[{i}]") for i, d in enumerate(photo_data)
    ]
    dossier = None
    if nfc(report.dossier_code):
        dossier = Dossier.objects.filter(code=nfc(report.dossier_code)).first()
        if dossier is None:
            raise DomainError("Không tìm thấy hồ sơ với mã này.", "dossier_code")
    return _Checked(
        category=category,
        title=title,
        description=description,
        latitude=lat,
        longitude=lon,
        address=address,
        area=area,
        name=name,
        phone=phone,
        email=email,
        attributes=attributes,
        media_url=media_url,
        photos=photos,
        dossier=dossier,
        citizen=citizen,
    )


def _payload(report: Submission, photo_data: list[bytes], reporter, channel: str) -> dict:
    """What a retry with the same idempotency key must repeat."""
    payload = {f.name: getattr(report, f.name) for f in fields(Submission) if f.name != "photos"}
    payload.update(
        latitude=str(report.latitude),
        longitude=str(report.longitude),
        attribute_values=dict(report.attribute_values) if report.attribute_values else report.attribute_values,
        photos=[hashlib.sha256(d).hexdigest() for d in photo_data],
        channel=channel,
        reporter=getattr(reporter, "pk", None),
    )
    return payload


def _anonymous_caller(channel: str, api_client: str, device_id: str) -> str:
    """Whose idempotency keys these are without an account: the Open311
    client, else the device, else the channel (the web form)."""
    if api_client:
        return f"open311:{nfc(api_client)}"
    if nfc(device_id):
        return f"device:{nfc(device_id)}"
    return channel


def submit(
    report: Submission,
    *,
    reporter=None,
    channel: str = "web",
    api_client: str = "",
    device_id: str = "",
    idempotency_key: str = "",
    verification_code: str = "",
    client_ip: str = "",
    at=None,
) -> Feedback:
    """Receive a report. Everything is checked before anything is written.

    `reporter`: the signed-in account (a citizen, or the IOC operator who
    types a call in); `api_client`: the Open311 application's name;
    `device_id`: the phone that sent it. A retry returns the first report
    (marked `replayed`): the same idempotency key of the same caller (the
    account, else the Open311 client, the device, the web form; 409 if the
    content differs), or the same device / phone / account, category and
    description (compared folded) within FEEDBACK_DUPLICATE_MINUTES.
    Anonymous web reports need the phone's verification code. The report is
    routed at once; what cannot be routed waits in the IOC operators' queue."""
    at = now(at)
    photo_data = [_photo_bytes(p) for p in report.photos or ()]
    checked = _check(report, photo_data, reporter, channel)
    anonymous_web = reporter is None and channel == "web"
    if anonymous_web and not checked.phone:
        raise DomainError("Hãy nhập số điện thoại để nhận mã xác minh (hoặc đăng nhập).", "phone")
    client_hash = keyed_hash("ip", client_ip) if client_ip else ""
    who = nfc(device_id) or checked.phone or (f"user:{reporter.pk}" if getattr(reporter, "pk", None) else "")
    content_hash = hashlib.sha256(
        f"{who or client_hash or api_client}|{checked.category.code}|{fold(checked.description)}".encode()
    ).hexdigest()

    def receive() -> Feedback:
        if anonymous_web:  # first, so a replay never hands the first report's token to someone without the code
            check_code(checked.phone, verification_code, at)
        recent = (
            Feedback.objects.filter(
                content_hash=content_hash,
                received_at__gte=at - dt.timedelta(minutes=conf("FEEDBACK_DUPLICATE_MINUTES")),
            )
            .order_by("received_at")
            .first()
        )
        if recent:
            return replayed(recent)
        _check_rate(checked.phone, client_hash, at)
        return _store(
            checked,
            reporter=reporter,
            channel=channel,
            api_client=api_client,
            content_hash=content_hash,
            client_hash=client_hash,
            phone_verified=anonymous_web or bool(checked.phone and checked.citizen and checked.phone == reporter.phone),
            keep_photo_location=report.keep_photo_location,
            at=at,
        )

    try:
        return idempotent(
            "feedback.submit",
            key=idempotency_key,
            caller=caller_of(reporter, _anonymous_caller(channel, api_client, device_id)),
            payload=_payload(report, photo_data, reporter, channel),
            create=receive,
        )
    except WrongCode as error:
        count_wrong_try(error)  # after the rollback: the wrong try sticks although the submission is refused
        raise


def _store(
    checked: _Checked,
    *,
    reporter,
    channel,
    api_client,
    content_hash,
    client_hash,
    phone_verified,
    keep_photo_location,
    at,
) -> Feedback:
    """Write the report, its photos, its first timeline steps and audit records, and route it."""
    area = checked.area or locate(latitude=checked.latitude, longitude=checked.longitude, address=checked.address)
    handler = route_category(checked.category, area)
    account = reporter if checked.citizen else None
    feedback = Feedback.objects.create(
        code=next_code(at),
        token=secrets.token_urlsafe(24),
        category=checked.category,
        title=checked.title,
        description=checked.description,
        attribute_values=checked.attributes,
        latitude=checked.latitude,
        longitude=checked.longitude,
        address=checked.address,
        area=area,
        reporter=account,
        reporter_name=checked.name,
        reporter_phone=checked.phone,
        reporter_email=checked.email,
        phone_verified=phone_verified,
        channel=channel,
        api_client=nfc(api_client)[:100],
        content_hash=content_hash,
        client_hash=client_hash,
        dossier=checked.dossier,
        media_url=checked.media_url,
        status=Status.RECEIVED,
        received_at=at,
        due_at=handling_calendar(at).due_at(at, checked.category.handling_days),
    )
    for order, data in enumerate(checked.photos):
        stored = store_upload(
            data, original_name=f"{feedback.code}-{order + 1}", field=f"photos[{order}]", user=account
        )
        Photo.objects.create(feedback=feedback, file=stored, order=order, kept_location=keep_photo_location)
    FEEDBACK.created(
        feedback,
        actor=reporter,
        action="submit",
        at=at,
        public=True,
        text=channels()[channel],
        audit_extra={
            "category": checked.category.code,
            "channel": channel,
            "area": getattr(area, "pk", None),
            "photos": len(checked.photos),
        },
    )
    assign_initial(feedback, handler, at, actor=None)
    return feedback
