"""Births, deaths and marriages registered here, pushed to the Ministry of Justice's electronic
civil-status database over the data bus (docs/national-systems.md, "Civil status").

`on_status_changed`, a subscriber of "DossierStatusChanged" (DossiersConfig.ready()), acts when a
dossier of a civil-status registration procedure gets its result (→ result_ready, the entry made in
the register): it queues operation `register` of the civil-status connector through the outbox in
the same transaction (exchange.connectors.civil_status.push), once per dossier (dedup key), with
`order_key="ho-tich:dossier:<id>"` (its own key: a late national-portal push of the same dossier
does not hold it). Only when CQS_CIVIL_STATUS_SYNC is on.

Which procedures, which kind of event, and which e-form fields make up each party are data:
dossiers/data/civil_status_procedures.json. The registration number is the electronic result's
number when one was attached before approval, else the dossier's code; the date is the approval's
local date; the agency the receiving agency's electronic code. A body the schema would refuse is
queued all the same — it never blocks an officer's approval — and becomes a dead letter with the
bus's reason, listed for the agency's officers. The answer (`national_id_of_record`) is recorded in
the audit log (`dossier.civil_status_synced`)."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from chinhquyenso.dossiers.models import Dossier, Status

KIND = "dossiers.civil_status_push"
SYNCED = "dossier.civil_status_synced"
DATA = Path(__file__).resolve().parent / "data" / "civil_status_procedures.json"


def enabled() -> bool:
    return bool(settings.CQS.get("CIVIL_STATUS_SYNC"))


@lru_cache(maxsize=1)
def rules() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def kind_of(procedure_code: str) -> str | None:
    """ "birth" | "death" | "marriage" for a civil-status registration procedure, else None."""
    return rules()["procedures"].get(procedure_code)


def parties_of(kind: str, values: dict) -> dict:
    """The parties of an event of `kind` from the e-form's values (empty fields left out)."""
    parties = {}
    for party, fields in rules()["parties"][kind].items():
        person = {}
        for name, field in fields.items():
            value = values.get(field)
            if value not in (None, ""):
                person[name] = str(value).strip()
        if person:
            parties[party] = person
    return parties


def _agency_code(dossier: Dossier) -> str:
    for agency in (dossier.receiving_agency, dossier.current_agency):
        if agency is not None and agency.electronic_code:
            return agency.electronic_code
    return settings.CQS.get("BUS_MEMBER_CODE", "")


def body_for(dossier: Dossier, kind: str, at: dt.datetime) -> dict:
    from chinhquyenso.exchange.connectors import civil_status

    values = (dossier.form_data or {}).get("values") if isinstance(dossier.form_data, dict) else None
    result = getattr(dossier, "electronic_result", None)
    agency = dossier.receiving_agency
    return civil_status.registration_body(
        kind=kind,
        registration_number=(result.number if result is not None and result.number else dossier.code),
        registration_date=timezone.localtime(at).date().isoformat(),
        agency_code=_agency_code(dossier),
        agency_name=agency.name if agency is not None else "",
        parties=parties_of(kind, values if isinstance(values, dict) else {}),
    )


def on_status_changed(event) -> None:
    """Subscriber of "DossierStatusChanged": a civil-status registration got its result → push it."""
    payload = event.payload
    if not enabled() or payload.get("to_status") != Status.RESULT_READY:
        return
    if payload.get("from_status") == Status.RESULT_READY:
        return
    dossier = (
        Dossier.objects.select_related("procedure", "receiving_agency", "current_agency")
        .filter(pk=payload.get("dossier"))
        .first()
    )
    if dossier is None:
        return
    kind = kind_of(dossier.procedure.code)
    if kind is None:
        return
    from chinhquyenso.exchange.connectors import civil_status

    at = dt.datetime.fromisoformat(payload["at"]) if payload.get("at") else event.created_at
    civil_status.push(
        body=body_for(dossier, kind, at),
        kind=KIND,
        correlation=dossier.code,
        order_key=f"ho-tich:dossier:{dossier.pk}",
        agency_id=dossier.receiving_agency_id,
        source=dossier,
        dedup_key=f"civil-status:{dossier.pk}",
        check=False,
    )


def on_reply(message, response) -> None:
    """BUS_REPLIES[KIND]: the civil-status database's record id, into the audit log (idempotent)."""
    from chinhquyenso.core import audit
    from chinhquyenso.core.models import AuditRecord

    answer = response.json() or {}
    record_id = str(answer.get("national_id_of_record", ""))[:80]
    dossier_id = message.source_id if message.source_type == "dossiers.Dossier" else ""
    if not record_id or not dossier_id:
        return
    if AuditRecord.objects.filter(action=SYNCED, object_id=str(dossier_id)).exists():
        return
    audit.record(
        actor=None,
        action=SYNCED,
        object_type="dossiers.Dossier",
        object_id=dossier_id,
        agency_id=message.agency_id,
        after={"national_id_of_record": record_id, "message": message.pk},
    )
