"""Officers' accounts by the agency administrator (issue 19): registration and password reset scoped
to the administrator's agency, the one-time link delivered through the outbox (never shown, never
kept once sent), argon2 hashes, and the sign-in throttling still in force."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Membership, PasswordLink, Role
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "Mua-nuoc-noi-2026"


@pytest.fixture
def admin_a(officers):
    return officers["xa_a"][Role.AGENCY_ADMIN]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def register(client, province, **overrides):
    data = {
        "agency": province["xa_a"].pk,
        "full_name": "Lê Thị Thu",
        "username": "le.thi.thu",
        "email": "thu.lt@kienan.angiang.gov.vn",
        "phone": "",
        "role": Role.SPECIALIST,
        **overrides,
    }
    return client.post("/can-bo/tai-khoan/them/", data)


def delivered_link() -> str:
    """Deliver the outbox (the worker's step) and read the link from the e-mail sent."""
    assert outbox.deliver_due() == (1, 0)
    [email] = mail.outbox
    return re.search(r"https://dvc\.example\.gov\.vn(/can-bo/dat-mat-khau/[^/\s]+/)", email.body).group(1)


FORM = "/can-bo/dat-mat-khau/"


def opened(path: str) -> Client:
    """A browser that followed the e-mail's link: the secret is now in its session, off the address."""
    client = Client()
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == FORM
    return client


def test_the_agency_admin_registers_an_officer_who_sets_a_password_through_the_link(
    admin_a, province, settings, caplog
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    client = signed_in(admin_a)
    page = client.get("/can-bo/tai-khoan/them/")
    assert page.status_code == 200
    assert "Quản trị cơ quan" not in page.content.decode().split('id="role"')[1]  # not theirs to give
    response = register(client, province)
    assert response.status_code == 302 and response["Location"] == "/can-bo/tai-khoan/"
    user = User.objects.get(username="le.thi.thu")
    assert user.kind == User.Kind.OFFICER and not user.has_usable_password()
    assert list(Membership.objects.filter(user=user).values_list("agency_id", "role")) == [
        (province["xa_a"].pk, Role.SPECIALIST)
    ]
    listing = client.get("/can-bo/tai-khoan/").content.decode()
    assert "Đã tạo tài khoản “le.thi.thu”" in listing and "thu.lt@kienan.angiang.gov.vn" in listing
    # The link goes out by e-mail through the outbox, marked secret: the stored body is erased once sent.
    message = Message.objects.get(kind="accounts.password_link")
    assert message.secret and message.channel == "email" and message.recipient == "thu.lt@kienan.angiang.gov.vn"
    path = delivered_link()
    message.refresh_from_db()
    assert "/dat-mat-khau/" not in message.body
    assert path not in listing  # the administrator never sees it
    # Only the link's hash is stored.
    secret = path.rstrip("/").rsplit("/", 1)[1]
    assert not PasswordLink.objects.filter(key_hash=secret).exists()
    # The officer sets the password; Django's validators apply.
    officer = opened(path)
    assert "le.thi.thu" in officer.get(FORM).content.decode()
    weak = officer.post(FORM, {"password": "12345678", "password_again": "12345678"})
    assert weak.status_code == 400
    mismatch = officer.post(FORM, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "x"})
    assert "không khớp" in mismatch.content.decode()
    done = officer.post(FORM, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/dang-nhap/"
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert user.check_password(NEW_PASSWORD)
    # The link works once.
    again = opened(path).post(FORM, {"password": "Khac-han-2026!", "password_again": "Khac-han-2026!"})
    assert again.status_code == 404 and "đã dùng hoặc đã hết hạn" in again.content.decode()
    # The secret never reached a log line (the 400s and the 404 above were logged).
    assert caplog.text and secret not in caplog.text
    # The officer signs in with the password.
    response = officer.post("/dang-nhap/", {"username": "le.thi.thu", "password": NEW_PASSWORD})
    assert response.status_code == 302
    actions = list(AuditRecord.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert {"user.create", "user.password_link_register", "user.password_set"} <= set(actions)
    assert AuditRecord.objects.filter(action="membership.grant", after__user=user.pk).exists()


def test_registration_is_checked_field_by_field(admin_a, province):
    client = signed_in(admin_a)
    response = register(client, province, email="không-phải-thư")
    assert response.status_code == 400 and "Địa chỉ thư điện tử không hợp lệ" in response.content.decode()
    response = register(client, province, username="089012345678")
    assert "không được là một số định danh" in response.content.decode()
    response = register(client, province, username="xa_a.specialist")
    assert "đã tồn tại" in response.content.decode()
    response = register(client, province, role=Role.AGENCY_ADMIN)
    assert "Chỉ quản trị tỉnh" in response.content.decode()
    assert not User.objects.filter(username="le.thi.thu").exists()
    assert not Message.objects.exists()


def test_another_agencys_admin_cannot_register_or_reset_here(officers, province):
    admin_b = officers["xa_b"][Role.AGENCY_ADMIN]
    client = signed_in(admin_b)
    response = register(client, province)  # an agency that is not theirs: not among the choices
    assert response.status_code == 400 and "Hãy chọn cơ quan" in response.content.decode()
    with pytest.raises(PermissionDenied):
        accounts.register_officer(
            actor=admin_b, agency=province["xa_a"], username="x.y.z", full_name="X", role="specialist", email="a@b.vn"
        )
    target = officers["xa_a"][Role.SPECIALIST]
    assert client.get(f"/can-bo/tai-khoan/{target.pk}/dat-lai-mat-khau/").status_code == 404
    assert client.post(f"/can-bo/tai-khoan/{target.pk}/dat-lai-mat-khau/").status_code == 403
    target.refresh_from_db()
    assert target.check_password("Mat-khau-2025")
    assert not Message.objects.exists()
    # Their list shows only their agency's officers.
    listing = client.get("/can-bo/tai-khoan/").content.decode()
    assert "xa_b.specialist" in listing and "xa_a.specialist" not in listing


def test_officers_other_than_administrators_and_citizens_are_kept_out(officers, citizen):
    for user in (officers["xa_a"][Role.LEADER], officers["xa_a"][Role.SPECIALIST], citizen):
        client = signed_in(user)
        assert client.get("/can-bo/tai-khoan/").status_code == 403
        assert client.get("/can-bo/tai-khoan/them/").status_code == 403
    assert Client().get("/can-bo/tai-khoan/").status_code == 302  # to the sign-in page


def test_reset_ends_the_old_password_and_sends_a_new_link(admin_a, officers):
    target = officers["xa_a"][Role.SPECIALIST]
    target.email = "chuyenvien@kienan.angiang.gov.vn"
    target.save()
    victim_session = signed_in(target)
    assert victim_session.get("/can-bo/").status_code == 200
    client = signed_in(admin_a)
    confirm = client.get(f"/can-bo/tai-khoan/{target.pk}/dat-lai-mat-khau/")
    assert "Xác nhận đặt lại mật khẩu" in confirm.content.decode()
    target.refresh_from_db()
    assert target.check_password("Mat-khau-2025")  # the confirmation page changes nothing
    response = client.post(f"/can-bo/tai-khoan/{target.pk}/dat-lai-mat-khau/")
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.has_usable_password()
    assert victim_session.get("/can-bo/").status_code == 302  # the officer's open session ended
    refused = Client().post("/dang-nhap/", {"username": target.username, "password": "Mat-khau-2025"})
    assert refused.status_code == 200 and "không đúng" in refused.content.decode()
    path = delivered_link()
    assert mail.outbox[0].to == ["chuyenvien@kienan.angiang.gov.vn"]
    assert opened(path).post(FORM, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}).status_code == 302
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD)
    assert AuditRecord.objects.filter(action="user.password_link_reset", object_id=str(target.pk)).exists()


def test_a_new_link_replaces_the_earlier_one_and_links_expire(admin_a, officers, settings):
    target = officers["xa_a"][Role.SPECIALIST]
    target.email = "cv@kienan.angiang.gov.vn"
    target.save()
    from django.db import transaction

    with transaction.atomic():
        first = accounts.issue_password_link(actor=admin_a, user=target, purpose="reset")
    with transaction.atomic():
        second = accounts.issue_password_link(actor=admin_a, user=target, purpose="reset")
    assert accounts.password_link(first.secret) is None
    assert accounts.password_link(second.secret) is not None
    PasswordLink.objects.filter(pk=second.link.pk).update(expires_at=second.link.created_at)
    with pytest.raises(DomainError, match="hết hạn"):
        accounts.set_password_with_link(secret=second.secret, password=NEW_PASSWORD, password_again=NEW_PASSWORD)


def test_province_wide_accounts_are_reset_by_the_province_admin_only(admin_a, admin_user, officers, province):
    admin_user.email = "qt@angiang.gov.vn"
    admin_user.save()
    accounts.grant(actor=admin_user, user=admin_user, agency=province["xa_a"], role=Role.LEADER)
    with pytest.raises(PermissionDenied, match="quản trị tỉnh"):
        accounts.reset_officer_password(actor=admin_a, user_id=admin_user.pk)
    target = officers["xa_a"][Role.SPECIALIST]
    with pytest.raises(DomainError, match="chưa có địa chỉ thư điện tử"):
        accounts.reset_officer_password(actor=admin_a, user_id=target.pk)
    # The province administrator manages every agency's officers.
    client = signed_in(admin_user)
    response = register(client, province, agency=province["tu_phap"].pk, role=Role.AGENCY_ADMIN)
    assert response.status_code == 302
    assert User.objects.get(username="le.thi.thu").memberships.get().role == Role.AGENCY_ADMIN


def test_throttling_still_applies_to_a_registered_officer(admin_a, province, settings):
    settings.CQS = {**settings.CQS, "LOGIN_MAX_FAILURES": 3, "LOGIN_WINDOW_MINUTES": 15}
    register(signed_in(admin_a), province)
    path = delivered_link()
    opened(path).post(FORM, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    client = Client()
    for _ in range(3):
        assert client.post("/dang-nhap/", {"username": "le.thi.thu", "password": "sai-mat-khau"}).status_code == 200
    throttled = client.post("/dang-nhap/", {"username": "le.thi.thu", "password": NEW_PASSWORD})
    assert throttled.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_accounts_list_takes_a_fixed_number_of_queries(admin_a, officers, province, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(admin_a)
    client.get("/can-bo/tai-khoan/")  # the session's first read
    with CaptureQueriesContext(connection) as few:
        client.get("/can-bo/tai-khoan/")
    for n in range(15):
        accounts.create_officer(
            actor=None,
            username=f"them.{n}",
            password=None,
            full_name=f"Cán bộ {n}",
            memberships=[(province["xa_a"], Role.SPECIALIST), (province["xa_a"], Role.LEADER)],
        )
    with django_assert_max_num_queries(len(few)):
        response = client.get("/can-bo/tai-khoan/")
    assert response.status_code == 200
    # the fixture's officers of the commune (one per role) + 15
    assert response.content.decode().count("Đặt lại mật khẩu</a>") == len(Role.values) + 15


def test_the_sign_in_page_tells_officers_who_resets_their_password(db):
    page = Client().get("/dang-nhap/").content.decode()
    assert "Quên mật khẩu?" in page
    assert "quản trị cơ quan" in page


@pytest.mark.django_db(transaction=True)
def test_one_link_submitted_twice_at_once_sets_the_password_once(province, officers, admin_a):
    from django.db import transaction

    from tests.core.test_workflow import run_at_once

    target = officers["xa_a"][Role.SPECIALIST]
    with transaction.atomic():
        issued = accounts.issue_password_link(actor=admin_a, user=target, purpose="reset")

    def submit(i):
        password = f"Mat-khau-moi-{i}-2026"
        accounts.set_password_with_link(secret=issued.secret, password=password, password_again=password)
        return password

    results = run_at_once(4, submit)
    passwords = [r for r in results if isinstance(r, str)]
    assert len(passwords) == 1, results
    assert all(isinstance(r, DomainError) for r in results if not isinstance(r, str))
    target.refresh_from_db()
    assert target.check_password(passwords[0])
    assert AuditRecord.objects.filter(action="user.password_set").count() == 1
