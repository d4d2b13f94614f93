"""The national e-document exchange over the bus (simulator: exchange.connectors.simulators.edoc,
a separate process): sending a signed document and following its status; receiving documents and
status acks at our local service `van-ban-den` through the real `/r1/` endpoint (recording handlers
stand in for the documents app, which registers the real ones)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.db import transaction

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.registry import BUS_HANDLERS, BUS_REPLIES
from chinhquyenso.exchange import connectors, outbox
from chinhquyenso.exchange.bus import delivery, keys, registry
from chinhquyenso.exchange.connectors import edoc, testing
from chinhquyenso.exchange.models import BusLogEntry, Message

KIND = "tests.edoc_send"
PDF = b"%PDF-1.4\n% van ban thu nghiem\n%%EOF\n"


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
def inbox():
    """Recording handlers for our van-ban-den service, and the send replies."""
    got = {"receive": [], "ack": [], "replies": []}

    def receive(request, params, payload):
        got["receive"].append({"client": request.client, **payload})
        return 200, {"document_id": payload["document_id"], "status": "received"}

    def ack(request, params, payload):
        got["ack"].append({"document_id": params["document_id"], **payload})
        return 200, None

    handlers = {"van-ban-den.receive": receive, "van-ban-den.ack": ack}
    saved = {key: BUS_HANDLERS.get(key) for key in handlers if key in BUS_HANDLERS}
    for key, handler in handlers.items():
        BUS_HANDLERS.unregister(key)
        BUS_HANDLERS.register(key, handler)
    BUS_REPLIES.register(KIND, lambda message, response: got["replies"].append(response.json()))
    try:
        yield got
    finally:
        for key in handlers:
            BUS_HANDLERS.unregister(key)
        BUS_REPLIES.unregister(KIND)
        for key, handler in saved.items():
            BUS_HANDLERS.register(key, handler)


def metadata(**changes) -> dict:
    return {
        "number": "45/UBND-VP",
        "issued_on": dt.date.today().isoformat(),
        "type": "Công văn",
        "subject": "V/v đề nghị phối hợp cung cấp thông tin cư trú",
        "issuer": {"code": "000.00.00.H01", "name": "Ủy ban nhân dân tỉnh An Giang"},
        "signer": {"full_name": "Phạm Văn Minh", "position": "Phó Chủ tịch"},
        "recipients": [{"code": "000.00.00.G06", "name": "Bộ Công an"}],
        "urgency": "thuong",
        **changes,
    }


def send(body):
    with transaction.atomic():
        return edoc.send_document(body=body, kind=KIND, correlation="45/UBND-VP")


def test_a_signed_document_is_sent_and_delivered(exchange, inbox):
    send(edoc.document_body(document=metadata(), content=PDF, filename="cong-van-45.pdf"))
    assert outbox.deliver_due() == (1, 0)
    [document] = exchange.get("/_sim/documents")
    assert document["signature_valid"] is True and document["file"]["size"] == len(PDF)
    assert document["document"]["number"] == "45/UBND-VP"
    document_id = inbox["replies"][0]["document_id"]
    assert inbox["replies"][0]["status"] == "received"
    status = exchange.wait(
        lambda: (s := edoc.document_status(document_id))["status"] == "delivered" and s, what="delivered"
    )
    assert status["recipients"] == [{"code": "000.00.00.G06", "status": "delivered", "at": status["at"]}]


def test_a_document_missing_its_recipients_is_refused_at_once(bus):
    body = edoc.document_body(document=metadata(recipients=[]), content=PDF, filename="cong-van-45.pdf")
    with pytest.raises(DomainError) as refused:
        send(body)
    assert refused.value.field == "document.recipients"
    assert not Message.objects.exists()


def test_a_file_that_does_not_match_its_hash_is_a_dead_letter(exchange, inbox):
    body = edoc.document_body(document=metadata(), content=PDF, filename="cong-van-45.pdf")
    body["file"]["content_base64"] = base64.b64encode(PDF + b"sua").decode()  # changed after signing
    with transaction.atomic():
        message = delivery.send(
            client=connectors.client_for("edoc"),
            service=connectors.service_id("edoc"),
            operation="send",
            kind=KIND,
            json_body=body,
        )
    outbox.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.DEAD and "Mã băm SHA-256 không khớp" in message.last_error
    assert exchange.get("/_sim/documents") == []


def test_a_document_from_another_agency_reaches_our_van_ban_den_signed(exchange, inbox):
    answer = exchange.post("/_sim/deliver", {"document": {"subject": "V/v liên thông văn bản thử nghiệm"}})
    assert answer["status"] == 200 and answer["answer"]["status"] == "received"
    [received] = inbox["receive"]
    assert received["client"] == testing.subsystem_id("edoc") == "VN/GOV/000.00.00.G22/vbdt"
    assert received["document_id"] == answer["document_id"]
    assert received["document"]["subject"] == "V/v liên thông văn bản thử nghiệm"
    content = base64.b64decode(received["file"]["content_base64"])
    # The sender's signature over the file verifies with the certificate it came with.
    assert keys.verify(content, received["signature"]["value"], received["signature"]["certificate"])
    assert received["signature"]["certificate"] == exchange.cert_pem
    assert BusLogEntry.objects.filter(operation="receive", client="VN/GOV/000.00.00.G22/vbdt", status=200).exists()


def test_a_status_ack_of_a_document_we_sent_reaches_us(exchange, inbox):
    answer = exchange.post("/_sim/ack", {"document_id": "VBQG-0001", "status": "read"})
    assert answer["status"] == 200
    assert inbox["ack"][0]["document_id"] == "VBQG-0001" and inbox["ack"][0]["status"] == "read"


def test_a_delivery_to_us_without_the_right_is_refused_with_a_clear_error(exchange, inbox):
    from chinhquyenso.exchange.models import BusAccessRight

    BusAccessRight.objects.filter(client__code="vbdt", service__code="van-ban-den").delete()
    registry.invalidate()
    answer = exchange.post("/_sim/deliver", {})
    assert answer["status"] == 403
    assert answer["answer"]["code"] == "access_denied" and "chưa được cấp quyền" in answer["answer"]["detail"]
    assert inbox["receive"] == []
