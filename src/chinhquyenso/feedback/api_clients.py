"""Open311 client applications: issuing, revoking and checking their API keys.

A key is `o311_` + 32 random bytes (URL-safe base64); only its SHA-256 is
stored, so a leaked database does not leak usable keys."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.text import nfc
from chinhquyenso.feedback.models import ApiClient

KEY_PREFIX = "o311_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _require_province_admin(actor) -> None:
    # A console command has no user (actor None): whoever runs it already holds the server.
    if actor is not None and getattr(actor, "global_role", "") != GlobalRole.PROVINCE_ADMIN:
        raise PermissionDenied("Chỉ quản trị tỉnh được cấp hoặc thu hồi mã API Open311.")


@transaction.atomic
def issue(*, actor, name: str, contact: str = "") -> tuple[ApiClient, str]:
    """A new client application and its key (returned once, never stored)."""
    _require_province_admin(actor)
    name, contact = nfc(name), nfc(contact)
    if not name:
        raise DomainError("Chưa nhập tên ứng dụng.", "name")
    if len(name) > 100:
        raise DomainError("Tên ứng dụng dài quá 100 ký tự.", "name")
    if len(contact) > 255:
        raise DomainError("Thông tin liên hệ dài quá 255 ký tự.", "contact")
    if ApiClient.objects.filter(name=name).exists():
        raise DomainError(f"Đã có ứng dụng tên «{name}».", "name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name, contact=contact, key_prefix=key[len(KEY_PREFIX) :][:8], key_hash=_hash(key)
    )
    audit.record(actor=actor, action="open311_client.issue", obj=client, after={"name": name})
    return client, key


@transaction.atomic
def revoke(*, actor, name: str) -> ApiClient:
    _require_province_admin(actor)
    client = ApiClient.objects.select_for_update().filter(name=nfc(name)).first()
    if client is None:
        raise NotFound(f"Không có ứng dụng tên «{nfc(name)}».", "name")
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="open311_client.revoke", obj=client, after={"name": client.name})
    return client


def client_for_key(key: str) -> ApiClient | None:
    """The active client holding this key, or None (unknown, malformed or revoked)."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    return ApiClient.objects.filter(key_hash=_hash(key), revoked_at__isnull=True).first()
