"""The public authenticity page of an electronic result (/xac-thuc/ket-qua/<code>/), which the QR code
in the result's agency signature opens: what it shows, what it never shows, unknown codes, enumeration."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from chinhquyenso.core.templatetags.cqs import vndate
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import new_verification_code
from chinhquyenso.portal import authenticity_views
from chinhquyenso.signing import throttle as signing_throttle
from tests.conftest import vn
from tests.dossiers.test_signed_results import held_file_status, make_pdf, read, tampered

pytestmark = pytest.mark.django_db

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def issued(birth_procedure, officers, province, citizen):
    """An electronic result issued unsigned (no agency key; CQS_RESULTS_REQUIRE_SIGNATURE=0 in tests)."""
    xa = officers["xa_a"]
    dossier = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 10, 9),
    )
    services.accept(dossier, actor=xa["counter_officer"], at=vn(2025, 3, 10, 10))
    services.forward(dossier, actor=xa["specialist"], at=vn(2025, 3, 11, 9))
    services.forward(dossier, actor=xa["leader"], at=vn(2025, 3, 11, 10))
    upload = store_upload(make_pdf(), original_name="kq.pdf", user=xa["counter_officer"])
    return services.attach_result(dossier, actor=xa["counter_officer"], file=upload, number="7/GKS")


def page(code: str, client: Client | None = None, **extra):
    return (client or Client()).get(f"/xac-thuc/ket-qua/{code}/", **extra)


def test_the_page_shows_the_result_and_nothing_about_its_holder(issued, citizen, province):
    response = page(issued.verification_code)
    text = response.content.decode()
    assert response.status_code == 200
    procedure = issued.dossier.procedure
    assert issued.dossier.code in text and "7/GKS" in text and (procedure.result_name or procedure.name) in text
    assert province["xa_a"].name in text and vndate(issued.issued_at) in text
    assert citizen.full_name not in text and citizen.identity_number not in text
    assert "/tep/" not in text  # no download
    assert "no-cache" in response.headers.get("Cache-Control", "")


def test_the_issuing_agency_stays_the_one_that_issued_it(issued, officers, province):
    """The dossier moves on (returned by the counter); the page keeps the agency recorded at issue."""
    issued.refresh_from_db()
    assert issued.agency_id == province["xa_a"].pk
    type(issued.dossier).objects.filter(pk=issued.dossier_id).update(current_agency=province["huyen"])
    text = page(issued.verification_code).content.decode()
    assert province["xa_a"].name in text and province["huyen"].name not in text


def test_unknown_and_malformed_codes_are_the_same_not_found(issued):
    unknown = page(new_verification_code())
    malformed = page("../../etc")
    wrong_case = page(issued.verification_code.upper())
    assert unknown.status_code == malformed.status_code == wrong_case.status_code == 404
    assert unknown.content == wrong_case.content  # never tells whether a code exists


def test_an_address_guessing_codes_is_refused_for_the_minute(issued, monkeypatch):
    monkeypatch.setattr("chinhquyenso.core.throttle.clock", lambda: 1_800_000_030.0)  # one counting minute
    guesser, other = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(authenticity_views.MISSES.limit()):
        assert page(new_verification_code(), guesser).status_code == 404
    refused = page(issued.verification_code, guesser)  # even a right code, this minute
    assert refused.status_code == 429 and "quá nhiều mã xác thực" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 60
    assert page(issued.verification_code, other).status_code == 200  # another address is unaffected


def test_the_page_reads_a_few_queries(issued, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # the result with its dossier, procedure, agency, file; session-less
        assert page(issued.verification_code).status_code == 200


def test_a_stored_file_changed_after_signing_is_reported_modified(signed_result):
    """Signed: the page says valid; the stored bytes replaced by an incremental update: modified."""
    signed = signed_result
    valid = page(signed.verification_code).content.decode()
    assert "Hợp lệ — ký bởi UBND xã Kiến Thành" in valid
    forged = tampered(read(signed.file))
    with open(signed.file.file.path, "wb") as stored:  # someone with access to the storage
        stored.write(forged)
    modified = page(signed.verification_code).content.decode()
    assert "Tài liệu đã bị sửa sau khi ký" in modified and "Hợp lệ" not in modified

    for replaced in (make_pdf("Ban khac"), b"%PDF-1.7 hong"):  # swapped for an unsigned copy, or garbage
        with open(signed.file.file.path, "wb") as stored:
            stored.write(replaced)
        answer = page(signed.verification_code)
        assert answer.status_code == 200
        assert "Tài liệu đã bị sửa sau khi ký" in answer.content.decode()


@pytest.fixture
def signed_result(issued, settings, officers, province, pki_services, signing_keys):
    """A signed electronic result of UBND xã Kiến Thành; `.key` the agency's key."""
    settings.CQS = {**settings.CQS, "RESULTS_REQUIRE_SIGNATURE": True}
    key = signing_keys.for_agency(province["xa_b"])
    xa = officers["xa_b"]
    dossier = services.submit(
        actor=issued.dossier.applicant,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-thanh",
        components=PAPER,
        at=vn(2025, 3, 12, 9),
    )
    services.accept(dossier, actor=xa["counter_officer"], at=vn(2025, 3, 12, 10))
    services.forward(dossier, actor=xa["specialist"], at=vn(2025, 3, 13, 9))
    services.forward(dossier, actor=xa["leader"], at=vn(2025, 3, 13, 10))
    upload = store_upload(make_pdf(), original_name="kq.pdf", user=xa["counter_officer"])
    result = services.attach_result(dossier, actor=xa["counter_officer"], file=upload)
    result.key = key
    return result


def check_copy(code: str, data: bytes, client: Client | None = None):
    return (client or Client()).post(
        f"/xac-thuc/ket-qua/{code}/", {"file": SimpleUploadedFile("kq.pdf", data, "application/pdf")}
    )


def test_a_copy_that_is_not_this_result_is_told_apart(signed_result, issued, province, signing_keys):
    """An unsigned PDF, and a PDF another agency's trusted certificate signed under this result's own field
    name (the code is printed in the QR code): neither is this result, though the second one's signature
    is valid."""
    from chinhquyenso.dossiers.results import field_name
    from chinhquyenso.signing.services import sign_pdf

    code = signed_result.verification_code
    forged = sign_pdf(
        make_pdf(), key=signing_keys.for_agency(province["huyen"]), profile="B-B", field_name=field_name(code)
    )
    for data in (make_pdf(), forged):
        answer = check_copy(code, data)
        assert answer.status_code == 200
        assert held_file_status(answer.content.decode()).startswith("Tệp này không phải bản kết quả đã cấp với mã này")
    genuine = check_copy(code, read(signed_result.file))
    assert held_file_status(genuine.content.decode()).startswith("Hợp lệ — đúng là kết quả đã cấp")
    # The copy of one result is not another result's.
    other = check_copy(issued.verification_code, read(signed_result.file))
    assert other.status_code == 200 and 'id="tinh-trang-tep"' not in other.content.decode()  # issued unsigned: no check


def test_a_copy_that_is_no_pdf_or_too_many_is_refused_in_words(signed_result, monkeypatch):
    code = signed_result.verification_code
    answer = check_copy(code, b"khong phai PDF")
    assert answer.status_code == 400 and "Tệp không phải PDF" in answer.content.decode()
    missing = Client().post(f"/xac-thuc/ket-qua/{code}/", {})
    assert missing.status_code == 400 and "Hãy chọn tệp PDF cần kiểm tra" in missing.content.decode()
    monkeypatch.setattr("chinhquyenso.core.throttle.clock", lambda: 1_800_000_030.0)  # one counting minute
    checker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(signing_throttle.VERIFICATIONS.limit()):
        assert check_copy(code, read(signed_result.file), checker).status_code == 200
    refused = check_copy(code, read(signed_result.file), checker)
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert "quá nhiều tệp trong một phút" in refused.content.decode()


def test_an_unsigned_result_offers_no_check_of_a_copy(issued):
    text = page(issued.verification_code).content.decode()
    assert "Kết quả này không được ký số" in text and 'name="file"' not in text
