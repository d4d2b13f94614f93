"""`/metrics`: the data bus in Prometheus's text format (docs/data-bus.md, "Monitoring").

A custom prometheus-client Collector reads the database at scrape time, so every app process
answers the same figures and nothing is kept in memory that other processes would miss:

- `cqs_bus_calls_total{service,outcome}` and `cqs_bus_errors_total{service}` — counters of the
  message log's entries (an error: outcome not "ok", or HTTP status 500 or more);
- `cqs_bus_call_duration_ms{service}` — a summary: `quantile="0.5"|"0.95"` over the last hour
  (METRICS_WINDOW), `_count`/`_sum` cumulative over the calls that reached a provider;
- `cqs_bus_queue_depth{service}`, `cqs_bus_dead_letters{service}` — the outbox's bus messages
  waiting (pending or retrying) and given up;
- `cqs_bus_circuit_open{service}` — 1 while the service's circuit breaker is open.

Counters are kept incrementally: each process remembers (in Django's cache) the totals up to a
log sequence number and adds only the entries after it, read through the unique index on `seq` —
a scrape costs the new entries, not the whole log (the first scrape of a process counts it all
once). Entries moved to an archive stay counted; a process started after an archive counts only
what is left, which Prometheus reads as a counter reset (rate() and increase() handle it).

Services that are not in the registry are summed under `service="other"` (bounded label set).

Access: `Authorization: Bearer <CQS_METRICS_TOKEN>` (compared in constant time), or a signed-in
province administrator. Anyone else gets the site's ordinary 404 page: the endpoint does not say
that it exists, nor why it refused."""

from __future__ import annotations

import datetime as dt
import hmac
import logging

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from chinhquyenso.exchange.bus import selectors
from chinhquyenso.exchange.models import BusCircuit, BusLogEntry

log = logging.getLogger(__name__)

OTHER = "other"
CACHE_KEY = "cqs:bus:metrics:totals:v1"
METRICS_WINDOW = dt.timedelta(hours=1)


def _totals(known) -> dict[tuple[str, str], list[float]]:
    """(service label, outcome) → [calls, calls with status ≥ 500, sum of duration_ms], cumulative;
    ids not in `known` (the registered services) are counted as OTHER."""
    state = cache.get(CACHE_KEY) or {"seq": 0, "rows": {}}
    watermark, rows = state["seq"], dict(state["rows"])
    fresh = (
        BusLogEntry.objects.filter(seq__gt=watermark)
        .values("service", "outcome")
        .annotate(
            calls=Count("id"),
            server_errors=Count("id", filter=Q(status__gte=500)),
            duration=Sum("duration_ms"),
            top=Max("seq"),
        )
        .order_by()
    )
    top = watermark
    for r in fresh:
        key = (r["service"] if r["service"] in known else OTHER, r["outcome"])
        calls, errors, duration = rows.get(key, (0, 0, 0.0))
        rows[key] = (calls + r["calls"], errors + r["server_errors"], duration + float(r["duration"] or 0))
        top = max(top, r["top"])
    if top != watermark:
        cache.set(CACHE_KEY, {"seq": top, "rows": rows}, None)
    return {key: list(value) for key, value in rows.items()}


class BusCollector:
    """Reads the bus's figures from the database at each scrape."""

    def collect(self):
        now = timezone.now()
        registered = selectors.registered_services()
        connectors = selectors.connectors_by_service()

        def label(sid: str) -> str:
            return sid if sid in registered else OTHER

        totals = _totals(registered)
        calls = CounterMetricFamily(
            "cqs_bus_calls", "Số cuộc gọi qua trục liên thông, theo dịch vụ và kết quả.", labels=["service", "outcome"]
        )
        errors = CounterMetricFamily(
            "cqs_bus_errors",
            "Số cuộc gọi lỗi (kết quả khác thành công, hoặc mã HTTP từ 500) theo dịch vụ.",
            labels=["service"],
        )
        error_totals: dict[str, float] = {}
        latency_totals: dict[str, tuple[float, float]] = {}
        for (service, outcome), (n, server_errors, duration) in sorted(totals.items()):
            calls.add_metric([service, outcome], n)
            error_totals[service] = error_totals.get(service, 0) + (
                server_errors if outcome == BusLogEntry.Outcome.OK else n
            )
            if outcome not in selectors.NO_LATENCY:
                count, total = latency_totals.get(service, (0, 0.0))
                latency_totals[service] = (count + n, total + duration)
        for service, n in sorted(error_totals.items()):
            errors.add_metric([service], n)
        yield calls
        yield errors

        duration = Metric(
            "cqs_bus_call_duration_ms",
            "Thời gian xử lý cuộc gọi qua trục (ms): phân vị trong 1 giờ qua; _count, _sum cộng dồn.",
            "summary",
        )
        window = selectors.percentiles(now - METRICS_WINDOW, now, list(registered))
        for service in sorted(set(window) | set(latency_totals)):
            for q, value in zip(selectors.QUANTILES, window.get(service, ()), strict=False):
                duration.add_sample("cqs_bus_call_duration_ms", {"service": service, "quantile": str(q)}, value)
            count, total = latency_totals.get(service, (0, 0.0))
            duration.add_sample("cqs_bus_call_duration_ms_count", {"service": service}, count)
            duration.add_sample("cqs_bus_call_duration_ms_sum", {"service": service}, total)
        yield duration

        queue, dead = selectors._outbox_counts()
        depth = GaugeMetricFamily(
            "cqs_bus_queue_depth", "Lời gọi qua trục đang chờ gửi (chờ gửi, đang thử lại).", labels=["service"]
        )
        letters = GaugeMetricFamily(
            "cqs_bus_dead_letters", "Lời gọi qua trục đã dừng thử lại, chờ gửi lại thủ công.", labels=["service"]
        )
        for family, counts in ((depth, queue), (letters, dead)):
            grouped: dict[str, int] = {sid: 0 for sid in registered}
            for sid, n in counts.items():
                grouped[label(sid)] = grouped.get(label(sid), 0) + n
            for service, n in sorted(grouped.items()):
                family.add_metric([service], n)
            yield family

        circuit = GaugeMetricFamily(
            "cqs_bus_circuit_open", "1 khi cầu dao của dịch vụ đang ngắt, 0 khi bình thường.", labels=["service"]
        )
        states = dict(BusCircuit.objects.filter(service__in=list(registered)).values_list("service", "state"))
        for service in sorted(registered):
            circuit.add_metric([service], 1 if states.get(service) == BusCircuit.State.OPEN else 0)
        yield circuit

        info = GaugeMetricFamily(
            "cqs_bus_service_info",
            "Dịch vụ đăng ký trên trục: kết nối (connector) và trạng thái hoạt động (1: đang hoạt động).",
            labels=["service", "connector"],
        )
        for service, (_, active) in sorted(registered.items()):
            info.add_metric([service, connectors.get(service, "")], 1 if active else 0)
        yield info


def exposition() -> bytes:
    """The metrics page's body (a registry per scrape: nothing shared between requests)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BusCollector())
    return generate_latest(registry)


def _token_matches(request) -> bool:
    expected = settings.CQS.get("METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    if hmac.compare_digest(given.strip().encode(), expected.encode()):
        return True
    log.warning("metrics: refused a wrong bearer token")
    return False


def authorized(request) -> bool:
    from chinhquyenso.accounts.selectors import is_province_admin

    return _token_matches(request) or is_province_admin(getattr(request, "user", None))


@require_http_methods(["GET", "HEAD"])
def metrics_view(request):
    if not authorized(request):
        raise Http404
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
