"""Local services honour idempotency keys (exchange.bus.receipts, wired into the gateway)."""

from __future__ import annotations

import pytest
from django.db import transaction

from chinhquyenso.core import codes
from chinhquyenso.core.models import CodeCounter
from chinhquyenso.core.registry import BUS_HANDLERS
from chinhquyenso.exchange.bus import gateway, registry
from chinhquyenso.exchange.bus.errors import BusError
from chinhquyenso.exchange.models import BusAccessRight, BusMember, BusOperation, BusReceipt, BusService, BusSubsystem
from tests.core.test_workflow import run_at_once

CLIENT = "VN/GOV/000.00.00.T99/goi-thu"
SERVICE = "VN/GOV/000.00.00.H01/mot-cua/thu-nghiem"


def handler(request, params, payload):
    """Does its work (takes a number) and answers with it; 503 when asked to fail."""
    if payload.get("fail"):
        return 503, {"detail": "tạm lỗi"}
    with transaction.atomic():
        number = codes.next_number("tests.receipts")
    return 201, {"number": number, "name": payload.get("name")}


@pytest.fixture
def local_service(db):
    me = BusMember.objects.create(instance="VN", member_class="GOV", code="000.00.00.H01", name="UBND tỉnh")
    ours = BusSubsystem.objects.create(member=me, code="mot-cua", name="Hệ thống một cửa", local=True)
    other = BusMember.objects.create(instance="VN", member_class="GOV", code="000.00.00.T99", name="Cơ quan thử")
    caller = BusSubsystem.objects.create(member=other, code="goi-thu", name="Hệ thống gọi thử")
    service = BusService.objects.create(subsystem=ours, code="thu-nghiem", name="Dịch vụ thử nghiệm")
    BusOperation.objects.create(service=service, code="create", name="Tạo", method="POST", path="/items")
    BusAccessRight.objects.create(client=caller, service=service)
    registry.invalidate()
    BUS_HANDLERS.register("thu-nghiem.create", handler)
    yield
    BUS_HANDLERS.unregister("thu-nghiem.create")
    registry.invalidate()


def call(body: dict, key: str = ""):
    return gateway.call(client=CLIENT, service=SERVICE, operation="create", json_body=body, idempotency_key=key)


def counter() -> int:
    found = CodeCounter.objects.filter(key="tests.receipts").first()
    return found.value if found else 0


@pytest.mark.django_db
def test_a_repeat_with_the_same_key_gets_the_first_answer_and_does_nothing(local_service):
    first = call({"name": "Nguyễn Văn A"}, key="k-1")
    again = call({"name": "Nguyễn Văn A"}, key="k-1")
    assert (first.status, first.json()) == (201, {"number": 1, "name": "Nguyễn Văn A"})
    assert (again.status, again.body) == (first.status, first.body)
    assert counter() == 1
    receipt = BusReceipt.objects.get()
    assert (receipt.client, receipt.service, receipt.key, receipt.status) == (CLIENT, SERVICE, "k-1", 201)
    assert call({"name": "Nguyễn Văn A"}, key="k-2").json()["number"] == 2


@pytest.mark.django_db
def test_the_same_key_with_another_request_is_refused(local_service):
    call({"name": "A"}, key="k-1")
    with pytest.raises(BusError) as refused:
        call({"name": "B"}, key="k-1")
    assert refused.value.code == "replayed" and refused.value.status == 409 and refused.value.permanent
    assert "khóa mới" in refused.value.message
    assert counter() == 1


@pytest.mark.django_db
def test_without_a_key_the_handler_runs_each_time_and_a_5xx_is_not_kept(local_service):
    call({"name": "A"})
    call({"name": "A"})
    assert counter() == 2 and not BusReceipt.objects.exists()
    assert call({"fail": True}, key="k-9").status == 503
    assert not BusReceipt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_request_at_once_from_several_clients_is_done_once(local_service):
    results = run_at_once(5, lambda i: call({"name": "A"}, key="k-same").json())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert {r["number"] for r in results} == {1}
    assert counter() == 1 and BusReceipt.objects.count() == 1
