"""The demo province's communes from 1 July 2025: the official list.

The 102 communes, wards and special zones of An Giang after the 2025 mergers, their
official administrative-unit codes and their names come from the `vietnam-provinces`
package (installed with the project: the package is the data, nothing is downloaded).
demo/data/communes_2025.json only says which of the demo's former communes each new
unit is formed from (illustrative, see its note) and, for the units of the former Kiên
Giang, which have no former commune in the demo, an approximate point for the maps.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from functools import cache
from pathlib import Path

from django.db import transaction

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import User
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.org import services as org
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import current_successor
from chinhquyenso.procedures.models import ProcedureAgency

DATA_FILE = Path(__file__).parent / "data" / "communes_2025.json"
# Dossier-code prefixes (electronic codes) of the units with no former commune in the demo:
# same pattern as the demo's other codes (000.xx.yy.H01), digits invented, unique.
NEW_UNIT_CODE_BLOCK = 60


@cache
def spec() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


@cache
def official_units() -> dict[str, tuple[str, str]]:
    """Official code → (name, division type) of the province's units, read from the package's
    own data file (its lookup module builds every unit of the country as objects: ~20 MB more)."""
    import vietnam_provinces

    provinces = json.loads(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    province = next((p for p in provinces if p["code"] == spec()["province_code"]), None)
    if province is None:
        raise DomainError("Không có tỉnh này trong gói vietnam-provinces.", "communes_2025.province_code")
    return {str(w["code"]): (w["name"], w["division_type"]) for w in province["wards"]}


def agency_name(code: str) -> str:
    """ "Phường Long Xuyên" → "UBND phường Long Xuyên": the unit's name exactly as the
    package spells it, its type in lower case after "UBND" as in the demo's other names."""
    name, division = official_units()[code]
    rest = name[len(division) :] if name.lower().startswith(division) else f" {name}"
    return f"UBND {division}{rest}"


def centers() -> dict[str, tuple[float, float]]:
    """Official code → approximate point of the units with no former commune in the demo
    (illustrative: the centre of the former district, for the feedback maps)."""
    return {str(u["code"]): tuple(u["center"]) for u in spec()["units"] if u.get("center")}


def units() -> list[dict]:
    """The data file's units, checked against the package: every official unit once, with
    the package's name (a package update that renames or re-codes a unit stops the build)."""
    official = official_units()
    rows = spec()["units"]
    codes = [str(u["code"]) for u in rows]
    if sorted(codes) != sorted(official) or len(set(codes)) != len(codes):
        raise DomainError(
            "Danh sách xã, phường trong communes_2025.json không khớp danh mục đơn vị hành chính của gói "
            "vietnam-provinces.",
            "communes_2025.units",
        )
    for i, unit in enumerate(rows):
        if unit["name"] != official[str(unit["code"])][0]:
            raise DomainError(
                f"Tên đơn vị {unit['code']} khác với danh mục: “{unit['name']}”.", f"communes_2025.units[{i}]"
            )
    return rows


def _current(key: str, where: str) -> Agency:
    first = Agency.objects.filter(code=key).first()
    agency = current_successor(first) if first else None
    if agency is None:
        raise DomainError(f"Không tìm thấy cơ quan “{key}” còn hiệu lực.", where)
    return agency


@transaction.atomic
def reorganize_former_communes(*, actor, on: dt.date, legal_basis: str = "") -> list[str]:
    """The demo's former communes become the official units they form (data file):
    two or more merge, one alone is renamed; the first source's electronic code stays
    (it keeps the dossier-code prefix), the official code is set on the new version."""
    basis = legal_basis or spec()["legal_basis"]
    formed = merged = 0
    for i, unit in enumerate(units()):
        if not unit["sources"]:
            continue
        where = f"communes_2025.units[{i}]"
        code, name = str(unit["code"]), agency_name(str(unit["code"]))
        sources = [_current(key, where) for key in unit["sources"]]
        if len(sources) == 1:
            org.rename(
                actor=actor,
                agency=sources[0],
                new_name=name,
                effective_date=on,
                legal_basis=basis,
                admin_unit_code=code,
            )
        else:
            org.merge(
                actor=actor,
                sources=sources,
                name=name,
                kind=AgencyKind.COMMUNE_COMMITTEE,
                parent=sources[0].parent,
                effective_date=on,
                legal_basis=basis,
                electronic_code=sources[0].electronic_code,
                admin_unit_code=code,
            )
        formed += 1
        merged += len(sources)
    return [
        f"Sắp xếp {merged} xã, phường, thị trấn cũ thành {formed} đơn vị hành chính cấp xã theo danh mục chính thức"
    ]


@transaction.atomic
def create_new_units(*, actor, on: dt.date, province_key: str) -> list[str]:
    """The units with no former commune in the demo (the former Kiên Giang's): created on `on`
    under the province, staffed like every demo agency (counter officer, specialist, leader)
    and given the procedures a commune handles that day (those of a commune already formed)."""
    from chinhquyenso.demo.services import ADMIN_USERNAME, ROLE_SUFFIX, NameMaker

    province = _current(province_key, "communes_2025.province")
    rows = [u for u in units() if not u["sources"]]
    reference = (
        Agency.objects.valid_on(on)
        .filter(kind=AgencyKind.COMMUNE_COMMITTEE, admin_unit_code__gt="")
        .order_by("admin_unit_code")
        .first()
    )
    procedure_ids = (
        list(
            ProcedureAgency.objects.filter(agency=reference, valid_to__isnull=True, valid_from__lte=on)
            .order_by("procedure_id")
            .values_list("procedure_id", flat=True)
        )
        if reference
        else []
    )
    names = NameMaker(random.Random(f"communes-{on}"))
    created, assignments, staff = [], [], []
    for n, unit in enumerate(rows, start=1):
        code = str(unit["code"])
        agency = org.create_agency(
            actor=actor,
            name=agency_name(code),
            kind=AgencyKind.COMMUNE_COMMITTEE,
            parent=province,
            electronic_code=f"000.{NEW_UNIT_CODE_BLOCK + n // 100}.{n % 100:02d}.H01",
            valid_from=on,
            admin_unit_code=code,
        )
        created.append(agency)
        assignments += [ProcedureAgency(procedure_id=p, agency=agency, valid_from=on) for p in procedure_ids]
        for role, suffix in ROLE_SUFFIX.items():
            user = accounts.create_officer(
                actor=actor,
                username=f"{agency.code}.{suffix}",
                password=None,
                full_name=names.person()[0],
                memberships=[(agency, role)],
            )
            staff.append(user.pk)
    ProcedureAgency.objects.bulk_create(assignments, batch_size=2000)
    # The demo's shared password, as already hashed for every demo account (hashing is slow).
    shared = User.objects.filter(username=ADMIN_USERNAME).values_list("password", flat=True).first()
    if shared:
        User.objects.filter(pk__in=staff).update(password=shared)
    audit.record(
        actor=actor,
        action="procedure.assign_bulk",
        object_type="procedures.ProcedureAgency",
        object_id="demo-communes-2025",
        after={"assignments": len(assignments), "agencies": [a.pk for a in created]},
    )
    return [f"Thành lập {len(created)} xã, phường, đặc khu (địa bàn tỉnh Kiên Giang cũ)"]
