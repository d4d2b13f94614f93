"""Monitoring the data bus (exchange.bus.selectors, the administrator's page, the dashboard tile):
calls and errors per service in a window, p50/p95 — percentile_cont on PostgreSQL, ordered offsets
elsewhere, both checked against the same interpolation —, queue depth and dead letters from the
outbox, the circuit, unregistered ids summed in one row, who may open the page."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.exchange import connectors
from chinhquyenso.exchange.bus import log as message_log
from chinhquyenso.exchange.bus import registry as bus_registry
from chinhquyenso.exchange.bus import selectors
from chinhquyenso.exchange.models import BusCircuit, BusLogEntry, Message

pytestmark = pytest.mark.django_db

_seq = itertools.count(10_000_000)
NOW = dt.datetime(2026, 3, 10, 5, 0, tzinfo=dt.UTC)  # 12:00 in Hà Nội


@pytest.fixture
def bus(db):
    bus_registry.load_defaults()
    bus_registry.invalidate()
    return {
        "population": connectors.service_id("population"),
        "residence": connectors.service_id("residence"),
        "client": connectors.client_for("population"),
    }


def entry(service, *, at=NOW, duration=10.0, outcome="ok", status=200, client="VN/GOV/000.00.00.H01/mot-cua"):
    """One message-log entry through the log's own append (its hash chain included)."""
    return message_log.append(
        at=at,
        message_id=uuid.uuid4().hex,
        client=client,
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


def many(service, durations, *, at=NOW, outcome="ok", status=200):
    """Entries in bulk (percentiles need many; the chain does not matter to monitoring)."""
    BusLogEntry.objects.bulk_create(
        BusLogEntry(
            seq=next(_seq),
            at=at - dt.timedelta(seconds=i % 3000),
            message_id=uuid.uuid4().hex,
            client="VN/GOV/000.00.00.H01/mot-cua",
            service=service,
            outcome=outcome,
            status=status,
            duration_ms=d,
            prev_hash="0" * 64,
            entry_hash="0" * 64,
        )
        for i, d in enumerate(durations)
    )


def message(service, state):
    return Message.objects.create(
        channel=Message.Channel.BUS,
        recipient=service,
        subject="submit",
        kind="tests.bus",
        body="{}",
        state=state,
        next_attempt_at=NOW,
        created_at=NOW,
    )


def percentile_cont(values, q):
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def row_of(rows, service):
    return next(r for r in rows if r.service == service)


def test_calls_errors_queue_dead_letters_and_circuit_per_service(bus):
    population, residence = bus["population"], bus["residence"]
    entry(population, duration=20)
    entry(population, duration=40)
    entry(population, duration=30, outcome="timeout", status=504)
    entry(population, duration=1, outcome="refused", status=403)  # an error, no latency
    entry(population, duration=50, status=500)  # a local handler's 500: an error, with its latency
    entry(population, at=NOW - dt.timedelta(hours=2), duration=999)  # outside the last hour
    entry(residence, duration=5)
    entry("VN/GOV/9.9/khong-co/gi-ca", outcome="refused", status=404)  # nobody registered it
    entry("rác/không/đúng", outcome="refused", status=404)
    for state in ("pending", "pending", "failed", "dead", "sent"):
        message(population, state)
    message(residence, "dead")
    BusCircuit.objects.create(
        service=residence, state="open", open_until=NOW + dt.timedelta(minutes=5), last_error="Không kết nối được"
    )

    rows = selectors.service_stats("1h", now=NOW)
    first = row_of(rows, population)
    assert (first.connector, first.calls, first.errors, first.queue_depth, first.dead_letters) == (
        "population",
        5,
        3,
        3,
        1,
    )
    # Latency over the four calls that reached the provider: 20, 30, 40, 50 ms.
    assert first.p50_ms == pytest.approx(35.0)
    assert first.p95_ms == pytest.approx(48.5)
    assert (first.error_rate_display, first.p50_display, first.circuit, first.circuit_open) == (
        "60,0%",
        "35,0 ms",
        "closed",
        False,
    )
    second = row_of(rows, residence)
    assert (second.calls, second.errors, second.dead_letters, second.circuit_open) == (1, 0, 1, True)
    assert second.circuit_label == "Tạm ngắt" and second.circuit_error == "Không kết nối được"
    # Two unregistered ids: one summed row, last.
    assert rows[-1].service == selectors.UNKNOWN and (rows[-1].calls, rows[-1].errors) == (2, 2)
    # Every registered service has a row (with nothing in the window: zeros), connectors first.
    assert {connectors.service_id(name) for name in connectors.SERVICES} <= {r.service for r in rows}
    assert [r.connector != "" for r in rows[:-1]] == sorted((r.connector != "" for r in rows[:-1]), reverse=True)
    # 24 hours include the older call.
    day = row_of(selectors.service_stats("24h", now=NOW), population)
    assert (day.calls, day.p95_ms) == (6, pytest.approx(50 + 0.8 * (999 - 50)))
    assert selectors.parse_window("7d") == "1h"


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_percentiles_interpolate_as_percentile_cont(bus, n):
    population = bus["population"]
    durations = [float((i * 37) % 1009) + i / 1000 for i in range(n)]
    many(population, durations)
    many(population, [9999.0] * 3, outcome="refused", status=403)  # not latency
    expected = tuple(percentile_cont(durations, q) for q in selectors.QUANTILES)
    since, until = NOW - dt.timedelta(hours=1), NOW + dt.timedelta(seconds=1)
    found = selectors.percentiles_offset(since, until, [population])[population]
    assert found == pytest.approx(expected)
    assert selectors.percentiles(since, until, [population])[population] == pytest.approx(expected)
    if connection.vendor == "postgresql":
        assert selectors.percentiles_postgresql(since, until, [population])[population] == pytest.approx(expected)


def test_the_offset_percentiles_read_a_bounded_sample_of_the_latest_calls(bus):
    population = bus["population"]
    # 100 old slow calls, then 10 recent fast ones: a sample of 10 sees only the recent ones.
    many(population, [500.0] * 100, at=NOW - dt.timedelta(minutes=55))
    recent = [float(i) for i in range(1, 11)]
    BusLogEntry.objects.bulk_create(
        BusLogEntry(
            seq=next(_seq),
            at=NOW - dt.timedelta(seconds=i),
            message_id=uuid.uuid4().hex,
            client="c",
            service=population,
            outcome="ok",
            duration_ms=d,
            prev_hash="0" * 64,
            entry_hash="0" * 64,
        )
        for i, d in enumerate(recent)
    )
    since = NOW - dt.timedelta(hours=1)
    sampled = selectors.percentiles_offset(since, NOW + dt.timedelta(seconds=1), [population], sample=10)
    assert sampled[population] == pytest.approx(tuple(percentile_cont(recent, q) for q in selectors.QUANTILES))
    whole = selectors.percentiles_offset(since, NOW + dt.timedelta(seconds=1), [population])
    assert whole[population][1] == pytest.approx(500.0)


def test_summary_counts_today_in_local_time(bus):
    population = bus["population"]
    local_midnight = dt.datetime(2026, 3, 10, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    entry(population, at=local_midnight - dt.timedelta(minutes=1))  # yesterday in Hà Nội
    entry(population, at=local_midnight + dt.timedelta(minutes=1))
    entry(population, at=NOW - dt.timedelta(minutes=1), outcome="unreachable", status=502)
    message(population, "dead")
    message(population, "pending")
    BusCircuit.objects.create(service=population, state="open", open_until=NOW + dt.timedelta(minutes=1))
    today = selectors.summary(now=NOW)
    assert (today.day, today.calls, today.errors, today.dead_letters, today.queue_depth) == (
        dt.date(2026, 3, 10),
        2,
        1,
        1,
        1,
    )
    assert today.open_circuits == [bus_registry.resolve(population).name]
    assert today.error_rate_display == "50,0%"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_for_the_province_administrator(bus, admin_user, officers, citizen):
    population = bus["population"]
    now = timezone.now()
    entry(population, at=now - dt.timedelta(minutes=5), duration=12)
    entry(population, at=now - dt.timedelta(minutes=4), duration=30, outcome="timeout", status=504)
    entry(population, at=now - dt.timedelta(hours=3), duration=80)
    message(population, "dead")
    BusCircuit.objects.create(service=population, state="open", open_until=now + dt.timedelta(minutes=5))

    response = signed_in(admin_user).get("/can-bo/truc-lien-thong/giam-sat/")
    assert response.status_code == 200
    text = page_text(response)
    assert "Giám sát trục liên thông" in text and "Số liệu 1 giờ qua" in text
    name = bus_registry.resolve(population).name
    row = re.search(rf"{re.escape(name)} Kết nối: CSDL quốc gia về dân cư {re.escape(population)} (.*?) Tạm ngắt", text)
    assert row, text
    assert row.group(1).split() == ["2", "1", "50,0%", "21,0", "ms", "29,1", "ms", "0", "1"]
    html = response.content.decode()
    assert (
        f"/quan-tri/exchange/message/?channel__exact=bus&amp;state__exact=dead&amp;recipient__exact={population}"
        in html
    )
    # The navigation offers the page to administrators.
    assert 'href="/can-bo/truc-lien-thong/giam-sat/"' in html

    day = page_text(signed_in(admin_user).get("/can-bo/truc-lien-thong/giam-sat/", {"khoang": "24h"}))
    assert "Số liệu 24 giờ qua" in day and re.search(rf"{re.escape(population)} 3 1 33,3%", day)
    assert "Số liệu 1 giờ qua" in page_text(signed_in(admin_user).get("/can-bo/truc-lien-thong/giam-sat/?khoang=x"))

    auditor = accounts.create_officer(
        actor=admin_user,
        username="kiem.tra",
        password="Mat-khau-2025",
        full_name="Kiểm tra",
        global_role=GlobalRole.AUDITOR,
    )
    assert signed_in(auditor).get("/can-bo/truc-lien-thong/giam-sat/").status_code == 200
    for user in (officers["ubnd"]["leader"], officers["ubnd"]["agency_admin"], citizen):
        assert signed_in(user).get("/can-bo/truc-lien-thong/giam-sat/").status_code == 403
    anonymous = Client().get("/can-bo/truc-lien-thong/giam-sat/")
    assert anonymous.status_code == 302


def test_the_dashboard_tile(bus, admin_user, officers):
    population = bus["population"]
    now = timezone.now()
    entry(population, at=now - dt.timedelta(seconds=30))
    entry(population, at=now - dt.timedelta(seconds=20), outcome="remote_error", status=503)
    message(population, "dead")
    BusCircuit.objects.create(service=population, state="open", open_until=now + dt.timedelta(minutes=5))
    name = bus_registry.resolve(population).name

    tiles = {t.key: t for t in selectors.dashboard_tiles(admin_user)}
    assert [t.label for t in tiles.values()] == [
        "Cuộc gọi hôm nay",
        "Tỷ lệ lỗi hôm nay",
        "Dịch vụ đang tạm ngắt",
        "Lời gọi đã dừng thử lại",
    ]
    assert (tiles["bus_calls_today"].display, tiles["bus_error_rate_today"].display) == ("2", "50,0%")
    assert tiles["bus_error_rate_today"].detail == "1/2 cuộc gọi"
    assert (tiles["bus_open_circuits"].display, tiles["bus_open_circuits"].detail) == ("1", name)
    assert tiles["bus_dead_letters"].display == "1" and tiles["bus_dead_letters"].alert
    leader = officers["ubnd"]["leader"]
    assert selectors.dashboard_tiles(leader) is None

    response = signed_in(admin_user).get("/dieu-hanh/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 id="truc-lien-thong">Trục liên thông</h2>' in html
    found = re.search(r'<li class="tile alert" id="o-bus_open_circuits">(.*?)</li>', html, flags=re.S)
    assert found and name in found.group(1)
    data = signed_in(admin_user).get("/api/dashboard/tiles").json()
    section = next(s for s in data["sections"] if s["key"] == "bus")
    assert [t["display"] for t in section["tiles"]] == ["2", "50,0%", "1", "1"]
    # A leader's dashboard has no bus section.
    assert 'id="truc-lien-thong"' not in signed_in(leader).get("/dieu-hanh/").content.decode()


def test_an_empty_bus_and_an_agency_page(db, admin_user, province):
    """No service registered yet: the page says so, the tile shows zeros, the metrics are empty
    families; the dashboard's agency pages never show the province's live figures."""
    response = signed_in(admin_user).get("/can-bo/truc-lien-thong/giam-sat/")
    assert response.status_code == 200
    assert "Chưa có dịch vụ nào đăng ký trên trục liên thông." in page_text(response)
    assert [t.display for t in selectors.dashboard_tiles(admin_user)] == ["0", "—", "0", "0"]
    agency = signed_in(admin_user).get(f"/dieu-hanh/co-quan/{province['huyen'].code}/")
    assert agency.status_code == 200 and 'id="truc-lien-thong"' not in agency.content.decode()
