"""Telling the applicant when their dossier changes: accepted (with the appointment), supplement
requested (what is missing), result ready (where and how to receive it), electronic result in the
e-data store, refused (why), rescheduled (the apology and the new date), returned, withdrawn.

`on_status_changed` is subscribed to "DossierStatusChanged" in DossiersConfig.ready(): it runs in
the transaction of the change (core.workflow), so the messages are written with it or not at all,
and leave through the outbox after commit. The in-app notice is always written; SMS, e-mail and
Zalo only where the citizen consents (exchange.consent). The texts are data
(data/citizen_notifications.json); each message's dedup key is the timeline step's, so handling
the same step twice writes once."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.urls import reverse

from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.registry import CodeLabels
from chinhquyenso.core.text import format_number
from chinhquyenso.dossiers.models import Delivery, Dossier, DossierEvent
from chinhquyenso.exchange.consent import tell_citizen

TEXTS_FILE = Path(__file__).resolve().parent / "data" / "citizen_notifications.json"


@functools.cache
def texts() -> dict[str, dict[str, str]]:
    """timeline action → {kind, label, subject, body, sms}."""
    data = json.loads(TEXTS_FILE.read_text(encoding="utf-8"))
    return {action: entry for action, entry in data.items() if not action.startswith("_")}


def message_kinds() -> CodeLabels:
    return CodeLabels(exact={entry["kind"]: entry["label"] for entry in texts().values()})


def _moment(value) -> str:
    return f"{local_date(value):%d/%m/%Y}" if value else ""


def _time(value) -> str:
    if not value:
        return ""
    from django.utils import timezone

    return f"{timezone.localtime(value):%H:%M %d/%m/%Y}"


def _fields(dossier: Dossier, step: DossierEvent) -> dict[str, str]:
    counter = dossier.receiving_agency.name
    fields = {
        "code": dossier.code,
        "procedure": dossier.procedure.name,
        "agency": dossier.current_agency.name,
        "counter_agency": counter,
        "accepted": _time(dossier.accepted_at),
        "due": _time(dossier.due_at),
        "due_date": _moment(dossier.due_at),
        "items": "",
        "reason": step.note,
        "delivery": Delivery(dossier.delivery).label.lower() if dossier.delivery else "",
        "fee_left": "",
        "result_where": "",
    }
    if step.action == "request_supplement":
        request = dossier.supplement_requests.order_by("-requested_at", "-id").first()
        if request is not None:
            fields["items"] = "\n".join(f"- {item}" for item in request.items)
            fields["reason"] = f"Lý do: {request.reason}\n" if request.reason else ""
    if step.action == "approve":
        where = f"Mời ông/bà nhận kết quả tại Bộ phận Một cửa của {counter}"
        if dossier.has_electronic_result:
            where += "; bản điện tử có trong Kho dữ liệu điện tử của ông/bà trên Cổng dịch vụ công"
        fields["result_where"] = where + ".\n"
        left = dossier.fee_due - dossier.fee_paid
        if left > 0:
            fields["fee_left"] = (
                f"Ông/bà cần nộp {format_number(left)} đồng phí, lệ phí còn lại trước khi nhận kết quả.\n"
            )
    return fields


def notify_applicant(dossier: Dossier, step: DossierEvent) -> int:
    """Write the applicant's messages about this timeline step (none for steps that do not
    concern them). Returns how many were written."""
    entry = texts().get(step.action)
    if entry is None:
        return 0
    fields = _fields(dossier, step)
    body = entry["body"].format_map(fields).strip()
    return tell_citizen(
        dossier.applicant,
        kind=entry["kind"],
        subject=entry["subject"].format_map(fields),
        body=body,
        sms=entry["sms"].format_map(fields),
        link=reverse("portal:track") + f"?ma={dossier.code}",
        source=dossier,
        agency_id=dossier.current_agency_id,
        dedup=f"{entry['kind']}:{dossier.pk}:{step.pk}",
        at=step.at,
    )


def on_status_changed(event) -> None:
    """Subscriber of "DossierStatusChanged" (payload: dossier, action, …; core.workflow)."""
    payload = event.payload
    if payload.get("action") not in texts():
        return
    dossier = (
        Dossier.objects.select_related("procedure", "applicant", "receiving_agency", "current_agency")
        .filter(pk=payload.get("dossier"))
        .first()
    )
    if dossier is None:
        return
    step = dossier.events.filter(action=payload["action"]).order_by("-at", "-id").first()
    if step is not None:
        notify_applicant(dossier, step)
