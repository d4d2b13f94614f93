"""The IOC dashboard as JSON: the same figures as the pages (tiles, the
sections apps register, the 12-month trend, agencies below, procedures, ranking, overdue dossiers,
e-government completion, reporting compliance), with the same scoping
(dashboard.selectors). Errors are {detail, field, code}."""

from __future__ import annotations

from ninja import Query, Router, Schema
from pydantic import Field

from chinhquyenso.accounts.api import AUTH
from chinhquyenso.core.params import Limit, Offset
from chinhquyenso.dashboard import selectors

router = Router(auth=AUTH)


class ViewQuery(Schema):
    period: str = Field(
        "", max_length=40, description="2025-M03, 2025-Q1, 2025-H1, 2025-9M, 2025; mặc định quý hiện tại"
    )
    agency: str = Field("", max_length=60, description="mã cơ quan; mặc định toàn tỉnh, hoặc cơ quan của lãnh đạo")


class RankingQuery(ViewQuery):
    indicator: str = Field("", max_length=60, description="mã chỉ tiêu xếp hạng, hoặc index766")


class OverdueQuery(ViewQuery):
    procedure: str = Field("", max_length=40, description="mã thủ tục")
    offset: Offset = 0
    limit: Limit(200) = 50


def _context(request, query: ViewQuery) -> selectors.Context:
    return selectors.context(request.auth, query.period, query.agency or None)


def _value(value) -> dict | None:
    return value.as_dict() if value is not None else None


def _period(period) -> dict:
    return {
        "code": period.code,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def _unit(unit) -> dict | None:
    if unit is None:
        return None
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "level": unit.level,
        "has_subordinates": bool(unit.children),
    }


def _head(ctx: selectors.Context) -> dict:
    comparison = ctx.comparison
    return {
        "period": _period(ctx.period),
        # What the previous figures cover: the whole previous period, or (the period not over yet) its first
        # working days, as many as have elapsed of this one (selectors.Comparison).
        "previous_period": _period(ctx.previous_period),
        "comparison": {"label": comparison.label, "elapsed_working_days": comparison.elapsed},
        "agency": _unit(ctx.unit),
    }


def _tile_data(tile) -> dict:
    change = tile.change
    return {
        "key": tile.key,
        "label": tile.label,
        "name": tile.name,
        "display": tile.display,
        "detail": tile.detail,
        "previous_display": tile.previous_display,
        "value": _value(tile.current),
        "previous": _value(tile.previous),
        "change": None
        if change is None
        else {
            "difference": float(change.difference),
            "unit": change.unit,
            "direction": change.direction,
            "better": change.better,
            "text": change.text,
        },
    }


def tiles_data(ctx) -> list[dict]:
    return [_tile_data(tile) for tile in selectors.tiles(ctx)]


def sections_data(ctx) -> list[dict]:
    """Every section registered in core.registry.DASHBOARD_TILES."""
    return [
        {"key": s.key, "title": s.title, "tiles": [_tile_data(tile) for tile in s.tiles]}
        for s in selectors.sections(ctx)
    ]


def _with_sections(ctx) -> dict:
    """`sections`, and `feedback_tiles` (the "feedback" section's tiles, [] without
    it) for the clients written when the page had a fixed feedback section."""
    sections = sections_data(ctx)
    feedback = next((s["tiles"] for s in sections if s["key"] == "feedback"), [])
    return {"sections": sections, "feedback_tiles": feedback}


def trend_data(ctx) -> dict:
    trend = selectors.trend(ctx)
    return {
        "months": [f"{y}-{m:02d}" for y, m in trend.months],
        "received": {"online": trend.online, "counter": trend.counter, "post": trend.post, "total": trend.received},
        "online_rate": [_value(v) for v in trend.online_rate],
        "on_time_rate": [_value(v) for v in trend.on_time_rate],
    }


def agencies_data(ctx) -> list[dict]:
    return [
        {
            "agency": _unit(r.unit),
            "alone": r.alone,
            "overdue": r.overdue,
            "values": {code: _value(v) for code, v in r.values.items()},
        }
        for r in selectors.unit_rows(ctx, selectors.overdue_by_unit(ctx))
    ]


def procedures_data(ctx) -> list[dict]:
    return [
        {
            "code": r.procedure.code,
            "name": r.procedure.name,
            "received": r.received,
            "late": r.late,
            "overdue": r.overdue,
            "values": {code: _value(v) for code, v in r.values.items()},
        }
        for r in selectors.procedure_rows(ctx)
    ]


def ranking_data(ctx, indicator: str) -> dict:
    ranking = selectors.ranking(ctx, indicator)
    position = ranking.position
    return {
        "indicator": ranking.code,
        "name": ranking.name,
        "higher_is_better": ranking.higher_is_better,
        "groups": [
            {
                "level": g.level,
                "label": g.label,
                "rows": [
                    {
                        "rank": r.rank,
                        "agency": _unit(r.unit),
                        "display": r.display,
                        "detail": r.detail,
                        "value": _value(r.value),
                    }
                    for r in g.rows
                ],
                "missing": [_unit(u) for u in g.missing],
            }
            for g in ranking.groups
        ],
        "position": None
        if position is None
        else {"agency": _unit(position.unit), "rank": position.rank, "of": position.of, "among": position.label},
    }


def egov_data(ctx) -> dict:
    result = selectors.egov(ctx)
    return {
        "period": _period(result.period),
        "criteria": [{"code": c.code, "name": c.name, "threshold": text} for c, text in result.criteria_rows],
        "levels": [
            {
                "level": level.level,
                "label": level.label,
                "complete": level.complete,
                "assessed": len(level.agencies),
                "rate": _value(level.rate),
                "agencies": [
                    {
                        "agency": _unit(a.unit),
                        "complete": a.complete,
                        "criteria": [
                            {"code": r.criterion.code, "meets": r.meets, "gap": r.gap, "value": _value(r.value)}
                            for r in a.results
                        ],
                    }
                    for a in level.agencies
                ],
            }
            for level in result.levels
        ],
    }


def compliance_data(ctx) -> dict:
    rows = selectors.compliance(ctx)
    if rows is None:
        return {"available": False, "forms": []}
    return {
        "available": True,
        "forms": [
            {
                "form": c.form_code,
                "name": c.form_name,
                "period": {"code": c.period_code, "label": c.period_label},
                "expected": c.expected,
                "reported": c.reported,
                "on_time": c.on_time,
                "reporting_rate": c.reporting_rate_text,
                "on_time_rate": c.on_time_rate_text,
                "missing": [
                    {"code": m.agency_code, "name": m.agency_name, "status": m.status_label} for m in c.missing
                ],
            }
            for c in rows
        ],
    }


@router.get("", summary="Toàn bộ số liệu trang Điều hành (toàn tỉnh, hoặc một cơ quan)")
def dashboard(request, query: Query[RankingQuery]):
    ctx = _context(request, query)
    return {
        **_head(ctx),
        "tiles": tiles_data(ctx),
        **_with_sections(ctx),
        "trend": trend_data(ctx),
        "agencies": agencies_data(ctx),
        "procedures": procedures_data(ctx) if ctx.unit is not None else None,
        "ranking": ranking_data(ctx, query.indicator),
        "egov_completion": egov_data(ctx),
        "compliance": compliance_data(ctx),
    }


@router.get("tiles", summary="Chỉ số chính, các nhóm chỉ số khác và mức tăng, giảm so với kỳ trước")
def tiles(request, query: Query[ViewQuery]):
    ctx = _context(request, query)
    return {**_head(ctx), "tiles": tiles_data(ctx), **_with_sections(ctx)}


@router.get("trend", summary="Diễn biến 12 tháng: hồ sơ theo hình thức nộp, tỷ lệ trực tuyến, tỷ lệ đúng hạn")
def trend(request, query: Query[ViewQuery]):
    ctx = _context(request, query)
    return {**_head(ctx), **trend_data(ctx)}


@router.get("agencies", summary="Các cơ quan trực thuộc (bậc dưới của cây cơ quan) và số hồ sơ đang quá hạn")
def agencies(request, query: Query[ViewQuery]):
    ctx = _context(request, query)
    return {**_head(ctx), "agencies": agencies_data(ctx)}


@router.get("procedures", summary="Số liệu theo thủ tục của một cơ quan (gồm cơ quan trực thuộc)")
def procedures(request, query: Query[ViewQuery]):
    ctx = _context(request, query)
    return {**_head(ctx), "procedures": procedures_data(ctx)}


@router.get("ranking", summary="Xếp hạng cơ quan cùng cấp theo một chỉ tiêu")
def ranking(request, query: Query[RankingQuery]):
    ctx = _context(request, query)
    return {**_head(ctx), **ranking_data(ctx, query.indicator)}


@router.get("overdue", summary="Hồ sơ đang giải quyết đã quá hạn (của cơ quan, của thủ tục)")
def overdue(request, query: Query[OverdueQuery]):
    ctx = _context(request, query)
    procedure = selectors.get_procedure(query.procedure) if query.procedure else None
    rows, total = selectors.overdue_rows(
        ctx, procedure.pk if procedure else None, offset=query.offset, limit=query.limit
    )
    return {
        **_head(ctx),
        "total": total,
        "offset": query.offset,
        "dossiers": [
            {
                "code": r.dossier.code,
                "procedure_code": r.dossier.procedure.code,
                "procedure_name": r.dossier.procedure.name,
                "receiving_agency": r.dossier.receiving_agency.code,
                "accepted_at": r.dossier.accepted_at,
                "due_at": r.dossier.due_at,
                "working_days_overdue": r.days,
            }
            for r in rows
        ],
    }


@router.get("egov-completion", summary="Hoàn thiện chính quyền điện tử theo cơ quan (tháng cuối kỳ)")
def egov_completion(request, query: Query[ViewQuery]):
    ctx = _context(request, query)
    return {**_head(ctx), **egov_data(ctx)}


@router.get("compliance", summary="Chấp hành chế độ báo cáo số liệu (LRIS), khi có phân hệ LRIS")
def compliance(request, query: Query[ViewQuery]):
    ctx = _context(request, query)
    return {**_head(ctx), **compliance_data(ctx)}
