"""The police's residence system over the bus: its simulator is a separate process
(exchange.connectors.simulators.residence); parts leave through the outbox and the gateway, the
simulator's signed callbacks come back through our real `/r1/` endpoint (live_server) to the
`lien-thong.part-status` handler (a recording stand-in here: the dossiers app registers the real one)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.registry import BUS_HANDLERS, BUS_REPLIES
from chinhquyenso.exchange import connectors, outbox
from chinhquyenso.exchange.bus import delivery, keys, registry
from chinhquyenso.exchange.bus.errors import BusError
from chinhquyenso.exchange.connectors import parts, testing
from chinhquyenso.exchange.models import BusLogEntry, BusSubsystem, Message

KIND = "tests.part_send"


@pytest.fixture
def bus(live_server, transactional_db):
    """The registry loaded from the shipped files; our bus answers at the live server."""
    registry.load_defaults()
    registry.invalidate()
    return live_server.url


@pytest.fixture
def received():
    """A stand-in for the dossiers' part-status handler, recording what arrives; and the submit replies."""
    calls, replies = [], []

    def handler(request, params, payload):
        calls.append({"client": request.client, "reference": params["reference"], **payload})
        return 200, {"reference": params["reference"], "accepted": True, "status": payload["status"]}

    def reply(message, response):
        replies.append(response.json())

    saved = {
        name: (reg.get(key) if key in reg else None)
        for name, reg, key in (("h", BUS_HANDLERS, "lien-thong.part-status"), ("r", BUS_REPLIES, KIND))
    }
    BUS_HANDLERS.unregister("lien-thong.part-status")
    BUS_HANDLERS.register("lien-thong.part-status", handler)
    BUS_REPLIES.register(KIND, reply)
    try:
        yield calls, replies
    finally:
        BUS_HANDLERS.unregister("lien-thong.part-status")
        BUS_REPLIES.unregister(KIND)
        if saved["h"] is not None:
            BUS_HANDLERS.register("lien-thong.part-status", saved["h"])
        if saved["r"] is not None:
            BUS_REPLIES.register(KIND, saved["r"])


@pytest.fixture
def residence(bus):
    with testing.start_simulator("residence", bus_url=bus, delay=0.1) as sim:
        yield sim


def newborn_part(reference=None, **data):
    return {
        "connector": "residence",
        "procedure": "residence.register",
        "reference": reference or f"P-{uuid.uuid4().hex[:12]}",
        "applicant": {"full_name": "Trần Thị Mai", "id_number": "089190000123", "relationship": "Mẹ"},
        "subject": {"full_name": "Nguyễn Minh Khang", "birth_date": dt.date.today().isoformat(), "gender": "Nam"},
        "data": {
            "birth_certificate_number": "125/2026",
            "residence_address": "Tổ 3, ấp Kiến Hưng, xã Kiến An, tỉnh An Giang",
            "household_head_id": "089085000456",
            **data,
        },
        "correlation": "G-0001",
        "order_key": "group:G-0001",
        "kind": KIND,
    }


def submit(**part):
    with transaction.atomic():
        return parts.submit_part(**part)


def test_a_part_is_acknowledged_and_the_signed_callbacks_reach_our_bus(residence, received):
    calls, replies = received
    part = newborn_part()
    message = submit(**part)
    assert message.channel == Message.Channel.BUS and message.order_key == "group:G-0001"
    assert outbox.deliver_due() == (1, 0)

    [request] = residence.requests()
    assert request["reference"] == part["reference"] and request["procedure"] == "residence.register"
    assert request["body"]["callback"] == {"service": parts.callback_service()}
    assert replies == [{"request_id": request["request_id"], "status": "received"}]

    residence.wait_callbacks(status="done")
    assert [c["status"] for c in calls] == ["processing", "done"]
    done = calls[-1]
    assert done["client"] == testing.subsystem_id("residence") == "VN/GOV/000.00.00.G06/cu-tru"
    assert done["reference"] == part["reference"] and done["request_id"] == request["request_id"]
    assert done["result"]["document"] == "Xác nhận đăng ký thường trú"
    assert done["result"]["number"].startswith("CT-")
    # Both directions are in the message log: our submit, the system's callbacks (as its client).
    submit_entry = BusLogEntry.objects.get(operation="submit", service=connectors.service_id("residence"))
    assert submit_entry.asynchronous and submit_entry.status == 202 and submit_entry.correlation == "G-0001"
    assert (
        BusLogEntry.objects.filter(
            operation="part-status", client=testing.subsystem_id("residence"), outcome="ok"
        ).count()
        == 2
    )

    # Polling says the same.
    status = parts.part_status("residence", request["request_id"], correlation="G-0001")
    assert status["status"] == "done" and status["result"] == done["result"]


def test_a_resubmission_with_the_same_key_makes_no_second_request(residence, received):
    calls, replies = received
    message = submit(**newborn_part())
    assert outbox.deliver_due() == (1, 0)
    # A worker that died after the call and before marking it sent: the call goes again, same key.
    Message.objects.filter(pk=message.pk).update(state=Message.State.PENDING, sent_at=None)
    assert outbox.deliver_due() == (1, 0)
    assert len(residence.requests()) == 1
    assert replies[0] == replies[1]
    assert (
        BusLogEntry.objects.filter(operation="submit", idempotency_key=delivery.idempotency_key(message)).count() == 2
    )
    residence.wait_callbacks(status="done")
    # A duplicate callback (same key) is answered from the bus's receipt: the handler runs once.
    request_id = residence.requests()[0]["request_id"]
    assert residence.post("/_sim/resend", {"request_id": request_id, "status": "done"})["status"] == 200
    assert [c["status"] for c in calls] == ["processing", "done"]


def test_a_refused_part_comes_back_with_the_reason(residence, received):
    calls, _ = received
    residence.outcome("residence.register", reason="Địa chỉ đăng ký thường trú không có chỗ ở hợp pháp.")
    submit(**newborn_part())
    outbox.deliver_due()
    residence.wait_callbacks(status="refused")
    assert [c["status"] for c in calls] == ["processing", "refused"]
    assert calls[-1]["reason"] == "Địa chỉ đăng ký thường trú không có chỗ ở hợp pháp."
    assert calls[-1]["result"] is None


def test_the_systems_own_rule_refuses_an_unknown_household_head(residence, received):
    calls, _ = received
    submit(**newborn_part(household_head_id="089085000459"))
    outbox.deliver_due()
    residence.wait_callbacks(status="refused")
    assert "chủ hộ" in calls[-1]["reason"]


def test_transient_503s_are_retried_by_the_outbox(residence, received, settings):
    settings.CQS = {**settings.CQS, "OUTBOX_BACKOFF_SECONDS": 1, "BUS_CIRCUIT_FAILURES": 10}
    residence.fail(count=2, status=503)
    message = submit(**newborn_part())
    outbox.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED and message.attempts == 1
    outbox.deliver_due(message.next_attempt_at)
    message.refresh_from_db()
    assert message.state == Message.State.FAILED and message.attempts == 2
    outbox.deliver_due(message.next_attempt_at)
    message.refresh_from_db()
    assert message.state == Message.State.SENT
    assert len(residence.requests()) == 1
    residence.wait_callbacks(status="done")


def test_a_bad_part_is_refused_at_once_naming_the_field(bus):
    part = newborn_part()
    del part["data"]["birth_certificate_number"]
    with pytest.raises(DomainError) as refused:
        submit(**part)
    assert refused.value.field == "data.birth_certificate_number"
    assert "thiếu số giấy khai sinh" in refused.value.message
    part = newborn_part(household_head_id="12345")
    with pytest.raises(DomainError) as refused:
        submit(**part)
    assert refused.value.field == "data.household_head_id"
    assert "số định danh cá nhân của chủ hộ không đúng định dạng" in refused.value.message
    part = newborn_part()
    part["subject"]["birth_date"] = "2026-02-30"
    with pytest.raises(DomainError) as refused:
        submit(**part)
    assert refused.value.field == "subject.birth_date"
    assert not Message.objects.exists()


def test_callbacks_signed_with_an_unregistered_certificate_are_refused_and_retried(residence, received):
    calls, _ = received
    _, other = keys.generate_identity("Ke gia mao")
    BusSubsystem.objects.filter(code="cu-tru").update(certificate=other)
    registry.invalidate()
    submit(**newborn_part())
    outbox.deliver_due()
    residence.wait(lambda: [c for c in residence.callbacks() if c["http_status"] == 401], what="a refused callback")
    assert calls == []
    assert BusLogEntry.objects.filter(error_code="unauthenticated", client=testing.subsystem_id("residence")).exists()
    # The right certificate registered: the retried callbacks get through, in order.
    BusSubsystem.objects.filter(code="cu-tru").update(certificate=residence.cert_pem)
    registry.invalidate()
    residence.wait_callbacks(status="done", timeout=60)
    assert [c["status"] for c in calls] == ["processing", "done"]


def test_polling_an_unknown_request_and_an_unreachable_system_raise_bus_errors(residence, settings):
    with pytest.raises(BusError) as missing:
        parts.part_status("residence", "CT-KHONGCO")
    assert "không tìm thấy yêu cầu" in missing.value.message
    residence.process.terminate()
    residence.process.wait(timeout=10)
    with pytest.raises(BusError) as down:
        parts.part_status("residence", "CT-KHONGCO")
    assert down.value.code == "unreachable"


def test_the_simulator_refuses_calls_not_signed_by_our_bus_when_told_to_trust_it(bus, received):
    with testing.start_simulator("residence", bus_url=bus, delay=0.1, trust_bus=True) as sim:
        submit(**newborn_part())
        assert outbox.deliver_due() == (1, 0)  # our bus signs its calls: accepted
        assert len(sim.requests()) == 1
        import httpx

        assert httpx.get(f"{sim.url}/requests/x", timeout=10).status_code == 401
