"""Incoming documents (văn bản đến): registration by the clerk (văn thư), assignment by a leader
(phân công, bút phê), handling by the assignees, completion — each change told to the sender
(distribution.report_status: the internal sender's Recipient row, or a status message over the
bus) in the same transaction, as the national e-document exchange does (received → assigned →
in process → done).

Every action goes through the documents Workflow (documents.workflow.DOCUMENTS): read-only accounts
refused, the document's row locked, then the actor's role checked in the document's agency, then
the timeline row, the audit record "documents.<action>" and the event, one transaction.

Who does what (Nghị định 30/2020, Điều 20–24):
- the clerk (Role.CLERK) of the receiving agency registers paper and e-mail documents
  (`register_incoming`; documents arriving inside the province or over the bus are registered by
  distribution.deliver_incoming) and may return a misaddressed one (`return_incoming`);
- a leader (Role.LEADER) of the receiving agency assigns it (`assign`): to a unit (the agency or one
  of its units below it) and/or a person, chủ trì / phối hợp / để biết, with instructions and a
  deadline (a date, or working days from the province calendar); a leader may cancel an
  assignment (`cancel_assignment`);
- the assignee (the person named, else a leader or specialist of the unit named) starts it, records
  progress and reports it done with a result note and, where there is one, the outgoing document
  that answers it (`start`, `record_progress`, `complete`). The document is done when every lead
  (chủ trì) assignment is done — when none is lead, every supporting one.

"Văn bản chỉ đạo": a directive document's assignments are tasks (`Assignment.is_directive`)
followed to completion (documents.selectors.directive_tasks)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from chinhquyenso.accounts.access import require_role
from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.core import uploads
from chinhquyenso.core.calendar import calendar_for, local_date
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc, nfc_lines
from chinhquyenso.core.workflow import caller_of, idempotent, now
from chinhquyenso.documents import search
from chinhquyenso.documents.models import (
    Assignment,
    Confidentiality,
    Direction,
    Document,
    DocumentType,
    DocumentVersion,
    Urgency,
)
from chinhquyenso.documents.services import attachments as attached_files
from chinhquyenso.documents.services import distribution, numbering
from chinhquyenso.documents.workflow import DOCUMENTS
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.org.models import Agency

Status = Document.Status
OPEN = (Assignment.Status.ASSIGNED, Assignment.Status.IN_PROCESS)
HANDLING = (Status.REGISTERED, Status.ASSIGNED, Status.IN_PROCESS)
MAX_DEADLINE_DAYS = 250  # working days: about a year
MAX_ASSIGNEES = 30
SECRET_MESSAGE = (
    "Văn bản mật (Mật, Tối mật, Tuyệt mật) không được xử lý trên hệ thống này: "
    "thực hiện theo quy định về bảo vệ bí mật nhà nước."
)


class ReceivedBy:
    """How a document the clerk registers by hand arrived."""

    PAPER = "paper"
    EMAIL = "email"
    CHOICES = {PAPER: "Bản giấy", EMAIL: "Thư điện tử"}


def _text(value, field: str, label: str, *, max_length: int, required: bool = False, lines: bool = False) -> str:
    text = nfc_lines(value) if lines else nfc(value)
    if required and not text:
        raise DomainError(f"Chưa nhập {label}.", field)
    if len(text) > max_length:
        raise DomainError(f"{label[:1].upper()}{label[1:]} dài quá {max_length} ký tự.", field)
    return text


def _choice(value: str, choices, field: str, label: str) -> str:
    if value not in choices:
        raise DomainError(f"{label} không hợp lệ.", field)
    return value


def refuse_secret(confidentiality: str) -> None:
    if confidentiality != Confidentiality.NORMAL:
        if confidentiality in Confidentiality.values:
            raise DomainError(SECRET_MESSAGE, "confidentiality")
        raise DomainError("Độ mật không hợp lệ.", "confidentiality")


def _document_type(value) -> DocumentType:
    if isinstance(value, DocumentType):
        return value
    found = DocumentType.objects.filter(code=str(value or ""), active=True).first()
    if found is None:
        raise DomainError("Loại văn bản không hợp lệ.", "document_type")
    return found


def _link(document: Document) -> str:
    try:
        return reverse("documents:document", args=[document.pk])
    except NoReverseMatch:  # the pages are not mounted (a worker-only installation)
        return ""


# ---------------------------------------------------------------- registration by the clerk


@dataclass
class IncomingData:
    """The validated fields of a document registered by hand."""

    document_type: DocumentType
    excerpt: str
    sender_name: str
    sender_agency_id: int | None
    sender_code: str
    number: int | None
    symbol: str
    issued_on: dt.date | None
    signer_name: str
    signer_title: str
    urgency: str
    is_directive: bool
    deadline: dt.date | None
    received_by: str
    arrival_date: dt.date | None


def register_incoming(
    actor,
    *,
    agency: Agency,
    document_type,
    excerpt: str,
    sender_name: str = "",
    sender_agency: Agency | None = None,
    sender_code: str = "",
    number: int | None = None,
    symbol: str = "",
    issued_on: dt.date | None = None,
    signer_name: str = "",
    signer_title: str = "",
    urgency: str = Urgency.NORMAL,
    confidentiality: str = Confidentiality.NORMAL,
    is_directive: bool = False,
    deadline: dt.date | None = None,
    received_by: str = ReceivedBy.PAPER,
    arrival_date: dt.date | None = None,
    file=None,
    attachments=(),
    key: str = "",
    at: dt.datetime | None = None,
) -> Document:
    """The clerk enters a paper or e-mail document in the agency's incoming register: the next
    arrival number (số đến) of the register of the arrival year, the arrival date, the sender, the
    sender's number/symbol/date, type, trích yếu, urgency and the scanned or received file.

    `file`: an UploadedFile, bytes, or a StoredFile already granted to the actor. Its text is read
    here, before the transaction (a PDF is never parsed while rows are locked). `attachments`: the
    files that came with it (uploads or StoredFiles, PDF). `key`: the form's
    idempotency key — sending the form again returns the first document."""
    refuse_secret(confidentiality)
    at = now(at)
    today = local_date(at)
    data = IncomingData(
        document_type=_document_type(document_type),
        excerpt=_text(excerpt, "excerpt", "trích yếu", max_length=1000, required=True, lines=True),
        sender_name=_text(
            sender_name or (sender_agency.name if sender_agency else ""),
            "sender_name",
            "cơ quan gửi",
            max_length=255,
            required=True,
        ),
        sender_agency_id=sender_agency.pk if sender_agency else None,
        sender_code=_text(
            sender_code or (sender_agency.electronic_code if sender_agency else ""),
            "sender_code",
            "mã định danh cơ quan gửi",
            max_length=30,
        ),
        number=number,
        symbol=_text(symbol, "symbol", "số, ký hiệu", max_length=100),
        issued_on=issued_on,
        signer_name=_text(signer_name, "signer_name", "người ký", max_length=150),
        signer_title=_text(signer_title, "signer_title", "chức vụ người ký", max_length=150),
        urgency=_choice(urgency, Urgency.values, "urgency", "Độ khẩn"),
        is_directive=bool(is_directive),
        deadline=deadline,
        received_by=_choice(received_by, ReceivedBy.CHOICES, "received_by", "Hình thức nhận"),
        arrival_date=arrival_date or today,
    )
    if number is not None and not 0 < number < 10**9:
        raise DomainError("Số văn bản không hợp lệ.", "number")
    if data.arrival_date > today:
        raise DomainError("Ngày đến không được sau hôm nay.", "arrival_date")
    if data.issued_on and data.issued_on > data.arrival_date:
        raise DomainError("Ngày ban hành không được sau ngày đến.", "issued_on")
    if data.deadline and data.deadline < data.arrival_date:
        raise DomainError("Hạn xử lý không được trước ngày đến.", "deadline")
    require_role(actor, agency.pk, Role.CLERK, message="Chỉ văn thư của cơ quan được vào sổ văn bản đến.")

    def prepare():
        stored = None
        if file is not None:
            stored = file if hasattr(file, "sha256") else uploads.store_upload(file, field="file", user=actor)
        content = ""
        if stored is not None and stored.content_type == "application/pdf":
            with stored.file.open("rb") as handle:
                content = search.pdf_text(handle.read(search.MAX_PDF_BYTES + 1))
        return stored, content, attached_files.store_all(attachments, actor)

    def create(prepared):
        stored, content, extra_files = prepared
        document = _create_registered(actor, agency, data, stored, content, at)
        attached_files.attach(document, extra_files, actor)
        return document

    payload = {
        "agency": agency.pk,
        "type": data.document_type.code,
        "excerpt": data.excerpt,
        "sender": data.sender_name,
        "symbol": data.symbol,
        "arrival": data.arrival_date.isoformat(),
    }
    return idempotent(
        "documents.incoming.register",
        key=key,
        caller=caller_of(actor),
        payload=payload,
        create=create,
        prepare=prepare,
    )


def _create_registered(actor, agency, data: IncomingData, stored, content: str, at) -> Document:
    register = numbering.register_for(agency, Direction.INCOMING, year=data.arrival_date.year)
    document = Document(
        direction=Direction.INCOMING,
        agency=agency,
        register=register,
        status=Status.REGISTERED,
        document_type=data.document_type,
        number=data.number,
        symbol=data.symbol,
        excerpt=data.excerpt,
        issued_on=data.issued_on,
        signer_name=data.signer_name,
        signer_title=data.signer_title,
        urgency=data.urgency,
        is_directive=data.is_directive,
        deadline=data.deadline,
        current_file=stored,
        electronic=data.received_by == ReceivedBy.EMAIL,
        created_by=actor,
        sender_agency_id=data.sender_agency_id,
        sender_code=data.sender_code,
        sender_name=data.sender_name,
        arrival_date=data.arrival_date,
    )
    # Lock order: the new row has no lock to take; the register's counter comes next, then the audit head.
    document.arrival_number = numbering.take_number(register)
    document.save()
    if stored is not None:
        DocumentVersion.objects.create(
            document=document, number=1, kind=DocumentVersion.Kind.RECEIVED, file=stored, author=actor
        )
    how = ReceivedBy.CHOICES[data.received_by].lower()
    DOCUMENTS.created(
        document,
        actor=actor,
        action="incoming_register",
        at=at,
        text=f"Vào sổ văn bản đến, số đến {document.arrival_number} ({how}).",
        audit_extra={"received_by": data.received_by},
    )
    if stored is not None and hasattr(document, "content_sha256"):
        document.content_sha256 = stored.sha256
        Document.objects.filter(pk=document.pk).update(content_sha256=stored.sha256)
    search.index_document(document, content_text=content)
    return document


def return_incoming(document: Document, actor, *, reason: str, at: dt.datetime | None = None) -> Document:
    """Return a document not yet assigned to its sender (sent to the wrong agency, incomplete):
    the clerk or a leader; the sender is told."""
    reason = _text(reason, "reason", "lý do trả lại", max_length=500, required=True)

    @DOCUMENTS.action
    def run(document):
        locked, moment = DOCUMENTS.begin(document, actor, at)
        _require_incoming(locked)
        require_role(
            actor, locked.agency_id, Role.CLERK, Role.LEADER, message="Chỉ văn thư hoặc lãnh đạo được trả lại văn bản."
        )
        DOCUMENTS.require(locked, Status.REGISTERED, action="trả lại")
        DOCUMENTS.transition(
            locked, actor=actor, action="incoming_return", to_status=Status.RETURNED, at=moment, text=reason
        )
        distribution.report_status(locked, "returned", actor, note=reason, at=moment)
        return locked

    return run(document)


# ---------------------------------------------------------------- assignment by a leader


@dataclass(frozen=True)
class Assignee:
    """One line of an assignment: a unit and/or a person, their role, and optionally a deadline and
    instructions of their own (else the assignment's)."""

    agency_id: int | None = None
    user_id: int | None = None
    role: str = Assignment.Role.LEAD
    deadline: dt.date | None = None
    instructions: str = ""


def _require_incoming(document: Document) -> None:
    if document.direction != Direction.INCOMING:
        raise DomainError("Thao tác này chỉ dành cho văn bản đến.", "document")


def unit_ids(agency_id: int) -> set[int]:
    """The agency and every current unit under it (a department's divisions, a district's communes)."""
    found, frontier = {agency_id}, {agency_id}
    for _ in range(6):  # province → district → commune → … never deeper in practice
        frontier = (
            set(Agency.objects.filter(parent_id__in=frontier, valid_to__isnull=True).values_list("pk", flat=True))
            - found
        )
        if not frontier:
            break
        found |= frontier
    return found


def deadline_from(
    *, deadline: dt.date | None, deadline_days: int | None, at: dt.datetime, field: str = "deadline"
) -> dt.date | None:
    """A deadline given as a date, or as working days counted from the province calendar (the day
    counting starts is today before the 15:00 cut-off, else the next working day; not counted)."""
    if deadline is not None and deadline_days is not None:
        raise DomainError("Chỉ nhập hạn xử lý theo ngày hoặc theo số ngày làm việc, không nhập cả hai.", field)
    if deadline_days is not None:
        if not 1 <= int(deadline_days) <= MAX_DEADLINE_DAYS:
            raise DomainError(f"Số ngày làm việc phải từ 1 đến {MAX_DEADLINE_DAYS}.", field)
        calendar = calendar_for(at, days_after=2 * MAX_DEADLINE_DAYS)
        return calendar.add_working_days(calendar.start_day(at), int(deadline_days))
    if deadline is not None and deadline < local_date(at):
        raise DomainError("Hạn xử lý không được trước hôm nay.", field)
    return deadline


def _members(user_id: int, agency_ids: set[int]) -> bool:
    return Membership.objects.filter(user_id=user_id, agency_id__in=agency_ids, user__is_active=True).exists()


def assign(
    document: Document,
    actor,
    *,
    assignees: list[Assignee],
    instructions: str = "",
    deadline: dt.date | None = None,
    deadline_days: int | None = None,
    is_directive: bool | None = None,
    at: dt.datetime | None = None,
) -> list[Assignment]:
    """A leader of the receiving agency assigns the document (phân công, bút phê): to units of the
    agency (itself or a unit under it) and/or people working there, each chủ trì, phối hợp or để
    biết, with the leader's instructions and a deadline. The first assignment moves the document
    from "registered" to "assigned" and tells the sender; later ones add assignees. At most one
    chủ trì is open at a time. The assignees get an in-app notice."""
    instructions = _text(instructions, "instructions", "ý kiến chỉ đạo", max_length=2000, lines=True)
    if not assignees:
        raise DomainError("Chọn ít nhất một đơn vị hoặc người xử lý.", "assignees")
    if len(assignees) > MAX_ASSIGNEES:
        raise DomainError(f"Mỗi lần phân công tối đa {MAX_ASSIGNEES} đơn vị, người xử lý.", "assignees")
    moment_for_deadline = now(at)
    common_deadline = deadline_from(deadline=deadline, deadline_days=deadline_days, at=moment_for_deadline)
    lines = []
    for line in assignees:
        role = _choice(line.role, Assignment.Role.values, "assignees", "Vai trò xử lý")
        if line.agency_id is None and line.user_id is None:
            raise DomainError("Mỗi dòng phân công cần một đơn vị hoặc một người xử lý.", "assignees")
        own_deadline = deadline_from(deadline=line.deadline, deadline_days=None, at=moment_for_deadline)
        own = _text(line.instructions, "assignees", "ý kiến chỉ đạo", max_length=2000, lines=True)
        lines.append((line, role, own_deadline, own))
    if sum(1 for _, role, _, _ in lines if role == Assignment.Role.LEAD) > 1:
        raise DomainError("Chỉ giao một đơn vị hoặc người chủ trì.", "assignees")

    @DOCUMENTS.action
    def run(document):
        locked, moment = DOCUMENTS.begin(document, actor, at)
        _require_incoming(locked)
        require_role(actor, locked.agency_id, Role.LEADER, message="Chỉ lãnh đạo cơ quan nhận được phân công xử lý.")
        DOCUMENTS.require(locked, *HANDLING, action="phân công xử lý")
        units = unit_ids(locked.agency_id)
        open_lead = locked.assignments.filter(status__in=OPEN, role=Assignment.Role.LEAD).exists()
        directive = locked.is_directive if is_directive is None else bool(is_directive)
        created = []
        for line, role, own_deadline, own in lines:
            if line.agency_id is not None and line.agency_id not in units:
                raise DomainError("Đơn vị được giao phải là cơ quan nhận hoặc đơn vị trực thuộc.", "assignees")
            if line.user_id is not None and not _members(
                line.user_id, {line.agency_id} if line.agency_id is not None else units
            ):
                raise DomainError("Người được giao phải là cán bộ của đơn vị được giao.", "assignees")
            if role == Assignment.Role.LEAD and open_lead:
                raise DomainError(
                    "Văn bản đã có đơn vị, người chủ trì đang xử lý: hủy phân công đó trước khi giao chủ trì mới.",
                    "assignees",
                )
            created.append(
                Assignment.objects.create(
                    document=locked,
                    agency_id=line.agency_id,
                    user_id=line.user_id,
                    role=role,
                    instructions=own or instructions,
                    # "Để biết" is for information: nothing to finish, no deadline to chase.
                    deadline=None if role == Assignment.Role.INFORM else (own_deadline or common_deadline),
                    is_directive=directive and role != Assignment.Role.INFORM,
                    assigned_by=actor,
                    assigned_at=moment,
                )
            )
        lead_deadlines = [a.deadline for a in created if a.role == Assignment.Role.LEAD and a.deadline]
        changes = {"is_directive": directive}
        if lead_deadlines:
            changes["deadline"] = min(lead_deadlines)
        elif common_deadline and not locked.deadline:
            changes["deadline"] = common_deadline
        first = locked.status == Status.REGISTERED
        DOCUMENTS.transition(
            locked,
            actor=actor,
            action="assign",
            to_status=Status.ASSIGNED if first else locked.status,
            at=moment,
            changes=changes,
            audit_extra={"assignments": [a.pk for a in created], "deadline": str(changes.get("deadline") or "")},
            text=instructions,
            assignment=created[0],
        )
        if first:
            distribution.report_status(locked, "assigned", actor, note="", at=moment)
        _notify_assigned(locked, created, moment)
        return created

    return run(document)


def _handlers(assignment: Assignment) -> list:
    """Who is told of an assignment: the person named, else the unit's leaders."""
    from chinhquyenso.accounts.models import User

    if assignment.user_id:
        return list(User.objects.filter(pk=assignment.user_id, is_active=True))
    ids = Membership.objects.filter(agency_id=assignment.agency_id, role=Role.LEADER, user__is_active=True).values(
        "user_id"
    )
    return list(User.objects.filter(pk__in=ids).order_by("pk"))


def _notify_assigned(document: Document, assignments: list[Assignment], at) -> None:
    link = _link(document)
    for assignment in assignments:
        due = f", hạn xử lý {assignment.deadline:%d/%m/%Y}" if assignment.deadline else ""
        text = (
            f"Văn bản đến số {document.arrival_number} ({document.symbol or document.document_type.name}) "
            f"được giao {assignment.get_role_display().lower()}{due}."
        )
        for user in _handlers(assignment):
            outbox.enqueue(
                channel=Message.Channel.IN_APP,
                kind="documents.assigned",
                user=user,
                subject=text,
                body=text,
                agency_id=document.agency_id,
                link=link,
                source=document,
                dedup_key=f"documents.assigned:{assignment.pk}:{user.pk}",
                at=at,
            )


def cancel_assignment(assignment: Assignment, actor, *, reason: str, at: dt.datetime | None = None) -> Assignment:
    """A leader of the receiving agency withdraws an open assignment (wrong unit, reassigned)."""
    reason = _text(reason, "reason", "lý do hủy phân công", max_length=500, required=True)

    @DOCUMENTS.action
    def run(document):
        locked, moment = DOCUMENTS.begin(document, actor, at)
        require_role(actor, locked.agency_id, Role.LEADER, message="Chỉ lãnh đạo cơ quan nhận được hủy phân công.")
        task = _locked_assignment(locked, assignment)
        if task.status not in OPEN:
            raise DomainError("Chỉ hủy được phân công đang xử lý.", "status")
        task.status = Assignment.Status.CANCELLED
        task.completed_at = moment
        task.save(update_fields=["status", "completed_at"])
        DOCUMENTS.transition(
            locked,
            actor=actor,
            action="assignment_cancel",
            to_status=locked.status,
            at=moment,
            audit_extra={"assignment": task.pk},
            text=reason,
            assignment=task,
        )
        return task

    return run(assignment.document)


# ---------------------------------------------------------------- handling by the assignee


def may_handle(user, assignment: Assignment) -> bool:
    """The person named; else a leader or specialist of the unit named; and a leader of the unit
    in any case (they answer for it)."""
    if not getattr(user, "pk", None):
        return False
    if assignment.user_id == user.pk:
        return True
    if assignment.agency_id is None:
        return False
    roles = [Role.LEADER] if assignment.user_id else [Role.LEADER, Role.SPECIALIST]
    return Membership.objects.filter(user=user, agency_id=assignment.agency_id, role__in=roles).exists()


def _locked_assignment(document: Document, assignment: Assignment) -> Assignment:
    # The document's row is locked first (lock order), then its assignment.
    task = Assignment.objects.select_for_update().filter(pk=assignment.pk, document=document).first()
    if task is None:
        raise DomainError("Không tìm thấy phân công này.", "assignment")
    return task


def _require_handler(actor, task: Assignment) -> None:
    from chinhquyenso.core.errors import PermissionDenied

    if not may_handle(actor, task):
        raise PermissionDenied("Chỉ người, đơn vị được giao mới cập nhật được việc xử lý.")


def _handling_status(locked: Document, task: Assignment) -> str:
    """The assignment moves to "in process"; the document's status after the first handling."""
    if task.status == Assignment.Status.ASSIGNED:
        task.status = Assignment.Status.IN_PROCESS
    return Status.IN_PROCESS if locked.status == Status.ASSIGNED else locked.status


def start(assignment: Assignment, actor, *, note: str = "", at: dt.datetime | None = None) -> Assignment:
    """The assignee starts handling (đang xử lý)."""
    return record_progress(assignment, actor, note=note, at=at, action="assignment_start")


def record_progress(
    assignment: Assignment, actor, *, note: str, at: dt.datetime | None = None, action: str = "assignment_progress"
) -> Assignment:
    """The assignee records how far the handling is (a line in the progress notes, dated); the
    first one starts the handling."""
    note = _text(
        note, "note", "nội dung tiến độ", max_length=1000, required=action == "assignment_progress", lines=True
    )

    @DOCUMENTS.action
    def run(document):
        locked, moment = DOCUMENTS.begin(document, actor, at)
        task = _locked_assignment(locked, assignment)
        _require_handler(actor, task)
        if task.status not in OPEN:
            raise DomainError("Phân công này đã kết thúc.", "status")
        from_status = locked.status
        to_status = _handling_status(locked, task)
        if note:
            line = f"{local_date(moment):%d/%m/%Y}: {note}"
            task.progress_note = (f"{task.progress_note}\n{line}" if task.progress_note else line)[-4000:]
        task.save(update_fields=["status", "progress_note"])
        DOCUMENTS.transition(
            locked,
            actor=actor,
            action=action,
            to_status=to_status,
            at=moment,
            audit_extra={"assignment": task.pk},
            text=note,
            assignment=task,
        )
        if from_status != to_status:
            distribution.report_status(locked, "in_process", actor, note="", at=moment)
        return task

    return run(assignment.document)


def complete(
    assignment: Assignment,
    actor,
    *,
    result_note: str,
    result_document: Document | None = None,
    at: dt.datetime | None = None,
) -> Assignment:
    """The assignee reports the assignment done, with what was done and, where there is one, the
    outgoing document that answers it. When every lead assignment is done (every supporting one
    when there is no lead) the document is done and the sender is told."""
    result_note = _text(result_note, "result_note", "kết quả xử lý", max_length=4000, required=True, lines=True)

    @DOCUMENTS.action
    def run(document):
        locked, moment = DOCUMENTS.begin(document, actor, at)
        task = _locked_assignment(locked, assignment)
        _require_handler(actor, task)
        if task.status not in OPEN:
            raise DomainError("Phân công này đã kết thúc.", "status")
        if result_document is not None and not (
            result_document.direction == Direction.OUTGOING and result_document.agency_id in unit_ids(locked.agency_id)
        ):
            raise DomainError("Văn bản trả lời phải là văn bản đi của cơ quan, đơn vị xử lý.", "result_document")
        from_status = locked.status
        to_status = _handling_status(locked, task)
        task.status = Assignment.Status.DONE
        task.completed_at = moment
        task.result_note = result_note
        task.result_document = result_document
        task.save(update_fields=["status", "completed_at", "result_note", "result_document"])
        finished = _all_done(locked)
        changes = {"completed_at": moment} if finished else {}
        DOCUMENTS.transition(
            locked,
            actor=actor,
            action="assignment_done",
            to_status=Status.DONE if finished else to_status,
            at=moment,
            changes=changes,
            audit_extra={"assignment": task.pk, "document_done": finished},
            text=result_note,
            assignment=task,
        )
        if from_status == Status.ASSIGNED:
            distribution.report_status(locked, "in_process", actor, note="", at=moment)
        if finished:
            distribution.report_status(locked, "done", actor, note=result_note[:500], at=moment)
        return task

    return run(assignment.document)


def _all_done(document: Document) -> bool:
    tasks = list(document.assignments.exclude(status=Assignment.Status.CANCELLED).values_list("role", "status"))
    leads = [status for role, status in tasks if role == Assignment.Role.LEAD]
    counted = leads or [status for role, status in tasks if role == Assignment.Role.SUPPORT]
    return bool(counted) and all(status == Assignment.Status.DONE for status in counted)


# The audit actions this module writes (documents.labels names them).
AUDIT_ACTIONS = {
    "documents.incoming_register": "Vào sổ văn bản đến",
    "documents.incoming_return": "Trả lại văn bản đến",
    "documents.assign": "Phân công xử lý văn bản đến",
    "documents.assignment_cancel": "Hủy phân công xử lý văn bản",
    "documents.assignment_start": "Bắt đầu xử lý văn bản được giao",
    "documents.assignment_progress": "Cập nhật tiến độ xử lý văn bản",
    "documents.assignment_done": "Hoàn thành xử lý văn bản được giao",
}
MESSAGE_KINDS = {
    "documents.assigned": "Thông báo được giao xử lý văn bản",
    "documents.due_soon": "Nhắc hạn xử lý văn bản",
    "documents.overdue": "Văn bản quá hạn xử lý",
}
