"""`/metrics` (exchange.bus.metrics): Prometheus's text format, read back with prometheus_client's
own parser; who may read it (bearer token, province administrator; a 404 for anyone else);
counters kept incrementally from the log's sequence numbers."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from chinhquyenso.exchange import connectors
from chinhquyenso.exchange.bus import log as message_log
from chinhquyenso.exchange.bus import metrics
from chinhquyenso.exchange.bus import registry as bus_registry
from chinhquyenso.exchange.models import BusCircuit, Message

pytestmark = pytest.mark.django_db
TOKEN = "prom-4b1d2c3e9f"


@pytest.fixture
def bus(db, settings):
    settings.CQS = {**settings.CQS, "METRICS_TOKEN": TOKEN}
    bus_registry.load_defaults()
    bus_registry.invalidate()
    cache.delete(metrics.CACHE_KEY)
    return {"population": connectors.service_id("population"), "residence": connectors.service_id("residence")}


def entry(service, *, duration=10.0, outcome="ok", status=200, ago=dt.timedelta(minutes=1)):
    return message_log.append(
        at=timezone.now() - ago,
        message_id=uuid.uuid4().hex,
        client="VN/GOV/000.00.00.H01/mot-cua",
        service=service,
        operation="lookup",
        method="GET",
        status=status,
        outcome=outcome,
        error_code="" if outcome == "ok" else outcome,
        duration_ms=duration,
        asynchronous=False,
        idempotency_key="",
        correlation="",
        request_body="",
        response_body="{}",
    )


def message(service, state):
    now = timezone.now()
    return Message.objects.create(
        channel=Message.Channel.BUS,
        recipient=service,
        subject="submit",
        kind="tests.bus",
        body="{}",
        state=state,
        next_attempt_at=now,
        created_at=now,
    )


def scrape(**headers) -> dict:
    """(sample name, frozenset of labels) → value, parsed by prometheus_client's own parser."""
    response = Client().get("/metrics", headers=headers or {"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return parse(response.content.decode())


def parse(text: str) -> dict:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def test_the_bus_in_prometheus_format(bus):
    population, residence = bus["population"], bus["residence"]
    for duration in (10, 20, 30, 40):
        entry(population, duration=duration)
    entry(population, duration=100, outcome="timeout", status=504)
    entry(population, duration=2, outcome="refused", status=403)
    entry(population, duration=50, status=500)
    entry(residence, duration=7, ago=dt.timedelta(hours=3))  # counted, outside the quantiles' hour
    entry("VN/GOV/1.2.3/ai-do/la", outcome="refused", status=404)
    for state in ("pending", "failed", "dead", "dead", "sent"):
        message(population, state)
    message("VN/GOV/1.2.3/ai-do/la", "dead")
    BusCircuit.objects.create(service=residence, state="open", open_until=timezone.now() + dt.timedelta(minutes=3))

    samples = scrape()
    assert value(samples, "cqs_bus_calls_total", service=population, outcome="ok") == 5
    assert value(samples, "cqs_bus_calls_total", service=population, outcome="timeout") == 1
    assert value(samples, "cqs_bus_calls_total", service=population, outcome="refused") == 1
    assert value(samples, "cqs_bus_calls_total", service=residence, outcome="ok") == 1
    assert value(samples, "cqs_bus_calls_total", service="other", outcome="refused") == 1
    # Errors: the timeout, the refusal and the 500.
    assert value(samples, "cqs_bus_errors_total", service=population) == 3
    assert value(samples, "cqs_bus_errors_total", service=residence) == 0
    # Latency: 10, 20, 30, 40, 50, 100 ms reached a provider (the refusal did not).
    assert value(samples, "cqs_bus_call_duration_ms", service=population, quantile="0.5") == pytest.approx(35)
    assert value(samples, "cqs_bus_call_duration_ms", service=population, quantile="0.95") == pytest.approx(87.5)
    assert value(samples, "cqs_bus_call_duration_ms_count", service=population) == 6
    assert value(samples, "cqs_bus_call_duration_ms_sum", service=population) == pytest.approx(250)
    assert value(samples, "cqs_bus_call_duration_ms", service=residence, quantile="0.5") is None
    assert value(samples, "cqs_bus_call_duration_ms_count", service=residence) == 1
    assert value(samples, "cqs_bus_queue_depth", service=population) == 2
    assert value(samples, "cqs_bus_dead_letters", service=population) == 2
    assert value(samples, "cqs_bus_dead_letters", service="other") == 1
    assert value(samples, "cqs_bus_circuit_open", service=residence) == 1
    assert value(samples, "cqs_bus_circuit_open", service=population) == 0
    assert value(samples, "cqs_bus_service_info", service=population, connector="population") == 1
    # Every registered service has its gauges, even with nothing to count.
    edoc = connectors.service_id("edoc")
    assert value(samples, "cqs_bus_queue_depth", service=edoc) == 0
    assert value(samples, "cqs_bus_circuit_open", service=edoc) == 0
    # Only registered ids and "other" as label values.
    services = {dict(labels).get("service") for _, labels in samples} - {None}
    assert "VN/GOV/1.2.3/ai-do/la" not in services and "other" in services


def test_counters_add_only_the_new_entries(bus, django_assert_max_num_queries):
    population = bus["population"]
    entry(population)
    entry(population, outcome="unreachable", status=502)
    first = scrape()
    assert value(first, "cqs_bus_calls_total", service=population, outcome="ok") == 1
    entry(population)
    entry(population)
    second = scrape()
    assert value(second, "cqs_bus_calls_total", service=population, outcome="ok") == 3
    assert value(second, "cqs_bus_calls_total", service=population, outcome="unreachable") == 1
    assert value(second, "cqs_bus_errors_total", service=population) == 1
    # The totals are remembered up to the last sequence number read; a fresh process (empty cache)
    # counts the whole log again and finds the same.
    state = cache.get(metrics.CACHE_KEY)
    assert state["seq"] == 4
    cache.delete(metrics.CACHE_KEY)
    assert scrape() == second
    # A scrape reads a bounded number of queries, whatever the number of services or entries.
    with django_assert_max_num_queries(12):
        metrics.exposition()


def test_who_may_read_it(bus, admin_user, officers, settings):
    entry(bus["population"])
    anonymous = Client().get("/metrics")
    assert anonymous.status_code == 404
    assert "cqs_bus" not in anonymous.content.decode()
    for header in (f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN, f"Token {TOKEN}"):
        refused = Client().get("/metrics", headers={"Authorization": header})
        assert refused.status_code == 404, header
    assert Client().post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code in (403, 405)
    assert scrape(Authorization=f"bearer {TOKEN}")  # the scheme in any case

    admin = Client()
    admin.force_login(admin_user)
    assert admin.get("/metrics").status_code == 200
    officer = Client()
    officer.force_login(officers["ubnd"]["agency_admin"])
    assert officer.get("/metrics").status_code == 404

    # Without a configured token, no bearer token opens it.
    settings.CQS = {**settings.CQS, "METRICS_TOKEN": ""}
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    assert Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    assert admin.get("/metrics").status_code == 200
