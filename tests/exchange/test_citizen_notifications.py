"""Citizens are told when their dossier changes: the in-app notice always, SMS and e-mail where
they consent (exchange.consent, dossiers.notifications); the SMS gateway simulator as its own
process; a signed-in reporter sees the answers to their report in their notices."""

import datetime as dt

import httpx
import pytest
from django.core import mail
from django.db import transaction

from chinhquyenso.core import simulators
from chinhquyenso.core.models import AuditRecord, DomainEvent
from chinhquyenso.dossiers import notifications, services
from chinhquyenso.dossiers.models import Status
from chinhquyenso.exchange import consent, notices, outbox
from chinhquyenso.exchange.models import Message, NotificationConsent
from chinhquyenso.exchange.senders import ConsoleSmsSender
from tests.conftest import vn
from tests.core.test_workflow import run_at_once

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]
PHONE, EMAIL = "0912345678", "hoa@example.vn"


@pytest.fixture
def ctx(birth_procedure, officers, province, citizen):
    xa = officers["xa_a"]
    return {
        "counter": xa["counter_officer"],
        "specialist": xa["specialist"],
        "leader": xa["leader"],
        "citizen": citizen,
        "province": province,
    }


@pytest.fixture(autouse=True)
def _clear_console_sms():
    ConsoleSmsSender.sent.clear()
    yield
    ConsoleSmsSender.sent.clear()


def submit(ctx, at=vn(2025, 3, 10, 9), components=PAPER):
    return services.submit(
        actor=ctx["citizen"],
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=components,
        at=at,
    )


def consent_to(citizen, *channels):
    for channel in channels:
        consent.give(citizen, channel=channel, address=PHONE if channel == "sms" else EMAIL, at=vn(2025, 3, 1, 8))


def told(kind):
    return {m.channel: m for m in Message.objects.filter(kind=kind)}


# ---------------------------------------------------------------- each change, each channel


@pytest.mark.django_db
def test_acceptance_is_told_on_every_channel_the_citizen_consents_to(ctx):
    consent_to(ctx["citizen"], "sms", "email")
    dossier = submit(ctx)
    assert not Message.objects.filter(kind__startswith="dossiers.citizen.").exists()  # submitting: no message
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    messages = told("dossiers.citizen.accepted")
    assert set(messages) == {"in_app", "sms", "email"}
    assert messages["in_app"].user == ctx["citizen"] and messages["in_app"].state == Message.State.PENDING
    assert messages["sms"].recipient == PHONE and messages["email"].recipient == EMAIL
    sms = messages["sms"].body
    assert sms == f"Hồ sơ {dossier.code} đã được tiếp nhận, hẹn trả 13/03/2025."
    assert consent.sms_segments(sms) == ("ucs2", 1)
    assert "Hẹn trả kết quả: 17:00 13/03/2025." in messages["email"].body
    assert "UBND xã Kiến An" in messages["email"].body
    assert messages["email"].link == f"https://dvc.example.gov.vn/tra-cuu/?ma={dossier.code}"
    assert {m.agency_id for m in messages.values()} == {ctx["province"]["xa_a"].pk}

    assert outbox.deliver_due(vn(2025, 3, 10, 10, 1)) == (3, 0)
    assert ConsoleSmsSender.sent == [(PHONE, sms)]
    assert mail.outbox[0].to == [EMAIL] and mail.outbox[0].subject == f"Hồ sơ {dossier.code} đã được tiếp nhận"
    assert f"/tra-cuu/?ma={dossier.code}" in mail.outbox[0].body


@pytest.mark.django_db
def test_without_consent_only_the_in_app_notice_is_written(ctx):
    dossier = submit(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    assert set(told("dossiers.citizen.accepted")) == {"in_app"}
    rows, more = notices.page(ctx["citizen"])
    assert [n.title for n in rows] == [f"Hồ sơ {dossier.code} đã được tiếp nhận"] and not more
    assert notices.unread_count(ctx["citizen"]) == 1  # shown before the worker runs


@pytest.mark.django_db
def test_supplement_refusal_and_withdrawal_say_what_and_why(ctx):
    consent_to(ctx["citizen"], "email")
    missing = submit(ctx, components=[{"order": 1, "on_paper": True}])
    services.request_supplement(
        missing, actor=ctx["counter"], items=["Bản sao CCCD của cha"], reason="Thiếu giấy tờ", at=vn(2025, 3, 10, 10)
    )
    asked = told("dossiers.citizen.supplement_requested")
    assert "- Giấy chứng sinh\n- Bản sao CCCD của cha" in asked["email"].body
    assert "Lý do: Thiếu giấy tờ" in asked["in_app"].body

    services.refuse(missing, actor=ctx["counter"], reason="Không thuộc thẩm quyền cấp xã.", at=vn(2025, 3, 10, 11))
    refused = told("dossiers.citizen.refused")
    assert "Lý do: Không thuộc thẩm quyền cấp xã." in refused["email"].body
    assert "Không thuộc" not in refused["in_app"].subject

    other = submit(ctx, at=vn(2025, 3, 10, 12))
    services.withdraw(other, actor=ctx["citizen"], reason="Nộp nhầm", at=vn(2025, 3, 10, 13))
    assert set(told("dossiers.citizen.withdrawn")) == {"in_app", "email"}


@pytest.mark.django_db
def test_result_ready_says_where_to_receive_it_and_what_is_left_to_pay(ctx):
    consent_to(ctx["citizen"], "sms")
    dossier = submit(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    services.forward(dossier, actor=ctx["specialist"], at=vn(2025, 3, 11, 9))
    assert not Message.objects.filter(kind="dossiers.citizen.result_ready").exists()  # a step inside the agency
    services.forward(dossier, actor=ctx["leader"], at=vn(2025, 3, 12, 9))
    ready = told("dossiers.citizen.result_ready")
    assert "Mời ông/bà nhận kết quả tại Bộ phận Một cửa của UBND xã Kiến An." in ready["in_app"].body
    assert "cần nộp 4.000 đồng phí, lệ phí còn lại" in ready["in_app"].body
    assert ready["sms"].body == f"Hồ sơ {dossier.code} đã có kết quả, xem nơi nhận ở Cổng DVC"
    services.record_payment(
        dossier, actor=ctx["citizen"], amount=4000, method="online", transaction_ref="PAY-1", confirmed_by_gateway=True
    )
    services.return_result(dossier, actor=ctx["counter"], delivery="post", at=vn(2025, 3, 12, 10))
    assert told("dossiers.citizen.returned")["sms"].body == f"Hồ sơ {dossier.code} đã trả kết quả (qua bưu chính)."


@pytest.mark.django_db
def test_the_apology_carries_the_new_date(ctx):
    dossier = submit(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    services.reschedule(
        dossier, actor=ctx["leader"], new_due_date=dt.date(2025, 3, 18), reason="Chờ xác minh", at=vn(2025, 3, 13, 9)
    )
    body = told("dossiers.citizen.rescheduled")["in_app"].body
    assert "xin lỗi" in body and "Lý do: Chờ xác minh" in body and "Ngày hẹn trả mới: 17:00 18/03/2025." in body


def test_every_sms_text_fits_one_segment_with_diacritics_and_without():
    code = "000.07.01.H01-250310-0001"
    fields = {
        "code": code,
        "due_date": "13/03/2025",
        "delivery": "qua bưu chính",
    }
    for action, entry in notifications.texts().items():
        text = entry["sms"].format_map({**fields, **{k: "" for k in ("procedure", "agency")}})
        assert consent.sms_segments(text) == ("ucs2", 1), (action, text, len(text))
        assert consent.sms_segments(consent.unaccent(text)) == ("gsm7", 1), action
    assert consent.sms_segments("a" * 161) == ("gsm7", 2)
    assert consent.sms_segments("ồ" * 71) == ("ucs2", 2)
    assert consent.sms_segments("{" * 80) == ("gsm7", 1) and consent.sms_segments("{" * 81) == ("gsm7", 2)


@pytest.mark.django_db
def test_unaccented_sms_where_the_installation_asks(ctx, settings):
    settings.CQS = {**settings.CQS, "SMS_UNACCENTED": True}
    consent_to(ctx["citizen"], "sms")
    dossier = submit(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    assert (
        told("dossiers.citizen.accepted")["sms"].body == f"Ho so {dossier.code} da duoc tiep nhan, hen tra 13/03/2025."
    )


# ---------------------------------------------------------------- once, or not at all


@pytest.mark.django_db
def test_handling_the_same_change_again_writes_nothing_more(ctx):
    consent_to(ctx["citizen"], "sms", "email")
    dossier = submit(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    assert Message.objects.count() == 3
    event = DomainEvent.objects.filter(name="DossierStatusChanged", payload__action="accept").get()
    with transaction.atomic():
        notifications.on_status_changed(event)  # the event handled a second time (a replay)
        notifications.notify_applicant(dossier, dossier.events.get(action="accept"))
    assert Message.objects.count() == 3


@pytest.mark.django_db
def test_a_change_rolled_back_tells_nobody(ctx):
    consent_to(ctx["citizen"], "sms", "email")
    dossier = submit(ctx)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
        assert Message.objects.count() == 3
        raise RuntimeError("something after the acceptance failed")
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED
    assert not Message.objects.exists()
    assert outbox.deliver_due(vn(2025, 3, 10, 10, 1)) == (0, 0) and not mail.outbox and not ConsoleSmsSender.sent


# ---------------------------------------------------------------- consent


@pytest.mark.django_db
def test_consent_is_explicit_recorded_and_withdrawable(ctx):
    citizen = ctx["citizen"]
    given = consent.give(citizen, channel="sms", address="+84 912 345 678", at=vn(2025, 3, 1, 8))
    assert given.address == PHONE and given.active and PHONE in given.wording and "rút lại" in given.wording
    consent.give(citizen, channel="sms", address=PHONE, at=vn(2025, 3, 1, 9))  # the same again: nothing new
    dossier = submit(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    assert "sms" in told("dossiers.citizen.accepted")

    consent.withdraw(citizen, channel="sms", at=vn(2025, 3, 10, 11))
    assert not Message.objects.filter(channel="sms").exists()  # the unsent SMS goes with the consent
    services.forward(dossier, actor=ctx["specialist"], at=vn(2025, 3, 11, 9))
    services.forward(dossier, actor=ctx["leader"], at=vn(2025, 3, 12, 9))
    assert set(told("dossiers.citizen.result_ready")) == {"in_app"}
    row = NotificationConsent.objects.get(user=citizen, channel="sms")
    assert row.given_at == vn(2025, 3, 1, 8) and row.withdrawn_at == vn(2025, 3, 10, 11) and not row.active

    records = AuditRecord.objects.filter(action__startswith="notification_consent.").order_by("seq")
    assert [r.action for r in records] == ["notification_consent.give", "notification_consent.withdraw"]
    assert all(PHONE not in str(r.after) for r in records)  # the audit chain keeps no address

    consent.give(citizen, channel="sms", address=PHONE, at=vn(2025, 3, 12, 10))  # given again
    assert NotificationConsent.objects.get(user=citizen, channel="sms").active


@pytest.mark.django_db
def test_addresses_are_checked_and_officers_have_no_preferences(ctx):
    from chinhquyenso.core.errors import DomainError

    with pytest.raises(DomainError, match="Số điện thoại"):
        consent.give(ctx["citizen"], channel="sms", address="12345")
    with pytest.raises(DomainError, match="thư điện tử"):
        consent.give(ctx["citizen"], channel="email", address="khong-phai-thu")
    with pytest.raises(DomainError, match="công dân"):
        consent.give(ctx["counter"], channel="email", address=EMAIL)


# ---------------------------------------------------------------- the SMS gateway simulator


class Gateway:
    def __init__(self, url):
        self.url = url

    def received(self, phone=None):
        return httpx.get(f"{self.url}/messages", params={"phone": phone} if phone else None, timeout=10).json()

    def fail(self, **fault):
        httpx.post(f"{self.url}/faults", json=fault, timeout=10).raise_for_status()


@pytest.fixture
def gateway(settings):
    process, url = simulators.spawn("chinhquyenso.exchange.sms_simulator", "SMS_SIMULATOR", "--token", "sms-test-token")
    try:
        settings.CQS = {
            **settings.CQS,
            "OUTBOX_SENDERS": {**settings.CQS["OUTBOX_SENDERS"], "sms": "chinhquyenso.exchange.senders.sms_sender"},
            "SMS_ADAPTER": "simulator",
            "SMS_BASE_URL": url,
            "SMS_TOKEN": "sms-test-token",
            "SMS_BRANDNAME": "DVC.ANGIANG",
        }
        yield Gateway(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.django_db
def test_the_citizen_receives_the_sms_through_the_gateway_simulator(ctx, gateway, caplog):
    caplog.set_level("DEBUG")
    consent_to(ctx["citizen"], "sms", "email")
    dossier = submit(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    gateway.fail(status=503, times=1)
    assert outbox.deliver_due(vn(2025, 3, 10, 10, 1)) == (2, 1)  # in-app and e-mail sent; the gateway was down
    sms = Message.objects.get(channel="sms")
    assert sms.state == Message.State.FAILED and "HTTP 503" in sms.last_error
    assert gateway.received() == []
    assert outbox.deliver_due(vn(2025, 3, 10, 10, 3)) == (1, 0)  # after the back-off
    received = gateway.received(PHONE)
    assert len(received) == 1
    assert received[0]["phone"] == "84912345678" and received[0]["brandname"] == "DVC.ANGIANG"
    assert received[0]["text"] == f"Hồ sơ {dossier.code} đã được tiếp nhận, hẹn trả 13/03/2025."
    assert received[0]["request_id"] == f"cqs-{sms.pk}" and received[0]["segments"] == 1

    # A retry of a message the gateway already took (the answer was lost) is not sent twice.
    sms.refresh_from_db()
    outbox.deliver([sms], vn(2025, 3, 10, 10, 5))
    assert len(gateway.received()) == 1

    # No personal data in the logs: neither the phone, the e-mail, the ID number nor the name.
    logged = caplog.text
    assert "SMS: đã gửi tin nhắn" in logged
    for personal in (PHONE, "84912345678", EMAIL, ctx["citizen"].identity_number, ctx["citizen"].full_name):
        assert personal not in logged


@pytest.mark.django_db
def test_a_wrong_gateway_token_is_a_failure_kept_with_its_reason(ctx, gateway, settings):
    settings.CQS = {**settings.CQS, "SMS_TOKEN": "sai"}
    consent_to(ctx["citizen"], "sms")
    dossier = submit(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    outbox.deliver_due(vn(2025, 3, 10, 10, 1))
    sms = Message.objects.get(channel="sms")
    assert sms.state == Message.State.FAILED and "mã lỗi 401" in sms.last_error
    assert PHONE not in sms.last_error and gateway.received() == []


def test_an_unknown_sms_adapter_fails_each_sms_not_the_worker(settings):
    from django.core.exceptions import ImproperlyConfigured

    from chinhquyenso.exchange.senders import HttpSmsSender, sms_sender

    settings.CQS = {**settings.CQS, "SMS_ADAPTER": "viettel"}
    with pytest.raises(ImproperlyConfigured, match="CQS_SMS_ADAPTER"):
        sms_sender().send(None)
    settings.CQS = {**settings.CQS, "SMS_ADAPTER": "console"}
    assert isinstance(sms_sender(), ConsoleSmsSender)
    settings.CQS = {**settings.CQS, "SMS_ADAPTER": "http", "SMS_BASE_URL": ""}
    assert isinstance(sms_sender(), HttpSmsSender)
    with pytest.raises(ImproperlyConfigured, match="CQS_SMS_BASE_URL"):
        sms_sender().send(Message(body="x", recipient=PHONE))


# ---------------------------------------------------------------- feedback answered


@pytest.mark.django_db
def test_a_signed_in_reporter_sees_the_answer_in_their_notices(ctx, admin_user):
    from chinhquyenso.feedback import services as feedback

    feedback.load_categories(actor=admin_user)
    citizen = ctx["citizen"]
    report = feedback.submit(
        feedback.Submission(category_code="moi-truong", description="Rác ven kênh.", area_code="xa-kien-an"),
        channel="web",
        reporter=citizen,
        at=vn(2025, 3, 3, 9),
    )
    feedback.resolve(report, actor=ctx["specialist"], public_reply="Đã thu gom.", at=vn(2025, 3, 5, 9))
    rows, _ = notices.page(citizen)
    assert [n.kind for n in rows] == ["feedback.resolved"]
    assert "Đã thu gom." in rows[0].body and rows[0].channel == "in_app"  # no e-mail or phone: in-app alone
    assert rows[0].link == f"https://dvc.example.gov.vn/phan-anh/{report.code}/"

    citizen.email = EMAIL
    citizen.save()
    feedback.comment(report, actor=ctx["specialist"], text="Sẽ kiểm tra lại.", public=True, at=vn(2025, 3, 5, 10))
    reply = Message.objects.get(kind="feedback.reply")
    assert (reply.channel, reply.user) == ("email", citizen)  # the e-mail, shown in the account's list too
    assert [n.kind for n in notices.page(citizen)[0]] == ["feedback.reply", "feedback.resolved"]


# ---------------------------------------------------------------- PostgreSQL: at once


@pytest.mark.django_db(transaction=True)
def test_the_same_change_handled_by_several_clients_at_once_is_told_once(ctx):
    consent_to(ctx["citizen"], "sms", "email")
    dossier = submit(ctx)
    services.accept(dossier, actor=ctx["counter"], at=vn(2025, 3, 10, 10))
    step = dossier.events.get(action="accept")
    Message.objects.all().delete()

    def tell(i):
        with transaction.atomic():
            return notifications.notify_applicant(dossier, step)

    results = run_at_once(4, tell)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(Message.objects.values_list("channel", flat=True)) == ["email", "in_app", "sms"]


@pytest.mark.django_db(transaction=True)
def test_consent_given_twice_at_once_makes_one_row(ctx):
    results = run_at_once(4, lambda i: consent.give(ctx["citizen"], channel="sms", address=PHONE))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert NotificationConsent.objects.filter(user=ctx["citizen"]).count() == 1
    assert AuditRecord.objects.filter(action="notification_consent.give").count() == 1
