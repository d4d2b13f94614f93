"""Synchronization with the National Public Service Portal (Cổng Dịch vụ công quốc gia) over the
data bus (docs/national-systems.md):

- dossier status push: `on_status_changed`, a subscriber of "DossierStatusChanged" (registered in
  DossiersConfig.ready()), queues operation `dossier-status` of the portal's service through the
  outbox (exchange.bus.delivery.send) in the same transaction as the change, with
  `order_key="dossier:<id>"` — the outbox delivers one dossier's statuses in the order they
  happened, at least once, each attempt with the same Idempotency-Key (the portal records it
  once). Only when CQS_NATIONAL_PORTAL_SYNC is on (on in the demo).
- catalog comparison: `compare_catalog()` fetches the national catalog (operation `catalog`) and
  compares it with ours: procedures missing here, missing there, and those whose name, processing
  time, fee or charge differ. A read-only report (`cqs national-portal catalog [--json]`); it
  never changes our catalog."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.conf import settings

from chinhquyenso.core.text import nfc
from chinhquyenso.dossiers.models import Dossier

KIND = "dossiers.national_status"
OPERATION = "dossier-status"


def enabled() -> bool:
    return bool(settings.CQS.get("NATIONAL_PORTAL_SYNC"))


def on_status_changed(event) -> None:
    """Subscriber of "DossierStatusChanged": queue the new status for the national portal."""
    if not enabled():
        return
    from chinhquyenso.exchange import connectors
    from chinhquyenso.exchange.bus import delivery
    from chinhquyenso.exchange.national.http import status_body

    payload = event.payload
    if payload.get("from_status") == payload.get("to_status"):
        return
    dossier = (
        Dossier.objects.select_related("procedure", "current_agency", "receiving_agency")
        .filter(pk=payload.get("dossier"))
        .first()
    )
    if dossier is None:
        return
    agency = dossier.current_agency or dossier.receiving_agency
    at = dt.datetime.fromisoformat(payload["at"]) if payload.get("at") else event.created_at
    delivery.send(
        client=connectors.client_for("national_portal"),
        service=connectors.service_id("national_portal"),
        operation=OPERATION,
        kind=KIND,
        params={"code": dossier.code},
        json_body=status_body(
            status=payload["to_status"],
            at=at,
            agency_code=(agency.electronic_code or agency.code) if agency else "",
            procedure_code=dossier.procedure.code,
            sequence=event.pk,
        ),
        order_key=f"dossier:{dossier.pk}",
        correlation=dossier.code,
        agency_id=dossier.current_agency_id,
        source=dossier,
        dedup_key=f"national-status:{event.pk}",
    )


# ---------------------------------------------------------------------------- catalog comparison


@dataclasses.dataclass(frozen=True)
class Difference:
    code: str
    name: str
    field: str  # "name", "processing_days", "fee", "charge"
    ours: object
    national: object


@dataclasses.dataclass
class CatalogComparison:
    national_count: int = 0
    our_count: int = 0
    missing_here: list[dict] = dataclasses.field(default_factory=list)  # on the national portal, not ours
    missing_there: list[dict] = dataclasses.field(default_factory=list)  # ours (active), not on the portal
    changed: list[Difference] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "national_count": self.national_count,
            "our_count": self.our_count,
            "missing_here": self.missing_here,
            "missing_there": self.missing_there,
            "changed": [dataclasses.asdict(d) for d in self.changed],
        }


FIELD_LABELS = {
    "name": "tên thủ tục",
    "processing_days": "thời hạn giải quyết (ngày làm việc)",
    "fee": "phí (đồng)",
    "charge": "lệ phí (đồng)",
}


def compare_catalog(national: list[dict] | None = None) -> CatalogComparison:
    """Compare the national catalog (fetched now unless given) with our active procedures.
    Raises NationalSystemError when the portal cannot be asked. Never inside a transaction."""
    from chinhquyenso.exchange.national import national_portal
    from chinhquyenso.procedures.models import Procedure

    if national is None:
        national = national_portal().fetch_catalog()
    ours = {p.code: p for p in Procedure.objects.filter(is_active=True).order_by("code")}
    theirs = {entry["code"]: entry for entry in national}
    result = CatalogComparison(national_count=len(theirs), our_count=len(ours))
    for code in sorted(theirs.keys() - ours.keys()):
        entry = theirs[code]
        result.missing_here.append({"code": code, "name": entry.get("name", "")})
    for code in sorted(ours.keys() - theirs.keys()):
        result.missing_there.append({"code": code, "name": ours[code].name})
    for code in sorted(ours.keys() & theirs.keys()):
        procedure, entry = ours[code], theirs[code]
        pairs = [("name", nfc(procedure.name).strip(), nfc(entry.get("name") or "").strip())]
        for field in ("processing_days", "fee", "charge"):
            if entry.get(field) is not None:  # a field the portal does not give is not a difference
                pairs.append((field, getattr(procedure, field), entry[field]))
        for field, mine, national_value in pairs:
            if mine != national_value:
                result.changed.append(Difference(code, procedure.name, field, mine, national_value))
    return result
