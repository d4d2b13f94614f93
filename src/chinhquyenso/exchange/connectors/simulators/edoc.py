"""The national e-document exchange (Trục liên thông văn bản quốc gia) as a simulator process
(standard library + PyJWT + cryptography, no Django):

    python -m chinhquyenso.exchange.connectors.simulators.edoc --port 0 --bus-url URL \\
        --client-id VN/GOV/000.00.00.G22/vbdt --key FILE --cert FILE \\
        --deliver-to VN/GOV/<our member>/van-ban/van-ban-den [--delay 1] [--bus-cert FILE]

Documents from us:
- `POST /documents` `{"document": {number, issued_on, type, subject, issuer, signer?, recipients,
  urgency?, confidentiality?}, "file": {name, media_type, content_base64, sha256}, "signature":
  {algorithm, certificate, value, signed_at?}, "attachments"?}` → 202 `{"document_id", "status":
  "received"}`. Checked (422 naming the field): the file decodes and its SHA-256 is the one stated;
  an ES256 signature (base64url DER ECDSA over the file's bytes, made with the certificate's key)
  verifies. The same Idempotency-Key → the same answer, one document.
- `GET /documents/{document_id}` → `{"document_id", "status", "recipients": [{code, status, at}],
  "at"}`: `received`, then `delivered` after `--delay` seconds (every recipient).

Documents to us (test control, the way the national axis pushes them):
- `POST /_sim/deliver {"document"?, "file"?, "sender"?, "document_id"?, "envelope"?}` → the simulator makes a document (a small
  PDF, signed with its own key; defaults for every missing field) and POSTs it, signed as
  `--client-id`, to our local service `POST <bus>/r1/<--deliver-to>/documents` (operation
  `receive`). Answers `{"document_id", "status": <our HTTP status>, "answer": <our body>}`.
- `POST /_sim/ack {"document_id", "status": "read"|"accepted"|"refused"|"assigned"|"in_process"|"done",
  "reason"?, "recipients"?, "reporter"?, "envelope"?}` → posts that status of a document we sent to
  `<bus>/r1/<--deliver-to>/documents/{id}/status` (operation `ack`).
- `POST /documents/{document_id}/status` (operation `report`, from us): what became of a document we
  received, or that we recalled/replaced one we sent → 202; listed by `GET /_sim/reports`.
- `GET /_sim/documents` (what we sent: document, file name, size, signature_valid),
  `GET /_sim/deliveries`, `POST /_sim/fail`, `GET /_sim/stats`, `POST /_sim/reset`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import sys
import threading
import time
import uuid

from chinhquyenso.core import simulators as core_simulators
from chinhquyenso.exchange.connectors.simulators import Handler, State, parts, serve

PORT = 8799
STATUSES = ("received", "delivered", "read", "accepted", "refused", "assigned", "in_process", "done", "returned")
REPORTED = ("received", "assigned", "in_process", "done", "returned", "recalled", "replaced")
SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_file(key_pem: str, data: bytes) -> str:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    return parts.b64url(key.sign(data, ec.ECDSA(hashes.SHA256())))


def signature_valid(signature: dict, data: bytes) -> bool:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        public = x509.load_pem_x509_certificate(str(signature.get("certificate", "")).encode()).public_key()
        public.verify(b64url_decode(str(signature.get("value", ""))), data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True


class Exchange:
    def __init__(self, *, engine: parts.PartsEngine, deliver_to: str, delay: float):
        self.engine, self.deliver_to, self.delay = engine, deliver_to, delay
        self.lock = threading.Lock()
        self.documents: dict[str, dict] = {}
        self.deliveries: list[dict] = []
        self.reports: list[dict] = []

    def receive(self, body) -> tuple[int, dict]:
        if not isinstance(body, dict):
            return 400, {"error": "Nội dung phải là một đối tượng JSON."}
        problem = parts.require(
            body,
            "document.number",
            "document.issued_on",
            "document.type",
            "document.subject",
            "document.issuer.code",
            "document.recipients",
            "file.name",
            "file.content_base64",
            "file.sha256",
            "signature.algorithm",
            "signature.certificate",
            "signature.value",
        ) or parts.check_date(body, "document.issued_on")
        if problem:
            return 422, {"error": problem[1], "field": problem[0]}
        try:
            data = base64.b64decode(body["file"]["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            return 422, {"error": "Tệp văn bản không phải base64 hợp lệ.", "field": "file.content_base64"}
        if hashlib.sha256(data).hexdigest() != body["file"]["sha256"]:
            return 422, {"error": "Mã băm SHA-256 không khớp với tệp văn bản.", "field": "file.sha256"}
        valid = signature_valid(body["signature"], data) if body["signature"]["algorithm"] == "ES256" else None
        if valid is False:
            return 422, {"error": "Chữ ký số của văn bản không hợp lệ.", "field": "signature.value"}
        document_id = f"VBQG-{uuid.uuid4().hex[:16].upper()}"
        with self.lock:
            self.documents[document_id] = {
                "document_id": document_id,
                "document": body["document"],
                "file": {"name": body["file"]["name"], "size": len(data), "sha256": body["file"]["sha256"]},
                "signature_valid": valid,
                "status": "received",
                "at": parts.now().isoformat(),
            }
        threading.Thread(target=self._deliver_later, args=(document_id,), daemon=True).start()
        return 202, {"document_id": document_id, "status": "received"}

    def _deliver_later(self, document_id: str) -> None:
        time.sleep(self.delay)
        with self.lock:
            self.documents[document_id].update(status="delivered", at=parts.now().isoformat())

    def status(self, document_id: str) -> dict | None:
        with self.lock:
            doc = self.documents.get(document_id)
            if doc is None:
                return None
            return {
                "document_id": document_id,
                "status": doc["status"],
                "recipients": [
                    {"code": r.get("code", ""), "status": doc["status"], "at": doc["at"]}
                    for r in doc["document"].get("recipients", [])
                ],
                "at": doc["at"],
            }

    def report(self, document_id: str, body) -> tuple[int, dict]:
        """A status report from us: what became of a document we received, or a recall."""
        if not isinstance(body, dict) or body.get("status") not in REPORTED:
            return 422, {"error": "Trạng thái không hợp lệ.", "field": "status"}
        with self.lock:
            self.reports.append({**body, "document_id": document_id})
        return 202, {"document_id": document_id, "status": "received"}

    # to us

    def deliver(self, request: dict) -> tuple[int, dict]:
        engine = self.engine
        content = SAMPLE_PDF
        if request.get("file", {}).get("content_base64"):
            content = base64.b64decode(request["file"]["content_base64"])
        document_id = f"VBQG-{uuid.uuid4().hex[:16].upper()}"
        sender = request.get("sender") or {"code": "000.00.00.H29", "name": "Ủy ban nhân dân tỉnh Đồng Tháp"}
        document = {
            "number": "125/UBND-VP",
            "issued_on": parts.now().date().isoformat(),
            "type": "Công văn",
            "subject": "V/v phối hợp giải quyết thủ tục hành chính liên thông",
            "issuer": sender,
            "signer": {"full_name": "Nguyễn Văn Phúc", "position": "Chánh Văn phòng"},
            "recipients": [{"code": "000.00.00.H01", "name": "Ủy ban nhân dân tỉnh"}],
            "urgency": "thuong",
            **(request.get("document") or {}),
        }
        body = {
            "document_id": document_id,
            "document": document,
            "file": {
                "name": (request.get("file") or {}).get("name", "cong-van-125.pdf"),
                "media_type": "application/pdf",
                "content_base64": base64.b64encode(content).decode(),
                "sha256": hashlib.sha256(content).hexdigest(),
            },
            "signature": {
                "algorithm": "ES256",
                "certificate": engine.cert_pem,
                "value": sign_file(engine.key_pem, content),
                "signed_at": parts.now().isoformat(),
            },
        }
        if request.get("attachments"):  # [{"name", "content_base64"}]: carried beside the file, as the exchange does
            body["attachments"] = [
                {
                    "name": item["name"],
                    "media_type": item.get("media_type", "application/pdf"),
                    "content_base64": item["content_base64"],
                    "sha256": item.get("sha256")
                    or hashlib.sha256(base64.b64decode(item["content_base64"])).hexdigest(),
                }
                for item in request["attachments"]
            ]
        if request.get("document_id"):
            body["document_id"] = str(request["document_id"])
        if request.get("envelope"):
            body["envelope"] = str(request["envelope"])
        status, answer = parts.bus_post(
            engine.bus_url,
            self.deliver_to,
            "/documents",
            body,
            client=engine.client_id,
            key_pem=engine.key_pem,
            cert_pem=engine.cert_pem,
            # A document id the test chose may be delivered again: each delivery is a new request.
            key=f"deliver:{body['document_id']}" + (f":{uuid.uuid4().hex[:8]}" if request.get("document_id") else ""),
        )
        with self.lock:
            self.deliveries.append({"document_id": body["document_id"], "status": status})
        return 200, {"document_id": body["document_id"], "status": status, "answer": _json(answer)}

    def ack(self, request: dict) -> tuple[int, dict]:
        document_id = str(request.get("document_id", ""))
        status = request.get("status", "read")
        if status not in STATUSES:
            return 400, {"error": f"status must be one of {STATUSES}"}
        body = {"document_id": document_id, "status": status, "at": parts.now().isoformat()}
        if request.get("reason"):
            body["reason"] = str(request["reason"])
        for name in ("recipients", "reporter", "envelope"):
            if request.get(name):
                body[name] = request[name]
        engine = self.engine
        code, answer = parts.bus_post(
            engine.bus_url,
            self.deliver_to,
            f"/documents/{document_id}/status",
            body,
            client=engine.client_id,
            key_pem=engine.key_pem,
            cert_pem=engine.cert_pem,
            key=f"ack:{document_id}:{status}",
        )
        return 200, {"status": code, "answer": _json(answer)}


def _json(text: str):
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


class EdocHandler(parts.PartsHandler):
    exchange: Exchange

    def route_parts(self, method, parts_, body):
        if method == "POST" and parts_ == ["documents"]:
            return self.exchange.receive(body)
        if method == "POST" and len(parts_) == 3 and parts_[0] == "documents" and parts_[2] == "status":
            return self.exchange.report(parts_[1], body)
        if method == "GET" and len(parts_) == 2 and parts_[0] == "documents":
            found = self.exchange.status(parts_[1])
            return (200, found) if found else (404, {"error": "Không tìm thấy văn bản."})
        return 404, {"error": "no such route"}

    def simulation(self, method, parts_, body):
        body = body if isinstance(body, dict) else {}
        if method == "POST" and parts_ == ["deliver"]:
            return self.exchange.deliver(body)
        if method == "POST" and parts_ == ["ack"]:
            return self.exchange.ack(body)
        if method == "GET" and parts_ == ["documents"]:
            with self.exchange.lock:
                return 200, list(self.exchange.documents.values())
        if method == "GET" and parts_ == ["reports"]:
            with self.exchange.lock:
                return 200, list(self.exchange.reports)
        if method == "GET" and parts_ == ["deliveries"]:
            with self.exchange.lock:
                return 200, list(self.exchange.deliveries)
        if method == "POST" and parts_ == ["reset"]:
            with self.exchange.lock:
                self.exchange.documents.clear()
                self.exchange.deliveries.clear()
                self.exchange.reports.clear()
        return Handler.simulation(self, method, parts_, body)


def main(argv=None) -> None:
    parser = parts.arguments("National e-document exchange simulator", PORT)
    parser.add_argument("--deliver-to", required=True, help="our local service receiving documents (van-ban-den)")
    args = parser.parse_args(argv)
    engine = parts.PartsEngine(
        procedures={},
        bus_url=args.bus_url,
        client_id=args.client_id,
        key_pem=parts.read(args.key),
        cert_pem=parts.read(args.cert),
        bus_cert_pem=parts.read(args.bus_cert),
    )
    exchange = Exchange(engine=engine, deliver_to=args.deliver_to, delay=args.delay)
    server = serve(EdocHandler, args.host, args.port, state=State(), engine=engine, exchange=exchange)
    core_simulators.serve_forever(server, "EDOC_SIMULATOR", f"http://{args.host}:{server.server_address[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
