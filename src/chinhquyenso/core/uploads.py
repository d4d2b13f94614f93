"""Uploads are accepted by what their bytes are, not by their name."""

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import StoredFile

SIGNATURES = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
]
ALLOWED_LABEL = "PDF, JPEG hoặc PNG"


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def store_upload(data: bytes, *, original_name: str = "", field: str = "file", user=None) -> StoredFile:
    """Validate and store one upload; raise DomainError naming `field` when it is refused."""
    limit = settings.CQS["UPLOAD_MAX_BYTES"]
    if not data:
        raise DomainError("Tệp tải lên rỗng.", field)
    if len(data) > limit:
        raise DomainError(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).", field)
    kind = sniff(data[:16])
    if kind is None:
        raise DomainError(
            f"Tệp không đúng định dạng cho phép ({ALLOWED_LABEL}); định dạng được kiểm tra theo nội dung tệp.", field
        )
    content_type, extension = kind
    digest = hashlib.sha256(data).hexdigest()
    existing = StoredFile.objects.filter(sha256=digest, size=len(data)).first()
    if existing:
        return existing
    stored = StoredFile(
        sha256=digest,
        content_type=content_type,
        size=len(data),
        original_name=(original_name or "")[:255],
        uploaded_by=user if getattr(user, "pk", None) else None,
    )
    stored.file.save(f"{digest}.{extension}", ContentFile(data), save=False)
    stored.save()
    return stored


def store_generated(data: bytes, *, content_type: str, extension: str, name: str = "", user=None) -> StoredFile:
    """Store a file the platform produced itself (an issued report), by content hash."""
    digest = hashlib.sha256(data).hexdigest()
    existing = StoredFile.objects.filter(sha256=digest, size=len(data)).first()
    if existing:
        return existing
    stored = StoredFile(
        sha256=digest,
        content_type=content_type,
        size=len(data),
        original_name=name[:255],
        uploaded_by=user if getattr(user, "pk", None) else None,
    )
    stored.file.save(f"{digest}.{extension}", ContentFile(data), save=False)
    stored.save()
    return stored
