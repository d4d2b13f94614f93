"""`cqs import-civil --commune` accepts the commune's key, electronic code or name;
whichever is typed, and whichever version of the commune it resolves to, a
record's identity is the commune's, so importing a file again stores nothing twice."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from chinhquyenso.civil_records import services
from chinhquyenso.civil_records.models import CivilRecord
from chinhquyenso.org import services as org
from chinhquyenso.org.models import Agency
from chinhquyenso.org.selectors import versions
from tests.civil_records.test_import import row, run, write_csv

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 7, 1)


@pytest.fixture
def two_tier(province, admin_user):
    """Two reorganizations on 01/7/2025 leave each commune a version valid for zero days."""
    org.dissolve(actor=admin_user, agency=province["huyen"], successor=province["ubnd"], effective_date=DAY)
    org.rename(
        actor=admin_user,
        agency=Agency.objects.get(pk=province["ubnd"].pk),
        new_name="UBND tỉnh An Giang",
        effective_date=DAY,
    )


@pytest.fixture
def register(tmp_path):
    return write_csv(tmp_path / "so.csv", [row(Số_đăng_ký=str(n), Họ_và_tên=f"Người {n}") for n in range(1, 8)])


def import_civil(path, commune):
    out = io.StringIO()
    call_command("import_civil", str(path), "--type", "birth", "--commune", commune, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("identifier", ["xa-kien-an", "000.07.01.H01", "UBND xã Kiến An"])
def test_the_commune_resolves_to_its_version_valid_today_never_a_zero_length_one(province, two_tier, identifier):
    agency = services.find_commune(identifier)
    assert agency == versions(province["xa_a"])[-1]
    assert agency.valid_to is None and agency.valid_from == DAY


def test_importing_by_key_then_by_electronic_code_then_by_name_stores_nothing_twice(province, two_tier, register):
    first = import_civil(register, "xa-kien-an")
    assert first["imported"] == 7
    for identifier in ("000.07.01.H01", "UBND xã Kiến An"):
        again = import_civil(register, identifier)
        assert (again["imported"], again["skipped_existing"]) == (0, 7)
    assert CivilRecord.objects.count() == 7


def test_records_imported_before_a_reorganization_are_found_after_it(province, admin_user, register):
    assert run(register, province["xa_a"]).imported == 7  # on the version of the time
    org.rename(actor=admin_user, agency=province["xa_a"], new_name="UBND xã Kiến An Mới", effective_date=DAY)
    again = import_civil(register, "000.07.01.H01")
    assert (again["imported"], again["skipped_existing"]) == (0, 7)
    assert CivilRecord.objects.count() == 7


def test_another_commune_keeps_its_own_records(province, two_tier, register):
    import_civil(register, "xa-kien-an")
    assert import_civil(register, "000.07.02.H01")["imported"] == 7
    assert CivilRecord.objects.count() == 14
