"""A local test PKI: root CA, intermediate CA, signer certificates, a TSA, an OCSP responder, CRLs.

For tests, the demo and the benchmark only — never for production (docs/signatures.md): the CA keys
lie unencrypted in the directory and every PKCS#12 file shares one passphrase.

    pki = build_pki(directory, base_url="http://127.0.0.1:8790")
    agency = pki.issue("Sở Tư pháp", organization="UBND tỉnh An Giang")   # an Issued: .p12, .cert_pem …
    pki.revoke(agency)                                                   # the OCSP responder and CRLs say so
    pki = load_pki(directory)                                            # another process reads it back

The certificates name `base_url` as their OCSP responder and CRL address, so the services process
(`chinhquyenso.signing.pki_server`) must listen there. Revocations are a JSON file the services process
reads on every request: a certificate revoked after the process started is reported revoked at once.

Only `cryptography` and `asn1crypto`, no Django: the services process starts in a fraction of a second."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_PASSPHRASE = "cqs-thu-nghiem"
MANIFEST = "pki.json"
REVOCATIONS = "revoked.json"
ORGANIZATION = "Chính quyền số (PKI thử nghiệm)"
# Certificates are valid from a day back, so clocks a little apart never see one "not yet valid".
BACKDATE = dt.timedelta(days=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _new_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def slug(text: str) -> str:
    """A file name for a subject (ASCII only; the name itself stays in the certificate)."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "chu-the"


@dataclass(frozen=True)
class Issued:
    """A certificate the test CA issued, with its key and a PKCS#12 file (passphrase: the PKI's)."""

    name: str
    cert_path: Path
    key_path: Path
    p12_path: Path
    serial: int

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    @property
    def cert_pem(self) -> bytes:
        return self.cert_path.read_bytes()

    def private_key(self):
        return serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)


@dataclass
class TestPKI:
    __test__ = False  # not a pytest test class

    directory: Path
    base_url: str
    passphrase: str

    # ---- where things are -------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.directory / name

    @property
    def root_cert_path(self) -> Path:
        return self.path("root.cert.pem")

    @property
    def intermediate_cert_path(self) -> Path:
        return self.path("intermediate.cert.pem")

    @property
    def tsa_cert_path(self) -> Path:
        return self.path("tsa.cert.pem")

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    def ocsp_url(self, ca: str) -> str:
        return f"{self.base_url}/ocsp/{ca}"

    def crl_url(self, ca: str) -> str:
        return f"{self.base_url}/crl/{ca}.crl"

    def certificate(self, name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.path(f"{name}.cert.pem").read_bytes())

    def key(self, name: str):
        return serialization.load_pem_private_key(self.path(f"{name}.key.pem").read_bytes(), password=None)

    @property
    def chain_pem(self) -> bytes:
        """Intermediate then root: what a signer embeds after its own certificate."""
        return self.intermediate_cert_path.read_bytes() + self.root_cert_path.read_bytes()

    # ---- issuing -----------------------------------------------------------------------------
    def issue(
        self,
        common_name: str,
        *,
        organization: str = ORGANIZATION,
        file_name: str | None = None,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        days: int = 365,
        extended_key_usage: list | None = None,
        key: rsa.RSAPrivateKey | None = None,
        ocsp_nocheck: bool = False,
    ) -> Issued:
        """An end-entity certificate from the intermediate CA (a person's or an agency's), its key in
        PEM and PKCS#12. `not_after` in the past gives an expired certificate."""
        start = not_before or (_now() - BACKDATE)
        end = not_after or (start + BACKDATE + dt.timedelta(days=days))
        name = file_name or f"{slug(common_name)}-{secrets.token_hex(3)}"
        key = key or _new_key()
        issuer = self.certificate("intermediate")
        builder = self._end_entity_builder(common_name, organization, key, issuer, start, end)
        if extended_key_usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage(extended_key_usage), critical=True)
        if ocsp_nocheck:
            builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
        cert = builder.sign(self.key("intermediate"), hashes.SHA256())
        return self._write(name, common_name, key, cert, chain=[issuer, self.certificate("root")])

    def issue_for_public_key(
        self, common_name: str, public_key, *, organization: str = ORGANIZATION, file_name: str | None = None
    ) -> Path:
        """A certificate for a key that never leaves its device (a PKCS#11 token): only the certificate
        is written (PEM); returns its path."""
        start = _now() - BACKDATE
        issuer = self.certificate("intermediate")
        cert = self._end_entity_builder(
            common_name, organization, public_key, issuer, start, start + BACKDATE + dt.timedelta(days=365)
        ).sign(self.key("intermediate"), hashes.SHA256())
        path = self.path(f"{file_name or slug(common_name) + '-' + secrets.token_hex(3)}.cert.pem")
        path.write_bytes(_cert_pem(cert))
        return path

    def _end_entity_builder(self, common_name, organization, key, issuer, start, end):
        public_key = key.public_key() if hasattr(key, "public_key") else key
        return (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization))
            .issuer_name(issuer.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
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
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),
                critical=False,
            )
            .add_extension(self._aia("intermediate"), critical=False)
            .add_extension(self._crl_dp("intermediate"), critical=False)
        )

    def _aia(self, ca: str) -> x509.AuthorityInformationAccess:
        return x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.ocsp_url(ca))
                ),
                x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier(f"{self.base_url}/ca/{ca}.cer"),
                ),
            ]
        )

    def _crl_dp(self, ca: str) -> x509.CRLDistributionPoints:
        return x509.CRLDistributionPoints(
            [
                x509.DistributionPoint(
                    full_name=[x509.UniformResourceIdentifier(self.crl_url(ca))],
                    relative_name=None,
                    reasons=None,
                    crl_issuer=None,
                )
            ]
        )

    def _write(self, name: str, common_name: str, key, cert: x509.Certificate, chain) -> Issued:
        cert_path, key_path, p12_path = (self.path(f"{name}.{ext}") for ext in ("cert.pem", "key.pem", "p12"))
        cert_path.write_bytes(_cert_pem(cert))
        key_path.write_bytes(_key_pem(key))
        key_path.chmod(0o600)
        p12 = pkcs12.serialize_key_and_certificates(
            name=common_name.encode(),
            key=key,
            cert=cert,
            cas=chain,
            encryption_algorithm=serialization.BestAvailableEncryption(self.passphrase.encode()),
        )
        p12_path.write_bytes(p12)
        p12_path.chmod(0o600)
        return Issued(name=name, cert_path=cert_path, key_path=key_path, p12_path=p12_path, serial=cert.serial_number)

    # ---- revocation ----------------------------------------------------------------------------
    def revocations(self) -> dict[str, dict[str, str]]:
        """{"intermediate": {"<serial>": "<ISO time>"}, "root": {...}}"""
        path = self.path(REVOCATIONS)
        return json.loads(path.read_text()) if path.exists() else {"root": {}, "intermediate": {}}

    def revoke(self, issued: Issued | int, *, ca: str = "intermediate", at: dt.datetime | None = None) -> None:
        serial = issued if isinstance(issued, int) else issued.serial
        data = self.revocations()
        data.setdefault(ca, {})[str(serial)] = (at or _now()).isoformat()
        tmp = self.path(REVOCATIONS + ".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path(REVOCATIONS))

    def crl(self, ca: str) -> bytes:
        """The CA's current CRL (DER), signed by the CA, valid one day."""
        issuer, key = self.certificate(ca), self.key(ca)
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.subject)
            .last_update(now - dt.timedelta(minutes=5))
            .next_update(now + dt.timedelta(days=1))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False)
        )
        for serial, when in self.revocations().get(ca, {}).items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial))
                .revocation_date(dt.datetime.fromisoformat(when))
                .build()
            )
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _ca_certificate(subject, issuer_name, key, signing_key, issuer_public_key, start, end, path_length):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False)
    )


def build_pki(
    directory: Path | str, *, base_url: str, passphrase: str = DEFAULT_PASSPHRASE, years: int = 10
) -> TestPKI:
    """Create the CAs, the TSA and the OCSP responder certificates in `directory` (created if missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    base_url = base_url.rstrip("/")
    pki = TestPKI(directory=directory, base_url=base_url, passphrase=passphrase)
    start = _now() - BACKDATE
    end = start + dt.timedelta(days=365 * years)

    root_key = _new_key(3072)
    root_name = _name("CQS Root CA thử nghiệm", ORGANIZATION)
    root = _ca_certificate(root_name, root_name, root_key, root_key, root_key.public_key(), start, end, 1).sign(
        root_key, hashes.SHA256()
    )
    pki.root_cert_path.write_bytes(_cert_pem(root))
    pki.path("root.key.pem").write_bytes(_key_pem(root_key))

    inter_key = _new_key()
    inter = (
        _ca_certificate(
            _name("CQS CA trung gian thử nghiệm", ORGANIZATION),
            root.subject,
            inter_key,
            root_key,
            root_key.public_key(),
            start,
            end - dt.timedelta(days=1),
            0,
        )
        .add_extension(pki._aia("root"), critical=False)
        .add_extension(pki._crl_dp("root"), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pki.intermediate_cert_path.write_bytes(_cert_pem(inter))
    pki.path("intermediate.key.pem").write_bytes(_key_pem(inter_key))
    for name in ("root.key.pem", "intermediate.key.pem"):
        pki.path(name).chmod(0o600)
    pki.path(REVOCATIONS).write_text(json.dumps({"root": {}, "intermediate": {}}))
    pki.path(MANIFEST).write_text(json.dumps({"base_url": base_url, "passphrase": passphrase}, ensure_ascii=False))

    pki.issue(
        "CQS TSA thử nghiệm",
        file_name="tsa",
        days=365 * years - 2,
        extended_key_usage=[ExtendedKeyUsageOID.TIME_STAMPING],
    )
    pki.issue(
        "CQS OCSP thử nghiệm",
        file_name="ocsp",
        days=365 * years - 2,
        extended_key_usage=[ExtendedKeyUsageOID.OCSP_SIGNING],
        ocsp_nocheck=True,
    )
    return pki


def load_pki(directory: Path | str) -> TestPKI:
    directory = Path(directory)
    manifest = json.loads((directory / MANIFEST).read_text())
    return TestPKI(directory=directory, base_url=manifest["base_url"], passphrase=manifest["passphrase"])


def write_seal_image(path: Path | str, size: int = 300) -> Path:
    """A red round seal (transparent PNG), standing in for an agency's scanned seal in tests and the demo."""
    from PIL import Image, ImageDraw

    path = Path(path)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 20, 30, 255)
    draw.ellipse((4, 4, size - 4, size - 4), outline=red, width=size // 25)
    draw.ellipse((size // 5, size // 5, size - size // 5, size - size // 5), outline=red, width=size // 60)
    draw.regular_polygon((size / 2, size / 2, size / 8), 5, fill=red)
    image.save(path, "PNG")
    return path


def sample_pdf(pages: int = 2, title: str = "Van ban thu nghiem") -> bytes:
    """A small A4 PDF of `pages` pages (ASCII text in Helvetica), for tests and the benchmark."""
    import io

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
    for number in range(1, pages + 1):
        text = f"BT /F1 14 Tf 72 770 Td ({title} - trang {number}/{pages}) Tj ET".encode()
        stream = writer.add_object(generic.StreamObject(stream_data=text))
        page = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Page"),
                generic.NameObject("/MediaBox"): generic.ArrayObject(
                    [generic.FloatObject(v) for v in (0, 0, 595.28, 841.89)]
                ),
                generic.NameObject("/Contents"): stream,
                generic.NameObject("/Resources"): generic.DictionaryObject(
                    {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): font})}
                ),
            }
        )
        writer.insert_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
