"""Outgoing documents (văn bản đi): a draft with its versions and comments, reviewed and approved
step by step per the agency's approval flow, signed by the leader (personal signature), then
issued by the clerk (văn thư): numbered from the register, signed with the agency's key and
distributed. Recall (thu hồi) and replacement (thay thế) keep the link between the documents.

Every action goes through documents.workflow.DOCUMENTS (read-only accounts refused, the row locked,
a timeline row, an audit record, an event). Signing calls a time-stamp authority, so it never runs
inside a transaction: `sign` and `issue` read, sign outside, then write in a transaction that
checks nothing changed meanwhile. `issue` takes its number first, in its own transaction: a
signature that fails leaves the document "numbered" with its reserved number (no gap in the
register) and a message; issuing again signs again with the same number."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from chinhquyenso.accounts.access import require_role
from chinhquyenso.accounts.models import Role
from chinhquyenso.accounts.selectors import has_role
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import StoredFile
from chinhquyenso.core.text import nfc, nfc_lines
from chinhquyenso.core.uploads import store_generated, store_upload
from chinhquyenso.core.workflow import actor_or_none, atomic_retrying, in_transaction, now
from chinhquyenso.documents.models import (
    ApprovalFlow,
    ApprovalStep,
    Attachment,
    Confidentiality,
    Direction,
    Document,
    DocumentComment,
    DocumentType,
    DocumentVersion,
    Recipient,
    Urgency,
)
from chinhquyenso.documents.services import attachments as attached_files
from chinhquyenso.documents.services import distribution, numbering
from chinhquyenso.documents.workflow import DOCUMENTS
from chinhquyenso.org.models import Agency

Status = Document.Status
EDITABLE = (Status.DRAFT,)
# Files change only before the leader approves: what is signed is what was reviewed.
FILES_CHANGE = (Status.DRAFT, Status.IN_REVIEW)
BEFORE_ISSUE = (Status.DRAFT, Status.IN_REVIEW, Status.APPROVED, Status.SIGNED)
SECRET_MESSAGE = (
    "Văn bản mật, tối mật, tuyệt mật không được soạn thảo, gửi, nhận trên hệ thống này; "
    "hãy xử lý theo quy định về bảo vệ bí mật nhà nước."
)
MEMBER_MESSAGE = "Bạn không thuộc cơ quan soạn thảo văn bản này."
ELECTRONIC_CODE = re.compile(r"^[0-9A-Z.]{5,20}$")
ABBREVIATION = re.compile(r"^[0-9A-ZĐ]{1,30}$")
MAX_EXCERPT = 1000
MAX_RECIPIENTS = 500
SIGNER_ROLES = (Role.LEADER,)
ISSUER_ROLES = (Role.CLERK,)
RECALL_ROLES = (Role.LEADER, Role.CLERK)


# ---------------------------------------------------------------- checks


def refuse_secret(confidentiality: str) -> None:
    if confidentiality != Confidentiality.NORMAL:
        if confidentiality in Confidentiality.values:
            raise DomainError(SECRET_MESSAGE, "confidentiality")
        raise DomainError("Độ mật không hợp lệ.", "confidentiality")


def _member(actor, document_or_agency_id, message: str = MEMBER_MESSAGE) -> None:
    agency_id = getattr(document_or_agency_id, "agency_id", document_or_agency_id)
    require_role(actor, agency_id, message=message)


def _text(value, field: str, *, limit: int, required: bool = False, lines: bool = False, label: str = "") -> str:
    text = (nfc_lines if lines else nfc)(value)
    if required and not text:
        raise DomainError(f"Hãy nhập {label or field}.", field)
    if len(text) > limit:
        raise DomainError(f"{(label or field).capitalize()} dài quá {limit} ký tự.", field)
    return text


def _date(value, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DomainError("Ngày không đúng định dạng YYYY-MM-DD.", field) from None


def _document_type(value) -> DocumentType:
    if isinstance(value, DocumentType):
        return value
    found = DocumentType.objects.filter(active=True, **({"pk": value} if isinstance(value, int) else {"code": value}))
    document_type = found.first()
    if document_type is None:
        raise DomainError("Loại văn bản không có trong danh mục.", "document_type")
    return document_type


def clean_metadata(fields: dict) -> dict:
    """The draft's metadata, bounded and normalized; DomainError naming the field otherwise."""
    cleaned = {}
    if "confidentiality" in fields:
        refuse_secret(fields["confidentiality"] or Confidentiality.NORMAL)
        cleaned["confidentiality"] = Confidentiality.NORMAL
    if "document_type" in fields:
        cleaned["document_type"] = _document_type(fields["document_type"])
    if "excerpt" in fields:
        cleaned["excerpt"] = _text(fields["excerpt"], "excerpt", limit=MAX_EXCERPT, required=True, label="trích yếu")
    if "urgency" in fields:
        urgency = fields["urgency"] or Urgency.NORMAL
        if urgency not in Urgency.values:
            raise DomainError("Độ khẩn không hợp lệ.", "urgency")
        cleaned["urgency"] = urgency
    if "unit_abbreviation" in fields:
        unit = nfc(fields["unit_abbreviation"]).upper()
        if unit and not ABBREVIATION.match(unit):
            raise DomainError("Chữ viết tắt đơn vị chỉ gồm chữ in hoa và chữ số, tối đa 30 ký tự.", "unit_abbreviation")
        cleaned["unit_abbreviation"] = unit
    for name, label in (("signer_name", "họ tên người ký"), ("signer_title", "chức vụ người ký")):
        if name in fields:
            cleaned[name] = _text(fields[name], name, limit=150, label=label)
    if "place" in fields:
        cleaned["place"] = _text(fields["place"], "place", limit=100, label="địa danh")
    if "deadline" in fields:
        cleaned["deadline"] = _date(fields["deadline"], "deadline")
    if "is_directive" in fields:
        cleaned["is_directive"] = bool(fields["is_directive"])
    return cleaned


def _pdf(file, actor, field: str = "file") -> StoredFile:
    """An uploaded PDF stored through core.uploads (checked by content), or a StoredFile already held."""
    if isinstance(file, StoredFile):
        stored = file
    elif isinstance(file, UploadedFile | bytes | bytearray):
        stored = store_upload(file, original_name=getattr(file, "name", "") or "", field=field, user=actor)
    else:
        raise DomainError("Hãy chọn tệp văn bản (PDF).", field)
    if stored.content_type != "application/pdf":
        raise DomainError("Tệp văn bản phải là PDF.", field)
    return stored


def read_file(stored: StoredFile) -> bytes:
    with stored.file.open("rb") as handle:
        return handle.read()


# ---------------------------------------------------------------- approval flows


def approval_flow_for(agency, document_type) -> ApprovalFlow:
    """The agency's flow for the type, else its general flow, else the shipped default's."""
    flows = ApprovalFlow.objects.filter(active=True)
    agency_id = getattr(agency, "pk", agency)
    type_id = getattr(document_type, "pk", document_type)
    for filters in (
        {"agency_id": agency_id, "document_type_id": type_id},
        {"agency_id": agency_id, "document_type__isnull": True},
        {"agency__isnull": True, "document_type_id": type_id},
        {"agency__isnull": True, "document_type__isnull": True},
    ):
        flow = flows.filter(**filters).order_by("pk").first()
        if flow is not None:
            return flow
    raise DomainError("Chưa cấu hình quy trình duyệt văn bản đi.", "approval_flow")


def steps_of(document: Document) -> list[ApprovalStep]:
    return list(document.approval_flow.steps.order_by("order")) if document.approval_flow_id else []


def current_step(document: Document) -> ApprovalStep | None:
    """The step waiting for a decision (None outside review)."""
    if document.status != Status.IN_REVIEW:
        return None
    steps = steps_of(document)
    return steps[document.approval_step] if document.approval_step < len(steps) else None


# ---------------------------------------------------------------- recipients


def _recipient_rows(document: Document, recipients) -> list[Recipient]:
    if len(recipients) > MAX_RECIPIENTS:
        raise DomainError(f"Một văn bản gửi tối đa {MAX_RECIPIENTS} nơi nhận.", "recipients")
    rows, seen = [], set()
    for index, spec in enumerate(recipients):
        field = f"recipients.{index}"
        if not isinstance(spec, dict):
            raise DomainError("Nơi nhận không hợp lệ.", field)
        agency = None
        if spec.get("agency") is not None:
            agency_id = getattr(spec["agency"], "pk", spec["agency"])
            agency = Agency.objects.current().filter(pk=agency_id).first() if str(agency_id).isdigit() else None
            if agency is None:
                raise DomainError("Cơ quan nhận không có trong danh mục cơ quan đang hoạt động.", field)
        elif spec.get("electronic_code"):
            code = nfc(spec["electronic_code"]).upper()
            if not ELECTRONIC_CODE.match(code):
                raise DomainError("Mã định danh điện tử của nơi nhận không hợp lệ (QCVN 102:2016).", field)
            # A code of an agency of this installation is delivered to it directly.
            agency = Agency.objects.current().filter(electronic_code=code).first()
            if agency is None:
                name = _text(spec.get("name"), field, limit=255, required=True, label="tên nơi nhận")
                row = Recipient(channel=Recipient.Channel.BUS, electronic_code=code, name=name)
        elif spec.get("paper"):
            name = _text(spec["paper"], field, limit=255, required=True, label="tên nơi nhận")
            row = Recipient(channel=Recipient.Channel.PAPER, name=name)
        else:
            raise DomainError("Hãy chọn cơ quan nhận hoặc nhập mã định danh và tên nơi nhận.", field)
        if agency is not None:
            if agency.pk == document.agency_id:
                raise DomainError("Không gửi văn bản cho chính cơ quan ban hành.", field)
            row = Recipient(
                channel=Recipient.Channel.INTERNAL,
                agency=agency,
                electronic_code=agency.electronic_code,
                name=agency.name,
            )
        key = (row.channel, row.agency_id or row.electronic_code or row.name)
        if key in seen:
            raise DomainError("Nơi nhận bị trùng.", field)
        seen.add(key)
        row.document = document
        rows.append(row)
    return rows


def _replace_recipients(document: Document, recipients) -> None:
    rows = _recipient_rows(document, recipients)
    document.recipients.all().delete()
    Recipient.objects.bulk_create(rows)


# ---------------------------------------------------------------- drafting


def create_draft(
    actor,
    *,
    agency,
    document_type,
    excerpt: str,
    file,
    urgency: str = Urgency.NORMAL,
    confidentiality: str = Confidentiality.NORMAL,
    unit_abbreviation: str = "",
    signer_name: str = "",
    signer_title: str = "",
    place: str = "",
    deadline=None,
    is_directive: bool = False,
    recipients=(),
    attachments=(),
    replaces: Document | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Document:
    """A new draft (dự thảo) with its first version and its attachments (uploads or StoredFiles,
    PDF). The drafter is a member of `agency`."""
    DOCUMENTS.guard(actor)
    agency_id = getattr(agency, "pk", agency)
    _member(actor, agency_id, "Bạn chỉ soạn thảo văn bản của cơ quan mình.")
    metadata = clean_metadata(
        {
            "confidentiality": confidentiality,
            "document_type": document_type,
            "excerpt": excerpt,
            "urgency": urgency,
            "unit_abbreviation": unit_abbreviation,
            "signer_name": signer_name,
            "signer_title": signer_title,
            "place": place,
            "deadline": deadline,
            "is_directive": is_directive,
        }
    )
    note = _text(note, "note", limit=500, label="ghi chú")
    at = now(at)

    def create():
        stored = _pdf(file, actor)
        extra_files = attached_files.store_all(attachments, actor)
        document = Document.objects.create(
            direction=Direction.OUTGOING,
            agency_id=agency_id,
            status=Status.DRAFT,
            created_by=actor_or_none(actor),
            current_file=stored,
            replaces=replaces,
            **metadata,
        )
        DocumentVersion.objects.create(document=document, number=1, file=stored, author=actor_or_none(actor), note=note)
        _replace_recipients(document, list(recipients))
        attached_files.attach(document, extra_files, actor)
        DOCUMENTS.created(document, actor=actor, action="create", at=at)
        distribution.index(document)
        return document

    return atomic_retrying(create)


def _editable(document: Document, actor) -> None:
    _member(actor, document)
    if document.status not in EDITABLE:
        raise DomainError(
            f"Chỉ sửa được dự thảo; văn bản đang ở trạng thái “{document.get_status_display()}”.", "status"
        )


@DOCUMENTS.action
def update_draft(document: Document, actor, *, at=None, **fields) -> Document:
    """Change the draft's metadata (and recipients, when given)."""
    document, at = DOCUMENTS.begin(document, actor, at)
    _editable(document, actor)
    recipients = fields.pop("recipients", None)
    unknown = set(fields) - {
        "document_type",
        "excerpt",
        "urgency",
        "confidentiality",
        "unit_abbreviation",
        "signer_name",
        "signer_title",
        "place",
        "deadline",
        "is_directive",
    }
    if unknown:
        raise DomainError("Trường không sửa được.", sorted(unknown)[0])
    changes = clean_metadata(fields)
    if recipients is not None:
        _replace_recipients(document, list(recipients))
    DOCUMENTS.transition(document, actor=actor, action="update", to_status=document.status, at=at, changes=changes)
    distribution.index(document)
    return document


@DOCUMENTS.action
def set_recipients(document: Document, actor, recipients, *, at=None) -> Document:
    """Nơi nhận, until the document is issued."""
    document, at = DOCUMENTS.begin(document, actor, at)
    _member(actor, document)
    DOCUMENTS.require(document, *BEFORE_ISSUE, action="sửa nơi nhận của")
    _replace_recipients(document, list(recipients))
    DOCUMENTS.transition(document, actor=actor, action="set_recipients", to_status=document.status, at=at)
    return document


@DOCUMENTS.action
def add_version(document: Document, actor, *, file, note: str = "", at=None) -> DocumentVersion:
    """A new version of the draft's file (the drafter, or a reviewer correcting it during review)."""
    document, at = DOCUMENTS.begin(document, actor, at)
    _member(actor, document)
    DOCUMENTS.require(document, Status.DRAFT, Status.IN_REVIEW, action="thêm phiên bản cho")
    stored = _pdf(file, actor)
    note = _text(note, "note", limit=500, label="ghi chú")
    number = (document.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = DocumentVersion.objects.create(
        document=document, number=number, file=stored, author=actor_or_none(actor), note=note
    )
    DOCUMENTS.transition(
        document,
        actor=actor,
        action="add_version",
        to_status=document.status,
        at=at,
        changes={"current_file": stored},
        text=f"Phiên bản {number}",
    )
    return version


@DOCUMENTS.action
def add_attachments(document: Document, actor, *, files, at=None) -> list[Attachment]:
    """Tệp đính kèm added to a draft (by a member of its agency, before approval); all or none."""
    document, at = DOCUMENTS.begin(document, actor, at)
    _member(actor, document)
    DOCUMENTS.require(document, *FILES_CHANGE, action="đính kèm tệp vào")
    files = [file for file in files or () if file is not None]
    if not files:
        raise DomainError("Hãy chọn tệp đính kèm (PDF).", attached_files.FIELD)
    stored = attached_files.store_all(files, actor, already=document.attachments.count())
    made = attached_files.attach(document, stored, actor)
    DOCUMENTS.transition(
        document,
        actor=actor,
        action="add_attachment",
        to_status=document.status,
        at=at,
        text=", ".join(name for name, _ in stored),
    )
    return made


@DOCUMENTS.action
def comment(document: Document, actor, text: str, *, at=None) -> DocumentComment:
    """Góp ý on a document before it is issued, by a member of its agency."""
    document, at = DOCUMENTS.begin(document, actor, at)
    _member(actor, document)
    DOCUMENTS.require(document, *BEFORE_ISSUE, action="góp ý")
    text = _text(text, "text", limit=4000, required=True, lines=True, label="nội dung góp ý")
    version = document.versions.order_by("-number").first()
    made = DocumentComment.objects.create(document=document, version=version, author=actor_or_none(actor), text=text)
    DOCUMENTS.transition(document, actor=actor, action="comment", to_status=document.status, at=at)
    return made


# ---------------------------------------------------------------- review and approval


@DOCUMENTS.action
def submit(document: Document, actor, *, at=None) -> Document:
    """Trình duyệt: the draft goes to the first step of the agency's flow."""
    document, at = DOCUMENTS.begin(document, actor, at)
    _member(actor, document)
    DOCUMENTS.require(document, Status.DRAFT, action="trình duyệt")
    if not document.excerpt:
        raise DomainError("Hãy nhập trích yếu trước khi trình.", "excerpt")
    flow = approval_flow_for(document.agency_id, document.document_type_id)
    to_status = Status.IN_REVIEW if flow.steps.exists() else Status.APPROVED
    DOCUMENTS.transition(
        document,
        actor=actor,
        action="submit",
        to_status=to_status,
        at=at,
        changes={"approval_flow": flow, "approval_step": 0},
    )
    return document


@DOCUMENTS.action
def approve(document: Document, actor, *, note: str = "", at=None) -> Document:
    """The current step's decision: the draft goes on to the next step, or is approved at the last."""
    document, at = DOCUMENTS.begin(document, actor, at)
    DOCUMENTS.require(document, Status.IN_REVIEW, action="duyệt")
    step = current_step(document)
    if step is None:
        raise DomainError("Văn bản không còn bước duyệt nào.", "status")
    require_role(
        actor, document.agency_id, step.role, message=f"Bước “{step.name}” do {step.get_role_display()} duyệt."
    )
    note = _text(note, "note", limit=2000, lines=True, label="ý kiến")
    last = document.approval_step + 1 >= len(steps_of(document))
    DOCUMENTS.transition(
        document,
        actor=actor,
        action="approve" if last else "review",
        to_status=Status.APPROVED if last else Status.IN_REVIEW,
        at=at,
        changes={"approval_step": document.approval_step + 1},
        text=note or step.name,
    )
    return document


@DOCUMENTS.action
def return_for_changes(document: Document, actor, reason: str, *, at=None) -> Document:
    """Trả lại để sửa: by the current step's role during review, by a leader once approved."""
    document, at = DOCUMENTS.begin(document, actor, at)
    DOCUMENTS.require(document, Status.IN_REVIEW, Status.APPROVED, action="trả lại")
    step = current_step(document)
    roles = (step.role,) if step is not None else SIGNER_ROLES
    require_role(actor, document.agency_id, *roles, message="Bạn không có quyền trả lại văn bản ở bước này.")
    reason = _text(reason, "reason", limit=2000, required=True, lines=True, label="lý do trả lại")
    DOCUMENTS.transition(
        document,
        actor=actor,
        action="return",
        to_status=Status.DRAFT,
        at=at,
        changes={"approval_step": 0},
        text=reason,
    )
    return document


# ---------------------------------------------------------------- signatures


def _signing():
    from chinhquyenso.signing import services as signing

    return signing


def _profile() -> str:
    return settings.CQS.get("SIGNING_DEFAULT_PROFILE", "B-T")


def _outside_transaction(what: str) -> None:
    if in_transaction():
        raise RuntimeError(f"{what} calls a time-stamp authority and must run outside a transaction")


def sign(document: Document, actor, *, at=None) -> Document:
    """The leader's personal signature on the approved document (visible box per Nghị định 30)."""
    _outside_transaction("documents.sign")
    DOCUMENTS.guard(actor)
    current = Document.objects.select_related("agency", "current_file").get(pk=document.pk)
    DOCUMENTS.require(current, Status.APPROVED, action="ký")
    require_role(actor, current.agency_id, *SIGNER_ROLES, message="Chỉ lãnh đạo cơ quan ký văn bản.")
    signing = _signing()
    key = signing.personal_key(actor)
    if key is None:
        raise DomainError(
            "Tài khoản của bạn chưa được cấu hình chữ ký số cá nhân; hãy liên hệ quản trị hệ thống.", "key"
        )
    signer_name = current.signer_name or actor.display_name
    appearance = signing.Appearance(kind="personal", signer_name=signer_name, signer_title=current.signer_title)
    signed = signing.sign_pdf(
        read_file(current.current_file),
        key=key,
        profile=_profile(),
        appearance=appearance,
        reason="Ký duyệt văn bản",
        actor=actor,
    )
    return _store_personal_signature(document, actor, signed, current.current_file_id, signer_name, at=at)


def _changed_meanwhile() -> DomainError:
    return DomainError("Văn bản đã thay đổi trong khi ký; hãy tải lại trang và ký lại.", "status")


@DOCUMENTS.action
def _store_personal_signature(document, actor, signed: bytes, signed_file_id, signer_name, *, at=None):
    document, at = DOCUMENTS.begin(document, actor, at)
    if document.status != Status.APPROVED or document.current_file_id != signed_file_id:
        raise _changed_meanwhile()
    stored = store_generated(signed, content_type="application/pdf", extension="pdf", name="van-ban-da-ky.pdf")
    number = (document.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    DocumentVersion.objects.create(
        document=document,
        number=number,
        kind=DocumentVersion.Kind.PERSONAL_SIGNED,
        file=stored,
        author=actor_or_none(actor),
    )
    DOCUMENTS.transition(
        document,
        actor=actor,
        action="sign",
        to_status=Status.SIGNED,
        at=at,
        changes={
            "current_file": stored,
            "signed": True,
            "signature_count": document.signature_count + 1,
            "signer": actor_or_none(actor),
            "signer_name": signer_name,
        },
    )
    return document


def issue(document: Document, actor, *, at=None) -> Document:
    """Ban hành, by the clerk: (1) the number is reserved in a transaction; (2) the agency's
    signature is made outside any transaction; (3) the signed file is stored, the document
    issued and distributed in one transaction. A failed signature leaves it numbered."""
    _outside_transaction("documents.issue")
    reserved = _reserve_number(document, actor, at=at)
    signing = _signing()
    try:
        key = signing.agency_key(reserved.agency_id)
        appearance = signing.Appearance(
            kind="agency",
            signer_name=reserved.signer_name,
            signer_title=reserved.signer_title,
            lines=(f"Số: {reserved.symbol}", f"Ngày {reserved.issued_on:%d/%m/%Y}"),
        )
        signed = signing.sign_pdf(
            read_file(reserved.current_file),
            key=key,
            profile=_profile(),
            appearance=appearance,
            reason="Ban hành văn bản",
            actor=actor,
        )
    except DomainError as error:
        message = (
            f"Chưa ký số được văn bản bằng chữ ký số của cơ quan: {error.message} "
            f"Văn bản vẫn giữ số {reserved.symbol}; hãy khắc phục rồi ban hành lại."
        )
        _record_issue_failure(document, actor, message, at=at)
        raise DomainError(message, error.field or "key") from error
    return _complete_issue(document, actor, signed, reserved.current_file_id, at=at)


@DOCUMENTS.action
def _reserve_number(document, actor, *, at=None) -> Document:
    document, at = DOCUMENTS.begin(document, actor, at)
    DOCUMENTS.require(document, Status.SIGNED, Status.NUMBERED, action="ban hành")
    require_role(actor, document.agency_id, *ISSUER_ROLES, message="Chỉ văn thư cơ quan cấp số và ban hành văn bản.")
    distribution.check_can_send(document)
    if document.status == Status.NUMBERED:
        return document  # a retry: the number reserved the first time stays
    issued_on = numbering.local_today(at)  # the register's year is the local one (1 January, Hà Nội time)
    register = numbering.register_for(document.agency, Direction.OUTGOING, document.document_type, year=issued_on.year)
    number = numbering.take_number(register)
    symbol = numbering.format_symbol(
        number, document.document_type, register.agency_abbreviation, document.unit_abbreviation
    )
    DOCUMENTS.transition(
        document,
        actor=actor,
        action="number",
        to_status=Status.NUMBERED,
        at=at,
        changes={
            "register": register,
            "number": number,
            "symbol": symbol,
            "issued_on": issued_on,
        },
        text=symbol,
    )
    distribution.index(document)
    return document


def _record_issue_failure(document, actor, message: str, *, at=None) -> None:
    @DOCUMENTS.action
    def record(document, *, at=None):
        document, at = DOCUMENTS.begin(document, actor, at)
        DOCUMENTS.transition(
            document,
            actor=actor,
            action="issue_failed",
            to_status=document.status,
            at=at,
            changes={"issue_error": message[:500]},
            text=message,
        )
        return document

    record(document, at=at)


@DOCUMENTS.action
def _complete_issue(document, actor, signed: bytes, signed_file_id, *, at=None) -> Document:
    document, at = DOCUMENTS.begin(document, actor, at)
    if document.status != Status.NUMBERED or document.current_file_id != signed_file_id:
        raise _changed_meanwhile()
    stored = store_generated(
        signed, content_type="application/pdf", extension="pdf", name=f"{document.symbol.replace('/', '-')}.pdf"
    )
    number = (document.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    DocumentVersion.objects.create(
        document=document, number=number, kind=DocumentVersion.Kind.ISSUED, file=stored, author=actor_or_none(actor)
    )
    DOCUMENTS.transition(
        document,
        actor=actor,
        action="issue",
        to_status=Status.ISSUED,
        at=at,
        changes={
            "current_file": stored,
            "signed": True,
            "signature_count": document.signature_count + 1,
            "electronic": True,
            "issue_error": "",
        },
        text=document.symbol,
    )
    distribution.index(document)
    if document.replaces_id:
        _mark_replaced(document.replaces, document, actor=actor, at=at)
    distribution.distribute(document, actor=actor, at=at)
    return document


# ---------------------------------------------------------------- recall and replacement


@DOCUMENTS.action
def recall(document: Document, actor, reason: str, *, at=None) -> Document:
    """Thu hồi an issued document; its recipients are told (internal copies marked, the bus told)."""
    document, at = DOCUMENTS.begin(document, actor, at)
    DOCUMENTS.require(document, Status.ISSUED, action="thu hồi")
    require_role(actor, document.agency_id, *RECALL_ROLES, message="Chỉ lãnh đạo hoặc văn thư cơ quan thu hồi văn bản.")
    reason = _text(reason, "reason", limit=500, required=True, label="lý do thu hồi")
    DOCUMENTS.transition(
        document,
        actor=actor,
        action="recall",
        to_status=Status.RECALLED,
        at=at,
        changes={"recalled_at": at, "recall_reason": reason},
        text=reason,
    )
    distribution.tell_recipients(document, "recalled", actor=actor, at=at, note=reason)
    distribution.index(document)
    return document


def _mark_replaced(old: Document, new: Document, *, actor, at) -> None:
    """Inside the new document's issue: the document it replaces becomes "replaced"."""
    old, _ = DOCUMENTS.begin(old, actor, at)
    if old.status != Status.ISSUED:
        return  # recalled meanwhile: the link stays, its status too
    note = f"Được thay thế bởi văn bản {new.symbol}"
    DOCUMENTS.transition(old, actor=actor, action="replace", to_status=Status.REPLACED, at=at, text=note)
    distribution.tell_recipients(old, "replaced", actor=actor, at=at, note=note)


def create_replacement(document: Document, actor, *, file, at=None, **fields) -> Document:
    """A new draft that will replace an issued document once issued (the link is kept both ways);
    metadata and recipients default to the replaced document's."""
    if document.status != Status.ISSUED:
        raise DomainError("Chỉ thay thế được văn bản đã ban hành.", "status")
    defaults = {
        "document_type": document.document_type,
        "excerpt": document.excerpt,
        "urgency": document.urgency,
        "unit_abbreviation": document.unit_abbreviation,
        "signer_name": document.signer_name,
        "signer_title": document.signer_title,
        "place": document.place,
        "deadline": document.deadline,
        "is_directive": document.is_directive,
        "recipients": [_spec_of(r) for r in document.recipients.all()],
    }
    return create_draft(actor, agency=document.agency_id, file=file, replaces=document, at=at, **{**defaults, **fields})


def _spec_of(recipient: Recipient) -> dict:
    if recipient.channel == Recipient.Channel.INTERNAL:
        return {"agency": recipient.agency_id}
    if recipient.channel == Recipient.Channel.BUS:
        return {"electronic_code": recipient.electronic_code, "name": recipient.name}
    return {"paper": recipient.name}


# ---------------------------------------------------------------- what a user may do (for the pages)


def can_act(document: Document, user, action: str) -> bool:
    """Whether `user` may do `action` on `document` now (the pages show only these buttons)."""
    if not getattr(user, "pk", None) or getattr(user, "is_citizen", True):
        return False
    agency_id = document.agency_id
    status = document.status
    if action in ("edit", "submit"):
        return status == Status.DRAFT and has_role(user, agency_id)
    if action == "comment":
        return status in BEFORE_ISSUE and has_role(user, agency_id)
    if action == "approve":
        step = current_step(document)
        return step is not None and has_role(user, agency_id, step.role)
    if action == "return":
        step = current_step(document)
        if step is not None:
            return has_role(user, agency_id, step.role)
        return status == Status.APPROVED and has_role(user, agency_id, *SIGNER_ROLES)
    if action == "sign":
        return status == Status.APPROVED and has_role(user, agency_id, *SIGNER_ROLES)
    if action == "issue":
        return status in (Status.SIGNED, Status.NUMBERED) and has_role(user, agency_id, *ISSUER_ROLES)
    if action == "recall":
        return status == Status.ISSUED and has_role(user, agency_id, *RECALL_ROLES)
    if action == "replace":
        return status == Status.ISSUED and has_role(user, agency_id)
    if action == "attach":
        return status in FILES_CHANGE and has_role(user, agency_id)
    raise ValueError(f"unknown action {action!r}")


__all__ = [
    "add_attachments",
    "add_version",
    "approval_flow_for",
    "approve",
    "can_act",
    "comment",
    "create_draft",
    "create_replacement",
    "current_step",
    "issue",
    "recall",
    "return_for_changes",
    "set_recipients",
    "sign",
    "submit",
    "update_draft",
]
