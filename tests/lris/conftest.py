"""LRIS fixtures: the forms from lris/data/forms.json, the monthly
"Chính quyền điện tử" form assigned for March 2025 (deadline 05/4/2025)."""

import datetime as dt

import pytest
from django.test import Client

from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.accounts.services import create_officer
from chinhquyenso.indicators.periods import month
from chinhquyenso.lris import services
from chinhquyenso.lris.models import ReportForm

DEADLINE = dt.date(2025, 4, 5)
MARCH = month(2025, 3)

# A complete, valid set of values for the monthly form, as typed on the page.
VALID_POST = {
    "n-doc_exchange_electronic_rate": "1.250",
    "d-doc_exchange_electronic_rate": "1.280",
    "v-has_signature_certificate": "Có",
    "v-it_staff": "12",
    "v-it_staff_dedicated": "3",
    "v-trainings_held": "2",
}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def forms(db, admin_user):
    services.load_forms(actor=admin_user)
    return {form.code: form for form in ReportForm.objects.all()}


@pytest.fixture
def monthly(forms):
    return forms["chinh-quyen-dien-tu"]


@pytest.fixture
def assignments(monthly, province, officers, admin_user):
    """March 2025 report asked of Sở Tư pháp, UBND huyện Chợ Mới and Công an tỉnh."""
    result = services.assign_form(
        actor=admin_user,
        form=monthly,
        period=MARCH,
        deadline=DEADLINE,
        agencies=[province["tu_phap"], province["huyen"], province["cong_an"]],
    )
    return {a.agency.code: a for a in result.created}


@pytest.fixture
def assignment(assignments):
    return assignments["so-tu-phap"]


@pytest.fixture
def officer(officers):
    return officers["tu_phap"]["specialist"]


@pytest.fixture
def auditor(db):
    return create_officer(
        actor=None, username="thanh.tra.lris", password=None, full_name="Thanh tra", global_role=GlobalRole.AUDITOR
    )
