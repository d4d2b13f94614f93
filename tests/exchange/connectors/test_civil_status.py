"""The Ministry of Justice's civil-status database over the bus (simulator: a separate process,
exchange.connectors.simulators.civil_status): a birth registration dossier that gets its result is
pushed there once (dossiers.civil_status_sync, CQS_CIVIL_STATUS_SYNC), the record id comes back
into the audit log; the push is idempotent; other procedures and a switched-off sync push nothing."""

from __future__ import annotations

import pytest
from django.db import transaction

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.dossiers import civil_status_sync
from chinhquyenso.dossiers import services as dossiers
from chinhquyenso.dossiers.models import Dossier
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.bus import registry
from chinhquyenso.exchange.connectors import civil_status, testing
from chinhquyenso.exchange.models import BusLogEntry, Message
from tests.conftest import make_procedure, vn

pytestmark = pytest.mark.django_db

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]
BIRTH = {
    "nyc_ho_ten": "Nguyễn Thị Hoà",
    "nyc_so_dinh_danh": "089012345678",
    "nyc_noi_cu_tru": "Tổ 3, ấp Kiến Hưng, xã Kiến An",
    "nyc_quan_he": "Mẹ",
    "ho_ten": "Trần Minh Khang",
    "ngay_sinh": "2025-03-01",
    "gioi_tinh": "Nam",
    "dan_toc": "Kinh",
    "quoc_tich": "Việt Nam",
    "noi_sinh": "Bệnh viện Đa khoa tỉnh An Giang",
    "me_ho_ten": "Nguyễn Thị Hoà",
    "me_so_dinh_danh": "089012345678",
    "cha_ho_ten": "",
}


@pytest.fixture
def registry_loaded(db):
    registry.load_defaults()
    registry.invalidate()


@pytest.fixture
def ministry(registry_loaded, settings):
    settings.CQS = {**settings.CQS, "CIVIL_STATUS_SYNC": True}
    with testing.start_simulator("civil_status", bus_url="http://127.0.0.1:9") as sim:
        yield sim


@pytest.fixture
def ctx(birth_procedure, officers, citizen):
    xa = officers["xa_a"]
    return {
        "counter": xa["counter_officer"],
        "specialist": xa["specialist"],
        "leader": xa["leader"],
        "citizen": citizen,
    }


def registered(ctx, procedure_code="1.001193", values=BIRTH) -> Dossier:
    dossier = dossiers.submit(
        actor=ctx["citizen"],
        procedure_code=procedure_code,
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 10, 9),
    )
    Dossier.objects.filter(pk=dossier.pk).update(form_data={"version": 1, "values": values})
    dossiers.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    dossiers.forward(dossier, actor=ctx["specialist"], at=vn(2025, 3, 11, 9))
    dossiers.forward(dossier, actor=ctx["leader"], at=vn(2025, 3, 12, 9))
    dossier.refresh_from_db()
    return dossier


def test_a_finished_birth_registration_is_pushed_once_and_its_record_id_audited(ministry, ctx):
    dossier = registered(ctx)
    [message] = Message.objects.filter(kind=civil_status_sync.KIND)
    assert message.order_key == f"ho-tich:dossier:{dossier.pk}" and message.source_id == str(dossier.pk)
    outbox.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.SENT

    [record] = ministry.get("/_sim/registrations")
    body = record["body"]
    assert body["kind"] == "birth" and body["registration_number"] == dossier.code
    assert body["registration_date"] == "2025-03-12" and body["agency_code"] == "000.07.01.H01"
    assert body["parties"]["child"] == {
        "full_name": "Trần Minh Khang",
        "birth_date": "2025-03-01",
        "gender": "Nam",
        "ethnicity": "Kinh",
        "nationality": "Việt Nam",
        "birth_place": "Bệnh viện Đa khoa tỉnh An Giang",
    }
    assert body["parties"]["mother"]["id_number"] == "089012345678"
    assert "father" not in body["parties"]  # an empty field is left out
    entry = BusLogEntry.objects.get(operation="register")
    assert entry.status == 201 and entry.correlation == dossier.code and entry.asynchronous

    audit = AuditRecord.objects.get(action=civil_status_sync.SYNCED)
    assert audit.object_id == str(dossier.pk)
    assert audit.after["national_id_of_record"] == record["national_id_of_record"]
    assert civil_status.record(record["national_id_of_record"])["registration_number"] == dossier.code


def test_a_repeated_push_gets_the_same_record_and_no_second_one(ministry, ctx):
    dossier = registered(ctx)
    outbox.deliver_due()
    # The same registration pushed again (another message, another key): the same record, 200.
    with transaction.atomic():
        civil_status.push(
            body=civil_status_sync.body_for(dossier, "birth", dossier.finished_at),
            kind=civil_status_sync.KIND,
            correlation=dossier.code,
            order_key=f"ho-tich:dossier:{dossier.pk}",
        )
    outbox.deliver_due()
    assert not Message.objects.filter(kind=civil_status_sync.KIND).exclude(state=Message.State.SENT).exists()
    assert len(ministry.get("/_sim/registrations")) == 1
    assert [e.status for e in BusLogEntry.objects.filter(operation="register").order_by("seq")] == [201, 200]
    assert AuditRecord.objects.filter(action=civil_status_sync.SYNCED).count() == 1


def test_a_transient_failure_is_retried(ministry, ctx, settings):
    settings.CQS = {**settings.CQS, "OUTBOX_BACKOFF_SECONDS": 1}
    ministry.fail(count=1, status=503)
    registered(ctx)
    outbox.deliver_due()
    [message] = Message.objects.filter(kind=civil_status_sync.KIND)
    assert message.state == Message.State.FAILED
    outbox.deliver_due(message.next_attempt_at)
    message.refresh_from_db()
    assert message.state == Message.State.SENT and len(ministry.get("/_sim/registrations")) == 1


def test_nothing_is_pushed_when_the_sync_is_off_or_for_other_procedures(ministry, ctx, settings, admin_user, province):
    make_procedure(
        admin_user,
        [province["xa_a"]],
        code="2.900111",
        name="Chứng thực bản sao từ bản chính",
        result_type="ban-sao",
        result_name="Bản sao",
    )
    registered(ctx, "2.900111", values={})
    assert not Message.objects.filter(kind=civil_status_sync.KIND).exists()
    settings.CQS = {**settings.CQS, "CIVIL_STATUS_SYNC": False}
    registered(ctx)
    assert not Message.objects.filter(kind=civil_status_sync.KIND).exists()


def test_a_registration_missing_a_party_is_refused_at_once_naming_it(registry_loaded):
    body = civil_status.registration_body(
        kind="birth",
        registration_number="12/2025",
        registration_date="2025-03-12",
        agency_code="000.07.01.H01",
        parties={"mother": {"full_name": "Nguyễn Thị Hoà"}},
    )
    with pytest.raises(DomainError) as refused, transaction.atomic():
        civil_status.push(body=body, kind=civil_status_sync.KIND, correlation="x", order_key="x")
    assert refused.value.field == "parties.child"
    assert "thiếu người được khai sinh" in refused.value.message


def test_which_procedures_are_pushed_is_data():
    assert civil_status_sync.kind_of("1.001193") == "birth"
    assert civil_status_sync.kind_of("1.000656") == "death"
    assert civil_status_sync.kind_of("1.000894") == "marriage"
    assert civil_status_sync.kind_of("2.900111") is None
    parties = civil_status_sync.parties_of("marriage", {"chong_ho_ten": "A", "vo_ho_ten": "B", "vo_lan_ket_hon": 1})
    assert parties == {"husband": {"full_name": "A"}, "wife": {"full_name": "B"}}
