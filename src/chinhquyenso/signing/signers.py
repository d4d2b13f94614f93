"""pyHanko signers for a SigningKey: a PKCS#12 file, a PKCS#11 token or HSM, or a remote provider.

    with open_signer(key) as signer:      # a pyhanko Signer; a PKCS#11 session is closed on leaving
        ...

Every failure becomes a SigningError with a plain Vietnamese message naming "key"; the passphrase
or PIN is read at the moment of use from the environment variable or file the key names, and never
appears in a message, a log line or an exception this module raises."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign import signers as pyhanko_signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from chinhquyenso.core.errors import DomainError
from chinhquyenso.signing.models import SigningKey

logger = logging.getLogger(__name__)


class SigningError(DomainError):
    """A signature could not be made; the message says why in plain Vietnamese (field "file" or "key")."""

    def __init__(self, message: str, field: str | None = "key", code: str = "signing_failed"):
        super().__init__(message, field, code)


def read_secret(key: SigningKey) -> bytes:
    """The passphrase or PIN, from the environment variable or the file the key names."""
    if key.passphrase_env:
        value = os.environ.get(key.passphrase_env)
        if value is None:
            raise SigningError(
                f"Biến môi trường {key.passphrase_env} (mật khẩu/PIN của khoá ký số) chưa được đặt trên máy chủ."
            )
        return value.encode()
    if key.passphrase_file:
        try:
            return Path(key.passphrase_file).read_bytes().rstrip(b"\r\n")
        except OSError:
            raise SigningError("Không đọc được tệp chứa mật khẩu/PIN của khoá ký số.") from None
    raise SigningError("Khoá ký số chưa cấu hình nơi lấy mật khẩu/PIN (biến môi trường hoặc tệp).")


def _asn1_cert(cert) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def load_pkcs12_signer(path: str, passphrase: bytes) -> pyhanko_signers.SimpleSigner:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SigningError("Không tìm thấy tệp khoá ký số (PKCS#12) đã cấu hình.") from None
    except OSError:
        raise SigningError("Không đọc được tệp khoá ký số (PKCS#12): kiểm tra quyền đọc tệp.") from None
    try:
        private_key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError:
        raise SigningError("Không mở được tệp khoá ký số: sai mật khẩu hoặc tệp hỏng.") from None
    if private_key is None or cert is None:
        raise SigningError("Tệp khoá ký số không chứa khoá riêng và chứng thư số.")
    key_der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pyhanko_signers.SimpleSigner(
        signing_cert=_asn1_cert(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in extra or ()]),
    )


@contextmanager
def _pkcs11_signer(key: SigningKey):
    import pkcs11
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    if not Path(key.module_path).exists():
        raise SigningError("Không tìm thấy thư viện PKCS#11 đã cấu hình cho khoá ký số.")
    pin = read_secret(key).decode()
    try:
        session = open_pkcs11_session(
            key.module_path, token_criteria=TokenCriteria(label=key.token_label), user_pin=pin
        )
    except pkcs11.PinIncorrect:
        raise SigningError("Mã PIN của thiết bị ký số không đúng.") from None
    except pkcs11.PinLocked:
        raise SigningError("Thiết bị ký số đã bị khoá do nhập sai PIN nhiều lần.") from None
    except Exception as exc:  # pyhanko's PKCS11Error "no token with label", the module refusing to load …
        logger.warning("PKCS#11 session for signing key %s failed: %s", key.pk, type(exc).__name__)
        raise SigningError("Không mở được thiết bị ký số (token/HSM): kiểm tra nhãn token và thiết bị.") from None
    try:
        signer = PKCS11Signer(session, key_label=key.key_label, cert_label=key.key_label, other_certs_to_pull=None)
        yield signer
    finally:
        session.close()


# ---- remote signing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteCertificate:
    """The subscriber's certificate and the chain above it (DER), as the provider returns them."""

    certificate: bytes
    chain: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class RemoteSignature:
    """A signature value over a digest (PKCS#1 v1.5 for RSA), and the certificates to embed."""

    signature: bytes
    certificate: bytes
    chain: tuple[bytes, ...] = field(default_factory=tuple)


class RemoteSigningProvider(Protocol):
    """A remote signing service: the national eSign gateway or a provider behind it. Raises SigningError
    (refused by the subscriber, timeout, unknown subscriber) with a Vietnamese message."""

    def certificate(self, user_id: str) -> RemoteCertificate: ...

    def sign_digest(
        self, user_id: str, digest: bytes, *, digest_algorithm: str, document_name: str = ""
    ) -> RemoteSignature: ...


class RemoteSigner(pyhanko_signers.Signer):
    """pyHanko's external-signer mechanism: the CMS is built here, the signature value comes from the
    provider over the digest of the signed attributes."""

    def __init__(self, provider: RemoteSigningProvider, user_id: str, certificate: RemoteCertificate, document_name=""):
        cert = asn1_x509.Certificate.load(certificate.certificate)
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(c) for c in certificate.chain]),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
        )
        self.provider = provider
        self.user_id = user_id
        self.document_name = document_name
        self._key_bytes = cert.public_key.byte_size

    def _sign_digest(self, digest: bytes, digest_algorithm: str) -> RemoteSignature:
        # A worker thread: pyHanko signs inside an event loop, where Django refuses the ORM the bus's
        # registry and message log need. The thread's own database connection is closed after the call
        # (so in tests the rows must be committed: remote signing tests use transactional_db).
        from django.db import connections

        try:
            return self.provider.sign_digest(
                self.user_id, digest, digest_algorithm=digest_algorithm, document_name=self.document_name
            )
        finally:
            connections.close_all()

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if dry_run:
            return bytes(self._key_bytes)
        digest = hashlib.new(digest_algorithm, data).digest()
        answer = await asyncio.to_thread(self._sign_digest, digest, digest_algorithm)
        if answer.certificate != self.signing_cert.dump():
            raise SigningError("Cổng ký số từ xa đã ký bằng một chứng thư khác với chứng thư của người ký.")
        return answer.signature


def remote_provider() -> RemoteSigningProvider:
    from chinhquyenso.signing.remote import configured_provider

    return configured_provider()


@contextmanager
def open_signer(key: SigningKey, *, document_name: str = ""):
    """A pyHanko Signer for `key` (see the module's docstring)."""
    if key.kind == SigningKey.Kind.PKCS12:
        yield load_pkcs12_signer(key.key_path, read_secret(key))
    elif key.kind == SigningKey.Kind.PKCS11:
        with _pkcs11_signer(key) as signer:
            yield signer
    elif key.kind == SigningKey.Kind.REMOTE:
        provider = remote_provider()
        yield RemoteSigner(provider, key.remote_user_id, provider.certificate(key.remote_user_id), document_name)
    else:
        raise SigningError("Loại khoá ký số không được hỗ trợ.")


def fingerprint(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()
