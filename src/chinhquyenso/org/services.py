"""Agency writes. Reorganizations never edit history: they close the old
agency versions on the effective date, open new ones, record who succeeds
whom, and publish `AgencyReorganized` so open work and officers follow."""

from __future__ import annotations

import datetime as dt
import itertools

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from chinhquyenso.core import audit, events
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.org.models import Agency, AgencyKind, Reorganization, Succession


def _unique_code(base: str) -> str:
    base = slugify(fold(base))[:50] or "co-quan"
    code = base
    for n in itertools.count(2):
        if not Agency.objects.filter(code=code).exists():
            return code
        code = f"{base}-{n}"


def _check_electronic_code(electronic_code: str, exclude: list[int] = ()) -> None:
    if (
        electronic_code
        and Agency.objects.current().filter(electronic_code=electronic_code).exclude(pk__in=exclude).exists()
    ):
        raise DomainError(f"Mã định danh điện tử {electronic_code} đang được cơ quan khác sử dụng.", "electronic_code")


def _snapshot(agency: Agency) -> dict:
    return {
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind,
        "parent": agency.parent_id,
        "electronic_code": agency.electronic_code,
        "admin_unit_code": agency.admin_unit_code,
        "valid_from": agency.valid_from,
        "valid_to": agency.valid_to,
    }


def _new_agency(*, name, kind, parent, electronic_code, valid_from, code=None, admin_unit_code="") -> Agency:
    name = nfc(name)
    if not name:
        raise DomainError("Tên cơ quan không được để trống.", "name")
    if kind not in AgencyKind.values:
        raise DomainError("Loại cơ quan không hợp lệ.", "kind")
    if parent is not None and not parent.is_valid_on(valid_from):
        raise DomainError(
            f"Cơ quan cấp trên “{parent.name}” không còn hiệu lực vào ngày {valid_from:%d/%m/%Y}.", "parent"
        )
    electronic_code = nfc(electronic_code)
    _check_electronic_code(electronic_code)
    return Agency.objects.create(
        code=code or _unique_code(name),
        name=name,
        name_folded=fold(name),
        kind=kind,
        parent=parent,
        electronic_code=electronic_code,
        admin_unit_code=nfc(admin_unit_code),
        valid_from=valid_from,
    )


@transaction.atomic
def create_agency(
    *,
    actor,
    name: str,
    kind: str,
    parent: Agency | None = None,
    electronic_code: str = "",
    valid_from: dt.date = dt.date(2000, 1, 1),
    code: str | None = None,
    admin_unit_code: str = "",
) -> Agency:
    agency = _new_agency(
        name=name,
        kind=kind,
        parent=parent,
        electronic_code=electronic_code,
        valid_from=valid_from,
        code=code,
        admin_unit_code=admin_unit_code,
    )
    audit.record(actor=actor, action="agency.create", obj=agency, agency_id=agency.pk, after=_snapshot(agency))
    return agency


def _validate_sources(sources: list[Agency], effective_date: dt.date) -> None:
    if not sources:
        raise DomainError("Chưa chọn cơ quan cần sắp xếp.", "sources")
    if effective_date > timezone.localdate():
        raise DomainError(
            "Ngày hiệu lực không được ở tương lai; hãy ghi nhận khi quyết định có hiệu lực.", "effective_date"
        )
    for agency in sources:
        if not agency.is_current:
            raise DomainError(f"Cơ quan “{agency.name}” đã hết hiệu lực, không thể sắp xếp lại.", "sources")
        if effective_date <= agency.valid_from:
            raise DomainError(f"Ngày hiệu lực phải sau ngày thành lập của “{agency.name}”.", "effective_date")


def _close(agency: Agency, effective_date: dt.date) -> None:
    agency.valid_to = effective_date
    agency.save(update_fields=["valid_to"])


def _same(agency: Agency, **changes) -> dict:
    """The spec of a new version of `agency`: what it was, with `changes`."""
    spec = dict(
        name=agency.name,
        kind=agency.kind,
        parent=agency.parent,
        electronic_code=agency.electronic_code,
        admin_unit_code=agency.admin_unit_code,
    )
    return {**spec, **changes}


def _reparent_children(old: Agency, new: Agency, effective_date: dt.date, reorganization, actor) -> None:
    """Current children of a closed agency move under its successor (as new versions)."""
    for child in old.children.current():
        _apply(
            reorganization,
            actor,
            [child],
            [_same(child, parent=new)],
            effective_date,
        )


def _apply(reorganization, actor, sources, targets_spec, effective_date, open_work_target: int = 0):
    """Close `sources`, open `targets_spec` versions, link them; return the new agencies."""
    for agency in sources:
        _close(agency, effective_date)  # first, so a successor may keep its source's electronic code
    targets = [_new_agency(valid_from=effective_date, **spec) for spec in targets_spec]
    mapping = {}
    for source in sources:
        for index, target in enumerate(targets or [None]):
            takes = index == open_work_target
            Succession.objects.create(
                reorganization=reorganization, source=source, successor=target, takes_open_work=takes
            )
            if takes and target is not None:
                mapping[str(source.pk)] = target.pk
        audit.record(
            actor=actor,
            action=f"agency.{reorganization.kind}",
            obj=source,
            agency_id=source.pk,
            before={"valid_to": None},
            after={
                "valid_to": effective_date,
                "reorganization": reorganization.pk,
                "successors": [t.pk for t in targets],
            },
        )
    events.publish(
        "AgencyReorganized",
        reorganization=reorganization.pk,
        successors=mapping,
        effective_date=effective_date.isoformat(),
    )
    for source in sources:
        if targets:
            _reparent_children(source, targets[open_work_target], effective_date, reorganization, actor)
    return targets


def _reorganization(kind, effective_date, legal_basis, note, subject="") -> Reorganization:
    return Reorganization.objects.create(
        kind=kind, effective_date=effective_date, legal_basis=nfc(legal_basis), note=nfc(note), subject=subject
    )


@transaction.atomic
def rename(
    *,
    actor,
    agency: Agency,
    new_name: str,
    effective_date: dt.date,
    legal_basis: str = "",
    note: str = "",
    admin_unit_code: str | None = None,
) -> Agency:
    """A new name (and, for a commune whose unit was re-coded, a new administrative-unit code)."""
    _validate_sources([agency], effective_date)
    reorg = _reorganization(Reorganization.Kind.RENAME, effective_date, legal_basis, note)
    spec = _same(agency, name=new_name)
    if admin_unit_code is not None:
        spec["admin_unit_code"] = admin_unit_code
    [new] = _apply(reorg, actor, [agency], [spec], effective_date)
    return new


@transaction.atomic
def merge(
    *,
    actor,
    sources: list[Agency],
    name: str,
    kind: str,
    parent: Agency | None,
    effective_date: dt.date,
    electronic_code: str = "",
    legal_basis: str = "",
    note: str = "",
    admin_unit_code: str = "",
) -> Agency:
    if len(sources) < 2:
        raise DomainError("Hợp nhất cần ít nhất hai cơ quan.", "sources")
    _validate_sources(sources, effective_date)
    reorg = _reorganization(Reorganization.Kind.MERGE, effective_date, legal_basis, note)
    [new] = _apply(
        reorg,
        actor,
        sources,
        [dict(name=name, kind=kind, parent=parent, electronic_code=electronic_code, admin_unit_code=admin_unit_code)],
        effective_date,
    )
    return new


@transaction.atomic
def split(
    *,
    actor,
    agency: Agency,
    parts: list[dict],
    effective_date: dt.date,
    open_work_to: int = 0,
    legal_basis: str = "",
    note: str = "",
) -> list[Agency]:
    """`parts` are dicts of name, kind, parent, electronic_code; open work goes to parts[open_work_to]."""
    if len(parts) < 2:
        raise DomainError("Chia tách cần ít nhất hai cơ quan mới.", "parts")
    if not 0 <= open_work_to < len(parts):
        raise DomainError("Cơ quan nhận hồ sơ đang giải quyết không nằm trong danh sách cơ quan mới.", "open_work_to")
    _validate_sources([agency], effective_date)
    reorg = _reorganization(Reorganization.Kind.SPLIT, effective_date, legal_basis, note)
    return _apply(reorg, actor, [agency], parts, effective_date, open_work_target=open_work_to)


@transaction.atomic
def dissolve(
    *,
    actor,
    agency: Agency,
    effective_date: dt.date,
    successor: Agency | None = None,
    legal_basis: str = "",
    note: str = "",
) -> None:
    """Close an agency; its open work and children go to `successor` (required if it has any)."""
    _validate_sources([agency], effective_date)
    if successor is not None and not successor.is_current:
        raise DomainError("Cơ quan tiếp nhận đã hết hiệu lực.", "successor")
    if successor is None and agency.children.current().exists():
        raise DomainError("Cơ quan còn đơn vị trực thuộc: phải chọn cơ quan tiếp nhận.", "successor")
    reorg = _reorganization(Reorganization.Kind.DISSOLVE, effective_date, legal_basis, note)
    _close(agency, effective_date)
    Succession.objects.create(reorganization=reorg, source=agency, successor=successor, takes_open_work=True)
    audit.record(
        actor=actor,
        action="agency.dissolve",
        obj=agency,
        agency_id=agency.pk,
        before={"valid_to": None},
        after={"valid_to": effective_date, "successor": getattr(successor, "pk", None)},
    )
    events.publish(
        "AgencyReorganized",
        reorganization=reorg.pk,
        successors={str(agency.pk): successor.pk} if successor else {},
        effective_date=effective_date.isoformat(),
    )
    for child in agency.children.current():
        _apply(
            reorg,
            actor,
            [child],
            [_same(child, parent=successor)],
            effective_date,
        )


@transaction.atomic
def move(
    *, actor, agency: Agency, new_parent: Agency | None, effective_date: dt.date, legal_basis: str = "", note: str = ""
) -> Agency:
    _validate_sources([agency], effective_date)
    reorg = _reorganization(Reorganization.Kind.MOVE, effective_date, legal_basis, note)
    [new] = _apply(
        reorg,
        actor,
        [agency],
        [_same(agency, parent=new_parent)],
        effective_date,
    )
    return new


def record_procedure_transfer(
    *,
    procedure_code: str,
    source: Agency,
    target: Agency,
    effective_date: dt.date,
    legal_basis: str = "",
    note: str = "",
) -> Reorganization:
    """Bookkeeping for procedures.services.transfer_procedure, which owns the change."""
    reorg = _reorganization(
        Reorganization.Kind.TRANSFER_PROCEDURE, effective_date, legal_basis, note, subject=procedure_code
    )
    Succession.objects.create(reorganization=reorg, source=source, successor=target, takes_open_work=True)
    return reorg
