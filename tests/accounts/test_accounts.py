import json

import pytest
from django.test import Client

from chinhquyenso.accounts import services
from chinhquyenso.accounts.models import ApiToken, User
from chinhquyenso.core.errors import DomainError, PermissionDenied

pytestmark = pytest.mark.django_db


def login(client, username, password):
    """As a browser client does: the CSRF token first (GET /api/auth/csrf), then the JSON sign-in."""
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    return client.post(
        "/api/auth/login",
        json.dumps({"username": username, "password": password}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )


def test_passwords_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = services.create_citizen(identity_number="089123123123", full_name="Phạm Văn Đồng", password="Mat-khau-2025")
    assert user.password.startswith("argon2$")
    assert "Mat-khau-2025" not in user.password


def test_login_and_me(citizen):
    client = Client(enforce_csrf_checks=True)
    response = login(client, "089012345678", "Cong-dan-2025")
    assert response.status_code == 200 and response.json()["kind"] == "citizen"
    assert client.get("/api/auth/me").json()["full_name"] == "Nguyễn Thị Hoà"


def test_login_is_throttled_after_repeated_failures(citizen):
    client = Client(enforce_csrf_checks=True)
    for _ in range(5):
        assert login(client, "089012345678", "sai-mat-khau").status_code == 400
    locked = login(client, "089012345678", "Cong-dan-2025")  # even the right password, while locked
    assert locked.status_code == 429 and "quá nhiều lần" in locked.json()["detail"]


def test_successful_login_clears_failures(citizen):
    client = Client(enforce_csrf_checks=True)
    for _ in range(4):
        login(client, "089012345678", "sai")
    assert login(client, "089012345678", "Cong-dan-2025").status_code == 200
    for _ in range(4):
        login(client, "089012345678", "sai")
    assert login(client, "089012345678", "Cong-dan-2025").status_code == 200


@pytest.mark.parametrize(
    "identity, kind",
    [("12345", "citizen"), ("0890123456789", "citizen"), ("08901234567a", "citizen"), ("123", "organization")],
)
def test_identity_numbers_are_validated(identity, kind):
    with pytest.raises(DomainError) as error:
        services.create_citizen(identity_number=identity, full_name="A", kind=kind)
    assert error.value.field == "identity_number"
    assert not User.objects.exists()


def test_organization_tax_code():
    org = services.create_citizen(identity_number="1600123456", full_name="Công ty TNHH Lúa Vàng", kind="organization")
    assert org.is_citizen


def test_api_token_is_stored_hashed_and_issued_only_by_admins(province, officers):
    with pytest.raises(PermissionDenied):
        services.issue_api_token(actor=officers["xa_a"]["specialist"], agency=province["xa_a"], name="X")
    with pytest.raises(PermissionDenied):
        services.issue_api_token(actor=officers["xa_b"]["agency_admin"], agency=province["xa_a"], name="X")
    token, secret = services.issue_api_token(
        actor=officers["xa_a"]["agency_admin"], agency=province["xa_a"], name="LGSP"
    )
    assert secret not in token.key_hash and ApiToken.objects.filter(key_hash=ApiToken.hash_secret(secret)).exists()
    assert services.user_for_token(secret) == token.user


def test_officer_may_belong_to_several_agencies(province, admin_user):
    from chinhquyenso.accounts.selectors import agency_ids

    officer = services.create_officer(
        actor=admin_user,
        username="Kiem.Nhiem",
        password=None,
        full_name="Cán bộ kiêm nhiệm",
        memberships=[(province["xa_a"], "specialist"), (province["xa_b"], "leader")],
    )
    assert officer.username == "kiem.nhiem"
    assert agency_ids(officer) == {province["xa_a"].pk, province["xa_b"].pk}
    assert agency_ids(officer, ["leader"]) == {province["xa_b"].pk}
