"""Subscriptions to pest warnings: the double opt-in by a code sent on the chosen channel, wrong tries,
expiry and limits, one active subscription per address and commune, an officer registering a farmer,
and unsubscribing from the link (the GET asks, the POST ends; audited without the phone number)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.exchange.models import Message
from chinhquyenso.pests.models import Subscription
from chinhquyenso.pests.services import subscriptions
from tests.conftest import vn

pytestmark = pytest.mark.django_db

PHONE = "0912 345 678"
NORMALIZED = "0912345678"
AT = vn(2025, 3, 10, 8)


def code_message(subscription) -> Message:
    return Message.objects.get(kind="pests.subscription.code", source_id=str(subscription.pk))


def code_in(message: Message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def subscribe(pest_area, *, at=AT, channel="sms", address=PHONE, commune=None):
    return subscriptions.request_subscription(
        commune=(commune or pest_area.commune_a).code, channel=channel, address=address, name="Nguyễn Văn Lúa", at=at
    )


def test_a_code_is_sent_and_the_subscription_waits_for_it(pest_area):
    pending = subscribe(pest_area)
    assert subscriptions.is_pending(pending) and pending.address == NORMALIZED and not pending.active
    message = code_message(pending)
    assert message.channel == "sms" and message.recipient == NORMALIZED and message.secret
    assert "xã Kiến An" in message.body and code_in(message) == subscriptions.code_for(pending)
    # The code is never stored: not on the subscription, not anywhere but the SMS the outbox erases once sent.
    assert subscriptions.code_for(pending) not in str(Subscription.objects.filter(pk=pending.pk).values().get())

    active = subscriptions.confirm(pending.pk, code_in(message), at=AT + dt.timedelta(minutes=5))
    assert active.pk == pending.pk and active.active and active.confirmed_at == AT + dt.timedelta(minutes=5)
    record = AuditRecord.objects.get(action="pests.subscription.create")
    assert record.object_id == str(active.pk) and record.agency_id == pest_area.commune_a.pk
    assert NORMALIZED not in str(record.before) + str(record.after) + record.actor_label
    # The form sent twice: the same subscription, nothing recorded again.
    assert subscriptions.confirm(pending.pk, code_in(message), at=AT + dt.timedelta(minutes=6)).pk == active.pk
    assert AuditRecord.objects.filter(action="pests.subscription.create").count() == 1


def test_wrong_codes_count_and_five_end_the_request(pest_area):
    pending = subscribe(pest_area)
    right = subscriptions.code_for(pending)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    with pytest.raises(DomainError, match="còn 4 lần") as error:
        subscriptions.confirm(pending.pk, wrong, at=AT)
    assert error.value.field == "code"
    pending.refresh_from_db()
    assert pending.confirm_attempts == 1  # kept although the request was refused
    for _ in range(3):
        with pytest.raises(DomainError):
            subscriptions.confirm(pending.pk, wrong, at=AT)
    with pytest.raises(DomainError, match="sai mã 5 lần"):
        subscriptions.confirm(pending.pk, wrong, at=AT)
    pending.refresh_from_db()
    assert pending.ended_at is not None and pending.address == "" and not pending.active
    with pytest.raises(DomainError, match="hết hạn"):
        subscriptions.confirm(pending.pk, right, at=AT)


def test_a_code_expires(pest_area):
    pending = subscribe(pest_area)
    with pytest.raises(DomainError, match="hết hạn"):
        subscriptions.confirm(pending.pk, subscriptions.code_for(pending), at=AT + dt.timedelta(minutes=31))


def test_bad_input_is_named(pest_area):
    with pytest.raises(DomainError) as error:
        subscribe(pest_area, address="12345")
    assert error.value.field == "address"
    with pytest.raises(DomainError) as error:
        subscriptions.request_subscription(commune=pest_area.district.code, channel="sms", address=PHONE, at=AT)
    assert error.value.field == "commune"
    with pytest.raises(DomainError) as error:
        subscribe(pest_area, channel="email")
    assert error.value.field == "channel"
    with pytest.raises(DomainError) as error:
        subscribe(pest_area, channel="chat", address="không hợp lệ!")
    assert error.value.field == "address"
    assert not Subscription.objects.exists() and not Message.objects.exists()


def test_at_most_three_codes_an_hour_to_one_address(pest_area):
    for minute in range(3):
        subscribe(pest_area, at=AT + dt.timedelta(minutes=minute))
    with pytest.raises(DomainError, match="trong một giờ") as error:
        subscribe(pest_area, at=AT + dt.timedelta(minutes=10))
    assert error.value.field == "address"
    subscribe(pest_area, at=AT + dt.timedelta(minutes=61))  # an hour later


def test_an_address_keeps_one_active_subscription_per_commune(pest_area):
    first = subscribe(pest_area)
    subscriptions.confirm(first.pk, subscriptions.code_for(first), at=AT)
    again = subscribe(pest_area, at=AT + dt.timedelta(minutes=1))
    kept = subscriptions.confirm(again.pk, subscriptions.code_for(again), at=AT + dt.timedelta(minutes=2))
    assert kept.pk == first.pk
    again.refresh_from_db()
    assert again.ended_at is not None and again.address == "" and not again.active
    assert Subscription.objects.filter(active=True).count() == 1
    # Another commune is another subscription.
    other = subscribe(pest_area, commune=pest_area.commune_b, at=AT + dt.timedelta(minutes=3))
    subscriptions.confirm(other.pk, subscriptions.code_for(other), at=AT + dt.timedelta(minutes=4))
    assert Subscription.objects.filter(active=True).count() == 2


def test_a_zalo_subscription_gets_its_code_by_zalo(pest_area):
    pending = subscribe(pest_area, channel="chat", address="8841 2345 6789 0123")
    message = code_message(pending)
    assert message.channel == "zalo" and message.recipient == "8841234567890123"
    assert subscriptions.confirm(pending.pk, code_in(message), at=AT).active


def test_unconfirmed_requests_are_forgotten_after_a_day(pest_area):
    old = subscribe(pest_area)
    assert subscriptions.forget_unconfirmed(AT + dt.timedelta(hours=23)) == 0
    subscribe(pest_area, commune=pest_area.commune_b, at=AT + dt.timedelta(days=1, minutes=1))
    assert not Subscription.objects.filter(pk=old.pk).exists()


def test_unsubscribing_asks_first_then_ends_and_erases_the_address(pest_area, client):
    pending = subscribe(pest_area)
    active = subscriptions.confirm(pending.pk, subscriptions.code_for(pending), at=AT)
    url = reverse("pests_public:unsubscribe", args=[active.unsubscribe_token])
    assert url == f"/sau-benh/huy-dang-ky/{active.unsubscribe_token}/"
    assert len(active.unsubscribe_token) >= 16 and NORMALIZED not in url

    page = client.get(url)
    assert page.status_code == 200 and "Hủy nhận cảnh báo" in page.content.decode()
    assert "*******678" in page.content.decode() and NORMALIZED not in page.content.decode()
    assert page["Referrer-Policy"] == "no-referrer"
    active.refresh_from_db()
    assert active.active  # a GET never ends it (link previews, mail scanners)

    done = client.post(url)
    assert done.status_code == 200 and "Đã hủy" in done.content.decode()
    active.refresh_from_db()
    assert not active.active and active.ended_at is not None and active.address == ""
    record = AuditRecord.objects.get(action="pests.subscription.end")
    assert record.object_id == str(active.pk) and NORMALIZED not in str(record.after)
    # A second POST (the button pressed twice) changes nothing and records nothing.
    assert client.post(url).status_code == 200
    assert AuditRecord.objects.filter(action="pests.subscription.end").count() == 1


def test_an_unknown_or_pending_token_is_not_found(pest_area, client):
    assert client.get("/sau-benh/huy-dang-ky/khong-co-ma-nay-dau-1234/").status_code == 404
    pending = subscribe(pest_area)
    assert client.get(f"/sau-benh/huy-dang-ky/{pending.unsubscribe_token}/").status_code == 404
    with pytest.raises(NotFound):
        subscriptions.unsubscribe(pending.unsubscribe_token)


def test_a_farmer_subscribes_on_the_public_pages(pest_area):
    browser = Client()
    page = browser.get("/sau-benh/dang-ky/")
    assert page.status_code == 200 and "xã Kiến An" in page.content.decode()
    refused = browser.post(
        "/sau-benh/dang-ky/", {"commune": pest_area.commune_a.code, "channel": "sms", "address": "1"}
    )
    assert refused.status_code == 400 and "Số điện thoại không hợp lệ" in refused.content.decode()
    sent = browser.post(
        "/sau-benh/dang-ky/", {"commune": pest_area.commune_a.code, "channel": "sms", "address": PHONE, "name": ""}
    )
    assert sent.status_code == 302 and sent["Location"] == "/sau-benh/dang-ky/xac-nhan/"
    pending = Subscription.objects.get()
    form = browser.get("/sau-benh/dang-ky/xac-nhan/")
    assert "*******678" in form.content.decode() and NORMALIZED not in form.content.decode()
    wrong = browser.post(
        "/sau-benh/dang-ky/xac-nhan/", {"code": "000000" if code_in(code_message(pending)) != "000000" else "111111"}
    )
    assert wrong.status_code == 400 and "không đúng" in wrong.content.decode()
    done = browser.post("/sau-benh/dang-ky/xac-nhan/", {"code": code_in(code_message(pending))})
    assert done.status_code == 200 and "Đã đăng ký nhận cảnh báo" in done.content.decode()
    assert Subscription.objects.get().active
    # The session no longer holds a pending request: the form sends back to the start.
    assert browser.get("/sau-benh/dang-ky/xac-nhan/").status_code == 302


def test_an_officer_registers_a_farmer_of_their_commune(pest_area, commune_officer, pest_officer, admin_user):
    ungranted = accounts.create_officer(
        actor=admin_user,
        username="vanphong.kien-an",
        password="Mat-khau-2025",
        full_name="Cán bộ văn phòng",
        memberships=[(pest_area.commune_a, Role.SPECIALIST)],
    )
    subscription = subscriptions.register(
        actor=commune_officer, commune=pest_area.commune_a.code, channel="sms", address=PHONE, at=AT
    )
    assert subscription.active and not Message.objects.filter(kind="pests.subscription.code").exists()
    record = AuditRecord.objects.get(action="pests.subscription.create")
    assert record.actor_id == commune_officer.pk and NORMALIZED not in str(record.after)
    # Registered again: the one subscription.
    again = subscriptions.register(
        actor=commune_officer, commune=pest_area.commune_a.code, channel="sms", address=PHONE
    )
    assert again.pk == subscription.pk
    # Outside their commune, or without the grant: refused.
    with pytest.raises(DomainError) as error:
        subscriptions.register(actor=commune_officer, commune=pest_area.commune_b.code, channel="sms", address=PHONE)
    assert error.value.field == "commune"
    with pytest.raises(PermissionDenied):
        subscriptions.register(actor=ungranted, commune=pest_area.commune_a.code, channel="sms", address="0987654321")
    # The district's plant-protection officer covers every commune.
    assert subscriptions.register(
        actor=pest_officer, commune=pest_area.commune_b.code, channel="chat", address="12345678901"
    ).active


def test_the_registration_page(pest_area, commune_officer):
    browser = Client()
    browser.force_login(commune_officer)
    page = browser.get("/can-bo/sau-benh/dang-ky-canh-bao/")
    assert page.status_code == 200 and "xã Kiến An" in page.content.decode()
    assert "xã Kiến Thành" not in page.content.decode()  # outside the officer's commune
    without_consent = browser.post(
        "/can-bo/sau-benh/dang-ky-canh-bao/",
        {"commune": pest_area.commune_a.code, "channel": "sms", "address": PHONE},
    )
    assert without_consent.status_code == 400 and not Subscription.objects.exists()
    done = browser.post(
        "/can-bo/sau-benh/dang-ky-canh-bao/",
        {"commune": pest_area.commune_a.code, "channel": "sms", "address": PHONE, "consent": "1"},
    )
    assert done.status_code == 302 and Subscription.objects.get().active
