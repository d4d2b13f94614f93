"""The demo province's communes from 1 July 2025 are the official ones: the 102 communes,
wards and special zones of An Giang with their official codes and names as the
`vietnam-provinces` package gives them; no former commune or district is current.

Only the agencies and the reorganizations of 01/7/2025 are built (no catalog, no dossiers),
once for the module, in a transaction rolled back at the end."""

import datetime as dt

import pytest
from django.db import transaction
from vietnam_provinces import ProvinceCode, Ward

from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.core.errors import DomainError
from chinhquyenso.demo import communes, services
from chinhquyenso.org.models import Agency, AgencyKind, Succession
from chinhquyenso.org.selectors import agency_for_address

DAY = dt.date(2025, 7, 1)


@pytest.fixture(scope="module")
def province(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            admin = services.create_admin("!unusable")
            services.build_agencies(actor=admin)
            services.apply_reorganizations(actor=admin, on=DAY)
            yield admin
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def official() -> dict[str, str]:
    return {str(int(w.code)): w.name for w in Ward.iter_by_province(ProvinceCode(91))}


def test_the_102_official_units_with_their_codes_are_the_current_communes(province, db):
    current = Agency.objects.current().filter(kind=AgencyKind.COMMUNE_COMMITTEE)
    assert current.count() == 102 == len(official())
    by_code = dict(current.values_list("admin_unit_code", "name"))
    assert set(by_code) == set(official())
    for code, name in official().items():  # "Phường Long Xuyên" → "UBND phường Long Xuyên"
        assert by_code[code] == "UBND " + name[0].lower() + name[1:], code
    assert by_code["30307"] == "UBND phường Long Xuyên" and by_code["31078"] == "UBND đặc khu Phú Quốc"
    assert Agency.objects.valid_on(DAY).filter(kind=AgencyKind.COMMUNE_COMMITTEE).count() == 102
    province_committee = Agency.objects.current().get(kind=AgencyKind.PROVINCE_COMMITTEE)
    assert not current.exclude(parent=province_committee).exists()
    electronic = list(current.values_list("electronic_code", flat=True))
    assert len(set(electronic)) == 102 and all(electronic)


def test_no_former_commune_or_district_is_current(province, db):
    before = Agency.objects.valid_on(DAY - dt.timedelta(days=1))
    former = before.filter(kind__in=[AgencyKind.COMMUNE_COMMITTEE, AgencyKind.DISTRICT_COMMITTEE])
    assert former.count() == 156 + 11
    assert not former.filter(valid_to__isnull=True).exists()
    assert not Agency.objects.current().filter(kind=AgencyKind.DISTRICT_COMMITTEE).exists()
    # Every former commune hands its work to a current official unit.
    for old in former.filter(kind=AgencyKind.COMMUNE_COMMITTEE):
        link = Succession.objects.filter(source=old, takes_open_work=True).first()
        assert link is not None and link.successor.admin_unit_code, old.name


def test_officers_follow_and_new_units_are_staffed(province, db):
    for agency in Agency.objects.current().filter(kind=AgencyKind.COMMUNE_COMMITTEE, admin_unit_code__gte="30742"):
        roles = set(Membership.objects.filter(agency=agency).values_list("role", flat=True))
        assert roles == {Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER}, agency.name


def test_an_old_address_finds_the_official_unit(province, db):
    # A commune whose name the new unit carries, and one merged into a unit named otherwise.
    assert agency_for_address("Ấp Mỹ Hòa, xã Mỹ Hòa Hưng, thành phố Long Xuyên").admin_unit_code == "30313"
    found = agency_for_address("Khóm Bình Thới 1, phuong Binh Khanh, tp Long Xuyen")
    assert found.admin_unit_code == communes_unit_of("ubnd-phuong-binh-khanh") and found.is_current
    assert agency_for_address("Đặc khu Phú Quốc, An Giang").admin_unit_code == "31078"


def communes_unit_of(key: str) -> str:
    return next(str(u["code"]) for u in communes.spec()["units"] if key in u["sources"])


def test_the_data_file_must_agree_with_the_package(monkeypatch):
    spec = dict(communes.spec())
    spec["units"] = [dict(u) for u in spec["units"]]
    spec["units"][0]["name"] = "Phường Không Có"
    monkeypatch.setattr(communes, "spec", lambda: spec)
    with pytest.raises(DomainError, match="khác với danh mục"):
        communes.units()
    spec["units"] = spec["units"][1:]
    with pytest.raises(DomainError, match="không khớp"):
        communes.units()
