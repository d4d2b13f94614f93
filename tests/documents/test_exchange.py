"""Documents over the national e-document exchange (the edoc simulator, its own process, calling
our real bus endpoint): an issued document leaves through the outbox with its edXML envelope and
the exchange's statuses come back; a document sent to one of our agencies is registered in its
incoming register once, its receipt reported back; secret or misaddressed documents are refused."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from django.db import transaction

from chinhquyenso.core.errors import DomainError
from chinhquyenso.documents import edxml, services
from chinhquyenso.documents.models import Direction, Document, Recipient
from chinhquyenso.documents.services import distribution
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.bus import registry
from chinhquyenso.exchange.connectors import testing
from chinhquyenso.exchange.models import Message
from tests.documents.test_outgoing import approved

BỘ_CÔNG_AN = {"electronic_code": "000.00.00.G06", "name": "Bộ Công an"}


@pytest.fixture
def bus(live_server, transactional_db):
    registry.load_defaults()
    registry.invalidate()
    return live_server.url


@pytest.fixture
def exchange(bus):
    with testing.start_simulator("edoc", bus_url=bus, delay=0.2) as sim:
        yield sim


@pytest.fixture
def keys(signing_keys, officers, province, settings):
    settings.CQS["SIGNING_DEFAULT_PROFILE"] = "B-B"
    signing_keys.for_agency(province["tu_phap"])
    signing_keys.for_user(officers["tu_phap"]["leader"])


def body_of(message: Message) -> dict:
    return json.loads(message.body)["json"]


def test_an_issued_document_goes_out_over_the_exchange_and_its_statuses_come_back(
    exchange, officers, province, sample_pdf, keys
):
    document = approved(officers, province, sample_pdf, recipients=[BỘ_CÔNG_AN, {"agency": province["ubnd"]}])
    services.sign(document, officers["tu_phap"]["leader"])
    services.issue(document, officers["tu_phap"]["clerk"])
    bus_recipient = document.recipients.get(channel=Recipient.Channel.BUS)
    assert bus_recipient.status == Recipient.Status.PENDING
    [message] = Message.objects.filter(kind="documents.send")
    envelope = edxml.parse_envelope(base64.b64decode(body_of(message)["envelope"]))
    assert envelope.symbol == document.symbol == "01/QĐ-STP"
    assert envelope.sender.organ_id == "000.00.15.H01"
    assert [r.organ_id for r in envelope.recipients] == ["000.00.00.G06"]
    assert envelope.attachments[0].sha256 == document.current_file.sha256

    assert outbox.deliver_due()[1] == 0  # the document, and the UBND clerk's in-app notice
    [sent] = exchange.get("/_sim/documents")
    assert sent["signature_valid"] is True and sent["document"]["number"] == "01/QĐ-STP"
    assert sent["file"]["sha256"] == document.current_file.sha256  # the PAdES-signed file itself
    bus_recipient.refresh_from_db()
    assert bus_recipient.status == Recipient.Status.SENT and bus_recipient.exchange_id == sent["document_id"]

    for status, expected in (("delivered", "received"), ("assigned", "assigned"), ("done", "done")):
        answer = exchange.post(
            "/_sim/ack",
            {"document_id": sent["document_id"], "status": status, "reporter": {"code": "000.00.00.G06"}},
        )
        assert answer["status"] == 200, answer
        bus_recipient.refresh_from_db()
        assert bus_recipient.status == expected
    assert bus_recipient.done_at is not None
    # The internal recipient got its copy in the same issue.
    assert document.recipients.get(channel=Recipient.Channel.INTERNAL).status == Recipient.Status.RECEIVED

    # Recalling it tells the exchange (a status message with the edXML Status package).
    services.recall(document, officers["tu_phap"]["leader"], "Ban hành nhầm")
    outbox.deliver_due()
    [report] = exchange.get("/_sim/reports")
    assert report["document_id"] == sent["document_id"] and report["status"] == "recalled"
    assert edxml.parse_status(base64.b64decode(report["envelope"])).status == "recalled"


def test_an_ack_for_an_unknown_document_is_refused(exchange):
    answer = exchange.post("/_sim/ack", {"document_id": "VBQG-KHONGCO", "status": "read"})
    assert answer["status"] == 404


def test_a_document_sent_to_our_agency_is_registered_once_and_its_receipt_reported(exchange, province):
    appendix = b"%PDF-1.7\n% Phu luc kem cong van\n"
    package = edxml.serialize(
        edxml.Envelope(
            document_id="000.00.00.H29:125",
            sender=edxml.Organ("000.00.00.H29", "Ủy ban nhân dân tỉnh Đồng Tháp"),
            recipients=(edxml.Organ("000.00.15.H01", "Sở Tư pháp tỉnh An Giang"),),
            code_number="125",
            code_notation="UBND-VP",
            place="Đồng Tháp",
            promulgation_date=dt.date.today(),
            type_code="cong-van",
            type_name="Công văn",
            subject="V/v phối hợp giải quyết thủ tục hành chính liên thông",
            due_date=dt.date(2030, 1, 15),
            steering_type=1,
            # The attachment inside the package, as the national edXML carries it.
            attachments=(
                edxml.AttachmentRef(
                    "Phụ lục.pdf", "application/pdf", hashlib.sha256(appendix).hexdigest(), content=appendix
                ),
            ),
        )
    )
    request = {
        "document_id": "VBQG-TEST-0001",
        "document": {
            "recipients": [{"code": "000.00.15.H01", "name": "Sở Tư pháp tỉnh An Giang"}],
            "urgency": "khan",
        },
        "envelope": base64.b64encode(package).decode(),
    }
    answer = exchange.post("/_sim/deliver", request)
    assert answer["status"] == 200 and answer["answer"]["status"] == "received", answer
    incoming = Document.objects.get(direction=Direction.INCOMING, external_id="VBQG-TEST-0001")
    assert incoming.agency == province["tu_phap"] and incoming.status == Document.Status.REGISTERED
    assert (incoming.arrival_number, incoming.symbol, incoming.number) == (1, "125/UBND-VP", 125)
    assert incoming.sender_code == "000.00.00.H29" and incoming.sender_name == "Ủy ban nhân dân tỉnh Đồng Tháp"
    assert incoming.document_type.code == "cong-van" and incoming.urgency == "urgent"
    assert incoming.is_directive and incoming.deadline.isoformat() == "2030-01-15"  # from the envelope
    assert incoming.current_file.content_type == "application/pdf" and incoming.electronic
    assert answer["answer"]["registered_number"] == "000.00.15.H01:1"
    [attachment] = incoming.attachments.select_related("file")
    assert attachment.name == "Phụ lục.pdf" and attachment.file.file.read() == appendix

    # The same document again (another delivery of it): still one incoming document.
    again = exchange.post("/_sim/deliver", request)
    assert again["answer"].get("status") == "received", again
    assert Document.objects.filter(direction=Direction.INCOMING).count() == 1

    # Receipt, then progress, reported back to the sender over the exchange.
    with transaction.atomic():
        distribution.report_status(incoming, "in_process", None, note="Đang phối hợp xử lý")
    while outbox.deliver_due()[0]:  # one message per order key at a time: the reports leave in order
        pass
    reports = exchange.get("/_sim/reports")
    assert [(r["document_id"], r["status"]) for r in reports] == [
        ("VBQG-TEST-0001", "received"),
        ("VBQG-TEST-0001", "in_process"),
    ]
    status = edxml.parse_status(base64.b64decode(reports[1]["envelope"]))
    assert status.status == "in_process" and status.response_for.organ_id == "000.00.00.H29"
    assert status.sender.organ_id == "000.00.15.H01" and status.description == "Đang phối hợp xử lý"


def test_attachments_carried_beside_the_file_are_stored_and_a_wrong_hash_is_refused(exchange, province):
    """The exchange's message lists attachments next to the main file (`attachments`, bytes in base64
    with their SHA-256): each is stored on the incoming document; a file whose hash does not match is
    refused with its name and nothing is registered."""
    appendix, table = b"%PDF-1.7\n% Phu luc 1\n", b"%PDF-1.7\n% Bang so lieu\n"
    recipients = [{"code": "000.00.15.H01", "name": "Sở Tư pháp tỉnh An Giang"}]
    request = {
        "document_id": "VBQG-TEST-ATT1",
        "document": {"recipients": recipients},
        "attachments": [
            {"name": "Phụ lục 1.pdf", "content_base64": base64.b64encode(appendix).decode()},
            {"name": "Bảng số liệu.pdf", "content_base64": base64.b64encode(table).decode()},
        ],
    }
    answer = exchange.post("/_sim/deliver", request)
    assert answer["answer"]["status"] == "received", answer
    incoming = Document.objects.get(direction=Direction.INCOMING, external_id="VBQG-TEST-ATT1")
    stored = [(a.name, a.file.file.read()) for a in incoming.attachments.select_related("file").order_by("pk")]
    assert stored == [("Phụ lục 1.pdf", appendix), ("Bảng số liệu.pdf", table)]

    tampered = {
        "document_id": "VBQG-TEST-ATT2",
        "document": {"recipients": recipients},
        "attachments": [
            {"name": "Phụ lục 1.pdf", "content_base64": base64.b64encode(appendix).decode(), "sha256": "0" * 64}
        ],
    }
    refused = exchange.post("/_sim/deliver", tampered)
    assert refused["status"] == 422 and refused["answer"]["field"] == "attachments.0", refused
    assert refused["answer"]["detail"] == "Mã băm SHA-256 không khớp với tệp đính kèm “Phụ lục 1.pdf”."
    assert not Document.objects.filter(external_id="VBQG-TEST-ATT2").exists()


def test_secret_or_misaddressed_documents_are_refused(exchange, province):
    secret = exchange.post(
        "/_sim/deliver",
        {"document": {"recipients": [{"code": "000.00.15.H01", "name": "Sở Tư pháp"}], "confidentiality": "mat"}},
    )
    assert secret["status"] == 422 and "mật" in secret["answer"]["detail"]
    elsewhere = exchange.post(
        "/_sim/deliver", {"document": {"recipients": [{"code": "000.00.00.H29", "name": "UBND tỉnh Đồng Tháp"}]}}
    )
    assert elsewhere["status"] == 404
    mismatched = exchange.post(
        "/_sim/deliver",
        {
            "document": {"recipients": [{"code": "000.00.15.H01", "name": "Sở Tư pháp"}]},
            "envelope": base64.b64encode(b"<not-edxml/>").decode(),
        },
    )
    assert mismatched["status"] == 422 and mismatched["answer"]["field"] == "envelope"
    assert not Document.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_document_to_an_outside_recipient_needs_our_electronic_code(officers, province, sample_pdf, keys):
    province["tu_phap"].electronic_code = ""
    province["tu_phap"].save()
    document = approved(officers, province, sample_pdf, recipients=[BỘ_CÔNG_AN])
    services.sign(document, officers["tu_phap"]["leader"])
    with pytest.raises(DomainError) as refused:
        services.issue(document, officers["tu_phap"]["clerk"])
    assert refused.value.field == "recipients"
    document.refresh_from_db()
    assert document.status == Document.Status.SIGNED and document.number is None  # no number taken


@pytest.mark.django_db(transaction=True)
def test_a_send_the_exchange_never_takes_marks_the_recipient_failed(officers, province, sample_pdf, keys):
    from chinhquyenso.core.registry import JOBS
    from chinhquyenso.documents import exchange as documents_exchange

    document = approved(officers, province, sample_pdf, recipients=[BỘ_CÔNG_AN])
    services.sign(document, officers["tu_phap"]["leader"])
    services.issue(document, officers["tu_phap"]["clerk"])
    recipient = document.recipients.get()
    assert documents_exchange.mark_failed_sends() == 0  # still waiting: not failed
    Message.objects.filter(kind="documents.send").update(state=Message.State.DEAD)
    assert documents_exchange.mark_failed_sends() == 1
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.FAILED and recipient.failed_at is not None
    assert documents_exchange.mark_failed_sends() == 0  # once
    assert dict(JOBS.items())["documents_failed_sends"].task == "chinhquyenso.documents.exchange.check_failed_sends"
