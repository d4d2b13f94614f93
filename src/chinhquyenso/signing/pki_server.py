"""The test PKI's services as their own process: RFC 3161 time stamps, OCSP and CRLs.

    python -m chinhquyenso.signing.pki_server --config DIR [--host 127.0.0.1] [--port N]

DIR is a directory `chinhquyenso.signing.pki.build_pki` (or `cqs signing demo-pki`) wrote. The port
defaults to the one in the PKI's base URL, which its certificates name as their OCSP and CRL address.
The first line on stdout is `PKI_SERVICES_URL=http://host:port`. For tests and the demo only.

    POST /tsa                     application/timestamp-query → application/timestamp-reply
    POST /ocsp/<ca>  (and GET /ocsp/<ca>/<base64>)  → application/ocsp-response  (ca: root | intermediate)
    GET  /crl/<ca>.crl            the CA's CRL, built from the revocations on every request
    GET  /ca/<ca>.cer             the CA certificate (the certificates' "CA issuers" address)

`start_pki_services(directory)` runs it as a context manager (tests: the `pki_services` fixture)."""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import subprocess
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from chinhquyenso.core.simulators import serve_forever, spawn
from chinhquyenso.signing.pki import TestPKI, load_pki

CAS = ("root", "intermediate")
NAME = "PKI_SERVICES"  # announced as PKI_SERVICES_URL=… (core.simulators)


class PKIServices:
    """The answers, independent of HTTP (so a test can call them directly)."""

    def __init__(self, pki: TestPKI):
        self.pki = pki
        self._lock = threading.Lock()
        self._timestamper = None
        self._ca_key_hashes = {}
        for ca in CAS:
            cert = pki.certificate(ca)
            spki = cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            from asn1crypto import keys as asn1_keys

            bits = asn1_keys.PublicKeyInfo.load(spki)["public_key"].contents[1:]  # the BIT STRING's bytes
            self._ca_key_hashes[ca] = {"sha1": hashlib.sha1(bits).digest(), "sha256": hashlib.sha256(bits).digest()}

    def timestamper(self):
        with self._lock:
            if self._timestamper is None:
                from asn1crypto import keys as asn1_keys
                from asn1crypto import x509 as asn1_x509
                from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

                tsa = self.pki.certificate("tsa")
                key_der = self.pki.key("tsa").private_bytes(
                    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
                self._timestamper = DummyTimeStamper(
                    tsa_cert=asn1_x509.Certificate.load(tsa.public_bytes(serialization.Encoding.DER)),
                    tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
                    certs_to_embed=[
                        asn1_x509.Certificate.load(
                            self.pki.certificate("intermediate").public_bytes(serialization.Encoding.DER)
                        )
                    ],
                )
            return self._timestamper

    def timestamp(self, body: bytes) -> bytes:
        from asn1crypto import tsp

        request = tsp.TimeStampReq.load(body)
        return self.timestamper().request_tsa_response(request).dump()

    def ocsp(self, body: bytes) -> bytes:
        try:
            request = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
                serialization.Encoding.DER
            )
        ca = next(
            (
                name
                for name, hashes_ in self._ca_key_hashes.items()
                if request.issuer_key_hash in (hashes_["sha1"], hashes_["sha256"])
            ),
            None,
        )
        if ca is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
                serialization.Encoding.DER
            )
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        revoked = self.pki.revocations().get(ca, {}).get(str(request.serial_number))
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number,
            algorithm=request.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now - dt.timedelta(minutes=1),
            next_update=now + dt.timedelta(hours=12),
            revocation_time=dt.datetime.fromisoformat(revoked) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        # The intermediate's certificates are answered by the delegated responder (id-kp-OCSPSigning,
        # issued by the intermediate); the root answers for the intermediate itself.
        if ca == "intermediate":
            responder, key = self.pki.certificate("ocsp"), self.pki.key("ocsp")
        else:
            responder, key = self.pki.certificate("root"), self.pki.key("root")
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder).certificates([responder])
        for extension in request.extensions:
            if isinstance(extension.value, x509.OCSPNonce):
                builder = builder.add_extension(extension.value, critical=False)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


class _Handler(BaseHTTPRequestHandler):
    services: PKIServices

    def log_message(self, format, *args):  # quiet: tests read stdout for the announce line only
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self):
        path = urlsplit(self.path).path
        if path == "/tsa":
            return self._send(200, self.services.timestamp(self._body()), "application/timestamp-reply")
        if path.startswith("/ocsp/") and path.split("/")[2] in CAS:
            return self._send(200, self.services.ocsp(self._body()), "application/ocsp-response")
        return self._send(404, b"not found", "text/plain")

    def do_GET(self):
        parts = urlsplit(self.path).path.strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "ocsp" and parts[1] in CAS:
            request = base64.b64decode("/".join(parts[2:]) + "==")
            return self._send(200, self.services.ocsp(request), "application/ocsp-response")
        if len(parts) == 2 and parts[0] == "crl" and parts[1].removesuffix(".crl") in CAS:
            return self._send(200, self.services.pki.crl(parts[1].removesuffix(".crl")), "application/pkix-crl")
        if len(parts) == 2 and parts[0] == "ca" and parts[1].removesuffix(".cer") in CAS:
            cert = self.services.pki.certificate(parts[1].removesuffix(".cer"))
            return self._send(200, cert.public_bytes(serialization.Encoding.DER), "application/pkix-cert")
        if parts == ["health"]:
            return self._send(200, b"ok", "text/plain")
        return self._send(404, b"not found", "text/plain")


def serve(directory: Path | str, host: str = "127.0.0.1", port: int | None = None) -> None:
    pki = load_pki(directory)
    port = port if port is not None else _named_port(pki)
    handler = type("Handler", (_Handler,), {"services": PKIServices(pki)})
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    serve_forever(server, NAME)


def _named_port(pki: TestPKI) -> int:
    """The port the certificates name as their OCSP and CRL address."""
    return urlsplit(pki.base_url).port or 80


@contextmanager
def start_pki_services(directory: Path | str, *, port: int | None = None):
    """Run the services process for the PKI in `directory` (on the port its certificates name unless
    `port` is given; 0: a free one); yields its base URL."""
    port = port if port is not None else _named_port(load_pki(directory))
    process, url = spawn("chinhquyenso.signing.pki_server", NAME, "--config", str(directory), port=port)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description="Dịch vụ của PKI thử nghiệm (TSA, OCSP, CRL) — chỉ dùng để thử nghiệm."
    )
    parser.add_argument("--config", required=True, help="thư mục PKI do `cqs signing demo-pki` tạo")
    parser.add_argument("--host", default="127.0.0.1", help="địa chỉ lắng nghe")
    parser.add_argument("--port", type=int, default=None, help="cổng (mặc định: cổng trong địa chỉ của PKI)")
    args = parser.parse_args(argv)
    serve(args.config, args.host, args.port)


if __name__ == "__main__":
    main()
