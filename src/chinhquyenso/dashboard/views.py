"""The IOC dashboard pages. Thin: every figure comes from
dashboard.selectors, scoped by the signed-in user there."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.core import charts, params
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.text import format_number
from chinhquyenso.dashboard import maps, selectors, urgent

OVERDUE_PAGE = 50
PROCEDURES_SHOWN = 30


# Signed-in users only (others go to the login page); officers who may not see the dashboard get the
# Vietnamese 403 page, agencies out of scope the 404 page (core.middleware.DomainErrorPages).
dashboard_view = officer_required(allowed=selectors.can_view, reason=selectors.FORBIDDEN)


def _context(request, agency_code=None):
    """The selectors' context for ?ky=; an unreadable period falls back to the
    default one with the reason shown."""
    try:
        return selectors.context(request.user, request.GET.get("ky"), agency_code), ""
    except DomainError as error:
        if error.field != "period" or isinstance(error, (PermissionDenied, NotFound)):
            raise
        return selectors.context(request.user, None, agency_code), error.message


def _common(request, ctx, period_error: str) -> dict:
    return {
        "ctx": ctx,
        "period": ctx.period,
        "previous_period": ctx.previous_period,
        "comparison": ctx.comparison,
        "period_error": period_error,
        # Links to agencies from one prefix: {% url %} in every row of ~150 agencies cost more than the rest.
        "agencies_url": reverse("dashboard:agency", args=["-"]).removesuffix("-/"),
        "period_choices": selectors.period_choices(),
        "ky": ctx.period.code,
        "breadcrumbs": ctx.breadcrumbs(),
        "others": ctx.others(),
        "whole": ctx.scope.whole_province,
    }


WALL = "trinh-chieu"
WALL_REFRESH_SECONDS = 60


def _sort_links(ctx, key: str, direction: str) -> list[dict]:
    """The agencies' table headers: a link per column that sorts by it (again: the other way)."""
    out = []
    for column, (label, _) in selectors.UNIT_SORTS.items():
        current = column == key
        if current:
            following = "tang" if direction == "giam" else "giam"
        else:
            following = "tang" if column == "ten" else "giam"
        out.append(
            {
                "key": column,
                "label": label,
                "href": f"?ky={ctx.period.code}&sap_xep={column}&chieu={following}#theo-co-quan",
                "aria_sort": ("ascending" if direction == "tang" else "descending") if current else "",
                "arrow": ("▲" if direction == "tang" else "▼") if current else "",
                "next": "tăng dần" if following == "tang" else "giảm dần",
            }
        )
    return out


def _page(request, ctx, period_error: str):
    if request.GET.get("che-do") == WALL:
        return _wall(request, ctx, period_error)
    overdue = selectors.overdue_by_unit(ctx)
    ranking = selectors.ranking(ctx, request.GET.get("chi_so"), show_all=request.GET.get("xep_hang") == "tat-ca")
    procedures = selectors.procedure_rows(ctx) if ctx.unit is not None else None
    show_all = request.GET.get("thu_tuc") == "tat-ca"
    trend = selectors.trend(ctx)
    received, rates = trend_charts(trend)
    key, direction = selectors.read_unit_sort(request.GET.get("sap_xep"), request.GET.get("chieu"))
    units = selectors.sort_units(selectors.unit_rows(ctx, overdue), key, direction)
    all_units = request.GET.get("co_quan") == "tat-ca"
    return render(
        request,
        "dashboard/dashboard.html",
        {
            **_common(request, ctx, period_error),
            "urgent": urgent.urgent(ctx),
            "tiles": selectors.tiles(ctx),
            "sections": selectors.sections(ctx),
            "received_chart": received,
            "rates_chart": rates,
            "distribution_charts": distribution_charts(ctx, trend),
            "map": maps.choropleth(ctx),
            "units": units if all_units else units[: selectors.UNITS_SHOWN],
            "units_count": len(units),
            "unit_sorts": _sort_links(ctx, key, direction),
            "unit_sort_query": ""
            if (key, direction) == selectors.DEFAULT_UNIT_SORT
            else f"&sap_xep={key}&chieu={direction}",
            "overdue_total": overdue[0].get(ctx.unit_id, 0) if ctx.unit else sum(overdue[1].values()),
            "procedures": procedures if show_all or procedures is None else procedures[:PROCEDURES_SHOWN],
            "procedures_count": len(procedures) if procedures is not None else 0,
            "ranking": ranking,
            "rank_choices": selectors.rank_choices(ctx.computation),
            "egov": selectors.egov(ctx),
            "compliance": selectors.compliance(ctx),
        },
    )


def _wall(request, ctx, period_error: str):
    """The operations centre's wall display: urgent counts, the map and the
    key tiles on one 1920×1080 screen, dark, reloaded by the browser every
    minute without script. The reload is the HTTP Refresh header (what
    <meta http-equiv="refresh"> does, which axe-core rejects under 20 hours:
    WCAG 2.2.1), with a link on the page that turns it off (?tu-lam-moi=tat)."""
    refresh = request.GET.get("tu-lam-moi") != "tat"
    response = render(
        request,
        "dashboard/wall.html",
        {
            **_common(request, ctx, period_error),
            "urgent": urgent.urgent(ctx, shown=4),
            "tiles": selectors.tiles(ctx),
            "map": maps.choropleth(ctx, chart_id="ban-do-trinh-chieu"),
            "refresh": WALL_REFRESH_SECONDS if refresh else None,
            "now": timezone.now(),
            "exit_url": request.path if request.path != reverse("dashboard:wall") else reverse("dashboard:home"),
            "wall_query": "&che-do=trinh-chieu" if request.path != reverse("dashboard:wall") else "",
        },
    )
    if refresh:
        response["Refresh"] = str(WALL_REFRESH_SECONDS)
    return response


@dashboard_view
def home(request):
    """The province (administrator, auditor) or the leader's own agency."""
    ctx, period_error = _context(request)
    return _page(request, ctx, period_error)


@dashboard_view
def wall(request):
    """/dieu-hanh/trinh-chieu/: the province's (or the leader's agency's) wall display."""
    ctx, period_error = _context(request)
    return _wall(request, ctx, period_error)


@dashboard_view
def agency(request, code):
    ctx, period_error = _context(request, code)
    return _page(request, ctx, period_error)


def _offset(request) -> int:
    return params.offset(request.GET.get("tu"), "tu")


@dashboard_view
def procedure(request, code, procedure_code):
    """One procedure of an agency: its figures and its overdue dossiers."""
    ctx, period_error = _context(request, code)
    found = selectors.get_procedure(procedure_code)
    rows = selectors.procedure_rows(ctx, procedure_id=found.pk)
    offset = _offset(request)
    overdue, total = selectors.overdue_rows(ctx, found.pk, offset=offset, limit=OVERDUE_PAGE)
    return render(
        request,
        "dashboard/overdue.html",
        {
            **_common(request, ctx, period_error),
            "procedure": found,
            "row": rows[0] if rows else None,
            "overdue": overdue,
            "total": total,
            "offset": offset,
            **_pages(offset, total),
        },
    )


@dashboard_view
def overdue(request, code=None):
    """Every overdue dossier of an agency (with its subordinates), or of the
    province; ?loai=sap-den-han: those due soon (dashboard.urgent)."""
    ctx, period_error = _context(request, code)
    offset = _offset(request)
    due_soon = request.GET.get("loai") == urgent.DUE_SOON
    rows, total = selectors.overdue_rows(ctx, offset=offset, limit=OVERDUE_PAGE, due_soon=due_soon)
    return render(
        request,
        "dashboard/overdue.html",
        {
            **_common(request, ctx, period_error),
            "procedure": None,
            "due_soon": due_soon,
            "due_soon_days": urgent.due_soon_days(),
            "kind_query": f"&loai={urgent.DUE_SOON}" if due_soon else "",
            "overdue": rows,
            "total": total,
            "offset": offset,
            **_pages(offset, total),
        },
    )


def _pages(offset: int, total: int) -> dict:
    return {
        "next_offset": offset + OVERDUE_PAGE if offset + OVERDUE_PAGE < total else None,
        "prev_offset": max(0, offset - OVERDUE_PAGE) if offset else None,
    }


# ---------------------------------------------------------------- charts

ONLINE, COUNTER, POST = "#0b4f9c", "#b35900", "#2e7d32"
RATE_ONLINE, RATE_ON_TIME = "#0b4f9c", "#8c0c0c"


def trend_charts(trend: selectors.Trend) -> tuple[charts.Chart, charts.Chart]:
    categories = [
        charts.Category(label=f"T{m}", sub=str(y) if (i == 0 or m == 1) else "", full=f"tháng {m:02d}/{y}")
        for i, (y, m) in enumerate(trend.months)
    ]
    span = f"từ {categories[0].full} đến {categories[-1].full}"
    total, online = sum(trend.received), sum(trend.online)
    received = charts.bars(
        chart_id="bieu-do-tiep-nhan",
        title="Hồ sơ tiếp nhận theo tháng, theo hình thức nộp",
        description=f"Biểu đồ cột chồng, {span}: tổng {format_number(total)} hồ sơ, trong đó trực tuyến "
        f"{format_number(online)}, trực tiếp {format_number(sum(trend.counter))}, "
        f"qua bưu chính {format_number(sum(trend.post))}. Số liệu từng tháng ở bảng sau biểu đồ.",
        categories=categories,
        series=[
            charts.Series("Trực tuyến", trend.online, ONLINE),
            charts.Series("Trực tiếp", trend.counter, COUNTER),
            charts.Series("Qua bưu chính", trend.post, POST),
        ],
    )

    def rate_series(name, values, color, **kw):
        return charts.Series(
            name,
            [v.rounded if v is not None and v.value is not None else None for v in values],
            color,
            displays=[v.display if v is not None else "—" for v in values],
            **kw,
        )

    def last_known(values) -> str:
        known = [(c, v) for c, v in zip(categories, values) if v is not None and v.value is not None]
        return f"{known[-1][1].display} ({known[-1][0].full})" if known else "chưa có số liệu"

    rates = charts.lines(
        chart_id="bieu-do-ty-le",
        title="Tỷ lệ nộp trực tuyến và tỷ lệ giải quyết đúng hạn theo tháng",
        description=f"Biểu đồ đường, {span}. Tháng gần nhất có số liệu: nộp trực tuyến {last_known(trend.online_rate)}; "
        f"giải quyết đúng hạn {last_known(trend.on_time_rate)}. Số liệu từng tháng ở bảng sau biểu đồ.",
        categories=categories,
        series=[
            rate_series("Nộp trực tuyến", trend.online_rate, RATE_ONLINE),
            rate_series("Giải quyết đúng hạn", trend.on_time_rate, RATE_ON_TIME, dashed=True, marker="square"),
        ],
    )
    return received, rates


DISTRIBUTION = "#0b4f9c"


def _distribution(chart_id: str, title: str, description: str, rows: list[tuple[str, int]], head: str):
    categories = [charts.Category(label=_short(label), full=label) for label, _ in rows]
    chart = charts.bars(
        chart_id=chart_id,
        title=title,
        description=description,
        categories=categories,
        series=[charts.Series("Số lượng", [n for _, n in rows], DISTRIBUTION)],
        stacked=False,
    )
    chart.head = head
    return chart


def _short(label: str) -> str:
    """An axis label short enough for 360 px: the first two words."""
    words = label.replace(",", "").split()
    return " ".join(words[:2])


def distribution_charts(ctx, trend: selectors.Trend) -> list:
    """Dossiers received by channel (the period's months of the trend),
    open dossiers by status (now), agencies by on-time rate (a histogram)."""
    months = {(p.start.year, p.start.month) for p in ctx.period.months()}
    picked = [i for i, key in enumerate(trend.months) if key in months]
    channels = [
        ("Trực tuyến", sum(trend.online[i] for i in picked)),
        ("Trực tiếp", sum(trend.counter[i] for i in picked)),
        ("Bưu chính", sum(trend.post[i] for i in picked)),
    ]
    statuses = selectors.open_by_status(ctx)
    bins, left_out = selectors.on_time_histogram(ctx)

    def listed(rows, noun):
        return "; ".join(f"{label}: {format_number(n)} {noun}" for label, n in rows)

    out = [
        _distribution(
            "phan-bo-hinh-thuc",
            "Hồ sơ tiếp nhận theo hình thức nộp",
            f"Biểu đồ cột, {ctx.period.label}: {listed(channels, 'hồ sơ')}.",
            channels,
            "Hình thức",
        ),
        _distribution(
            "phan-bo-trang-thai",
            "Hồ sơ đang mở theo trạng thái (hiện tại)",
            f"Biểu đồ cột: {listed(statuses, 'hồ sơ')}.",
            statuses,
            "Trạng thái",
        ),
        _distribution(
            "phan-bo-dung-han",
            "Số cơ quan theo tỷ lệ giải quyết đúng hạn",
            f"Biểu đồ cột, {ctx.period.label}: {listed(bins, 'cơ quan')}"
            + (f"; {format_number(left_out)} cơ quan chưa đủ số hồ sơ, không tính." if left_out else "."),
            bins,
            "Tỷ lệ đúng hạn",
        ),
    ]
    return out
