"""Dossier API: submit, track, officer actions. Thin: every rule lives in
services (writes) and selectors (reads, scoped by the acting user)."""

import datetime as dt
from typing import Literal

from django.db import transaction
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from chinhquyenso.accounts.api import AUTH
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.params import Amount, BoundedDate, JsonObject, Limit, Offset, RecordId
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import selectors, services
from chinhquyenso.dossiers.models import Dossier

router = Router(auth=AUTH)


class ApplicantIn(Schema):
    identity_number: str = Field(max_length=20)
    full_name: str = Field(max_length=200)
    kind: Literal["citizen", "organization"] = "citizen"
    phone: str = Field("", max_length=20)
    address: str = Field("", max_length=300)


class ComponentIn(Schema):
    order: RecordId
    file_id: str | None = Field(None, max_length=64, description="SHA-256 trả về từ POST /api/dossiers/files")
    on_paper: bool = False
    edata_item: RecordId | None = Field(None, description="Dùng lại một giấy tờ trong kho dữ liệu của người nộp (id)")


class SubmitIn(Schema):
    procedure_code: str = Field(max_length=40)
    channel: Literal["online", "counter", "post"] = "online"
    agency_code: str | None = Field(None, max_length=60)
    applicant: ApplicantIn | None = None
    components: list[ComponentIn] = Field([], max_length=200)
    form_data: JsonObject("form_data") = {}


class EventOut(Schema):
    at: dt.datetime
    action: str
    from_status: str
    to_status: str
    from_agency: str | None
    to_agency: str | None
    note: str
    due_at: dt.datetime | None


class DossierComponentOut(Schema):
    order: int | None
    name: str
    provided: bool
    digitized: bool
    on_paper: bool
    reused: bool
    sha256: str | None


class DossierOut(Schema):
    code: str
    procedure_code: str
    procedure_name: str
    channel: str
    status: str
    status_label: str
    applicant_name: str
    applicant_verified: bool
    receiving_agency: str
    current_agency: str
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    due_at: dt.datetime | None
    finished_at: dt.datetime | None
    returned_at: dt.datetime | None
    timeliness: str
    open_state: str | None
    rescheduled: bool
    fee_due: int
    fee_paid: int
    digitized: bool
    has_electronic_result: bool
    group_code: str
    components: list[DossierComponentOut]
    events: list[EventOut]


class InboxItem(Schema):
    code: str
    procedure_code: str
    procedure_name: str
    status: str
    applicant_name: str
    submitted_at: dt.datetime
    due_at: dt.datetime | None
    open_state: str


class ActionIn(Schema):
    note: str = Field("", max_length=2000)
    reason: str = Field("", max_length=2000)
    items: list[str] = Field([], max_length=200)
    components: list[ComponentIn] = Field([], max_length=200)
    new_due_date: BoundedDate | None = None
    delivery: Literal["counter", "post", "online"] | None = None
    amount: Amount | None = None
    method: Literal["online", "counter"] | None = None
    transaction_ref: str = Field("", max_length=80)
    file_id: str | None = Field(None, max_length=64)
    number: str = Field("", max_length=60)
    order: RecordId | None = None


class FileOut(Schema):
    file_id: str
    content_type: str
    size: int


def dossier_out(dossier: Dossier) -> dict:
    components = dossier.components.select_related("required", "file").all()
    return {
        "code": dossier.code,
        "procedure_code": dossier.procedure.code,
        "procedure_name": dossier.procedure.name,
        "channel": dossier.channel,
        "status": dossier.status,
        "status_label": dossier.get_status_display(),
        "applicant_name": dossier.applicant_name,
        "applicant_verified": dossier.applicant_verified,
        "receiving_agency": dossier.receiving_agency.name,
        "current_agency": dossier.current_agency.name,
        "submitted_at": dossier.submitted_at,
        "accepted_at": dossier.accepted_at,
        "due_at": dossier.due_at,
        "finished_at": dossier.finished_at,
        "returned_at": dossier.returned_at,
        "timeliness": dossier.timeliness,
        "open_state": selectors.open_state(dossier) if dossier.is_open else None,
        "rescheduled": dossier.rescheduled,
        "fee_due": dossier.fee_due,
        "fee_paid": dossier.fee_paid,
        "digitized": dossier.digitized,
        "has_electronic_result": dossier.has_electronic_result,
        "group_code": dossier.group_code,
        "components": [
            {
                "order": c.required.order if c.required else None,
                "name": c.name,
                "provided": c.provided,
                "digitized": c.digitized,
                "on_paper": c.on_paper,
                "reused": bool(c.reused_from_id),
                "sha256": c.file.sha256 if c.file_id else None,
            }
            for c in components
        ],
        "events": [
            {
                "at": e.at,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "from_agency": e.from_agency.name if e.from_agency_id else None,
                "to_agency": e.to_agency.name if e.to_agency_id else None,
                "note": e.note,
                "due_at": e.due_at,
            }
            for e in selectors.timeline(dossier)
        ],
    }


def _components(items: list[ComponentIn]) -> list[dict]:
    return [item.dict() for item in items]


@router.post("/files", response={201: FileOut}, summary="Tải lên tệp thành phần hồ sơ hoặc kết quả (PDF, JPEG, PNG)")
def upload(request, file: File[UploadedFile]):
    with transaction.atomic():
        # The upload itself, not its bytes: it is read in chunks (core.uploads), never whole into memory.
        stored = store_upload(file, original_name=file.name or "", field="file", user=request.auth)
    return Status(201, {"file_id": stored.sha256, "content_type": stored.content_type, "size": stored.size})


@router.post("", response={201: DossierOut, 200: DossierOut}, summary="Nộp hồ sơ (hỗ trợ Idempotency-Key)")
def submit(request, payload: SubmitIn):
    key = request.headers.get("Idempotency-Key", "")
    dossier = services.submit(
        actor=request.auth,
        procedure_code=payload.procedure_code,
        channel=payload.channel,
        agency_code=payload.agency_code,
        applicant=payload.applicant.dict() if payload.applicant else None,
        components=_components(payload.components),
        form_data=payload.form_data,
        idempotency_key=key,
    )
    if getattr(dossier, "replayed", False):
        return Status(200, dossier_out(selectors.get_dossier(request.auth, dossier.code)))
    # The new dossier, its procedure and agencies are the objects the service just wrote and used:
    # answering from them spares reading the dossier back through the scoped selector.
    return Status(201, dossier_out(dossier))


@router.get(
    "", response=list[InboxItem], summary="Hộp hồ sơ đang chờ xử lý tại cơ quan của cán bộ / hồ sơ của công dân"
)
def list_dossiers(
    request,
    status: str = "",
    overdue: bool = False,
    agency_id: RecordId | None = None,
    limit: Limit(200) = 50,
    offset: Offset = 0,
):
    user = request.auth
    if user.is_citizen:
        qs = selectors.own_dossiers(user, limit=limit, offset=offset)
    else:
        qs = selectors.inbox(
            user, agency_id=agency_id, status=status or None, overdue_only=overdue, limit=limit, offset=offset
        )
    return [
        {
            "code": d.code,
            "procedure_code": d.procedure.code,
            "procedure_name": d.procedure.name,
            "status": d.status,
            "applicant_name": d.applicant_name,
            "submitted_at": d.submitted_at,
            "due_at": d.due_at,
            "open_state": selectors.open_state(d),
        }
        for d in qs
    ]


@router.get("/{code}", response=DossierOut, summary="Tra cứu hồ sơ")
def detail(request, code: str):
    return dossier_out(selectors.get_dossier(request.auth, code))


ACTIONS = [
    "accept",
    "request_supplement",
    "supplement",
    "refuse",
    "forward",
    "reschedule",
    "attach_result",
    "digitize",
    "return_result",
    "withdraw",
    "pay",
]


@router.post("/{code}/actions/{action}", response=DossierOut, summary="Thao tác trên hồ sơ")
def act(request, code: str, action: Literal[tuple(ACTIONS)], payload: ActionIn):
    user = request.auth
    dossier = selectors.get_dossier(user, code)
    if action == "accept":
        services.accept(dossier, actor=user, note=payload.note)
    elif action == "request_supplement":
        services.request_supplement(dossier, actor=user, items=payload.items, reason=payload.reason)
    elif action == "supplement":
        services.supplement(dossier, actor=user, components=_components(payload.components), note=payload.note)
    elif action == "refuse":
        services.refuse(dossier, actor=user, reason=payload.reason)
    elif action == "forward":
        services.forward(dossier, actor=user, note=payload.note)
    elif action == "reschedule":
        if payload.new_due_date is None:
            raise DomainError("Thiếu ngày hẹn mới.", "new_due_date")
        services.reschedule(dossier, actor=user, new_due_date=payload.new_due_date, reason=payload.reason)
    elif action == "attach_result":
        services.attach_result(
            dossier, actor=user, file=services.uploaded_file(user, payload.file_id, "file_id"), number=payload.number
        )
    elif action == "digitize":
        if payload.order is None:
            raise DomainError("Thiếu số thứ tự thành phần hồ sơ.", "order")
        services.attach_component_file(
            dossier, actor=user, order=payload.order, file=services.uploaded_file(user, payload.file_id, "file_id")
        )
    elif action == "return_result":
        if payload.delivery is None:
            raise DomainError("Thiếu hình thức trả kết quả.", "delivery")
        services.return_result(dossier, actor=user, delivery=payload.delivery)
    elif action == "withdraw":
        services.withdraw(dossier, actor=user, reason=payload.reason)
    elif action == "pay":
        if payload.amount is None or payload.method is None:
            raise DomainError(
                "Thiếu số tiền hoặc hình thức thanh toán.", "amount" if payload.amount is None else "method"
            )
        services.record_payment(
            dossier, actor=user, amount=payload.amount, method=payload.method, transaction_ref=payload.transaction_ref
        )
    return dossier_out(selectors.get_dossier(user, code))
