"""Uploads are accepted by what their bytes are, not by their name; they are
read in chunks, never whole into memory; and a stored file is attached only
by those who uploaded it or may already read it.

A file over FILE_UPLOAD_MAX_MEMORY_SIZE reaches the views as a temporary file
on disk (settings); `store_upload` hashes it and counts its size chunk by
chunk, refusing it as soon as it passes the limit, and reads an image's
header — never its pixels — to refuse decompression bombs. `RequestSizeLimit`
refuses a whole request over CQS_REQUEST_MAX_BYTES before reading it."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadhandler import FileUploadHandler

from chinhquyenso.core.errors import DomainError, PayloadTooLarge
from chinhquyenso.core.models import StoredFile, StoredFileGrant

SIGNATURES = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
]
ALLOWED_LABEL = "PDF, JPEG hoặc PNG"
IMAGE_TYPES = ("image/jpeg", "image/png")
CHUNK_BYTES = 64 * 1024
# The same words for a file that does not exist and one the caller may not
# attach: the answer never tells whether someone else holds those bytes.
FILE_NOT_FOUND = "Không tìm thấy tệp đã tải lên; hãy tải lại."


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def _megabytes(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB"


def too_large(field: str, limit: int | None = None) -> PayloadTooLarge:
    limit = settings.CQS["UPLOAD_MAX_BYTES"] if limit is None else limit
    return PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({_megabytes(limit)}).", field)


def pillow():
    """Pillow, with its own decompression-bomb guard at the platform's pixel
    limit, for every place that decodes an image (it warns above the limit and
    refuses above twice it; `check_image` refuses exactly at it, first)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = settings.CQS["UPLOAD_MAX_PIXELS"]
    return Image


def check_image(source, field: str) -> tuple[int, int] | None:
    """The (width, height) a JPEG/PNG declares, read from its header without
    decoding a pixel; refused when above CQS_UPLOAD_MAX_PIXELS. A 20000×20000
    PNG of one colour is a few kilobytes on disk and 1.6 GB once decoded.

    A header Pillow cannot read gives None: no decoder here can expand such a
    file either, and whoever decodes an image (feedback photos) checks that it
    decodes."""
    Image = pillow()
    from PIL import UnidentifiedImageError

    limit = settings.CQS["UPLOAD_MAX_PIXELS"]
    refused = DomainError(
        f"Ảnh có quá nhiều điểm ảnh; chỉ nhận ảnh tối đa {limit / 1_000_000:g} triệu điểm ảnh "
        "(hãy chụp hoặc lưu ảnh ở độ phân giải thấp hơn).",
        field,
    )
    source.seek(0)
    try:
        with Image.open(source) as image:  # the header only: Image.open decodes nothing
            width, height = image.size
    except Image.DecompressionBombError:
        raise refused from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    finally:
        source.seek(0)
    if width * height > limit:
        raise refused
    return width, height


GPS_IFD = 0x8825  # the EXIF directory holding the position


def clean_photo(data: bytes, *, field: str, keep_location: bool = False) -> bytes:
    """A photo to store: a JPEG or PNG by its bytes, decodable, without its GPS position unless the
    person who took it chose to keep it (Decree 13/2023: a photo's position says where someone lives or
    farms). Only the GPS directory is removed: orientation and the rest of EXIF stay, and an image without
    GPS is stored untouched. Its pixel count is checked from the header before anything is decoded."""
    from PIL import UnidentifiedImageError

    Image = pillow()
    kind = sniff(data[:16]) if data else None
    if kind is None or kind[0] not in ("image/jpeg", "image/png"):
        raise DomainError("Ảnh phải là tệp JPEG hoặc PNG (kiểm tra theo nội dung tệp).", field)
    if len(data) > settings.CQS["UPLOAD_MAX_BYTES"]:
        raise DomainError(
            f"Ảnh vượt quá dung lượng cho phép ({settings.CQS['UPLOAD_MAX_BYTES'] // (1024 * 1024)} MB).", field
        )
    check_image(io.BytesIO(data), field)
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


def store_upload(upload, *, original_name: str = "", field: str = "file", user=None) -> StoredFile:
    """Validate and store one upload and grant it to `user`; raise DomainError
    naming `field` when it is refused.

    `upload`: an UploadedFile (or any binary file object), read in chunks, or
    bytes a caller already holds. Identical bytes are stored once, but every
    uploader gets a grant (StoredFileGrant), so each may attach them."""
    limit = settings.CQS["UPLOAD_MAX_BYTES"]
    source = io.BytesIO(upload) if isinstance(upload, (bytes, bytearray, memoryview)) else upload
    if (getattr(source, "size", None) or 0) > limit:
        raise too_large(field, limit)  # the request parser already counted it: refused unread
    digest, size, head = hashlib.sha256(), 0, b""
    source.seek(0)
    while chunk := source.read(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise too_large(field, limit)
        if len(head) < 16:
            head = (head + chunk)[:16]
        digest.update(chunk)
    if not size:
        raise DomainError("Tệp tải lên rỗng.", field)
    kind = sniff(head)
    if kind is None:
        raise DomainError(
            f"Tệp không đúng định dạng cho phép ({ALLOWED_LABEL}); định dạng được kiểm tra theo nội dung tệp.", field
        )
    content_type, extension = kind
    if content_type in IMAGE_TYPES:
        check_image(source, field)
    source.seek(0)
    # An uploaded temporary file is moved into storage, not copied through memory.
    content = source if isinstance(source, File) else File(source)
    stored = _store(digest.hexdigest(), size, content, content_type, extension, original_name, user)
    if getattr(user, "pk", None):
        StoredFileGrant.objects.get_or_create(file=stored, user=user)
    return stored


def store_generated(data: bytes, *, content_type: str, extension: str, name: str = "", user=None) -> StoredFile:
    """Store a file the platform produced itself (an issued report), by content hash."""
    digest = hashlib.sha256(data).hexdigest()
    return _store(digest, len(data), ContentFile(data), content_type, extension, name, user)


def _store(digest: str, size: int, content, content_type: str, extension: str, name: str, user) -> StoredFile:
    existing = StoredFile.objects.filter(sha256=digest, size=size).first()
    if existing:
        return existing
    stored = StoredFile(
        sha256=digest,
        content_type=content_type,
        size=size,
        original_name=(name or "")[:255],
        uploaded_by=user if getattr(user, "pk", None) else None,
    )
    stored.file.save(f"{digest}.{extension}", content, save=False)
    stored.save()
    return stored


def file_for(actor, file_id, field: str, *, readable: Callable[[StoredFile], bool] | None = None) -> StoredFile:
    """The stored file a client names by its id (the SHA-256 returned by the
    upload) for `actor` to attach: one they uploaded, or one `readable` says
    they may already read (a file of a dossier they see). Anything else —
    another person's file, an unknown id, an anonymous caller — is the same
    DomainError naming `field`: whether the bytes exist is never revealed."""
    if isinstance(file_id, str) and file_id and getattr(actor, "pk", None):
        candidates = StoredFile.objects.filter(sha256=file_id)
        stored = candidates.filter(grants__user=actor).first()
        if stored is None and readable is not None:
            stored = next((c for c in candidates if readable(c)), None)
        if stored is not None:
            return stored
    raise DomainError(FILE_NOT_FOUND, field)


class RequestSizeLimit(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: a multipart request whose declared
    length, or whose streamed length, passes CQS_REQUEST_MAX_BYTES is refused
    (413) before its body is read further. Other bodies are capped by Django
    at DATA_UPLOAD_MAX_MEMORY_SIZE."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit, self.received = settings.CQS["REQUEST_MAX_BYTES"], 0
        if content_length > self.limit:
            raise self._refusal()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise self._refusal()
        return raw_data  # the next handler (memory or temporary file) keeps it

    def file_complete(self, file_size):
        return None

    def _refusal(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"Yêu cầu gửi lên vượt quá dung lượng cho phép ({_megabytes(self.limit)}); "
            f"mỗi tệp tối đa {_megabytes(settings.CQS['UPLOAD_MAX_BYTES'])}.",
            "file",
        )
