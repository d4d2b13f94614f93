"""The national portal (Cổng Dịch vụ công quốc gia) over the data bus, against its simulator as a
separate process: each dossier's status changes queued through the outbox in the change's
transaction and pushed in order, each push recorded once by the portal even when delivered again;
the catalog compared with ours (`cqs national-portal catalog`)."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from chinhquyenso.dossiers import national_sync
from chinhquyenso.dossiers import services as dossiers
from chinhquyenso.exchange import connectors, outbox
from chinhquyenso.exchange.bus.delivery import BusSender
from chinhquyenso.exchange.models import BusLogEntry, Message
from chinhquyenso.exchange.national.base import NationalSystemError
from chinhquyenso.exchange.national.http import HttpNationalPortal
from tests.conftest import vn
from tests.datasets import PAPER
from tests.exchange.connectors.busfixtures import connect, spawn, write_json

NATIONAL_CATALOG = [
    {"code": "1.001193", "name": "Đăng ký khai sinh", "processing_days": 5, "fee": 0, "charge": 8000},
    {"code": "2.000001", "name": "Thủ tục chỉ có ở cấp quốc gia", "processing_days": 10},
]


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory):
    return tmp_path_factory.mktemp("portal") / "catalog.json"


@pytest.fixture(scope="module")
def simulator(catalog_file):
    write_json(catalog_file, NATIONAL_CATALOG)
    sim = spawn("national_portal", "NATIONAL_PORTAL_SIMULATOR", "--catalog", str(catalog_file))
    yield sim
    sim.stop()


@pytest.fixture
def portal(db, settings, simulator):
    simulator.reset()
    connect(
        settings,
        NATIONAL_PORTAL_ADAPTER="bus",
        NATIONAL_PORTAL_BASE_URL=simulator.url,
        NATIONAL_PORTAL_SYNC=True,
        NATIONAL_RETRIES=0,
    )
    return simulator


def later(minutes=60):
    return timezone.now() + dt.timedelta(minutes=minutes)


def submit(officers):
    return dossiers.submit(
        actor=officers["xa_a"]["counter_officer"],
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant={"identity_number": "089201001234", "full_name": "Trần Văn Bé"},
        components=PAPER,
        at=vn(2025, 1, 20, 9, 30),
    )


def pushes(portal):
    return portal.get("/_sim/pushes")


def test_status_changes_are_queued_in_the_transaction_and_pushed_in_order(portal, officers, birth_procedure):
    dossier = submit(officers)
    officer = officers["xa_a"]["counter_officer"]
    dossiers.request_supplement(dossier, actor=officer, items=["Bản sao giấy chứng sinh"], at=vn(2025, 1, 20, 9, 40))
    dossier.refresh_from_db()
    dossiers.refuse(dossier, actor=officer, reason="Thiếu giấy tờ", at=vn(2025, 1, 20, 10))
    queued = list(Message.objects.filter(kind=national_sync.KIND).order_by("id"))
    assert len(queued) >= 3
    assert {m.order_key for m in queued} == {f"dossier:{dossier.pk}"}
    assert {m.recipient for m in queued} == {connectors.service_id("national_portal")}
    assert pushes(portal) == []  # nothing left inside the transaction

    portal.fail(1)  # the first push fails: the later ones must wait for it, not overtake it
    outbox.deliver_due(later())
    assert pushes(portal) == []
    for _ in range(5):  # a message waiting for the one before it goes in a later round
        outbox.deliver_due(later(24 * 60))
    seen = pushes(portal)
    assert [p["status"] for p in seen] == [json.loads(m.body)["json"]["status"] for m in queued]
    assert [p["sequence"] for p in seen] == sorted(p["sequence"] for p in seen)
    assert all(p["code"] == dossier.code and p["agency_code"] for p in seen)
    assert seen[-1]["status"] == "refused"
    assert set(Message.objects.filter(kind=national_sync.KIND).values_list("state", flat=True)) == {"sent"}


def test_a_push_delivered_twice_is_recorded_once(portal, officers, birth_procedure):
    submit(officers)
    message = Message.objects.filter(kind=national_sync.KIND).order_by("id").first()
    BusSender().send(message)
    BusSender().send(message)  # e.g. the answer was lost and the outbox sends again
    assert len(pushes(portal)) == 1
    assert BusLogEntry.objects.filter(operation="dossier-status", status=200).count() == 2
    assert set(BusLogEntry.objects.values_list("idempotency_key", flat=True)) == {f"cqs-outbox-{message.pk}"}


def test_no_push_when_the_sync_is_off(portal, settings, officers, birth_procedure):
    settings.CQS = {**settings.CQS, "NATIONAL_PORTAL_SYNC": False}
    submit(officers)
    assert not Message.objects.filter(kind=national_sync.KIND).exists()


def test_the_portal_refuses_an_invalid_push_at_the_bus(portal):
    with pytest.raises(NationalSystemError, match="không đúng quy định của trục liên thông"):
        HttpNationalPortal()._request("dossier-status", params={"code": "X-1"}, json={"status": "accepted"})
    assert pushes(portal) == [] and portal.stats()["requests"] == 0


def test_synchronous_push_and_route_safety(portal):
    HttpNationalPortal().push_dossier_status(
        dossier_code="../payments", status="accepted", at=vn(2025, 1, 20, 9), agency_code="000.07.01.H01"
    )
    assert [(p["code"], p["at"]) for p in pushes(portal)] == [("..%2Fpayments", "2025-01-20T02:00:00Z")]


def test_catalog_comparison(portal, birth_procedure):
    result = national_sync.compare_catalog()
    assert (result.national_count, result.our_count) == (2, 1)
    assert result.missing_here == [{"code": "2.000001", "name": "Thủ tục chỉ có ở cấp quốc gia"}]
    assert result.missing_there == []
    changed = {(d.field, d.ours, d.national) for d in result.changed}
    assert ("processing_days", birth_procedure.processing_days, 5) in changed
    assert ("name", birth_procedure.name, "Đăng ký khai sinh") not in changed
    out = io.StringIO()
    call_command("national_portal", "catalog", stdout=out)
    assert "Có trên Cổng quốc gia, tỉnh chưa có (1)" in out.getvalue()
    assert "thời hạn giải quyết (ngày làm việc): tỉnh “3”, quốc gia “5”" in out.getvalue()
    out = io.StringIO()
    call_command("national_portal", "catalog", "--json", stdout=out)
    assert json.loads(out.getvalue())["missing_here"][0]["code"] == "2.000001"


def test_catalog_when_the_portal_is_down(portal):
    portal.fail(1)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Cổng Dịch vụ công quốc gia đang gặp sự cố"):
        call_command("national_portal", "catalog", stdout=io.StringIO())


def test_the_demo_starts_the_portal_simulator_with_our_catalog(db, settings, tmp_path, birth_procedure):
    from chinhquyenso.demo.management.commands.demo import simulator_environment, start_national_portal_simulator

    settings.DATA_DIR = tmp_path
    connect(settings, NATIONAL_PORTAL_ADAPTER="simulator", NATIONAL_PORTAL_SYNC=False)
    process = start_national_portal_simulator(io.StringIO())
    try:
        assert settings.CQS["NATIONAL_PORTAL_SYNC"] is True
        assert simulator_environment()["CQS_NATIONAL_PORTAL_SYNC"] == "1"
        result = national_sync.compare_catalog()
        assert (result.national_count, result.missing_here, result.missing_there, result.changed) == (1, [], [], [])
    finally:
        process.terminate()
        process.wait(timeout=10)
