"""The one-stop forms of Thông tư 01/2018/TT-VPCP (Nghị định 61/2018) as PDF.

Mẫu 01–05 are slips printed for one dossier (A5); Mẫu 06 is an agency's
register of received dossiers over a date range (A4 landscape). Each form is a
Django template under ``dossiers/print/`` rendered by WeasyPrint (HTML + CSS
paged media). The templates ask for "Times New Roman", which fontconfig maps
to Liberation Serif (Debian package fonts-liberation2, same metrics).

Everything a template prints is prepared here as plain strings by small
functions, so the templates only lay things out. Dates are dd/mm/yyyy, times
"HH giờ MM phút", numbers 1.234.567; the place-and-date line follows
Nghị định 30/2020 (a day below 10 and the months 1 and 2 take a leading zero).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q
from django.utils import timezone

from chinhquyenso.core.calendar import LOCAL_TZ, local_date
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.pdf import date_text, place_date, render_pdf, time_text
from chinhquyenso.core.text import format_number
from chinhquyenso.dossiers.models import Channel, Dossier, DossierEvent, Status, SupplementRequest, Timeliness
from chinhquyenso.dossiers.selectors import appointment

FORMS = {
    "01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    "04": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    "05": "Phiếu kiểm soát quá trình giải quyết hồ sơ",
    "06": "Sổ theo dõi hồ sơ",
}
SLIP_FORMS = ("01", "02", "03", "04", "05")  # printed for one dossier; 06 is the register
COUNTER_UNIT = "Bộ phận tiếp nhận và trả kết quả"
ESTIMATE_NOTE = "(dự kiến, tính từ khi hồ sơ được tiếp nhận)"
ONLINE_NOTE = "Hồ sơ nộp trực tuyến"
# A longer register is refused (choose a shorter period): WeasyPrint lays out
# about 40 rows a second (300 rows, 22 A4 pages: ~7 s), all in memory, and a
# web request should finish well within the server's 30 s timeout.
REGISTER_MAX_ROWS = 1000


def _name(user) -> str:
    return user.display_name if user else ""


# ---------------------------------------------------------------- which forms


def available_forms(dossier: Dossier) -> list[str]:
    """The slips (Mẫu 01–05) that make sense for this dossier's history."""
    actions = set(dossier.events.values_list("action", flat=True))
    forms = ["01"]
    if dossier.supplement_requests.exists():
        forms.append("02")
    if "refuse" in actions:
        forms.append("03")
    if "reschedule" in actions:
        forms.append("04")
    if dossier.accepted_at is not None or "accept" in actions:
        forms.append("05")
    return forms


def form_pdf(dossier: Dossier, form: str) -> bytes:
    """One slip of the dossier as PDF bytes."""
    if form not in SLIP_FORMS:
        hint = " Mẫu 06 (sổ theo dõi) in theo cơ quan và khoảng thời gian." if form == "06" else ""
        raise DomainError(f"Không có mẫu phiếu “{form}”; các mẫu in cho một hồ sơ là 01 đến 05.{hint}", "form")
    if form not in available_forms(dossier):
        raise DomainError(
            f"Mẫu {form} ({FORMS[form].lower()}) không áp dụng cho hồ sơ {dossier.code} "
            f"ở trạng thái “{dossier.get_status_display()}”.",
            "form",
        )
    context = _BUILDERS[form](dossier)
    return render_pdf(f"dossiers/print/form_{form}.html", {"form": form, "title": FORMS[form], **context})


def register_pdf(*, agency, start: dt.date, end: dt.date) -> bytes:
    """Mẫu 06: the dossiers received by `agency` with a (local) submission date in [start, end]."""
    if start > end:
        raise DomainError("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.", "start")
    return render_pdf(
        "dossiers/print/form_06.html", {"form": "06", "title": FORMS["06"], **register_context(agency, start, end)}
    )


# ---------------------------------------------------------------- rendering


# ---------------------------------------------------------------- slip contexts


def _header(agency, unit: str = COUNTER_UNIT) -> dict:
    return {"agency_line": agency.name.upper(), "unit_line": unit.upper()}


def _applicant(dossier: Dossier) -> dict:
    organization = dossier.applicant.kind == dossier.applicant.Kind.ORGANIZATION
    return {
        "name": dossier.applicant_name,
        "identity": dossier.applicant_identity,
        "identity_label": "Mã số thuế" if organization else "Số định danh cá nhân",
        "phone": dossier.applicant_phone,
        "address": dossier.applicant_address,
        "salutation": "Quý tổ chức" if organization else "Ông/Bà",
    }


def _base(dossier: Dossier, *, agency, at: dt.datetime, unit: str = COUNTER_UNIT) -> dict:
    return {
        **_header(agency, unit),
        "place_date": place_date(at),
        "code": dossier.code,
        "applicant": _applicant(dossier),
        "procedure": dossier.procedure.name,
        "agency_name": agency.name,
    }


def _last_event(dossier: Dossier, *actions: str) -> DossierEvent | None:
    return (
        dossier.events.filter(action__in=actions)
        .select_related("actor", "from_agency", "to_agency")
        .order_by("-at", "-id")
        .first()
    )


def _components(dossier: Dossier) -> list[dict]:
    rows = []
    for component in dossier.components.select_related("required"):
        if not component.provided:
            continue
        required = component.required
        if component.reused_from_id:
            form = "Tái sử dụng từ kho dữ liệu điện tử"
        elif component.file_id:
            form = "Bản điện tử"
        else:
            form = "Bản giấy"
        rows.append(
            {
                "name": component.name,
                "form": form,
                "originals": f"{required.originals:02d}" if required and required.originals else "",
                "copies": f"{required.copies:02d}" if required and required.copies else "",
            }
        )
    return rows


def receipt_context(dossier: Dossier) -> dict:
    """Mẫu 01. Before acceptance (online dossiers) it is the online receipt with an estimated appointment."""
    due, estimate = appointment(dossier)
    ended = estimate and dossier.status in (Status.REFUSED, Status.WITHDRAWN)  # never accepted: no appointment
    accept = _last_event(dossier, "accept")
    received_at = dossier.accepted_at or dossier.submitted_at
    if accept:
        receiver = _name(accept.actor)
    elif dossier.channel == Channel.ONLINE:
        receiver = None
    else:
        submit = _last_event(dossier, "submit")
        receiver = _name(submit.actor) if submit else ""
    return {
        **_base(dossier, agency=dossier.receiving_agency, at=received_at),
        "components": _components(dossier),
        "processing_days": dossier.procedure.processing_days,
        "received": time_text(received_at),
        "submitted": time_text(dossier.submitted_at),
        "channel": dossier.get_channel_display(),
        "online": receiver is None,
        "due": f"không hẹn trả ({dossier.get_status_display().lower()})" if ended else time_text(due),
        "estimate": estimate and not ended,
        "estimate_note": ESTIMATE_NOTE if estimate and not ended else "",
        "fee": f"{format_number(dossier.fee_due)} đồng" if dossier.fee_due else "Không thu",
        "receiver": receiver,
        "online_note": ONLINE_NOTE,
    }


def supplement_context(dossier: Dossier) -> dict:
    """Mẫu 02 for the dossier's latest supplement request."""
    request: SupplementRequest = (
        dossier.supplement_requests.select_related("requested_by").order_by("-requested_at", "-id").first()
    )
    at_reception = request.stage == SupplementRequest.Stage.RECEPTION
    if at_reception:
        agency = dossier.receiving_agency
    else:
        event = (
            dossier.events.filter(action="request_supplement", at=request.requested_at)
            .select_related("from_agency")
            .first()
        )
        agency = event.from_agency if event and event.from_agency else dossier.current_agency
    officer = request.requested_by
    return {
        **_base(dossier, agency=agency, at=request.requested_at, unit=COUNTER_UNIT if at_reception else ""),
        "received": date_text(dossier.accepted_at or dossier.submitted_at),
        "requested": time_text(request.requested_at),
        "stage": request.get_stage_display(),
        "at_reception": at_reception,
        "items": list(request.items),
        "reason": request.reason,
        "officer": _name(officer),
        "officer_phone": officer.phone if officer else "",
    }


def refusal_context(dossier: Dossier) -> dict:
    """Mẫu 03: the reason is the note of the refuse event."""
    event = _last_event(dossier, "refuse")
    return {
        **_base(dossier, agency=dossier.receiving_agency, at=event.at),
        "received": date_text(dossier.submitted_at),
        "reason": event.note,
        "officer": _name(event.actor),
    }


def apology_context(dossier: Dossier) -> dict:
    """Mẫu 04: the reason is the note of the reschedule event; the old
    appointment is the one in force just before it."""
    event = _last_event(dossier, "reschedule")
    before = (
        dossier.events.filter(Q(at__lt=event.at) | Q(at=event.at, id__lt=event.id), due_at__isnull=False)
        .order_by("-at", "-id")
        .values_list("due_at", flat=True)
        .first()
    )
    old_due = before or dossier.original_due_at
    agency = event.to_agency or dossier.current_agency
    return {
        **_base(dossier, agency=agency, at=event.at, unit=""),
        "receiving_agency": dossier.receiving_agency.name,
        "received": date_text(dossier.accepted_at),
        "processing_days": dossier.procedure.processing_days,
        "old_due": date_text(old_due),
        "today": date_text(event.at),
        "new_due": date_text(event.due_at),
        "reason": event.note,
        "officer": _name(event.actor),
    }


def _handoff_result(event: DossierEvent, dossier: Dossier) -> str:
    """'Trước hạn' / 'Đúng hạn' / 'Quá hạn' for a step finished against the appointment then in force."""
    if event.action == "approve" and dossier.timeliness:
        return Timeliness(dossier.timeliness).label
    if event.action not in ("forward", "approve", "return_result") or event.due_at is None:
        return ""
    done, due = local_date(event.at), local_date(event.due_at)
    return "Trước hạn" if done < due else "Đúng hạn" if done == due else "Quá hạn"


def handoff_rows(dossier: Dossier) -> list[dict]:
    rows = []
    for event in dossier.events.select_related("from_agency", "to_agency", "actor").order_by("at", "id"):
        moved = event.from_agency_id and event.to_agency_id and event.from_agency_id != event.to_agency_id
        rows.append(
            {
                "action": event.action_label,
                "giver": event.from_agency.name if moved else "",
                "receiver": event.to_agency.name if moved else "",
                "agency": (event.to_agency or event.from_agency).name if (event.to_agency or event.from_agency) else "",
                "time": time_text(event.at),
                "actor": _name(event.actor),
                "result": _handoff_result(event, dossier),
                "note": event.note,
            }
        )
    return rows


def control_context(dossier: Dossier) -> dict:
    """Mẫu 05: one row per recorded event (DossierEvent), giver and receiver agencies, time, officer, result."""
    rows = handoff_rows(dossier)
    return {
        **_base(dossier, agency=dossier.receiving_agency, at=dossier.accepted_at),
        "received": time_text(dossier.accepted_at),
        "due": time_text(dossier.due_at),
        "rows": rows,
    }


_BUILDERS = {
    "01": receipt_context,
    "02": supplement_context,
    "03": refusal_context,
    "04": apology_context,
    "05": control_context,
}


# ---------------------------------------------------------------- register (Mẫu 06)


def _lead_agency(events: list[DossierEvent]) -> str:
    """The agency that decided (approved), else the last one it was handed to for processing."""
    for event in reversed(events):
        if event.action == "approve" and event.from_agency:
            return event.from_agency.name
    for event in reversed(events):
        if event.action in ("accept", "forward", "reassign") and event.to_agency:
            return event.to_agency.name
    return ""


def _register_note(dossier: Dossier) -> str:
    notes = []
    if dossier.status in (Status.REFUSED, Status.WITHDRAWN, Status.SUBMITTED):
        notes.append(dossier.get_status_display())
    if dossier.rescheduled:
        notes.append(f"Xin lỗi, hẹn lại {date_text(dossier.due_at)}")
    if dossier.timeliness:
        notes.append(dossier.get_timeliness_display())
    if dossier.channel == Channel.ONLINE:
        notes.append("Nộp trực tuyến")
    return "; ".join(notes)


def register_rows(dossiers: list[Dossier]) -> list[dict]:
    rows = []
    for number, dossier in enumerate(dossiers, start=1):
        events = list(dossier.events.all())
        supplements = [s.requested_at for s in dossier.supplement_requests.all()]
        contact = ", ".join(part for part in (dossier.applicant_address, dossier.applicant_phone) if part)
        rows.append(
            {
                "number": format_number(number),
                "code": dossier.code,
                "procedure": dossier.procedure.name,
                "count": "01",
                "applicant": dossier.applicant_name,
                "contact": contact,
                "lead_agency": _lead_agency(events),
                "received": date_text(dossier.submitted_at),
                "due": date_text(dossier.due_at),
                "forwarded": date_text(dossier.accepted_at),
                "supplement": date_text(max(supplements)) if supplements else "",
                "finished": date_text(dossier.finished_at),
                "returned": date_text(dossier.returned_at),
                "note": _register_note(dossier),
            }
        )
    return rows


def register_context(agency, start: dt.date, end: dt.date) -> dict:
    begin = dt.datetime.combine(start, dt.time(), tzinfo=LOCAL_TZ)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ)
    dossiers = Dossier.objects.filter(receiving_agency=agency, submitted_at__gte=begin, submitted_at__lt=stop)
    total = dossiers.count()
    if total > REGISTER_MAX_ROWS:
        raise DomainError(
            f"Sổ có {format_number(total)} hồ sơ, vượt quá {format_number(REGISTER_MAX_ROWS)} hồ sơ "
            "mỗi lần in; hãy chọn khoảng thời gian ngắn hơn.",
            "end",
        )
    events = DossierEvent.objects.select_related("from_agency", "to_agency").order_by("at", "id")
    dossiers = (
        dossiers.select_related("procedure")
        .order_by("submitted_at", "id")
        .prefetch_related("supplement_requests", Prefetch("events", queryset=events))
    )
    return {
        **_header(agency),
        "place_date": place_date(timezone.now()),
        "agency_name": agency.name,
        "start": date_text(start),
        "end": date_text(end),
        "rows": register_rows(list(dossiers)),
        "total": format_number(total),
    }
