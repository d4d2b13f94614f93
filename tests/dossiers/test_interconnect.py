"""Liên thông: the rules of interconnected applications, without the network (dossiers.interconnect).

The bus's callback handler is called directly; what would be sent stays in the outbox. The end-to-end
runs with the simulators as separate processes are in test_interconnect_e2e.py."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.dossiers import interconnect, selectors, services
from chinhquyenso.dossiers.models import Dossier, GroupApplication, GroupPart, PartStatus, Status
from chinhquyenso.exchange.models import Message
from chinhquyenso.procedures.models import ProcedureGroup, ProcedureGroupMember
from tests.conftest import make_procedure, vn

pytestmark = pytest.mark.django_db

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]
BIRTH, RESIDENCE, HI_CARD = "1.001193", "2.900119", "2.900123"
CHILD = {
    "ho_ten": "Nguyễn Minh An",
    "ngay_sinh": "2025-03-01",
    "gioi_tinh": "Nam",
    "noi_sinh": "Bệnh viện Đa khoa tỉnh An Giang",
    "dan_toc": "Kinh",
    "quoc_tich": "Việt Nam",
    "me_ho_ten": "Nguyễn Thị Hoà",
    "nyc_quan_he": "Mẹ",
    "noi_thuong_tru": "Ấp Kiến Hưng, xã Kiến An, huyện Chợ Mới, tỉnh An Giang",
    "chu_ho_so_dinh_danh": "089012345678",
}


def make_group(admin_user, province, *, residence_rule="notify", birth_rule="wait", residence_after=(BIRTH,)):
    """Group 1 as the demo declares it: the birth registration here; residence (police) and the
    child's health-insurance card (social insurance) over the bus, both after the birth certificate."""
    xa = [province["xa_a"]]
    residence = make_procedure(
        admin_user, xa, code=RESIDENCE, name="Đăng ký thường trú", processing_days=7, components=[], charge=0
    )
    card = make_procedure(
        admin_user,
        xa,
        code=HI_CARD,
        name="Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        processing_days=5,
        components=[],
        charge=0,
    )
    group = ProcedureGroup.objects.create(code="lien-thong-khai-sinh", name="Liên thông khai sinh")
    birth = make_procedure(admin_user, [province["xa_a"], province["xa_b"]])
    ProcedureGroupMember.objects.create(group=group, procedure=birth, order=1, on_failure=birth_rule)
    ProcedureGroupMember.objects.create(
        group=group,
        procedure=residence,
        order=2,
        connector="residence",
        remote_procedure="residence.register",
        after=list(residence_after),
        on_failure=residence_rule,
    )
    ProcedureGroupMember.objects.create(
        group=group,
        procedure=card,
        order=3,
        connector="social_insurance",
        remote_procedure="social_insurance.health_card_child",
        after=[BIRTH],
        on_failure="notify",
    )
    return group


@pytest.fixture
def ctx(province, officers, citizen, admin_user):
    xa = officers["xa_a"]
    make_group(admin_user, province)
    return {
        "citizen": citizen,
        "counter": xa["counter_officer"],
        "specialist": xa["specialist"],
        "leader": xa["leader"],
        "officers": officers,
        "province": province,
    }


def apply_for(ctx, values=None, at=vn(2025, 3, 10, 9)):
    dossiers = services.submit_group(
        actor=ctx["citizen"],
        group_code="lien-thong-khai-sinh",
        channel="online",
        applicant={"phone": "0912345678"},
        agency_codes={BIRTH: "xa-kien-an"},
        components={BIRTH: PAPER},
        form_data=CHILD if values is None else values,
        at=at,
        idempotency_key="k1",
    )
    return GroupApplication.objects.get(code=dossiers[0].code)


def approve_birth(ctx, application, at=vn(2025, 3, 10, 10), number=""):
    birth = application.parts.get(procedure_code=BIRTH).dossier
    services.accept(birth, actor=ctx["counter"], at=at)
    services.forward(birth, actor=ctx["specialist"], at=at)
    services.forward(birth, actor=ctx["leader"], at=at)
    return birth


def part(application, code) -> GroupPart:
    return GroupPart.objects.select_related("dossier").get(application=application, procedure_code=code)


def bus_messages(kind=interconnect.KIND_SUBMIT):
    return Message.objects.filter(channel=Message.Channel.BUS, kind=kind).order_by("pk")


def callback(the_part, status, *, client=None, **extra):
    """The remote system's news as our bus hands it to the handler."""
    client = client or interconnect.connector_client(the_part.connector)
    body = {"request_id": the_part.request_id or "R-1", "reference": the_part.reference, "status": status}
    body.update({"at": "2025-03-12T09:00:00+07:00", **extra})
    return interconnect.part_status_handler(SimpleNamespace(client=client), {"reference": the_part.reference}, body)


def test_one_application_creates_a_dossier_and_a_part_per_member(ctx):
    application = apply_for(ctx)
    parts = list(application.parts.order_by("order"))
    assert [p.procedure_code for p in parts] == [BIRTH, RESIDENCE, HI_CARD]
    assert [p.status for p in parts] == [PartStatus.LOCAL, PartStatus.WAITING, PartStatus.WAITING]
    assert {p.dossier.group_code for p in parts} == {application.code}
    assert all(p.reference.startswith("LT-") and CHILD["ho_ten"] not in p.reference for p in parts)
    assert parts[1].dossier.form_data["ho_ten"] == CHILD["ho_ten"]
    assert not bus_messages().exists()  # nothing leaves before the birth certificate exists


def test_a_retry_with_the_same_key_creates_nothing_more(ctx):
    first = apply_for(ctx)
    again = apply_for(ctx)
    assert first.pk == again.pk and GroupPart.objects.count() == 3


def test_the_application_values_are_checked_field_by_field(ctx):
    with pytest.raises(DomainError) as wrong:
        apply_for(ctx, {**CHILD, "chu_ho_so_dinh_danh": "12345"})
    assert wrong.value.field == "chu_ho_so_dinh_danh" and "12 chữ số" in wrong.value.message
    with pytest.raises(DomainError) as missing:
        apply_for(ctx, {k: v for k, v in CHILD.items() if k != "ho_ten"})
    assert missing.value.field == "ho_ten"
    assert not Dossier.objects.exists()


def test_birth_approved_sends_both_parts_with_the_certificate_number(ctx):
    application = apply_for(ctx)
    birth = approve_birth(ctx, application)
    sent = list(bus_messages())
    assert len(sent) == 2
    bodies = {json.loads(m.body)["json"]["procedure"]: json.loads(m.body) for m in sent}
    register = bodies["residence.register"]["json"]
    assert register["data"]["birth_certificate_number"] == birth.code
    assert register["subject"] == {"full_name": "Nguyễn Minh An", "birth_date": "2025-03-01", "gender": "Nam"}
    assert register["callback"]["service"].endswith("/mot-cua/lien-thong")
    assert {m.order_key for m in sent} == {f"group:{application.code}"}
    assert {json.loads(m.body)["correlation"] for m in sent} == {
        part(application, RESIDENCE).dossier.code,
        part(application, HI_CARD).dossier.code,
    }
    residence = part(application, RESIDENCE)
    assert residence.status == PartStatus.QUEUED and residence.sent_at == vn(2025, 3, 10, 10)
    assert residence.dossier.status == Status.IN_PROCESS
    assert residence.due_at == residence.dossier.due_at and residence.due_at > residence.sent_at
    assert residence.dossier.events.filter(action="part_send").exists()


def test_callbacks_move_a_part_forward_only_and_repeat_harmlessly(ctx):
    application = apply_for(ctx)
    approve_birth(ctx, application)
    residence = part(application, RESIDENCE)
    interconnect.record_sent(
        bus_messages().get(source_id=str(residence.pk)),
        SimpleNamespace(body=b"1", json=lambda: {"request_id": "CT-77", "status": "received"}),
    )
    residence.refresh_from_db()
    assert residence.status == PartStatus.RECEIVED and residence.request_id == "CT-77"
    assert callback(residence, "processing")[0] == 200
    result = {"number": "CT-2025-000123", "issued_on": "2025-03-12", "document": "Xác nhận đăng ký thường trú"}
    status, answer = callback(residence, "done", result=result)
    assert status == 200 and answer["accepted"] is True and answer["status"] == "done"
    # Late and repeated news change nothing.
    assert callback(residence, "processing")[1]["accepted"] is False
    assert callback(residence, "done", result={**result, "number": "OTHER"})[1]["accepted"] is False
    assert callback(residence, "refused", reason="muộn")[1]["accepted"] is False
    residence.refresh_from_db()
    assert residence.status == PartStatus.DONE and residence.result["number"] == "CT-2025-000123"
    dossier = residence.dossier
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY and dossier.finished_at is not None
    actions = list(dossier.events.values_list("action", flat=True))
    assert actions == ["submit", "part_send", "part_received", "part_processing", "part_done"]
    notices = Message.objects.filter(kind=interconnect.KIND_CITIZEN, user=ctx["citizen"])
    assert notices.filter(body__contains="CT-2025-000123").count() == 1


def test_callback_for_another_systems_part_or_an_unknown_reference_is_refused(ctx):
    application = apply_for(ctx)
    approve_birth(ctx, application)
    residence = part(application, RESIDENCE)
    card_system = interconnect.connector_client("social_insurance")
    assert callback(residence, "done", client=card_system)[0] == 404
    unknown = interconnect.part_status_handler(
        SimpleNamespace(client=card_system),
        {"reference": "LT-khong-co"},
        {"status": "done", "reference": "LT-khong-co"},
    )
    assert unknown[0] == 404 and "Không có phần hồ sơ" in unknown[1]["detail"]
    mismatch = interconnect.part_status_handler(
        SimpleNamespace(client=interconnect.connector_client("residence")),
        {"reference": residence.reference},
        {"status": "done", "reference": "LT-khac"},
    )
    assert mismatch[0] == 422
    residence.refresh_from_db()
    assert residence.status == PartStatus.QUEUED


def test_birth_refused_closes_the_dependants_with_the_reason(ctx):
    application = apply_for(ctx)
    birth = part(application, BIRTH).dossier
    services.refuse(birth, actor=ctx["counter"], reason="Giấy chứng sinh không đúng với tờ khai.")
    for code in (RESIDENCE, HI_CARD):
        dependant = part(application, code)
        assert dependant.status == PartStatus.CLOSED
        assert "Giấy chứng sinh không đúng" in dependant.reason
        assert dependant.dossier.status == Status.REFUSED
        assert dependant.dossier.events.filter(action="group_close").exists()
    assert not bus_messages().exists()
    application.refresh_from_db()
    assert application.finished_at is not None


def test_residence_refused_the_card_continues_and_citizen_and_counter_are_told(ctx):
    application = apply_for(ctx)
    approve_birth(ctx, application)
    residence = part(application, RESIDENCE)
    callback(residence, "refused", reason="Chỗ ở chưa đủ điều kiện đăng ký thường trú.")
    residence.refresh_from_db()
    assert residence.status == PartStatus.REFUSED and residence.dossier.status == Status.REFUSED
    card = part(application, HI_CARD)
    assert card.status == PartStatus.QUEUED  # not touched
    told = Message.objects.filter(kind=interconnect.KIND_CITIZEN, user=ctx["citizen"])
    assert told.filter(body__contains="Các thủ tục khác vẫn tiếp tục").exists()
    counter = Message.objects.filter(kind=interconnect.KIND_OFFICER, user=ctx["counter"])
    assert counter.count() == 1 and "Chỗ ở chưa đủ điều kiện" in counter.get().body


def test_wait_rule_holds_the_others_while_a_part_cannot_be_sent(ctx):
    """Residence with rule wait cannot be sent (its data does not fit): the card, released by the same
    birth certificate, waits; the counter sends residence again once the data is right, and both go."""
    ProcedureGroupMember.objects.filter(procedure__code=RESIDENCE).update(on_failure="wait")
    application = apply_for(ctx)
    # Data the residence system's schema refuses (the province tightened the registry's schema, say).
    Dossier.objects.filter(group_code=application.code).update(form_data={**CHILD, "noi_thuong_tru": "Ấp 1"})
    approve_birth(ctx, application)
    residence = part(application, RESIDENCE)
    assert residence.status == PartStatus.FAILED and "địa chỉ" in residence.reason
    assert part(application, HI_CARD).status == PartStatus.WAITING
    assert not bus_messages().exists()
    assert Message.objects.filter(kind=interconnect.KIND_OFFICER, user=ctx["counter"]).exists()
    with pytest.raises(PermissionDenied):
        interconnect.retry_part(residence, actor=ctx["officers"]["xa_b"]["counter_officer"])
    Dossier.objects.filter(group_code=application.code).update(form_data=CHILD)
    assert interconnect.retry_part(residence, actor=ctx["counter"]).status == PartStatus.QUEUED
    assert part(application, HI_CARD).status == PartStatus.QUEUED
    assert bus_messages().count() == 2


def test_a_dead_letter_fails_the_part_and_a_replay_moves_it_on(ctx):
    application = apply_for(ctx)
    approve_birth(ctx, application)
    residence = part(application, RESIDENCE)
    Message.objects.filter(source_id=str(residence.pk), kind=interconnect.KIND_SUBMIT).update(state=Message.State.DEAD)
    assert interconnect.check_queued() == 1
    residence.refresh_from_db()
    assert residence.status == PartStatus.FAILED
    assert Message.objects.filter(kind=interconnect.KIND_OFFICER, user=ctx["counter"]).exists()  # rule notify
    # Replayed from the admin: the other system's answer arrives and the part moves on.
    callback(residence, "received")
    residence.refresh_from_db()
    assert residence.status == PartStatus.RECEIVED


def test_wait_rule_closes_the_others_once_the_part_is_refused(ctx):
    ProcedureGroupMember.objects.filter(procedure__code=RESIDENCE).update(after=[], on_failure="wait")
    application = apply_for(ctx)
    residence = part(application, RESIDENCE)
    callback(residence, "refused", reason="Địa chỉ không có trong cơ sở dữ liệu cư trú.")
    approve_birth(ctx, application)
    card = part(application, HI_CARD)
    assert card.status == PartStatus.CLOSED and "quy tắc liên thông" in card.reason
    assert not bus_messages().filter(source_id=str(card.pk)).exists()


def test_a_part_the_remote_schema_refuses_is_failed_at_once_not_a_dead_letter(ctx):
    application = apply_for(ctx)
    # Data the residence system's schema refuses (the province tightened the registry's schema, say).
    Dossier.objects.filter(group_code=application.code).update(form_data={**CHILD, "noi_thuong_tru": "Ấp 1"})
    approve_birth(ctx, application)
    residence = part(application, RESIDENCE)
    assert residence.status == PartStatus.FAILED and "địa chỉ" in residence.reason
    assert not bus_messages().exists()
    assert part(application, HI_CARD).status == PartStatus.FAILED  # the card's schema wants the address too
    assert residence.dossier.status == Status.SUBMITTED  # not sent: not started either


def test_deadlines_per_part_and_for_the_whole_application(ctx):
    application = apply_for(ctx)
    now = vn(2025, 3, 10, 9, 30)
    views = selectors.application_parts(application, now=now)
    birth, residence, card = views
    assert not birth.estimated or birth.due_at  # planned from its processing time
    assert residence.estimated and residence.due_at > birth.due_at  # chained after the birth certificate
    whole, planned = selectors.application_due(views)
    assert whole == max(v.due_at for v in views) and planned
    approve_birth(ctx, application)
    views = selectors.application_parts(application, now=vn(2025, 3, 10, 11))
    assert not views[1].estimated and views[1].due_at == part(application, RESIDENCE).due_at
    assert not any(v.overdue for v in views)
    late = selectors.application_parts(application, now=vn(2025, 4, 30, 9))
    assert [v.overdue for v in late] == [False, True, True]


def test_an_officer_of_another_agency_sees_no_part(ctx):
    application = apply_for(ctx)
    other = ctx["officers"]["xa_b"]["counter_officer"]
    assert selectors.application_parts(application, user=other) == []
    mine = selectors.application_parts(application, user=ctx["counter"])
    assert [v.part.procedure_code for v in mine] == [BIRTH, RESIDENCE, HI_CARD]
    assert selectors.own_application(other, application.code) is None
    assert selectors.own_application(ctx["citizen"], application.code) == application


def test_portal_application_and_timeline_pages(ctx, client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    client.force_login(ctx["citizen"])
    url = reverse("portal:group_apply", args=["lien-thong-khai-sinh"])
    page = client.get(url).content.decode()
    assert "Đăng ký thường trú" in page and "Hệ thống quản lý cư trú (Bộ Công an)" in page
    wrong = client.post(url, {**CHILD, "ho_ten": "", "agency_code": "xa-kien-an"})
    assert wrong.status_code == 200 and "Hãy nhập" in wrong.content.decode()
    files = {f"tep-{BIRTH}-{n}": SimpleUploadedFile(f"{n}.pdf", pdf, "application/pdf") for n in (1, 2)}
    done = client.post(url, {**CHILD, "agency_code": "xa-kien-an", "phone": "0912345678", "key": "k", **files})
    assert done.status_code == 302
    application = GroupApplication.objects.get()
    assert done["Location"] == reverse("portal:group_timeline", args=[application.code])
    timeline = client.get(done["Location"]).content.decode()
    assert "Chờ kết quả thủ tục trước" in timeline and "Hạn hoàn thành cả hồ sơ" in timeline
    # Another citizen, and an officer, cannot open it.
    client.force_login(ctx["counter"])
    assert client.get(done["Location"]).status_code in (403, 404)


def test_officer_page_shows_the_parts_only_within_scope(ctx, client):
    from django.urls import reverse

    application = apply_for(ctx)
    approve_birth(ctx, application)
    residence = part(application, RESIDENCE)
    callback(residence, "refused", reason="Chỗ ở chưa đủ điều kiện.")
    client.force_login(ctx["counter"])
    page = client.get(reverse("backoffice:dossier", args=[residence.dossier.code])).content.decode()
    assert "Hồ sơ liên thông" in page and "Chỗ ở chưa đủ điều kiện." in page and "Cấp thẻ bảo hiểm y tế" in page
    client.force_login(ctx["officers"]["xa_b"]["counter_officer"])
    assert client.get(reverse("backoffice:dossier", args=[residence.dossier.code])).status_code == 404
