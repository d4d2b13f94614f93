"""The documents app on the data bus (registered from DocumentsConfig.ready()):

- `BUS_HANDLERS["van-ban-den.receive"]`: a document another system sends through the national
  e-document exchange — checked (file hash, the sender's signature, not secret, addressed to one
  of our agencies, its edXML envelope when there is one) and registered as incoming in each
  addressed agency's incoming register with its attachments (the message's `attachments`, and
  those the envelope carries inside it); idempotent on the sender's document id;
- `BUS_HANDLERS["van-ban-den.ack"]`: what became of a document we sent (the exchange's delivery
  statuses, and the recipients' processing statuses) — the Recipient rows move on;
- `BUS_REPLIES["documents.send"]`: the exchange accepted a document we sent; its document id is
  kept on the bus recipients, which become "sent";
- the job `documents_failed_sends`: bus recipients whose send became a dead letter become "failed".

The bus has already checked the caller's signed token, its access right and the body's schema;
the gateway runs each handler once per Idempotency-Key, in a transaction with its receipt."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.core.uploads import store_generated
from chinhquyenso.documents import edxml
from chinhquyenso.documents.models import Direction, Document, DocumentType, Recipient
from chinhquyenso.documents.services import distribution
from chinhquyenso.exchange.bus import keys
from chinhquyenso.org.models import Agency

SECRET_BUS_VALUES = ("mat", "toi-mat", "tuyet-mat")
# The exchange's statuses → our Recipient statuses.
RECIPIENT_STATUS_OF = {
    "received": Recipient.Status.SENT,
    "delivered": Recipient.Status.RECEIVED,
    "read": Recipient.Status.RECEIVED,
    "accepted": Recipient.Status.RECEIVED,
    "refused": Recipient.Status.RETURNED,
    "returned": Recipient.Status.RETURNED,
    "assigned": Recipient.Status.ASSIGNED,
    "in_process": Recipient.Status.IN_PROCESS,
    "done": Recipient.Status.DONE,
}
MEDIA_EXTENSIONS = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/xml": "xml",
}


def _refuse(status: int, detail: str, field: str, code: str = "invalid_body") -> tuple[int, dict]:
    return status, {"detail": detail, "field": field, "code": code}


def _document_type(name: str) -> DocumentType:
    """The type by its name ("Công văn", "Quyết định"), diacritics and case as written; else công văn."""
    found = DocumentType.objects.filter(name__iexact=nfc(name)).first()
    return found or DocumentType.objects.get(code="cong-van")


def _number_of(symbol: str) -> int | None:
    head = symbol.split("/", 1)[0].strip()
    return int(head) if head.isdigit() and len(head) <= 9 else None


def _attachments(payload, envelope) -> tuple[list[tuple[str, bytes, str]], tuple[int, dict] | None]:
    """(name, bytes, media type) of each attachment: the message's, then those the edXML envelope
    carries inside it (ContentTransferEncoded) that the message does not; or a refusal."""
    found, seen = [], {payload["file"]["sha256"]}
    for index, item in enumerate(payload.get("attachments") or ()):
        where = f"attachments.{index}"
        try:
            content = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            return [], _refuse(422, f"Tệp đính kèm “{item['name']}” không phải base64 hợp lệ.", where)
        if hashlib.sha256(content).hexdigest() != item["sha256"]:
            return [], _refuse(422, f"Mã băm SHA-256 không khớp với tệp đính kèm “{item['name']}”.", where)
        if item["sha256"] not in seen:
            seen.add(item["sha256"])
            found.append((nfc(item["name"])[:255], content, item["media_type"]))
    for ref in envelope.attachments if envelope is not None else ():
        if ref.content is None:
            continue
        digest = hashlib.sha256(ref.content).hexdigest()
        if digest in seen:
            continue
        if ref.content_type not in MEDIA_EXTENSIONS:
            return [], _refuse(
                422,
                f"Tệp đính kèm “{ref.name[:100]}” có định dạng {ref.content_type[:60]}, hệ thống không nhận.",
                "envelope.Attachment.ContentType",
            )
        seen.add(digest)
        found.append((nfc(ref.name)[:255], ref.content, ref.content_type))
    return found, None


def receive_handler(request, params, payload):
    """core.registry.BUS_HANDLERS["van-ban-den.receive"]."""
    document = payload["document"]
    document_id = payload["document_id"]
    if document.get("confidentiality") in SECRET_BUS_VALUES:
        return _refuse(
            422,
            "Văn bản mật không được gửi, nhận qua hệ thống này; hãy chuyển theo quy định về bảo vệ bí mật nhà nước.",
            "document.confidentiality",
            "secret_refused",
        )
    try:
        content = base64.b64decode(payload["file"]["content_base64"], validate=True)
    except (binascii.Error, ValueError):
        return _refuse(422, "Tệp văn bản không phải base64 hợp lệ.", "file.content_base64")
    if hashlib.sha256(content).hexdigest() != payload["file"]["sha256"]:
        return _refuse(422, "Mã băm SHA-256 không khớp với tệp văn bản.", "file.sha256")
    signature = payload["signature"]
    if signature["algorithm"] == "ES256" and not keys.verify(content, signature["value"], signature["certificate"]):
        return _refuse(422, "Chữ ký số của bên gửi trên tệp văn bản không hợp lệ.", "signature.value")
    envelope = None
    if payload.get("envelope"):
        try:
            envelope = edxml.parse_envelope(base64.b64decode(payload["envelope"], validate=True))
        except (binascii.Error, ValueError):
            return _refuse(422, "Gói tin edXML không phải base64 hợp lệ.", "envelope")
        except DomainError as error:
            where = "envelope" if error.field in (None, "envelope") else f"envelope.{error.field}"
            return _refuse(422, error.message, where)
        if envelope.symbol != document["number"] or envelope.sender.organ_id != document["issuer"]["code"]:
            return _refuse(422, "Gói tin edXML không khớp số, ký hiệu hoặc cơ quan gửi của văn bản.", "envelope")
    extra, refused = _attachments(payload, envelope)
    if refused is not None:
        return refused
    codes = [recipient["code"] for recipient in document["recipients"]]
    agencies = list(Agency.objects.current().filter(electronic_code__in=codes).order_by("pk"))
    if not agencies:
        return _refuse(
            404, "Không có cơ quan nhận nào của tỉnh trong danh sách nơi nhận.", "document.recipients", "not_found"
        )
    issued_on = dt.date.fromisoformat(document["issued_on"])
    sender_code = document["issuer"]["code"]
    described = {
        "document_type": _document_type(document["type"]),
        "number": _number_of(document["number"]),
        "symbol": nfc(document["number"])[:100],
        "issued_on": issued_on,
        "excerpt": nfc(document["subject"])[:1000],
        "signer_name": nfc((document.get("signer") or {}).get("full_name", ""))[:150],
        "signer_title": nfc((document.get("signer") or {}).get("position", ""))[:150],
        "urgency": distribution.URGENCY_OF_BUS.get(document.get("urgency", "thuong"), "normal"),
        "signed": True,
        "signature_count": 1,
    }
    if envelope is not None:
        described.update(
            is_directive=envelope.steering_type > 0, deadline=envelope.due_date, place=envelope.place[:100]
        )
    media_type = payload["file"]["media_type"]
    at = timezone.now()
    numbers = []
    with transaction.atomic():
        stored = store_generated(
            content, content_type=media_type, extension=MEDIA_EXTENSIONS[media_type], name=payload["file"]["name"]
        )
        attached = [
            (name, store_generated(data, content_type=kind, extension=MEDIA_EXTENSIONS[kind], name=name))
            for name, data, kind in extra
        ]
        for agency in agencies:
            existing = Document.objects.filter(
                agency=agency, direction=Direction.INCOMING, sender_code=sender_code, external_id=document_id
            ).first()
            if existing is None:
                existing = distribution.deliver_incoming(
                    agency=agency,
                    file=stored,
                    actor=None,
                    at=at,
                    sender_code=sender_code,
                    sender_name=nfc(document["issuer"]["name"])[:255],
                    external_id=document_id,
                    bus_message_id=getattr(request, "message_id", "")[:100],
                    attachments=attached,
                    **described,
                )
                distribution.report_status(existing, "received", None, at=at)
            numbers.append(f"{agency.electronic_code}:{existing.arrival_number}")
    return 200, {"document_id": document_id, "status": "received", "registered_number": ", ".join(numbers)}


def ack_handler(request, params, payload):
    """core.registry.BUS_HANDLERS["van-ban-den.ack"]: news of a document we sent."""
    exchange_id = (params or {}).get("document_id", "")
    if payload.get("document_id") not in (None, exchange_id):
        return _refuse(422, "Mã văn bản trong nội dung khác mã trên đường dẫn.", "document_id")
    recipients = list(
        Recipient.objects.select_related("document")
        .filter(channel=Recipient.Channel.BUS, exchange_id=exchange_id)
        .order_by("pk")
    )
    if not exchange_id or not recipients:
        return _refuse(404, "Không có văn bản đã gửi với mã này.", "document_id", "not_found")
    at = _at(payload.get("at"))
    reason = nfc(payload.get("reason", ""))[:500]
    per_code = {item["code"]: item for item in payload.get("recipients") or []}
    if payload.get("reporter", {}).get("code") and not per_code:
        per_code = {payload["reporter"]["code"]: {"status": payload["status"], "reason": reason}}
    changed = 0
    with transaction.atomic():
        locked = {r.pk: r for r in Recipient.objects.select_for_update().filter(pk__in=[r.pk for r in recipients])}
        for recipient in recipients:
            recipient = locked[recipient.pk]
            news = per_code.get(recipient.electronic_code) if per_code else {"status": payload["status"]}
            if news is None:
                continue
            status = RECIPIENT_STATUS_OF[news["status"]]
            note = nfc(news.get("reason", "")) or reason
            changed += distribution.apply_recipient_status(recipient, status, at=at, note=note)
    return 200, {"document_id": exchange_id, "accepted": changed > 0}


def _at(value) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else timezone.make_aware(parsed)
        except ValueError:
            pass
    return timezone.now()


def record_sent(message, response) -> None:
    """core.registry.BUS_REPLIES["documents.send"]: the exchange took our document (202
    {"document_id", "status": "received"}); the bus recipients keep its id and become "sent"."""
    if not message.source_id.isdigit():
        return
    answer = response.json() if response.body else {}
    exchange_id = answer.get("document_id", "") if isinstance(answer, dict) else ""
    at = timezone.now()
    with transaction.atomic():
        for recipient in Recipient.objects.select_for_update().filter(
            document_id=int(message.source_id), channel=Recipient.Channel.BUS
        ):
            if exchange_id and not recipient.exchange_id:
                recipient.exchange_id = exchange_id[:100]
                recipient.save(update_fields=["exchange_id"])
            distribution.apply_recipient_status(recipient, Recipient.Status.SENT, at=at)


def mark_failed_sends(now: dt.datetime | None = None) -> int:
    """Bus recipients whose send became a dead letter (the outbox gave up, or an operator discarded
    it) are "failed", so the sender sees it; a replay from the outbox's administration sends it again
    and the exchange's answer moves them on. Returns how many recipients it marked."""
    from chinhquyenso.exchange.models import Message

    now = now or timezone.now()
    dead = Message.objects.filter(
        kind=distribution.KIND_SEND,
        source_type=Document._meta.label,
        state__in=[Message.State.DEAD, Message.State.DISCARDED],
    ).values_list("source_id", flat=True)
    document_ids = [int(source_id) for source_id in dead if source_id.isdigit()]
    marked = 0
    with transaction.atomic():
        waiting = Recipient.objects.select_for_update().filter(
            document_id__in=document_ids, channel=Recipient.Channel.BUS, status=Recipient.Status.PENDING
        )
        for recipient in waiting.select_related("document").order_by("pk"):
            marked += distribution.apply_recipient_status(
                recipient, Recipient.Status.FAILED, at=now, note="Trục liên thông không nhận văn bản."
            )
    return marked


@task()
def check_failed_sends() -> int:
    return mark_failed_sends()


FAILED_SENDS_SECONDS = 5 * 60


def register() -> None:
    from chinhquyenso.core.registry import BUS_HANDLERS, BUS_REPLIES, JOBS, Job

    BUS_HANDLERS.register("van-ban-den.receive", receive_handler)
    BUS_HANDLERS.register("van-ban-den.ack", ack_handler)
    BUS_REPLIES.register(distribution.KIND_SEND, record_sent)
    JOBS.register(
        "documents_failed_sends", Job("chinhquyenso.documents.exchange.check_failed_sends", FAILED_SENDS_SECONDS)
    )
