import json

import pytest
from django.test import Client

from chinhquyenso.accounts.services import issue_api_token
from chinhquyenso.dossiers.models import Dossier

pytestmark = pytest.mark.django_db
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]
PDF = b"%PDF-1.4\n%%EOF"


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post(client, url, body, **headers):
    return client.post(
        url,
        data=json.dumps(body) if not isinstance(body, (bytes, str)) else body,
        content_type="application/json",
        headers=headers,
    )


def submit_body(**overrides):
    body = {"procedure_code": "1.001193", "channel": "online", "agency_code": "xa-kien-an", "components": PAPER}
    body.update(overrides)
    return body


def test_catalog_search_is_public_and_diacritic_insensitive(birth_procedure):
    for q in ("dang ky khai sinh", "DANG KY KHAI SINH", "Đăng ký khai sinh", "Đăng ký khai sinh"):
        response = client_for().get("/api/procedures", {"q": q})
        assert response.status_code == 200
        assert [p["code"] for p in response.json()] == ["1.001193"], q
    detail = client_for().get("/api/procedures/1.001193").json()
    assert detail["amount_due_online"] == 4000 and detail["amount_due_counter"] == 8000
    assert [c["name"] for c in detail["components"]][:2] == ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]
    assert {a["code"] for a in detail["agencies"]} == {"xa-kien-an", "xa-kien-thanh"}
    missing = client_for().get("/api/procedures/9.999999")
    assert missing.status_code == 404 and missing.json()["field"] == "code"


def test_openapi_and_docs_are_served_locally(db):
    schema = client_for().get("/api/openapi.json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.1")
    docs = client_for().get("/api/docs")
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()


def test_submit_track_and_act_through_the_api(birth_procedure, officers, citizen):
    response = post(client_for(citizen), "/api/dossiers", submit_body())
    assert response.status_code == 201, response.content
    code = response.json()["code"]
    tracked = client_for(citizen).get(f"/api/dossiers/{code}").json()
    assert tracked["status"] == "submitted" and tracked["fee_due"] == 4000
    counter = client_for(officers["xa_a"]["counter_officer"])
    assert [d["code"] for d in counter.get("/api/dossiers").json()] == [code]
    accepted = post(counter, f"/api/dossiers/{code}/actions/accept", {})
    assert accepted.status_code == 200 and accepted.json()["status"] == "in_process"
    post(client_for(officers["xa_a"]["specialist"]), f"/api/dossiers/{code}/actions/forward", {"note": "Đủ điều kiện"})
    done = post(client_for(officers["xa_a"]["leader"]), f"/api/dossiers/{code}/actions/forward", {})
    assert done.json()["status"] == "result_ready"
    upload = client_for(officers["xa_a"]["counter_officer"]).post("/api/dossiers/files", {"file": _file("kq.pdf", PDF)})
    assert upload.status_code == 201
    attached = post(counter, f"/api/dossiers/{code}/actions/attach_result", {"file_id": upload.json()["file_id"]})
    assert attached.json()["has_electronic_result"] is True
    # The citizen's word is not a payment (only the payment platform's confirmation is); the counter's is.
    declared = post(
        client_for(citizen),
        f"/api/dossiers/{code}/actions/pay",
        {"amount": 4000, "method": "online", "transaction_ref": "PAYGOV-0001"},
    )
    assert declared.status_code == 400 and declared.json()["field"] == "method"
    paid = post(counter, f"/api/dossiers/{code}/actions/pay", {"amount": 4000, "method": "counter"})
    assert paid.json()["fee_paid"] == 4000
    returned = post(counter, f"/api/dossiers/{code}/actions/return_result", {"delivery": "online"})
    assert returned.json()["status"] == "returned"
    assert [e["action"] for e in returned.json()["events"]][-1] == "return_result"


def _file(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_upload_rejects_content_that_is_not_a_document(citizen):
    response = client_for(citizen).post(
        "/api/dossiers/files", {"file": _file("to-khai.pdf", b"<html>not a pdf</html>")}
    )
    assert response.status_code == 400
    assert response.json()["field"] == "file" and "PDF, JPEG hoặc PNG" in response.json()["detail"]


def test_idempotent_submission(birth_procedure, citizen):
    client = client_for(citizen)
    first = post(client, "/api/dossiers", submit_body(), **{"Idempotency-Key": "abc-123"})
    retry = post(client, "/api/dossiers", submit_body(), **{"Idempotency-Key": "abc-123"})
    assert first.status_code == 201 and retry.status_code == 200
    assert first.json()["code"] == retry.json()["code"]
    assert Dossier.objects.count() == 1
    misuse = post(
        client, "/api/dossiers", submit_body(channel="online", form_data={"x": 1}), **{"Idempotency-Key": "abc-123"}
    )
    assert misuse.status_code == 409 and misuse.json()["field"] == "Idempotency-Key"
    assert Dossier.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"procedure_code": "9.999999"}, "procedure_code"),
        ({"channel": "fax"}, "channel"),
        ({"agency_code": "so-tu-phap"}, "agency_code"),
        ({"components": [{"order": 9, "on_paper": True}]}, "components[0].order"),
        ({"components": [{"order": 1, "file_id": "0" * 64}]}, "components[0].file_id"),
        ({"components": [{"order": "một"}]}, "components.0.order"),
        ({"form_data": ["not", "an", "object"]}, "form_data"),
        ({"applicant": {"identity_number": "123", "full_name": "Trần Văn Bé"}}, "applicant.identity_number"),
        ({"channel": "counter"}, "channel"),
    ],
)
def test_bad_submission_input_names_the_field(birth_procedure, citizen, body, field):
    response = post(client_for(citizen), "/api/dossiers", submit_body(**body))
    assert 400 <= response.status_code < 500, response.content
    payload = response.json()
    assert payload["field"] == field, payload
    assert payload["detail"] and payload["detail"] == payload["detail"].strip()
    assert Dossier.objects.count() == 0


@pytest.mark.parametrize(
    "applicant, field",
    [
        ({"identity_number": "08901234567", "full_name": "Trần Văn Bé"}, "applicant.identity_number"),
        ({"identity_number": "089012345679", "full_name": " "}, "applicant.full_name"),
        ({"identity_number": "089012345679", "full_name": "Trần Văn Bé", "phone": "abc"}, "applicant.phone"),
        ({"identity_number": "089012345679", "full_name": "Trần Văn Bé", "kind": "robot"}, "applicant.kind"),
        ({"full_name": "Trần Văn Bé"}, "applicant.identity_number"),
    ],
)
def test_bad_applicant_at_the_counter_names_the_field(birth_procedure, officers, applicant, field):
    response = post(
        client_for(officers["xa_a"]["counter_officer"]),
        "/api/dossiers",
        submit_body(channel="counter", applicant=applicant),
    )
    assert 400 <= response.status_code < 500
    assert response.json()["field"] == field, response.json()
    assert Dossier.objects.count() == 0


def test_malformed_json_is_a_clear_error(birth_procedure, citizen):
    response = post(client_for(citizen), "/api/dossiers", "{not json")
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_unauthenticated_requests_are_refused_in_vietnamese(birth_procedure):
    response = post(client_for(), "/api/dossiers", submit_body())
    assert response.status_code == 401 and "đăng nhập" in response.json()["detail"]


@pytest.mark.parametrize(
    "action, body, field",
    [
        ("refuse", {"reason": ""}, "reason"),
        ("reschedule", {"reason": "Chờ xác minh"}, "new_due_date"),
        ("reschedule", {"reason": "x", "new_due_date": "31/12/2025"}, "new_due_date"),
        ("return_result", {"delivery": "drone"}, "delivery"),
        ("pay", {"amount": -5, "method": "counter"}, "amount"),
        ("pay", {"amount": 1000, "method": "online"}, "transaction_ref"),
        ("attach_result", {"file_id": "nope"}, "file_id"),
        ("digitize", {"file_id": "nope"}, "order"),
        ("request_supplement", {"items": "không phải danh sách"}, "items"),
        ("teleport", {}, "action"),
    ],
)
def test_bad_action_input_names_the_field(birth_procedure, officers, citizen, action, body, field):
    code = post(client_for(citizen), "/api/dossiers", submit_body()).json()["code"]
    response = post(client_for(officers["xa_a"]["counter_officer"]), f"/api/dossiers/{code}/actions/{action}", body)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["field"] == field, response.json()


def test_system_token_is_scoped_to_its_agency(birth_procedure, officers, citizen, province):
    token, secret = issue_api_token(
        actor=officers["xa_a"]["agency_admin"], agency=province["xa_a"], name="Hệ thống một cửa xã"
    )
    code = post(client_for(citizen), "/api/dossiers", submit_body()).json()["code"]
    ok = Client().get(f"/api/dossiers/{code}", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200
    _, foreign = issue_api_token(actor=officers["xa_b"]["agency_admin"], agency=province["xa_b"], name="Xã khác")
    assert Client().get(f"/api/dossiers/{code}", headers={"Authorization": f"Bearer {foreign}"}).status_code == 404
    assert Client().get(f"/api/dossiers/{code}", headers={"Authorization": "Bearer cqs_wrong"}).status_code == 401


@pytest.mark.parametrize("text", ["Trần\x00Văn", "Trần \ud800 Văn"], ids=["NUL", "lone surrogate"])
def test_unstorable_characters_in_json_are_refused_naming_the_field(birth_procedure, officers, text):
    """PostgreSQL cannot store NUL, and a lone surrogate is not text: such input
    gets a 400 naming the field on every database, never a 500."""
    counter = client_for(officers["xa_a"]["counter_officer"])
    body = submit_body(channel="counter", applicant={"identity_number": "089012345679", "full_name": text})
    response = post(counter, "/api/dossiers", body)
    assert response.status_code == 400 and response.json()["field"] == "applicant.full_name", response.content
    response = post(counter, "/api/dossiers", submit_body(form_data={"ghi_chu": ["ok", text]}))
    assert response.status_code == 400 and response.json()["field"] == "form_data.ghi_chu.1", response.content
    assert "ký tự" in response.json()["detail"]
    assert Dossier.objects.count() == 0


def test_nul_in_path_or_query_is_refused_naming_the_field(birth_procedure, officers):
    counter = client_for(officers["xa_a"]["counter_officer"])
    for url, field in (("/api/procedures?q=khai%00sinh", "q"), ("/api/dossiers/AB%00C", "path")):
        response = counter.get(url)
        assert response.status_code == 400 and response.json()["field"] == field, (url, response.content)
        assert "ký tự" in response.json()["detail"]
    page = client_for().get("/", {"q": "khai\x00sinh"})
    assert page.status_code == 400 and "ký tự" in page.content.decode()
