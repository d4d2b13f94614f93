"""Certificates and signed PDFs for the verification tests (tests/signing/test_verify*.py, the browser
test, benchmarks/bench_verify.py), signed with bare pyHanko so the verifier is checked against signatures
it did not make itself (test_pdfsig.py checks the platform's own).

`from_shared(test_pki)` builds on the one test PKI (the `test_pki` fixture, chinhquyenso.signing.pki): its
root, intermediate and TSA, a signer and an expired signer it issues — plus a second root of its own,
deliberately untrusted, with a signer under it. `make_pki(directory)` is the same shape without the
shared PKI (a self-contained run). Keys are RSA (what Vietnamese CAs issue and poppler's pdfsig reads)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC)


def _name(common_name: str, organization: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organization:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


@dataclass
class Issued:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        der = self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return asn1_keys.PrivateKeyInfo.load(der)

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _issue(
    subject: x509.Name,
    issuer: Issued | None,
    *,
    ca: bool,
    not_before: dt.datetime,
    not_after: dt.datetime,
    usage: str = "sign",
) -> Issued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signing_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=usage == "sign",
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        if usage == "tsa":
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return Issued(key, builder.sign(signing_key, hashes.SHA256()))


@dataclass
class VerifyPki:
    root: Issued
    intermediate: Issued
    signer: Issued
    expired_signer: Issued
    tsa: Issued
    other_root: Issued
    stranger: Issued
    root_path: Path
    files: dict = field(default_factory=dict)

    def pyhanko_signer(self, who: Issued | None = None, *, untrusted: bool = False):
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        if untrusted:
            who, chain = self.stranger, [self.other_root.asn1_cert]
        else:
            who, chain = who or self.signer, [self.intermediate.asn1_cert, self.root.asn1_cert]
        return signers.SimpleSigner(
            signing_cert=who.asn1_cert,
            signing_key=who.asn1_key,
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )

    def timestamper(self, at: dt.datetime | None = None):
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        return DummyTimeStamper(
            tsa_cert=self.tsa.asn1_cert,
            tsa_key=self.tsa.asn1_key,
            certs_to_embed=[self.intermediate.asn1_cert, self.root.asn1_cert],
            fixed_dt=at,
        )


def make_pki(directory: Path) -> VerifyPki:
    long_ago, later = NOW - dt.timedelta(days=400), NOW + dt.timedelta(days=3650)
    root = _issue(_name("CA Gốc Thử Nghiệm", "Tỉnh Thử Nghiệm"), None, ca=True, not_before=long_ago, not_after=later)
    intermediate = _issue(
        _name("CA Trung Gian Thử Nghiệm", "Tỉnh Thử Nghiệm"), root, ca=True, not_before=long_ago, not_after=later
    )
    signer = _issue(
        _name("Sở Tư pháp Thử Nghiệm", "UBND Tỉnh Thử Nghiệm"),
        intermediate,
        ca=False,
        not_before=long_ago,
        not_after=later,
    )
    expired_signer = _issue(
        _name("Người Ký Hết Hạn", "UBND Tỉnh Thử Nghiệm"),
        intermediate,
        ca=False,
        not_before=long_ago,
        not_after=NOW - dt.timedelta(days=30),
    )
    tsa = _issue(_name("TSA Thử Nghiệm", "Tỉnh Thử Nghiệm"), intermediate, ca=False, not_before=long_ago,
                 not_after=later, usage="tsa")  # fmt: skip
    other_root, stranger = _untrusted()
    directory.mkdir(parents=True, exist_ok=True)
    root_path = directory / "root.pem"
    root_path.write_bytes(root.pem())
    return VerifyPki(root, intermediate, signer, expired_signer, tsa, other_root, stranger, root_path)


def _untrusted() -> tuple[Issued, Issued]:
    long_ago, later = NOW - dt.timedelta(days=400), NOW + dt.timedelta(days=3650)
    other_root = _issue(_name("CA Lạ", "Không Tin Cậy"), None, ca=True, not_before=long_ago, not_after=later)
    stranger = _issue(_name("Người Lạ", "Không Tin Cậy"), other_root, ca=False, not_before=long_ago, not_after=later)
    return other_root, stranger


def from_shared(shared) -> VerifyPki:
    """The verification PKI on the shared test PKI (chinhquyenso.signing.pki.TestPKI)."""

    def loaded(name: str) -> Issued:
        return Issued(shared.key(name), shared.certificate(name))

    def issued(common_name: str, **dates) -> Issued:
        made = shared.issue(common_name, organization="UBND Tỉnh Thử Nghiệm", **dates)
        return Issued(made.private_key(), made.certificate)

    signer = issued("Sở Tư pháp Thử Nghiệm")
    # Inside the shared CAs' lifetime (backdated a day), over an hour ago.
    expired = issued("Người Ký Hết Hạn", not_before=NOW - dt.timedelta(hours=20), not_after=NOW - dt.timedelta(hours=1))
    other_root, stranger = _untrusted()
    return VerifyPki(
        loaded("root"),
        loaded("intermediate"),
        signer,
        expired,
        loaded("tsa"),
        other_root,
        stranger,
        shared.root_cert_path,
    )


def sign(data: bytes, signer, *, timestamper=None, field_name: str = "ChuKy1") -> bytes:
    """Sign `data` with bare pyHanko (PAdES), incrementally; B-T when `timestamper` is given."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    def _sign() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        meta = signers.PdfSignatureMetadata(field_name=field_name, subfilter=SigSeedSubFilter.PADES)
        return signers.PdfSigner(meta, signer=signer, timestamper=timestamper).sign_pdf(writer).getvalue()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _sign()
    # pyHanko's sync wrapper runs its own event loop: under Playwright's (browser tests), in a thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_sign).result()
