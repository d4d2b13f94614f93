"""API /api/lris: list my reports, read one, send values as JSON, reporting
rates for the province; errors in the project's {detail, field, code} format."""

import json

import pytest

from chinhquyenso.accounts.services import issue_api_token
from chinhquyenso.lris.models import Status, Submission
from tests.lris.conftest import signed_in

pytestmark = pytest.mark.django_db

VALUES = [
    {"code": "doc_exchange_electronic_rate", "numerator": 1250, "denominator": "1.280"},
    {"code": "has_signature_certificate", "value": True},
    {"code": "it_staff", "value": "12"},
    {"code": "it_staff_dedicated", "value": 3},
    {"code": "trainings_held", "value": 2},
]


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_list_read_and_submit(assignment, officer, assignments):
    client = signed_in(officer)
    listed = client.get("/api/lris/assignments").json()
    assert [a["id"] for a in listed] == [assignment.pk]
    assert listed[0]["period_code"] == "2025-M03" and listed[0]["status"] == "not_started" and listed[0]["overdue"]

    detail = client.get(f"/api/lris/assignments/{assignment.pk}").json()
    assert [i["code"] for i in detail["items"]][0] == "doc_exchange_electronic_rate"
    ratio = detail["items"][0]
    assert ratio["numerator_label"] == "văn bản gửi dưới dạng điện tử" and ratio["maximum"] == "100"

    bad = post(
        client,
        f"/api/lris/assignments/{assignment.pk}/values",
        {
            "values": [
                {"code": "it_staff", "value": "5"},
                {"code": "it_staff_dedicated", "value": 9},
                {"code": "doc_exchange_electronic_rate", "numerator": 3, "denominator": 0},
                {"code": "khong-co", "value": 1},
            ],
            "submit": True,
        },
    )
    assert bad.status_code == 400
    body = bad.json()
    assert body["code"] == "invalid" and body["field"] and body["detail"].startswith("Có 5 lỗi")
    assert {e["code"] for e in body["errors"]} == {
        "it_staff_dedicated",
        "doc_exchange_electronic_rate",
        "khong-co",
        "has_signature_certificate",
        "trainings_held",
    }
    assert not Submission.objects.exists()

    ok = post(client, f"/api/lris/assignments/{assignment.pk}/values", {"values": VALUES})
    assert ok.status_code == 200, ok.content
    data = ok.json()
    assert data["status"] == "submitted" and data["first_submitted_at"]
    items = {i["code"]: i for i in data["items"]}
    assert items["doc_exchange_electronic_rate"]["display"] == "1.250 / 1.280 (97,7%)"
    assert items["has_signature_certificate"]["display"] == "Có"
    assert Submission.objects.get().status == Status.SUBMITTED
    again = post(client, f"/api/lris/assignments/{assignment.pk}/values", {"values": VALUES})
    assert again.status_code == 400 and "chờ duyệt" in again.json()["detail"]


def test_draft_through_the_api_and_a_system_token(assignment, officer, province, admin_user):
    _, secret = issue_api_token(actor=admin_user, agency=province["tu_phap"], name="Phần mềm QLVB")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    from django.test import Client

    client = Client()
    response = client.post(
        f"/api/lris/assignments/{assignment.pk}/values",
        json.dumps({"values": [{"code": "it_staff", "value": "12"}], "submit": False}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200 and response.json()["status"] == "draft"


def test_compliance_for_the_province_only(assignments, monthly, officer, admin_user, auditor):
    for user in (admin_user, auditor):
        response = signed_in(user).get("/api/lris/compliance", {"form": monthly.code, "period": "2025-M03"})
        assert response.status_code == 200
        body = response.json()
        assert (body["expected"], body["reported"], body["on_time"]) == (3, 0, 0)
        assert body["reporting_rate_text"] == "0,0% (0/3)" and len(body["missing"]) == 3
    denied = signed_in(officer).get("/api/lris/compliance", {"form": monthly.code, "period": "2025-M03"})
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    wrong = signed_in(admin_user).get("/api/lris/compliance", {"form": monthly.code, "period": "quý 3"})
    assert wrong.status_code == 400 and wrong.json()["field"] == "period"
    missing = signed_in(admin_user).get("/api/lris/compliance", {"form": "khong-co", "period": "2025-M03"})
    assert missing.status_code == 404 and missing.json()["field"] == "form"


def test_foreign_officers_and_auditors_through_the_api(assignment, officers, auditor):
    for role, foreign in officers["xa_b"].items():
        client = signed_in(foreign)
        assert client.get(f"/api/lris/assignments/{assignment.pk}").status_code == 404, role
        assert post(client, f"/api/lris/assignments/{assignment.pk}/values", {"values": VALUES}).status_code == 404
        assert client.get("/api/lris/assignments").json() == []
    reader = signed_in(auditor)
    assert reader.get(f"/api/lris/assignments/{assignment.pk}").status_code == 200
    assert post(reader, f"/api/lris/assignments/{assignment.pk}/values", {"values": VALUES}).status_code == 403
    assert not Submission.objects.exists()
