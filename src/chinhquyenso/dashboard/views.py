"""The IOC dashboard pages. Thin: every figure comes from
dashboard.selectors, scoped by the signed-in user there."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.core import charts, params
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.text import format_number
from chinhquyenso.dashboard import selectors

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
        "period_error": period_error,
        # Links to agencies from one prefix: {% url %} in every row of ~150 agencies cost more than the rest.
        "agencies_url": reverse("dashboard:agency", args=["-"]).removesuffix("-/"),
        "period_choices": selectors.period_choices(),
        "ky": ctx.period.code,
        "breadcrumbs": ctx.breadcrumbs(),
        "others": ctx.others(),
        "whole": ctx.scope.whole_province,
    }


def _page(request, ctx, period_error: str):
    overdue = selectors.overdue_by_unit(ctx)
    ranking = selectors.ranking(ctx, request.GET.get("chi_so"))
    procedures = selectors.procedure_rows(ctx) if ctx.unit is not None else None
    show_all = request.GET.get("thu_tuc") == "tat-ca"
    received, rates = trend_charts(selectors.trend(ctx))
    return render(
        request,
        "dashboard/dashboard.html",
        {
            **_common(request, ctx, period_error),
            "tiles": selectors.tiles(ctx),
            "sections": selectors.sections(ctx),
            "received_chart": received,
            "rates_chart": rates,
            "units": selectors.unit_rows(ctx, overdue),
            "overdue_total": overdue[0].get(ctx.unit_id, 0) if ctx.unit else sum(overdue[1].values()),
            "procedures": procedures if show_all or procedures is None else procedures[:PROCEDURES_SHOWN],
            "procedures_count": len(procedures) if procedures is not None else 0,
            "ranking": ranking,
            "rank_choices": selectors.rank_choices(ctx.computation),
            "egov": selectors.egov(ctx),
            "compliance": selectors.compliance(ctx),
        },
    )


@dashboard_view
def home(request):
    """The province (administrator, auditor) or the leader's own agency."""
    ctx, period_error = _context(request)
    return _page(request, ctx, period_error)


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
def overdue(request, code):
    """Every overdue dossier of an agency (with its subordinates)."""
    ctx, period_error = _context(request, code)
    offset = _offset(request)
    rows, total = selectors.overdue_rows(ctx, offset=offset, limit=OVERDUE_PAGE)
    return render(
        request,
        "dashboard/overdue.html",
        {
            **_common(request, ctx, period_error),
            "procedure": None,
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
