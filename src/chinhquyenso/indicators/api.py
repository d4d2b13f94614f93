"""Indicator values, the 766 index, e-government completion and DX targets as
JSON — the same figures as `cqs kpi` / `cqs index766`. Aggregates only, for
officers, auditors and the province (no personal data); citizens get 403."""

from ninja import Query, Router, Schema
from pydantic import Field

from chinhquyenso.accounts.api import AUTH
from chinhquyenso.core.errors import NotFound, PermissionDenied
from chinhquyenso.core.params import EARLIEST_DATE, LATEST_DATE
from chinhquyenso.indicators import assessments, selectors
from chinhquyenso.indicators.models import Indicator
from chinhquyenso.indicators.periods import parse_period

router = Router(auth=AUTH)


class PeriodQuery(Schema):
    period: str = Field(max_length=40)
    agency: str = Field("", max_length=60)
    with_subordinates: bool = Field(
        False, description="Với agency: tính cả các cơ quan cấp dưới. Mặc định: chỉ riêng cơ quan đó."
    )


def _officer(request):
    if getattr(request.auth, "is_citizen", False):
        raise PermissionDenied("Số liệu chỉ tiêu dành cho cán bộ, công chức.")


def _computation(query: PeriodQuery, codes=None):
    """The period, its computation and what the figures cover: the agency
    alone, or with its subordinates when asked (as `cqs kpi`)."""
    period = parse_period(query.period)
    computation = selectors.compute(period, codes=codes)
    scope = selectors.scope_of(computation, query.agency, with_subordinates=query.with_subordinates)
    if scope is None:
        raise NotFound(f"Không có cơ quan mã «{query.agency}» trong kỳ {period.label}.", field="agency")
    return period, computation, scope


def _period_dict(period) -> dict:
    return {
        "code": period.code,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


@router.get("", summary="Danh mục chỉ tiêu và công thức đang áp dụng")
def registry(request):
    _officer(request)
    rows = Indicator.objects.filter(is_active=True).prefetch_related("formulas")
    return [
        {
            "code": i.code,
            "name": i.name,
            "unit": i.unit,
            "group": i.group,
            "source": i.source,
            "value_type": i.value_type,
            "decimals": i.decimals,
            "description": i.description,
            "formulas": [
                {
                    "version": f.version,
                    "valid_from": f.valid_from.isoformat(),
                    "numerator": f.numerator,
                    "denominator": f.denominator,
                    "scale": f.scale,
                    "missing": f.missing,
                    "note": f.note,
                }
                for f in i.formulas.all()
            ],
        }
        for i in rows
    ]


@router.get("values", summary="Giá trị mọi chỉ tiêu (tử số, mẫu số, giá trị) cho toàn tỉnh hoặc một cơ quan")
def values(request, query: Query[PeriodQuery]):
    _officer(request)
    period, computation, scope = _computation(query)
    table = scope.values(computation)
    return {
        "period": _period_dict(period),
        "agency": query.agency or None,
        "agency_name": scope.name,
        **scope.as_dict(),
        "indicators": [table[i.code].as_dict() for i in computation.applicable(scope.unit_id)],
    }


@router.get("index766", summary="Bộ chỉ số 766: điểm từng chỉ số thành phần và số liệu")
def index766(request, query: Query[PeriodQuery]):
    _officer(request)
    period, computation, scope = _computation(query, codes=assessments.index766_codes())
    if scope.with_subordinates:  # the province, or an agency with its subordinates
        result = assessments.index766(computation, scope.unit_id)
    else:
        result = assessments.score_index766(assessments.rule_groups(), scope.values(computation), scope.name)
    return {**assessments.index766_dict(result, period), **scope.as_dict()}


@router.get("egov-completion", summary="Mức độ hoàn thiện chính quyền điện tử theo cơ quan")
def egov_completion(request, period: str = Query(..., max_length=40)):
    _officer(request)
    period = parse_period(period)
    result = assessments.egov_completion(selectors.compute(period))
    return {
        "period": _period_dict(period),
        # the month whose assessment stands for the period (assessments.assessed_period)
        "assessed_period": _period_dict(result.period) if result.period else None,
        "rate": result.rate.as_dict(),
        "levels": [
            {
                "label": level.label,
                "complete": level.complete,
                "assessed": len(level.agencies),
                "rate": level.rate.as_dict(),
            }
            for level in result.levels
        ],
        "agencies": [
            {
                "code": a.unit.code,
                "name": a.unit.name,
                "complete": a.complete,
                "criteria": [
                    {
                        "code": r.criterion.code,
                        "name": r.criterion.name,
                        "meets": r.meets,
                        "gap": r.gap,
                        "value": r.value.as_dict() if r.value else None,
                        # the criterion's computed_indicator (the platform's own count) rather than the reported one
                        "computed": r.computed,
                    }
                    for r in a.results
                ],
            }
            for a in result.agencies
        ],
    }


@router.get("targets", summary="Kết quả thực hiện chỉ tiêu kế hoạch năm (đạt / vượt / chưa đạt)")
def targets(request, year: int = Query(..., ge=EARLIEST_DATE.year, le=LATEST_DATE.year)):
    _officer(request)
    computation = selectors.compute(parse_period(str(year)))
    return [
        {
            "indicator": r.target.indicator.code,
            "name": r.target.indicator.name,
            "plan": r.plan_display,
            "achieved": r.achieved.as_dict() if r.achieved else None,
            "status": r.status,
            "source": r.target.source,
        }
        for r in assessments.target_results(computation, year)
    ]
