"""Procedure catalog writes: create/update with validation, authority transfer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import models, transaction

from chinhquyenso.accounts.models import PROCESS_STEP_ROLES
from chinhquyenso.core import audit, events
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.org.models import Agency, Level
from chinhquyenso.org.selectors import resolve_agency
from chinhquyenso.org.services import record_procedure_transfer
from chinhquyenso.procedures.models import (
    Field,
    Procedure,
    ProcedureAgency,
    ProcedureForm,
    ProcessStep,
    RequiredComponent,
    ServiceLevel,
)


def _int(data: dict, key: str, field: str, minimum: int = 0, default=None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DomainError(f"“{key}” phải là số nguyên không nhỏ hơn {minimum}.", field)
    return value


def clean_procedure(data: dict, where: str = "") -> dict:
    """Validate one catalog entry (as in the JSON/XLSX import); raise naming the field."""
    prefix = f"{where}." if where else ""
    code, name = nfc(data.get("code")), nfc(data.get("name"))
    if not code:
        raise DomainError("Mã thủ tục không được để trống.", prefix + "code")
    if not name:
        raise DomainError("Tên thủ tục không được để trống.", prefix + "name")
    if not nfc(data.get("field_code")):
        raise DomainError("Thiếu mã lĩnh vực.", prefix + "field_code")
    levels = data.get("levels") or []
    if not isinstance(levels, list) or not levels or any(level not in Level.values for level in levels):
        raise DomainError("Cấp thực hiện phải là danh sách trong: province, district, commune.", prefix + "levels")
    service_level = data.get("service_level", ServiceLevel.PARTLY_ONLINE)
    if service_level not in ServiceLevel.values:
        raise DomainError("Mức độ dịch vụ phải là info_only, partly_online hoặc full_online.", prefix + "service_level")
    discount = _int(data, "online_discount_percent", prefix + "online_discount_percent", default=0)
    if discount > 100:
        raise DomainError("Tỷ lệ giảm không được vượt quá 100%.", prefix + "online_discount_percent")
    cleaned = {
        "code": code,
        "name": name,
        "field_code": nfc(data["field_code"]),
        "field_name": nfc(data.get("field_name")),
        "levels": levels,
        "service_level": service_level,
        "processing_days": _int(data, "processing_days", prefix + "processing_days"),
        "fee": _int(data, "fee", prefix + "fee", default=0),
        "charge": _int(data, "charge", prefix + "charge", default=0),
        "online_discount_percent": discount,
        "result_type": nfc(data.get("result_type")),
        "result_name": nfc(data.get("result_name")),
        "legal_basis": nfc(data.get("legal_basis")),
        "components": [],
        "steps": [],
        "agencies": [nfc(a) for a in data.get("agencies") or []],
    }
    for i, component in enumerate(data.get("components") or [], start=1):
        if not nfc(component.get("name")):
            raise DomainError("Tên thành phần hồ sơ không được để trống.", f"{prefix}components[{i}].name")
        cleaned["components"].append(
            {
                "order": i,
                "name": nfc(component["name"]),
                "originals": _int(component, "originals", f"{prefix}components[{i}].originals", default=1),
                "copies": _int(component, "copies", f"{prefix}components[{i}].copies", default=0),
                "mandatory": bool(component.get("mandatory", True)),
                "reusable_result_type": nfc(component.get("reusable_result_type")),
            }
        )
    for i, step in enumerate(data.get("steps") or [], start=1):
        if step.get("role") not in PROCESS_STEP_ROLES:
            raise DomainError(
                f"Vai trò của bước phải là {', '.join(PROCESS_STEP_ROLES[:-1])} hoặc {PROCESS_STEP_ROLES[-1]}.",
                f"{prefix}steps[{i}].role",
            )
        if not nfc(step.get("name")):
            raise DomainError("Tên bước không được để trống.", f"{prefix}steps[{i}].name")
        days = step.get("days", 1)
        try:
            days = Decimal(str(days))
        except (InvalidOperation, ValueError):
            days = None
        if (
            isinstance(step.get("days"), bool)
            or days is None
            or not (0 <= days <= Decimal("999.9"))
            or days != days.quantize(Decimal("0.1"))
        ):
            raise DomainError(
                "Thời gian của bước phải là số ngày từ 0 đến 999,9 (tối đa một chữ số thập phân).",
                f"{prefix}steps[{i}].days",
            )
        cleaned["steps"].append(
            {
                "order": i,
                "name": nfc(step["name"]),
                "role": step["role"],
                "days": days,
                "agency": nfc(step.get("agency")),
            }
        )
    return cleaned


def _agency_by_code(code: str, field: str) -> Agency:
    return resolve_agency(code, field=field)


@transaction.atomic
def save_procedure(*, actor, data: dict, where: str = "") -> Procedure:
    """Create or replace one catalog entry with its components, steps and agencies."""
    cleaned = clean_procedure(data, where)
    field, _ = Field.objects.get_or_create(
        code=cleaned["field_code"], defaults={"name": cleaned["field_name"] or cleaned["field_code"]}
    )
    values = {
        k: cleaned[k]
        for k in (
            "name",
            "levels",
            "service_level",
            "processing_days",
            "fee",
            "charge",
            "online_discount_percent",
            "result_type",
            "result_name",
            "legal_basis",
        )
    }
    procedure, created = Procedure.objects.update_or_create(
        code=cleaned["code"], defaults={**values, "field": field, "name_folded": fold(cleaned["name"])}
    )
    procedure.components.all().delete()
    RequiredComponent.objects.bulk_create(RequiredComponent(procedure=procedure, **c) for c in cleaned["components"])
    procedure.steps.all().delete()
    prefix = f"{where}." if where else ""
    ProcessStep.objects.bulk_create(
        ProcessStep(
            procedure=procedure,
            order=s["order"],
            name=s["name"],
            role=s["role"],
            days=s["days"],
            agency=_agency_by_code(s["agency"], f"{prefix}steps[{s['order']}].agency") if s["agency"] else None,
        )
        for s in cleaned["steps"]
    )
    if cleaned["agencies"]:
        wanted = {_agency_by_code(code, f"{prefix}agencies").pk for code in cleaned["agencies"]}
        have = set(procedure.assignments.filter(valid_to__isnull=True).values_list("agency_id", flat=True))
        for agency_id in wanted - have:
            ProcedureAgency.objects.create(procedure=procedure, agency_id=agency_id)
    audit.record(
        actor=actor,
        action="procedure.create" if created else "procedure.update",
        obj=procedure,
        after={
            "code": procedure.code,
            "processing_days": procedure.processing_days,
            "service_level": procedure.service_level,
        },
    )
    return procedure


@transaction.atomic
def transfer_procedure(
    *,
    actor,
    procedure: Procedure,
    source: Agency,
    target: Agency,
    effective_date: dt.date,
    legal_basis: str = "",
    note: str = "",
):
    """Move a procedure's handling from one agency to another (e.g. Phiếu lý
    lịch tư pháp: Sở Tư pháp → Công an tỉnh from 01/3/2025). Open dossiers follow."""
    assignment = procedure.assignments.filter(agency=source, valid_to__isnull=True).first()
    if assignment is None:
        raise DomainError(f"“{source.name}” hiện không giải quyết thủ tục {procedure.code}.", "source")
    if not target.is_current:
        raise DomainError("Cơ quan tiếp nhận thẩm quyền đã hết hiệu lực.", "target")
    if effective_date <= assignment.valid_from:
        raise DomainError("Ngày hiệu lực phải sau ngày bắt đầu giao thẩm quyền hiện tại.", "effective_date")
    assignment.valid_to = effective_date
    assignment.save(update_fields=["valid_to"])
    ProcedureAgency.objects.create(procedure=procedure, agency=target, valid_from=effective_date)
    reorg = record_procedure_transfer(
        procedure_code=procedure.code,
        source=source,
        target=target,
        effective_date=effective_date,
        legal_basis=legal_basis,
        note=note,
    )
    audit.record(
        actor=actor,
        action="procedure.transfer",
        obj=procedure,
        agency_id=target.pk,
        before={"agency": source.pk},
        after={"agency": target.pk, "effective_date": effective_date},
    )
    events.publish(
        "ProcedureTransferred",
        reorganization=reorg.pk,
        procedure=procedure.code,
        successors={str(source.pk): target.pk},
        effective_date=effective_date.isoformat(),
    )
    return reorg


def hand_over_assignments(
    *, source_id: int, receivers: list[Agency], effective_date: dt.date, procedure_ids: list[int] | None = None
) -> int:
    """From `effective_date` the source's open assignments (all, or only
    `procedure_ids`) close and every receiver handles those procedures.
    Returns the number of assignments opened. An assignment that would open
    and close on the same day never took effect and is removed."""
    open_rows = ProcedureAgency.objects.filter(agency_id=source_id, valid_to__isnull=True)
    if procedure_ids is not None:
        open_rows = open_rows.filter(procedure_id__in=procedure_ids)
    moving = list(open_rows.values_list("procedure_id", flat=True))
    if not moving:
        return 0
    open_rows.filter(valid_from__gte=effective_date).delete()
    open_rows.update(valid_to=effective_date)
    new_rows = []
    for receiver in receivers:
        have = set(
            ProcedureAgency.objects.filter(agency=receiver, valid_to__isnull=True, procedure_id__in=moving).values_list(
                "procedure_id", flat=True
            )
        )
        new_rows += [
            ProcedureAgency(procedure_id=p, agency=receiver, valid_from=effective_date) for p in moving if p not in have
        ]
    ProcedureAgency.objects.bulk_create(new_rows, batch_size=2000)
    return len(new_rows)


def follow_reorganization(event) -> None:
    """AgencyReorganized: the agency that takes a closed agency's open work
    also handles its procedures from the effective date, so citizens can keep
    submitting them. Without such a successor the assignments just close."""
    from chinhquyenso.org.models import Succession

    effective_date = dt.date.fromisoformat(event.payload["effective_date"])
    opened = 0
    links = (
        Succession.objects.filter(reorganization_id=event.payload["reorganization"])
        .select_related("successor")
        .order_by("id")
    )
    for link in links:
        receivers = [link.successor] if link.successor and link.takes_open_work else []
        opened += hand_over_assignments(source_id=link.source_id, receivers=receivers, effective_date=effective_date)
    if opened:
        audit.record(
            actor=None,
            action="procedure.assignments_follow_reorganization",
            object_type="org.Reorganization",
            object_id=str(event.payload["reorganization"]),
            after={"opened": opened},
        )


def record_admin_edit(*, actor, procedure: Procedure, created: bool) -> None:
    """After the province administrator edits an entry in the admin pages:
    keep the search key in step with the name and audit the change."""
    folded = fold(procedure.name)
    if procedure.name_folded != folded:
        Procedure.objects.filter(pk=procedure.pk).update(name_folded=folded)
        procedure.name_folded = folded
    audit.record(
        actor=actor,
        action="procedure.create" if created else "procedure.update",
        obj=procedure,
        after={
            "code": procedure.code,
            "processing_days": procedure.processing_days,
            "service_level": procedure.service_level,
            "via": "admin",
        },
    )


# ---------------------------------------------------------------- e-forms (tờ khai điện tử)

FORMS_DIR = Path(__file__).resolve().parent / "data" / "forms"


@transaction.atomic
def publish_form(*, actor, procedure: Procedure, schema, layout, title: str = "", note: str = "") -> ProcedureForm:
    """Save a procedure's e-form as its next version, after checking it (eforms.check_definition).
    The same schema, layout and title as the current version publish nothing: the current one is
    returned. Saved versions never change: drafts and dossiers keep the version they were filled with."""
    from chinhquyenso.procedures import eforms

    procedure = Procedure.objects.select_for_update().get(pk=procedure.pk)  # one version number at a time
    names = list(procedure.components.values_list("name", flat=True))
    eforms.check_definition(schema, layout, names)
    title = nfc(title) or nfc(layout.get("title"))
    if not title:
        raise DomainError("Hãy đặt tên tờ khai (“title”).", "title")
    current = ProcedureForm.objects.filter(procedure=procedure).order_by("-version").first()
    if current and (current.schema, current.layout, current.title) == (schema, layout, title):
        return current
    form = ProcedureForm.objects.create(
        procedure=procedure,
        version=(current.version + 1) if current else 1,
        title=title,
        schema=schema,
        layout=layout,
        note=nfc(note)[:300],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(
        actor=actor,
        action="procedure_form.publish",
        obj=form,
        after={"procedure": procedure.code, "version": form.version, "fields": len(schema["properties"])},
    )
    return form


def load_forms(*, actor, directory: Path | None = None, codes: list[str] | None = None) -> list[str]:
    """Publish the e-forms shipped as data (procedures/data/forms/*.json) for the procedures of the
    catalog with those codes; a file whose procedure is not in the catalog is skipped. A file may
    ask for its declaration component to be added ("add_component": true) where the catalog lists
    none (chứng thực bản sao). Returns one line per file, for the command's output."""
    import json

    lines = []
    for path in sorted((directory or FORMS_DIR).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DomainError(f"Không đọc được tệp tờ khai {path.name}: không phải JSON hợp lệ.", path.name) from error
        if not isinstance(data, dict) or not isinstance(data.get("layout"), dict) or "schema" not in data:
            raise DomainError(f"Tệp tờ khai {path.name} phải có “procedure”, “schema” và “layout”.", path.name)
        code = data.get("procedure", "")
        if codes is not None and code not in codes:
            continue
        procedure = Procedure.objects.filter(code=code).first()
        if procedure is None:
            lines.append(f"{path.name}: bỏ qua, danh mục không có thủ tục {code}.")
            continue
        with transaction.atomic():
            component = nfc(data["layout"].get("component"))
            if data.get("add_component") and component and not procedure.components.filter(name=component).exists():
                last = procedure.components.aggregate(models.Max("order"))["order__max"] or 0
                RequiredComponent.objects.create(procedure=procedure, order=last + 1, name=component)
            try:
                form = publish_form(
                    actor=actor,
                    procedure=procedure,
                    schema=data["schema"],
                    layout=data["layout"],
                    title=data.get("title", ""),
                    note=data.get("note", f"Nạp từ tệp {path.name}"),
                )
            except DomainError as error:
                raise DomainError(f"Tệp {path.name}: {error.message}", error.field) from error
        lines.append(f"{path.name}: {procedure.code} — {form.title}, phiên bản {form.version}.")
    return lines
