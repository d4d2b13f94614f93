"""The assistant on Zalo: the platform as a live server, the Zalo simulator as its own process.

The simulator (assistant.channels.zalo_simulator) signs a user's message as Zalo does and posts it to
the webhook; the reply is written to the outbox; the outbox worker's step sends it to the simulator's
OA API (CQS_ZALO_ADAPTER=http), where the test reads it back."""

import datetime as dt
import json
import time

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from chinhquyenso.assistant import conversation
from chinhquyenso.assistant.answers import Answer
from chinhquyenso.assistant.channels import services, zalo
from chinhquyenso.assistant.models import Conversation
from chinhquyenso.core import simulators
from chinhquyenso.core.models import IdempotencyKey
from chinhquyenso.exchange import outbox, senders
from chinhquyenso.exchange.models import Message
from tests.conftest import make_procedure

APP_ID, SECRET, TOKEN = "2740553962390473452", "zalo-oa-secret-test", "zalo-access-token-test"
USER = "8412345678901234567"  # a Zalo user id (personal data)
WEBHOOK = "/kenh/zalo/webhook/"
QUESTION = "làm giấy khai sinh cho con cần giấy tờ gì"


@pytest.fixture
def zalo_settings(settings):
    settings.CQS = {
        **settings.CQS,
        "ZALO_ADAPTER": "http",
        "ZALO_APP_ID": APP_ID,
        "ZALO_SECRET": SECRET,
        "ZALO_ACCESS_TOKEN": TOKEN,
        "ZALO_TIMEOUT_SECONDS": 5,
        "OUTBOX_MAX_ATTEMPTS": 3,
    }
    return settings


@pytest.fixture
def catalog(province, admin_user):
    """A few procedures, so the birth registration question has one clear answer."""
    commune = [province["xa_a"], province["xa_b"]]
    birth = make_procedure(admin_user, commune)
    make_procedure(
        admin_user,
        commune,
        code="1.000656",
        name="Đăng ký khai tử",
        result_type="trich-luc-khai-tu",
        result_name="Trích lục khai tử",
        components=[{"name": "Tờ khai đăng ký khai tử"}, {"name": "Giấy báo tử"}],
    )
    make_procedure(
        admin_user,
        commune,
        code="1.000894",
        name="Đăng ký kết hôn",
        result_type="giay-chung-nhan-ket-hon",
        result_name="Giấy chứng nhận kết hôn",
        components=[{"name": "Tờ khai đăng ký kết hôn"}],
    )
    return birth


class Simulator:
    def __init__(self, url):
        self.url = url

    def simulate(self, **request):
        return httpx.post(f"{self.url}/simulate", json=request, timeout=60).json()

    def received(self, user_id=None):
        params = {"user_id": user_id} if user_id else None
        return httpx.get(f"{self.url}/messages", params=params, timeout=10).json()

    def fail(self, **fault):
        httpx.post(f"{self.url}/faults", json=fault, timeout=10).raise_for_status()


@pytest.fixture
def simulator(live_server, zalo_settings):
    """The simulator process on a free port, its webhook the live server's; the platform's OA API
    base URL is the simulator."""
    process, url = simulators.spawn(
        "chinhquyenso.assistant.channels.zalo_simulator",
        "ZALO_SIMULATOR",
        *("--webhook", live_server.url + WEBHOOK, "--app-id", APP_ID, "--secret", SECRET, "--access-token", TOKEN),
    )
    try:
        zalo_settings.CQS = {**zalo_settings.CQS, "ZALO_BASE_URL": url}
        yield Simulator(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def zalo_messages():
    return Message.objects.filter(channel="zalo")


# ---------------------------------------------------------------- the journey, end to end

pytestmark = pytest.mark.django_db(transaction=True)  # the live server's thread must see the data


def test_a_question_on_zalo_is_answered_with_the_procedure(simulator, catalog, caplog):
    caplog.set_level("INFO")
    result = simulator.simulate(user_id=USER, text=QUESTION)
    assert result["status"] == 200, result
    assert json.loads(result["body"])["message"] == "answered"

    # The reply waits in the outbox (written with the idempotency record); nothing was sent yet.
    reply = zalo_messages().get()
    assert (reply.recipient, reply.state, reply.kind) == (USER, Message.State.PENDING, "assistant.zalo_reply")
    assert IdempotencyKey.objects.filter(scope=f"assistant.zalo:{APP_ID}", key=result["msg_id"]).exists()
    assert simulator.received() == []

    assert outbox.deliver_due() == (1, 0)  # the worker's step
    [sent] = simulator.received(USER)
    assert "Đăng ký khai sinh" in sent["text"]
    assert "1.001193" in sent["text"]
    assert "https://dvc.example.gov.vn/" in sent["text"]  # the procedure's page on the portal
    assert "Giấy chứng sinh" in sent["text"]  # the papers the question asked for, from the catalog
    assert len(sent["text"]) <= senders.ZALO_TEXT_MAX
    zalo_messages().filter(state=Message.State.SENT).get()

    # The user id is personal data: the conversation is keyed by a hash of a keyed hash of it, and no log line has it.
    key = services.session_key("zalo", USER)
    assert USER not in key
    assert Conversation.objects.get().key == conversation.key_of(key)
    assert USER not in caplog.text


def test_a_follow_up_on_zalo_is_about_the_same_procedure(simulator, catalog):
    assert simulator.simulate(user_id=USER, text=QUESTION)["status"] == 200
    assert simulator.simulate(user_id=USER, text="còn lệ phí thì sao?")["status"] == 200
    # Another user's follow-up has no conversation to follow.
    assert simulator.simulate(user_id="8499999999999999999", text="còn lệ phí thì sao?")["status"] == 200
    assert outbox.deliver_due() == (3, 0)
    first, follow_up = (m["text"] for m in simulator.received(USER))
    assert "8.000 đồng" in follow_up and "Đăng ký khai sinh" in follow_up
    [other] = simulator.received("8499999999999999999")
    assert "8.000 đồng" not in other


def test_a_bad_signature_is_refused(simulator, catalog):
    result = simulator.simulate(user_id=USER, text=QUESTION, signature="bad")
    assert result["status"] == 403
    assert not zalo_messages().exists()
    assert not IdempotencyKey.objects.exists()


def test_a_stale_event_is_refused(simulator, catalog):
    ten_minutes_ago = int((time.time() - 600) * 1000)
    assert simulator.simulate(user_id=USER, text=QUESTION, timestamp=ten_minutes_ago)["status"] == 403
    assert not zalo_messages().exists()


def test_a_retried_webhook_is_answered_once(simulator, catalog):
    first = simulator.simulate(user_id=USER, text=QUESTION, msg_id="a1b2c3d4e5f60718293a4b5c6d7e8f90")
    assert first["status"] == 200
    again = simulator.simulate(resend="a1b2c3d4e5f60718293a4b5c6d7e8f90")  # the same bytes, as Zalo retries
    assert again["status"] == 200
    assert json.loads(again["body"])["message"] == "replayed"
    assert zalo_messages().count() == 1
    assert Conversation.objects.get().turns == 1  # asked once
    outbox.deliver_due()
    assert len(simulator.received(USER)) == 1


def test_other_events_are_acknowledged_and_not_answered(simulator, catalog):
    result = simulator.simulate(user_id=USER, text="", event_name="follow")
    assert result["status"] == 200
    assert json.loads(result["body"])["message"] == "ignored"
    assert not zalo_messages().exists()


def test_a_zalo_error_is_retried_then_becomes_a_dead_letter(simulator, catalog):
    # One error code in a 200 body, then Zalo takes it: delivered on the retry.
    simulator.fail(error=-32, message="Exceed rate limit", times=1)
    assert simulator.simulate(user_id=USER, text=QUESTION)["status"] == 200
    now = timezone.now()
    assert outbox.deliver_due(now) == (0, 1)
    message = zalo_messages().get()
    assert message.state == Message.State.FAILED
    assert "-32" in message.last_error
    assert outbox.deliver_due(now + dt.timedelta(hours=1)) == (1, 0)
    assert len(simulator.received(USER)) == 1

    # Zalo refuses every time (an HTTP 503, then error codes): after OUTBOX_MAX_ATTEMPTS it is a dead letter.
    simulator.fail(status=503, times=1)
    simulator.fail(error=-216, message="Access token is invalid", times=5)
    assert simulator.simulate(user_id="8400000000000000001", text=QUESTION)["status"] == 200
    later = now + dt.timedelta(hours=2)
    for step in range(3):
        assert outbox.deliver_due(later + dt.timedelta(days=step)) == (0, 1)
    dead = zalo_messages().get(recipient="8400000000000000001")
    assert dead.state == Message.State.DEAD
    assert dead.attempts == 3
    assert "-216" in dead.last_error
    assert simulator.received("8400000000000000001") == []


# ---------------------------------------------------------------- the webhook's checks (test client)


def signed_post(client, event, *, secret=SECRET, raw=None):
    body = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode()
    mac = zalo.signature(APP_ID, body, str(event.get("timestamp", "")), secret)
    return client.post(WEBHOOK, data=body, content_type="application/json", HTTP_X_ZEVENT_SIGNATURE=mac)


def text_event(text=QUESTION, msg_id="m-1", **overrides):
    event = {
        "app_id": APP_ID,
        "event_name": "user_send_text",
        "timestamp": str(int(time.time() * 1000)),
        "sender": {"id": USER},
        "recipient": {"id": "4368496045530598081"},
        "message": {"text": text, "msg_id": msg_id},
    }
    return {**event, **overrides}


def test_the_webhook_refuses_what_zalo_did_not_send(client, zalo_settings, catalog):
    assert signed_post(client, text_event(), secret="another").status_code == 403
    assert signed_post(client, text_event(app_id="123")).status_code == 403
    unsigned = client.post(WEBHOOK, data=json.dumps(text_event()), content_type="application/json")
    assert unsigned.status_code == 403
    assert signed_post(client, text_event(timestamp="now")).status_code == 403
    assert signed_post(client, text_event(), raw=b"[1, 2]").status_code == 400
    assert signed_post(client, text_event(), raw=b"not json").status_code == 400
    assert signed_post(client, text_event(message={"msg_id": "m-2"})).status_code == 400
    assert signed_post(client, text_event(msg_id="x" * 201)).status_code == 400
    assert signed_post(client, text_event(text="a" * (zalo.MAX_BODY_BYTES + 1))).status_code == 413
    assert client.get(WEBHOOK).status_code == 405
    assert not zalo_messages().exists()
    # A valid event, signed over its raw bytes, passes (no CSRF token needed).
    assert signed_post(client, text_event()).status_code == 200
    assert zalo_messages().count() == 1


def test_the_webhook_is_off_until_configured(client, settings, catalog):
    settings.CQS = {**settings.CQS, "ZALO_APP_ID": "", "ZALO_SECRET": ""}
    assert signed_post(client, text_event()).status_code == 404


def test_the_same_message_id_with_another_text_is_not_answered_again(client, zalo_settings, catalog):
    assert signed_post(client, text_event(msg_id="m-9")).status_code == 200
    second = signed_post(client, text_event(text="đăng ký kết hôn", msg_id="m-9"))
    assert second.status_code == 200
    assert second.json()["message"] == "duplicate"
    assert zalo_messages().count() == 1


def test_a_user_who_asks_too_fast_is_not_answered(client, zalo_settings, catalog, monkeypatch):
    zalo_settings.CQS = {**zalo_settings.CQS, "ASSISTANT_PER_IP_PER_MINUTE": 2}
    # The three questions fall in one counting minute even when a slow run crosses a minute's end.
    monkeypatch.setattr("chinhquyenso.core.throttle.clock", lambda: 1_800_000_030.0)
    answers = [signed_post(client, text_event(msg_id=f"t-{i}")).json()["message"] for i in range(3)]
    assert answers == ["answered", "answered", "throttled"]
    assert zalo_messages().count() == 2


def test_a_question_the_assistant_refuses_gets_its_reason(client, zalo_settings, catalog):
    assert signed_post(client, text_event(text="x" * 600, msg_id="long")).status_code == 200
    assert "500 ký tự" in zalo_messages().get().body


# ---------------------------------------------------------------- the reply's length, the senders


def test_a_long_answer_is_cut_and_keeps_the_procedure_links():
    procedures = [
        {"code": "1.001193", "name": "Đăng ký khai sinh", "url": "https://dvc.example.gov.vn/thu-tuc/1.001193/"},
        {"code": "1.000656", "name": "Đăng ký khai tử", "url": "https://dvc.example.gov.vn/thu-tuc/1.000656/"},
    ]
    links = [{"label": "Gửi câu hỏi cho cơ quan", "url": "https://dvc.example.gov.vn/tro-ly/gui-cau-hoi/"}]
    long_text = "\n".join(f"- Giấy tờ số {i}: bản sao có chứng thực hoặc bản chính để đối chiếu" for i in range(80))
    answer = Answer(text=long_text, procedures=procedures, confident=True, kind="papers", links=links)
    text = services.fit(answer, 2000)
    assert len(text) <= 2000
    assert "…" in text
    for url in [p["url"] for p in procedures] + [links[0]["url"]]:
        assert url in text
    assert text.startswith("- Giấy tờ số 0:")

    short = Answer(text=f"Ngắn. Nguồn: {procedures[0]['url']}", procedures=procedures[:1], confident=True)
    assert services.fit(short, 2000) == short.text  # the link is already there: not repeated
    bare = Answer(text="Ngắn.", procedures=procedures[:1], confident=True)
    assert services.fit(bare, 2000) == f"Ngắn.\n\n- Đăng ký khai sinh (mã 1.001193): {procedures[0]['url']}"


def test_the_zalo_sender_follows_the_setting(settings, db):
    message = Message(channel="zalo", recipient=USER, kind="assistant.zalo_reply", body="Xin chào")
    settings.CQS = {**settings.CQS, "ZALO_ADAPTER": "simulator"}
    sender = senders.zalo_sender()
    assert isinstance(sender, senders.SimulatedZaloSender)
    sender.send(message)
    assert senders.SimulatedZaloSender.sent[-1] == (USER, "Xin chào")
    with pytest.raises(senders.ZaloError):
        sender.send(Message(channel="zalo", recipient=USER, kind="k", body="x" * 2001))
    settings.CQS = {**settings.CQS, "ZALO_ADAPTER": "http", "ZALO_ACCESS_TOKEN": ""}
    with pytest.raises(ImproperlyConfigured, match="CQS_ZALO_ACCESS_TOKEN"):
        senders.zalo_sender().send(message)
    settings.CQS = {**settings.CQS, "ZALO_ADAPTER": "telegram"}
    with pytest.raises(ImproperlyConfigured, match="CQS_ZALO_ADAPTER"):
        senders.zalo_sender().send(message)


def test_a_misconfigured_zalo_channel_fails_only_zalo_messages(settings, db, django_capture_on_commit_callbacks):
    settings.CQS = {**settings.CQS, "ZALO_ADAPTER": "http", "ZALO_BASE_URL": "openapi.zalo.me"}
    from django.db import transaction

    with transaction.atomic():
        outbox.enqueue(channel="zalo", kind="assistant.zalo_reply", recipient=USER, body="Xin chào")
        outbox.enqueue(channel="sms", kind="test.sms", recipient="0912345678", body="Xin chào")
    assert outbox.deliver_due() == (1, 1)
    failed = zalo_messages().get()
    assert failed.state == Message.State.FAILED and "CQS_ZALO_BASE_URL" in failed.last_error
    with pytest.raises(ValueError):
        outbox.build(channel="viber", kind="k", recipient=USER, body="x")
