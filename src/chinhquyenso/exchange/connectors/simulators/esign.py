"""A stand-in for the national remote-signing gateway (eSign, Trung tâm Chứng thực điện tử quốc gia)
and the signing provider behind it, as its own process. It really signs: each subscriber's key and
certificate (issued by the test CA: `chinhquyenso.signing.pki`) are files named in `--subscribers`.

    python -m chinhquyenso.exchange.connectors.simulators.esign --port 0 --subscribers FILE [--delay 0.2]
        [--bus-url URL --client-id ID --key FILE --cert FILE]   (accepted like the other simulators)

--subscribers: a JSON object {"<user_id>": {"key": "<PEM path>", "cert": "<PEM path>", "chain": ["<PEM path>", …]}},
read again when the file changes (a test adds a subscriber while the process runs).

- `POST /certificates {"user_id"}` → 200 {"certificate": base64 DER, "chain": [base64 DER …]}, 404 unknown;
- `POST /signatures {"user_id", "digest": base64, "digest_algorithm", "document_name"}` → after `--delay`
  seconds (the subscriber confirming on their phone) 200 {"signature": base64 (RSA PKCS#1 v1.5 over the
  digest), "certificate", "chain"}; a user id ending in 9 declines: 403; unknown: 404; a digest of the
  wrong length: 400.

Tests: `POST /_sim/fail {"count", "status", "delay"}` (a delay past the bus's timeout: a timeout),
`GET /_sim/stats`, `POST /_sim/reset`. Nothing about a request is printed or logged. Standard library
and `cryptography` only (no Django)."""

from __future__ import annotations

import argparse
import base64
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, utils

from chinhquyenso.core import simulators as core_simulators
from chinhquyenso.exchange.connectors import simulators

DIGESTS = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


def _der_b64(pem_path: str) -> str:
    with open(pem_path, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


class EsignHandler(simulators.Handler):
    subscribers: simulators.JsonFile
    delay: float = 0.0

    def subscriber(self, body) -> dict | None:
        user_id = body.get("user_id") if isinstance(body, dict) else None
        table = self.subscribers.value()
        entry = table.get(user_id) if isinstance(table, dict) and isinstance(user_id, str) else None
        return entry if isinstance(entry, dict) else None

    def certificates(self, entry: dict) -> dict:
        return {"certificate": _der_b64(entry["cert"]), "chain": [_der_b64(p) for p in entry.get("chain", [])]}

    def route(self, method, parts, body):
        if method != "POST":
            return 405, {"error": "method not allowed"}
        if not isinstance(body, dict) or not isinstance(body.get("user_id"), str):
            return 400, {"error": "user_id is required"}
        entry = self.subscriber(body)
        if parts == ["certificates"]:
            return (200, self.certificates(entry)) if entry else (404, {"error": "unknown subscriber"})
        if parts != ["signatures"]:
            return 404, {"error": "no such route"}
        if entry is None:
            return 404, {"error": "unknown subscriber"}
        algorithm = DIGESTS.get(body.get("digest_algorithm"))
        try:
            digest = base64.b64decode(body.get("digest") or "", validate=True)
        except ValueError:
            digest = b""
        if algorithm is None or len(digest) != algorithm.digest_size:
            return 400, {"error": "digest does not match digest_algorithm"}
        time.sleep(self.delay)  # the subscriber reads the request on their phone and confirms
        if body["user_id"].endswith("9"):
            return 403, {"error": "refused", "message": "Thuê bao đã từ chối yêu cầu ký."}
        with open(entry["key"], "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        signature = key.sign(digest, padding.PKCS1v15(), utils.Prehashed(algorithm))
        return 200, {"signature": base64.b64encode(signature).decode(), **self.certificates(entry)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="eSign remote-signing gateway simulator (docs/signatures.md)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--subscribers", default="", help="JSON file: user id → key, cert and chain PEM paths")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before a signature is confirmed")
    # Passed by exchange.connectors.testing.launch to every simulator; this one never calls the bus back.
    for option in ("--bus-url", "--client-id", "--key", "--cert", "--bus-cert"):
        parser.add_argument(option, default="")
    args = parser.parse_args(argv)
    server = simulators.serve(
        EsignHandler,
        args.host,
        args.port,
        state=simulators.State(),
        subscribers=simulators.JsonFile(args.subscribers, {}),
        delay=args.delay,
    )
    core_simulators.serve_forever(server, "ESIGN_SIMULATOR")


if __name__ == "__main__":
    main(sys.argv[1:])
