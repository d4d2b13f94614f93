"""Every write to a dossier. Each public function runs in one transaction,
checks the actor's role in the agency that holds the dossier, records a
DossierEvent (timeline, Mẫu 05), an audit record and a DossierStatusChanged
domain event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chinhquyenso.accounts.access import refuse_read_only, require_role
from chinhquyenso.accounts.models import Role, User
from chinhquyenso.accounts.selectors import is_read_only
from chinhquyenso.accounts.services import get_or_create_citizen
from chinhquyenso.core import audit, codes, events, uploads, workflow
from chinhquyenso.core.calendar import calendar_for, closing_time, local_date
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import StoredFile
from chinhquyenso.core.text import nfc, nfc_lines
from chinhquyenso.dossiers import results
from chinhquyenso.dossiers.models import (
    OPEN_STATUSES,
    Channel,
    Delivery,
    Dossier,
    DossierComment,
    DossierComponent,
    DossierEvent,
    EDataItem,
    ElectronicResult,
    Payment,
    Status,
    SupplementRequest,
    Timeliness,
)
from chinhquyenso.org.models import Agency
from chinhquyenso.org.selectors import current_successor
from chinhquyenso.procedures.models import Procedure, ProcedureGroup, ServiceLevel
from chinhquyenso.procedures.selectors import declared_subject, handling_agencies

# ---------------------------------------------------------------- helpers


def next_code(agency: Agency, at: dt.datetime) -> str:
    """<agency electronic code or code>-<yymmdd>-<4+ digit running number>, e.g. 000.00.15.H01-250123-0007."""
    prefix = agency.electronic_code or agency.code.upper()
    day = local_date(at).strftime("%y%m%d")
    key = f"{prefix}-{day}"
    return f"{key}-{codes.next_number(key):04d}"


WRONG_ROLE = "Bạn không có vai trò phù hợp tại cơ quan đang giữ hồ sơ này."


def _snapshot(dossier: Dossier) -> dict:
    return {
        "status": dossier.status,
        "agency": dossier.current_agency_id,
        "step": dossier.current_step,
        "due_at": dossier.due_at,
    }


def _timeline_step(
    dossier: Dossier, *, actor, action: str, at, from_status: str, to_status: str, before: dict | None, note: str = ""
) -> DossierEvent:
    """The dossier's history row (Mẫu 05 prints the handoffs from it)."""
    return DossierEvent.objects.create(
        dossier=dossier,
        at=at,
        action=action,
        from_status=from_status,
        to_status=to_status,
        from_agency_id=before["agency"] if before else None,
        to_agency_id=dossier.current_agency_id,
        actor=workflow.actor_or_none(actor),
        step=dossier.current_step or None,
        note=nfc_lines(note),
        due_at=dossier.due_at,
    )


def _status_changed(dossier: Dossier, *, action: str, from_status: str, to_status: str, at) -> dict:
    return {
        "dossier": dossier.pk,
        "code": dossier.code,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "agency": dossier.current_agency_id,
        "group_code": dossier.group_code,  # "" for a dossier outside an interconnected application
        "at": at.isoformat(),
    }


WORKFLOW = workflow.Workflow(
    Dossier,
    noun="hồ sơ",
    audit_prefix="dossier",
    snapshot=_snapshot,
    record_step=_timeline_step,
    agency_of=lambda dossier: dossier.current_agency_id,
    guard=refuse_read_only,
    event="DossierStatusChanged",
    event_payload=_status_changed,
    select_related=("procedure", "current_agency"),
    lock_together=lambda dossier: group_members(dossier.group_code),
)


def group_members(group_code: str):
    """The dossiers of one interconnected application (None for a dossier on its own): locked
    together, before any of them, by every writer (docs/architecture.md, "Lock order")."""
    return Dossier.objects.filter(group_code=group_code) if group_code else None


def counter_agency_id(dossier: Dossier) -> int:
    """The counter that serves this dossier's citizen now: the receiving agency,
    or its successor after a reorganization."""
    agency = dossier.receiving_agency
    if agency.is_current:
        return agency.pk
    successor = current_successor(agency)
    return successor.pk if successor else agency.pk


def timeliness_of(dossier: Dossier, supplement_requests: int | None = None) -> str:
    """766 rule (QĐ 766/QĐ-TTg, tiêu chí 2.1): finished on an earlier date than
    appointed is early, on the appointed date on time, later is late; an
    apology (Mẫu 04) counts as late, and so does a dossier asked for
    supplements (Mẫu 02) more than once. Waiting for the citizen's supplement
    is already deducted from `due_at`. `supplement_requests`: how many were
    made (counted from the dossier's requests when not given)."""
    if supplement_requests is None:
        supplement_requests = dossier.supplement_requests.count() if dossier.pk else 0
    if dossier.rescheduled or supplement_requests > 1:
        return Timeliness.LATE
    finished, due = local_date(dossier.finished_at), local_date(dossier.due_at)
    if finished < due:
        return Timeliness.EARLY
    return Timeliness.ON_TIME if finished == due else Timeliness.LATE


def missing_components(dossier: Dossier) -> list[str]:
    return [
        c.name
        for c in dossier.components.select_related("required")
        if c.required and c.required.mandatory and not c.provided
    ]


def _refresh_digitized(dossier: Dossier) -> None:
    components = list(dossier.components.all())
    dossier.digitized = (
        bool(components) and all(c.digitized for c in components if c.provided) and dossier.has_electronic_result
    )


# ---------------------------------------------------------------- submission


def _resolve_agency(procedure: Procedure, agency_code: str | None, at: dt.datetime) -> Agency:
    candidates = list(handling_agencies(procedure, local_date(at)))
    if not candidates:
        raise DomainError(f"Thủ tục {procedure.code} chưa được giao cho cơ quan nào giải quyết.", "procedure_code")
    if agency_code:
        for agency in candidates:
            if agency.code == agency_code or agency.electronic_code == agency_code:
                return agency
        raise DomainError("Cơ quan được chọn không giải quyết thủ tục này.", "agency_code")
    if len(candidates) > 1:
        raise DomainError("Thủ tục này do nhiều cơ quan giải quyết: hãy chọn cơ quan nộp hồ sơ.", "agency_code")
    return candidates[0]


def uploaded_file(actor, file_id, field: str) -> StoredFile:
    """The file a request names by its id, if `actor` may attach it: their own
    upload or a file they may already read (`selectors.may_read_file`).
    Otherwise the same "not found" as for an unknown id (core.uploads.file_for)."""
    from chinhquyenso.dossiers.selectors import may_read_file

    return uploads.file_for(actor, file_id, field, readable=lambda stored: may_read_file(actor, stored))


def _attach_components(dossier: Dossier, procedure: Procedure, components: list[dict], applicant: User, actor) -> None:
    """Create one DossierComponent per required component. A component may name
    a document of the applicant's e-data store (`edata_item`); one whose result
    type already sits there is attached from it (reuse) unless the applicant
    supplied something else. A file named by id must be one `actor` (the
    citizen, or the counter officer acting for them) may attach."""
    given = {}
    for index, item in enumerate(components or []):
        order = item.get("order")
        if not isinstance(order, int):
            raise DomainError("Thiếu số thứ tự thành phần hồ sơ (order).", f"components[{index}].order")
        given[order] = (index, item)
    required = list(procedure.components.all())
    known = {r.order for r in required}
    for order, (index, _) in given.items():
        if order not in known:
            raise DomainError(f"Thủ tục không có thành phần hồ sơ số {order}.", f"components[{index}].order")
    store = {}
    if any(r.reusable_result_type for r in required):
        for item in EDataItem.objects.filter(owner=applicant).order_by("issued_at"):
            store[item.result_type] = item  # newest wins
    for req in required:
        index, item = given.get(req.order, (None, {}))
        file_id = item.get("file_id")
        stored = uploaded_file(actor, file_id, f"components[{index}].file_id") if file_id else None
        reused = None
        if item.get("edata_item") and not stored:
            reused = EDataItem.objects.filter(pk=item["edata_item"], owner=applicant).first()
            if reused is None:
                raise DomainError(
                    "Giấy tờ được chọn không có trong kho dữ liệu của người nộp.", f"components[{index}].edata_item"
                )
        elif req.reusable_result_type and not stored and not item.get("on_paper"):
            reused = store.get(req.reusable_result_type)
        component = DossierComponent.objects.create(
            dossier=dossier,
            required=req,
            name=req.name,
            file=stored,
            on_paper=bool(item.get("on_paper")),
            reused_from=reused,
        )
        if reused:
            audit.record(
                actor=applicant,
                action="edata.reuse",
                obj=component,
                agency_id=counter_agency_id(dossier),
                after={"edata_item": reused.pk, "dossier": dossier.pk},
            )


def _verify_applicant(applicant: dict) -> bool:
    """Ask the population database; a failure never blocks the counter: the
    dossier goes on with the typed data, marked as not verified."""
    from chinhquyenso.exchange.national import find_person

    person, _ = find_person(applicant["identity_number"])
    return person is not None and person.matches_name(applicant["full_name"])


def clean_applicant(data: dict | None, actor) -> dict:
    data = dict(data or {})
    if actor and getattr(actor, "is_citizen", False):
        data.setdefault("identity_number", actor.identity_number)
        data.setdefault("full_name", actor.full_name)
        data.setdefault("kind", actor.kind)
        if data["identity_number"] != actor.identity_number:
            raise DomainError(
                "Công dân chỉ nộp hồ sơ cho chính mình; hãy dùng đúng số định danh của tài khoản.",
                "applicant.identity_number",
            )
    kind = data.get("kind") or User.Kind.CITIZEN
    if kind not in (User.Kind.CITIZEN, User.Kind.ORGANIZATION):
        raise DomainError("Loại người nộp phải là citizen hoặc organization.", "applicant.kind")
    cleaned = {
        "kind": kind,
        "full_name": nfc(data.get("full_name")),
        "identity_number": nfc(data.get("identity_number")).replace(" ", ""),
        "phone": nfc(data.get("phone")),
        "address": nfc(data.get("address")),
    }
    if not cleaned["full_name"]:
        raise DomainError("Họ và tên người nộp không được để trống.", "applicant.full_name")
    if len(cleaned["full_name"]) > 200:
        raise DomainError("Họ và tên người nộp dài quá 200 ký tự.", "applicant.full_name")
    if cleaned["phone"] and not (cleaned["phone"].lstrip("+").isdigit() and 9 <= len(cleaned["phone"]) <= 15):
        raise DomainError("Số điện thoại không hợp lệ.", "applicant.phone")
    return cleaned


def submit(
    *,
    actor,
    procedure_code: str,
    channel: str,
    applicant: dict | None = None,
    agency_code: str | None = None,
    components: list[dict] | None = None,
    form_data: dict | None = None,
    at: dt.datetime | None = None,
    idempotency_key: str = "",
    group_code: str = "",
    verify_identity: bool = True,
    verified: bool | None = None,
    then: Callable[[Dossier], object] | None = None,
) -> Dossier:
    """Submit a dossier online (citizen), at the counter or by post (officer on the citizen's behalf).

    Validation and the population-database lookup happen before anything is
    written, outside the transaction (`verified` gives the lookup's answer
    when the caller already asked); `then(dossier)` runs in the creating
    transaction (the counter's decision). With an idempotency key a retry by
    the same caller returns the first dossier and runs nothing again."""
    payload = {
        "procedure_code": procedure_code,
        "channel": channel,
        "applicant": applicant,
        "agency_code": agency_code,
        "components": components,
        "form_data": form_data,
        "group_code": group_code,
    }
    is_citizen = getattr(actor, "is_citizen", False)

    def validate() -> dict:
        moment = workflow.now(at)
        if channel not in Channel.values:
            raise DomainError("Hình thức nộp phải là online, counter hoặc post.", "channel")
        procedure = Procedure.objects.filter(code=nfc(procedure_code), is_active=True).select_related("field").first()
        if procedure is None:
            raise DomainError("Không tìm thấy thủ tục hành chính với mã này.", "procedure_code")
        if procedure.service_level == ServiceLevel.INFO_ONLY and channel == Channel.ONLINE:
            raise DomainError("Thủ tục này chỉ cung cấp thông tin, chưa nhận hồ sơ trực tuyến.", "channel")
        if is_citizen and channel != Channel.ONLINE:
            raise DomainError(
                "Công dân chỉ nộp hồ sơ trực tuyến; nộp trực tiếp do cán bộ một cửa thực hiện.", "channel"
            )
        agency = _resolve_agency(procedure, agency_code, moment)
        if not is_citizen:
            require_role(actor, agency.pk, Role.COUNTER_OFFICER, message=WRONG_ROLE)
        person = clean_applicant(applicant, actor if is_citizen else None)
        if not isinstance(form_data or {}, dict):
            raise DomainError("Nội dung tờ khai phải là một đối tượng JSON.", "form_data")
        if verified is not None:
            identity_checked = verified
        else:
            identity_checked = _verify_applicant(person) if verify_identity else False
        return {"at": moment, "procedure": procedure, "agency": agency, "person": person, "verified": identity_checked}

    def create(ready: dict) -> Dossier:
        moment, procedure, agency, person = ready["at"], ready["procedure"], ready["agency"], ready["person"]
        code = next_code(agency, moment)  # the counter before any audit record: the lock order
        citizen = (
            actor
            if is_citizen
            else get_or_create_citizen(
                identity_number=person["identity_number"],
                full_name=person["full_name"],
                kind=person["kind"],
                phone=person["phone"],
            )
        )
        dossier = Dossier.objects.create(
            code=code,
            procedure=procedure,
            channel=channel,
            status=Status.SUBMITTED,
            applicant=citizen,
            applicant_name=person["full_name"],
            applicant_identity=person["identity_number"],
            applicant_phone=person["phone"],
            applicant_address=person["address"],
            applicant_verified=ready["verified"],
            form_data={k: nfc(v) if isinstance(v, str) else v for k, v in (form_data or {}).items()},
            receiving_agency=agency,
            current_agency=agency,
            submitted_at=moment,
            group_code=group_code,
            fee_due=procedure.amount_due(online=channel == Channel.ONLINE),
        )
        _attach_components(dossier, procedure, components or [], citizen, actor)
        WORKFLOW.created(
            dossier,
            actor=actor,
            action="submit",
            at=moment,
            note=Channel(channel).label,
            audit_extra={"procedure": procedure.code, "channel": channel},
        )
        if then is not None:
            then(dossier)
        return dossier

    return workflow.idempotent(
        "dossier.submit",
        key=idempotency_key,
        caller=workflow.caller_of(actor),
        payload=payload,
        prepare=validate,
        create=create,
    )


def submit_group(
    *,
    actor,
    group_code: str,
    channel: str,
    applicant: dict,
    agency_codes: dict[str, str] | None = None,
    components: dict[str, list] | None = None,
    at=None,
    idempotency_key: str = "",
    form_data: dict | None = None,
) -> list[Dossier]:
    """Liên thông: one application creating a linked dossier per procedure of the group, with the
    application's values (`form_data`, the group's fields: dossiers.interconnect) on each, and the
    parts that go to other systems (sent over the data bus once what they need is done)."""
    from chinhquyenso.dossiers import interconnect

    group = ProcedureGroup.objects.filter(code=group_code).first()
    if group is None:
        raise DomainError("Không tìm thấy nhóm thủ tục liên thông.", "group_code")
    agency_codes, components = agency_codes or {}, components or {}
    is_citizen = getattr(actor, "is_citizen", False)
    values = interconnect.clean_values(group_code, form_data)
    verified = _verify_applicant(clean_applicant(applicant, actor if is_citizen else None))  # before the transaction
    at = workflow.now(at)
    with transaction.atomic():
        dossiers, link = [], ""
        for member in group.proceduregroupmember_set.select_related("procedure"):
            code = member.procedure.code
            dossier = submit(
                actor=actor,
                procedure_code=code,
                channel=channel,
                applicant=applicant,
                agency_code=agency_codes.get(code),
                components=components.get(code),
                at=at,
                idempotency_key=f"{idempotency_key}:{code}" if idempotency_key else "",
                group_code=link,
                verified=verified,
                form_data=values,
            )
            if not link:
                link = dossier.code
                dossier.group_code = link
                dossier.save(update_fields=["group_code"])
            dossiers.append(dossier)
        if not interconnect.GroupApplication.objects.filter(code=link).exists():  # not for a retry
            interconnect.create_parts(group, dossiers, at=at)
        return dossiers


# ---------------------------------------------------------------- reception


def _step(dossier: Dossier, order: int):
    return dossier.procedure.steps.filter(order=order).select_related("agency").first()


def step_roles(dossier: Dossier) -> tuple[str, ...]:
    """Who may act on the dossier's current step: the step's role, or any
    processing officer when the procedure defines no steps."""
    current = _step(dossier, dossier.current_step)
    return (current.role,) if current else (Role.SPECIALIST, Role.LEADER)


def attach_result_roles(dossier: Dossier) -> tuple[str, ...]:
    """Who may attach the electronic result (one rule for the service and the
    buttons offered): while in process only whoever holds the current step
    issues it — the counter is not processing the dossier; once the result is
    ready the counter, which returns it, may also attach the digitized result
    (số hóa kết quả, Nghị định 107/2021)."""
    if dossier.status == Status.IN_PROCESS:
        return step_roles(dossier)
    return (Role.SPECIALIST, Role.LEADER, Role.COUNTER_OFFICER)


def _agency_for_step(dossier: Dossier, step) -> Agency:
    if step and step.agency_id:
        return step.agency
    return Agency.objects.get(pk=counter_agency_id(dossier))


def acceptance_agency(dossier: Dossier) -> Agency:
    """The agency that handles the dossier once accepted: the first step's, else the counter's."""
    return _agency_for_step(dossier, _step(dossier, 1))


def specialist_of(agency_id: int, assignee) -> User | None:
    """The specialist named to handle a dossier (a User or its id; None or "": nobody named),
    if they are an active specialist of `agency_id`; otherwise a DomainError on "assignee"."""
    if assignee in (None, ""):
        return None
    pk = assignee.pk if isinstance(assignee, User) else assignee
    if isinstance(pk, str) and pk.isascii() and pk.isdigit():
        pk = int(pk)
    found = (
        User.objects.filter(
            pk=pk, is_active=True, memberships__agency_id=agency_id, memberships__role=Role.SPECIALIST
        ).first()
        if isinstance(pk, int)
        else None
    )
    if found is None:
        raise DomainError("Chuyên viên được chọn không phải chuyên viên của cơ quan giải quyết hồ sơ này.", "assignee")
    return found


def _with_assignee(note: str, assignee: User | None) -> str:
    if assignee is None:
        return note
    named = f"Chuyên viên thụ lý: {assignee.display_name}"
    return f"{note}\n{named}" if note else named


@WORKFLOW.action
def accept(dossier: Dossier, *, actor, at=None, note: str = "", assignee=None) -> Dossier:
    """Tiếp nhận (Mẫu 01): start the clock and hand to the first step; `assignee` (a User or
    its id) names the specialist of the handling agency who will handle it (chuyên viên thụ lý)."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    WORKFLOW.require(dossier, Status.SUBMITTED, action="tiếp nhận")
    require_role(actor, counter_agency_id(dossier), Role.COUNTER_OFFICER, message=WRONG_ROLE)
    missing = missing_components(dossier)
    if missing:
        raise DomainError("Hồ sơ còn thiếu: " + "; ".join(missing) + ". Hãy yêu cầu bổ sung (Mẫu 02).", "components")
    calendar = calendar_for(at)
    dossier.accepted_at = at
    dossier.due_at = dossier.original_due_at = calendar.due_at(at, dossier.procedure.processing_days)
    first = _step(dossier, 1)
    dossier.current_step = 1 if first else 0
    handling = _agency_for_step(dossier, first)
    named = specialist_of(handling.pk, assignee)
    WORKFLOW.transition(
        dossier,
        actor=actor,
        action="accept",
        to_status=Status.IN_PROCESS,
        at=at,
        changes={"current_agency": handling, **({"assignee": named} if named else {})},
        note=_with_assignee(note, named),
        audit_extra={"assignee": named.pk} if named else None,
    )
    return dossier


@WORKFLOW.action
def assign(dossier: Dossier, *, actor, assignee, at=None) -> Dossier:
    """The leader of the agency holding the dossier names (or changes) its specialist."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    WORKFLOW.require(dossier, Status.IN_PROCESS, Status.PAUSED, action="giao chuyên viên thụ lý")
    require_role(actor, dossier.current_agency_id, Role.LEADER, message=WRONG_ROLE)
    named = specialist_of(dossier.current_agency_id, assignee)
    if named is None:
        raise DomainError("Hãy chọn chuyên viên thụ lý.", "assignee")
    if named.pk == dossier.assignee_id:
        raise DomainError("Hồ sơ đã được giao cho chuyên viên này.", "assignee")
    previous = dossier.assignee_id
    WORKFLOW.transition(
        dossier,
        actor=actor,
        action="assign",
        to_status=dossier.status,
        at=at,
        changes={"assignee": named},
        note=_with_assignee("", named),
        audit_extra={"assignee": named.pk, "previous_assignee": previous},
    )
    return dossier


def _clean_items(items, field="items") -> list[str]:
    if not isinstance(items, list):
        raise DomainError("Danh sách nội dung cần bổ sung phải là một danh sách.", field)
    cleaned = [nfc(i) for i in items if isinstance(i, str) and nfc(i)]
    return cleaned


@WORKFLOW.action
def request_supplement(
    dossier: Dossier, *, actor, items: list[str] | None = None, reason: str = "", at=None
) -> SupplementRequest:
    """Mẫu 02. At reception: every missing mandatory component is listed
    automatically, with the officer's own items, in one request. During
    processing (within the configured working days of acceptance): pauses the clock."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    extra = _clean_items(items or [])
    if dossier.status == Status.SUBMITTED:
        require_role(actor, counter_agency_id(dossier), Role.COUNTER_OFFICER, message=WRONG_ROLE)
        all_items = missing_components(dossier) + [i for i in extra if i not in missing_components(dossier)]
        if not all_items:
            raise DomainError("Hãy nêu ít nhất một nội dung cần bổ sung, hoàn thiện.", "items")
        request = SupplementRequest.objects.create(
            dossier=dossier,
            stage=SupplementRequest.Stage.RECEPTION,
            items=all_items,
            reason=nfc_lines(reason),
            requested_at=at,
            requested_by=actor,
        )
        WORKFLOW.transition(
            dossier,
            actor=actor,
            action="request_supplement",
            to_status=Status.SUPPLEMENT_REQUESTED,
            at=at,
            note="; ".join(all_items),
        )
        return request
    WORKFLOW.require(dossier, Status.IN_PROCESS, action="yêu cầu bổ sung")
    require_role(actor, dossier.current_agency_id, Role.SPECIALIST, Role.LEADER, message=WRONG_ROLE)
    if not extra:
        raise DomainError("Hãy nêu ít nhất một nội dung cần bổ sung, hoàn thiện.", "items")
    calendar = calendar_for(dossier.accepted_at, at)
    window = settings.CQS["PROCESSING_SUPPLEMENT_WINDOW_DAYS"]
    if calendar.working_days_between(calendar.start_day(dossier.accepted_at), local_date(at)) > window:
        raise DomainError(
            f"Chỉ được yêu cầu bổ sung trong {window} ngày làm việc kể từ ngày tiếp nhận; "
            "quá thời hạn này cơ quan phải giải quyết hoặc xin lỗi, hẹn lại (Mẫu 04).",
            "items",
        )
    request = SupplementRequest.objects.create(
        dossier=dossier,
        stage=SupplementRequest.Stage.PROCESSING,
        items=extra,
        reason=nfc_lines(reason),
        requested_at=at,
        requested_by=actor,
    )
    dossier.paused_at = at
    dossier.paused_remaining_days = calendar.working_days_between(local_date(at), local_date(dossier.due_at))
    WORKFLOW.transition(
        dossier, actor=actor, action="request_supplement", to_status=Status.PAUSED, at=at, note="; ".join(extra)
    )
    return request


def _check_supplier(dossier: Dossier, actor) -> None:
    if getattr(actor, "is_citizen", False):
        if dossier.applicant_id != actor.pk:
            raise PermissionDenied()
    else:
        require_role(actor, counter_agency_id(dossier), Role.COUNTER_OFFICER, message=WRONG_ROLE)


@WORKFLOW.action
def supplement(dossier: Dossier, *, actor, components: list[dict] | None = None, at=None, note: str = "") -> Dossier:
    """The citizen (or the counter on their behalf) returns the completed dossier.
    During processing the clock restarts with the working days that were left."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    WORKFLOW.require(dossier, Status.SUPPLEMENT_REQUESTED, Status.PAUSED, action="bổ sung")
    _check_supplier(dossier, actor)
    for index, item in enumerate(components or []):
        component = dossier.components.filter(required__order=item.get("order")).first()
        if component is None:
            raise DomainError("Thành phần hồ sơ không tồn tại.", f"components[{index}].order")
        if item.get("file_id"):
            component.file = uploaded_file(actor, item["file_id"], f"components[{index}].file_id")
        component.on_paper = component.on_paper or bool(item.get("on_paper"))
        component.save()
    dossier.supplement_requests.filter(fulfilled_at__isnull=True).update(fulfilled_at=at)
    if dossier.status == Status.SUPPLEMENT_REQUESTED:
        WORKFLOW.transition(dossier, actor=actor, action="supplement", to_status=Status.SUBMITTED, at=at, note=note)
        return dossier
    calendar = calendar_for(at)
    dossier.due_at = closing_time(calendar.add_working_days(calendar.start_day(at), dossier.paused_remaining_days or 0))
    dossier.paused_at, dossier.paused_remaining_days = None, None
    WORKFLOW.transition(dossier, actor=actor, action="supplement", to_status=Status.IN_PROCESS, at=at, note=note)
    return dossier


@WORKFLOW.action
def refuse(dossier: Dossier, *, actor, reason: str, at=None) -> Dossier:
    """Mẫu 03: refuse to receive, with the reason."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    WORKFLOW.require(dossier, Status.SUBMITTED, Status.SUPPLEMENT_REQUESTED, action="từ chối tiếp nhận")
    require_role(actor, counter_agency_id(dossier), Role.COUNTER_OFFICER, message=WRONG_ROLE)
    reason = nfc_lines(reason)
    if not reason:
        raise DomainError("Phải nêu rõ lý do từ chối tiếp nhận.", "reason")
    dossier.closed_at = at
    WORKFLOW.transition(dossier, actor=actor, action="refuse", to_status=Status.REFUSED, at=at, note=reason)
    return dossier


# ---------------------------------------------------------------- processing


@WORKFLOW.action
def forward(dossier: Dossier, *, actor, note: str = "", at=None) -> Dossier:
    """Finish the current step and hand off to the next (Mẫu 05); finishing
    the last step (approval) makes the result ready and fixes timeliness."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    WORKFLOW.require(dossier, Status.IN_PROCESS, action="chuyển bước")
    require_role(actor, dossier.current_agency_id, *step_roles(dossier), message=WRONG_ROLE)
    following = dossier.procedure.steps.filter(order__gt=dossier.current_step).select_related("agency").first()
    if following:
        dossier.current_step = following.order
        WORKFLOW.transition(
            dossier,
            actor=actor,
            action="forward",
            to_status=Status.IN_PROCESS,
            at=at,
            changes={"current_agency": _agency_for_step(dossier, following)},
            note=note or following.name,
        )
        return dossier
    dossier.finished_at = at
    dossier.timeliness = timeliness_of(dossier)
    WORKFLOW.transition(
        dossier,
        actor=actor,
        action="approve",
        to_status=Status.RESULT_READY,
        at=at,
        changes={"current_agency": Agency.objects.get(pk=counter_agency_id(dossier))},
        note=note,
        audit_extra={"timeliness": dossier.timeliness},
    )
    return dossier


@WORKFLOW.action
def reschedule(dossier: Dossier, *, actor, new_due_date: dt.date, reason: str, at=None) -> Dossier:
    """Mẫu 04: apologize and set one new appointment; the dossier counts as late."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    WORKFLOW.require(dossier, Status.IN_PROCESS, Status.PAUSED, action="xin lỗi, hẹn lại")
    require_role(actor, dossier.current_agency_id, Role.SPECIALIST, Role.LEADER, message=WRONG_ROLE)
    if dossier.rescheduled:
        raise DomainError("Hồ sơ đã được xin lỗi, hẹn lại một lần; không được hẹn lại lần nữa.", "new_due_date")
    reason = nfc_lines(reason)
    if not reason:
        raise DomainError("Phải nêu lý do quá hạn trong phiếu xin lỗi.", "reason")
    if not isinstance(new_due_date, dt.date) or new_due_date <= local_date(dossier.due_at):
        raise DomainError("Ngày hẹn mới phải sau ngày hẹn cũ.", "new_due_date")
    if not calendar_for(new_due_date).is_working_day(new_due_date):
        raise DomainError("Ngày hẹn mới phải là ngày làm việc.", "new_due_date")
    dossier.rescheduled = True
    dossier.due_at = closing_time(new_due_date)
    WORKFLOW.transition(dossier, actor=actor, action="reschedule", to_status=dossier.status, at=at, note=reason)
    return dossier


def _check_may_attach_result(dossier: Dossier, actor) -> None:
    WORKFLOW.require(dossier, Status.IN_PROCESS, Status.RESULT_READY, action="đính kèm kết quả cho")
    require_role(actor, dossier.current_agency_id, *attach_result_roles(dossier), message=WRONG_ROLE)
    if ElectronicResult.objects.filter(dossier_id=dossier.pk).exists():
        raise DomainError("Hồ sơ đã có kết quả điện tử.", "file")


def attach_result(dossier: Dossier, *, actor, file: StoredFile, number: str = "", at=None) -> ElectronicResult:
    """Electronic result: signed with the issuing agency's key (dossiers.results), then stored with
    the dossier and in the applicant's e-data store in one transaction. The signature is made first,
    outside any transaction (a time stamp is a network call), after the same checks the transaction
    repeats on the locked row — nobody signs a result that would be refused; a failed signature
    leaves the dossier without a result. A retry once issued is refused: a result is issued once."""
    WORKFLOW.guard(actor)
    current = Dossier.objects.select_related("procedure").get(pk=dossier.pk)
    _check_may_attach_result(current, actor)
    prepared = results.prepare(
        agency_id=current.current_agency_id,
        file=file,
        dossier_code=current.code,
        number=nfc(number),
        actor=actor,
        at=at,
    )
    return _issue_result(dossier, actor=actor, file=file, number=number, prepared=prepared, at=at)


@WORKFLOW.action
def _issue_result(
    dossier: Dossier, *, actor, file: StoredFile, number: str, prepared: results.PreparedResult, at=None
) -> ElectronicResult:
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    _check_may_attach_result(dossier, actor)
    if dossier.current_agency_id != prepared.agency_id:  # moved on while the agency signed
        raise DomainError("Hồ sơ vừa được chuyển sang cơ quan khác trong lúc ký; hãy đính kèm lại kết quả.", "file")
    if prepared.signed:
        file = uploads.store_generated(
            prepared.data, content_type="application/pdf", extension="pdf", name=file.original_name, user=actor
        )
    procedure = dossier.procedure
    # Whose, or what, the result is about: from the dossier's e-form (tờ khai điện tử), where it has one.
    subject, facts = declared_subject(procedure.pk, dossier.form_data)
    item = EDataItem.objects.create(
        owner=dossier.applicant,
        result_type=procedure.result_type or procedure.code,
        title=procedure.result_name or procedure.name,
        subject=subject,
        facts=facts,
        file=file,
        source_dossier=dossier,
        issued_at=at,
    )
    result = ElectronicResult.objects.create(
        dossier=dossier,
        number=nfc(number),
        file=file,
        edata_item=item,
        issued_at=at,
        issued_by=actor,
        verification_code=prepared.verification_code,
        signed=prepared.signed,
        signature_status=prepared.status,
        signed_at=prepared.signed_at,
        agency_id=prepared.agency_id,
    )
    dossier.has_electronic_result = True
    _refresh_digitized(dossier)
    WORKFLOW.transition(
        dossier,
        actor=actor,
        action="attach_result",
        to_status=dossier.status,
        at=at,
        note=result.number,
        audit_extra={"result_signed": prepared.signed, "result_sha256": file.sha256},
    )
    return result


@WORKFLOW.action
def attach_component_file(dossier: Dossier, *, actor, order: int, file: StoredFile, at=None) -> DossierComponent:
    """Digitize a paper component (số hóa) after receipt."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    if not dossier.is_open:
        raise DomainError("Hồ sơ đã kết thúc, không thể số hóa thêm.", "status")
    require_role(actor, dossier.current_agency_id, Role.COUNTER_OFFICER, Role.SPECIALIST, message=WRONG_ROLE)
    component = dossier.components.filter(required__order=order).first()
    if component is None:
        raise DomainError("Thành phần hồ sơ không tồn tại.", "order")
    component.file = file
    component.save(update_fields=["file"])
    _refresh_digitized(dossier)
    dossier.save(update_fields=["digitized"])
    events.publish("DossierUpdated", dossier=dossier.pk, change="digitize")
    audit.record(
        actor=actor,
        action="dossier.digitize",
        obj=component,
        agency_id=dossier.current_agency_id,
        at=at,
        after={"dossier": dossier.pk, "order": order, "sha256": file.sha256},
    )
    return component


@WORKFLOW.action
def return_result(dossier: Dossier, *, actor, delivery: str, at=None) -> Dossier:
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    WORKFLOW.require(dossier, Status.RESULT_READY, action="trả kết quả")
    require_role(actor, counter_agency_id(dossier), Role.COUNTER_OFFICER, message=WRONG_ROLE)
    if delivery not in Delivery.values:
        raise DomainError("Hình thức trả kết quả phải là counter, post hoặc online.", "delivery")
    if delivery == Delivery.ONLINE and not dossier.has_electronic_result:
        raise DomainError("Chưa có kết quả điện tử để trả trực tuyến.", "delivery")
    if dossier.fee_paid < dossier.fee_due:
        raise DomainError("Hồ sơ chưa nộp đủ phí, lệ phí.", "fee")
    dossier.delivery = delivery
    dossier.returned_at = dossier.closed_at = at
    _refresh_digitized(dossier)
    WORKFLOW.transition(
        dossier, actor=actor, action="return_result", to_status=Status.RETURNED, at=at, note=Delivery(delivery).label
    )
    return dossier


@WORKFLOW.action
def withdraw(dossier: Dossier, *, actor, reason: str = "", at=None) -> Dossier:
    """The citizen withdraws (themselves online, or through the counter)."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    WORKFLOW.require(
        dossier, Status.SUBMITTED, Status.SUPPLEMENT_REQUESTED, Status.IN_PROCESS, Status.PAUSED, action="rút"
    )
    _check_supplier(dossier, actor)
    dossier.closed_at = at
    WORKFLOW.transition(
        dossier, actor=actor, action="withdraw", to_status=Status.WITHDRAWN, at=at, note=nfc_lines(reason)
    )
    return dossier


@WORKFLOW.action
def record_payment(
    dossier: Dossier,
    *,
    actor,
    amount: int,
    method: str,
    transaction_ref: str = "",
    at=None,
    confirmed_by_gateway: bool = False,
) -> Payment:
    """A fee paid. An online payment by the applicant is recorded only as the payment platform
    confirmed it (`confirmed_by_gateway`: payments.services, after a signed callback or a status
    query), never on the citizen's word; the counter records what it received or saw paid."""
    dossier, at = WORKFLOW.begin(dossier, actor, at)
    if method not in Payment.Method.values:
        raise DomainError("Hình thức thanh toán phải là online hoặc counter.", "method")
    if not isinstance(amount, int) or amount <= 0:
        raise DomainError("Số tiền phải là số nguyên dương (đồng).", "amount")
    if dossier.fee_paid + amount > dossier.fee_due:
        raise DomainError("Số tiền vượt quá phí, lệ phí còn phải nộp.", "amount")
    transaction_ref = nfc(transaction_ref)
    if method == Payment.Method.ONLINE and not transaction_ref:
        raise DomainError("Thanh toán trực tuyến phải có mã giao dịch.", "transaction_ref")
    if transaction_ref and Payment.objects.filter(transaction_ref=transaction_ref).exists():
        raise DomainError("Mã giao dịch này đã được ghi nhận.", "transaction_ref")
    if method == Payment.Method.ONLINE and getattr(actor, "is_citizen", False):
        if dossier.applicant_id != actor.pk:
            raise PermissionDenied()
        if not confirmed_by_gateway:
            raise DomainError(
                "Khoản thanh toán trực tuyến chỉ được ghi nhận khi nền tảng thanh toán xác nhận giao dịch: "
                "hãy thanh toán trên trang «Thanh toán trực tuyến» của hồ sơ.",
                "method",
            )
    else:  # counter payments, and online payments confirmed by the counter or its system
        require_role(actor, counter_agency_id(dossier), Role.COUNTER_OFFICER, message=WRONG_ROLE)
    payment = Payment.objects.create(
        dossier=dossier,
        amount=amount,
        method=method,
        transaction_ref=transaction_ref,
        paid_at=at,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    dossier.fee_paid += amount
    dossier.save(update_fields=["fee_paid", "updated_at"])
    events.publish("DossierUpdated", dossier=dossier.pk, change="payment")
    audit.record(
        actor=actor,
        action="dossier.payment",
        obj=dossier,
        agency_id=counter_agency_id(dossier),
        at=at,
        after={"amount": amount, "method": method, "fee_paid": dossier.fee_paid},
    )
    return payment


COUNTER_DECISIONS = ("accept", "request_supplement", "refuse")


def receive_at_counter(
    *,
    actor,
    procedure_code: str,
    agency_code: str | None,
    applicant: dict,
    components: list[dict],
    decision: str,
    items: list[str] | None = None,
    reason: str = "",
    note: str = "",
    idempotency_key: str = "",
    at=None,
    assignee=None,
) -> Dossier:
    """A walk-in citizen at the counter: record the dossier and decide on it
    (accept, naming the specialist `assignee` if given; request supplements, refuse) in one
    transaction, so a decision that fails leaves no half-received dossier behind. A resent form
    (same idempotency key) returns the first dossier without deciding again."""
    if decision not in COUNTER_DECISIONS:
        raise DomainError("Hãy chọn tiếp nhận, yêu cầu bổ sung hoặc từ chối.", "decision")

    def decide(dossier: Dossier) -> None:
        if decision == "accept":
            accept(dossier, actor=actor, at=at, note=note, assignee=assignee)
        elif decision == "request_supplement":
            request_supplement(dossier, actor=actor, items=items or [], reason=reason, at=at)
        else:
            refuse(dossier, actor=actor, reason=reason, at=at)

    dossier = submit(
        actor=actor,
        procedure_code=procedure_code,
        channel=Channel.COUNTER,
        applicant=applicant,
        agency_code=agency_code,
        components=components,
        idempotency_key=idempotency_key,
        at=at,
        then=decide,
    )
    if not getattr(dossier, "replayed", False):
        dossier.refresh_from_db()
    return dossier


@WORKFLOW.action
def add_comment(dossier: Dossier, *, actor, text: str, at=None) -> DossierComment:
    """Officers who may see the dossier may comment on it."""
    from chinhquyenso.dossiers.selectors import visible_dossiers

    if (
        getattr(actor, "is_citizen", False)
        or is_read_only(actor)
        or not visible_dossiers(actor).filter(pk=dossier.pk).exists()
    ):
        raise PermissionDenied()
    text = nfc_lines(text)
    if not text:
        raise DomainError("Ý kiến không được để trống.", "text")
    if len(text) > 4000:
        raise DomainError("Ý kiến dài quá 4.000 ký tự.", "text")
    comment = DossierComment.objects.create(dossier=dossier, author=actor, text=text, created_at=workflow.now(at))
    audit.record(
        actor=actor,
        action="dossier.comment",
        obj=dossier,
        agency_id=dossier.current_agency_id,
        at=comment.created_at,
        after={"comment": comment.pk},
    )
    return comment


# ---------------------------------------------------------------- reorganization


def move_open_dossiers(event) -> None:
    """AgencyReorganized / ProcedureTransferred: open dossiers held by a closed
    agency (or by the agency that lost a procedure) move to the successor.

    The receiving agency never changes and closed dossiers keep the agency
    that held them, so reports for past periods give the same numbers after
    the change; the successor's counter serves the citizen (`counter_agency_id`)."""
    at = timezone.now()
    procedure = event.payload.get("procedure")
    for source_id, successor_id in event.payload["successors"].items():
        open_here = Dossier.objects.filter(status__in=OPEN_STATUSES, current_agency_id=int(source_id))
        if procedure:
            open_here = open_here.filter(procedure__code=procedure)
        target = Agency.objects.get(pk=successor_id)
        for dossier in open_here.select_for_update():
            WORKFLOW.transition(
                dossier,
                actor=None,
                action="reassign",
                to_status=dossier.status,
                at=at,
                changes={"current_agency": target},
                note=f"Sắp xếp tổ chức, chuyển thẩm quyền (bản ghi {event.payload.get('reorganization')})",
            )
