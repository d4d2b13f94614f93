"""Hostile input never answers 500 (issue 16, finding 4), and every error is in
the shape its reader expects (finding 5): JSON {detail, field, code} under
/api/, Open311's error list under /open311/, the Vietnamese page elsewhere.

Each request below answered 500 (an HTML page) before core.params; the
`raise_request_exception=False` clients see what a real client would."""

import json

import pytest
from django.test import Client

from chinhquyenso.dossiers.models import Dossier
from tests.feedback.conftest import categories, points  # noqa: F401 — fixtures
from tests.feedback.test_open311 import BASE

pytestmark = pytest.mark.django_db
SUPERSCRIPT_TWO = "²"  # str.isdigit() is true, int() refuses it
HUGE = "99999999999999999999"  # beyond PostgreSQL's bigint
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def client_for(user=None, **kwargs) -> Client:
    client = Client(raise_request_exception=False, **kwargs)
    if user is not None:
        client.force_login(user)
    return client


def api_error(response, status: int, field: str | None = None) -> dict:
    """The API's documented error: JSON {detail, field, code}, a Vietnamese detail."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    body = response.json()
    assert set(body) >= {"detail", "field", "code"} and body["detail"], body
    if field is not None:
        assert body["field"] == field, body
    return body


def open311_error(response, status: int, starts: str) -> str:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content)
    assert len(body) == 1 and body[0]["code"] == status, body
    assert body[0]["description"].startswith(starts), body
    return body[0]["description"]


def page_error(response, status: int, text: str = "") -> str:
    """The Vietnamese error page (core/templates/error.html)."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "<h1>" in body and text in body, body[:2000]
    return body


def submit(client, **overrides):
    body = {"procedure_code": "1.001193", "channel": "online", "agency_code": "xa-kien-an", "components": PAPER}
    return client.post("/api/dossiers", json.dumps({**body, **overrides}), content_type="application/json")


# ---------------------------------------------------------------- API: integers, offsets, dates, JSON


@pytest.mark.parametrize(
    "url, field",
    [
        (f"/api/dossiers?offset={HUGE}", "offset"),
        (f"/api/dossiers?limit={HUGE}", "limit"),
        (f"/api/dossiers?agency_id={HUGE}", "agency_id"),
        (f"/api/dossiers?offset={SUPERSCRIPT_TWO}", "offset"),
        (f"/api/lris/assignments?offset={HUGE}", "offset"),
        (f"/api/lris/assignments/{HUGE}", "assignment_id"),
        (f"/api/dashboard/overdue?offset={HUGE}", "offset"),
        (f"/api/procedures?limit={HUGE}", "limit"),
        (f"/api/indicators/targets?year={HUGE}", "year"),
    ],
)
def test_api_integers_beyond_their_bounds_are_422(birth_procedure, officers, url, field):
    api_error(client_for(officers["xa_a"]["leader"]).get(url), 422, field)


@pytest.mark.parametrize(
    "url",
    [
        "/api/dashboard?period=9999-Q4",
        "/api/dashboard/tiles?period=0001-M01",
        "/api/indicators/values?period=9999-Q4",
        "/api/indicators/egov-completion?period=0001-M01",
        "/api/lris/assignments?period=9999-12-01..9999-12-31",
    ],
)
def test_api_periods_at_the_calendars_edges_are_400(registry, officers, admin_user, url):
    body = api_error(client_for(admin_user).get(url), 400, "period")
    assert "Kỳ báo cáo" in body["detail"]


def test_api_reschedule_to_the_end_of_the_calendar_is_422(birth_procedure, officers, citizen):
    code = submit(client_for(citizen)).json()["code"]
    counter = client_for(officers["xa_a"]["counter_officer"])
    assert (
        counter.post(f"/api/dossiers/{code}/actions/accept", "{}", content_type="application/json").status_code == 200
    )
    response = counter.post(
        f"/api/dossiers/{code}/actions/reschedule",
        json.dumps({"new_due_date": "9999-12-31", "reason": "Chờ xác minh"}),
        content_type="application/json",
    )
    assert "2199-12-31" in api_error(response, 422, "new_due_date")["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"form_data": {"x": NaN}}', "body"),
        ('{"form_data": {"x": Infinity}}', "body"),
        ('{"form_data": {"x": 1E+999999999}}', "body"),
        ('{"form_data": ' + "[" * 100_000 + "]" * 100_000 + "}", "body"),
        ('{"form_data": ' + '{"a": ' * 20 + "1" + "}" * 20 + "}", "form_data"),
        ('{"form_data": {"x": "' + "a" * 70_000 + '"}}', "form_data"),
    ],
    ids=["NaN", "Infinity", "overflow", "100000 levels", "20 levels", "70 KB"],
)
def test_form_data_is_finite_shallow_and_small(birth_procedure, citizen, body, field):
    full = json.loads(json.dumps({"procedure_code": "1.001193", "agency_code": "xa-kien-an", "components": PAPER}))
    text = json.dumps(full)[:-1] + ", " + body[1:]
    api_error(client_for(citizen).post("/api/dossiers", text, content_type="application/json"), 400, field)
    assert Dossier.objects.count() == 0


# ---------------------------------------------------------------- Open311


@pytest.mark.parametrize(
    "params, starts",
    [
        ({"page": SUPERSCRIPT_TWO}, "page:"),
        ({"page_size": SUPERSCRIPT_TWO}, "page_size:"),
        ({"page": HUGE}, "page:"),
        ({"start_date": "9999-12-31"}, "start_date:"),
        ({"end_date": "0001-01-01"}, "end_date:"),
        ({"start_date": "0001-01-01T00:00:00Z"}, "start_date:"),
    ],
)
def test_open311_bad_query_parameters_are_400_in_open311s_shape(categories, params, starts):  # noqa: F811
    open311_error(client_for().get(f"{BASE}/requests.json", params), 400, starts)


def test_open311_a_point_that_is_not_a_number_or_outside_the_province(categories, points):  # noqa: F811
    from chinhquyenso.feedback import api_clients

    key = api_clients.issue(actor=None, name="Ứng dụng thử")[1]
    client = client_for()
    for lat, long_, field in (("1E+999999999", "105.48", "lat"), ("NaN", "105.48", "lat"), ("48.85", "2.35", "lat")):
        data = {"api_key": key, "service_code": "moi-truong", "description": "Rác thải.", "lat": lat, "long": long_}
        open311_error(client.post(f"{BASE}/requests.json", data), 400, f"{field}:")


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize(
    "url, field",
    [
        (f"/can-bo/?tu={SUPERSCRIPT_TWO}", "tu"),
        (f"/can-bo/?tu={HUGE}", "tu"),
        (f"/can-bo/?co_quan={SUPERSCRIPT_TWO}", "co_quan"),
        (f"/can-bo/phan-anh/?tu={SUPERSCRIPT_TWO}", "tu"),
        (f"/dieu-hanh/co-quan/xa-kien-an/qua-han/?tu={HUGE}", "tu"),
    ],
)
def test_pages_refuse_bad_numbers_with_the_vietnamese_page(birth_procedure, officers, admin_user, url, field):
    page_error(client_for(admin_user).get(url), 400, f"Trường “{field}”")


def test_a_form_page_shows_the_bad_number_next_to_its_field(province, officers):
    url = f"/can-bo/so-theo-doi/?co_quan={SUPERSCRIPT_TWO}&tu=2025-01-01&den=2025-01-31"
    response = client_for(officers["xa_a"]["leader"]).get(url)
    assert response.status_code == 200 and "Trường “co_quan” phải là số nguyên" in response.content.decode()


def test_civil_records_filters_ignore_numbers_that_are_not_numbers(province, admin_user):
    client = client_for(admin_user)
    for url in (
        f"/can-bo/ho-tich/ra-soat/?xa={SUPERSCRIPT_TWO}",
        f"/can-bo/ho-tich/?xa={SUPERSCRIPT_TWO}&nam={SUPERSCRIPT_TWO * 4}",
        f"/can-bo/ho-tich/ra-soat/?trang={HUGE}",
    ):
        response = client.get(url)
        assert response.status_code in (200, 302, 400), (url, response.status_code)
    response = client.post("/can-bo/ho-tich/ra-soat/ca-quyen/", {"xa": SUPERSCRIPT_TWO, "nam": SUPERSCRIPT_TWO})
    assert response.status_code in (400, 404) and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "action, data",
    [
        ("record_payment", {"amount": SUPERSCRIPT_TWO}),
        ("record_payment", {"amount": HUGE}),
        ("digitize", {"order": SUPERSCRIPT_TWO}),
        ("reschedule", {"new_due_date": "9999-12-31", "reason": "Chờ xác minh"}),
    ],
)
def test_officer_actions_report_bad_numbers_and_dates_on_the_page(birth_procedure, officers, citizen, action, data):
    code = submit(client_for(citizen)).json()["code"]
    counter = client_for(officers["xa_a"]["counter_officer"])
    counter.post(f"/can-bo/ho-so/{code}/accept/")
    response = counter.post(f"/can-bo/ho-so/{code}/{action}/", data, follow=True)
    assert response.status_code == 200, response.content[:300]
    assert f"Trường “{next(iter(data))}”" in response.content.decode()


# ---------------------------------------------------------------- every error in its shape


@pytest.fixture
def broken_catalog(monkeypatch):
    """Any unexpected failure inside a view (here: the catalog search)."""

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("chinhquyenso.procedures.selectors.search_procedures", fail)
    monkeypatch.setattr("chinhquyenso.procedures.selectors.ranked_procedures", fail)
    monkeypatch.setattr("chinhquyenso.feedback.selectors.active_categories", fail)


def test_an_unexpected_failure_is_a_500_in_each_format(db, broken_catalog):
    client = client_for()
    body = api_error(client.get("/api/procedures?q=khai"), 500)
    assert body["code"] == "server_error" and "boom" not in body["detail"]
    open311_error(client.get(f"{BASE}/services.json"), 500, "Hệ thống gặp lỗi")
    assert b"<code>500</code>" in client.get(f"{BASE}/services.xml").content


def test_django_errors_under_api_are_json(db):
    client = client_for()
    assert api_error(client.get("/api/khong-co"), 404)["code"] == "not_found"
    response = client.delete("/api/procedures")
    assert api_error(response, 405)["code"] == "method_not_allowed" and "GET" in response["Allow"]
    page_error(client.get("/khong-co-trang-nay/"), 404, "Không tìm thấy")


def test_unauthenticated_api_write_is_401_not_csrf(birth_procedure, citizen):
    strict = client_for(enforce_csrf_checks=True)
    body = api_error(submit(strict), 401)
    assert body["code"] == "unauthenticated" and "đăng nhập" in body["detail"]
    signed_in = client_for(citizen, enforce_csrf_checks=True)
    body = api_error(submit(signed_in), 403)
    assert body["code"] == "csrf" and "CSRF" in body["detail"] and "Failed" not in body["detail"]
    assert Dossier.objects.count() == 0


def test_csrf_failure_on_a_page_is_the_vietnamese_page(citizen):
    page_error(client_for(citizen, enforce_csrf_checks=True).post("/dang-xuat/"), 403, "tải lại trang")


def test_oversized_bodies_are_413_in_each_format(settings, birth_procedure, citizen, categories):  # noqa: F811
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    big = "x" * 20_000
    body = api_error(submit(client_for(citizen), form_data={"note": big}), 413)
    assert body["code"] == "too_large" and "MB" in body["detail"]
    open311_error(client_for().post(f"{BASE}/requests.json", {"description": big}), 413, "Nội dung gửi lên quá lớn")
    page_error(client_for(citizen).post("/phan-anh/gui/", {"description": big}), 413, "Nội dung gửi lên quá lớn")
