"""Surveillance pages for officers (/can-bo/sau-benh/): the densities of an area and period with the
map of communes, an organism's weekly trend, and the alerts (the rule, the data behind it,
acknowledge and close). Plant-protection officers with the grant see every area; commune officers
their communes (selectors.densities.visible_communes). Thin: reads through the selectors, writes
through services.alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.selectors import is_read_only
from chinhquyenso.core import charts, maps, params
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.text import format_number
from chinhquyenso.pests.models import Alert, Organism
from chinhquyenso.pests.selectors import alerts as alert_selectors
from chinhquyenso.pests.selectors import densities as selectors
from chinhquyenso.pests.services import alerts as alert_services

MAX_DAYS = 400
DEFAULT_DAYS = 7
WEEKS = 12
ALERTS_PAGE = 50

readers = officer_required(
    allowed=selectors.sees_surveillance,
    reason="Trang này dành cho cán bộ bảo vệ thực vật và cán bộ xã theo dõi sinh vật gây hại.",
)


def _period(request) -> tuple[dt.date, dt.date]:
    """?tu=&den= (YYYY-MM-DD): by default the seven nights up to last night."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    end = params.date(request.GET.get("den"), "den", default=yesterday)
    start = params.date(request.GET.get("tu"), "tu", default=end - dt.timedelta(days=DEFAULT_DAYS - 1))
    if end < start:
        raise DomainError("Ngày cuối kỳ phải từ ngày đầu kỳ trở về sau.", "den")
    if (end - start).days + 1 > MAX_DAYS:
        raise DomainError(f"Kỳ dài tối đa {MAX_DAYS} ngày.", "den")
    return start, end


def _area(request, end: dt.date, areas: list):
    code = request.GET.get("dia-ban", "")[:60].strip()
    if not code:
        if not areas:
            raise NotFound("Bạn chưa được giao địa bàn nào.")
        return areas[0]
    area = selectors.resolve_area(code, at=end, field="dia-ban")
    selectors.require_area(request.user, area)
    return area


def _organism(request) -> Organism | None:
    code = request.GET.get("sinh-vat", "")[:40].strip()
    if not code:
        return None
    organism = Organism.objects.filter(code=code).first()
    if organism is None:
        raise DomainError("Không có sinh vật này trong danh mục.", "sinh-vat")
    return organism


def _number(value, decimals: int = 2) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    return format_number(value, 0 if value == value.to_integral() else decimals)


def _map(rows, area_code_url) -> dict | None:
    """The communes' points (GeoJSON) with their level as `kind`; None when none has a point."""
    placed = [r for r in rows if r.latitude is not None]
    if not placed:
        return None
    lats = [float(r.latitude) for r in placed]
    lons = [float(r.longitude) for r in placed]
    pad = 0.05
    features = []
    for r in placed:
        parts = [r.level_label]
        if r.trap_value is not None:
            parts.append(f"{_number(r.trap_value)} con/bẫy/đêm")
        if r.density is not None:
            parts.append(f"{_number(r.density)} con/m²")
        if r.infestation is not None:
            parts.append(f"{_number(r.infestation)}% hại")
        parts.append(f"{r.trap_nights} đêm-bẫy, {r.surveys} phiếu điều tra")
        features.append(
            maps.feature(
                r.latitude,
                r.longitude,
                label=f"{r.commune.name}: {r.level_label}",
                text="; ".join(parts[1:]),
                url=area_code_url(r.commune.code),
                link=f"Xem {r.commune.name}",
                kind=r.kind,
            )
        )
    base = None
    if not maps.tiles()["url"]:
        base = maps.collection(
            maps.feature(r.latitude, r.longitude, code=r.commune.code, name=r.commune.name) for r in placed
        )
    return {
        "points": maps.collection(features),
        "base": base,
        "bounds": (min(lats) - pad, max(lats) + pad, min(lons) - pad, max(lons) + pad),
    }


@readers
def overview(request):
    start, end = _period(request)
    areas = selectors.areas_for(request.user, end)
    area = _area(request, end, areas)
    organism = _organism(request)
    rows = selectors.densities(area=area, start=start, end=end, user=request.user, organism=organism)
    communes = selectors.by_commune(area=area, start=start, end=end, user=request.user, organism=organism)
    enemies = selectors.natural_enemy_ratio(area=area, start=start, end=end, user=request.user)
    base = reverse("pests:overview")

    def commune_url(code: str) -> str:
        query = f"?dia-ban={code}&tu={start.isoformat()}&den={end.isoformat()}"
        return base + query + (f"&sinh-vat={organism.code}" if organism else "")

    if area not in areas:
        areas = [area, *areas]
    return render(
        request,
        "pests/surveillance/overview.html",
        {
            "area": area,
            "level": selectors.LEVEL_NAMES[selectors.area_of(area).level],
            "areas": areas,
            "start": start,
            "end": end,
            "organism": organism,
            "organisms": Organism.objects.filter(active=True).order_by("name"),
            "traps": [d for d in rows if d.source == "trap"],
            "surveys": [d for d in rows if d.source == "survey"],
            "enemies": enemies,
            "communes": communes,
            "map": _map(communes, commune_url),
            "open_alerts": alert_selectors.open_count(request.user),
        },
    )


def _chart(chart_id: str, title: str, description: str, weeks, now_values, past_values):
    values = [float(v) for v in now_values + past_values if v is not None]
    if not values:
        return None
    top, _ = charts.nice_scale(max(values))
    categories = [
        charts.Category(label=w.start.strftime("%d/%m"), full=f"tuần {w.start:%d/%m} – {w.end:%d/%m/%Y}") for w in weeks
    ]
    series = [
        charts.Series("Kỳ này", list(now_values), "#8c0c0c", displays=[_number(v) for v in now_values]),
        charts.Series(
            "Cùng kỳ vụ trước",
            list(past_values),
            "#0b4f9c",
            dashed=True,
            marker="square",
            displays=[_number(v) for v in past_values],
        ),
    ]
    return charts.lines(
        chart_id=chart_id,
        title=title,
        description=description,
        categories=categories,
        series=series,
        top=top,
        suffix="",
    )


@readers
def trend(request, code: str):
    organism = Organism.objects.filter(code=code).first()
    if organism is None:
        raise NotFound("Không có sinh vật này trong danh mục.")
    _, end = _period(request)
    areas = selectors.areas_for(request.user, end)
    area = _area(request, end, areas)
    weeks = selectors.weekly(area=area, organism=organism, end=end, weeks=WEEKS, user=request.user)
    trap = _chart(
        "xu-huong-bay",
        f"{organism.name} vào bẫy đèn (con/bẫy/đêm), {WEEKS} tuần đến {end:%d/%m/%Y}",
        f"Mật độ trung bình mỗi tuần tại {area.name}, so với cùng kỳ vụ trước.",
        weeks,
        [w.trap_value for w in weeks],
        [w.season_trap_value for w in weeks],
    )
    survey = _chart(
        "xu-huong-dieu-tra",
        f"{organism.name} trên đồng ruộng (con/m²), {WEEKS} tuần đến {end:%d/%m/%Y}",
        f"Mật độ trung bình các phiếu điều tra mỗi tuần tại {area.name}, so với cùng kỳ vụ trước.",
        weeks,
        [w.density for w in weeks],
        [w.season_density for w in weeks],
    )
    return render(
        request,
        "pests/surveillance/trend.html",
        {
            "organism": organism,
            "area": area,
            "areas": areas if area in areas else [area, *areas],
            "end": end,
            "weeks": weeks,
            "charts": [c for c in (trap, survey) if c is not None],
            "weeks_count": WEEKS,
        },
    )


@readers
def alert_list(request):
    status = request.GET.get("trang-thai", "chua-ket-thuc")
    if status not in alert_selectors.STATUS_FILTERS:
        status = "chua-ket-thuc"
    offset = params.offset(request.GET.get("tu"), "tu")
    rows = list(alert_selectors.alert_list(request.user, status=status)[offset : offset + ALERTS_PAGE + 1])
    return render(
        request,
        "pests/surveillance/alerts.html",
        {
            "alerts": rows[:ALERTS_PAGE],
            "status": status,
            "tabs": {
                "chua-ket-thuc": "Chưa kết thúc",
                "dang-canh-bao": "Chưa tiếp nhận",
                "da-tiep-nhan": "Đã tiếp nhận",
                "da-ket-thuc": "Đã kết thúc",
                "tat-ca": "Tất cả",
            },
            "next_offset": offset + ALERTS_PAGE if len(rows) > ALERTS_PAGE else None,
            "prev_offset": max(0, offset - ALERTS_PAGE) if offset else None,
        },
    )


@readers
def alert_detail(request, pk: int):
    alert = alert_selectors.get_alert(request.user, pk)
    may_act = not is_read_only(request.user) and alert_services.may_handle(request.user, alert)
    return render(
        request,
        "pests/surveillance/alert.html",
        {
            "alert": alert,
            "evidence": alert_selectors.evidence_of(alert),
            "may_acknowledge": may_act and alert.status == Alert.Status.OPEN,
            "may_close": may_act and alert.status != Alert.Status.CLOSED,
        },
    )


@readers
@require_POST
def acknowledge(request, pk: int):
    alert = alert_selectors.get_alert(request.user, pk)
    alert_services.acknowledge(alert, actor=request.user)
    messages.success(request, "Đã tiếp nhận cảnh báo.")
    return redirect("pests:alert", pk=pk)


@readers
@require_POST
def close(request, pk: int):
    alert = alert_selectors.get_alert(request.user, pk)
    alert_services.close(alert, actor=request.user)
    messages.success(request, "Đã kết thúc cảnh báo.")
    return redirect("pests:alert", pk=pk)


officer_urls = [
    path("giam-sat/", overview, name="overview"),
    path("giam-sat/xu-huong/<slug:code>/", trend, name="trend"),
    path("canh-bao/", alert_list, name="alerts"),
    path("canh-bao/<int:pk>/", alert_detail, name="alert"),
    path("canh-bao/<int:pk>/tiep-nhan/", acknowledge, name="alert_acknowledge"),
    path("canh-bao/<int:pk>/ket-thuc/", close, name="alert_close"),
]
public_urls: list = []
