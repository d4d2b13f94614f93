"""Liên thông: interconnected procedures across systems (docs/data-bus.md, "Interconnected procedures").

One application for a procedure group (procedures.ProcedureGroup) creates one dossier per member,
linked by the dossiers' `group_code`, a `GroupApplication` and one `GroupPart` per member carrying
the member's rules as they were at submission:

- `connector` — blank: the member is handled here (a commune officer works the dossier as usual);
  else the connector (`residence`, `social_insurance`) and `remote_procedure` (`residence.register`)
  of the system that handles it: the part is sent over the data bus (exchange.connectors.parts);
- `after` — the members whose result it needs (the birth certificate before residence and the
  health-insurance card); a part is sent only once they are done, with their result's number;
- `on_failure` — what the *others* do when this part fails (cannot be sent) or is refused:
  `wait` (those not yet sent wait while it may still succeed, and are closed with the reason once it
  cannot), `continue` (those that do not need it go on), `notify` (go on, and the citizen and the
  receiving counter are told). Members that need a part's result are always closed with the reason
  once that part is refused or closed: they cannot be done without it.

Every change goes through the dossiers' `WORKFLOW` (system actor, timeline, audit, the
DossierStatusChanged event) inside one transaction; anything sent (the part, the citizen's notice)
is written to the outbox in it and leaves after commit. `on_status_changed` (subscribed to
DossierStatusChanged) is the one place that advances an application, whatever moved a dossier: an
officer approving the birth registration, the remote system's callback, a refusal.

Statuses from the remote system move a part forward only (received → processing → done|refused):
a status that arrives late or twice changes nothing."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import secrets
import threading
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.core import workflow
from chinhquyenso.core.calendar import calendar_for, local_date
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.dossiers.models import (
    Dossier,
    GroupApplication,
    GroupPart,
    PartStatus,
    Status,
)
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.consent import tell_citizen
from chinhquyenso.exchange.models import Message

log = logging.getLogger(__name__)

DATA_FILE = Path(__file__).resolve().parent / "data" / "interconnect.json"
KIND_SUBMIT = "dossiers.part_submit"  # the outbox message carrying a part to the other system
KIND_CITIZEN = "dossiers.part_update"  # the citizen's notice about a part
KIND_OFFICER = "dossiers.part_failed"  # the receiving counter's notice about a failed part

# The other systems, as people name them.
SYSTEMS = {
    "residence": "Hệ thống quản lý cư trú (Bộ Công an)",
    "social_insurance": "Hệ thống của Bảo hiểm xã hội Việt Nam",
    "civil_status": "Cơ sở dữ liệu hộ tịch điện tử (Bộ Tư pháp)",
}

# A status from outside moves a part forward only.
RANK = {
    PartStatus.WAITING: 0,
    PartStatus.LOCAL: 0,
    PartStatus.QUEUED: 1,
    PartStatus.FAILED: 1,
    PartStatus.RECEIVED: 2,
    PartStatus.PROCESSING: 3,
    PartStatus.DONE: 9,
    PartStatus.REFUSED: 9,
    PartStatus.CLOSED: 9,
}
REMOTE_STATUSES = ("received", "processing", "done", "refused")


def system_name(connector: str) -> str:
    return SYSTEMS.get(connector, connector) if connector else "Cơ quan giải quyết trong tỉnh"


@functools.cache
def definitions() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def form_of(group_code: str) -> dict:
    """The application's fields for a group (portal); a group without one asks for nothing extra."""
    return definitions()["forms"].get(group_code, {"subject_title": "", "fields": []})


def lien_thong_service() -> str:
    """Our own `lien-thong` service on the bus (the other systems call back its `part-status`)."""
    from chinhquyenso.exchange.connectors import client_id

    return f"{client_id('mot-cua')}/lien-thong"


def connector_client(connector: str) -> str:
    """The subsystem id the other system calls our bus as: its service id without the service code."""
    from chinhquyenso.exchange.connectors import service_id

    return service_id(connector).rsplit("/", 1)[0]


# ---------------------------------------------------------------- the application's values


def clean_values(group_code: str, data) -> dict[str, str]:
    """The application's values for `group_code`, checked against its fields; DomainError naming
    the first wrong field."""
    data = data if isinstance(data, dict) else {}
    values: dict[str, str] = {}
    for item in form_of(group_code)["fields"]:
        name, label = item["name"], item["label"]
        value = nfc(data.get(name) if isinstance(data.get(name), str) else "").strip()
        if not value:
            if item.get("required"):
                raise DomainError(f"Hãy nhập “{label}”.", name)
            continue
        kind = item.get("type", "text")
        if kind == "date":
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                raise DomainError(f"“{label}” phải là một ngày hợp lệ.", name) from None
            if not dt.date(1900, 1, 1) <= day <= local_date(timezone.now()):
                raise DomainError(f"“{label}” không được sau hôm nay.", name)
        elif kind == "choice" and value not in item["choices"]:
            raise DomainError(f"Hãy chọn “{label}” trong danh sách.", name)
        elif kind == "id" and not (value.isascii() and value.isdigit() and len(value) == 12):
            raise DomainError(f"“{label}” gồm đúng 12 chữ số.", name)
        elif kind == "digits10" and not (value.isascii() and value.isdigit() and len(value) == 10):
            raise DomainError(f"“{label}” gồm đúng 10 chữ số.", name)
        if len(value) > item.get("max", 300):
            raise DomainError(f"“{label}” dài quá {item.get('max', 300)} ký tự.", name)
        if len(value) < item.get("min", 0):
            raise DomainError(f"“{label}” quá ngắn.", name)
        values[name] = value
    return values


# ---------------------------------------------------------------- creating the parts


def create_parts(group, dossiers: list[Dossier], *, at) -> GroupApplication:
    """Inside submit_group's transaction: the application, one part per member, then the first
    sends (members that need nothing)."""
    members = list(group.proceduregroupmember_set.select_related("procedure").order_by("order"))
    application = GroupApplication.objects.create(
        code=dossiers[0].code, group=group, applicant=dossiers[0].applicant, submitted_at=at
    )
    for member, dossier in zip(members, dossiers, strict=True):
        GroupPart.objects.create(
            application=application,
            dossier=dossier,
            order=member.order,
            procedure_code=member.procedure.code,
            connector=member.connector,
            remote_procedure=member.remote_procedure,
            after=[code for code in (member.after or []) if isinstance(code, str)],
            on_failure=member.on_failure,
            reference=f"LT-{secrets.token_hex(10)}",
            status=PartStatus.WAITING,
        )
    advance(application, at=at)
    return application


# ---------------------------------------------------------------- moving an application along


def _parts(application: GroupApplication) -> list[GroupPart]:
    return list(
        application.parts.select_related("dossier", "dossier__procedure", "dossier__receiving_agency").order_by("order")
    )


def _name(part: GroupPart) -> str:
    return part.dossier.procedure.name


_running = threading.local()


def advance(application: GroupApplication, *, at) -> None:
    """Apply the rules: start the parts whose prerequisites are done, close those that can no longer
    be done. Runs inside the transaction of the change that called it; repeats harmlessly. A change
    it makes publishes events that call it again: the inner call returns at once and the outer one
    goes round again, so no part is started twice."""
    active = getattr(_running, "ids", None)
    if active is None:
        active = _running.ids = set()
    if application.pk in active:
        return
    active.add(application.pk)
    try:
        for _ in range(3 * application.parts.count() + 1):  # one change a round, on fresh rows
            if not _advance_once(application, at):
                break
    finally:
        active.discard(application.pk)
    parts = _parts(application)
    if application.finished_at is None and all(p.is_final for p in parts):
        application.finished_at = at
        application.save(update_fields=["finished_at"])


def _advance_once(application: GroupApplication, at) -> bool:
    parts = _parts(application)
    by_code = {p.procedure_code: p for p in parts}
    for part in parts:
        if part.status != PartStatus.WAITING:
            continue
        part.refresh_from_db()
        if part.status != PartStatus.WAITING:
            continue
        prerequisites = [by_code[c] for c in part.after if c in by_code and c != part.procedure_code]
        lost = next((q for q in prerequisites if q.status in (PartStatus.REFUSED, PartStatus.CLOSED)), None)
        if lost is not None:
            _close(part, at=at, reason=f"Thủ tục “{_name(lost)}” không có kết quả" + _why(lost))
            return True
        if not all(q.status == PartStatus.DONE for q in prerequisites):
            continue
        holder = next(
            (
                q
                for q in parts
                if q is not part and q.on_failure == "wait" and q.status in (PartStatus.FAILED, *_ended_badly())
            ),
            None,
        )
        if holder is not None:
            if holder.status != PartStatus.FAILED:
                _close(
                    part, at=at, reason=f"Theo quy tắc liên thông, thủ tục “{_name(holder)}” không thành" + _why(holder)
                )
                return True
            continue  # it waits while the failed part may still be sent
        _start(part, by_code, at=at)
        return True
    return False


def _ended_badly() -> tuple[str, str]:
    return (PartStatus.REFUSED, PartStatus.CLOSED)


def _why(part: GroupPart) -> str:
    return f": {part.reason}" if part.reason else "."


def _start(part: GroupPart, by_code: dict[str, GroupPart], *, at) -> None:
    if not part.external:
        part.status = PartStatus.LOCAL
        part.save(update_fields=["status"])
        return
    from chinhquyenso.dossiers.services import WORKFLOW

    dossier = Dossier.objects.select_for_update(of=("self",)).select_related("procedure").get(pk=part.dossier_id)
    prior = next((by_code[c] for c in part.after if c in by_code), None)
    try:
        applicant, subject, data = payload_for(part, dossier, prior)
        with transaction.atomic():  # a part the connector refuses at once leaves nothing half-written
            _send(part, dossier, applicant, subject, data)
    except DomainError as error:
        part.status, part.reason = PartStatus.FAILED, error.message
        part.rule_note = "Chưa gửi được: dữ liệu không đạt yêu cầu của hệ thống tiếp nhận."
        part.save(update_fields=["status", "reason", "rule_note"])
        _failed(part, at=at)
        return
    calendar = calendar_for(at)
    dossier.accepted_at = at
    dossier.due_at = dossier.original_due_at = calendar.due_at(at, dossier.procedure.processing_days)
    part.status, part.sent_at, part.due_at, part.reason = PartStatus.QUEUED, at, dossier.due_at, ""
    part.save(update_fields=["status", "sent_at", "due_at", "reason"])
    if dossier.status == Status.SUBMITTED:
        WORKFLOW.transition(
            dossier,
            actor=None,
            action="part_send",
            to_status=Status.IN_PROCESS,
            at=at,
            note=f"Gửi sang {system_name(part.connector)} qua trục liên thông",
        )


def _send(part: GroupPart, dossier: Dossier, applicant: dict, subject: dict, data: dict):
    from chinhquyenso.exchange.connectors import parts as connector_parts

    return connector_parts.submit_part(
        connector=part.connector,
        procedure=part.remote_procedure,
        reference=part.reference,
        applicant=applicant,
        subject=subject,
        data=data,
        correlation=dossier.code,
        order_key=f"group:{dossier.group_code or dossier.code}",
        kind=KIND_SUBMIT,
        agency_id=dossier.receiving_agency_id,
        source=part,
    )


def _value(source: str, values: dict, applicant: dict, result: dict):
    where, _, name = source.partition(":")
    if where == "form":
        return values.get(name, "")
    if where == "applicant":
        return applicant.get(name, "")
    if where == "result":
        return result.get(name, "")
    return ""


def _fill(template, values: dict, applicant: dict, result: dict):
    if isinstance(template, dict):
        filled = {k: _fill(v, values, applicant, result) for k, v in template.items()}
        return {k: v for k, v in filled.items() if v not in ("", None, {})}
    return _value(template, values, applicant, result)


def payload_for(part: GroupPart, dossier: Dossier, prior: GroupPart | None) -> tuple[dict, dict, dict]:
    """(applicant, subject, data) for the remote system, from the application's values, the
    applicant and the result of the part's first prerequisite (definitions()["payloads"])."""
    template = definitions()["payloads"].get(part.remote_procedure)
    if template is None:
        raise DomainError(f"Chưa khai báo cách lập hồ sơ gửi cho thủ tục {part.remote_procedure}.", "procedure")
    values = dossier.form_data if isinstance(dossier.form_data, dict) else {}
    applicant = {"full_name": dossier.applicant_name, "id_number": dossier.applicant_identity}
    if dossier.applicant_phone:
        applicant["phone"] = dossier.applicant_phone
    if values.get("nyc_quan_he"):
        applicant["relationship"] = values["nyc_quan_he"][:60]
    result = dict(prior.result) if prior is not None else {}
    subject = _fill(template.get("subject", {}), values, applicant, result)
    data = _fill(template.get("data", {}), values, applicant, result)
    return applicant, subject, data


def local_result(dossier: Dossier) -> dict:
    """A local part's result as the parts after it need it: the electronic result's number where
    the officer recorded one, else the dossier's code (the register's reference)."""
    number = ""
    electronic = getattr(dossier, "electronic_result", None) if hasattr(dossier, "electronic_result") else None
    if electronic is not None and electronic.number:
        number = electronic.number
    moment = dossier.finished_at or timezone.now()
    return {
        "number": number or dossier.code,
        "issued_on": local_date(moment).isoformat(),
        "document": dossier.procedure.result_name or dossier.procedure.name,
    }


def _close(part: GroupPart, *, at, reason: str) -> None:
    """A part that can no longer be done: closed with the reason; its dossier, if nobody has started
    it yet, is closed too (an officer already handling a local one decides)."""
    from chinhquyenso.dossiers.services import WORKFLOW

    part.status, part.reason, part.finished_at = PartStatus.CLOSED, reason, at
    part.rule_note = "Không gửi, không giải quyết: " + reason
    dossier = Dossier.objects.select_for_update(of=("self",)).get(pk=part.dossier_id)
    if dossier.status in (Status.SUBMITTED, Status.SUPPLEMENT_REQUESTED):
        dossier.closed_at = at
        part.save()
        WORKFLOW.transition(dossier, actor=None, action="group_close", to_status=Status.REFUSED, at=at, note=reason)
    else:
        part.status = PartStatus.LOCAL if not part.external else part.status
        part.rule_note = "Thủ tục trước không có kết quả; hồ sơ đang được giải quyết nên cán bộ quyết định tiếp."
        part.save()
    _tell(part, at=at, subject="Một thủ tục trong hồ sơ liên thông dừng lại", text=reason)


def _failed(part: GroupPart, *, at) -> None:
    """A part that could not be sent (or was refused): the rules for the others, and who is told."""
    if part.on_failure == "notify":
        _tell_counter(part, at=at)
        _tell(
            part,
            at=at,
            subject="Một thủ tục trong hồ sơ liên thông chưa thành",
            text=f"{_name(part)}: {part.reason or part.get_status_display()} Các thủ tục khác vẫn tiếp tục.",
        )
    elif part.on_failure == "wait":
        part.rule_note = (part.rule_note + " " if part.rule_note else "") + (
            "Các thủ tục chưa gửi trong hồ sơ liên thông chờ thủ tục này."
        )
        part.save(update_fields=["rule_note"])
        _tell_counter(part, at=at)


def _link(application_code: str) -> str:
    return reverse("portal:group_timeline", args=[application_code])


def _tell(part: GroupPart, *, at, subject: str, text: str) -> None:
    dossier = part.dossier
    tell_citizen(
        dossier.applicant,
        kind=KIND_CITIZEN,
        subject=subject,
        body=f"Hồ sơ liên thông {part.application.code}, thủ tục {_name(part)}:\n{text}",
        sms=f"Ho so lien thong {part.application.code}: co cap nhat, xem tren Cong dich vu cong.",
        link=_link(part.application.code),
        source=dossier,
        agency_id=dossier.receiving_agency_id,
        dedup=f"{KIND_CITIZEN}:{part.pk}:{part.status}",
        at=at,
    )


def _tell_counter(part: GroupPart, *, at) -> None:
    """In-app notices to the receiving agency's counter officers."""
    dossier = part.dossier
    text = f"Hồ sơ liên thông {part.application.code}: thủ tục “{_name(part)}” {part.get_status_display().lower()}"
    text += f" — {part.reason}" if part.reason else "."
    users = Membership.objects.filter(
        agency_id=dossier.receiving_agency_id, role=Role.COUNTER_OFFICER, user__is_active=True
    ).select_related("user")
    outbox.enqueue_many(
        outbox.build(
            channel=Message.Channel.IN_APP,
            kind=KIND_OFFICER,
            user=m.user,
            subject=text[:255],
            body=text,
            agency_id=dossier.receiving_agency_id,
            link=reverse("backoffice:dossier", args=[dossier.code]),
            source=dossier,
            dedup_key=f"{KIND_OFFICER}:{part.pk}:{part.status}:{m.user_id}",
            at=at,
        )
        for m in users
    )


# ---------------------------------------------------------------- what moves a part


def on_status_changed(event) -> None:
    """Subscriber of DossierStatusChanged: a member's dossier finished, refused or withdrawn moves
    its part (local members) and the application along."""
    payload = event.payload
    if not payload.get("group_code"):
        return  # not a member of an interconnected application: nothing to look up
    part = GroupPart.objects.select_related("application").filter(dossier_id=payload.get("dossier")).first()
    if part is None:
        return
    at = dt.datetime.fromisoformat(payload["at"]) if payload.get("at") else timezone.now()
    to_status = payload.get("to_status")
    if not part.external and not part.is_final:
        if to_status in (Status.RESULT_READY, Status.RETURNED):
            dossier = Dossier.objects.select_related("procedure").get(pk=part.dossier_id)
            part.status, part.result, part.finished_at = PartStatus.DONE, local_result(dossier), at
            part.save(update_fields=["status", "result", "finished_at"])
        elif to_status in (Status.REFUSED, Status.WITHDRAWN):
            dossier = Dossier.objects.get(pk=part.dossier_id)
            note = dossier.events.filter(to_status=to_status).order_by("-at", "-id").values_list("note", flat=True)
            part.status, part.finished_at = PartStatus.REFUSED, at
            part.reason = (note.first() or "").strip() or Status(to_status).label
            part.save(update_fields=["status", "reason", "finished_at"])
            _failed(part, at=at)
        else:
            return
    elif to_status not in (Status.RESULT_READY, Status.REFUSED, Status.WITHDRAWN, Status.RETURNED):
        return
    advance(part.application, at=at)


def _parse_at(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else timezone.make_aware(moment)


def lock_group(part: GroupPart) -> None:
    """Take the application's dossiers first, in the order every dossier writer takes them
    (WORKFLOW.begin's lock_together), then the part: a callback and an officer's approval of a
    sibling never wait on each other in opposite orders."""
    from chinhquyenso.dossiers.services import group_members

    group_code = Dossier.objects.filter(pk=part.dossier_id).values_list("group_code", flat=True).first()
    members = group_members(group_code or "")
    if members is not None:
        list(members.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


def apply_remote(part: GroupPart, report: dict, *, at=None) -> str:
    """A status from the other system (callback, poll, or the answer to the submit): "applied", or
    "ignored" for one that arrives late or twice. Runs in its own transaction."""

    def body() -> str:
        lock_group(part)
        locked = GroupPart.objects.select_for_update().select_related("application").get(pk=part.pk)
        return _apply(locked, report, workflow.now(at))

    return workflow.atomic_retrying(body)


def _apply(part: GroupPart, report: dict, at) -> str:
    from chinhquyenso.dossiers.services import WORKFLOW, timeliness_of

    status = report.get("status")
    request_id = str(report.get("request_id") or "")[:80]
    if request_id and not part.request_id:
        part.request_id = request_id
        part.save(update_fields=["request_id"])
    if status not in REMOTE_STATUSES or RANK[status] <= RANK[part.status]:
        return "ignored"
    dossier = WORKFLOW.begin(part.dossier, None, at)[0]
    remote_at = _parse_at(report.get("at")) or at
    part.status, part.remote_at = status, remote_at
    system = system_name(part.connector)
    if status == PartStatus.RECEIVED:
        part.acknowledged_at = at
        part.save()
        WORKFLOW.transition(
            dossier, actor=None, action="part_received", to_status=dossier.status, at=at, note=f"{system} đã nhận"
        )
        advance(part.application, at=at)  # a part that was failed and is now through frees those waiting
        return "applied"
    if status == PartStatus.PROCESSING:
        part.acknowledged_at = part.acknowledged_at or at
        part.save()
        WORKFLOW.transition(
            dossier,
            actor=None,
            action="part_processing",
            to_status=dossier.status,
            at=at,
            note=f"{system} đang giải quyết",
        )
        return "applied"
    part.finished_at = at
    if status == PartStatus.DONE:
        result = report.get("result") if isinstance(report.get("result"), dict) else {}
        part.result = {k: str(result.get(k, ""))[:300] for k in ("number", "issued_on", "document") if result.get(k)}
        part.save()
        if dossier.status in (Status.SUBMITTED, Status.IN_PROCESS, Status.PAUSED):
            dossier.accepted_at = dossier.accepted_at or part.sent_at or at
            dossier.due_at = dossier.due_at or part.due_at
            dossier.finished_at = at
            dossier.timeliness = timeliness_of(dossier, 0) if dossier.due_at else ""
            number = part.result.get("number", "")
            WORKFLOW.transition(
                dossier,
                actor=None,
                action="part_done",
                to_status=Status.RESULT_READY,
                at=at,
                note=f"{system}: {part.result.get('document', 'có kết quả')}" + (f" số {number}" if number else ""),
            )
        _tell(part, at=at, subject="Một thủ tục trong hồ sơ liên thông đã có kết quả", text=_done_text(part))
        return "applied"
    part.reason = nfc(str(report.get("reason") or "")).strip()[:2000] or "Không nêu lý do."
    part.save()
    if dossier.is_open:
        dossier.closed_at = at
        WORKFLOW.transition(
            dossier, actor=None, action="part_refused", to_status=Status.REFUSED, at=at, note=part.reason
        )
    if part.on_failure != "notify":  # notify tells the citizen itself, with the rule
        _tell(part, at=at, subject="Một thủ tục trong hồ sơ liên thông bị từ chối", text=f"Lý do: {part.reason}")
    _failed(part, at=at)
    advance(part.application, at=at)
    return "applied"


def _done_text(part: GroupPart) -> str:
    result = part.result
    text = result.get("document") or "Đã có kết quả"
    if result.get("number"):
        text += f" số {result['number']}"
    if result.get("issued_on"):
        try:
            text += f", ngày {dt.date.fromisoformat(result['issued_on']):%d/%m/%Y}"
        except ValueError:
            pass
    return text + "."


def retry_part(part: GroupPart, *, actor, at=None) -> GroupPart:
    """The receiving counter sends a failed part again (after the data was corrected, or the other
    system is back): it is built and queued anew; the parts waiting for it follow once it is through."""
    from chinhquyenso.accounts.access import require_role
    from chinhquyenso.dossiers.services import WRONG_ROLE, counter_agency_id

    def body() -> GroupPart:
        lock_group(part)
        locked = GroupPart.objects.select_for_update().select_related("application", "dossier").get(pk=part.pk)
        require_role(actor, counter_agency_id(locked.dossier), Role.COUNTER_OFFICER, message=WRONG_ROLE)
        if locked.status != PartStatus.FAILED:
            raise DomainError("Chỉ gửi lại được phần hồ sơ chưa gửi được.", "status")
        moment = workflow.now(at)
        locked.status, locked.rule_note = PartStatus.WAITING, ""
        locked.save(update_fields=["status", "rule_note"])
        advance(locked.application, at=moment)
        locked.refresh_from_db()
        return locked

    return workflow.atomic_retrying(body)


# ---------------------------------------------------------------- the bus's side


def record_sent(message, response) -> None:
    """core.registry.BUS_REPLIES[KIND_SUBMIT]: the other system accepted the part (202
    {"request_id", "status": "received"})."""
    part = GroupPart.objects.filter(pk=message.source_id).first() if message.source_id.isdigit() else None
    if part is None:
        return
    answer = response.json() if response.body else {}
    answer = answer if isinstance(answer, dict) else {}
    apply_remote(part, {"status": answer.get("status") or "received", "request_id": answer.get("request_id", "")})


def check_queued(now=None) -> int:
    """Parts whose outbox message became a dead letter (or was discarded): failed (the rules apply; a replay from the
    admin sends it again, and its answer moves the part on). Returns how many."""
    now = now or timezone.now()
    queued = {str(p.pk): p for p in GroupPart.objects.filter(status=PartStatus.QUEUED)}
    if not queued:
        return 0
    dead = Message.objects.filter(
        kind=KIND_SUBMIT,
        source_type=GroupPart._meta.label,
        source_id__in=list(queued),
        state__in=[Message.State.DEAD, Message.State.DISCARDED],
    ).values_list("source_id", flat=True)
    count = 0
    for source_id in dead:
        part = queued[source_id]
        with transaction.atomic():
            lock_group(part)
            locked = GroupPart.objects.select_for_update().select_related("application").get(pk=part.pk)
            if locked.status != PartStatus.QUEUED:
                continue
            locked.status = PartStatus.FAILED
            locked.reason = "Chưa gửi được sang hệ thống giải quyết; quản trị viên có thể gửi lại từ trang quản trị."
            locked.save(update_fields=["status", "reason"])
            _failed(locked, at=now)
            advance(locked.application, at=now)
            count += 1
    return count


def poll_silent(now=None, *, limit: int = 200) -> dict:
    """Ask the other systems about parts that have been silent for too long (CQS
    INTERCONNECT_POLL_AFTER_MINUTES, default 60). Outside any transaction: each answer is applied
    in its own."""
    from chinhquyenso.exchange.bus.errors import BusError
    from chinhquyenso.exchange.connectors import parts as connector_parts

    now = now or timezone.now()
    quiet = dt.timedelta(minutes=int(settings.CQS.get("INTERCONNECT_POLL_AFTER_MINUTES", 60)))
    failed_to_dead = check_queued(now)
    silent = (
        GroupPart.objects.filter(status__in=[PartStatus.RECEIVED, PartStatus.PROCESSING])
        .exclude(request_id="")
        .filter(Q(polled_at__isnull=True) | Q(polled_at__lt=now - quiet))
        .order_by("remote_at", "pk")
    )
    asked = applied = errors = 0
    for part in list(silent)[:limit]:
        last_news = part.remote_at or part.acknowledged_at or part.sent_at or now
        if now - last_news < quiet:
            continue
        asked += 1
        GroupPart.objects.filter(pk=part.pk).update(polled_at=now)
        try:
            report = connector_parts.part_status(part.connector, part.request_id)
        except BusError as error:
            log.info("poll of part %s: %s", part.pk, error.code)
            errors += 1
            continue
        if isinstance(report, dict) and report.get("reference") in (None, part.reference):
            applied += apply_remote(part, report, at=now) == "applied"
    return {"dead": failed_to_dead, "asked": asked, "applied": applied, "errors": errors}


def part_status_handler(request, params, payload):
    """core.registry.BUS_HANDLERS["lien-thong.part-status"]: the other system's news about a part,
    through our bus (`POST /r1/<lien-thong>/parts/{reference}/status`). The bus has checked the
    caller's signed token, its access right and the schema; here: the reference must be one of
    ours and sent to that caller's system."""
    reference = (params or {}).get("reference", "")
    if not isinstance(payload, dict):
        return 422, {"detail": "Nội dung phải là một đối tượng JSON.", "field": "body", "code": "invalid_body"}
    if payload.get("reference") not in (None, reference):
        return 422, {
            "detail": "Mã tham chiếu trong nội dung khác mã trên đường dẫn.",
            "field": "reference",
            "code": "invalid_body",
        }
    part = GroupPart.objects.filter(reference=reference).first() if reference else None
    if part is None or not part.external or connector_client(part.connector) != request.client:
        # The same answer for an unknown reference and another system's: nothing is revealed.
        return 404, {
            "detail": "Không có phần hồ sơ liên thông với mã tham chiếu này.",
            "field": "reference",
            "code": "not_found",
        }
    if payload.get("status") not in REMOTE_STATUSES:
        return 422, {"detail": "Trạng thái không hợp lệ.", "field": "status", "code": "invalid_body"}
    outcome = apply_remote(part, payload)
    part.refresh_from_db(fields=["status"])
    return 200, {"reference": reference, "accepted": outcome == "applied", "status": part.status, "outcome": outcome}
