"""Uploads are streamed, size-checked while read, and images are measured
from their header before anything decodes them (issue 16, finding 11).

A request body here is a file on disk handed to the WSGI handler, as a web
server would stream it: whatever Python allocates while the platform handles
it is what tracemalloc reports."""

import io
import struct
import tracemalloc
import zlib

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.test import Client

from chinhquyenso.core.errors import DomainError, PayloadTooLarge
from chinhquyenso.core.models import StoredFile
from chinhquyenso.core.uploads import CHUNK_BYTES, check_image, store_upload

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
BOUNDARY = "ranh-gioi-tep-cqs"


def multipart_on_disk(path, size: int, head: bytes = b"%PDF-1.4\n") -> int:
    """A multipart body with one `file` of `size` bytes, written in 1 MB blocks; its length."""
    block = b"x" * MB
    with open(path, "wb") as out:
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="to-khai.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
        )
        out.write(head)
        remaining = size - len(head)
        while remaining > 0:
            out.write(block[:remaining])
            remaining -= len(block)
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return path.stat().st_size


def post_body(user, length: int, body):
    client = Client()
    client.force_login(user)
    return client.request(
        REQUEST_METHOD="POST",
        PATH_INFO="/api/dossiers/files",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(length),
        **{"wsgi.input": body},
    )


def traced_upload(user, tmp_path, size: int):
    """Post a body of `size` bytes from disk; (response, peak bytes Python
    allocated while handling it), after one small upload has warmed the
    process (imports, URL resolution) as a running server is."""
    warm = tmp_path / "warm"
    warm_length = multipart_on_disk(warm, 1000)
    with open(warm, "rb") as body:
        assert post_body(user, warm_length, body).status_code == 201
    path = tmp_path / "body"
    length = multipart_on_disk(path, size)
    with open(path, "rb") as body:
        tracemalloc.start()
        try:
            response = post_body(user, length, body)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return response, peak


def test_an_oversized_upload_is_refused_without_being_read_into_memory(citizen, tmp_path):
    """25 MB against the 20 MB limit: refused (413) while the memory Python
    allocates for the whole request stays a small fraction of the upload."""
    response, peak = traced_upload(citizen, tmp_path, 25 * MB)
    assert response.status_code == 413, response.content
    assert response.json()["field"] == "file" and "20 MB" in response.json()["detail"]
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB for a 25 MB upload"
    assert StoredFile.objects.count() == 1  # the warm-up's


def test_an_upload_within_the_limit_is_streamed_to_storage(citizen, tmp_path):
    response, peak = traced_upload(citizen, tmp_path, 8 * MB)
    assert response.status_code == 201, response.content
    stored = StoredFile.objects.get(sha256=response.json()["file_id"])
    assert stored.size == 8 * MB and stored.file.size == 8 * MB
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB for an 8 MB upload"


def test_reading_stops_as_soon_as_the_limit_is_passed(settings, tmp_path):
    settings.CQS = {**settings.CQS, "UPLOAD_MAX_BYTES": 1 * MB}
    upload = TemporaryUploadedFile("scan.pdf", "application/pdf", 0, None)
    upload.write(b"%PDF-1.4\n" + b"x" * (6 * MB))
    upload.size = None  # a file object that does not say its size: only counting while reading can stop it
    with pytest.raises(PayloadTooLarge, match="1 MB") as error:
        store_upload(upload, field="components[0].file")
    assert error.value.status_code == 413 and error.value.field == "components[0].file"
    assert upload.tell() <= 1 * MB + CHUNK_BYTES  # the rest was never read
    upload.close()


def test_a_request_over_the_cap_is_refused_before_its_body_is_read(settings, citizen, tmp_path):
    settings.CQS = {**settings.CQS, "REQUEST_MAX_BYTES": 2 * MB}
    path = tmp_path / "body"
    length = multipart_on_disk(path, 3 * MB)
    with open(path, "rb") as body:
        response = post_body(citizen, length, body)
        assert body.tell() == 0  # not one byte of the body was read
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "too_large"


# ---------------------------------------------------------------- decompression bombs


def png(width: int, height: int) -> bytes:
    """A real, valid 1-bit PNG of zeros: a few kilobytes that decode to width×height bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 500) for _ in range(height // 500)) + packer.compress(row * (height % 500))
    idat += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def never_decode(monkeypatch):
    """Any decoding of pixels fails the test."""
    from PIL import ImageFile

    def load(self):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_a_huge_png_is_refused_from_its_header(never_decode, citizen):
    bomb = png(20000, 20000)  # 400 megapixels
    assert len(bomb) < 200_000
    with pytest.raises(DomainError, match="triệu điểm ảnh") as error:
        store_upload(bomb, original_name="anh.png", field="components[0].file", user=citizen)
    assert error.value.field == "components[0].file" and "50 triệu" in error.value.message
    assert not StoredFile.objects.exists()


def test_a_photo_bomb_is_refused_before_it_is_decoded(never_decode):
    """169 megapixels: under Pillow's own hard limit (2 × 89 M), so before
    this check it was decoded (+562 MB in the worker for the reported photo)."""
    from chinhquyenso.core.uploads import clean_photo

    with pytest.raises(DomainError, match="triệu điểm ảnh") as error:
        clean_photo(png(13000, 13000), keep_location=False, field="photos[0]")
    assert error.value.field == "photos[0]"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow warns, then we refuse
def test_images_within_the_limit_pass_and_pillow_shares_the_limit(settings):
    from PIL import Image

    settings.CQS = {**settings.CQS, "UPLOAD_MAX_PIXELS": 1_000_000}
    stored = store_upload(png(1000, 1000), original_name="anh.png")
    assert stored.content_type == "image/png"
    assert Image.MAX_IMAGE_PIXELS == 1_000_000
    with pytest.raises(DomainError, match="1 triệu điểm ảnh"):
        check_image(io.BytesIO(png(1001, 1000)), "photos[0]")
