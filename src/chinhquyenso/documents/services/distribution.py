"""Distribution of an issued document and the statuses that come back.

- Recipients inside the province (agencies of this installation) get an incoming document in
  their incoming register at once, in the issuing transaction, with an arrival number from that
  register and the document's attachments; their clerks get an in-app notice.
- Recipients outside go through the national e-document exchange over the data bus
  (exchange.connectors.edoc.send_document, queued in the outbox in the same transaction) with the
  edXML envelope (documents.edxml) beside the signed PDF and the attachments (the message's
  `attachments`; the envelope's body lists every file with its SHA-256).
- `report_status` tells the sender what became of a document we received (received, assigned,
  in process, done, returned): the sender's Recipient row when it was sent inside the province,
  a status message over the bus otherwise. It runs inside the caller's transaction.

Lock order (docs/architecture.md): the sender's document is already locked; internal recipients
are served in agency id order, so two issues to overlapping agencies take the registers'
counters in the same order."""

from __future__ import annotations

import base64
import datetime as dt
import re

from django.db import transaction

from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.workflow import now
from chinhquyenso.documents import edxml, search
from chinhquyenso.documents.models import Direction, Document, DocumentVersion, Recipient
from chinhquyenso.documents.services import attachments as attached_files
from chinhquyenso.documents.services import numbering
from chinhquyenso.documents.workflow import DOCUMENTS
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.connectors import edoc

KIND_SEND = "documents.send"
KIND_STATUS = "documents.status_report"
KIND_ARRIVED = "documents.incoming_arrived"
ELECTRONIC_CODE = re.compile(r"^[0-9A-Z.]{5,20}$")
# Our urgency → the exchange body's.
BUS_URGENCY = {"normal": "thuong", "urgent": "khan", "very_urgent": "thuong-khan", "flash": "hoa-toc"}
URGENCY_OF_BUS = {value: key for key, value in BUS_URGENCY.items()}
# How far a recipient got: a later report never moves it back.
PROGRESS = {
    Recipient.Status.PENDING: 0,
    Recipient.Status.SENT: 1,
    Recipient.Status.RECEIVED: 2,
    Recipient.Status.ASSIGNED: 3,
    Recipient.Status.IN_PROCESS: 4,
    Recipient.Status.DONE: 5,
    Recipient.Status.RETURNED: 6,
    Recipient.Status.FAILED: 6,
    Recipient.Status.RECALLED: 7,
}
REPORTABLE = ("received", "assigned", "in_process", "done", "returned")
TIMESTAMP_OF = {
    "sent": "sent_at",
    "received": "received_at",
    "assigned": "assigned_at",
    "in_process": "in_process_at",
    "done": "done_at",
    "returned": "returned_at",
    "failed": "failed_at",
}


def index(document: Document) -> None:
    """Keep the search text current, in the caller's transaction."""
    search.index_document(document)


def check_can_send(document: Document) -> None:
    """Before numbering: a document with recipients outside the province needs its agency's
    electronic code (QCVN 102:2016), the exchange's sender id."""
    if document.recipients.filter(channel=Recipient.Channel.BUS).exists() and not ELECTRONIC_CODE.match(
        document.agency.electronic_code or ""
    ):
        raise DomainError(
            "Cơ quan chưa có mã định danh điện tử (QCVN 102:2016) nên chưa gửi được văn bản qua trục liên thông; "
            "hãy nhờ quản trị cập nhật mã định danh của cơ quan.",
            "recipients",
        )


# ---------------------------------------------------------------- distribution on issue


def distribute(document: Document, *, actor, at: dt.datetime) -> None:
    """Every recipient of the just-issued `document` (inside its issuing transaction)."""
    recipients = list(document.recipients.select_related("agency").order_by("agency_id", "pk"))
    bus = []
    for recipient in recipients:
        if recipient.channel == Recipient.Channel.INTERNAL:
            _deliver_internal(document, recipient, actor=actor, at=at)
        elif recipient.channel == Recipient.Channel.BUS:
            bus.append(recipient)
        else:
            _set_status(recipient, Recipient.Status.SENT, at)
    if bus:
        send_to_bus(document, bus, at=at)


def _deliver_internal(document: Document, recipient: Recipient, *, actor, at) -> Document:
    incoming = deliver_incoming(
        agency=recipient.agency,
        source=document,
        sender_agency=document.agency,
        sender_code=document.agency.electronic_code,
        sender_name=document.agency.name,
        file=document.current_file,
        attachments=attached_files.of(document),
        actor=actor,
        at=at,
    )
    recipient.incoming_document = incoming
    recipient.sent_at = at
    _set_status(recipient, Recipient.Status.RECEIVED, at, extra=["incoming_document", "sent_at"])
    DOCUMENTS.record_step(
        document,
        actor=actor,
        action="deliver",
        at=at,
        from_status=document.status,
        to_status=document.status,
        recipient=recipient,
        text=recipient.name,
    )
    return incoming


def deliver_incoming(
    *,
    agency,
    file,
    actor,
    at: dt.datetime,
    source: Document | None = None,
    sender_agency=None,
    sender_code: str = "",
    sender_name: str = "",
    external_id: str = "",
    bus_message_id: str = "",
    attachments=(),
    **described,
) -> Document:
    """Register a document that arrived electronically in `agency`'s incoming register (status
    "registered", arrival number and date) with its `attachments` ((name, StoredFile) pairs). `source`: the sender's outgoing document (inside the
    province), whose description is copied; otherwise `described` gives document_type, number,
    symbol, issued_on, excerpt, signer_name, signer_title, urgency, is_directive, deadline,
    signed, signature_count. Runs inside the caller's transaction."""
    if source is not None:
        described = {
            "document_type": source.document_type,
            "number": source.number,
            "symbol": source.symbol,
            "issued_on": source.issued_on,
            "excerpt": source.excerpt,
            "place": source.place,
            "signer_name": source.signer_name,
            "signer_title": source.signer_title,
            "urgency": source.urgency,
            "is_directive": source.is_directive,
            "deadline": source.deadline,
            "signed": source.signed,
            "signature_count": source.signature_count,
            **described,
        }
    arrival_date = numbering.local_today(at)
    register = numbering.register_for(
        agency, Direction.INCOMING, described.get("document_type"), year=arrival_date.year
    )
    incoming = Document.objects.create(
        direction=Direction.INCOMING,
        agency=agency,
        register=register,
        status=Document.Status.REGISTERED,
        arrival_number=numbering.take_number(register),
        arrival_date=arrival_date,
        current_file=file,
        electronic=True,
        sender_agency=sender_agency,
        sender_code=sender_code,
        sender_name=sender_name,
        source_document=source,
        external_id=external_id,
        bus_message_id=bus_message_id,
        **described,
    )
    DocumentVersion.objects.create(document=incoming, number=1, kind=DocumentVersion.Kind.RECEIVED, file=file)
    attached_files.attach(incoming, attachments)
    DOCUMENTS.created(incoming, actor=actor, action="receive", at=at, text=sender_name)
    index(incoming)
    _notify_clerks(incoming, at)
    return incoming


def _notify_clerks(incoming: Document, at) -> None:
    clerks = Membership.objects.filter(agency_id=incoming.agency_id, role=Role.CLERK).select_related("user")
    for membership in clerks:
        outbox.enqueue(
            channel="in_app",
            user=membership.user,
            kind=KIND_ARRIVED,
            subject=f"Văn bản đến số {incoming.arrival_number}: {incoming.symbol}",
            body=f"Văn bản {incoming.symbol} của {incoming.sender_name} đã vào sổ văn bản đến "
            f"với số đến {incoming.arrival_number}.",
            agency_id=incoming.agency_id,
            source=incoming,
            dedup_key=f"documents.arrived:{incoming.pk}:{membership.user_id}",
            at=at,
        )


def _pdf_bytes(stored) -> bytes:
    with stored.file.open("rb") as handle:
        return handle.read()


def bus_metadata(document: Document, recipients) -> dict:
    """The exchange body's `document` part (schemas/edoc/send.request.json)."""
    metadata = {
        "number": document.symbol,
        "issued_on": document.issued_on.isoformat(),
        "type": document.document_type.name,
        "subject": document.excerpt[:2000],
        "issuer": {"code": document.agency.electronic_code, "name": document.agency.name[:300]},
        "recipients": [{"code": r.electronic_code, "name": r.name[:300]} for r in recipients],
        "urgency": BUS_URGENCY[document.urgency],
        "confidentiality": "thuong",
    }
    if document.signer_name:
        metadata["signer"] = {"full_name": document.signer_name, "position": document.signer_title}
    if document.replaces_id and document.replaces.symbol:
        metadata["reply_to"] = edxml.document_id(document.replaces)
    return metadata


def bus_file_name(name: str) -> str:
    """A file name the exchange takes: no path separators (schemas/edoc/send.request.json)."""
    return re.sub(r"[/\\]", "-", name).strip()[:255] or "tep-dinh-kem.pdf"


def send_to_bus(document: Document, recipients: list[Recipient], *, at) -> None:
    """Queue the signed file and its attachments with the edXML envelope for the national
    exchange (outbox): the files' bytes travel in the message, the envelope lists each of them."""
    content = _pdf_bytes(document.current_file)
    filename = f"{document.symbol.replace('/', '-')}.pdf"
    extra = [
        {
            "name": bus_file_name(name),
            "media_type": stored.content_type,
            "content_base64": base64.b64encode(_pdf_bytes(stored)).decode(),
            "sha256": stored.sha256,
        }
        for name, stored in attached_files.of(document)
    ]
    envelope = edxml.build_envelope(
        document,
        recipients,
        at=at,
        attachments=[
            edxml.AttachmentRef(filename, "application/pdf", document.current_file.sha256, "Văn bản chính"),
            *(edxml.AttachmentRef(f["name"], f["media_type"], f["sha256"], "Tệp đính kèm") for f in extra),
        ],
    )
    body = edoc.document_body(document=bus_metadata(document, recipients), content=content, filename=filename)
    if extra:
        body["attachments"] = extra
    body["envelope"] = base64.b64encode(envelope).decode()
    edoc.send_document(
        body=body,
        kind=KIND_SEND,
        correlation=document.symbol,
        agency_id=document.agency_id,
        source=document,
        dedup_key=f"documents.send:{document.pk}",
    )


# ---------------------------------------------------------------- statuses


def _set_status(recipient: Recipient, status: str, at, *, extra=(), note: str = "") -> bool:
    """Move the recipient on (never back, except to say it was recalled); False when it was not."""
    if PROGRESS[status] < PROGRESS[recipient.status] or status == recipient.status:
        return False
    recipient.status = status
    recipient.status_at = at
    fields = ["status", "status_at", *extra]
    if status in TIMESTAMP_OF:
        setattr(recipient, TIMESTAMP_OF[status], at)
        fields.append(TIMESTAMP_OF[status])
    if note:
        recipient.note = note[:500]
        fields.append("note")
    if recipient.pk:
        recipient.save(update_fields=sorted(set(fields)))
    return True


def apply_recipient_status(recipient: Recipient, status: str, *, at, note: str = "", actor=None) -> bool:
    """A recipient's news (from its incoming copy here, or over the bus): the row moves on and the
    sender's timeline says so."""
    if not _set_status(recipient, status, at, note=note):
        return False
    DOCUMENTS.record_step(
        recipient.document,
        actor=actor,
        action="recipient_status",
        at=at,
        from_status=recipient.document.status,
        to_status=recipient.document.status,
        recipient=recipient,
        text=f"{recipient.name}: {recipient.get_status_display()}",
    )
    return True


def report_status(document: Document, status: str, actor, *, note: str = "", at=None) -> None:
    """Tell the sender of the incoming `document` what became of it (inside the caller's
    transaction): the sender's Recipient row for a document sent inside the province, a status
    message (edXML Status) over the national exchange for one that came over the bus; nothing for
    a paper document registered by hand."""
    if status not in REPORTABLE:
        raise ValueError(f"unknown reportable status {status!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("report_status runs inside the transaction of the change it reports")
    at = now(at)
    if document.direction != Direction.INCOMING:
        return
    if document.source_document_id:
        recipient = Recipient.objects.select_for_update().filter(incoming_document=document).first()
        if recipient is not None:
            apply_recipient_status(recipient, status, at=at, note=note, actor=actor)
        return
    if document.external_id and document.sender_code:
        _report_over_bus(document, status, at=at, note=note)


def _report_over_bus(document: Document, status: str, *, at, note: str = "") -> None:
    agency = document.agency
    message = edxml.StatusMessage(
        document_id=document.external_id,
        sender=edxml.organ_of(agency),
        response_for=edxml.ResponseFor(
            organ_id=document.sender_code,
            code=document.symbol,
            promulgation_date=document.issued_on,
            document_id=document.external_id,
        ),
        status=status,
        timestamp=at,
        description=note[:2000] or edxml.STATUS_DESCRIPTIONS[status],
    )
    body = {
        "document_id": document.external_id,
        "status": status,
        "at": at.isoformat(timespec="seconds"),
        "reporter": {"code": agency.electronic_code, "name": agency.name[:300]},
        "envelope": base64.b64encode(edxml.build_status(message)).decode(),
    }
    if note:
        body["reason"] = note[:2000]
    edoc.report_status(
        document_id=document.external_id,
        body=body,
        kind=KIND_STATUS,
        agency_id=document.agency_id,
        source=document,
        order_key=f"documents.status:{document.pk}",
        dedup_key=f"documents.status:{document.pk}:{status}",
    )


def tell_recipients(document: Document, status: str, *, actor, at, note: str = "") -> None:
    """The sender recalled or replaced `document`: internal copies are marked (a timeline row, and
    the recall date and reason on a recalled one), bus recipients get a status message."""
    bus_ids = set()
    for recipient in document.recipients.select_related("incoming_document").order_by("pk"):
        if recipient.channel == Recipient.Channel.INTERNAL and recipient.incoming_document_id:
            copy = Document.objects.select_for_update().get(pk=recipient.incoming_document_id)
            if status == "recalled":
                copy.recalled_at, copy.recall_reason = at, note[:500]
                copy.save(update_fields=["recalled_at", "recall_reason", "updated_at"])
            DOCUMENTS.record_step(
                copy,
                actor=actor,
                action="recalled_by_sender" if status == "recalled" else "replaced_by_sender",
                at=at,
                from_status=copy.status,
                to_status=copy.status,
                text=note,
            )
        elif recipient.channel == Recipient.Channel.BUS and recipient.exchange_id:
            bus_ids.add(recipient.exchange_id)
        if status == "recalled":
            _set_status(recipient, Recipient.Status.RECALLED, at)
    for exchange_id in sorted(bus_ids):
        _tell_bus(document, exchange_id, status, at=at, note=note)


def _tell_bus(document: Document, exchange_id: str, status: str, *, at, note: str) -> None:
    agency = document.agency
    message = edxml.StatusMessage(
        document_id=exchange_id,
        sender=edxml.organ_of(agency),
        response_for=edxml.ResponseFor(
            organ_id=agency.electronic_code,
            code=document.symbol,
            promulgation_date=document.issued_on,
            document_id=edxml.document_id(document),
        ),
        status=status,
        timestamp=at,
        description=note[:2000] or edxml.STATUS_DESCRIPTIONS[status],
    )
    body = {
        "document_id": exchange_id,
        "status": status,
        "at": at.isoformat(timespec="seconds"),
        "reporter": {"code": agency.electronic_code, "name": agency.name[:300]},
        "envelope": base64.b64encode(edxml.build_status(message)).decode(),
    }
    if note:
        body["reason"] = note[:2000]
    edoc.report_status(
        document_id=exchange_id,
        body=body,
        kind=KIND_STATUS,
        agency_id=document.agency_id,
        source=document,
        order_key=f"documents.status:{document.pk}",
        dedup_key=f"documents.status:{document.pk}:{exchange_id}:{status}",
    )
