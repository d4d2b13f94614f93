"""signing.verify.verify_pdf / overall: every signature in a PDF, read and judged.

Signed files are made with bare pyHanko and the shared test PKI (tests/signing/verify_support.py), so
the verifier is checked against signatures it did not make itself; the platform's own signatures (every
profile, revocation) are checked in test_verify_platform.py and by poppler's pdfsig in test_pdfsig.py."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from chinhquyenso.core.errors import DomainError
from chinhquyenso.signing import verify
from chinhquyenso.signing.pki import sample_pdf
from chinhquyenso.signing.verify import overall, verify_pdf
from tests.signing.verify_support import from_shared, make_pki, sign


@pytest.fixture(scope="module")
def pki(test_pki):
    return from_shared(test_pki)


def _cn(issued) -> str:
    return issued.asn1_cert.subject.native["common_name"]


@pytest.fixture(autouse=True)
def trusted_root(settings, pki):
    settings.CQS = {**settings.CQS, "SIGNING_TRUST_ROOTS": [str(pki.root_path)], "SIGNING_FETCH_REVOCATION": False}


@pytest.fixture(scope="module")
def pdf():
    return sample_pdf(pages=2)


@pytest.fixture(scope="module")
def signed_bb(pki, pdf):
    return sign(pdf, pki.pyhanko_signer())


@pytest.fixture(scope="module")
def signed_bt(pki, pdf):
    return sign(pdf, pki.pyhanko_signer(), timestamper=pki.timestamper())


def _only(reports):
    assert len(reports) == 1
    return reports[0]


def test_b_b_signature_is_valid_and_names_the_signer(pki, signed_bb):
    report = _only(verify_pdf(signed_bb))
    assert report.valid and report.intact and report.chain_trusted
    assert report.field == "ChuKy1"
    assert report.signer == "Sở Tư pháp Thử Nghiệm"
    assert report.organization == "UBND Tỉnh Thử Nghiệm"
    assert report.chain == ("Sở Tư pháp Thử Nghiệm", _cn(pki.intermediate), _cn(pki.root))
    assert not report.timestamped and report.timestamp_at is None
    assert report.signed_at is not None and abs(report.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
    assert not report.modified_after_signing and not report.expired
    assert report.revocation == "unknown"  # B-B without fetching: nothing to check against
    assert report.problems == ()
    assert overall([report]) == "valid"


def test_b_t_signature_carries_a_trusted_time_stamp(signed_bt):
    report = _only(verify_pdf(signed_bt))
    assert report.valid and report.timestamped
    assert report.timestamp_at is not None
    assert report.signed_at == report.timestamp_at  # a trusted time stamp is the signing time
    assert overall([report]) == "valid"


def test_pdf_without_signatures_is_unsigned(pdf):
    assert verify_pdf(pdf) == []
    assert overall([]) == "unsigned"


def test_bytes_changed_inside_the_signed_range_break_the_digest(signed_bb):
    at = signed_bb.index(b"trang 1")
    tampered = signed_bb[:at] + b"trang 9" + signed_bb[at + len(b"trang 1") :]
    report = _only(verify_pdf(tampered))
    assert not report.intact and not report.valid
    assert any("mã băm" in problem for problem in report.problems)
    assert overall([report]) == "modified"


def _annotated(data: bytes) -> bytes:
    """An incremental update after the signature that adds a text annotation to page 1."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (50, 50, 300, 100)]),
                generic.NameObject("/Contents"): generic.TextStringObject("Đã duyệt"),
                generic.NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
            }
        )
    )
    page[generic.NameObject("/Annots")] = generic.ArrayObject([note])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_incremental_update_after_signing_is_reported_as_modified(signed_bt):
    updated = _annotated(signed_bt)
    report = _only(verify_pdf(updated))
    assert report.intact  # the signed revision itself is untouched...
    assert report.modified_after_signing  # ...but what a reader sees was changed after it
    assert not report.valid
    assert report.modification == verify.DISALLOWED_CHANGE
    assert overall([report]) == "modified"


def test_shadow_attack_replacing_the_page_content_is_caught(signed_bb):
    """'Replace' shadow attack: a later revision points the page at new content."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_bb))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    fake = generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 760 Td (Noi dung da bi thay) Tj ET")
    page[generic.NameObject("/Contents")] = writer.add_object(fake)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    report = _only(verify_pdf(out.getvalue()))
    assert report.intact and report.modified_after_signing and not report.valid
    assert overall([report]) == "modified"


def test_shadow_attack_overwriting_a_signed_object_in_place_is_caught(signed_bb):
    """'Hide-and-replace' shadow attack: the same object number gets new content in a later revision,
    so the signed revision is intact and only the latest one differs."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_bb))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    reference = page.raw_get("/Contents")
    stream = reference.get_object()
    stream._data = b"BT /F1 18 Tf 72 760 Td (Noi dung gia mao) Tj ET"
    stream._encoded_data = None
    writer.mark_update(reference)
    out = io.BytesIO()
    writer.write(out)
    attacked = out.getvalue()
    assert b"Noi dung gia mao" in attacked
    report = _only(verify_pdf(attacked))
    assert report.intact and report.modified_after_signing and not report.valid
    assert overall([report]) == "modified"


def test_a_later_signature_is_a_harmless_change(pki, signed_bt):
    both = sign(signed_bt, pki.pyhanko_signer(), field_name="ChuKy2")
    first, second = verify_pdf(both)
    assert (first.field, second.field) == ("ChuKy1", "ChuKy2")
    assert first.valid and not first.modified_after_signing
    assert first.modification == verify.HARMLESS_CHANGE
    assert second.valid and second.modification == verify.NO_CHANGE
    assert overall([first, second]) == "valid"


def test_expired_signer_certificate(pki, pdf):
    report = _only(verify_pdf(sign(pdf, pki.pyhanko_signer(pki.expired_signer))))
    assert report.intact and report.expired and not report.valid and not report.chain_trusted
    assert report.signer == "Người Ký Hết Hạn"
    assert any("hiệu lực" in problem for problem in report.problems)
    assert overall([report]) == "invalid"


def test_certificate_expired_since_but_time_stamped_while_valid_is_valid(settings, tmp_path, pdf):
    """A trusted time stamp proves the signature was made before the certificate expired. (A PKI of its
    own: its CAs are a year old, so a time stamp from weeks ago is inside their lifetime.)"""
    old = make_pki(tmp_path)
    settings.CQS = {**settings.CQS, "SIGNING_TRUST_ROOTS": [str(old.root_path)]}
    while_valid = old.expired_signer.cert.not_valid_after_utc - dt.timedelta(days=2)
    signed = sign(pdf, old.pyhanko_signer(old.expired_signer), timestamper=old.timestamper(at=while_valid))
    report = _only(verify_pdf(signed))
    assert report.timestamped and report.timestamp_at == while_valid
    assert not report.expired
    assert report.chain_trusted and report.valid, report.problems


def test_untrusted_root(pki, pdf):
    report = _only(verify_pdf(sign(pdf, pki.pyhanko_signer(untrusted=True))))
    assert report.intact and not report.chain_trusted and not report.valid
    assert report.chain == ("Người Lạ", "CA Lạ")
    assert any("tin cậy" in problem for problem in report.problems)
    assert overall([report]) == "invalid"


def test_no_trust_roots_configured_trusts_nothing(settings, signed_bb):
    settings.CQS = {**settings.CQS, "SIGNING_TRUST_ROOTS": []}
    report = _only(verify_pdf(signed_bb))
    assert report.intact and not report.chain_trusted and not report.valid


def test_a_missing_trust_root_file_is_skipped_not_an_error(settings, tmp_path, signed_bb):
    settings.CQS = {**settings.CQS, "SIGNING_TRUST_ROOTS": [str(tmp_path / "missing.pem")]}
    assert not _only(verify_pdf(signed_bb)).chain_trusted


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", verify.EMPTY),
        (b"PK\x03\x04 a zip file, not a PDF", verify.NOT_PDF),
        ("Văn bản thường".encode(), verify.NOT_PDF),
        (b"%PDF-1.7\n" + b"\x00garbage" * 100, verify.UNREADABLE),
    ],
)
def test_files_that_are_not_readable_pdfs_are_refused_naming_the_file(data, message):
    with pytest.raises(DomainError) as refused:
        verify_pdf(data)
    assert refused.value.field == "file"
    assert refused.value.message == message


def test_a_file_over_the_upload_limit_is_refused(settings, signed_bb):
    settings.CQS = {**settings.CQS, "UPLOAD_MAX_BYTES": len(signed_bb) - 1}
    with pytest.raises(DomainError) as refused:
        verify_pdf(signed_bb)
    assert refused.value.field == "file" and refused.value.status_code == 413


def test_a_corrupt_signature_value_is_a_report_not_an_error(signed_bb):
    """The /Contents hex string (the CMS blob) overwritten with zeros: reported invalid, never raised."""
    start = signed_bb.index(b"/Contents <") + len(b"/Contents <")
    end = signed_bb.index(b">", start)
    broken = signed_bb[:start] + b"0" * (end - start) + signed_bb[end:]
    reports = verify_pdf(broken)
    assert len(reports) == 1 and not reports[0].valid and reports[0].problems
    assert overall(reports) != "valid"


def test_truncated_signed_files_never_raise_anything_but_domain_errors(signed_bt):
    for cut in (len(signed_bt) // 4, len(signed_bt) // 2, len(signed_bt) - 40):
        try:
            reports = verify_pdf(signed_bt[:cut])
        except DomainError as refused:
            assert refused.field == "file"
        else:
            assert overall(reports) != "valid"


def test_overall_prefers_modified_over_invalid(signed_bb):
    report = _only(verify_pdf(signed_bb))
    untrusted = verify.SignatureReport(**{**report.__dict__, "valid": False, "chain_trusted": False})
    modified = verify.SignatureReport(**{**report.__dict__, "valid": False, "modified_after_signing": True})
    assert overall([report, untrusted]) == "invalid"
    assert overall([untrusted, modified]) == "modified"
    assert overall([report, report]) == "valid"


def test_expired_certificate_with_a_claimed_time_inside_its_validity_is_still_invalid(
    settings, monkeypatch, tmp_path, pdf
):
    """Without a time stamp the signer's own claim of when it signed proves nothing: an expired certificate
    is checked now, and fails."""
    from pyhanko.sign.signers import pdf_signer

    old = make_pki(tmp_path)
    settings.CQS = {**settings.CQS, "SIGNING_TRUST_ROOTS": [str(old.root_path)]}
    claimed = old.expired_signer.cert.not_valid_after_utc - dt.timedelta(days=2)

    class Backdated(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return claimed

    monkeypatch.setattr(pdf_signer, "datetime", Backdated)  # the signer's clock: the time it claims
    signed = sign(pdf, old.pyhanko_signer(old.expired_signer))
    monkeypatch.undo()
    report = _only(verify_pdf(signed))
    assert report.signed_at == claimed and not report.timestamped
    assert not report.expired  # by its own claim...
    assert not report.chain_trusted and not report.valid  # ...which is not believed
    assert any("hết hiệu lực" in problem for problem in report.problems)


def test_randomly_damaged_signed_files_never_raise_anything_but_domain_errors(signed_bt):
    """Hostile or broken uploads never become a 500: a few random bytes changed anywhere in a signed file
    (seeded) give either a refusal naming `file` or reports; never "valid" once the signed bytes differ."""
    import random

    rng = random.Random(21)
    hole_start = signed_bt.index(b"/Contents <") + len(b"/Contents <")
    hole_end = signed_bt.index(b">", hole_start)
    for _ in range(60):
        damaged = bytearray(signed_bt)
        positions = [rng.randrange(len(damaged)) for _ in range(rng.randint(1, 6))]
        for at in positions:
            damaged[at] = rng.randrange(256)
        try:
            reports = verify_pdf(bytes(damaged))
        except DomainError as refused:
            assert refused.field == "file"
            continue
        changed = [p for p in positions if damaged[p] != signed_bt[p]]
        if any(not hole_start <= p < hole_end for p in changed):  # inside the signed bytes
            assert overall(reports) != "valid", changed
