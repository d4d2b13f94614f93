"""POST /api/signatures/verify and the public page /xac-thuc/: anyone checks a PDF's signatures; the file
is not stored, refusals are Vietnamese and name `file`, one address is rate-limited."""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from chinhquyenso.core.models import StoredFile
from chinhquyenso.signing import verify
from chinhquyenso.signing.pki import sample_pdf
from tests.signing.verify_support import from_shared, sign

pytestmark = pytest.mark.django_db
URL = "/api/signatures/verify"


@pytest.fixture(scope="module")
def pki(test_pki):
    return from_shared(test_pki)


@pytest.fixture(autouse=True)
def trusted_root(settings, pki):
    settings.CQS = {**settings.CQS, "SIGNING_TRUST_ROOTS": [str(pki.root_path)], "SIGNING_FETCH_REVOCATION": False}


@pytest.fixture(scope="module")
def signed(pki):
    return sign(sample_pdf(), pki.pyhanko_signer(), timestamper=pki.timestamper())


def _pdf(data: bytes, name: str = "van-ban.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_api_reports_each_signature_for_anyone(signed):
    response = Client().post(URL, {"file": _pdf(signed)})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "valid" and body["status_label"] == "Chữ ký hợp lệ"
    (signature,) = body["signatures"]
    assert signature["valid"] is True and signature["intact"] is True
    assert signature["signer"] == "Sở Tư pháp Thử Nghiệm"
    assert signature["timestamped"] is True and signature["signed_at"]
    assert signature["modified_after_signing"] is False and signature["chain_trusted"] is True
    assert signature["chain"][-1] == "CQS Root CA thử nghiệm"
    assert signature["revocation"] in ("good", "unknown") and signature["problems"] == []
    assert StoredFile.objects.count() == 0  # verification only: nothing kept


def test_api_reports_a_tampered_file_as_modified(signed):
    at = signed.index(b"trang 2")
    tampered = signed[:at] + b"trang 7" + signed[at + 7 :]
    body = Client().post(URL, {"file": _pdf(tampered)}).json()
    assert body["status"] == "modified"
    assert body["signatures"][0]["intact"] is False and body["signatures"][0]["valid"] is False


def test_api_unsigned_pdf():
    body = Client().post(URL, {"file": _pdf(sample_pdf())}).json()
    assert body == {"status": "unsigned", "status_label": "Không có chữ ký số", "signatures": []}


def test_api_refuses_a_file_that_is_not_a_pdf_naming_file():
    response = Client().post(URL, {"file": SimpleUploadedFile("anh.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50)})
    assert response.status_code == 400
    assert response.json() == {"detail": verify.NOT_PDF, "field": "file", "code": "invalid"}


def test_api_without_a_file_names_the_field():
    response = Client().post(URL, {})
    assert response.status_code == 400
    assert response.json() == {"detail": verify.NO_FILE, "field": "file", "code": "invalid"}


def test_api_refuses_a_file_over_the_limit_unread(settings, signed):
    settings.CQS = {**settings.CQS, "UPLOAD_MAX_BYTES": 1024}
    response = Client().post(URL, {"file": _pdf(signed)})
    assert response.status_code == 413 and response.json()["field"] == "file"


def test_api_is_rate_limited_per_address(settings, monkeypatch, signed):
    settings.CQS = {**settings.CQS, "SIGNING_VERIFY_PER_IP_PER_MINUTE": 2}
    monkeypatch.setattr("chinhquyenso.core.throttle.clock", lambda: 1_800_000_010.0)
    client = Client()
    assert [client.post(URL, {"file": _pdf(signed)}).status_code for _ in range(2)] == [200, 200]
    refused = client.post(URL, {"file": _pdf(signed)})
    assert refused.status_code == 429 and refused["Retry-After"] == "50"
    assert refused.json()["field"] == "file" and refused.json()["code"] == "rate_limited"
    other = Client(REMOTE_ADDR="10.9.8.7").post(URL, {"file": _pdf(signed)})
    assert other.status_code == 200  # counted per address


def test_api_is_in_the_openapi_document_with_its_schema():
    from chinhquyenso.api import api

    operation = api.get_openapi_schema()["paths"]["/api/signatures/verify"]["post"]
    assert "security" not in operation or not operation["security"]
    assert {"200", "400", "413", "429"} <= {str(k) for k in operation["responses"]}


def test_page_shows_the_form_and_says_nothing_is_kept():
    response = Client().get(reverse("signing:verify"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("signing:verify") == "/xac-thuc/"
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page
    assert "không được lưu lại" in page
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


def test_page_requires_the_csrf_token(signed):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/xac-thuc/", {"file": _pdf(signed)}).status_code == 403


def test_page_shows_a_valid_signature_in_plain_vietnamese(signed, caplog):
    with caplog.at_level(logging.DEBUG):
        response = Client().post("/xac-thuc/", {"file": _pdf(signed, name="Nguyen-Van-A.pdf")})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Chữ ký hợp lệ" in page
    assert "Sở Tư pháp Thử Nghiệm" in page and "CQS Root CA thử nghiệm" in page
    assert "Dấu thời gian" in page and "Có, lúc" in page
    assert "Không có thay đổi nào sau khi ký." in page
    assert "Nguyen-Van-A" not in page  # the file's name is not echoed
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "Sở Tư pháp" not in logged and "Nguyen-Van-A" not in logged  # nothing logged with names
    assert StoredFile.objects.count() == 0


def test_page_says_a_modified_document_was_changed_after_signing(signed):
    from tests.signing.test_verify import _annotated

    page = Client().post("/xac-thuc/", {"file": _pdf(_annotated(signed))}).content.decode()
    assert "Tài liệu đã bị sửa sau khi ký" in page
    assert "Chữ ký hợp lệ" not in page


def test_page_says_an_untrusted_signature_is_invalid(pki):
    untrusted = sign(sample_pdf(), pki.pyhanko_signer(untrusted=True))
    page = Client().post("/xac-thuc/", {"file": _pdf(untrusted)}).content.decode()
    assert "Chữ ký không hợp lệ" in page and "Người Lạ" in page
    assert "Không dẫn đến tổ chức chứng thực được tin cậy" in page


def test_page_says_there_is_no_signature():
    page = Client().post("/xac-thuc/", {"file": _pdf(sample_pdf())}).content.decode()
    assert "Không có chữ ký số" in page


@pytest.mark.parametrize(
    ("files", "message"),
    [({}, "Hãy chọn tệp PDF cần kiểm tra."), ({"file": SimpleUploadedFile("a.txt", b"xin chao")}, verify.NOT_PDF)],
)
def test_page_refusals_are_shown_next_to_the_field(files, message):
    response = Client().post("/xac-thuc/", files)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="file-err"' in page
