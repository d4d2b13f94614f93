"""Sign-in: one path (pages, API, admin) with the same throttling; login CSRF
refused; nobody can lock an officer out by typing their name (issue 16, finding 8)."""

import datetime as dt
import io
import json

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import Client, RequestFactory

from chinhquyenso.accounts.models import LoginFailure
from chinhquyenso.core.models import AuditRecord

pytestmark = pytest.mark.django_db

ATTACKER, OFFICE = "203.0.113.7", "198.51.100.20"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.CQS.update(
        LOGIN_MAX_FAILURES=5,
        LOGIN_IP_MAX_FAILURES=8,
        LOGIN_ACCOUNT_SLOW_AFTER=10,
        LOGIN_ACCOUNT_DELAY_MAX_SECONDS=60,
        LOGIN_WINDOW_MINUTES=15,
    )
    return settings.CQS


def api_login(client, username, password, ip=OFFICE, **extra):
    return client.post(
        "/api/auth/login",
        json.dumps({"username": username, "password": password}),
        content_type="application/json",
        REMOTE_ADDR=ip,
        **extra,
    )


def later(seconds: float) -> None:
    """Let time pass for the throttle: every recorded failure becomes older."""
    LoginFailure.objects.update(at=F("at") - dt.timedelta(seconds=seconds))


def test_api_login_needs_the_csrf_token(citizen):
    client = Client(enforce_csrf_checks=True)
    refused = api_login(client, "089012345678", "Cong-dan-2025")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf"
    assert client.get("/api/auth/me").status_code == 401  # a page on another site cannot sign the browser in

    token = client.get("/api/auth/csrf").json()["csrf_token"]
    assert client.cookies["csrftoken"].value
    signed_in = api_login(client, "089012345678", "Cong-dan-2025", HTTP_X_CSRFTOKEN=token)
    assert signed_in.status_code == 200 and signed_in.json()["kind"] == "citizen"
    assert client.get("/api/auth/me").json()["username"] == "089012345678"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_api_login_takes_only_json(citizen, content_type):
    body = json.dumps({"username": "089012345678", "password": "Cong-dan-2025"})
    if content_type != "text/plain":
        body = "username=089012345678&password=Cong-dan-2025"
    response = Client().post("/api/auth/login", body, content_type=content_type)
    assert response.status_code == 415
    assert response.json() == {
        "detail": "Nội dung đăng nhập phải là JSON (Content-Type: application/json).",
        "field": "body",
        "code": "unsupported_media_type",
    }
    assert "_auth_user_id" not in Client().session


def test_one_address_trying_many_usernames_is_stopped(citizen):
    client = Client()
    for n in range(8):  # a different name each time: no per-account limit is reached
        assert api_login(client, f"can.bo.{n}", "AnGiang@2025", ip=ATTACKER).status_code == 400
    refused = api_login(client, "089012345678", "Cong-dan-2025", ip=ATTACKER)  # even a right password
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 15 * 60
    assert refused.json()["code"] == "throttled" and refused.json()["field"] == "username"
    assert "quá nhiều lần" in refused.json()["detail"]
    # The sign-in page answers the same, with the form and the message.
    page = Client().post("/dang-nhap/", {"username": "089012345678", "password": "x"}, REMOTE_ADDR=ATTACKER)
    assert page.status_code == 429 and page["Retry-After"]
    assert 'id="username-err"' in page.content.decode() and 'name="password"' in page.content.decode()
    # Another address is not concerned.
    assert api_login(Client(), "089012345678", "Cong-dan-2025", ip=OFFICE).status_code == 200


def test_an_attacker_cannot_lock_the_officer_out(officers):
    officer = officers["xa_a"]["specialist"]
    officer.set_password("Mat-khau-2025")
    officer.save()
    attacker = Client()
    for _ in range(5):
        assert api_login(attacker, officer.username, "doan-bua", ip=ATTACKER).status_code == 400
    assert api_login(attacker, officer.username, "Mat-khau-2025", ip=ATTACKER).status_code == 429
    # The officer at the office signs in at once: the lock is on the attacker's address only.
    assert api_login(Client(), officer.username, "Mat-khau-2025", ip=OFFICE).status_code == 200

    # Many addresses against one account: further tries are spaced out, never locked.
    for n in range(10):
        api_login(Client(), officer.username, "doan-bua", ip=f"192.0.2.{n}")
    slowed = api_login(Client(), officer.username, "Mat-khau-2025", ip=OFFICE)
    assert slowed.status_code == 429 and int(slowed["Retry-After"]) <= 60
    later(int(slowed["Retry-After"]))
    assert api_login(Client(), officer.username, "Mat-khau-2025", ip=OFFICE).status_code == 200


def test_the_admin_sign_in_obeys_the_same_limits(admin_user):
    def admin_login(password, ip):
        client = Client()
        response = client.post(
            "/quan-tri/login/?next=/quan-tri/", {"username": "qt.tinh", "password": password}, REMOTE_ADDR=ip
        )
        return client, response

    for _ in range(5):
        _, wrong = admin_login("sai-mat-khau", ATTACKER)
        assert wrong.status_code == 200 and "Tên đăng nhập hoặc mật khẩu không đúng" in wrong.content.decode()
    client, refused = admin_login("Mat-khau-2025", ATTACKER)  # the right password, from the locked address
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "quá nhiều lần" in refused.content.decode()
    assert client.get("/quan-tri/").status_code == 302  # not signed in
    # Failures in the admin count for every sign-in path from that address.
    assert api_login(Client(), "qt.tinh", "Mat-khau-2025", ip=ATTACKER).status_code == 429

    client, ok = admin_login("Mat-khau-2025", OFFICE)
    assert ok.status_code == 302 and client.get("/quan-tri/").status_code == 200


def test_the_admin_sign_in_is_for_province_administrators(officers):
    officer = officers["xa_a"]["agency_admin"]
    officer.set_password("Mat-khau-2025")
    officer.save()
    client = Client()
    response = client.post("/quan-tri/login/", {"username": officer.username, "password": "Mat-khau-2025"})
    assert response.status_code == 200 and "không có quyền vào trang quản trị" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_right_password_works_once_the_wait_is_over(citizen):
    client = Client()
    for _ in range(5):
        api_login(client, "089012345678", "sai", ip=ATTACKER)
    refused = api_login(client, "089012345678", "Cong-dan-2025", ip=ATTACKER)
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    later(wait - 5)
    assert api_login(client, "089012345678", "Cong-dan-2025", ip=ATTACKER).status_code == 429  # not yet
    later(5)
    assert api_login(client, "089012345678", "Cong-dan-2025", ip=ATTACKER).status_code == 200


def test_failures_are_audited_without_what_was_typed(citizen):
    secret = "Bi-mat-Cua-Toi-2025"
    api_login(Client(), "089012345678", secret, ip=ATTACKER)
    api_login(Client(), secret, secret, ip=ATTACKER)  # a password typed in the username box
    records = list(AuditRecord.objects.filter(action="user.login_failed").order_by("seq"))
    assert [(r.object_type, r.object_id) for r in records] == [("accounts.User", str(citizen.pk)), ("", "")]
    assert records[0].after == {"ip": ATTACKER, "account_exists": True}
    for record in records:
        stored = json.dumps([record.actor_label, record.before, record.after, record.object_id])
        assert secret not in stored and secret.lower() not in stored.lower()


def test_no_view_can_bypass_the_sign_in_service(citizen):
    request = RequestFactory().post("/somewhere/")
    with pytest.raises(RuntimeError, match="accounts.services.login"):
        authenticate(request, username="089012345678", password="Cong-dan-2025")
    assert authenticate(username="089012345678", password="Cong-dan-2025") == citizen  # scripts, no request


def test_an_operator_unlocks_an_account(citizen):
    client = Client()
    for _ in range(5):
        api_login(client, "089012345678", "sai", ip=ATTACKER)
    assert api_login(client, "089012345678", "Cong-dan-2025", ip=ATTACKER).status_code == 429
    out = io.StringIO()
    call_command("unlock_login", "089012345678", stdout=out)
    assert "Đã xoá 5 lần đăng nhập sai" in out.getvalue()
    assert AuditRecord.objects.filter(action="user.login_unlocked", actor_label="cqs unlock-login").exists()
    assert api_login(client, "089012345678", "Cong-dan-2025", ip=ATTACKER).status_code == 200
    with pytest.raises(CommandError):
        call_command("unlock_login")
