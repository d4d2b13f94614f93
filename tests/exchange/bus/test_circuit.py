"""The circuit breaker per remote service, shared through the database (exchange.bus.circuit)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chinhquyenso.exchange.bus import circuit, gateway, registry
from chinhquyenso.exchange.bus.errors import BusError
from chinhquyenso.exchange.models import BusCircuit, BusLogEntry
from tests.core.test_workflow import run_at_once
from tests.exchange.bus.test_delivery import CLIENT, SERVICE, make_remote_service

pytestmark = pytest.mark.django_db

S = "VN/GOV/000.00.00.T99/nhan-thu/nhan-thu"


def row() -> BusCircuit:
    return BusCircuit.objects.get(service=S)


def fail(times: int, now=None):
    for _ in range(times):
        circuit.failure(S, "HTTP 503", now=now)


def test_closed_until_the_fifth_failure_in_a_row_then_open_for_the_cool_down():
    now = timezone.now()
    fail(4, now)
    circuit.check(S, now=now)
    assert row().state == BusCircuit.State.CLOSED and row().failures == 4
    fail(1, now)
    assert row().state == BusCircuit.State.OPEN and row().open_until == now + dt.timedelta(seconds=30)
    with pytest.raises(BusError) as refused:
        circuit.check(S, now=now + dt.timedelta(seconds=10))
    assert refused.value.code == "circuit_open" and refused.value.status == 503 and not refused.value.permanent
    assert refused.value.retry_after == now + dt.timedelta(seconds=30)
    assert S in refused.value.message and "tạm ngắt" in refused.value.message


def test_a_success_in_between_resets_the_count():
    fail(4)
    circuit.success(S)
    fail(4)
    assert row().state == BusCircuit.State.CLOSED and row().failures == 4


def test_half_open_lets_exactly_one_trial_through_and_its_failure_doubles_the_cool_down():
    now = timezone.now()
    fail(5, now)
    later = now + dt.timedelta(seconds=31)
    circuit.check(S, now=later)  # the trial
    assert row().state == BusCircuit.State.HALF_OPEN
    with pytest.raises(BusError, match="lời gọi thử"):
        circuit.check(S, now=later)
    circuit.failure(S, "timeout", now=later)
    assert row().state == BusCircuit.State.OPEN and row().opened_count == 2
    assert row().open_until == later + dt.timedelta(seconds=60)
    # …doubling up to ten minutes.
    assert circuit.cool_down(10) == dt.timedelta(seconds=600)


def test_the_trials_success_closes_the_circuit():
    now = timezone.now()
    fail(5, now)
    circuit.check(S, now=now + dt.timedelta(seconds=31))
    circuit.success(S)
    assert (row().state, row().failures, row().opened_count, row().open_until) == (BusCircuit.State.CLOSED, 0, 0, None)


def test_an_abandoned_trial_is_taken_over(settings):
    now = timezone.now()
    fail(5, now)
    circuit.check(S, now=now + dt.timedelta(seconds=31))
    BusCircuit.objects.filter(service=S).update(updated_at=now - dt.timedelta(minutes=5))
    circuit.check(S, now=now + dt.timedelta(seconds=40))  # the first trial's caller died
    with pytest.raises(BusError):
        circuit.check(S, now=now + dt.timedelta(seconds=41))


def test_the_hot_path_only_reads_one_row_and_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        circuit.check(S)
        circuit.success(S)
    assert len(queries) == 2 and all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries)
    assert not BusCircuit.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_after_the_cool_down_one_trial_call_only():
    now = timezone.now()
    fail(5, now)
    later = now + dt.timedelta(seconds=31)

    def worker(i):
        try:
            circuit.check(S, now=later)
            return "trial"
        except BusError as error:
            return error.code

    results = run_at_once(6, worker)
    assert sorted(results) == ["circuit_open"] * 5 + ["trial"]


@pytest.mark.django_db(transaction=True)
def test_failures_from_several_workers_at_once_are_all_counted():
    results = run_at_once(8, lambda i: circuit.failure(S, "timeout"))
    assert results == [None] * 8
    assert row().failures == 8 and row().state == BusCircuit.State.OPEN and row().opened_count == 1


def test_the_gateway_refuses_while_open_and_logs_it(settings):
    settings.CQS = {**settings.CQS, "BUS_RECEIVER_URL": "http://127.0.0.1:9", "BUS_CIRCUIT_FAILURES": 2}
    make_remote_service()
    for _ in range(2):
        with pytest.raises(BusError) as error:
            gateway.call(client=CLIENT, service=SERVICE, operation="deliver", json_body={"n": 1})
        assert error.value.code == "unreachable"
    with pytest.raises(BusError) as error:
        gateway.call(client=CLIENT, service=SERVICE, operation="deliver", json_body={"n": 1})
    assert error.value.code == "circuit_open" and error.value.entry is not None
    assert BusLogEntry.objects.get(seq=error.value.entry).outcome == BusLogEntry.Outcome.CIRCUIT_OPEN
    registry.invalidate()
