"""Sign-in with the national identity (issue 19): the platform as an OpenID Connect client, the
VNeID simulator (accounts.oidc_simulator) as its own process. The test client plays the browser:
it follows the platform's redirect to the simulator's page, submits the citizen's consent there,
and brings the simulator's redirect back to the callback."""

import re
import subprocess
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from chinhquyenso.accounts import oidc, oidc_simulator
from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import IdentityLink
from chinhquyenso.core.models import AuditRecord

pytestmark = pytest.mark.django_db

CLIENT_ID, CLIENT_SECRET = "cqs-test-client", "cqs-test-secret"
CALLBACK = "http://testserver/dang-nhap/oidc/callback/"
PERSON = "001095012345"
User = get_user_model()


class Simulator:
    def __init__(self, url: str):
        self.url = url
        self.discovery = f"{url}/.well-known/openid-configuration"

    def fault(self, **fault):
        httpx.post(f"{self.url}/faults", json=fault).raise_for_status()

    def control(self, path: str):
        return httpx.post(f"{self.url}{path}", json={}).json()


def start_simulator(*extra) -> tuple[subprocess.Popen, str]:
    return oidc_simulator.spawn(*extra)


@pytest.fixture(scope="module")
def simulator_process():
    process, url = start_simulator(
        "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--redirect-uri", CALLBACK
    )
    try:
        yield Simulator(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def simulator(simulator_process, settings):
    simulator_process.control("/reset")
    settings.CQS = {
        **settings.CQS,
        "OIDC_DISCOVERY_URL": simulator_process.discovery,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_TIMEOUT_SECONDS": 5,
    }
    oidc.forget_provider()
    yield simulator_process
    oidc.forget_provider()


def to_provider(client, next_url=""):
    """The start page's redirect: the provider's authorization URL."""
    response = client.get("/dang-nhap/oidc/" + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def consent(authorize_url, citizen_id=PERSON, name="Trần Văn Bình", decision="allow", **fields):
    """The citizen's part on the simulator's page; returns the redirect back to the platform."""
    page = httpx.get(authorize_url)
    assert page.status_code == 200, page.text
    assert "Đồng ý" in page.text
    request_id = re.search(r'name="request" value="([^"]+)"', page.text).group(1)
    base = f"{urlsplit(authorize_url).scheme}://{urlsplit(authorize_url).netloc}"
    answer = httpx.post(
        f"{base}/authorize",
        data={"request": request_id, "citizen_id": citizen_id, "name": name, "decision": decision, **fields},
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def back_to_platform(client, location):
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, **person):
    return back_to_platform(client, consent(to_provider(client), **person))


# ---------------------------------------------------------------- the flow


def test_the_start_sends_the_browser_to_the_provider_with_pkce_state_and_nonce(simulator):
    client = Client()
    url = to_provider(client)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(simulator.url + "/authorize?")
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["response_type"] == ["code"]
    assert "openid" in query["scope"][0].split()
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    # The verifier, state and nonce stay in this browser's session only.
    [pending] = [value for key, value in client.session.items() if key.startswith("_state_cqs_oidc_")]
    assert pending["data"]["nonce"] == query["nonce"][0]
    assert pending["data"]["code_verifier"] not in url


def test_first_sign_in_creates_a_citizen_account(simulator):
    client = Client()
    response = sign_in(client, phone="0912345678")
    assert response.status_code == 302
    assert response["Location"] == "/ca-nhan/"
    user = User.objects.get(identity_number=PERSON)
    assert user.kind == User.Kind.CITIZEN
    assert user.full_name == "Trần Văn Bình"
    assert user.username == PERSON
    assert user.phone == "0912345678"
    assert not user.has_usable_password()
    assert client.session["_auth_user_id"] == str(user.pk)
    link = IdentityLink.objects.get(user=user)
    assert link.issuer == simulator.url
    assert link.subject and link.subject != PERSON  # the provider's opaque id, not the citizen ID
    record = AuditRecord.objects.filter(action="user.login_oidc").get()
    assert record.after["account_created"] is True and record.after["linked"] is True
    assert PERSON not in str(record.after)
    # The citizen's own pages open.
    assert client.get("/ca-nhan/").status_code == 200


def test_second_sign_in_uses_the_same_account_and_link(simulator):
    sign_in(Client())
    client = Client()
    response = sign_in(client, name="Tên khác ở lần sau")
    assert response.status_code == 302
    assert User.objects.filter(identity_number=PERSON).count() == 1
    assert IdentityLink.objects.count() == 1
    user = User.objects.get(identity_number=PERSON)
    assert user.full_name == "Trần Văn Bình"  # a name already there is kept
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AuditRecord.objects.filter(action="user.login_oidc").count() == 2


def test_sign_in_links_the_existing_citizen_account_with_the_same_id(simulator, citizen):
    client = Client()
    response = sign_in(client, citizen_id=citizen.identity_number, name="Nguyễn Thị Hoà")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(citizen.pk)
    assert User.objects.filter(identity_number=citizen.identity_number).count() == 1
    assert IdentityLink.objects.get().user == citizen
    # Their password still works where citizens may use one.
    citizen.refresh_from_db()
    assert citizen.check_password("Cong-dan-2025")
    record = AuditRecord.objects.get(action="user.login_oidc")
    assert record.after["account_created"] is False and record.after["linked"] is True


def test_the_next_page_is_kept_and_checked(simulator):
    client = Client()
    location = consent(to_provider(client, next_url="/ca-nhan/kho-du-lieu/"))
    assert back_to_platform(client, location)["Location"] == "/ca-nhan/kho-du-lieu/"
    client = Client()
    location = consent(to_provider(client, next_url="https://evil.example/"))
    assert back_to_platform(client, location)["Location"] == "/ca-nhan/"


def test_an_officer_account_is_never_taken_over(simulator, officers):
    officer = officers["xa_a"]["specialist"]
    officer.identity_number = "001090000111"  # an officer who recorded their own citizen ID
    officer.save()
    client = Client()
    response = sign_in(client, citizen_id="001090000111", name=officer.full_name)
    assert response.status_code == 400
    body = response.content.decode()
    assert "tài khoản cán bộ, công chức" in body
    assert "_auth_user_id" not in client.session
    assert not IdentityLink.objects.exists()
    officer.refresh_from_db()
    assert officer.kind == User.Kind.OFFICER and officer.check_password("Mat-khau-2025")
    refused = AuditRecord.objects.get(action="user.login_oidc_refused")
    assert refused.object_id == str(officer.pk) and refused.after["reason"] == "officer"


def test_a_switched_off_citizen_account_is_refused(simulator, citizen):
    citizen.is_active = False
    citizen.save()
    client = Client()
    response = sign_in(client, citizen_id=citizen.identity_number)
    assert response.status_code == 400
    assert "đã bị khóa" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_citizen_refusing_consent_is_told_plainly(simulator):
    client = Client()
    response = back_to_platform(client, consent(to_provider(client), decision="deny"))
    assert response.status_code == 400
    assert "không đồng ý chia sẻ thông tin trên VNeID" in response.content.decode()
    assert not User.objects.filter(identity_number=PERSON).exists()


# ---------------------------------------------------------------- what is refused


def test_a_state_this_browser_did_not_start_is_refused(simulator):
    victim = Client()
    location = consent(to_provider(victim))
    # Another browser (an attacker's link) brings the code back: its session never started this attempt.
    other = Client()
    response = back_to_platform(other, location)
    assert response.status_code == 400
    assert "chưa hoàn tất" in response.content.decode()
    assert not User.objects.filter(identity_number=PERSON).exists()
    # A made-up state in the right browser is refused too; the genuine one still works once.
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    forged = victim.get(parts.path, {"code": query["code"][0], "state": "forged-state-value-123456"})
    assert forged.status_code == 400
    assert back_to_platform(victim, location).status_code == 302
    assert back_to_platform(victim, location).status_code == 400  # the same answer twice: spent


@pytest.mark.parametrize(
    "fault",
    ["wrong_nonce", "bad_signature", "tampered", "wrong_audience", "wrong_issuer", "expired", "no_id_token"],
)
def test_an_id_token_that_does_not_verify_is_refused(simulator, fault, caplog):
    client = Client()
    location = consent(to_provider(client))
    simulator.fault(kind=fault)
    response = back_to_platform(client, location)
    assert response.status_code == 400, fault
    assert "không hợp lệ nên không được chấp nhận" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(kind=User.Kind.CITIZEN).exists()
    assert not IdentityLink.objects.exists()
    # Tokens never reach the log.
    assert "eyJ" not in caplog.text


def test_a_rotated_signing_key_is_fetched_again(simulator):
    sign_in(Client())  # the keys are cached
    simulator.control("/rotate-keys")
    client = Client()
    response = sign_in(client)
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_the_provider_down_gives_a_vietnamese_message(simulator, settings):
    # Down before the start: nothing listens at the discovery address.
    process, url = start_simulator()
    process.terminate()
    process.wait(timeout=10)
    settings.CQS = {**settings.CQS, "OIDC_DISCOVERY_URL": f"{url}/.well-known/openid-configuration"}
    oidc.forget_provider()
    response = Client().get("/dang-nhap/oidc/")
    assert response.status_code == 400
    assert "Hiện không kết nối được với VNeID" in response.content.decode()


def test_the_token_endpoint_failing_gives_a_vietnamese_message(simulator):
    client = Client()
    location = consent(to_provider(client))
    simulator.fault(status=503)
    response = back_to_platform(client, location)
    assert response.status_code == 400
    assert "Hiện không kết nối được với VNeID" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_issuer_other_than_the_discovery_address_is_refused(simulator, settings):
    # The discovery document found at one address names another issuer (a misconfiguration or a forgery).
    settings.CQS = {**settings.CQS, "OIDC_DISCOVERY_URL": simulator.discovery.replace("127.0.0.1", "localhost")}
    oidc.forget_provider()
    response = Client().get("/dang-nhap/oidc/")
    assert response.status_code == 400
    assert "Hiện không kết nối được với VNeID" in response.content.decode()


# ---------------------------------------------------------------- the sign-in page


def test_the_button_shows_only_when_configured(db, settings):
    settings.CQS = {**settings.CQS, "OIDC_DISCOVERY_URL": "", "OIDC_CLIENT_ID": ""}
    page = Client().get("/dang-nhap/").content.decode()
    assert "Đăng nhập bằng VNeID" not in page
    assert "Quên mật khẩu?" in page and "quản trị cơ quan" in page
    assert Client().get("/dang-nhap/oidc/").status_code == 400
    settings.CQS = {
        **settings.CQS,
        "OIDC_DISCOVERY_URL": "https://sso.example.gov.vn/.well-known/openid-configuration",
        "OIDC_CLIENT_ID": "x",
    }
    page = Client().get("/dang-nhap/?next=/ca-nhan/").content.decode()
    assert 'href="/dang-nhap/oidc/?next=/ca-nhan/"' in page
    assert "Đăng nhập bằng VNeID" in page


def test_citizen_password_sign_in_can_be_switched_off(citizen, officers, settings):
    settings.CQS = {**settings.CQS, "CITIZEN_PASSWORD_LOGIN": False}
    client = Client()
    response = client.post("/dang-nhap/", {"username": citizen.identity_number, "password": "Cong-dan-2025"})
    assert response.status_code == 200
    assert "Đăng nhập bằng VNeID" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Officers keep their password sign-in.
    response = client.post("/dang-nhap/", {"username": "xa_a.specialist", "password": "Mat-khau-2025"})
    assert response.status_code == 302
    settings.CQS = {**settings.CQS, "CITIZEN_PASSWORD_LOGIN": True}
    response = Client().post("/dang-nhap/", {"username": citizen.identity_number, "password": "Cong-dan-2025"})
    assert response.status_code == 302


def test_identity_claims_are_checked_before_any_account_is_made(db):
    with pytest.raises(accounts.DomainError, match="12 chữ số"):
        accounts.sign_in_with_identity(issuer="https://x", subject="s", identity_number="12345", full_name="A")
    with pytest.raises(accounts.DomainError, match="mã người dùng"):
        accounts.sign_in_with_identity(issuer="https://x", subject="", identity_number=PERSON, full_name="A")
    assert not User.objects.exists()


# ---------------------------------------------------------------- at once (PostgreSQL)


@pytest.mark.django_db(transaction=True)
def test_the_same_first_sign_in_at_once_makes_one_account_and_one_link():
    """A citizen double-taps, or two tabs come back from VNeID together: one account, one link."""
    from tests.core.test_workflow import run_at_once

    def sign_in_once(i):
        return accounts.sign_in_with_identity(
            issuer="https://vneid.example", subject="sub-001", identity_number=PERSON, full_name="Trần Văn Bình"
        ).pk

    results = run_at_once(6, sign_in_once)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert User.objects.filter(identity_number=PERSON).count() == 1
    assert IdentityLink.objects.count() == 1
    assert AuditRecord.objects.filter(action="user.create").count() == 1


def test_after_the_account_was_erased_the_person_starts_afresh(db):
    first = accounts.sign_in_with_identity(
        issuer="https://vneid.example", subject="sub-9", identity_number=PERSON, full_name="Trần Văn Bình"
    )
    # What the privacy erasure does to an account (privacy.services): no ID number, switched off.
    User.objects.filter(pk=first.pk).update(identity_number="", is_active=False, username=f"da-xoa-{first.pk}")
    again = accounts.sign_in_with_identity(
        issuer="https://vneid.example", subject="sub-9", identity_number=PERSON, full_name="Trần Văn Bình"
    )
    assert again.pk != first.pk and again.is_active
    assert IdentityLink.objects.get().user == again


def test_the_demo_starts_the_simulator_when_no_provider_is_configured(settings):
    import io

    from chinhquyenso.demo.management.commands.demo import start_vneid_simulator

    settings.CQS = {**settings.CQS, "OIDC_DISCOVERY_URL": "", "OIDC_CLIENT_ID": ""}
    out = io.StringIO()
    process = start_vneid_simulator(out)
    try:
        assert oidc.is_configured()
        discovery = httpx.get(settings.CQS["OIDC_DISCOVERY_URL"]).json()
        assert settings.CQS["OIDC_DISCOVERY_URL"].startswith(discovery["issuer"])
        assert "VNeID mô phỏng" in out.getvalue()
    finally:
        process.terminate()
        process.wait(timeout=10)
    # An operator's provider is left alone.
    assert start_vneid_simulator(io.StringIO()) is None


def test_a_first_sign_in_that_loses_the_race_to_create_the_account_finds_it(db, monkeypatch):
    """The interleaving the test above hits by chance on PostgreSQL, made certain: another first sign-in
    of the person commits the account between this one's look and its insert."""
    real_create = accounts.create_citizen

    def another_sign_in_commits_first(**kwargs):
        monkeypatch.setattr(accounts, "create_citizen", real_create)
        real_create(**kwargs)  # the other tab's sign-in (its link follows in its own transaction)
        return real_create(**kwargs)  # ours: "Số định danh này đã có tài khoản."

    monkeypatch.setattr(accounts, "create_citizen", another_sign_in_commits_first)
    user = accounts.sign_in_with_identity(
        issuer="https://vneid.example", subject="sub-002", identity_number=PERSON, full_name="Trần Văn Bình"
    )
    assert User.objects.get(identity_number=PERSON) == user
    assert IdentityLink.objects.get().user == user
