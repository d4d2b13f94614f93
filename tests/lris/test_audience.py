"""Who reports a form is named as the organization was in the report's period:
no "UBND cấp huyện" after the district level ended on 01/7/2025 (two-tier
local government), and still "UBND cấp huyện" for the periods before."""

import datetime as dt
import json

import pytest

from chinhquyenso.indicators.periods import month
from chinhquyenso.lris import selectors, services
from chinhquyenso.lris.services import FORMS_FILE
from chinhquyenso.org.models import Agency
from tests.lris.conftest import MARCH, signed_in

pytestmark = pytest.mark.django_db

TWO_TIER = dt.date(2025, 7, 1)
JANUARY_2026 = month(2026, 1)


@pytest.fixture
def two_tier(assignments, province):
    """The March 2025 reports were assigned; then the district committee ended on 01/7/2025."""
    Agency.objects.filter(pk=province["huyen"].pk).update(valid_to=TWO_TIER)
    return province


def test_form_texts_do_not_name_an_agency_level():
    data = json.loads(FORMS_FILE.read_text(encoding="utf-8"))
    texts = [f.get("description", "") for f in data["forms"]] + [
        item.get("instructions", "") for f in data["forms"] for item in f["items"]
    ]
    assert not [t for t in texts if "cấp huyện" in t or "UBND huyện" in t]


def test_audience_follows_the_organization_of_the_period(monthly, two_tier, admin_user, officers):
    # March 2025: the agencies then asked, district committee included.
    assert selectors.audience_text(monthly, MARCH.start, MARCH.end) == "Sở, ban, ngành; UBND cấp huyện; Đơn vị khác"
    # January 2026, not yet assigned: the form's usual kinds that still exist — no district level.
    assert selectors.audience_text(monthly, JANUARY_2026.start, JANUARY_2026.end) == "Sở, ban, ngành; UBND cấp xã"

    result = services.assign_form(
        actor=admin_user,
        form=monthly,
        period=JANUARY_2026,
        deadline=dt.date(2026, 2, 5),
        agencies=[two_tier["tu_phap"], two_tier["xa_a"]],
    )
    assignment = next(a for a in result.created if a.agency_id == two_tier["tu_phap"].pk)
    page = signed_in(officers["tu_phap"]["specialist"]).get(f"/can-bo/bao-cao-so-lieu/{assignment.pk}/")
    text = page.content.decode()
    assert "Sở, ban, ngành; UBND cấp xã" in text
    assert "cấp huyện" not in text


def test_assign_page_preselects_the_levels_that_exist(monthly, two_tier, admin_user):
    text = signed_in(admin_user).get("/can-bo/bao-cao-so-lieu/giao/", {"form": monthly.code}).content.decode()
    assert 'value="commune_committee" checked' in text and 'value="department" checked' in text
    assert "UBND cấp huyện" not in text
