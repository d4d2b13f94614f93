"""A data subject's requests, handled by the province administrator at
/can-bo/du-lieu-ca-nhan/: find by ID number (posted), export (JSON, PDF)
with the citizen's records and nobody else's, rectify (audited, no values in
the audit), erase what the retention table lets go (feedback and account
anonymized, dossiers kept, sessions ended, the audit chain intact), and no
one else may do any of it."""

import datetime as dt
import json

import pytest
from django.db import transaction
from django.test import Client

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole, User
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.dossiers import services as dossiers
from chinhquyenso.dossiers.models import Dossier
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.feedback.models import Feedback
from chinhquyenso.privacy import retention, services
from tests.conftest import vn
from tests.feedback.conftest import categories, file_report, points, report  # noqa: F401

pytestmark = pytest.mark.django_db

BASE = "/can-bo/du-lieu-ca-nhan/"
CCCD, NAME, PHONE, EMAIL = "089012345678", "Nguyễn Thị Hoà", "0912345678", "hoa@example.vn"
OTHER_CCCD, OTHER_NAME = "079123456789", "Phạm Văn Khác"
# In UTC: core.audit hashes created_at as given and checks it as read back (UTC), so a record written
# with a +07:00 time fails `audit verify` whatever erasure does (reported separately).
AT = vn(2025, 3, 10, 9).astimezone(dt.UTC)
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def subject(citizen):
    User.objects.filter(pk=citizen.pk).update(phone=PHONE, email=EMAIL)
    citizen.refresh_from_db()
    return citizen


@pytest.fixture
def other(db):
    return accounts.create_citizen(identity_number=OTHER_CCCD, full_name=OTHER_NAME, password="Cong-dan-2025")


@pytest.fixture
def records(subject, other, birth_procedure, report):  # noqa: F811
    """Each citizen's dossier and report, and a message to the subject."""

    def dossier(user):
        return dossiers.submit(
            actor=user,
            procedure_code="1.001193",
            channel="online",
            agency_code="xa-kien-an",
            components=PAPER,
            at=AT,
        )

    mine = report(description=f"Tôi là {NAME}, gọi {PHONE}: rác ven kênh.", name=NAME, phone=PHONE, at=AT)
    theirs = report(reporter=other, description="Đèn đường hỏng.", email="khac@example.vn", name=OTHER_NAME, at=AT)
    with transaction.atomic():
        outbox.enqueue(channel=Message.Channel.SMS, kind="test.notice", recipient=PHONE, body=f"Chào {NAME}.")
    return {"dossier": dossier(subject), "other_dossier": dossier(other), "feedback": mine, "other_feedback": theirs}


def _open(client, number=CCCD):
    response = client.post(BASE, {"identity_number": number})
    assert response.status_code == 302 and CCCD not in response["Location"]
    return response["Location"]


def test_find_by_posted_id_number_then_export_only_theirs(admin_user, subject, records):
    client = signed_in(admin_user)
    page = _open(client)
    assert page == f"{BASE}{subject.pk}/"
    assert f'href="{BASE}">Dữ liệu cá nhân</a>' in client.get("/can-bo/").content.decode()  # in the menu
    html = client.get(page).content.decode()
    assert NAME in html and "Tải dữ liệu (JSON)" in html and "Vĩnh viễn" in html  # the retention table
    response = client.post(f"{page}xuat.json")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    data = json.loads(response.content)
    assert data["account"]["identity_number"] == CCCD and data["account"]["phone"] == PHONE
    assert [d["code"] for d in data["dossiers"]] == [records["dossier"].code]
    assert [f["code"] for f in data["feedback"]] == [records["feedback"].code]
    assert any(m["body"] == f"Chào {NAME}." for m in data["messages"])
    text = response.content.decode()
    for foreign in (OTHER_CCCD, OTHER_NAME, records["other_dossier"].code, records["other_feedback"].code):
        assert foreign not in text
    pdf = client.post(f"{page}xuat.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    exports = AuditRecord.objects.filter(action="privacy.export", object_id=str(subject.pk))
    assert [e.after["format"] for e in exports] == ["json", "pdf"]
    assert exports[0].after["dossiers"] == 1 and exports[0].after["feedback"] == 1
    for entry in exports:
        assert CCCD not in json.dumps(entry.after) and PHONE not in json.dumps(entry.after)
    # GET never exports (a link followed or prefetched must not write an audit record or leak data).
    assert client.get(f"{page}xuat.json").status_code == 405


def test_unknown_id_number(admin_user, subject):
    response = signed_in(admin_user).post(BASE, {"identity_number": "000000000000"})
    assert response.status_code == 404 and "Không có tài khoản công dân" in response.content.decode()


def test_rectify_is_audited_without_values(admin_user, subject, records):
    client = signed_in(admin_user)
    page = _open(client)
    new = {"action": "rectify", "full_name": "Nguyễn Thị Hòa", "phone": "0987 654 321", "email": "hoa.moi@example.vn"}
    response = client.post(page, {**new, "address": "Số 5 ấp Long Hòa"})
    assert response.status_code == 302
    subject.refresh_from_db()
    assert (subject.full_name, subject.phone, subject.email) == ("Nguyễn Thị Hòa", "0987654321", "hoa.moi@example.vn")
    dossier = Dossier.objects.get(pk=records["dossier"].pk)
    assert (dossier.applicant_name, dossier.applicant_phone, dossier.applicant_address) == (
        "Nguyễn Thị Hòa",
        "0987654321",
        "Số 5 ấp Long Hòa",
    )
    assert Dossier.objects.get(pk=records["other_dossier"].pk).applicant_name == OTHER_NAME
    entry = AuditRecord.objects.get(action="privacy.rectify")
    assert entry.after == {"fields": ["full_name", "phone", "email", "address"], "open_dossiers": [dossier.pk]}
    # A wrong phone is refused next to its field, nothing changes.
    response = client.post(page, {**new, "phone": "12345"})
    assert response.status_code == 400 and 'id="phone-err"' in response.content.decode()
    assert AuditRecord.objects.filter(action="privacy.rectify").count() == 1


def test_erase_anonymizes_what_may_go_and_keeps_dossiers(admin_user, subject, records):
    session = signed_in(subject)
    assert session.get("/phan-anh/cua-toi/").status_code == 200
    client = signed_in(admin_user)
    page = _open(client)
    refused = client.post(page, {"action": "erase"})  # not confirmed
    assert refused.status_code == 400 and 'id="erase-err"' in refused.content.decode()
    assert client.post(page, {"action": "erase", "confirm": "1"}).status_code == 302

    feedback = Feedback.objects.get(pk=records["feedback"].pk)
    assert feedback.reporter_id is None and (feedback.reporter_name, feedback.reporter_phone) == ("", "")
    assert feedback.reporter_email == "" and NAME not in feedback.description and PHONE not in feedback.description
    assert "rác ven kênh" in feedback.description  # the report itself still counts and reads
    other = Feedback.objects.get(pk=records["other_feedback"].pk)
    assert other.reporter_id == records["other_feedback"].reporter_id and other.reporter_name == OTHER_NAME

    account = User.objects.get(pk=subject.pk)
    assert not account.is_active and not account.has_usable_password()
    assert (account.identity_number, account.phone, account.email) == ("", "", "")
    assert account.full_name == services.ERASED_NAME and CCCD not in account.username
    assert session.get("/phan-anh/cua-toi/").status_code == 302  # the open session ended

    dossier = Dossier.objects.get(pk=records["dossier"].pk)  # kept: archive law
    assert dossier.applicant_id == subject.pk and dossier.applicant_identity == CCCD
    message = Message.objects.get(kind="test.notice")
    assert (message.recipient, message.body, message.state) == ("", services.ERASED_TEXT, Message.State.DEAD)

    entry = AuditRecord.objects.get(action="privacy.erase")
    assert entry.after["done"]["feedback"] == 1 and entry.after["done"]["account"] == 1
    assert "dossiers" in entry.after["kept"] and entry.after["dossiers_kept"] == 1
    assert CCCD not in json.dumps(entry.after) and NAME not in json.dumps(entry.after)
    result = audit.verify()
    assert result[0], result[1]
    # Erasing twice is refused.
    again = client.post(page, {"action": "erase", "confirm": "1"})
    assert again.status_code == 400 and "đã được xóa" in again.content.decode()


def test_erasure_follows_the_retention_table(monkeypatch):
    kinds = retention.table()
    assert {"dossiers", "civil_registers", "feedback", "account"} <= set(kinds)
    assert all(row["legal_basis"] and row["retention"] for row in kinds.values())
    assert dict(services.erasure_plan())["dossiers"] == "keep"
    # A table asking for something the code cannot do stops erasure before anything changes.
    monkeypatch.setattr(
        retention, "table", lambda: {**kinds, "dossiers": {**kinds["dossiers"], "on_erasure": "delete"}}
    )
    with pytest.raises(DomainError, match="dossiers"):
        services.erasure_plan()


def test_only_the_province_administrator(admin_user, subject, records, officers):
    auditor = accounts.create_officer(
        actor=admin_user, username="kiem.tra", password="x", full_name="Kiểm tra", global_role=GlobalRole.AUDITOR
    )
    # The agency that received the subject's dossier, another agency, an auditor, the citizen: all refused.
    refused = [officers["xa_a"]["agency_admin"], officers["xa_a"]["leader"], officers["xa_b"]["agency_admin"]]
    for user in [*refused, auditor, subject]:
        client = signed_in(user)
        assert client.get(BASE).status_code == 403, user.username
        assert client.post(BASE, {"identity_number": CCCD}).status_code == 403
        page = f"{BASE}{subject.pk}/"
        assert client.get(page).status_code == 403
        assert client.post(f"{page}xuat.json").status_code == 403
        assert client.post(page, {"action": "erase", "confirm": "1"}).status_code == 403
        assert client.post(page, {"action": "rectify", "full_name": "X", "phone": "", "email": ""}).status_code == 403
        with pytest.raises(DomainError):
            services.export(user, subject, "json")
    assert not AuditRecord.objects.filter(action__startswith="privacy.").exists()
    subject.refresh_from_db()
    assert subject.is_active and subject.identity_number == CCCD
    # Officers' accounts are not data-subject pages (their records are the agency's HR files).
    assert signed_in(admin_user).get(f"{BASE}{officers['xa_a']['leader'].pk}/").status_code == 404


def test_notification_consents_and_the_national_identity_link_are_exported_and_erased(admin_user, subject, records):
    from chinhquyenso.accounts.models import IdentityLink
    from chinhquyenso.exchange.models import NotificationConsent

    NotificationConsent.objects.create(
        user=subject, channel="sms", address=PHONE, wording="Đồng ý nhận tin nhắn SMS.", given_at=AT
    )
    IdentityLink.objects.create(user=subject, issuer="https://vneid.example", subject="sub-123", last_seen=AT)
    data = services.collect(subject)
    assert [c["address"] for c in data["notification_consents"]] == [PHONE]
    assert [link["subject"] for link in data["identity_links"]] == ["sub-123"]

    services.erase(admin_user, subject)
    assert not NotificationConsent.objects.filter(address=PHONE).exists()
    assert not IdentityLink.objects.filter(subject="sub-123").exists()
