"""verify_pdf on what the platform itself signs (signing.services.sign_pdf with the shared test PKI and its
TSA/OCSP/CRL process): every profile, two signatures with visible appearances, revocation embedded (B-LT)
or fetched, a revoked certificate, and a platform-signed file changed afterwards."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from chinhquyenso.signing.services import Appearance, sign_pdf
from chinhquyenso.signing.verify import overall, verify_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def seal_key(province, signing_keys):
    return signing_keys.for_agency(province["tu_phap"])


def test_b_b_from_the_platform_is_valid(seal_key, sample_pdf):
    (report,) = verify_pdf(sign_pdf(sample_pdf, key=seal_key, profile="B-B"))
    assert report.valid and not report.timestamped
    assert report.signer == "Sở Tư pháp" and report.chain_trusted
    assert report.chain[-1] == "CQS Root CA thử nghiệm"
    assert report.revocation == "unknown"  # nothing embedded, fetching off


def test_b_t_from_the_platform_is_time_stamped(seal_key, sample_pdf, pki_services):
    (report,) = verify_pdf(sign_pdf(sample_pdf, key=seal_key, profile="B-T"))
    assert report.valid and report.timestamped and report.signed_at == report.timestamp_at


def test_b_lt_revocation_answers_embedded_are_used_offline(settings, seal_key, sample_pdf, pki_services):
    signed = sign_pdf(sample_pdf, key=seal_key, profile="B-LT")
    settings.CQS = {**settings.CQS, "SIGNING_FETCH_REVOCATION": False}
    (report,) = verify_pdf(signed)
    assert report.valid and report.timestamped
    assert report.revocation == "good"  # from the document security store, nothing fetched


def test_a_revoked_certificate_is_found_when_fetching_is_on(
    settings, signing_keys, seal_key, sample_pdf, test_pki, pki_services
):
    signed = sign_pdf(sample_pdf, key=seal_key, profile="B-B")
    test_pki.revoke(signing_keys.issued[seal_key.pk])
    settings.CQS = {**settings.CQS, "SIGNING_FETCH_REVOCATION": False}
    (offline,) = verify_pdf(signed)
    assert offline.revocation == "unknown"  # nothing to know it by
    settings.CQS = {**settings.CQS, "SIGNING_FETCH_REVOCATION": True}
    (report,) = verify_pdf(signed)
    assert report.revocation == "revoked" and not report.valid and not report.chain_trusted
    assert any("thu hồi" in problem for problem in report.problems)
    assert overall([report]) == "invalid"


def test_a_good_certificate_is_checked_online_when_fetching_is_on(settings, seal_key, sample_pdf, pki_services):
    signed = sign_pdf(sample_pdf, key=seal_key, profile="B-B")
    settings.CQS = {**settings.CQS, "SIGNING_FETCH_REVOCATION": True}
    (report,) = verify_pdf(signed)
    assert report.valid and report.revocation == "good"


def test_personal_then_agency_signature_with_appearances(province, officers, signing_keys, sample_pdf, seal_key):
    leader = next(iter(officers["tu_phap"].values()))
    personal = signing_keys.for_user(leader, title="Giám đốc")
    once = sign_pdf(sample_pdf, key=personal, profile="B-B", appearance=Appearance(kind="personal"))
    twice = sign_pdf(once, key=seal_key, profile="B-B", appearance=Appearance(kind="agency", lines=("Số: 12/QĐ-STP",)))
    first, second = verify_pdf(twice)
    assert first.valid and second.valid
    assert not first.modified_after_signing  # the agency's signature after it is an allowed change
    assert second.signer == "Sở Tư pháp"
    assert overall([first, second]) == "valid"


def test_a_platform_signed_file_changed_afterwards_is_modified(seal_key, sample_pdf):
    signed = sign_pdf(sample_pdf, key=seal_key, profile="B-B")
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page[generic.NameObject("/Contents")] = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 760 Td (Ket qua da bi sua) Tj ET")
    )
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    (report,) = verify_pdf(out.getvalue())
    assert report.intact and report.modified_after_signing and not report.valid
    assert overall([report]) == "modified"
