"""Warnings of an alert through the outbox: one SMS or Zalo message per active subscription of the
commune and a notice to each of its officers, written in the alert's transaction (a rollback sends
nothing), never twice, none after unsubscribing; and delivered through the SMS gateway simulator and
the Zalo simulator, the processes the outbox talks to (the whole path from a trap's counts)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from chinhquyenso.core import simulators
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.consent import sms_segments
from chinhquyenso.exchange.models import Message
from chinhquyenso.pests.models import Alert, Subscription, Threshold
from chinhquyenso.pests.services import alerts, subscriptions, warnings
from chinhquyenso.pests.services.subscriptions import _new_token

pytestmark = pytest.mark.django_db

PHONE = "0912345678"
ZALO_ID = "8841234567890123"
MONDAY = dt.date(2025, 3, 3)


def subscription(commune, channel="sms", address=PHONE, **fields) -> Subscription:
    return Subscription.objects.create(
        commune=commune,
        channel=channel,
        address=address,
        unsubscribe_token=_new_token(),
        active=fields.pop("active", True),
        confirmed_at=fields.pop("confirmed_at", timezone.now()),
        **fields,
    )


def trap_threshold() -> Threshold:
    return Threshold.objects.get(organism__code="ray-nau", measure="per_trap_night")


def new_alert(commune, *, level=Alert.Level.ACTION, value="21500", monday=MONDAY) -> Alert:
    threshold = trap_threshold()
    return Alert.objects.create(
        threshold=threshold,
        organism=threshold.organism,
        commune=commune,
        level=level,
        value=Decimal(value),
        period_start=monday,
        period_end=monday + dt.timedelta(days=6),
        evidence={},
    )


@pytest.fixture
def people(pest_catalog, pest_area, commune_officer):
    return {
        "sms": subscription(pest_area.commune_a),
        "chat": subscription(pest_area.commune_a, "chat", ZALO_ID),
        "ended": subscription(pest_area.commune_a, address="0987000111", active=False, ended_at=timezone.now()),
        "pending": subscription(pest_area.commune_a, address="0987000222", active=False, confirmed_at=None),
        "elsewhere": subscription(pest_area.commune_b, address="0987000333"),
        "officer": commune_officer,
    }


def test_an_alert_warns_the_subscribers_and_officers_of_its_commune(people, pest_area, site_url):
    with transaction.atomic():
        alert = new_alert(pest_area.commune_a)
        assert warnings.send_alert(alert) == 3
    sms = Message.objects.get(kind="pests.alert.sms")
    chat = Message.objects.get(kind="pests.alert.chat")
    notice = Message.objects.get(kind="pests.alert.notice")
    assert Message.objects.count() == 3  # nothing for the ended, the pending or the other commune

    link = f"{site_url}/sau-benh/huy-dang-ky/{people['sms'].unsubscribe_token}/"
    assert sms.channel == "sms" and sms.recipient == PHONE and sms.body.endswith(link)
    assert sms.body.startswith("Rầy nâu xã Kiến An vượt ngưỡng phòng trừ")
    assert "phòng trừ" in sms.body and len(sms.body) <= 160
    assert PHONE not in sms.body and sms.source_id == str(alert.pk) and sms.agency_id == pest_area.commune_a.pk

    assert chat.channel == "zalo" and chat.recipient == ZALO_ID
    assert "21.500 con/bẫy/đêm" in chat.body and "ngưỡng phòng trừ 20.000 con/bẫy/đêm" in chat.body
    assert "từ 03/03 đến 09/03/2025" in chat.body and "Biện pháp: Gieo sạ tập trung" in chat.body
    assert chat.body.endswith(f"{site_url}/sau-benh/huy-dang-ky/{people['chat'].unsubscribe_token}/")

    assert notice.channel == "in_app" and notice.user_id == people["officer"].pk
    assert notice.subject == "Cảnh báo Rầy nâu tại xã Kiến An: vượt ngưỡng phòng trừ"
    assert notice.link == f"{site_url}/can-bo/sau-benh/canh-bao/{alert.pk}/"


def test_a_short_sms_keeps_the_value_and_fits_one_unaccented_segment(people, pest_area, settings):
    settings.CQS = {**settings.CQS, "SMS_UNACCENTED": True}
    with transaction.atomic():
        warnings.send_alert(new_alert(pest_area.commune_a, level=Alert.Level.WARN, value="5200"))
    body = Message.objects.get(kind="pests.alert.sms").body
    assert body.startswith("Ray nau xa Kien An den nguong canh bao (5.200 con/bay/dem). Tham ruong")
    assert sms_segments(body) == ("gsm7", 1)


def test_a_rolled_back_alert_sends_nothing(people, pest_area):
    with pytest.raises(RuntimeError), transaction.atomic():
        warnings.send_alert(new_alert(pest_area.commune_a))
        assert Message.objects.count() == 3
        raise RuntimeError("the evaluation failed after the warnings were written")
    assert not Message.objects.exists() and not Alert.objects.exists()


def test_warning_twice_sends_once_and_an_escalation_warns_again(people, pest_area):
    with transaction.atomic():
        warn = new_alert(pest_area.commune_a, level=Alert.Level.WARN, value="6000")
        assert warnings.send_alert(warn) == 3
    with transaction.atomic():
        assert warnings.send_alert(warn) == 0
    with transaction.atomic():
        assert warnings.send_alert(new_alert(pest_area.commune_a)) == 3  # the action level is news
    assert Message.objects.count() == 6


def test_unsubscribing_stops_the_next_warnings(people, pest_area):
    with transaction.atomic():
        warnings.send_alert(new_alert(pest_area.commune_a, level=Alert.Level.WARN, value="6000"))
    subscriptions.unsubscribe(people["sms"].unsubscribe_token)
    with transaction.atomic():
        assert warnings.send_alert(new_alert(pest_area.commune_a, monday=MONDAY + dt.timedelta(days=7))) == 2
    assert Message.objects.filter(kind="pests.alert.sms").count() == 1  # only last week's


# ---------------------------------------------------------------- the whole path, through the simulators


@pytest.fixture
def gateways(settings):
    sms, sms_url = simulators.spawn("chinhquyenso.exchange.sms_simulator", "SMS_SIMULATOR", "--token", "sms-token")
    zalo, zalo_url = simulators.spawn(
        "chinhquyenso.assistant.channels.zalo_simulator",
        "ZALO_SIMULATOR",
        "--app-id",
        "app",
        "--secret",
        "secret",
        "--access-token",
        "zalo-token",
    )
    try:
        settings.CQS = {
            **settings.CQS,
            "OUTBOX_SENDERS": {**settings.CQS["OUTBOX_SENDERS"], "sms": "chinhquyenso.exchange.senders.sms_sender"},
            "SMS_ADAPTER": "simulator",
            "SMS_BASE_URL": sms_url,
            "SMS_TOKEN": "sms-token",
            "SMS_BRANDNAME": "BVTV",
            "ZALO_ADAPTER": "http",
            "ZALO_BASE_URL": zalo_url,
            "ZALO_ACCESS_TOKEN": "zalo-token",
        }
        yield {"sms": sms_url, "zalo": zalo_url}
    finally:
        for process in (sms, zalo):
            process.terminate()
            process.wait(timeout=10)


def test_a_trap_crossing_the_threshold_reaches_the_farmers_phones(
    people, pest_area, smart_trap, ingest_counts, gateways
):
    station, secret = smart_trap
    assert ingest_counts(station, secret, {"ray-nau": 6200}).status == "accepted"
    done = alerts.evaluate(timezone.now())
    alert = Alert.objects.get()
    assert alert.commune_id == pest_area.commune_a.pk and alert.level == Alert.Level.WARN
    assert Message.objects.filter(source_id=str(alert.pk)).count() == 3

    # The evaluation again (the job runs every 15 minutes): no alert, no message more.
    alerts.evaluate(timezone.now())
    assert Alert.objects.count() == 1 and Message.objects.filter(source_id=str(alert.pk)).count() == 3
    assert done  # it reported what it did

    assert outbox.deliver_due(timezone.now() + dt.timedelta(minutes=1)) == (3, 0)
    texts = httpx.get(f"{gateways['sms']}/messages", timeout=10).json()
    assert len(texts) == 1 and texts[0]["phone"] == "84912345678" and texts[0]["brandname"] == "BVTV"
    assert texts[0]["text"].startswith("Rầy nâu xã Kiến An đến ngưỡng cảnh báo")
    assert f"/sau-benh/huy-dang-ky/{people['sms'].unsubscribe_token}/" in texts[0]["text"]
    chats = httpx.get(f"{gateways['zalo']}/messages", timeout=10).json()
    assert len(chats) == 1 and chats[0]["user_id"] == ZALO_ID
    assert "6.200 con/bẫy/đêm" in chats[0]["text"]
    assert Message.objects.filter(state=Message.State.SENT).count() == 3
