"""Signed electronic results (issue 21): a dossier's e-result is signed with the issuing agency's key
before it is stored, carries a QR link to its public authenticity page, is downloaded signed by the
citizen, and a failed or refused signature leaves the dossier without a result."""

from __future__ import annotations

import io
import re
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import AuditRecord, StoredFile
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import results, services
from chinhquyenso.dossiers.models import EDataItem, ElectronicResult, SignatureStatus
from tests.conftest import vn

pytestmark = pytest.mark.django_db

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def make_pdf(text: str = "Giay khai sinh ban dien tu") -> bytes:
    """A small, well-formed one-page PDF (pyHanko's writer), as an officer's exported result is."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Font"),
                generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
                generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
            }
        )
    )
    content = writer.add_object(generic.StreamObject(stream_data=f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode()))
    writer.insert_page(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Page"),
                generic.NameObject("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (0, 0, 595, 842)]
                ),
                generic.NameObject("/Contents"): content,
                generic.NameObject("/Resources"): generic.DictionaryObject(
                    {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): font})}
                ),
            }
        )
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def tampered(data: bytes) -> bytes:
    """The signed file changed after signing by an incremental update: a new page content stream
    drawn over the first page (what a forger adding a line to a certificate would do)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    extra = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 700 Td (Da sua) Tj ET"))
    contents = page["/Contents"]
    page[generic.NameObject("/Contents")] = generic.ArrayObject([contents, extra])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read(stored: StoredFile) -> bytes:
    with stored.file.open("rb") as handle:
        return handle.read()


@pytest.fixture
def ctx(birth_procedure, officers, province, citizen):
    xa = officers["xa_a"]
    return {
        "counter": xa["counter_officer"],
        "specialist": xa["specialist"],
        "leader": xa["leader"],
        "citizen": citizen,
        "agency": province["xa_a"],
        "officers": officers,
    }


@pytest.fixture
def result_ready(ctx):
    """A dossier whose result is ready at UBND xã Kiến An, waiting for its electronic result."""
    dossier = services.submit(
        actor=ctx["citizen"],
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 10, 9),
    )
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    services.forward(dossier, actor=ctx["specialist"], at=vn(2025, 3, 11, 9))
    services.forward(dossier, actor=ctx["leader"], at=vn(2025, 3, 11, 10))
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def require_signature(settings):
    settings.CQS = {**settings.CQS, "RESULTS_REQUIRE_SIGNATURE": True}


@pytest.fixture
def agency_key(ctx, pki_services, signing_keys):
    return signing_keys.for_agency(ctx["agency"])


def attach(dossier, ctx, data: bytes | None = None, number: str = "12/GKS"):
    upload = store_upload(data or make_pdf(), original_name="ket-qua.pdf", user=ctx["counter"])
    return services.attach_result(dossier, actor=ctx["counter"], file=upload, number=number), upload


# ---------------------------------------------------------------- signed


def test_the_result_is_signed_with_the_agency_key_and_stored_signed_in_both_places(
    ctx, result_ready, agency_key, require_signature
):
    from chinhquyenso.signing.verify import verify_pdf

    result, upload = attach(result_ready, ctx)
    result.refresh_from_db()
    assert result.signed and result.signature_status == SignatureStatus.VALID and result.signed_at
    assert result.agency_id == ctx["agency"].pk
    assert result.file.sha256 != upload.sha256  # the signed bytes, not the upload
    assert EDataItem.objects.get(owner=ctx["citizen"]).file_id == result.file_id
    [report] = verify_pdf(read(result.file))
    assert report.field == results.field_name(result.verification_code)
    assert report.valid and report.intact and report.chain_trusted and not report.modified_after_signing
    assert report.timestamped  # B-T, the default profile, against the local TSA
    assert report.signer == ctx["agency"].name  # the agency's certificate (CN = the agency's name)
    assert _signer_certificate(read(result.file)).sha256 == _key_certificate(agency_key).sha256
    recorded = AuditRecord.objects.filter(action="dossier.attach_result").latest("pk")
    assert recorded.after["result_signed"] is True and recorded.after["result_sha256"] == result.file.sha256


def test_the_qr_code_in_the_signature_links_to_the_authenticity_page(ctx, result_ready, agency_key, require_signature):
    result, _ = attach(result_ready, ctx)
    url = results.authenticity_url(result.verification_code)
    assert url == f"https://dvc.example.gov.vn/xac-thuc/ket-qua/{result.verification_code}/"
    assert _qr_drawing(url) in _streams(read(result.file))
    assert _qr_drawing(url + "x") not in _streams(read(result.file))  # the check can fail


def _signer_certificate(data: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures[-1].signer_cert


def _key_certificate(key):
    from chinhquyenso.signing.signers import load_pkcs12_signer, read_secret

    return load_pkcs12_signer(key.key_path, read_secret(key)).signing_cert


def _qr_drawing(url: str) -> bytes:
    """The drawing commands pyHanko's QR stamp writes for `url` (its QR code as PDF path operators)."""
    import qrcode
    from pyhanko.pdf_utils.qr import PdfStreamQRImage

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make()
    return qr.make_image(image_factory=PdfStreamQRImage).render_command_stream()


def _streams(data: bytes) -> list[bytes]:
    """Every stream's content in the PDF, inflated where it is compressed."""
    found = []
    for match in re.finditer(rb"stream\r?\n", data):
        body = data[match.end() : data.find(b"endstream", match.end())]
        try:
            found.append(zlib.decompressobj().decompress(body))
        except zlib.error:
            found.append(body)
    return found


def held_file_status(page_html: str) -> str:
    """The text of the QR page's verdict on an uploaded copy (its role="status" paragraph), tags removed."""
    found = re.search(r'<p role="status" id="tinh-trang-tep">(.*?)</p>', page_html, re.S)
    assert found, page_html
    return re.sub(r"<[^>]+>", "", found.group(1))


def check_held_copy(page_link: str, data: bytes) -> str:
    """What a holder does on the QR page: the form there (multipart, field `file`, posted to the page
    itself), their copy chosen, "Kiểm tra tệp" pressed; the verdict read back."""
    visitor = Client(enforce_csrf_checks=True)
    form_page = visitor.get(page_link).content.decode()
    form = re.search(r'<form method="post" enctype="multipart/form-data"[^>]*>(.*?)</form>', form_page, re.S)
    assert form and 'name="file"' in form.group(1) and "Kiểm tra tệp" in form.group(1), form_page
    assert "action=" not in form_page[form.start() : form.start() + 80]  # posts back to the page itself
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1)).group(1)
    answer = visitor.post(
        page_link,
        {"csrfmiddlewaretoken": token, "file": SimpleUploadedFile("ket-qua.pdf", data, "application/pdf")},
    )
    assert answer.status_code == 200, answer.content
    return held_file_status(answer.content.decode())


def test_the_citizen_downloads_it_signed_and_the_page_says_valid_then_modified_after_tampering(
    ctx, result_ready, agency_key, require_signature
):
    result, _ = attach(result_ready, ctx)
    citizen = Client()
    citizen.force_login(ctx["citizen"])
    store = citizen.get("/ca-nhan/kho-du-lieu/")
    assert store.status_code == 200
    page_link = f"/xac-thuc/ket-qua/{result.verification_code}/"
    assert "Đã ký số" in store.content.decode() and page_link in store.content.decode()
    downloaded = citizen.get(f"/tep/{result.file.sha256}/?tai=1")
    assert downloaded.status_code == 200
    data = b"".join(downloaded.streaming_content) if downloaded.streaming else downloaded.content
    assert data == read(result.file)
    # The QR code printed in the signature of the downloaded file opens this page.
    assert _qr_drawing(results.authenticity_url(result.verification_code)) in _streams(data)
    assert results.authenticity_url(result.verification_code).endswith(page_link)

    check = Client().get(page_link)  # anyone who scans the QR code, signed in or not
    text = check.content.decode()
    assert check.status_code == 200
    assert "Hợp lệ — ký bởi" in text and "có dấu thời gian" in text
    assert result_ready.code in text and "12/GKS" in text and ctx["agency"].name in text
    assert ctx["citizen"].full_name not in text and ctx["citizen"].identity_number not in text
    assert f"/tep/{result.file.sha256}/" not in text  # confirms, never hands out

    # The citizen's own copy, checked on the QR page: as downloaded, valid ...
    untouched = check_held_copy(page_link, data)
    assert untouched.startswith(
        f"Hợp lệ — đúng là kết quả đã cấp, chưa bị sửa sau khi ký — ký bởi {ctx['agency'].name}"
    )
    # ... changed by an incremental update (a line drawn over the page), modified after signing ...
    updated = check_held_copy(page_link, tampered(data))
    assert updated.startswith("Tài liệu đã bị sửa sau khi ký") and "Hợp lệ" not in updated
    # ... a character changed inside the signed bytes, the same.
    edited = data.replace(b"ban dien tu)", b"ban dien TU)")
    assert edited != data and len(edited) == len(data)
    changed = check_held_copy(page_link, edited)
    assert changed.startswith("Tài liệu đã bị sửa sau khi ký") and "Hợp lệ" not in changed
    # The stored copy is untouched by any of it: the page's own status still says valid.
    assert "Hợp lệ — ký bởi" in Client().get(page_link).content.decode()


def test_an_uploaded_result_already_signed_keeps_its_signature_under_the_agency_one(
    ctx, result_ready, agency_key, signing_keys, require_signature
):
    from chinhquyenso.signing.services import Appearance, sign_pdf
    from chinhquyenso.signing.verify import verify_pdf

    leader_key = signing_keys.for_user(ctx["leader"])
    personal = sign_pdf(
        make_pdf(), key=leader_key, profile="B-B", appearance=Appearance(kind="personal"), field_name="ChuKyLanhDao"
    )
    result, _ = attach(result_ready, ctx, data=personal)
    reports = {report.field: report for report in verify_pdf(read(result.file))}
    assert set(reports) == {"ChuKyLanhDao", results.field_name(result.verification_code)}
    assert all(report.valid for report in reports.values()), reports
    assert not reports["ChuKyLanhDao"].modified_after_signing  # the agency's signature is an allowed change


# ---------------------------------------------------------------- refused, failed, retried


def _nothing_issued(dossier, citizen):
    dossier.refresh_from_db()
    assert not dossier.has_electronic_result
    assert not ElectronicResult.objects.filter(dossier=dossier).exists()
    assert not EDataItem.objects.filter(owner=citizen).exists()
    assert not AuditRecord.objects.filter(action="dossier.attach_result").exists()


def test_without_an_agency_key_an_e_result_is_refused_when_signatures_are_required(
    ctx, result_ready, require_signature
):
    with pytest.raises(DomainError) as refused:
        attach(result_ready, ctx)
    assert refused.value.message.startswith("Cơ quan chưa cấu hình chữ ký số nên chưa thể trả kết quả điện tử")
    assert refused.value.field == "file"
    _nothing_issued(result_ready, ctx["citizen"])


def test_without_an_agency_key_it_is_issued_unsigned_when_allowed_and_its_page_says_so(ctx, result_ready, settings):
    assert settings.CQS["RESULTS_REQUIRE_SIGNATURE"] is False  # tests/conftest.py: the other tests' setting
    result, upload = attach(result_ready, ctx)
    result.refresh_from_db()
    assert not result.signed and result.signature_status == SignatureStatus.UNSIGNED and result.signed_at is None
    assert result.file_id == upload.pk  # stored as uploaded
    page = Client().get(f"/xac-thuc/ket-qua/{result.verification_code}/")
    assert page.status_code == 200
    assert "Kết quả này không được ký số" in page.content.decode()
    assert "Hợp lệ" not in page.content.decode()


def test_the_setting_defaults_to_requiring_a_signature(monkeypatch):
    import importlib

    from chinhquyenso import settings as project_settings

    monkeypatch.delenv("CQS_RESULTS_REQUIRE_SIGNATURE", raising=False)
    assert importlib.reload(project_settings).CQS["RESULTS_REQUIRE_SIGNATURE"] is True
    monkeypatch.setenv("CQS_RESULTS_REQUIRE_SIGNATURE", "0")
    assert importlib.reload(project_settings).CQS["RESULTS_REQUIRE_SIGNATURE"] is False
    monkeypatch.delenv("CQS_RESULTS_REQUIRE_SIGNATURE")
    importlib.reload(project_settings)


def test_a_time_stamp_authority_down_leaves_no_result(ctx, result_ready, agency_key, settings, require_signature):
    settings.CQS = {**settings.CQS, "SIGNING_TSA_URL": "http://127.0.0.1:9/tsa", "SIGNING_DEFAULT_PROFILE": "B-T"}
    files_before = StoredFile.objects.count()
    with pytest.raises(DomainError) as failed:
        attach(result_ready, ctx)
    assert failed.value.message and failed.value.field in ("file", "key")
    _nothing_issued(result_ready, ctx["citizen"])
    assert StoredFile.objects.count() == files_before + 1  # the upload only, no signed copy


def test_an_image_result_cannot_be_signed_and_is_refused(ctx, result_ready, agency_key, require_signature):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    upload = store_upload(png, original_name="kq.png", user=ctx["counter"])
    with pytest.raises(DomainError) as refused:
        services.attach_result(result_ready, actor=ctx["counter"], file=upload)
    assert "PDF" in refused.value.message
    _nothing_issued(result_ready, ctx["citizen"])


def test_a_retry_does_not_issue_or_sign_twice(ctx, result_ready, agency_key, require_signature, monkeypatch):
    from chinhquyenso.signing import services as signing

    calls = []
    real = signing.sign_pdf
    monkeypatch.setattr(signing, "sign_pdf", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    first, _ = attach(result_ready, ctx)
    with pytest.raises(DomainError, match="đã có kết quả điện tử"):
        attach(result_ready, ctx)
    assert len(calls) == 1  # refused before signing
    assert ElectronicResult.objects.filter(dossier=result_ready).count() == 1
    assert EDataItem.objects.filter(owner=ctx["citizen"]).count() == 1


def test_a_signature_refused_by_the_verifier_is_not_issued(ctx, result_ready, agency_key, require_signature, settings):
    """Trust roots that do not include the agency's CA: the page would call it invalid, so it is not issued."""
    settings.CQS = {**settings.CQS, "SIGNING_TRUST_ROOTS": []}
    with pytest.raises(DomainError, match="không được xác nhận là hợp lệ"):
        attach(result_ready, ctx)
    _nothing_issued(result_ready, ctx["citizen"])


# ---------------------------------------------------------------- callers: back office and API


def test_the_back_office_shows_the_refusal_and_issues_nothing(ctx, result_ready, require_signature):
    officer = Client()
    officer.force_login(ctx["counter"])
    response = officer.post(
        f"/can-bo/ho-so/{result_ready.code}/attach_result/",
        {"file": SimpleUploadedFile("kq.pdf", make_pdf(), "application/pdf"), "number": "1/GKS"},
        follow=True,
    )
    assert "Cơ quan chưa cấu hình chữ ký số" in response.content.decode()
    _nothing_issued(result_ready, ctx["citizen"])


def test_the_back_office_issues_a_signed_result_and_its_page_says_so(ctx, result_ready, agency_key, require_signature):
    officer = Client()
    officer.force_login(ctx["counter"])
    response = officer.post(
        f"/can-bo/ho-so/{result_ready.code}/attach_result/",
        {"file": SimpleUploadedFile("kq.pdf", make_pdf(), "application/pdf"), "number": "1/GKS"},
        follow=True,
    )
    text = response.content.decode()
    result = ElectronicResult.objects.get(dossier=result_ready)
    assert result.signed and "Đã ký số" in text and f"/xac-thuc/ket-qua/{result.verification_code}/" in text


def test_the_api_answers_the_refusal_on_file(ctx, result_ready, require_signature):
    counter = Client()
    counter.force_login(ctx["counter"])
    upload = counter.post("/api/dossiers/files", {"file": SimpleUploadedFile("kq.pdf", make_pdf(), "application/pdf")})
    assert upload.status_code == 201
    answer = counter.post(
        f"/api/dossiers/{result_ready.code}/actions/attach_result",
        {"file_id": upload.json()["file_id"]},
        content_type="application/json",
    )
    assert answer.status_code == 400 and answer.json()["field"] == "file"
    assert "chữ ký số" in answer.json()["detail"]
    _nothing_issued(result_ready, ctx["citizen"])
