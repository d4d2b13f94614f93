"""Remote signing: the national eSign gateway (Trung tâm Chứng thực điện tử quốc gia) and the providers
behind it, reached over the data bus (exchange.bus.gateway.call, connector "esign",
exchange/connectors/registry/esign.json). Only the digest of the signed attributes leaves the platform;
the subscriber confirms on their own device and the gateway returns the signature value and their
certificate chain, which pyHanko's external-signer mechanism (signers.RemoteSigner) embeds.

The provider in use is CQS["SIGNING_REMOTE_PROVIDER"] (a dotted path; default: EsignGatewayProvider).
Tests and the demo run the gateway simulator (exchange/connectors/simulators/esign.py), which really
signs with keys the test CA issued; the real gateway's address is CQS_ESIGN_BASE_URL."""

from __future__ import annotations

import base64
import hashlib
import logging

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from django.conf import settings
from django.utils.module_loading import import_string

from chinhquyenso.core.workflow import in_transaction
from chinhquyenso.signing.signers import RemoteCertificate, RemoteSignature, RemoteSigningProvider, SigningError

logger = logging.getLogger(__name__)
DIGESTS = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


def configured_provider() -> RemoteSigningProvider:
    path = settings.CQS.get("SIGNING_REMOTE_PROVIDER") or "chinhquyenso.signing.remote.EsignGatewayProvider"
    return import_string(path)()


def _b64(value, what: str) -> bytes:
    try:
        return base64.b64decode(value or "", validate=True)
    except (ValueError, TypeError):
        raise SigningError(f"Cổng ký số từ xa trả về {what} không hợp lệ.") from None


class EsignGatewayProvider:
    """The eSign gateway over the data bus. Synchronous calls: never inside a transaction."""

    connector = "esign"

    def _call(self, operation: str, body: dict) -> dict:
        from chinhquyenso.exchange import connectors
        from chinhquyenso.exchange.bus import gateway
        from chinhquyenso.exchange.bus.errors import BusError

        if in_transaction():
            raise RuntimeError("remote signing calls the eSign gateway: call it outside a transaction")
        try:
            response = gateway.call(
                client=connectors.client_for(self.connector),
                service=connectors.service_id(self.connector),
                operation=operation,
                json_body=body,
                timeout=settings.CQS.get("SIGNING_REMOTE_TIMEOUT_SECONDS"),
            )
        except BusError as error:
            logger.warning("eSign gateway %s: %s", operation, error.code)
            if error.code == "timeout":
                raise SigningError(
                    "Người ký chưa xác nhận hoặc cổng ký số từ xa không phản hồi kịp; văn bản chưa được ký."
                ) from None
            raise SigningError(f"Không ký số từ xa được: {error.message}") from None
        if response.status == 403:
            raise SigningError("Người ký đã từ chối yêu cầu ký số từ xa; văn bản chưa được ký.")
        if response.status == 404:
            raise SigningError("Không tìm thấy thuê bao ký số từ xa của người ký tại cổng eSign.")
        if response.status != 200:
            raise SigningError(f"Cổng ký số từ xa từ chối yêu cầu (mã {response.status}).")
        data = response.json()
        if not isinstance(data, dict):
            raise SigningError("Cổng ký số từ xa trả về dữ liệu không đúng định dạng.")
        return data

    def certificate(self, user_id: str) -> RemoteCertificate:
        data = self._call("certificate", {"user_id": user_id})
        return RemoteCertificate(
            certificate=_b64(data.get("certificate"), "chứng thư số"),
            chain=tuple(_b64(c, "chuỗi chứng thư") for c in data.get("chain") or ()),
        )

    def sign_digest(
        self, user_id: str, digest: bytes, *, digest_algorithm: str, document_name: str = ""
    ) -> RemoteSignature:
        data = self._call(
            "sign",
            {
                "user_id": user_id,
                "digest": base64.b64encode(digest).decode(),
                "digest_algorithm": digest_algorithm,
                "document_name": document_name[:200],
            },
        )
        answer = RemoteSignature(
            signature=_b64(data.get("signature"), "chữ ký"),
            certificate=_b64(data.get("certificate"), "chứng thư số"),
            chain=tuple(_b64(c, "chuỗi chứng thư") for c in data.get("chain") or ()),
        )
        check_signature(answer, digest, digest_algorithm)
        return answer


def check_signature(answer: RemoteSignature, digest: bytes, digest_algorithm: str) -> None:
    """The value really is a signature over our digest by the certificate's key; otherwise the PDF would
    carry a broken signature, so it is refused before anything is written."""
    try:
        cert = x509.load_der_x509_certificate(answer.certificate)
        cert.public_key().verify(
            answer.signature, digest, padding.PKCS1v15(), utils.Prehashed(DIGESTS[digest_algorithm])
        )
    except (InvalidSignature, ValueError, KeyError, TypeError):
        logger.warning(
            "eSign gateway returned a signature that does not verify (digest %s)",
            hashlib.sha256(digest).hexdigest()[:12],
        )
        raise SigningError("Chữ ký do cổng ký số từ xa trả về không khớp với văn bản; văn bản chưa được ký.") from None
