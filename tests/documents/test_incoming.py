"""Incoming documents: registration by the clerk (arrival numbers per register and year), assignment
by a leader with a deadline in working days, handling to completion, statuses reported back to the
sender inside the province and over the bus, and who may do what."""

import datetime as dt

import pytest

from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.documents.models import Assignment, Document, Recipient
from chinhquyenso.documents.services import distribution
from chinhquyenso.documents.services import incoming as svc
from chinhquyenso.documents.services.incoming import Assignee
from chinhquyenso.exchange.models import Message
from tests.conftest import vn

from .incoming_support import deliver_internally, deliver_over_bus, document_type, issued_outgoing, pdf_with_text

pytestmark = pytest.mark.django_db
Status = Document.Status


def register(officers, province, where="ubnd", at=None, **fields):
    data = {
        "agency": province[where],
        "document_type": "cong-van",
        "excerpt": "V/v báo cáo tình hình thực hiện chuyển đổi số quý I",
        "sender_name": "Công ty Điện lực An Giang",
        "symbol": "123/ĐL-KD",
        "number": 123,
        "issued_on": dt.date(2025, 3, 5),
        **fields,
    }
    return svc.register_incoming(officers[where]["clerk"], at=at or vn(2025, 3, 7, 9), **data)


def test_the_clerk_registers_with_arrival_numbers_per_register_and_year(officers, province):
    first = register(officers, province, file=pdf_with_text("Báo cáo tình hình chuyển đổi số"))
    second = register(officers, province, excerpt="Giấy mời họp", received_by="email")
    other_agency = register(officers, province, where="tu_phap")
    next_year = register(officers, province, at=vn(2026, 1, 2, 9))
    assert (first.arrival_number, second.arrival_number, other_agency.arrival_number) == (1, 2, 1)
    assert next_year.arrival_number == 1 and next_year.register.year == 2026 and first.register.year == 2025
    assert first.status == Status.REGISTERED and first.arrival_date == dt.date(2025, 3, 7)
    assert first.register.direction == "incoming" and not first.electronic and second.electronic
    assert first.versions.get().kind == "received" and first.current_file.content_type == "application/pdf"
    # The PDF's text was read before the transaction and is searchable, folded.
    first.refresh_from_db()
    assert "chuyen doi so" in first.content_text.lower() or "chuyển đổi số" in first.content_text
    assert "chuyen doi so" in first.search_text and "123 dl kd" in first.search_text
    step = first.steps.get()
    assert step.action == "incoming_register" and "số đến 1" in step.text
    audit = AuditRecord.objects.filter(action="documents.incoming_register").first()
    assert audit is not None and "excerpt" not in audit.after and "V/v" not in str(audit.after)


def test_registration_refuses_what_it_must(officers, province):
    with pytest.raises(DomainError) as secret:
        register(officers, province, confidentiality="secret")
    assert secret.value.field == "confidentiality" and "bí mật nhà nước" in secret.value.message
    with pytest.raises(PermissionDenied):
        svc.register_incoming(
            officers["ubnd"]["specialist"],
            agency=province["ubnd"],
            document_type="cong-van",
            excerpt="x",
            sender_name="y",
            at=vn(2025, 3, 7, 9),
        )
    with pytest.raises(PermissionDenied):  # a clerk of another agency
        svc.register_incoming(
            officers["tu_phap"]["clerk"],
            agency=province["ubnd"],
            document_type="cong-van",
            excerpt="x",
            sender_name="y",
            at=vn(2025, 3, 7, 9),
        )
    for field, value in [
        ("excerpt", ""),
        ("sender_name", " "),
        ("document_type", "khong-co"),
        ("urgency", "gap"),
        ("arrival_date", dt.date(2025, 3, 8)),
        ("issued_on", dt.date(2025, 3, 9)),
    ]:
        with pytest.raises(DomainError) as error:
            register(officers, province, **{field: value})
        assert error.value.field == field, field
    assert not Document.objects.exists()


def test_the_same_form_sent_twice_registers_once(officers, province):
    first = register(officers, province, key="form-1")
    again = register(officers, province, key="form-1")
    assert again.pk == first.pk and Document.objects.count() == 1
    assert register(officers, province, key="form-2").arrival_number == 2


def test_assign_handle_and_finish_with_statuses_back_to_the_sender_inside_the_province(officers, province):
    sender, receiver = province["huyen"], province["ubnd"]
    outgoing = issued_outgoing(sender, excerpt="Tờ trình phê duyệt quy hoạch", at=vn(2025, 3, 6, 10))
    document = deliver_internally(outgoing, receiver, at=vn(2025, 3, 6, 11))
    recipient = Recipient.objects.get(document=outgoing)
    assert recipient.status == "received" and document.status == Status.REGISTERED

    leader, unit = officers["ubnd"]["leader"], province["tu_phap"]
    person = officers["tu_phap"]["specialist"]
    tasks = svc.assign(
        document,
        leader,
        assignees=[
            Assignee(agency_id=unit.pk, user_id=person.pk, role="lead"),
            Assignee(agency_id=province["cong_an"].pk, role="support"),
            Assignee(user_id=officers["ubnd"]["specialist"].pk, role="inform"),
        ],
        instructions="Sở Tư pháp chủ trì, thẩm định và báo cáo.",
        deadline_days=3,
        at=vn(2025, 3, 7, 9),  # Friday before 15:00: counting starts that day (not counted)
    )
    document.refresh_from_db()
    recipient.refresh_from_db()
    lead, support, inform = tasks
    assert lead.deadline == dt.date(2025, 3, 12) and support.deadline == dt.date(2025, 3, 12)
    assert inform.deadline is None and lead.instructions.startswith("Sở Tư pháp chủ trì")
    assert document.status == Status.ASSIGNED and document.deadline == dt.date(2025, 3, 12)
    assert recipient.status == "assigned" and recipient.assigned_at == vn(2025, 3, 7, 9)
    notices = Message.objects.filter(kind="documents.assigned")
    # the named person; the supporting unit's leader (no person named); the person "để biết"
    assert set(notices.values_list("user_id", flat=True)) == {
        person.pk,
        officers["cong_an"]["leader"].pk,
        officers["ubnd"]["specialist"].pk,
    }

    svc.start(lead, person, at=vn(2025, 3, 10, 8))
    document.refresh_from_db()
    recipient.refresh_from_db()
    assert document.status == Status.IN_PROCESS and recipient.status == "in_process"
    svc.record_progress(lead, person, note="Đã lấy ý kiến các phòng.", at=vn(2025, 3, 11, 8))
    lead.refresh_from_db()
    assert lead.progress_note == "11/03/2025: Đã lấy ý kiến các phòng."

    # The supporting unit finishing does not finish the document; the lead does.
    svc.complete(support, officers["cong_an"]["leader"], result_note="Đã góp ý.", at=vn(2025, 3, 11, 9))
    document.refresh_from_db()
    assert document.status == Status.IN_PROCESS
    svc.complete(lead, person, result_note="Đã thẩm định, trình UBND tỉnh.", at=vn(2025, 3, 12, 16))
    document.refresh_from_db()
    recipient.refresh_from_db()
    assert document.status == Status.DONE and document.completed_at == vn(2025, 3, 12, 16)
    assert recipient.status == "done" and recipient.done_at == vn(2025, 3, 12, 16)
    # The sender's timeline shows each status; the receiver's its own steps.
    sender_steps = list(outgoing.steps.filter(action="recipient_status").values_list("text", flat=True))
    assert [s.split(": ")[-1] for s in sender_steps] == ["Đã phân công", "Đang xử lý", "Đã xử lý xong"]
    actions = list(document.steps.values_list("action", flat=True))
    assert actions == [
        "receive",
        "assign",
        "assignment_start",
        "assignment_progress",
        "assignment_done",
        "assignment_done",
    ]
    codes = set(AuditRecord.objects.values_list("action", flat=True))
    assert {"documents.assign", "documents.assignment_start", "documents.assignment_done"} <= codes


def test_statuses_of_a_document_from_outside_go_back_over_the_bus(officers, province):
    document = deliver_over_bus(province["ubnd"], at=vn(2025, 3, 6, 11), excerpt="Hướng dẫn tinh giản biên chế")
    leader, person = officers["ubnd"]["leader"], officers["ubnd"]["specialist"]
    (task,) = svc.assign(
        document, leader, assignees=[Assignee(user_id=person.pk)], deadline=dt.date(2025, 3, 20), at=vn(2025, 3, 7, 9)
    )
    svc.complete(task, person, result_note="Đã triển khai.", at=vn(2025, 3, 10, 9))
    reports = Message.objects.filter(kind=distribution.KIND_STATUS).order_by("pk")
    statuses = [m.source_id for m in reports]
    assert len(statuses) == 3 and all(s == str(document.pk) for s in statuses)
    bodies = [m.body for m in reports]
    assert ['"assigned"' in b for b in bodies] == [True, False, False]
    assert '"in_process"' in bodies[1] and '"done"' in bodies[2]


def test_who_may_assign_and_handle(officers, province):
    document = register(officers, province, where="huyen")
    h = officers["huyen"]
    person, leader = h["specialist"], h["leader"]
    with pytest.raises(PermissionDenied):  # a specialist does not assign
        svc.assign(document, person, assignees=[Assignee(user_id=person.pk)], at=vn(2025, 3, 7, 9))
    with pytest.raises(PermissionDenied):  # a leader of another agency neither
        svc.assign(document, officers["ubnd"]["leader"], assignees=[Assignee(user_id=person.pk)], at=vn(2025, 3, 7, 9))
    with pytest.raises(DomainError) as outside:  # a unit outside the receiving agency (a sibling)
        svc.assign(document, leader, assignees=[Assignee(agency_id=province["tu_phap"].pk)], at=vn(2025, 3, 7, 9))
    assert outside.value.field == "assignees"
    with pytest.raises(DomainError):  # a person who does not work there
        svc.assign(
            document, leader, assignees=[Assignee(user_id=officers["tu_phap"]["specialist"].pk)], at=vn(2025, 3, 7, 9)
        )
    with pytest.raises(DomainError):  # a person named with a unit they do not belong to
        svc.assign(
            document,
            leader,
            assignees=[Assignee(agency_id=province["xa_a"].pk, user_id=person.pk)],
            at=vn(2025, 3, 7, 9),
        )
    with pytest.raises(DomainError):  # two leads
        svc.assign(
            document,
            leader,
            assignees=[Assignee(user_id=person.pk), Assignee(agency_id=province["xa_a"].pk)],
            at=vn(2025, 3, 7, 9),
        )
    with pytest.raises(DomainError) as past:
        svc.assign(
            document,
            leader,
            assignees=[Assignee(user_id=person.pk)],
            deadline=dt.date(2025, 3, 6),
            at=vn(2025, 3, 7, 9),
        )
    assert past.value.field == "deadline"
    with pytest.raises(DomainError) as both:
        svc.assign(
            document,
            leader,
            assignees=[Assignee(user_id=person.pk)],
            deadline=dt.date(2025, 3, 20),
            deadline_days=3,
            at=vn(2025, 3, 7, 9),
        )
    assert both.value.field == "deadline"
    assert not Assignment.objects.exists()
    (task,) = svc.assign(document, leader, assignees=[Assignee(user_id=person.pk)], at=vn(2025, 3, 7, 9))
    with pytest.raises(DomainError):  # a second lead while the first is open
        svc.assign(document, leader, assignees=[Assignee(agency_id=province["xa_a"].pk)], at=vn(2025, 3, 7, 10))
    with pytest.raises(PermissionDenied):  # someone else cannot report it done
        svc.complete(task, h["clerk"], result_note="Xong", at=vn(2025, 3, 8, 9))
    svc.cancel_assignment(task, leader, reason="Giao lại", at=vn(2025, 3, 7, 11))
    task.refresh_from_db()
    assert task.status == Assignment.Status.CANCELLED
    with pytest.raises(DomainError):
        svc.complete(task, person, result_note="Xong", at=vn(2025, 3, 8, 9))
    (unit_task,) = svc.assign(
        document, leader, assignees=[Assignee(agency_id=province["xa_a"].pk)], at=vn(2025, 3, 7, 12)
    )
    # A unit named without a person: its specialists and leaders handle it; its clerk does not.
    assert svc.may_handle(officers["xa_a"]["specialist"], unit_task)
    assert not svc.may_handle(officers["xa_a"]["clerk"], unit_task)
    svc.complete(unit_task, officers["xa_a"]["specialist"], result_note="Xong", at=vn(2025, 3, 9, 9))
    document.refresh_from_db()
    assert document.status == Status.DONE


def test_an_auditor_changes_nothing(officers, province, admin_user):
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole

    auditor = accounts.create_officer(
        actor=admin_user,
        username="kiem.tra",
        password="Mat-khau-2025",
        full_name="Kiểm tra",
        global_role=GlobalRole.AUDITOR,
    )
    document = register(officers, province)
    with pytest.raises(PermissionDenied):
        svc.assign(document, auditor, assignees=[Assignee(user_id=auditor.pk)], at=vn(2025, 3, 7, 9))


def test_return_a_misaddressed_document(officers, province):
    outgoing = issued_outgoing(province["huyen"], excerpt="Gửi nhầm nơi nhận", at=vn(2025, 3, 6, 10))
    document = deliver_internally(outgoing, province["ubnd"], at=vn(2025, 3, 6, 11))
    svc.return_incoming(document, officers["ubnd"]["clerk"], reason="Không thuộc thẩm quyền", at=vn(2025, 3, 7, 9))
    document.refresh_from_db()
    assert document.status == Status.RETURNED
    assert Recipient.objects.get(document=outgoing).status == "returned"
    with pytest.raises(DomainError):
        svc.assign(
            document,
            officers["ubnd"]["leader"],
            assignees=[Assignee(user_id=officers["ubnd"]["specialist"].pk)],
            at=vn(2025, 3, 7, 10),
        )


def test_directive_documents_make_directive_tasks(officers, province):
    outgoing = issued_outgoing(
        province["ubnd"], excerpt="Chỉ thị về phòng chống hạn mặn", at=vn(2025, 3, 3, 9), is_directive=True
    )
    document = deliver_internally(outgoing, province["huyen"], at=vn(2025, 3, 3, 10))
    assert document.is_directive and document.document_type == document_type("quyet-dinh")
    lead, info = svc.assign(
        document,
        officers["huyen"]["leader"],
        assignees=[Assignee(agency_id=province["xa_a"].pk), Assignee(agency_id=province["xa_b"].pk, role="inform")],
        deadline=dt.date(2025, 3, 14),
        at=vn(2025, 3, 4, 9),
    )
    assert lead.is_directive and not info.is_directive  # "để biết" is no task
