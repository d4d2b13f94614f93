"""Stations: a smart trap's credentials and the "silent" flag.

A smart trap signs every message with its secret (HMAC-SHA256, services.ingest). The platform must
compute the same HMAC, so it cannot keep only a one-way hash of the secret as it does for passwords.
Neither does it store the secret: it stores a random per-device salt (`device_secret_hash`, "kdf1$<salt>")
and derives the secret from the installation's key (SECRET_KEY) and the device id:

    secret = HMAC-SHA256(SHA-256("cqs-pests-device-key:" + SECRET_KEY), "<device_id>:<salt>"), hex

so a copy of the database alone does not let anyone sign for a trap. Issuing credentials again draws a
new salt (the old secret stops working at once). A new SECRET_KEY keeps the traps working while the old
key is in SECRET_KEY_FALLBACKS; issue new secrets before removing it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.pests import access
from chinhquyenso.pests.models import Station

SCHEME = "kdf1"


def _derive(device_id: str, salt: str, key: str) -> str:
    master = hashlib.sha256(f"cqs-pests-device-key:{key}".encode()).digest()
    return hmac.new(master, f"{device_id}:{salt}".encode(), hashlib.sha256).hexdigest()


def device_secrets(station: Station) -> list[str]:
    """The secrets the station's messages may be signed with: from SECRET_KEY, then each fallback key.
    Empty when no credentials were issued."""
    scheme, _, salt = (station.device_secret_hash or "").partition("$")
    if scheme != SCHEME or not salt or not station.device_id:
        return []
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [_derive(station.device_id, salt, key) for key in keys]


@transaction.atomic
def issue_credentials(station: Station, *, actor) -> str:
    """New credentials for a smart trap: its device id (the station's code unless it has one) and a new
    secret, returned once — shown to the installer and never stored. `actor` None is the operator on the
    command line."""
    if actor is not None:
        access.refuse_read_only(actor)
        if not access.can_manage_catalog(actor):
            from chinhquyenso.core.errors import PermissionDenied

            raise PermissionDenied("Chỉ người được giao quản lý danh mục, trạm mới được cấp mã bí mật cho bẫy.")
    given, station = station, Station.objects.select_for_update().get(pk=station.pk)
    if station.kind != Station.Kind.SMART_TRAP:
        raise DomainError("Chỉ bẫy đèn thông minh mới có mã thiết bị và mã bí mật.", "kind")
    station.device_id = station.device_id or station.code
    if Station.objects.filter(device_id=station.device_id).exclude(pk=station.pk).exists():
        raise DomainError(f"Mã thiết bị “{station.device_id}” đã được trạm khác dùng.", "device_id")
    renewed = bool(station.device_secret_hash)
    station.device_secret_hash = f"{SCHEME}${secrets.token_hex(16)}"
    station.save(update_fields=["device_id", "device_secret_hash"])
    given.device_id, given.device_secret_hash = station.device_id, station.device_secret_hash
    audit.record(
        actor=actor,
        action="pests.station.credentials",
        obj=station,
        agency_id=station.agency_id,
        after={"device_id": station.device_id, "renewed": renewed},
    )
    return device_secrets(station)[0]


def silent_after() -> dt.timedelta:
    return dt.timedelta(hours=settings.CQS["PESTS_SILENT_AFTER_HOURS"])


def flag_silent(now: dt.datetime | None = None) -> dict:
    """Mark the active smart traps with no message for longer than PESTS_SILENT_AFTER_HOURS: silent
    since their last message (or since they were created, when none came). A message clears the mark
    (services.ingest). Returns {"traps", "newly_silent", "silent"}."""
    now = now or timezone.now()
    cutoff = now - silent_after()
    traps = Station.objects.filter(kind=Station.Kind.SMART_TRAP, active=True)
    with transaction.atomic():
        stale = traps.filter(silent_since__isnull=True).filter(
            Q(last_message_at__lt=cutoff) | Q(last_message_at__isnull=True, created_at__lt=cutoff)
        )
        newly = stale.filter(last_message_at__isnull=False).update(silent_since=F("last_message_at"))
        newly += stale.filter(last_message_at__isnull=True).update(silent_since=F("created_at"))
    return {"traps": traps.count(), "newly_silent": newly, "silent": traps.filter(silent_since__isnull=False).count()}


def status(station: Station, now: dt.datetime | None = None) -> str:
    """ "online", "silent", "waiting" (a smart trap that has not reported yet), "inactive", or "manual"
    (stations read by hand)."""
    if not station.active:
        return "inactive"
    if station.kind != Station.Kind.SMART_TRAP:
        return "manual"
    if station.silent_since:
        return "silent"
    if station.last_message_at is None:
        return "waiting"
    now = now or timezone.now()
    return "online" if station.last_message_at >= now - silent_after() else "silent"


STATUS_LABELS = {
    "online": "Đang gửi số liệu",
    "silent": "Im lặng",
    "waiting": "Chưa gửi tin nào",
    "inactive": "Ngừng hoạt động",
    "manual": "Ghi tay",
}
