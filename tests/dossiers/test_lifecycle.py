"""The one-stop lifecycle as officers and citizens live it (NĐ 61/2018, 107/2021)."""

import datetime as dt

import pytest

from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord, DomainEvent
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import DossierEvent, EDataItem, Status, Timeliness
from tests.conftest import make_procedure, vn

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


@pytest.fixture
def ctx(birth_procedure, officers, province, citizen):
    xa = officers["xa_a"]
    return {
        "p": birth_procedure,
        "counter": xa["counter_officer"],
        "specialist": xa["specialist"],
        "leader": xa["leader"],
        "citizen": citizen,
        "province": province,
        "officers": officers,
    }


def submit_online(ctx, at=vn(2025, 3, 10, 9), components=PAPER, **kw):
    return services.submit(
        actor=ctx["citizen"],
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=components,
        at=at,
        **kw,
    )


def process_to_result(ctx, dossier, accept_at, *finish_times):
    services.accept(dossier, actor=ctx["counter"], at=accept_at)
    services.forward(dossier, actor=ctx["specialist"], at=finish_times[0])
    services.forward(dossier, actor=ctx["leader"], at=finish_times[-1])
    dossier.refresh_from_db()
    return dossier


def test_online_dossier_full_lifecycle(ctx):
    dossier = submit_online(ctx)
    assert dossier.status == Status.SUBMITTED
    assert dossier.code.startswith("000.07.01.H01-250310-")
    assert dossier.fee_due == 4000  # 8.000 đ lệ phí, giảm 50% khi nộp trực tuyến
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS
    assert local_date(dossier.due_at) == dt.date(2025, 3, 13)
    services.forward(dossier, actor=ctx["specialist"], at=vn(2025, 3, 11, 9))
    services.forward(dossier, actor=ctx["leader"], at=vn(2025, 3, 12, 9))
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY
    assert dossier.timeliness == Timeliness.EARLY
    with pytest.raises(DomainError, match="phí"):
        services.return_result(dossier, actor=ctx["counter"], delivery="counter", at=vn(2025, 3, 12, 10))
    services.record_payment(
        dossier, actor=ctx["citizen"], amount=4000, method="online", transaction_ref="PAY-1", confirmed_by_gateway=True
    )
    services.return_result(dossier, actor=ctx["counter"], delivery="counter", at=vn(2025, 3, 12, 10))
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED and dossier.returned_at == vn(2025, 3, 12, 10)
    actions = list(dossier.events.values_list("action", flat=True))
    assert actions == ["submit", "accept", "forward", "approve", "return_result"]
    assert all(e.at for e in dossier.events.all())
    assert DomainEvent.objects.filter(name="DossierStatusChanged", payload__code=dossier.code).count() == 5
    assert AuditRecord.objects.filter(object_id=str(dossier.pk), action__startswith="dossier.").count() >= 6


def test_counter_submission_creates_the_citizen_and_records_channel(ctx):
    dossier = services.submit(
        actor=ctx["counter"],
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant={"identity_number": "089111222333", "full_name": "Lê Văn Tám"},
        components=PAPER,
        at=vn(2025, 3, 10, 9),
    )
    assert dossier.applicant.identity_number == "089111222333" and dossier.applicant.is_citizen
    assert dossier.fee_due == 8000  # no online discount at the counter


def test_on_time_and_late_follow_the_appointment_date(ctx):
    on_time = process_to_result(ctx, submit_online(ctx), vn(2025, 3, 10, 10), vn(2025, 3, 13, 16, 59))
    assert on_time.timeliness == Timeliness.ON_TIME
    late = process_to_result(ctx, submit_online(ctx), vn(2025, 3, 10, 10), vn(2025, 3, 14, 8))
    assert late.timeliness == Timeliness.LATE


def test_reception_supplement_lists_every_missing_item_at_once(ctx):
    dossier = submit_online(ctx, components=[])
    with pytest.raises(DomainError, match="Tờ khai đăng ký khai sinh; Giấy chứng sinh"):
        services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    request = services.request_supplement(
        dossier, actor=ctx["counter"], items=["Ghi rõ quê quán của mẹ"], at=vn(2025, 3, 10, 10)
    )
    assert request.items == ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh", "Ghi rõ quê quán của mẹ"]
    dossier.refresh_from_db()
    assert dossier.status == Status.SUPPLEMENT_REQUESTED and dossier.due_at is None
    services.supplement(dossier, actor=ctx["citizen"], components=PAPER, at=vn(2025, 3, 12, 9))
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 12, 10))
    dossier.refresh_from_db()
    assert local_date(dossier.due_at) == dt.date(2025, 3, 17)  # the clock starts at the complete dossier


def test_refusal_needs_a_reason_and_ends_the_dossier(ctx):
    dossier = submit_online(ctx)
    with pytest.raises(DomainError) as error:
        services.refuse(dossier, actor=ctx["counter"], reason="  ")
    assert error.value.field == "reason"
    services.refuse(dossier, actor=ctx["counter"], reason="Không thuộc thẩm quyền của UBND xã", at=vn(2025, 3, 10, 10))
    dossier.refresh_from_db()
    assert dossier.status == Status.REFUSED and dossier.closed_at
    with pytest.raises(DomainError, match="Từ chối tiếp nhận"):
        services.accept(dossier, actor=ctx["counter"])


def test_processing_supplement_pauses_the_clock(ctx):
    dossier = submit_online(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))  # due Thu 13/3
    services.request_supplement(
        dossier, actor=ctx["specialist"], items=["Bản sao giấy đăng ký kết hôn"], at=vn(2025, 3, 11, 9)
    )
    dossier.refresh_from_db()
    assert dossier.status == Status.PAUSED and dossier.paused_remaining_days == 2
    services.supplement(dossier, actor=ctx["citizen"], at=vn(2025, 3, 18, 9))  # a week later
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS
    assert local_date(dossier.due_at) == dt.date(2025, 3, 20)  # the 2 remaining working days, not the lost week
    services.forward(dossier, actor=ctx["specialist"], at=vn(2025, 3, 19, 9))
    services.forward(dossier, actor=ctx["leader"], at=vn(2025, 3, 20, 9))
    dossier.refresh_from_db()
    assert dossier.timeliness == Timeliness.ON_TIME


def test_processing_supplement_only_within_three_working_days(ctx):
    dossier = submit_online(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    with pytest.raises(DomainError, match="3 ngày làm việc"):
        services.request_supplement(dossier, actor=ctx["specialist"], items=["x"], at=vn(2025, 3, 14, 9))


def test_reschedule_once_and_counts_as_late(ctx):
    dossier = submit_online(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    with pytest.raises(DomainError) as error:
        services.reschedule(dossier, actor=ctx["leader"], new_due_date=dt.date(2025, 3, 12), reason="Chờ xác minh")
    assert error.value.field == "new_due_date"
    services.reschedule(
        dossier, actor=ctx["leader"], new_due_date=dt.date(2025, 3, 20), reason="Chờ xác minh", at=vn(2025, 3, 13, 9)
    )
    with pytest.raises(DomainError, match="một lần"):
        services.reschedule(dossier, actor=ctx["leader"], new_due_date=dt.date(2025, 3, 24), reason="Lần nữa")
    services.forward(dossier, actor=ctx["specialist"], at=vn(2025, 3, 14, 9))
    services.forward(dossier, actor=ctx["leader"], at=vn(2025, 3, 14, 10))  # before the new date
    dossier.refresh_from_db()
    assert dossier.rescheduled and dossier.timeliness == Timeliness.LATE
    assert dossier.events.filter(action="reschedule").exists()


def test_withdrawal_by_the_owner_only(ctx, db):
    from chinhquyenso.accounts.services import create_citizen

    dossier = submit_online(ctx)
    stranger = create_citizen(identity_number="089999888777", full_name="Người Khác")
    with pytest.raises(PermissionDenied):
        services.withdraw(dossier, actor=stranger)
    services.withdraw(dossier, actor=ctx["citizen"], reason="Nộp nhầm thủ tục")
    dossier.refresh_from_db()
    assert dossier.status == Status.WITHDRAWN and dossier.closed_at


def test_wrong_role_or_agency_cannot_act(ctx):
    dossier = submit_online(ctx)
    with pytest.raises(PermissionDenied):
        services.accept(dossier, actor=ctx["officers"]["xa_b"]["counter_officer"])
    with pytest.raises(PermissionDenied):
        services.accept(dossier, actor=ctx["specialist"])
    services.accept(dossier, actor=ctx["counter"])
    with pytest.raises(PermissionDenied):
        services.forward(dossier, actor=ctx["leader"])  # step 1 is the specialist's


def test_interlinked_step_runs_in_another_agency(ctx, admin_user):
    province, officers = ctx["province"], ctx["officers"]
    make_procedure(
        admin_user,
        [province["xa_a"]],
        code="2.000001",
        name="Đăng ký kết hôn có yếu tố nước ngoài",
        steps=[
            {"name": "Thụ lý tại xã", "role": "specialist"},
            {"name": "Phê duyệt tại huyện", "role": "leader", "agency": "ubnd-cho-moi"},
        ],
    )
    dossier = services.submit(
        actor=ctx["citizen"], procedure_code="2.000001", channel="online", components=PAPER, at=vn(2025, 3, 10, 9)
    )
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    services.forward(dossier, actor=ctx["specialist"], at=vn(2025, 3, 11, 9))
    dossier.refresh_from_db()
    assert dossier.current_agency == province["huyen"]
    handoff = dossier.events.get(action="forward")
    assert (handoff.from_agency, handoff.to_agency) == (province["xa_a"], province["huyen"])
    with pytest.raises(PermissionDenied):
        services.forward(dossier, actor=ctx["leader"])  # the commune leader no longer holds it
    services.forward(dossier, actor=officers["huyen"]["leader"], at=vn(2025, 3, 12, 9))
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY and dossier.current_agency == province["xa_a"]


def test_group_submission_links_dossiers(ctx, admin_user):
    from chinhquyenso.procedures.models import ProcedureGroup, ProcedureGroupMember

    province = ctx["province"]
    residence = make_procedure(
        admin_user,
        [province["xa_a"]],
        code="1.004194",
        name="Đăng ký thường trú",
        field_code="cu-tru",
        field_name="Cư trú",
        result_type="",
        components=[],
    )
    group = ProcedureGroup.objects.create(code="khai-sinh-thuong-tru", name="Liên thông khai sinh, thường trú")
    ProcedureGroupMember.objects.create(group=group, procedure=ctx["p"], order=1)
    ProcedureGroupMember.objects.create(group=group, procedure=residence, order=2)
    dossiers = services.submit_group(
        actor=ctx["citizen"],
        group_code="khai-sinh-thuong-tru",
        channel="online",
        applicant={},
        agency_codes={"1.001193": "xa-kien-an"},
        components={"1.001193": PAPER},
        at=vn(2025, 3, 10, 9),
    )
    assert [d.procedure.code for d in dossiers] == ["1.001193", "1.004194"]
    assert {d.group_code for d in dossiers} == {dossiers[0].code}


def test_electronic_result_is_reused_from_the_e_data_store(ctx, admin_user):
    dossier = process_to_result(ctx, submit_online(ctx), vn(2025, 3, 10, 10), vn(2025, 3, 11, 9))
    result_file = store_upload(PDF, original_name="giay-khai-sinh.pdf")
    services.attach_result(dossier, actor=ctx["counter"], file=result_file, number="123/2025")
    item = EDataItem.objects.get(owner=ctx["citizen"])
    assert item.result_type == "giay-khai-sinh" and item.file.sha256 == result_file.sha256
    make_procedure(
        admin_user,
        [ctx["province"]["xa_a"]],
        code="1.004227",
        name="Đăng ký nhận cha, mẹ, con",
        result_type="",
        components=[{"name": "Tờ khai"}, {"name": "Giấy khai sinh của con", "reusable_result_type": "giay-khai-sinh"}],
    )
    later = services.submit(
        actor=ctx["citizen"],
        procedure_code="1.004227",
        channel="online",
        components=[{"order": 1, "on_paper": True}],
        at=vn(2025, 4, 1, 9),
    )
    reused = later.components.get(required__order=2)
    assert reused.reused_from == item and reused.provided
    assert AuditRecord.objects.filter(action="edata.reuse").count() == 1
    services.accept(later, actor=ctx["counter"], at=vn(2025, 4, 1, 10))  # nothing missing


def test_digitized_when_components_and_result_carry_files(ctx):
    scan = store_upload(PDF + b"scan", original_name="to-khai.pdf", user=ctx["citizen"])
    dossier = submit_online(
        ctx, components=[{"order": 1, "file_id": scan.sha256}, {"order": 2, "file_id": scan.sha256}]
    )
    process_to_result(ctx, dossier, vn(2025, 3, 10, 10), vn(2025, 3, 11, 9))
    dossier.refresh_from_db()
    assert not dossier.digitized
    services.attach_result(dossier, actor=ctx["counter"], file=store_upload(PDF, original_name="kq.pdf"))
    dossier.refresh_from_db()
    assert dossier.digitized and dossier.has_electronic_result


def test_paper_component_can_be_digitized_later(ctx):
    dossier = submit_online(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    component = services.attach_component_file(
        dossier, actor=ctx["specialist"], order=1, file=store_upload(PDF, original_name="scan.pdf")
    )
    assert component.digitized


def test_uploads_are_checked_by_content_not_name():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
    assert store_upload(png, original_name="giay-to.pdf").content_type == "image/png"
    with pytest.raises(DomainError) as error:
        store_upload(b"MZ\x90\x00 not a document", original_name="to-khai.pdf", field="components[1].file")
    assert error.value.field == "components[1].file" and "PDF, JPEG hoặc PNG" in error.value.message
    with pytest.raises(DomainError):
        store_upload(b"", original_name="empty.pdf")


def test_upload_size_limit(settings):
    settings.CQS = {**settings.CQS, "UPLOAD_MAX_BYTES": 100}
    with pytest.raises(DomainError, match="dung lượng"):
        store_upload(PDF + b"x" * 200, original_name="big.pdf")


def test_deadline_sweep_reminds_and_escalates_once(ctx, monkeypatch):
    from django.utils import timezone

    from chinhquyenso.dossiers.tasks import sweep_deadlines
    from chinhquyenso.exchange.models import Message

    dossier = submit_online(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))  # due 13/3 17:00
    monkeypatch.setattr(timezone, "now", lambda: vn(2025, 3, 12, 9))
    assert sweep_deadlines.call() == {"reminded": 1, "escalated": 0}
    monkeypatch.setattr(timezone, "now", lambda: vn(2025, 3, 14, 9))
    assert sweep_deadlines.call() == {"reminded": 0, "escalated": 1}
    assert sweep_deadlines.call() == {"reminded": 0, "escalated": 0}
    note = Message.objects.get(kind="dossiers.overdue")
    assert note.user == ctx["leader"] and dossier.code in note.body
    assert note.channel == "in_app" and note.state == "pending"  # delivered by the worker after commit
    assert note.link == f"https://dvc.example.gov.vn/can-bo/ho-so/{dossier.code}/"


def test_the_due_soon_reminder_goes_to_the_specialist_named_at_acceptance(ctx, admin_user, monkeypatch):
    from django.utils import timezone

    from chinhquyenso.accounts.models import Role
    from chinhquyenso.accounts.services import create_officer
    from chinhquyenso.dossiers.tasks import sweep_deadlines
    from chinhquyenso.exchange.models import Message

    agency = ctx["province"]["xa_a"]
    colleague = create_officer(
        actor=admin_user,
        username="xa_a.specialist2",
        password=None,
        full_name="Lê Văn Hai",
        memberships=[(agency, Role.SPECIALIST)],
    )
    named, shared = submit_online(ctx), submit_online(ctx)
    services.accept(named, actor=ctx["counter"], at=vn(2025, 3, 10, 10), assignee=colleague)
    services.accept(shared, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    monkeypatch.setattr(timezone, "now", lambda: vn(2025, 3, 12, 9))
    assert sweep_deadlines.call() == {"reminded": 3, "escalated": 0}
    told = Message.objects.filter(kind="dossiers.due_soon")
    assert [m.user for m in told.filter(source_id=str(named.pk))] == [colleague]
    assert {m.user for m in told.filter(source_id=str(shared.pk))} == {ctx["specialist"], colleague}


def test_events_record_every_state_with_timestamp(ctx):
    dossier = submit_online(ctx, components=[])
    services.request_supplement(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    services.supplement(dossier, actor=ctx["citizen"], components=PAPER, at=vn(2025, 3, 10, 11))
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 12))
    statuses = list(DossierEvent.objects.filter(dossier=dossier).values_list("to_status", "at"))
    assert [s for s, _ in statuses] == ["submitted", "supplement_requested", "submitted", "in_process"]
    assert [at for _, at in statuses] == sorted(at for _, at in statuses)


def test_reasons_and_comments_keep_their_lines(ctx):
    """Issue 17, item 8: multi-line texts keep their line breaks (core.text.nfc_lines)."""
    dossier = submit_online(ctx)
    comment = services.add_comment(
        dossier, actor=ctx["counter"], text="Cần xem lại:\r\n- tờ khai;\r\n- giấy chứng sinh. "
    )
    assert comment.text == "Cần xem lại:\n- tờ khai;\n- giấy chứng sinh."
    services.refuse(
        dossier, actor=ctx["counter"], reason="Lý do:\r\n\r\n\r\nKhông thuộc thẩm quyền.", at=vn(2025, 3, 10, 10)
    )
    assert (
        DossierEvent.objects.filter(dossier=dossier, action="refuse").get().note == "Lý do:\n\nKhông thuộc thẩm quyền."
    )
