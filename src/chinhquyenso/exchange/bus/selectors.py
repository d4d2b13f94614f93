"""Monitoring reads of the data bus (docs/data-bus.md, "Monitoring"): per service — and so per
connector — the calls and errors in a window, p50/p95 latency, the queue, dead letters and the
circuit. Read by the administrator's page (monitor_views), the dashboard tile and `/metrics`.

Everything is aggregated in SQL over the message log's (service, at) and (at) indexes and the
outbox's (state, next_attempt_at) index, so the cost follows the window, not the log's size.
Percentiles: PostgreSQL's `percentile_cont` in one grouped query; elsewhere (SQLite) the
interpolated value is read with ordered offsets per service over at most PERCENTILE_SAMPLE of the
service's latest calls in the window (bounded whatever the traffic; exact below it).

A call counts as an error when its outcome is not "ok" (refused at the bus, timeout, unreachable,
provider's 5xx, open circuit) or its HTTP status is 500 or more. Latency covers the calls that
reached a provider or a local handler: refusals and calls stopped by an open circuit are counted
as calls and errors but left out of p50/p95 (they take no time and would hide a slow provider).

Only registered services get a row of their own; calls to ids nobody registered (an unknown
service a client asked for) are summed into one row, UNKNOWN, so a client cannot make the page —
or the metrics' label set — grow without bound."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.text import format_number, format_ratio
from chinhquyenso.exchange.models import BusCircuit, BusLogEntry, BusService, Message

Outcome = BusLogEntry.Outcome

WINDOWS = {"1h": ("1 giờ qua", dt.timedelta(hours=1)), "24h": ("24 giờ qua", dt.timedelta(hours=24))}
DEFAULT_WINDOW = "1h"
# Outcomes whose duration is not a provider's latency.
NO_LATENCY = (Outcome.REFUSED, Outcome.CIRCUIT_OPEN)
# SQLite (and any database without percentile_cont): percentiles over at most this many of a
# service's latest calls in the window.
PERCENTILE_SAMPLE = 50_000
QUANTILES = (0.5, 0.95)
UNKNOWN = "(khác)"  # calls to services that are not in the registry, summed
UNKNOWN_NAME = "Dịch vụ không có trong danh mục"

# The connectors' names (exchange.connectors.SERVICES), as the administrator reads them.
CONNECTOR_NAMES = {
    "population": "CSDL quốc gia về dân cư",
    "national_portal": "Cổng Dịch vụ công quốc gia",
    "payment": "Nền tảng thanh toán trực tuyến",
    "civil_status": "CSDL hộ tịch điện tử (Bộ Tư pháp)",
    "residence": "Hệ thống quản lý cư trú (Bộ Công an)",
    "social_insurance": "Bảo hiểm xã hội Việt Nam",
    "edoc": "Trục liên thông văn bản quốc gia",
}

ERROR_CONDITION = ~Q(outcome=Outcome.OK) | Q(status__gte=500)


@dataclass
class ServiceStats:
    service: str  # the service's id, or UNKNOWN
    name: str
    connector: str = ""  # key of exchange.connectors.SERVICES, "" for a service of no connector
    active: bool = True
    calls: int = 0
    errors: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    queue_depth: int = 0  # bus messages for the service waiting to be sent (pending or retrying)
    dead_letters: int = 0  # given up; wait for a manual replay
    circuit: str = BusCircuit.State.CLOSED
    circuit_until: dt.datetime | None = None
    circuit_error: str = ""

    @property
    def connector_name(self) -> str:
        return CONNECTOR_NAMES.get(self.connector, self.connector)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    @property
    def error_rate_display(self) -> str:
        return format_ratio(self.errors, self.calls, 1)

    @property
    def p50_display(self) -> str:
        return _ms(self.p50_ms)

    @property
    def p95_display(self) -> str:
        return _ms(self.p95_ms)

    @property
    def circuit_label(self) -> str:
        return BusCircuit.State(self.circuit).label if self.circuit in BusCircuit.State.values else self.circuit

    @property
    def circuit_open(self) -> bool:
        return self.circuit == BusCircuit.State.OPEN

    @property
    def known(self) -> bool:
        return self.service != UNKNOWN


@dataclass
class Summary:
    """The dashboard tile: today's calls (local day), their error rate, open circuits, dead letters."""

    day: dt.date
    calls: int
    errors: int
    open_circuits: list[str]  # service names
    dead_letters: int
    queue_depth: int

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    @property
    def error_rate_display(self) -> str:
        return format_ratio(self.errors, self.calls, 1)


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{format_number(value, 0 if value >= 100 else 1)} ms"


def parse_window(value: str | None) -> str:
    """A window key of WINDOWS (the default for anything else)."""
    return value if value in WINDOWS else DEFAULT_WINDOW


def connectors_by_service() -> dict[str, str]:
    """Service id → connector name (exchange.connectors.SERVICES), empty when no connector is declared."""
    try:
        from chinhquyenso.exchange import connectors
    except ImportError:  # pragma: no cover - the connectors package is part of the app
        return {}
    out = {}
    for name in getattr(connectors, "SERVICES", {}):
        try:
            out[connectors.service_id(name)] = name
        except Exception:  # noqa: BLE001 - a connector declared wrongly must not break monitoring
            continue
    return out


def registered_services() -> dict[str, tuple[str, bool]]:
    """Service id → (name, active) for every registered service (one row each: the newest version)."""
    out: dict[str, tuple[str, bool]] = {}
    rows = BusService.objects.select_related("subsystem__member").order_by("-version")
    for service in rows:
        active = service.active and service.subsystem.active and service.subsystem.member.active
        out.setdefault(service.identifier, (service.name, active))
    return out


def _counts(since: dt.datetime, until: dt.datetime) -> dict[str, tuple[int, int]]:
    rows = (
        BusLogEntry.objects.filter(at__gt=since, at__lte=until)
        .values("service")
        .annotate(calls=Count("id"), errors=Count("id", filter=ERROR_CONDITION))
        .order_by()
    )
    return {r["service"]: (r["calls"], r["errors"]) for r in rows}


def _table() -> str:
    return connection.ops.quote_name(BusLogEntry._meta.db_table)


def _moment(value: dt.datetime):
    """A datetime as the database stores it (SQLite: naive UTC text), for raw SQL."""
    return connection.ops.adapt_datetimefield_value(value)


def percentiles_postgresql(since: dt.datetime, until: dt.datetime, services=None) -> dict[str, tuple[float, ...]]:
    """Service id → (p50, p95) in ms with PostgreSQL's percentile_cont (continuous, interpolated)."""
    selected = ", ".join(f"percentile_cont({q}) WITHIN GROUP (ORDER BY duration_ms)" for q in QUANTILES)
    where, args = (
        "at > %s AND at <= %s AND NOT (outcome = ANY(%s))",
        [_moment(since), _moment(until), [str(o) for o in NO_LATENCY]],
    )
    if services is not None:
        if not services:
            return {}
        where += " AND service = ANY(%s)"
        args.append(list(services))
    sql = f"SELECT service, {selected} FROM {_table()} WHERE {where} GROUP BY service"  # noqa: S608 - no input in it
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return {row[0]: tuple(float(v) for v in row[1:]) for row in cursor.fetchall()}


def percentiles_offset(
    since: dt.datetime, until: dt.datetime, services, *, sample: int = PERCENTILE_SAMPLE
) -> dict[str, tuple[float, ...]]:
    """Service id → (p50, p95) in ms, interpolated as percentile_cont does, over each service's
    latest `sample` calls in the window: one grouped count, then two rows read at an ordered
    offset per quantile and service that had calls."""
    services = list(services)
    if not services:
        return {}
    excluded = [str(o) for o in NO_LATENCY]
    window = [_moment(since), _moment(until), *excluded]
    outcomes = ", ".join(["%s"] * len(excluded))
    table = _table()
    counted = (
        f"SELECT service, COUNT(*) FROM {table} WHERE at > %s AND at <= %s AND outcome NOT IN ({outcomes}) "  # noqa: S608
        f"AND service IN ({', '.join(['%s'] * len(services))}) GROUP BY service"
    )
    latest = (
        f"SELECT duration_ms FROM {table} WHERE service = %s AND at > %s AND at <= %s "  # noqa: S608
        f"AND outcome NOT IN ({outcomes}) ORDER BY at DESC LIMIT %s"
    )
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(counted, [*window, *services])
        counts = dict(cursor.fetchall())
        for service in services:
            n = min(counts.get(service, 0), sample)
            if not n:
                continue
            values = []
            for q in QUANTILES:
                rank = q * (n - 1)
                low = math.floor(rank)
                cursor.execute(
                    f"SELECT duration_ms FROM ({latest}) AS w ORDER BY duration_ms LIMIT 2 OFFSET %s",  # noqa: S608
                    [service, *window, sample, low],
                )
                pair = [float(r[0]) for r in cursor.fetchall()]
                lower = pair[0]
                upper = pair[1] if len(pair) > 1 else lower
                values.append(lower + (upper - lower) * (rank - low))
            out[service] = tuple(values)
    return out


def percentiles(since: dt.datetime, until: dt.datetime, services) -> dict[str, tuple[float, ...]]:
    if connection.vendor == "postgresql":
        return percentiles_postgresql(since, until, services)
    return percentiles_offset(since, until, services)


def _outbox_counts() -> tuple[dict[str, int], dict[str, int]]:
    """(queue depth, dead letters) per service id, from the outbox's bus messages."""
    waiting = [Message.State.PENDING, Message.State.FAILED]
    rows = (
        Message.objects.filter(channel=Message.Channel.BUS, state__in=[*waiting, Message.State.DEAD])
        .values("recipient", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    queue: dict[str, int] = {}
    dead: dict[str, int] = {}
    for r in rows:
        target = dead if r["state"] == Message.State.DEAD else queue
        target[r["recipient"]] = target.get(r["recipient"], 0) + r["n"]
    return queue, dead


def service_stats(window: str | dt.timedelta = DEFAULT_WINDOW, *, now: dt.datetime | None = None) -> list[ServiceStats]:
    """One row per registered service (connector services first, then by name), and the UNKNOWN
    row when calls went to unregistered ids; the figures over `window` up to `now`."""
    now = now or timezone.now()
    span = WINDOWS[parse_window(window)][1] if isinstance(window, str) else window
    since = now - span
    services = registered_services()
    connectors = connectors_by_service()
    rows: dict[str, ServiceStats] = {
        sid: ServiceStats(service=sid, name=name, connector=connectors.get(sid, ""), active=active)
        for sid, (name, active) in services.items()
    }
    unknown = ServiceStats(service=UNKNOWN, name=UNKNOWN_NAME, active=False)

    def row(sid: str) -> ServiceStats:
        return rows.get(sid, unknown)

    for sid, (calls, errors) in _counts(since, now).items():
        target = row(sid)
        target.calls += calls
        target.errors += errors
    for sid, values in percentiles(since, now, [s for s in rows if rows[s].calls]).items():
        rows[sid].p50_ms, rows[sid].p95_ms = values
    queue, dead = _outbox_counts()
    for sid, n in queue.items():
        row(sid).queue_depth += n
    for sid, n in dead.items():
        row(sid).dead_letters += n
    for circuit in BusCircuit.objects.filter(service__in=list(rows)):
        target = rows[circuit.service]
        target.circuit, target.circuit_until, target.circuit_error = (
            circuit.state,
            circuit.open_until,
            circuit.last_error,
        )
    out = sorted(rows.values(), key=lambda s: (not s.connector, not s.active, s.name.casefold(), s.service))
    if unknown.calls or unknown.queue_depth or unknown.dead_letters:
        out.append(unknown)
    return out


def start_of_today(now: dt.datetime | None = None) -> dt.datetime:
    """Midnight of the local (Asia/Ho_Chi_Minh) day `now` falls in, as an aware datetime."""
    now = now or timezone.now()
    day = local_date(now)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def summary(*, now: dt.datetime | None = None) -> Summary:
    """Today's figures for the dashboard tile."""
    now = now or timezone.now()
    since = start_of_today(now)
    totals = BusLogEntry.objects.filter(at__gte=since, at__lte=now).aggregate(
        calls=Count("id"), errors=Count("id", filter=ERROR_CONDITION)
    )
    queue, dead = _outbox_counts()
    open_ids = list(BusCircuit.objects.filter(state=BusCircuit.State.OPEN).values_list("service", flat=True))
    services = registered_services() if open_ids else {}
    return Summary(
        day=local_date(now),
        calls=totals["calls"] or 0,
        errors=totals["errors"] or 0,
        open_circuits=sorted(services.get(sid, (sid, False))[0] for sid in open_ids),
        dead_letters=sum(dead.values()),
        queue_depth=sum(queue.values()),
    )


def may_view(user) -> bool:
    """The monitoring page and the metrics for a signed-in person: the province administrator and
    the province's auditors (figures only: no body, no personal data)."""
    from chinhquyenso.accounts.selectors import is_province_admin, sees_whole_province

    if not getattr(user, "pk", None) or getattr(user, "is_citizen", True):
        return False
    return is_province_admin(user) or sees_whole_province(user)


MONITOR_URL = "/can-bo/truc-lien-thong/giam-sat/"
# The dashboard tile's figures are at most this old (the monitoring page and /metrics read live).
SUMMARY_SECONDS = 30
SUMMARY_CACHE_KEY = "cqs:bus:dashboard-summary:v1"


def dashboard_tiles(user):
    """The dashboard's "Trục liên thông" section (core.registry.TileSection.live): today's calls,
    their error rate, services with an open circuit, dead letters — None for whoever may not see them."""
    from chinhquyenso.core.registry import LiveTile

    if not may_view(user):
        return None
    today = cache.get(SUMMARY_CACHE_KEY)
    if today is None or today.day != local_date(timezone.now()):
        today = summary()
        cache.set(SUMMARY_CACHE_KEY, today, SUMMARY_SECONDS)
    day = today.day.strftime("%d/%m/%Y")
    return [
        LiveTile(
            key="bus_calls_today",
            label="Cuộc gọi hôm nay",
            display=format_number(today.calls),
            detail=f"qua trục liên thông, ngày {day}",
            name="Số cuộc gọi qua trục liên thông từ 0 giờ hôm nay",
            link=MONITOR_URL,
        ),
        LiveTile(
            key="bus_error_rate_today",
            label="Tỷ lệ lỗi hôm nay",
            display=today.error_rate_display,
            detail=f"{format_number(today.errors)}/{format_number(today.calls)} cuộc gọi",
            name="Cuộc gọi bị từ chối, quá thời gian chờ, không kết nối được hoặc hệ thống cung cấp báo lỗi",
            link=MONITOR_URL,
            alert=bool(today.errors),
        ),
        LiveTile(
            key="bus_open_circuits",
            label="Dịch vụ đang tạm ngắt",
            display=format_number(len(today.open_circuits)),
            detail=", ".join(today.open_circuits) if today.open_circuits else "mọi dịch vụ bình thường",
            name="Dịch vụ lỗi liên tiếp nên trục tạm dừng gọi tới (cầu dao ngắt)",
            link=MONITOR_URL,
            alert=bool(today.open_circuits),
        ),
        LiveTile(
            key="bus_dead_letters",
            label="Lời gọi đã dừng thử lại",
            display=format_number(today.dead_letters),
            detail=f"{format_number(today.queue_depth)} lời gọi đang chờ gửi",
            name="Lời gọi không đồng bộ đã hết số lần thử hoặc bị từ chối hẳn, chờ quản trị tỉnh gửi lại",
            link=MONITOR_URL,
            alert=bool(today.dead_letters),
        ),
    ]
