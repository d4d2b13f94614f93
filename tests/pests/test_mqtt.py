"""MQTT ingestion against a real Mosquitto (the `mosquitto` fixture): the subscriber stores each
message once, survives bad input and a broker restart, and acknowledges only what was committed."""

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from chinhquyenso.pests import mqtt
from chinhquyenso.pests.models import IngestProblem, TrapCount, TrapMessage
from chinhquyenso.pests.simulate import Publisher, trap_payload

pytestmark = pytest.mark.django_db


def yesterday(days=1):
    return timezone.localdate() - dt.timedelta(days=days)


@pytest.fixture
def subscriber(mosquitto):
    """A subscriber on the private broker whose persistent session exists (subscribed once)."""
    sub = mqtt.Subscriber(mosquitto.url, client_id="cqs-test-ingest", username="", password="")
    sub.run(until=lambda: sub.connected, timeout=10)
    sub.run(timeout=0.5)  # the SUBACK
    assert sub.connected
    yield sub
    sub.close()


def stored(n):
    return lambda: TrapMessage.objects.count() + IngestProblem.objects.count() >= n


def test_a_published_message_is_stored_and_counted_once(smart_trap, mosquitto, subscriber, publish_counts):
    station, secret = smart_trap
    publish_counts(mosquitto.url, station.device_id, secret, {"ray-nau": 1200, "bo-xit-mu-xanh": 40})
    subscriber.run(until=stored(1), timeout=10)
    message = TrapMessage.objects.get()
    assert (message.status, message.transport) == ("accepted", "mqtt")
    assert dict(message.counts.values_list("trap_class__code", "count")) == {"ray-nau": 1200, "bo-xit-mu-xanh": 40}
    # The same message again (a device that did not see the PUBACK resends it): nothing new.
    publish_counts(mosquitto.url, station.device_id, secret, {"ray-nau": 1200, "bo-xit-mu-xanh": 40})
    subscriber.run(until=lambda: subscriber.stats["duplicate"] == 1, timeout=10)
    assert TrapMessage.objects.count() == 1 and TrapCount.objects.count() == 2
    station.refresh_from_db()
    assert station.last_message_at is not None and station.silent_since is None


def test_a_late_message_is_accepted_and_counted_once(smart_trap, mosquitto, subscriber, publish_counts):
    station, secret = smart_trap
    for _ in range(2):
        publish_counts(mosquitto.url, station.device_id, secret, {"ray-nau": 70}, night=yesterday(9))
    subscriber.run(until=lambda: subscriber.stats["duplicate"] == 1, timeout=10)
    count = TrapCount.objects.get()
    assert count.night == yesterday(9) and count.accepted


def test_bad_input_leaves_problems_and_the_subscriber_alive(smart_trap, mosquitto, subscriber, publish_counts):
    station, secret = smart_trap
    url, device = mosquitto.url, station.device_id
    publish_counts(url, device, secret, payload=b"\xff\xfe not json")
    publish_counts(url, device, secret, payload=b"[1, 2, 3]")
    publish_counts(url, "bd-khong-ton-tai", "0" * 64, {"ray-nau": 1})
    publish_counts(url, device, "f" * 64, {"ray-nau": 1}, message_id="sai-chu-ky")
    publish_counts(url, device, None, {"ray-nau": 1}, message_id="khong-chu-ky")
    publish_counts(url, device, secret, {"ray-nau": -5}, message_id="so-am")
    # The device id of the topic and of the payload differ.
    payload = trap_payload("bd-khac", {"ray-nau": 1}, night=yesterday())
    publish_counts(url, device, secret, payload=payload)
    subscriber.run(until=lambda: IngestProblem.objects.count() >= 7, timeout=15)
    reasons = list(IngestProblem.objects.values_list("reason", flat=True))
    assert len(reasons) == 7 and TrapMessage.objects.count() == 0
    for expected in ("JSON", "đối tượng JSON", "chưa được đăng ký", "Chữ ký", "thiếu chữ ký", "số âm", "khác mã"):
        assert any(expected.lower() in r.lower() for r in reasons), expected
    # Still working.
    publish_counts(url, device, secret, {"ray-nau": 3})
    subscriber.run(until=stored(8), timeout=10)
    assert TrapMessage.objects.get().status == "accepted"


def test_broker_restart_loses_nothing_and_counts_nothing_twice(smart_trap, mosquitto, subscriber):
    station, secret = smart_trap
    nights = [yesterday(d) for d in range(1, 13)]

    def send(publisher, night, wait=True):
        payload = trap_payload(station.device_id, {"ray-nau": 100 + night.day}, night=night)
        return publisher.send(station.device_id, secret, payload, wait=wait)

    # A device with a persistent session of its own.
    publisher = Publisher(mosquitto.url, "trap-bd-kien-an-01", persistent=True)
    try:
        for night in nights[:3]:
            send(publisher, night)
        subscriber.run(until=stored(3), timeout=10)
        # The subscriber goes away; the device goes on publishing (QoS 1): the broker queues for the session.
        subscriber.close()
        for night in nights[3:7]:
            send(publisher, night)
        # The broker restarts (its persistence file keeps the sessions and the queue) ...
        mosquitto.stop()
        # ... while down, the device keeps its messages in flight and sends them once it is back.
        infos = [send(publisher, night, wait=False) for night in nights[7:10]]
        mosquitto.start()
        assert publisher.wait_for([info.mid for info in infos], timeout=30)
        # The device resends one it had already sent (it never saw the PUBACK).
        send(publisher, nights[4])
        subscriber.run(until=stored(10), timeout=30)
        # A restart while the subscriber is connected: it reconnects by itself.
        mosquitto.restart()
        for night in nights[10:]:
            send(publisher, night)
        subscriber.run(until=stored(12), timeout=60)
    finally:
        publisher.close()
    assert TrapMessage.objects.count() == 12 and not IngestProblem.objects.exists()
    assert sorted(TrapCount.objects.values_list("night", flat=True)) == sorted(nights)
    assert subscriber.stats["duplicate"] >= 1


def test_a_database_failure_before_commit_is_delivered_again(
    smart_trap, mosquitto, subscriber, publish_counts, monkeypatch
):
    """Manual acknowledgement: a message whose storing failed is not acknowledged, comes again after
    the subscriber reconnects, and is then stored once."""
    station, secret = smart_trap
    real = mqtt.Subscriber.handle
    failures = []

    def failing_once(self, message):
        if not failures:
            failures.append(message.mid)
            raise OperationalError("server closed the connection unexpectedly")
        return real(self, message)

    monkeypatch.setattr(mqtt.Subscriber, "handle", failing_once)
    subscriber.backoff = 0.1
    publish_counts(mosquitto.url, station.device_id, secret, {"ray-nau": 9})
    subscriber.run(until=stored(1), timeout=20)
    assert failures and TrapMessage.objects.count() == 1
    assert subscriber.stats["errors"] == 1 and subscriber.stats["accepted"] == 1


def test_an_unexpected_error_is_kept_acknowledged_and_not_fatal(
    smart_trap, mosquitto, subscriber, publish_counts, monkeypatch
):
    station, secret = smart_trap
    real = mqtt.Subscriber.handle
    calls = []

    def buggy_first(self, message):
        calls.append(message.mid)
        if len(calls) == 1:
            raise KeyError("bug")
        return real(self, message)

    monkeypatch.setattr(mqtt.Subscriber, "handle", buggy_first)
    publish_counts(mosquitto.url, station.device_id, secret, {"ray-nau": 1}, message_id="a")
    publish_counts(mosquitto.url, station.device_id, secret, {"ray-nau": 2}, message_id="b")
    subscriber.run(until=stored(2), timeout=15)
    problem = IngestProblem.objects.get()
    assert "KeyError" in problem.reason and problem.device_id == station.device_id
    assert TrapMessage.objects.get().message_id == "b"
    # Acknowledged: a new connection of the same session gets nothing again.
    subscriber.close()
    subscriber.run(until=lambda: subscriber.connected, timeout=10)
    subscriber.run(timeout=1)
    assert len(calls) == 2


def test_broker_urls():
    assert mqtt.Broker.from_url("mqtt://127.0.0.1:1883") == mqtt.Broker("127.0.0.1", 1883)
    assert mqtt.Broker.from_url("mqtts://u:p%40ss@mq.example.vn") == mqtt.Broker(
        "mq.example.vn", 8883, True, "u", "p@ss"
    )
    assert mqtt.device_of("cqs/pests/traps/bd-1/counts") == "bd-1"
    assert mqtt.device_of("cqs/pests/traps/a/b/counts") is None
    with pytest.raises(ValueError):
        mqtt.Broker.from_url("http://x")
