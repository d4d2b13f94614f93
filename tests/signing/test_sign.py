"""sign_pdf with a PKCS#12 key: profiles B-B, B-T, B-LT; several signatures; failures leave nothing."""

import asyncio
import base64
import hashlib
import io

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from django.db import transaction
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathValidationError

from chinhquyenso.core.models import AuditRecord
from chinhquyenso.signing import services
from chinhquyenso.signing.services import Appearance, SigningError, agency_key, agency_key_or_none, sign_pdf
from tests.signing.helpers import assert_none_in, assert_valid, every_log_line, key_material, statuses

pytestmark = pytest.mark.django_db


def test_b_b_has_no_timestamp_and_validates(province, signing_keys, sample_pdf, test_pki):
    key = signing_keys.for_agency(province["tu_phap"])
    signed = sign_pdf(sample_pdf, key=key, profile="B-B")
    assert signed.startswith(sample_pdf)  # an incremental update: the original bytes are untouched
    _, (status,) = statuses(signed, test_pki, allow_fetching=False)
    assert_valid(status)
    assert status.timestamp_validity is None
    assert status.signing_cert.subject.native["common_name"] == "Sở Tư pháp"


def test_b_t_timestamp_token_verifies_against_the_tsa(province, signing_keys, sample_pdf, test_pki, pki_services):
    key = signing_keys.for_agency(province["tu_phap"])
    signed = sign_pdf(sample_pdf, key=key, profile="B-T")
    _, (status,) = statuses(signed, test_pki, allow_fetching=False)
    assert_valid(status)
    ts = status.timestamp_validity
    assert ts is not None and ts.intact and ts.valid and ts.trusted, ts and ts.summary()
    assert ts.signing_cert.subject.native["common_name"] == "CQS TSA thử nghiệm"


def test_b_lt_embeds_ocsp_and_crl_in_a_dss(province, signing_keys, sample_pdf, test_pki, pki_services):
    key = signing_keys.for_agency(province["tu_phap"])
    signed = sign_pdf(sample_pdf, key=key, profile="B-LT")
    reader, (status,) = statuses(signed, test_pki, allow_fetching=False)
    assert_valid(status)
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    dss = DocumentSecurityStore.read_dss(reader)
    crls = [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls]
    ocsps = [asn1_ocsp.OCSPResponse.load(ref.get_object().data) for ref in dss.ocsps]
    certificates = list(dss.load_certs())
    # The CRLs of the chain: the intermediate CA's (it covers the signer) and the root's (the intermediate).
    assert {crl.issuer.native["common_name"] for crl in crls} == {
        "CQS CA trung gian thử nghiệm",
        "CQS Root CA thử nghiệm",
    }
    # The OCSP answers: one says the signer's certificate is good.
    answers = [single for response in ocsps for single in response.response_data["responses"]]
    assert any(
        a["cert_id"]["serial_number"].native == status.signing_cert.serial_number and a["cert_status"].name == "good"
        for a in answers
    )
    # Each kind alone, offline, proves the chain unrevoked (the embedded data is usable, not decoration);
    # with neither, the same check refuses.
    for only_crls, only_ocsps, proves in ((crls, [], True), ([], ocsps, True), ([], [], False)):
        context = ValidationContext(
            trust_roots=[load_cert_from_pemder(str(test_pki.root_cert_path))],
            other_certs=certificates,
            crls=only_crls,
            ocsps=only_ocsps,
            allow_fetching=False,
            revocation_mode="require",
        )
        validator = CertificateValidator(status.signing_cert, validation_context=context)
        if proves:
            asyncio.run(validator.async_validate_usage({"digital_signature"}))
        else:
            with pytest.raises(PathValidationError):
                asyncio.run(validator.async_validate_usage({"digital_signature"}))


def test_b_lt_refuses_a_revoked_certificate(province, signing_keys, sample_pdf, test_pki, pki_services):
    key = signing_keys.for_agency(province["tu_phap"])
    test_pki.revoke(signing_keys.issued[key.pk])
    with pytest.raises(SigningError) as refused:
        sign_pdf(sample_pdf, key=key, profile="B-LT")
    assert "thu hồi" in refused.value.message


def test_personal_then_agency_signature_both_valid(
    province, officers, signing_keys, sample_pdf, test_pki, pki_services
):
    leader = (
        officers["tu_phap"]["leader"] if "leader" in officers["tu_phap"] else next(iter(officers["tu_phap"].values()))
    )
    personal = signing_keys.for_user(leader, title="Giám đốc")
    seal = signing_keys.for_agency(province["tu_phap"])
    once = sign_pdf(sample_pdf, key=personal, profile="B-T", appearance=Appearance(kind="personal"))
    twice = sign_pdf(
        once,
        key=seal,
        profile="B-T",
        appearance=Appearance(kind="agency", lines=("Số: 12/QĐ-STP",)),
    )
    assert twice.startswith(once)
    reader, (first, second) = statuses(twice, test_pki, allow_fetching=False)
    for status in (first, second):
        assert_valid(status)
    # The first signature covers an earlier revision; the later one is an allowed incremental update.
    assert not first.coverage.name.endswith("ENTIRE_FILE")
    assert second.coverage.name == "ENTIRE_FILE"
    assert [s.field_name for s in reader.embedded_signatures] == ["ChuKySo1", "ChuKySo2"]


def _widget(reader, field_name):
    for ref in reader.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == field_name:
            return field
    raise AssertionError(field_name)


def test_visible_appearance_on_last_page_in_nd30_boxes(province, officers, signing_keys, sample_pdf, test_pki):
    user = next(iter(officers["tu_phap"].values()))
    personal = signing_keys.for_user(user)
    seal = signing_keys.for_agency(province["tu_phap"])
    once = sign_pdf(sample_pdf, key=personal, profile="B-B", appearance=Appearance(kind="personal"))
    twice = sign_pdf(once, key=seal, profile="B-B", appearance=Appearance(kind="agency"))
    reader = PdfFileReader(io.BytesIO(twice))
    last_page = reader.root["/Pages"]["/Kids"].raw_get(-1)
    boxes = {}
    for name in ("ChuKySo1", "ChuKySo2"):
        widget = _widget(reader, name)
        assert widget.raw_get("/P").idnum == last_page.idnum
        boxes[name] = [float(v) for v in widget["/Rect"]]
    px1, py1, px2, py2 = boxes["ChuKySo1"]
    ax1, ay1, ax2, ay2 = boxes["ChuKySo2"]
    assert px2 > 595.28 / 2 and py1 < 842 / 4  # bottom right
    # The seal overlaps about a third of the personal signature, on its left.
    overlap = (ax2 - px1) / (px2 - px1)
    assert 0.25 < overlap < 0.4 and ax1 < px1
    assert (ay1 + ay2) / 2 == pytest.approx((py1 + py2) / 2)


def test_vietnamese_text_renders_with_an_embedded_font(province, signing_keys, sample_pdf, test_pki):
    key = signing_keys.for_agency(province["tu_phap"], signer_name="Trần Thị Ngọc Hường")
    signed = sign_pdf(sample_pdf, key=key, profile="B-B", appearance=Appearance(kind="agency", lines=("Số: 5/QĐ-STP",)))
    reader = PdfFileReader(io.BytesIO(signed))
    stream = _widget(reader, "ChuKySo1")["/AP"]["/N"]
    fonts = []

    def walk(xobject, depth=0):
        resources = xobject.get("/Resources", {})
        fonts.extend(f.get_object() for f in resources.get("/Font", {}).values())
        for child in resources.get("/XObject", {}).values():
            if depth < 5:
                walk(child.get_object(), depth + 1)

    walk(stream.get_object())
    assert fonts, "no font in the appearance"
    descendant = fonts[0]["/DescendantFonts"][0].get_object()
    assert "/FontFile2" in descendant["/FontDescriptor"]  # the TrueType subset is embedded
    # Widths in thousandths of an em (signing.fonts): in the font's 2048 units every letter was spread apart.
    widths = [w for entry in descendant["/W"] if not isinstance(entry, int) for w in entry]
    assert widths and max(widths) <= 1100 and min(widths) > 150
    # The text is mapped back to Unicode: every Vietnamese letter the stamp uses is in the font's map.
    to_unicode = fonts[0]["/ToUnicode"].get_object().data.decode("latin-1")
    for letter in "ưọờ":
        assert f"{ord(letter):04X}" in to_unicode.upper()
    # The seal image is the stamp's background.
    assert b"/Subtype /Image" in signed or b"/Subtype/Image" in signed


def _xobject_streams(stream, depth=0):
    yield stream.data
    for child in stream.get("/Resources", {}).get("/XObject", {}).values():
        if depth < 6:
            yield from _xobject_streams(child.get_object(), depth + 1)


def _qr_drawing(url):
    """The drawing pyHanko makes for a QR code of `url` (error correction M, as QRStampStyle does)."""
    import qrcode
    from pyhanko.pdf_utils.qr import PdfStreamQRImage

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make()
    return qr.make_image(image_factory=PdfStreamQRImage).render_command_stream()


def test_qr_appearance_encodes_the_url(province, signing_keys, sample_pdf, test_pki):
    url = "https://dvc.example.gov.vn/xac-thuc/ABC"
    key = signing_keys.for_agency(province["tu_phap"])
    signed = sign_pdf(sample_pdf, key=key, profile="B-B", appearance=Appearance(kind="agency", qr_url=url))
    reader = PdfFileReader(io.BytesIO(signed))
    drawn = list(_xobject_streams(_widget(reader, "ChuKySo1")["/AP"]["/N"].get_object()))
    assert _qr_drawing(url) in drawn
    assert _qr_drawing(url + "X") not in drawn


def test_audit_record_carries_hashes_not_names(province, signing_keys, sample_pdf, admin_user):
    key = signing_keys.for_agency(province["tu_phap"])
    signed = sign_pdf(sample_pdf, key=key, profile="B-B", actor=admin_user)
    record = AuditRecord.objects.filter(action="signing.sign").latest("seq")
    assert record.after["sha256_before"] == hashlib.sha256(sample_pdf).hexdigest()
    assert record.after["sha256_after"] == hashlib.sha256(signed).hexdigest()
    assert record.after["profile"] == "B-B" and record.after["key"] == key.pk
    assert "Sở Tư pháp" not in str(record.after) and record.agency_id == province["tu_phap"].pk


def _no_signature_recorded(before):
    assert AuditRecord.objects.filter(action="signing.sign").count() == before


def test_wrong_passphrase_refused_and_nothing_written(province, signing_keys, sample_pdf, monkeypatch):
    key = signing_keys.for_agency(province["tu_phap"])
    monkeypatch.setenv("CQS_TEST_SIGNING_PASSPHRASE", "sai-mat-khau")
    before = AuditRecord.objects.filter(action="signing.sign").count()
    with pytest.raises(SigningError) as refused:
        sign_pdf(sample_pdf, key=key, profile="B-B")
    assert "sai mật khẩu" in refused.value.message and refused.value.field == "key"
    assert "sai-mat-khau" not in refused.value.message
    _no_signature_recorded(before)


def test_a_refused_signature_logs_neither_the_passphrase_nor_the_key(
    province, signing_keys, sample_pdf, test_pki, monkeypatch
):
    """Wrong passphrase (the key never opens), then the right one with the TSA down (the key is open in
    memory when signing fails): every log line of the process, at DEBUG, carries neither."""
    key = signing_keys.for_agency(province["tu_phap"])
    issued = signing_keys.issued[key.pk]
    p12 = issued.p12_path.read_bytes()
    secrets = [test_pki.passphrase, "Sai-mat-khau-8265", p12.hex()[64:128], *key_material(issued.key_path)]
    secrets.append(base64.b64encode(p12).decode()[64:128])
    monkeypatch.setenv("CQS_TEST_SIGNING_PASSPHRASE", "Sai-mat-khau-8265")
    with every_log_line() as lines, pytest.raises(SigningError, match="sai mật khẩu"):
        sign_pdf(sample_pdf, key=key, profile="B-B")
    assert any(f"signing with key {key.pk} (B-B) refused" in line for line in lines), lines  # the capture sees
    assert_none_in(lines, secrets)

    monkeypatch.setenv("CQS_TEST_SIGNING_PASSPHRASE", test_pki.passphrase)  # signing_settings: no TSA answers
    with every_log_line() as lines, pytest.raises(SigningError, match="dấu thời gian"):
        sign_pdf(sample_pdf, key=key, profile="B-T")
    assert any(f"signing with key {key.pk} (B-T) failed" in line for line in lines), lines
    assert_none_in(lines, secrets)


def test_missing_passphrase_variable_and_missing_file(province, signing_keys, sample_pdf, monkeypatch):
    key = signing_keys.for_agency(province["tu_phap"])
    monkeypatch.delenv("CQS_TEST_SIGNING_PASSPHRASE")
    with pytest.raises(SigningError, match="chưa được đặt"):
        sign_pdf(sample_pdf, key=key, profile="B-B")
    monkeypatch.setenv("CQS_TEST_SIGNING_PASSPHRASE", "x")
    key.key_path = "/khong/co/tep.p12"
    with pytest.raises(SigningError, match="Không tìm thấy tệp khoá"):
        sign_pdf(sample_pdf, key=key, profile="B-B")


def test_tsa_down_refused_and_nothing_written(province, signing_keys, sample_pdf):
    # signing_settings points the TSA at a port nobody listens on.
    key = signing_keys.for_agency(province["tu_phap"])
    before = AuditRecord.objects.filter(action="signing.sign").count()
    with pytest.raises(SigningError, match="dấu thời gian"):
        sign_pdf(sample_pdf, key=key, profile="B-T")
    _no_signature_recorded(before)


def test_expired_certificate_refused(province, signing_keys, sample_pdf, test_pki):
    import datetime as dt

    key = signing_keys.for_agency(province["tu_phap"])
    now = dt.datetime.now(dt.UTC)
    expired = test_pki.issue("Sở cũ", not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=1))
    key.key_path = str(expired.p12_path)
    with pytest.raises(SigningError, match="hết hạn"):
        sign_pdf(sample_pdf, key=key, profile="B-B")


def test_refuses_inside_a_transaction(province, signing_keys, sample_pdf):
    key = signing_keys.for_agency(province["tu_phap"])
    with transaction.atomic(), pytest.raises(RuntimeError):
        sign_pdf(sample_pdf, key=key, profile="B-B")


def test_not_a_pdf_and_unknown_profile(province, signing_keys, sample_pdf):
    key = signing_keys.for_agency(province["tu_phap"])
    with pytest.raises(SigningError) as refused:
        sign_pdf(b"hello", key=key, profile="B-B")
    assert refused.value.field == "file"
    with pytest.raises(SigningError) as refused:
        sign_pdf(sample_pdf, key=key, profile="B-LTA")
    assert refused.value.field == "profile"


def test_agency_key_lookup(province, signing_keys):
    with pytest.raises(SigningError, match="chưa cấu hình chữ ký số"):
        agency_key(province["tu_phap"].pk)
    assert agency_key_or_none(province["tu_phap"].pk) is None
    key = signing_keys.for_agency(province["tu_phap"])
    assert agency_key(province["tu_phap"].pk) == key
    key.active = False
    key.save()
    assert agency_key_or_none(province["tu_phap"].pk) is None


def test_one_active_agency_key_per_agency(province, signing_keys):
    from django.db import IntegrityError

    signing_keys.for_agency(province["tu_phap"])
    with pytest.raises(IntegrityError), transaction.atomic():
        signing_keys.for_agency(province["tu_phap"])


def test_personal_key_lookup(officers, signing_keys):
    user = next(iter(officers["tu_phap"].values()))
    assert services.personal_key(user) is None
    key = signing_keys.for_user(user)
    assert services.personal_key(user) == key


def test_password_protected_pdf_refused(province, signing_keys, sample_pdf):
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(sample_pdf)))
    writer.encrypt("chu-so-huu", "nguoi-doc")
    buffer = io.BytesIO()
    writer.write(buffer)
    key = signing_keys.for_agency(province["tu_phap"])
    with pytest.raises(SigningError, match="mã hoá") as refused:
        sign_pdf(buffer.getvalue(), key=key, profile="B-B")
    assert refused.value.field == "file"


@pytest.mark.django_db(transaction=True)
def test_signs_from_a_thread_running_an_event_loop(province, signing_keys, sample_pdf, test_pki, monkeypatch):
    # Playwright's synchronous API (browser tests, the demo's accounts test) keeps a loop running in the
    # calling thread, where pyHanko cannot start its own; the browser tests allow Django's ORM there.
    import asyncio

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    key = signing_keys.for_agency(province["tu_phap"])

    async def caller():
        return sign_pdf(sample_pdf, key=key, profile="B-B")

    signed = asyncio.run(caller())
    _, (status,) = statuses(signed, test_pki, allow_fetching=False)
    assert_valid(status)
