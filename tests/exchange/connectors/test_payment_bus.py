"""The payment platform (PayGov) over the data bus, as our subsystem `thanh-toan`, against the
payment simulator process (payments.simulator): create, info and statement pass the bus and its
message log; the provider's own bearer token travels as `Authorization`; the bus refuses what the
registry does not allow before the platform is asked."""

import pytest

from chinhquyenso.core import simulators
from chinhquyenso.exchange import connectors
from chinhquyenso.exchange.bus import registry
from chinhquyenso.exchange.models import BusAccessRight, BusLogEntry
from chinhquyenso.exchange.national import payment_gateway
from chinhquyenso.exchange.national.base import NationalSystemError
from chinhquyenso.exchange.national.http import HttpPaymentGateway
from tests.exchange.connectors.busfixtures import Simulator, connect

TOKEN = "ma-truy-cap-thu-nghiem"


@pytest.fixture(scope="module")
def simulator():
    process, url = simulators.spawn(
        "chinhquyenso.payments.simulator", "PAYMENT_SIMULATOR", "--secret", "bi-mat", "--token", TOKEN
    )
    sim = Simulator(process, url)
    yield sim
    sim.stop()


@pytest.fixture
def paygov(db, settings, simulator):
    simulator.post("/reset")
    connect(settings, PAYMENT_ADAPTER="bus", PAYMENT_BASE_URL=simulator.url, PAYMENT_TOKEN=TOKEN, NATIONAL_RETRIES=0)
    return simulator


def test_create_info_statement_through_the_bus(paygov):
    gateway = payment_gateway()
    assert isinstance(gateway, HttpPaymentGateway)
    intent = gateway.create_payment(order_ref="TT-BUS-1", amount=12000, description="Lệ phí khai sinh")
    assert gateway.create_payment(order_ref="TT-BUS-1", amount=12000, description="Lệ phí khai sinh") == intent
    assert intent.pay_url.endswith(intent.transaction_ref)
    info = gateway.payment_info(intent.transaction_ref)
    assert (info.status, info.amount, info.order_ref) == ("pending", 12000, "TT-BUS-1")
    paygov.post(f"/simulate/{intent.transaction_ref}", {"status": "paid", "callback": False})
    info = gateway.payment_info(intent.transaction_ref)
    assert info.status == "paid"
    assert [(line.transaction_ref, line.amount) for line in gateway.statement(info.paid_at.date())] == [
        (intent.transaction_ref, 12000)
    ]
    entries = list(BusLogEntry.objects.order_by("seq"))
    assert [e.operation for e in entries] == ["create", "create", "info", "info", "statement"]
    assert {(e.client, e.service, e.outcome) for e in entries} == {
        (connectors.client_id("thanh-toan"), connectors.service_id("payment"), "ok")
    }
    # The order reference is the idempotency key of a create: a retry is never a second payment.
    assert [e.idempotency_key for e in entries[:2]] == ["TT-BUS-1", "TT-BUS-1"]


def test_the_provider_token_is_checked_by_the_platform(paygov, settings):
    settings.CQS = {**settings.CQS, "PAYMENT_TOKEN": "sai"}
    with pytest.raises(NationalSystemError) as error:
        HttpPaymentGateway().create_payment(order_ref="TT-BUS-2", amount=1000, description="Phí")
    assert "từ chối quyền truy cập (mã lỗi HTTP 401)" in error.value.message
    assert BusLogEntry.objects.get().status == 401


def test_a_body_outside_the_schema_is_refused_at_the_bus(paygov):
    with pytest.raises(NationalSystemError, match="không đúng quy định của trục liên thông"):
        HttpPaymentGateway()._request("create", json={"order_ref": "TT-BUS-3", "amount": "một nghìn"})
    entry = BusLogEntry.objects.get()
    assert (entry.outcome, entry.error_code) == ("refused", "invalid_body")


def test_only_the_payment_subsystem_may_call(paygov):
    BusAccessRight.objects.filter(service__code="thanh-toan").delete()
    registry.invalidate()
    with pytest.raises(NationalSystemError, match="chưa được cấp quyền gọi Nền tảng thanh toán"):
        HttpPaymentGateway().create_payment(order_ref="TT-BUS-4", amount=1000, description="Phí")
    assert paygov.get("/callbacks") == []


def test_the_platform_down_is_said_plainly(paygov, settings):
    settings.CQS = {**settings.CQS, "PAYMENT_BASE_URL": "http://127.0.0.1:9"}
    registry.invalidate()
    with pytest.raises(NationalSystemError, match="Không kết nối được Nền tảng thanh toán trực tuyến"):
        HttpPaymentGateway().payment_info("PG0000")
    assert BusLogEntry.objects.get().outcome == "unreachable"
