"""Agency isolation: every dossier endpoint × every officer role × a foreign agency.

A foreign officer gets 'not found' (the dossier's existence is not revealed)
and nothing changes; the officers of the holding agency are the positive control."""

import json

import pytest
from django.test import Client

from chinhquyenso.accounts.models import GlobalRole, Role
from chinhquyenso.accounts.services import create_citizen, create_officer
from chinhquyenso.api import api
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier
from chinhquyenso.indicators.periods import month
from chinhquyenso.lris import services as lris
from chinhquyenso.lris.models import ReportForm, Submission
from tests.conftest import vn

pytestmark = pytest.mark.django_db
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]
ACTIONS = [
    "accept",
    "request_supplement",
    "supplement",
    "refuse",
    "forward",
    "reschedule",
    "attach_result",
    "digitize",
    "return_result",
    "withdraw",
    "pay",
]
ACTION_BODY = {
    "reason": "x",
    "items": ["x"],
    "new_due_date": "2030-01-07",
    "delivery": "counter",
    "amount": 1000,
    "method": "counter",
    "file_id": "x",
    "order": 1,
}
# Every operation of the API that touches operational data, as (method, path template).
SCOPED = {
    ("GET", "/api/dossiers"),
    ("GET", "/api/dossiers/{code}"),
    ("POST", "/api/dossiers/{code}/actions/{action}"),
    ("POST", "/api/dossiers"),
}
# Reported values (LRIS): an agency's reports; the reporting rates are the province's (see tests/lris).
LRIS = {
    ("GET", "/api/lris/assignments"),
    ("GET", "/api/lris/assignments/{assignment_id}"),
    ("POST", "/api/lris/assignments/{assignment_id}/values"),
    ("GET", "/api/lris/compliance"),
}
SCOPED |= LRIS
# The IOC dashboard: figures and overdue dossiers of the agencies a leader leads (see tests/dashboard).
DASHBOARD = {
    ("GET", f"/api/dashboard{part}")
    for part in (
        "",
        "/tiles",
        "/trend",
        "/agencies",
        "/procedures",
        "/ranking",
        "/overdue",
        "/egov-completion",
        "/compliance",
    )
}
SCOPED |= DASHBOARD
PUBLIC_OR_SELF = {
    ("GET", "/api/procedures"),
    ("GET", "/api/procedures/{code}"),
    ("GET", "/api/procedures/{code}/form"),  # the blank e-form: public like the catalog
    ("POST", "/api/dossiers/files"),
    ("GET", "/api/auth/csrf"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/auth/me"),
    ("POST", "/api/assistant/ask"),  # a citizen's question; the dossier status it gives follows public tracking
    ("POST", "/api/signatures/verify"),  # anyone checks the signatures in a PDF they hold; nothing is read or kept
    ("GET", "/api/pests/densities"),  # trap and survey densities: open data, nothing personal (pests.api)
    # A smart trap's counts: the device signs them with its own secret (HMAC), no account (pests.api_devices).
    ("POST", "/api/pests/traps/{device_id}/counts"),
}
# Province-wide aggregates without personal data: any officer, never a citizen (tests/indicators/test_api.py).
AGGREGATES = {
    ("GET", "/api/indicators"),
    ("GET", "/api/indicators/values"),
    ("GET", "/api/indicators/index766"),
    ("GET", "/api/indicators/egov-completion"),
    ("GET", "/api/indicators/targets"),
}


def test_matrix_covers_every_endpoint():
    schema = api.get_openapi_schema()
    operations = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    assert operations == SCOPED | PUBLIC_OR_SELF | AGGREGATES, "new endpoint: add it to the isolation matrix"


@pytest.fixture
def dossier(birth_procedure, officers, citizen):
    d = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 10, 9),
    )
    services.accept(d, actor=officers["xa_a"]["counter_officer"], at=vn(2025, 3, 10, 10))
    return Dossier.objects.get(pk=d.pk)


def as_user(user):
    client = Client()
    client.force_login(user)
    return client


def snapshot(d):
    d = Dossier.objects.get(pk=d.pk)
    return (d.status, d.current_agency_id, d.current_step, d.due_at, d.fee_paid, d.events.count())


FOREIGN = [(agency, role) for agency in ("xa_b", "tu_phap", "huyen") for role in Role.values]


@pytest.mark.parametrize("agency, role", FOREIGN)
def test_foreign_officer_sees_and_does_nothing(dossier, officers, agency, role):
    client = as_user(officers[agency][role])
    before = snapshot(dossier)
    assert client.get(f"/api/dossiers/{dossier.code}").status_code == 404
    assert dossier.code not in [d["code"] for d in client.get("/api/dossiers").json()]
    for action in ACTIONS:
        response = client.post(
            f"/api/dossiers/{dossier.code}/actions/{action}", json.dumps(ACTION_BODY), content_type="application/json"
        )
        assert response.status_code == 404, (action, response.content)
    submitted = client.post(
        "/api/dossiers",
        json.dumps(
            {
                "procedure_code": "1.001193",
                "channel": "counter",
                "agency_code": "xa-kien-an",
                "components": PAPER,
                "applicant": {"identity_number": "089555666777", "full_name": "Võ Thị Sáu"},
            }
        ),
        content_type="application/json",
    )
    assert submitted.status_code == 403
    assert snapshot(dossier) == before


@pytest.mark.parametrize("role", Role.values)
def test_own_agency_officers_see_it(dossier, officers, role):
    client = as_user(officers["xa_a"][role])
    assert client.get(f"/api/dossiers/{dossier.code}").status_code == 200
    assert dossier.code in [d["code"] for d in client.get("/api/dossiers").json()]


def test_other_citizen_cannot_see_or_touch(dossier):
    stranger = as_user(create_citizen(identity_number="089777888999", full_name="Người Lạ", password="Mat-khau-2025"))
    before = snapshot(dossier)
    assert stranger.get(f"/api/dossiers/{dossier.code}").status_code == 404
    assert stranger.get("/api/dossiers").json() == []
    for action in ACTIONS:
        assert (
            stranger.post(
                f"/api/dossiers/{dossier.code}/actions/{action}",
                json.dumps(ACTION_BODY),
                content_type="application/json",
            ).status_code
            == 404
        )
    assert snapshot(dossier) == before


def test_auditor_reads_everything_and_changes_nothing(dossier):
    auditor = create_officer(
        actor=None, username="thanh.tra", password=None, full_name="Thanh tra", global_role=GlobalRole.AUDITOR
    )
    client = as_user(auditor)
    body = {**ACTION_BODY, "file_id": store_upload(b"%PDF-1.4 ket qua", original_name="kq.pdf", user=auditor).sha256}
    before = snapshot(dossier)
    assert client.get(f"/api/dossiers/{dossier.code}").status_code == 200
    for action in ACTIONS:
        response = client.post(
            f"/api/dossiers/{dossier.code}/actions/{action}", json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 403, action
    assert snapshot(dossier) == before


def test_officer_of_two_agencies_sees_both(dossier, officers, province, citizen):
    from chinhquyenso.accounts.services import grant

    officer = officers["xa_b"]["specialist"]
    grant(actor=None, user=officer, agency=province["xa_a"], role=Role.SPECIALIST)
    assert as_user(officer).get(f"/api/dossiers/{dossier.code}").status_code == 200


@pytest.fixture
def lris_assignment(province, admin_user):
    lris.load_forms(actor=admin_user)
    form = ReportForm.objects.get(code="chinh-quyen-dien-tu")
    return lris.assign_form(
        actor=admin_user, form=form, agencies=[province["xa_a"]], period=month(2025, 3), deadline=month(2025, 3).end
    ).created[0]


@pytest.mark.parametrize("agency, role", FOREIGN)
def test_foreign_officer_sees_and_sends_no_reported_values(lris_assignment, officers, agency, role):
    client = as_user(officers[agency][role])
    path = f"/api/lris/assignments/{lris_assignment.pk}"
    assert client.get(path).status_code == 404
    assert lris_assignment.pk not in [a["id"] for a in client.get("/api/lris/assignments").json()]
    sent = client.post(
        f"{path}/values",
        json.dumps({"values": [{"code": "it_staff", "value": 1}], "submit": False}),
        content_type="application/json",
    )
    assert sent.status_code == 404
    assert client.get("/api/lris/compliance", {"form": "chinh-quyen-dien-tu", "period": "2025-M03"}).status_code == 403
    assert not Submission.objects.exists()


@pytest.mark.parametrize("role", Role.values)
def test_own_agency_officers_send_reported_values(lris_assignment, officers, role):
    client = as_user(officers["xa_a"][role])
    path = f"/api/lris/assignments/{lris_assignment.pk}"
    assert client.get(path).status_code == 200
    sent = client.post(
        f"{path}/values",
        json.dumps({"values": [{"code": "it_staff", "value": 1}], "submit": False}),
        content_type="application/json",
    )
    assert sent.status_code == 200 and sent.json()["status"] == "draft"


@pytest.mark.parametrize("path", sorted(path for _, path in DASHBOARD))
def test_dashboard_for_leaders_of_the_agency_only(dossier, officers, citizen, admin_user, path):
    mine = {"agency": "xa-kien-an", "period": "2025-Q1"}
    for role in Role.values:
        if role != Role.LEADER:
            assert as_user(officers["xa_a"][role]).get(path, mine).status_code == 403, role
    assert as_user(citizen).get(path, mine).status_code == 403
    for agency in ("xa_b", "tu_phap"):
        foreign = as_user(officers[agency]["leader"])
        response = foreign.get(path, mine)
        assert response.status_code == 403 and response.json()["field"] == "agency", agency
        assert dossier.code not in foreign.get(path, {"period": "2025-Q1"}).content.decode()
    for user in (
        officers["xa_a"]["leader"],
        officers["huyen"]["leader"],
        admin_user,
    ):  # and the district's leader over it
        assert as_user(user).get(path, mine).status_code == 200, user
    if path == "/api/dashboard/overdue":
        assert dossier.code in as_user(officers["xa_a"]["leader"]).get(path, mine).content.decode()
