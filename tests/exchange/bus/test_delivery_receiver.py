"""At least once, done once: 300 calls to a real receiver process that fails 10% of requests
transiently (half of them after doing the work, so the answer is lost and the call is sent again)
and honours idempotency keys. Every call ends sent, none dead, none done twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.bus import delivery
from chinhquyenso.exchange.models import Message
from tests.exchange.bus.test_delivery import CLIENT, SERVICE, receiver, receiver_process  # noqa: F401

pytestmark = pytest.mark.django_db

COUNT = 300


def test_every_call_is_delivered_and_done_exactly_once(receiver, settings):  # noqa: F811
    settings.CQS = {**settings.CQS, "OUTBOX_MAX_ATTEMPTS": 10, "BUS_CIRCUIT_FAILURES": 1000}
    receiver.configure(fail_rate=0.1, seed=20)
    with transaction.atomic():
        for n in range(COUNT):
            delivery.send(
                client=CLIENT,
                service=SERVICE,
                operation="deliver",
                kind="tests.bus_call",
                json_body={"n": n},
                order_key=f"HS-{n % 7}" if n % 3 == 0 else "",
            )
    now, rounds = timezone.now(), 0
    while Message.objects.exclude(state=Message.State.SENT).exists() and rounds < 200:
        outbox.deliver_due(now)
        now += dt.timedelta(hours=1)  # past every back-off
        rounds += 1
    assert Message.objects.filter(state=Message.State.SENT).count() == COUNT
    assert not Message.objects.filter(state=Message.State.DEAD).exists()
    stats = receiver.stats()
    assert stats["processed"] == COUNT and stats["executed_twice"] == 0
    assert stats["failed"] > 0 and stats["repeats"] > 0  # answers were lost and the calls sent again
    assert stats["requests"] == sum(Message.objects.values_list("attempts", flat=True))
    keys = set(receiver.keys())
    assert keys == {delivery.idempotency_key(m) for m in Message.objects.all()}
