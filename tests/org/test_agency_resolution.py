"""An agency named by any of its identifiers — internal key, electronic code, name —
resolves to the one version valid on the date asked, following renames and moves,
and never to a version valid for zero days (two reorganizations on one day)."""

import datetime as dt

import pytest

from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.org import services as org
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import resolve_agency, versions

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 7, 1)


@pytest.fixture
def two_tier(province, admin_user):
    """1 July 2025 as the demo applies it: the district is dissolved (its communes are
    re-created under the province), then the province itself gets a new version, so
    each commune's middle version is valid from 01/7/2025 to 01/7/2025."""
    org.dissolve(actor=admin_user, agency=province["huyen"], successor=province["ubnd"], effective_date=DAY)
    new_province = org.rename(
        actor=admin_user,
        agency=Agency.objects.get(pk=province["ubnd"].pk),
        new_name="UBND tỉnh An Giang",
        effective_date=DAY,
    )
    return new_province


def test_the_same_day_reorganizations_leave_a_zero_length_version(province, two_tier):
    chain = versions(province["xa_a"])
    assert [(v.valid_from, v.valid_to) for v in chain] == [
        (dt.date(2000, 1, 1), DAY),
        (DAY, DAY),
        (DAY, None),
    ]
    assert chain[-1].parent == two_tier
    # Any version gives the same chain: it is the agency's identity.
    assert versions(chain[1]) == chain == versions(chain[2])


@pytest.mark.parametrize("identifier", ["xa-kien-an", "000.07.01.H01", "UBND xã Kiến An", "ubnd xa kien an"])
def test_every_identifier_gives_the_version_valid_today(province, two_tier, identifier):
    current = versions(province["xa_a"])[-1]
    assert resolve_agency(identifier) == current
    assert resolve_agency(identifier, at=dt.date(2026, 1, 5)) == current


@pytest.mark.parametrize("identifier", ["xa-kien-an", "000.07.01.H01", "UBND xã Kiến An"])
def test_every_identifier_gives_the_version_valid_on_a_past_date(province, two_tier, identifier):
    assert resolve_agency(identifier, at=dt.date(2025, 6, 30)) == province["xa_a"]


def test_the_key_of_a_later_version_resolves_back_to_an_earlier_date(province, two_tier):
    current = versions(province["xa_a"])[-1]
    assert current.code != "xa-kien-an"
    assert resolve_agency(current.code, at=dt.date(2024, 3, 1)) == province["xa_a"]


def test_a_merged_agency_resolves_to_its_last_version_and_its_code_to_the_holder_on_the_date(
    province, admin_user, two_tier
):
    xa_a, xa_b = (versions(province[k])[-1] for k in ("xa_a", "xa_b"))
    merged = org.merge(
        actor=admin_user,
        sources=[xa_a, xa_b],
        name="UBND xã Chợ Mới",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=two_tier,
        effective_date=dt.date(2025, 9, 1),
        electronic_code="000.07.01.H01",  # keeps Kiến An's code
    )
    assert versions(merged) == [merged]  # a merger is a new agency, not a version of a source
    # Kiến Thành's key: the commune as it last stood (its registers stay its own).
    assert resolve_agency("xa-kien-thanh") == Agency.objects.get(pk=xa_b.pk)
    # The code names whoever held it on the date asked.
    assert resolve_agency("000.07.01.H01") == merged
    assert resolve_agency("000.07.01.H01", at=dt.date(2025, 8, 1)) == xa_a
    assert resolve_agency("000.07.01.H01", at=dt.date(2025, 6, 1)) == province["xa_a"]


def test_a_name_shared_by_two_agencies_is_refused_naming_both(province, admin_user):
    org.create_agency(
        actor=admin_user, name="UBND xã Kiến An", kind=AgencyKind.COMMUNE_COMMITTEE, parent=province["ubnd"]
    )
    with pytest.raises(DomainError, match="trùng với nhiều cơ quan: UBND xã Kiến An") as error:
        resolve_agency("UBND xã Kiến An", field="commune")
    assert error.value.field == "commune"
    assert resolve_agency("xa-kien-an") == province["xa_a"]


def test_unknown_empty_and_not_yet_founded_identifiers(province):
    with pytest.raises(NotFound, match="Không tìm thấy cơ quan"):
        resolve_agency("000.99.99.H01")
    with pytest.raises(DomainError, match="Chưa nhập"):
        resolve_agency("  ")
    with pytest.raises(NotFound, match="chưa thành lập vào ngày 01/01/1990"):
        resolve_agency("xa-kien-an", at=dt.date(1990, 1, 1))
