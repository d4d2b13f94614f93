"""The national e-document exchange (Trục liên thông văn bản quốc gia) over the bus, client side:
`send_document(...)` queues a document for other agencies (operation `send`, `POST /documents`:
metadata, the file in base64 with its SHA-256, the sender's signature) in the caller's transaction;
`document_status(id)` asks what became of it (synchronous); `report_status(...)` queues a status
report about a document (what became of one we received, or that we recalled one we sent). Documents other agencies send us arrive
at our local service `van-ban-den` (operations `receive` and `ack`, registry/edoc.json); the
documents app registers their handlers (core.registry.BUS_HANDLERS "van-ban-den.receive",
"van-ban-den.ack").

The signature: ES256 (ECDSA P-256, SHA-256) over the file's bytes, base64url DER, with the
certificate beside it. Until the documents app signs with the issuing agency's own key, the
installation's bus identity (exchange.bus.keys.identity()) signs."""

from __future__ import annotations

import base64
import hashlib

from django.utils import timezone

from chinhquyenso.exchange.bus import keys
from chinhquyenso.exchange.connectors import parts

CONNECTOR = "edoc"


def document_body(
    *, document: dict, content: bytes, filename: str, media_type: str = "application/pdf", signer=None
) -> dict:
    """The body of `send`: `signer` is a keys.Identity (default: the installation's bus identity)."""
    signer = signer or keys.identity()
    return {
        "document": document,
        "file": {
            "name": filename,
            "media_type": media_type,
            "content_base64": base64.b64encode(content).decode(),
            "sha256": hashlib.sha256(content).hexdigest(),
        },
        "signature": {
            "algorithm": "ES256",
            "certificate": signer.cert_pem,
            "value": signer.sign(content),
            "signed_at": timezone.now().isoformat(timespec="seconds"),
        },
    }


def send_document(
    *,
    body: dict,
    kind: str,
    correlation: str = "",
    order_key: str = "",
    agency_id: int | None = None,
    source=None,
    dedup_key: str | None = None,
):
    """Queue `body` (document_body(...)) for the national e-document exchange, inside the current
    transaction. Raises DomainError naming the field when it does not fit the schema."""
    parts.validate(CONNECTOR, "send", body, what=f"Văn bản gửi {parts.connector_name(CONNECTOR)}")
    return parts.queue(
        CONNECTOR,
        "send",
        body,
        kind=kind,
        order_key=order_key,
        correlation=correlation,
        agency_id=agency_id,
        source=source,
        dedup_key=dedup_key,
    )


def report_status(
    *,
    document_id: str,
    body: dict,
    kind: str,
    order_key: str = "",
    agency_id: int | None = None,
    source=None,
    dedup_key: str | None = None,
):
    """Queue a status report (operation `report`, `POST /documents/{document_id}/status`) inside the
    current transaction: what became of a document another agency sent us (received, assigned, in
    process, done, returned), or that we recalled or replaced one we sent."""
    parts.validate(CONNECTOR, "report", body, what=f"Trạng thái văn bản gửi {parts.connector_name(CONNECTOR)}")
    return parts.queue(
        CONNECTOR,
        "report",
        body,
        kind=kind,
        params={"document_id": document_id},
        order_key=order_key,
        agency_id=agency_id,
        source=source,
        dedup_key=dedup_key,
    )


def document_status(document_id: str, *, timeout: float | None = None) -> dict:
    """What the exchange says of a document we sent; BusError when it cannot say."""
    found = parts.read(
        CONNECTOR,
        "status",
        {"document_id": document_id},
        not_found=f"không tìm thấy văn bản {document_id}",
        timeout=timeout,
    )
    return found[0]
