"""The bus's own key and certificate (EC P-256): it signs this installation's outgoing calls, the
message log's seals and the exported registry. Kept outside the database (like secret.key and the
audit key): CQS_BUS_KEY_FILE / CQS_BUS_CERT_FILE, generated on first use, readable by the service
account only. Back them up apart from the database (docs/operations.md)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def generate_identity(common_name: str, *, days: int = 730) -> tuple[str, str]:
    """A new EC P-256 key and a self-signed certificate for it: (key PEM, certificate PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def thumbprint(cert_pem: str) -> str:
    """base64url SHA-256 of the certificate's DER (the JOSE `x5t#S256`)."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return b64url(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())


@dataclass(frozen=True)
class Identity:
    key_pem: str
    cert_pem: str

    @property
    def key_id(self) -> str:
        return thumbprint(self.cert_pem)

    def sign(self, data: bytes) -> str:
        key = serialization.load_pem_private_key(self.key_pem.encode(), password=None)
        return b64url(key.sign(data, ec.ECDSA(hashes.SHA256())))


def verify(data: bytes, signature: str, cert_pem: str) -> bool:
    """Whether `signature` (base64url DER ECDSA) over `data` was made with the certificate's key."""
    try:
        public = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
        public.verify(
            base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), data, ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first: use theirs
    with os.fdopen(fd, "w") as file:
        file.write(text)


def identity() -> Identity:
    """This installation's bus identity, generated into the data directory on first use."""
    key_path, cert_path = Path(settings.BUS_KEY_FILE), Path(settings.BUS_CERT_FILE)
    if not key_path.exists():
        key_pem, cert_pem = generate_identity(f"Truc lien thong {settings.CQS.get('BUS_MEMBER_CODE', '')}")
        _write_private(key_path, key_pem)
        if key_path.read_text() == key_pem:
            cert_path.write_text(cert_pem)
    return Identity(key_pem=key_path.read_text(), cert_pem=cert_path.read_text())
