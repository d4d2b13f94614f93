"""An independent verifier agrees with ours: poppler's `pdfsig` (Debian's poppler-utils) reads the
signatures the platform makes (signing.services.sign_pdf) and says what signing.verify says — valid and
covering the whole file, changed after signing, or with a digest that no longer matches.

With certutil (libnss3-tools) the test root is imported into a throw-away NSS database and pdfsig's
"Certificate is Trusted." is compared with chain_trusted too. Without pdfsig (or certutil) the tests are
skipped with the reason, and fail under CQS_REQUIRE_TOOLS=1 (CI: tests/external_tools.py). Nothing here reaches past the local TSA/OCSP process (pki_services)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from chinhquyenso.signing.services import Appearance, sign_pdf
from chinhquyenso.signing.verify import NO_CHANGE, overall, verify_pdf
from tests.external_tools import program_missing, require

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pdfsig_installed():
    """Skipped here without pdfsig, a failure in CI (tests/external_tools.py)."""
    require(program_missing("pdfsig", "poppler-utils"))


def pdfsig(pdf: bytes, tmp_path: Path, *, nss: Path | None = None) -> list[dict]:
    """pdfsig's report, one dict per signature: validation, certificate, total (covers the whole file).
    With `nss` the certificate is checked too, and OCSP with it: pdfsig 22.12 answers "Unknown issue" for
    every certificate when told -no-ocsp, so that check needs the test PKI's responder (pki_services)."""
    path = tmp_path / f"doc-{len(list(tmp_path.glob('doc-*.pdf')))}.pdf"
    path.write_bytes(pdf)
    command = ["pdfsig"] if nss is not None else ["pdfsig", "-no-ocsp"]
    if nss is not None:
        command += ["-nssdir", f"sql:{nss}"]
    done = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60, check=False)
    signatures: list[dict] = []
    for line in done.stdout.splitlines():
        line = line.strip()
        if line.startswith("Signature #"):
            signatures.append({"total": None, "validation": "", "certificate": ""})
        elif signatures and line == "- Total document signed":
            signatures[-1]["total"] = True
        elif signatures and line == "- Not total document signed":
            signatures[-1]["total"] = False
        elif signatures and line.startswith("- Signature Validation:"):
            signatures[-1]["validation"] = line.split(":", 1)[1].strip()
        elif signatures and line.startswith("- Certificate Validation:"):
            signatures[-1]["certificate"] = line.split(":", 1)[1].strip()
    assert done.returncode == 0 or signatures, done.stderr
    return signatures


def assert_agree(pdf: bytes, tmp_path: Path) -> tuple[list, list[dict]]:
    ours, theirs = verify_pdf(pdf), pdfsig(pdf, tmp_path)
    assert len(ours) == len(theirs)
    for report, their in zip(ours, theirs, strict=True):
        assert report.intact == (their["validation"] == "Signature is Valid."), (report, their)
        assert (report.modification == NO_CHANGE) == their["total"], (report, their)
    return ours, theirs


@pytest.fixture
def seal_key(province, signing_keys):
    return signing_keys.for_agency(province["tu_phap"])


def _changed_after(signed: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page[generic.NameObject("/Contents")] = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 760 Td (Noi dung khac) Tj ET")
    )
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdfsig_finds_a_platform_b_b_signature_valid(seal_key, sample_pdf, tmp_path):
    ours, (their,) = assert_agree(sign_pdf(sample_pdf, key=seal_key, profile="B-B"), tmp_path)
    assert their["validation"] == "Signature is Valid." and their["total"] is True
    assert overall(ours) == "valid"


def test_pdfsig_finds_a_platform_b_t_signature_valid(seal_key, sample_pdf, tmp_path, pki_services):
    ours, (their,) = assert_agree(sign_pdf(sample_pdf, key=seal_key, profile="B-T"), tmp_path)
    assert their["validation"] == "Signature is Valid." and their["total"] is True
    assert overall(ours) == "valid" and ours[0].timestamped


def test_pdfsig_reads_a_personal_and_an_agency_signature(officers, signing_keys, seal_key, sample_pdf, tmp_path):
    leader = next(iter(officers["tu_phap"].values()))
    once = sign_pdf(
        sample_pdf, key=signing_keys.for_user(leader), profile="B-B", appearance=Appearance(kind="personal")
    )
    twice = sign_pdf(once, key=seal_key, profile="B-B", appearance=Appearance(kind="agency"))
    ours, theirs = assert_agree(twice, tmp_path)
    assert [t["validation"] for t in theirs] == ["Signature is Valid.", "Signature is Valid."]
    assert [t["total"] for t in theirs] == [False, True]  # the first covers the revision before the second
    assert overall(ours) == "valid"  # a later signature is an allowed change


def test_pdfsig_and_we_agree_the_document_was_changed_after_signing(seal_key, sample_pdf, tmp_path):
    ours, (their,) = assert_agree(_changed_after(sign_pdf(sample_pdf, key=seal_key, profile="B-B")), tmp_path)
    assert their["validation"] == "Signature is Valid." and their["total"] is False
    assert ours[0].modified_after_signing and overall(ours) == "modified"


def test_pdfsig_and_we_agree_the_signed_bytes_were_tampered_with(seal_key, sample_pdf, tmp_path):
    signed = sign_pdf(sample_pdf, key=seal_key, profile="B-B")
    at = signed.index(b"/MediaBox")  # inside the first signed range, same length
    tampered = signed[:at] + b"/MediaBoy" + signed[at + len(b"/MediaBox") :]
    ours, (their,) = assert_agree(tampered, tmp_path)
    assert their["validation"] == "Digest Mismatch."
    assert not ours[0].intact and overall(ours) == "modified"


def test_pdfsig_trusts_what_we_trust(seal_key, sample_pdf, test_pki, tmp_path, pki_services):
    require(program_missing("certutil", "libnss3-tools"))
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{nss}", "-n", "cqs-root", "-t", "CT,C,C", "-i", str(test_pki.root_cert_path)],
        check=True,
        capture_output=True,
    )
    signed = sign_pdf(sample_pdf, key=seal_key, profile="B-B")
    (their,) = pdfsig(signed, tmp_path, nss=nss)
    (report,) = verify_pdf(signed)
    assert their["certificate"] == "Certificate is Trusted." and report.chain_trusted
    empty = tmp_path / "nss-empty"
    empty.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{empty}", "--empty-password"], check=True, capture_output=True)
    (untrusted,) = pdfsig(signed, tmp_path, nss=empty)
    assert untrusted["certificate"] == "Certificate issuer isn't Trusted."
