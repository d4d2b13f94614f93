"""Asynchronous calls over the bus (exchange.bus.delivery on the outbox): permanent errors become
dead letters at once, transient ones back off, an open circuit defers without counting an attempt,
calls with one order_key go in order (a dead one holds the later ones until replayed), replies run
after delivery, `cqs bus replay` and the admin's "send again". The receiver is a real HTTP process
(exchange.bus.receiver_simulator) that honours idempotency keys."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from chinhquyenso.core import simulators
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.core.registry import BUS_REPLIES
from chinhquyenso.exchange import outbox, selectors
from chinhquyenso.exchange.bus import circuit, delivery, registry
from chinhquyenso.exchange.models import (
    BusAccessRight,
    BusCircuit,
    BusLogEntry,
    BusMember,
    BusOperation,
    BusService,
    BusSubsystem,
    Message,
)

pytestmark = pytest.mark.django_db

CLIENT = "VN/GOV/000.00.00.H01/mot-cua"
SERVICE = "VN/GOV/000.00.00.T99/nhan-thu/nhan-thu"


def make_remote_service(*, address_setting: str = "BUS_RECEIVER_URL", base_url: str = "", grant: bool = True) -> str:
    """A remote provider (the test receiver) and the right of our one-stop system to call it."""
    me, _ = BusMember.objects.get_or_create(
        instance="VN", member_class="GOV", code="000.00.00.H01", defaults={"name": "UBND tỉnh"}
    )
    client, _ = BusSubsystem.objects.get_or_create(
        member=me, code="mot-cua", defaults={"name": "Hệ thống một cửa", "local": True}
    )
    remote, _ = BusMember.objects.get_or_create(
        instance="VN", member_class="GOV", code="000.00.00.T99", defaults={"name": "Cơ quan thử nghiệm"}
    )
    subsystem = BusSubsystem.objects.create(
        member=remote,
        code="nhan-thu",
        name="Hệ thống nhận thử nghiệm",
        address_setting=address_setting,
        base_url=base_url,
    )
    service = BusService.objects.create(
        subsystem=subsystem, code="nhan-thu", name="Nhận thư thử nghiệm", timeout_seconds=5
    )
    BusOperation.objects.create(service=service, code="deliver", name="Nhận một thư", method="POST", path="/deliveries")
    if grant:
        BusAccessRight.objects.create(client=client, service=service)
    registry.invalidate()
    return service.identifier


class Receiver:
    def __init__(self, url: str):
        self.url = url

    def configure(self, **settings):
        return httpx.post(f"{self.url}/config", json=settings, timeout=10).json()

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/stats", timeout=10).json()

    def keys(self) -> list[str]:
        return httpx.get(f"{self.url}/keys", timeout=10).json()["keys"]

    def reset(self):
        httpx.post(f"{self.url}/reset", timeout=10)


@pytest.fixture(scope="module")
def receiver_process():
    process, url = simulators.spawn("chinhquyenso.exchange.bus.receiver_simulator", "BUS_RECEIVER", "--fail-rate", "0")
    try:
        yield Receiver(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def receiver(receiver_process, settings):
    receiver_process.reset()
    receiver_process.configure(fail_rate=0, seed=1)
    settings.CQS = {
        **settings.CQS,
        "BUS_RECEIVER_URL": receiver_process.url,
        "OUTBOX_MAX_ATTEMPTS": 4,
        "OUTBOX_BACKOFF_SECONDS": 60,
    }
    make_remote_service()
    return receiver_process


def queue(n: int = 0, *, order_key: str = "", kind: str = "tests.bus_call", **body) -> Message:
    with transaction.atomic():
        return delivery.send(
            client=CLIENT,
            service=SERVICE,
            operation="deliver",
            kind=kind,
            json_body={"n": n, **body},
            order_key=order_key,
            correlation=f"thu-{n}",
        )


def refreshed(message: Message) -> Message:
    message.refresh_from_db()
    return message


def test_a_call_is_delivered_with_the_message_id_as_idempotency_key(receiver):
    message = queue(1)
    assert outbox.deliver_due() == (1, 0)
    assert refreshed(message).state == Message.State.SENT
    assert receiver.keys() == [delivery.idempotency_key(message)]
    entry = BusLogEntry.objects.get(idempotency_key=delivery.idempotency_key(message))
    assert entry.asynchronous and entry.status == 200 and entry.correlation == "thu-1"


def test_transient_failures_back_off_then_the_call_is_a_dead_letter(receiver, settings):
    settings.CQS = {**settings.CQS, "BUS_CIRCUIT_FAILURES": 100}
    message = queue(1, answer_status=503)
    now, waits = timezone.now(), []
    for _ in range(4):
        outbox.deliver_due(now)
        message = refreshed(message)
        waits.append((message.next_attempt_at - now).total_seconds())
        now = message.next_attempt_at
    assert message.state == Message.State.DEAD and message.attempts == 4
    assert waits[:3] == [60, 120, 240]  # exponential back-off; the fourth attempt was the last
    assert "503" in message.last_error
    assert receiver.stats()["requests"] == 4


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_a_refusal_is_a_dead_letter_at_once(receiver, status):
    message = queue(1, answer_status=status)
    outbox.deliver_due()
    message = refreshed(message)
    assert message.state == Message.State.DEAD and message.attempts == 1
    assert f"HTTP {status}" in message.last_error


@pytest.mark.parametrize("status", [408, 425, 429])
def test_busy_answers_are_retried(receiver, status):
    message = queue(1, answer_status=status)
    outbox.deliver_due()
    message = refreshed(message)
    assert message.state == Message.State.FAILED and message.attempts == 1


def test_a_call_the_bus_refuses_is_a_dead_letter_at_once(receiver):
    BusAccessRight.objects.all().delete()
    registry.invalidate()
    message = queue(1)
    outbox.deliver_due()
    message = refreshed(message)
    assert message.state == Message.State.DEAD and message.attempts == 1
    assert "quyền" in message.last_error
    assert receiver.stats()["requests"] == 0


def test_an_open_circuit_defers_the_calls_without_counting_an_attempt(receiver):
    until = timezone.now() + dt.timedelta(minutes=2)
    BusCircuit.objects.create(
        service=SERVICE, state=BusCircuit.State.OPEN, failures=5, opened_count=1, open_until=until
    )
    messages = [queue(n) for n in range(3)]
    assert outbox.deliver_due() == (0, 0)
    for message in messages:
        message = refreshed(message)
        assert message.state == Message.State.PENDING and message.attempts == 0
        assert message.next_attempt_at == until
        assert "tạm ngắt" in message.last_error
    # One refusal in the message log for the batch: the later calls were not even tried.
    assert BusLogEntry.objects.filter(outcome=BusLogEntry.Outcome.CIRCUIT_OPEN).count() == 1
    assert receiver.stats()["requests"] == 0
    # After the cool-down (the circuit reads the clock: moved back here) the trial call goes
    # through, closes the circuit, and the rest follow.
    BusCircuit.objects.filter(service=SERVICE).update(open_until=timezone.now() - dt.timedelta(seconds=1))
    outbox.deliver_due(until + dt.timedelta(seconds=1))
    assert BusCircuit.objects.get(service=SERVICE).state == BusCircuit.State.CLOSED
    assert {refreshed(m).state for m in messages} == {Message.State.SENT}
    assert {refreshed(m).attempts for m in messages} == {1}


def test_calls_with_one_order_key_go_in_order_and_a_dead_one_holds_the_later_ones(receiver):
    first = queue(1, order_key="HS-1", answer_status=422)
    second = queue(2, order_key="HS-1")
    other = queue(3, order_key="HS-2")
    unordered = queue(4)
    outbox.deliver_due()
    assert refreshed(first).state == Message.State.DEAD
    assert refreshed(second).state == Message.State.PENDING and second.attempts == 0
    assert selectors.blocked_by(second) == first
    assert refreshed(other).state == Message.State.SENT and refreshed(unordered).state == Message.State.SENT
    assert selectors.blocked_by(other) is None
    # Later runs still hold it back while the first is dead.
    outbox.deliver_due(timezone.now() + dt.timedelta(hours=1))
    assert refreshed(second).state == Message.State.PENDING
    # The first is fixed (its body corrected by the one who replays it) and replayed: both go, in order.
    Message.objects.filter(pk=first.pk).update(body=first.body.replace(', "answer_status": 422', ""))
    call_command("bus", "replay", str(first.pk))
    outbox.deliver_due()
    assert refreshed(first).state == Message.State.SENT
    assert refreshed(second).state == Message.State.PENDING  # next run: it waited for the first
    outbox.deliver_due()
    assert refreshed(second).state == Message.State.SENT
    keys = receiver.keys()
    assert keys.index(delivery.idempotency_key(first)) < keys.index(delivery.idempotency_key(second))


def test_a_failing_earlier_call_holds_the_later_one_until_it_is_sent(receiver):
    first = queue(1, order_key="HS-9", answer_status=503)
    second = queue(2, order_key="HS-9")
    outbox.deliver_due()
    assert refreshed(first).state == Message.State.FAILED
    assert refreshed(second).state == Message.State.PENDING and second.attempts == 0
    assert selectors.blocked_by(second) == first
    Message.objects.filter(pk=first.pk).update(body=first.body.replace(', "answer_status": 503', ""))
    outbox.deliver_due(first.next_attempt_at)
    outbox.deliver_due(first.next_attempt_at)
    assert refreshed(first).state == Message.State.SENT and refreshed(second).state == Message.State.SENT


def test_replay_puts_a_dead_call_back_in_the_queue_and_is_audited(receiver, capsys):
    message = queue(1, answer_status=422)
    outbox.deliver_due()
    assert refreshed(message).state == Message.State.DEAD
    call_command("bus", "replay", str(message.pk))
    assert "Đã đưa lời gọi số" in capsys.readouterr().out
    message = refreshed(message)
    assert message.state == Message.State.PENDING and message.attempts == 0
    record = AuditRecord.objects.get(action="bus.replay")
    assert record.object_id == str(message.pk) and record.before["state"] == "dead"


def test_replay_refuses_a_sent_call_a_waiting_one_and_other_messages(receiver, province):
    message = queue(1)
    with pytest.raises(CommandError, match="đang chờ gửi"):
        call_command("bus", "replay", str(message.pk))
    outbox.deliver_due()
    with pytest.raises(CommandError, match="đã gửi thành công"):
        call_command("bus", "replay", str(message.pk))
    with pytest.raises(CommandError, match="Không có lời gọi số 999999"):
        call_command("bus", "replay", "999999")
    with transaction.atomic():
        mail = outbox.enqueue(channel="email", kind="tests.mail", recipient="a@example.gov.vn", body="x")
    with pytest.raises(CommandError, match="không phải lời gọi qua trục"):
        call_command("bus", "replay", str(mail.pk))
    assert not AuditRecord.objects.filter(action="bus.replay").exists()


def test_replay_now_sends_at_once(receiver, capsys):
    message = queue(1, answer_status=429)
    outbox.deliver_due()
    assert refreshed(message).state == Message.State.FAILED
    Message.objects.filter(pk=message.pk).update(body=message.body.replace(', "answer_status": 429', ""))
    call_command("bus", "replay", str(message.pk), "--now")
    assert "Đã gửi thành công" in capsys.readouterr().out
    assert refreshed(message).state == Message.State.SENT


def test_the_administrators_send_again_works_for_bus_calls(receiver, admin_user):
    message = queue(1, answer_status=422)
    outbox.deliver_due()
    client = Client()
    client.force_login(admin_user)
    client.post("/quan-tri/exchange/message/", {"action": "send_again", "_selected_action": [message.pk]}, follow=True)
    assert refreshed(message).state == Message.State.PENDING
    assert AuditRecord.objects.filter(action="outbox.retry", object_id=str(message.pk)).exists()


def test_the_reply_handler_receives_the_answer_and_its_failure_keeps_the_call_sent(receiver):
    seen = []

    def reply(message, response):
        seen.append((message.pk, response.json()["n"]))

    def broken(message, response):
        raise ValueError("không đọc được kết quả")

    BUS_REPLIES.register("tests.bus_reply", reply)
    BUS_REPLIES.register("tests.bus_reply_broken", broken)
    try:
        good = queue(7, kind="tests.bus_reply")
        bad = queue(8, kind="tests.bus_reply_broken")
        outbox.deliver_due()
    finally:
        BUS_REPLIES.unregister("tests.bus_reply")
        BUS_REPLIES.unregister("tests.bus_reply_broken")
    assert seen == [(good.pk, 7)]
    assert refreshed(good).state == Message.State.SENT and good.last_error == ""
    bad = refreshed(bad)
    assert bad.state == Message.State.SENT
    assert bad.last_error.startswith("Đã gửi; lỗi khi xử lý kết quả: ValueError")


def test_an_unreachable_provider_opens_the_circuit_and_later_calls_wait(settings, receiver):
    settings.CQS = {**settings.CQS, "BUS_RECEIVER_URL": "http://127.0.0.1:9", "BUS_CIRCUIT_FAILURES": 2}
    registry.invalidate()
    messages = [queue(n) for n in range(4)]
    outbox.deliver_due()
    states = [(refreshed(m).state, m.attempts) for m in messages]
    assert states[:2] == [(Message.State.FAILED, 1), (Message.State.FAILED, 1)]
    assert states[2:] == [(Message.State.PENDING, 0), (Message.State.PENDING, 0)]
    row = BusCircuit.objects.get(service=SERVICE)
    assert row.state == BusCircuit.State.OPEN
    assert messages[2].next_attempt_at == row.open_until
    circuit.reset(SERVICE)


def test_a_discarded_dead_call_releases_the_later_ones(receiver):
    first = queue(1, order_key="HS-5", answer_status=422)
    second = queue(2, order_key="HS-5")
    outbox.deliver_due()
    assert refreshed(first).state == Message.State.DEAD
    with pytest.raises(CommandError, match="lý do"):
        call_command("bus", "replay", str(first.pk), "--discard")
    call_command("bus", "replay", str(first.pk), "--discard", "--reason", "Hệ thống nhận không chấp nhận mẫu cũ")
    first = refreshed(first)
    assert first.state == Message.State.DISCARDED and first.last_error.startswith("Đã hủy: Hệ thống nhận")
    assert AuditRecord.objects.get(action="bus.discard").after["reason"] == "Hệ thống nhận không chấp nhận mẫu cũ"
    assert selectors.blocked_by(refreshed(second)) is None
    outbox.deliver_due()
    assert refreshed(second).state == Message.State.SENT
    with pytest.raises(CommandError, match="Chỉ hủy được"):
        call_command("bus", "replay", str(second.pk), "--discard", "--reason", "x")
